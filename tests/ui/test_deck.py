"""The trainer deck in jupyterlab-rise at 1280x720, as a room sees it (issue 16).

One JupyterLab server with the presenter settings of ``make lab-present`` (kernels on the
model backend), Debian's chromium at 1280x720.  The deck is run slide by slide inside the
RISE slideshow (Ctrl+Enter in each code cell, like a trainer) and on every slide, after its
cells ran, the test measures:

- the smallest on-screen font of body text, code and output (CSS px times the slide's
  scale): at least 24 px; headings are bigger;
- that no slide's content leaves the viewport: the slide does not scroll, and no element
  of it ends right of or below the window;
- in every picture (an iframe of the self-contained page), the smallest label: at least
  20 px (labdriver.MIN_LABEL_PX in the frame's document);
- in a picture with a packet, the packet stays in view at every hop (Next hop, one by one).

Screenshots of every slide: test-artifacts/screenshots/deck_<lang>_<nn>.png.
It also checks, once, that an ipywidget (the anywidget stepper) does not render in RISE,
which is why the deck draws its pictures as pages.
"""

from __future__ import annotations

import json
import shutil

import pytest
from labdriver import MIN_LABEL_PX, REPO, LabServer, screenshot

pytestmark = pytest.mark.ui

W, H = 1280, 720
BODY_PX, LABEL_PX = 24, 20

#: On the current slide: the smallest font (times the slide's scale) of body and code text,
#: and what leaves the viewport.
MEASURE = """([W, H]) => {
    const slide = document.querySelector('.reveal .slides section.present');
    if (!slide) return null;
    const scaleOf = (e) => {
        const r = e.getBoundingClientRect();
        return e.offsetWidth ? r.width / e.offsetWidth : 1;
    };
    const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
        && !e.closest('.jp-Cell-inputCollapser, .jp-Cell-outputCollapser, [hidden]');
    const sel = '.jp-RenderedMarkdown p, .jp-RenderedMarkdown li, .jp-RenderedMarkdown td, '
        + '.jp-RenderedMarkdown th, .jp-RenderedMarkdown code, .jp-RenderedMarkdown pre, '
        + '.cm-line, .jp-OutputArea-output pre';
    let small = null, where = '';
    for (const e of slide.querySelectorAll(sel)) {
        if (!visible(e) || !e.textContent.trim()) continue;
        const px = parseFloat(getComputedStyle(e).fontSize) * scaleOf(e);
        if (small === null || px < small) { small = px; where = e.textContent.trim().slice(0, 40); }
    }
    const out = [];
    for (const e of slide.querySelectorAll('.jp-Cell, .jp-Cell *')) {
        if (!visible(e)) continue;
        const r = e.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        if (r.right > W + 1 || r.bottom > H + 1 || r.left < -1) {
            out.push(`${e.tagName}.${e.className}: ${Math.round(r.left)},${Math.round(r.top)}`
                     + `-${Math.round(r.right)},${Math.round(r.bottom)}`);
        }
    }
    for (const e of slide.querySelectorAll('pre, .cm-scroller')) {
        if (visible(e) && e.scrollWidth > e.clientWidth + 1) out.push(`${e.tagName} scrolls right`);
    }
    return {small, where, out: out.slice(0, 5), scrolls: slide.scrollHeight > slide.clientHeight + 1};
}"""


class PresenterLab(LabServer):
    """The test server, with the presenter settings `make lab-present` copies."""

    def environment(self) -> dict[str, str]:
        env = super().environment()
        shutil.copytree(REPO / "jupyter-settings" / "presenter", self.tmp / "settings",
                        dirs_exist_ok=True)
        env["SIMLAB_BACKEND"] = "model"
        return env


@pytest.fixture(scope="module")
def presenter_lab():
    server = PresenterLab(REPO)
    try:
        yield server.start()
    finally:
        server.stop()


def _open(browser, url):
    context = browser.new_context(viewport={"width": W, "height": H})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator(".reveal .slides section").first.wait_for(state="visible")
    page.wait_for_function("() => window.Reveal || document.querySelector('.reveal.ready') "
                           "|| document.querySelectorAll('.reveal .slides section').length > 5")
    page.wait_for_timeout(3000)  # the kernel session connects after the slides render
    return context, page


def _run_cells_on_slide(page) -> list[str]:
    """Run every code cell of the current slide (Ctrl+Enter); return their error outputs."""
    cells = page.locator(".reveal .slides section.present .jp-CodeCell:visible")
    errors = []
    for i in range(cells.count()):
        cell = cells.nth(i)
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        prompt = cell.locator(".jp-InputPrompt").element_handle()
        page.wait_for_function("([el]) => /\\[\\d+\\]/.test(el.textContent)", arg=[prompt],
                               timeout=120_000)
        errors += cell.locator('[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    page.keyboard.press("Escape")
    return errors


def _frames_on_slide(page):
    """The pictures (iframes) of the slide on screen, not those of other slides."""
    for frame in page.frames:
        if frame == page.main_frame:
            continue
        box = frame.frame_element().bounding_box()
        if box and 0 <= box["x"] < W and box["width"] > 0:
            yield frame


def _labels_in_frames(page) -> list[float]:
    sizes = []
    for frame in _frames_on_slide(page):
        frame.wait_for_selector('[data-simlab="picture"] svg text', state="attached", timeout=10_000)
        px = frame.evaluate(MIN_LABEL_PX, None)
        if px is not None:
            sizes.append(px)
    return sizes


#: In a picture's frame: is the packet's mark inside the drawing's visible area?
PACKET_IN_VIEW = """() => {
    const mark = document.querySelector('[data-simlab="packet"]');
    const svg = document.querySelector('svg.simlab-svg');
    if (!mark || !svg) return null;
    const m = mark.getBoundingClientRect(), v = svg.getBoundingClientRect();
    const x = (m.left + m.right) / 2, y = (m.top + m.bottom) / 2;
    const inside = x >= v.left && x <= v.right && y >= v.top && y <= v.bottom;
    return {hop: mark.dataset.hop, inside};
}"""


def _packet_out_of_view(page) -> list[str]:
    """Step a picture's packet hop by hop (Next hop): hops whose mark is outside the view."""
    out = []
    for frame in _frames_on_slide(page):
        if frame.locator('[data-simlab="packet"]').count() == 0:
            continue
        hops = frame.locator('[data-simlab="events"] li').count()
        for _ in range(hops):
            seen = frame.evaluate(PACKET_IN_VIEW)
            if seen and not seen["inside"]:
                out.append(f"hop {seen['hop']} is outside the picture's view")
            frame.locator('[data-simlab="hop-next"]').click()
            frame.wait_for_timeout(150)
        frame.locator('[data-simlab="hop-back"]').click()  # leave it as a trainer would
        # give the keyboard back to the slideshow: arrows in the frame do not change slides
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
    return out


@pytest.mark.parametrize("stem", ["99_trainer_deck", "ja/99_trainer_deck"])
def test_deck_is_readable_at_1280x720(presenter_lab, browser, stem):
    lang = "ja" if stem.startswith("ja/") else "en"
    context, page = _open(browser, f"{presenter_lab.url}rise/notebooks/{stem}.ipynb")
    problems, seen, pictures = [], 0, []
    try:
        for n in range(80):
            errors = _run_cells_on_slide(page)
            page.wait_for_timeout(600)
            m = page.evaluate(MEASURE, [W, H])
            assert m is not None, "no RISE slide on the page"
            seen += 1
            screenshot(page, f"deck_{lang}_{n:02d}")
            if errors:
                problems.append(f"slide {n}: error output {errors}")
            if m["small"] is not None and m["small"] < BODY_PX - 0.5:
                problems.append(f"slide {n}: text {m['small']:.1f} px ({m['where']!r})")
            if m["scrolls"] or m["out"]:
                problems.append(f"slide {n}: leaves the viewport {m['out']} scrolls={m['scrolls']}")
            labels = _labels_in_frames(page)
            pictures += labels
            problems += [f"slide {n}: a picture label is {px:.1f} px" for px in labels
                         if px < LABEL_PX - 0.5]
            packets = _packet_out_of_view(page)
            problems += [f"slide {n}: {p}" for p in packets]
            before = page.evaluate("() => document.querySelector('.reveal .slides "
                                   "section.present')?.innerText.slice(0, 200)")
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(700)
            after = page.evaluate("() => document.querySelector('.reveal .slides "
                                  "section.present')?.innerText.slice(0, 200)")
            if after == before:
                break
    finally:
        context.close()
    nb = json.loads((REPO / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    slides = sum(c["metadata"].get("slideshow", {}).get("slide_type") == "slide"
                 for c in nb["cells"])
    assert seen == slides, f"{seen} slides shown, the deck has {slides}"
    assert len(pictures) >= 4, f"pictures measured: {pictures}"
    assert not problems, "\n".join(problems)


WIDGET_NB = {
    "cells": [{"cell_type": "code", "id": "w-0", "metadata": {}, "execution_count": None,
               "outputs": [], "source": [
                   "import simlab, simlab.widgets\n",
                   "lab = simlab.Lab(backend='model'); lab.ip('netns add red')\n",
                   "simlab.widgets.Stepper(lab)"]}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}, "rise": {}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_the_widget_stepper_does_not_render_in_rise(presenter_lab, browser):
    """Why the deck shows pages: RISE (jupyterlab-contrib/rise #119) draws no ipywidget."""
    import json

    out = REPO / "test-artifacts" / "ui"
    out.mkdir(parents=True, exist_ok=True)
    (out / "rise_widget.ipynb").write_text(json.dumps(WIDGET_NB))
    context, page = _open(browser, f"{presenter_lab.url}rise/test-artifacts/ui/rise_widget.ipynb")
    try:
        _run_cells_on_slide(page)
        page.wait_for_timeout(3000)
        screenshot(page, "deck_widget_in_rise")
        drawn = page.locator('.reveal [data-simlab="picture"] svg').count()
    finally:
        context.close()
    assert drawn == 0, "the stepper renders in RISE now: the deck could use it"
