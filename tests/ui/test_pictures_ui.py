"""The browser picture (issue 12) on the real page: label sizes, stepping while the kernel is
busy, a ping that plays, steps recorded later, and the HTML export offline.

Screenshots go to test-artifacts/screenshots/pictures_*.png.  Run with `make test-ui`.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from labdriver import ARTIFACTS, MIN_LABEL_PX, PICTURE, error_outputs, open_notebook, screenshot
from nbformat.v4 import new_code_cell, new_notebook

pytestmark = pytest.mark.ui

SETUP = """\
import simlab
from simlab import scenarios
lab = scenarios.run("veth-basics")
lab.ping("red", "10.0.0.2")
s = simlab.widgets.Stepper(lab)
s"""
PRESENTER = """\
old = simlab.widgets.presenter(True)
big = simlab.widgets.Stepper(lab)
simlab.widgets.presenter(old)
big"""


#: Pairs of picture labels (lines of different <text> elements, in the drawing's visible
#: area) that overlap on screen, as
#: "text a / text b".  A line's box holds the font's ascent and descent (about 1.35 em for a
#: 1.15 em line pitch), so boxes of lines stacked one pitch apart share ~15 % of their
#: height; more than 30 % is glyphs on glyphs.
OVERLAPS = """(root) => {
    const lines = [];
    for (const t of (root || document).querySelectorAll('svg.simlab-svg .labels text')) {
        if (getComputedStyle(t).display === 'none' || t.getClientRects().length === 0) continue;
        const view = t.closest('svg').getBoundingClientRect();  // what the viewer can see
        for (const s of t.querySelectorAll('tspan')) {
            if (!s.textContent.trim()) continue;
            const r = s.getBoundingClientRect();
            if (r.bottom <= view.top || r.top >= view.bottom || r.right <= view.left
                || r.left >= view.right) continue;
            lines.push({t, text: s.textContent, l: r.left, r: r.right, top: r.top,
                        bottom: r.bottom});
        }
    }
    const out = [];
    for (let i = 0; i < lines.length; i++) for (let j = i + 1; j < lines.length; j++) {
        const a = lines[i], b = lines[j];
        if (a.t === b.t) continue;
        const w = Math.min(a.r, b.r) - Math.max(a.l, b.l);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 0.3 * Math.min(a.bottom - a.top, b.bottom - b.top))
            out.push(a.text + ' / ' + b.text);
    }
    return out;
}"""

#: Where the packet mark and the lit ring are on screen once the mark has stopped moving.
MARK_AND_RING = """async (root) => {
    const mark = root.querySelector('[data-simlab="packet"]');
    await Promise.all(mark.getAnimations().map((a) => a.finished));
    const m = mark.getBoundingClientRect();
    const r = root.querySelector('.marks .lit-item .ring').getBoundingClientRect();
    return {mark: [m.left + m.width / 2, m.bottom], ring: [r.left + r.width / 2, r.top]};
}"""


def _flag_on_ring(pic) -> None:
    got = pic.evaluate(MARK_AND_RING)
    (mx, my), (rx, ry) = got["mark"], got["ring"]
    # the flag stands just above the lit ring: the same x, its foot near the ring's top
    assert abs(mx - rx) < 20 and -25 < ry - my < 25, got


def _notebook(name: str, *cells: str):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path = ARTIFACTS / "ui" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _step(page, i: int = 0) -> int:
    return int(page.locator(PICTURE).nth(i).get_attribute("data-step"))


def _kernel_run(page, code: str) -> None:
    page.evaluate("""(code) => { window.__simlabExec = window.jupyterapp.shell.currentWidget
        .sessionContext.session.kernel.requestExecute({code}).done; }""", code)


@pytest.fixture(scope="module")
def page(lab, browser):
    path = _notebook("pictures.ipynb", SETUP, PRESENTER)
    with open_notebook(path, server=lab, browser=browser,
                       viewport={"width": 1280, "height": 800}) as page:
        page.locator(PICTURE).nth(1).wait_for(state="visible")
        assert error_outputs(page) == []
        yield page


def test_labels_are_readable_at_1280x800(page):
    pics = page.locator(PICTURE)
    sizes = []
    for i, name in enumerate(("default", "presenter")):
        pic = pics.nth(i)
        pic.locator('[data-simlab="last"]').click()  # the step with the most labels
        pic.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(200)
        sizes.append(page.evaluate(MIN_LABEL_PX, pic.element_handle()))
        screenshot(page, f"pictures_{name}_1280x800")
    small, big = sizes
    assert small is not None and small >= 12, small
    assert big is not None and big >= 20, big


def test_next_works_while_the_kernel_sleeps(page):
    pic = page.locator(PICTURE).first
    pic.scroll_into_view_if_needed()
    if _step(page) != 0:
        pic.locator('[data-simlab="first"]').click()
    assert _step(page) == 0
    _kernel_run(page, "import time; time.sleep(60)")
    page.wait_for_timeout(500)  # the request is with the kernel, which now sleeps
    t0 = time.monotonic()
    pic.locator('[data-simlab="next"]').click()
    page.wait_for_function(f"() => document.querySelector('{PICTURE}').dataset.step === '1'",
                           polling=10, timeout=2000)
    pic.locator('[data-simlab="next"]').click()
    page.wait_for_function(f"() => document.querySelector('{PICTURE}').dataset.step === '2'",
                           polling=10, timeout=2000)
    took = time.monotonic() - t0
    # the kernel's status flickers with the widget's comm messages; the sleep's reply does not
    done = page.evaluate("""() => Promise.race([window.__simlabExec.then(r => r.content),
        new Promise(r => setTimeout(() => r(null), 50))])""")
    assert done is None, f"the sleep already ended: the test proves nothing ({done})"
    assert took < 2.0
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session"
                  ".kernel.interrupt()")  # stop the sleep: it has proved its point
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext"
                           ".session.kernel.status === 'idle'", timeout=30_000)
    # the shown step reached Python once the kernel was free
    _kernel_run(page, "assert s.index == 2, s.index")
    page.wait_for_function("() => window.__simlabExec !== undefined")
    reply = page.evaluate("async () => (await window.__simlabExec).content")
    assert reply["status"] == "ok", reply


def test_a_ping_plays(page):
    pic = page.locator(PICTURE).first
    pic.locator('[data-simlab="last"]').click()
    mark = pic.locator('[data-simlab="packet"]')
    mark.wait_for(state="attached")
    first = mark.get_attribute("transform")
    assert mark.get_attribute("data-hop") == "0"
    pic.locator('[data-simlab="play-packet"]').click()
    # hop 1 is the packet arriving on the peer's end: another place on the picture
    page.wait_for_function("""(el) => el.dataset.hop >= 1""", arg=mark.element_handle(),
                           timeout=10_000)
    second = mark.get_attribute("transform")
    assert second != first, (first, second)
    _flag_on_ring(pic)
    pic.locator('[data-simlab="play-packet"]').click()  # pause
    hop = int(mark.get_attribute("data-hop"))
    pic.locator('[data-simlab="hop-back"]').click()
    assert int(mark.get_attribute("data-hop")) == hop - 1
    now = pic.locator('[data-simlab="events"] li.now')
    assert now.count() == 1  # the event list follows the packet
    pic.scroll_into_view_if_needed()
    _flag_on_ring(pic)  # the screenshot shows the mark where it stops, not mid-way
    assert pic.evaluate(OVERLAPS) == []
    screenshot(page, "pictures_ping_1280x800")


def test_steps_recorded_later_reach_the_open_picture(page):
    pic = page.locator(PICTURE).first
    before = int(pic.locator(".simlab-slider").get_attribute("max"))
    _kernel_run(page, 'lab.ip("netns add late")')
    page.wait_for_function(
        f"""() => +document.querySelector('{PICTURE} .simlab-slider').max === {before + 1}""",
        timeout=20_000)
    pic.locator('[data-simlab="last"]').click()
    assert _step(page) == before + 1
    assert "late" in pic.locator(".simlab-step-title").inner_text()


def test_html_export_steps_offline(browser, tmp_path):
    from simlab import export_html, scenarios

    lab = scenarios.run("veth-basics")
    lab.ping("red", "10.0.0.2")
    path = export_html(lab.timeline, tmp_path / "veth.html")
    lab.close()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        asked = []
        context.route("**/*", lambda route: (asked.append(route.request.url),
                                             route.abort() if not route.request.url.startswith(
                                                 "file:") else route.continue_()))
        context.set_offline(True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        pic = page.locator(PICTURE)
        pic.wait_for(state="visible")
        assert pic.get_attribute("data-step") == "0"
        pic.locator('[data-simlab="next"]').click()
        assert pic.get_attribute("data-step") == "1"
        pic.locator('[data-simlab="last"]').click()
        mark = pic.locator('[data-simlab="packet"]')
        a = mark.get_attribute("transform")
        # the packets: out of red's veth1, into blue's veth2, then the reply back
        pic.locator('[data-simlab="hop-next"]').click()
        assert mark.get_attribute("data-hop") == "1" and mark.get_attribute("transform") != a
        _flag_on_ring(pic)
        assert page.evaluate(MIN_LABEL_PX) >= 12
        assert page.evaluate(OVERLAPS) == []
        screenshot(page, "pictures_html_export_1280x720")
        assert errors == [] and [u for u in asked if not u.startswith("file:")] == []
    finally:
        context.close()


def test_a_page_opened_at_a_later_step_draws_that_step(browser, tmp_path):
    """A page may open at any step (the deck opens at its last): it shows what stepping
    there from step 0 shows, not step 0's items."""
    from simlab import scenarios
    from simlab.views.page import page as html_page
    from simlab.views.scene import scene

    lab = scenarios.run("veth-basics")
    sc = scene(lab.timeline)
    lab.close()
    last = len(sc["steps"]) - 1
    drawn = "() => [...document.querySelectorAll('[data-simlab=picture] [data-id]')]" \
            ".map(e => e.dataset.id + ':' + e.textContent).sort()"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        seen = []
        for start in (0, last):
            path = tmp_path / f"at{start}.html"
            path.write_text(html_page(sc, step=start))
            page = context.new_page()
            page.goto(path.as_uri())
            pic = page.locator(PICTURE)
            pic.wait_for(state="visible")
            if start == 0:
                pic.locator('[data-simlab="last"]').click()
            assert pic.get_attribute("data-step") == str(last)
            seen.append(page.evaluate(drawn))
        assert seen[0] and seen[0] == seen[1]
    finally:
        context.close()


def test_fifty_pods_fold_expand_and_inspect(browser, tmp_path):
    """At 50 pods alike pods fold into a group that expands on click; a click on a
    namespace shows its show texts; every label on screen stays >= 12 px."""
    from simlab import export_html
    from simlab.views._samples import bridge_pods

    path = export_html(bridge_pods(50), tmp_path / "pods.html")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        pic = page.locator(PICTURE)
        pic.wait_for(state="visible")
        pic.locator('[data-simlab="last"]').click()
        group = pic.locator('[data-simlab="group"]')
        assert group.count() == 1 and "more pods like this" in group.text_content()
        folded = pic.locator(".boxes .ns.collapsed").count()
        assert folded >= 40
        assert page.evaluate(MIN_LABEL_PX) >= 12
        screenshot(page, "pictures_50_pods_folded_1280x800")
        pic.locator('[data-simlab="fit"]').click()
        group.dispatch_event("click")
        assert pic.locator(".boxes .ns.collapsed").count() == 0
        assert page.evaluate(MIN_LABEL_PX) >= 12  # zoomed out: labels without room hide
        screenshot(page, "pictures_50_pods_expanded_1280x800")
        box = pic.locator('.boxes .ns[data-ns="pod-7"]')
        box.dispatch_event("click")
        assert pic.locator('[data-simlab="ns"]').input_value() == "pod-7"
        assert "$ ip -n pod-7 a" in pic.locator('[data-simlab="inspect"]').inner_text()
    finally:
        context.close()
