"""The tutorial notebooks in a real browser: run every cell, click a stepper, see it change.

For 01 to 03: open the notebook in JupyterLab (Debian's chromium through labdriver.py), run
all cells, find the first stepper whose **next** button is enabled, click it, and check that
the step's title (``.simlab-step-title``) and its figure (``.simlab-figure``) changed.
Screenshots go to test-artifacts/screenshots/ (``nb01_before.png``, ``nb01_after.png``,
``nb01_page.png``, ...; ``nbja_01_*`` for the Japanese 01).

The notebooks run on the **model** backend here (``SIMLAB_BACKEND=model`` for this module's
own JupyterLab server), so the pictures are the same on every machine.
"""

from __future__ import annotations

import time

import pytest
from labdriver import MIN_LABEL_PX, PICTURE, error_outputs, lab_server, open_notebook, screenshot

pytestmark = pytest.mark.ui

NOTEBOOKS = ["00_start_here", "01_namespaces_and_veth", "02_docker_network_modes",
             "03_kubernetes_and_cni", "04_write_your_own_cni_plugin",
             "ja/01_namespaces_and_veth"]  # and one in Japanese: the stepper's words and figure


@pytest.fixture(scope="module")
def model_lab():
    """A JupyterLab server whose kernels use the model backend."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SIMLAB_BACKEND", "model")  # the server copies the environment when it starts
    server_cm = lab_server()
    try:
        server = server_cm.__enter__()
    finally:
        mp.undo()
    try:
        yield server
    finally:
        server_cm.__exit__(None, None, None)


_FIRST_ENABLED_NEXT = """() => {
    const pics = [...document.querySelectorAll('[data-simlab="picture"]')];
    return pics.findIndex(p => !p.querySelector('[data-simlab="next"]').disabled
                               && !p.classList.contains('compact'));
}"""

#: Viewports of the screenshots: a laptop in JupyterLab's default layout, a projector.
SIZES = [(1280, 800), (1920, 1080)]


def _shoot_pictures(page, short: str, limit: int = 8) -> int:
    """Screenshots of each picture of the notebook at every size in SIZES; returns how many."""
    pics = page.locator(PICTURE)
    n = min(pics.count(), limit)
    for w, h in SIZES:
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(300)  # the pictures follow their new width (ResizeObserver)
        for i in range(n):
            pics.nth(i).evaluate("el => el.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(100)
            screenshot(page, f"nb{short}_picture{i + 1}_{w}x{h}")
    page.set_viewport_size({"width": 1280, "height": 800})
    return n


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_stepper_in_the_browser(model_lab, browser, stem):
    timings = {}
    start = time.monotonic()
    with open_notebook(f"notebooks/{stem}.ipynb", server=model_lab, browser=browser,
                       timeout=240, viewport={"width": 1280, "height": 800}) as page:
        timings["open+run"] = time.monotonic() - start
        assert error_outputs(page) == []
        page.locator(PICTURE).first.wait_for(state="visible")
        index = page.evaluate(_FIRST_ENABLED_NEXT)
        assert index >= 0, f"{stem}: no stepper with an enabled next button"
        pic = page.locator(PICTURE).nth(index)
        pic.scroll_into_view_if_needed()
        title = pic.locator(".simlab-step-title")
        before_title, before_step = title.inner_text(), int(pic.get_attribute("data-step"))
        short = stem[:2] if "/" not in stem else "ja_" + stem[3:5]
        clicked = time.monotonic()
        pic.locator('[data-simlab="next"]').click()
        assert int(pic.get_attribute("data-step")) == before_step + 1
        timings["next"] = time.monotonic() - clicked
        assert title.inner_text() != before_title
        # every label of every picture of the notebook is readable at 1280x800
        smallest = page.evaluate(MIN_LABEL_PX)
        assert smallest is not None and smallest >= 12, f"{stem}: a label is {smallest:.1f} px"
        timings["pictures"] = _shoot_pictures(page, short)
        assert error_outputs(page) == []
    print(f"{stem}: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))


_RUN_ONE = "Control+Enter"  # run the focused cell, stay on the slide


def _show_cell(page, cell, width: int) -> bool:
    """Move the RISE slideshow (right arrow) until ``cell`` is on the current slide."""
    for _ in range(8):
        box = cell.bounding_box()
        if box and 0 <= box["x"] < width:
            return True
        page.keyboard.press("Escape")  # leave the editor, so the arrow moves the slides
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(700)
    return False


@pytest.mark.parametrize("stem", ["99_trainer_deck", "ja/99_trainer_deck"])
def test_trainer_deck_runs_live_in_rise(model_lab, browser, stem):
    """Every live slide of the trainer deck runs inside the RISE slideshow, without an error."""
    width = 1280
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{model_lab.url}rise/notebooks/{stem}.ipynb")
        cells = page.locator(".jp-CodeCell")
        cells.first.wait_for(state="visible")
        page.wait_for_function("() => document.querySelectorAll('.jp-CodeCell').length > 10")
        page.wait_for_timeout(3000)  # the kernel session connects after the slides render
        ran = 0
        for i in range(cells.count()):
            cell = cells.nth(i)
            if not _show_cell(page, cell, width):
                continue  # a skipped cell (the last one: lab.close()) is never shown
            cell.scroll_into_view_if_needed()
            cell.locator(".cm-content").click()
            page.keyboard.press(_RUN_ONE)
            prompt = cell.locator(".jp-InputPrompt").element_handle()
            page.wait_for_function("([el]) => /\\[\\d+\\]/.test(el.innerText)", arg=[prompt])
            bad = cell.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
            assert bad.count() == 0, f"{stem} cell {i}:\n" + "\n".join(bad.all_inner_texts())
            ran += 1
            if ran in (2, 8):
                screenshot(page, f"rise_{stem.replace('/', '_')}_{ran}")
        assert ran >= 15, f"only {ran} live cells ran in RISE"
    finally:
        context.close()
