"""Click -> painted frame of the browser picture in Chromium, at 5, 50 and 200 pods, and the
time to open a stepper on a 200-pod timeline (issue 12).

What is measured, per size (a node with N pods on a bridge, 3 steps per pod):

- *open*: Python, ``Stepper(lab)``: the timeline's frames, the layout and the scene
  (what the kernel does before the widget shows); then, in Chromium, the page
  (``views/page.py``, the same scene.js the widget runs) from navigation start to the
  picture drawn.
- *click*: a real mouse click (Playwright) on Next or Back over the last steps, every
  pod present.  ``work`` is the click handler plus the style and layout it forces, timed
  in the page; ``to paint`` is the Event Timing API's duration of the click (input to the
  next frame painted; Chromium reports only durations >= 16 ms, shorter ones count as 16).
- *baseline*, same run: the kernel-side redraw the stepper did before (one reused
  matplotlib figure, Agg draw, PNG encode: ``Stepper.figure_png``), at the same sizes;
  a click also paid the kernel round trip on top of it.

Goals: click p90 <= 20 ms at 200 pods; open <= 1 s at 200 pods.  Exits 1 when a goal is
missed.  Needs /usr/bin/chromium and playwright (the ``ui`` extra).

    .venv/bin/python benchmarks/bench_click.py [--sizes 5,50,200] [--clicks 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_CLICK_P90_MS = 20.0
GOAL_OPEN_S = 1.0
CHROMIUM = "/usr/bin/chromium"

_HOOK = """() => {
  window.__work = [];
  window.__paint = [];
  const pic = window.simlab;
  const show = pic.show.bind(pic);
  pic.show = (i) => {
    const t0 = performance.now();
    show(i);
    pic.root.getBoundingClientRect(); document.body.offsetHeight;  // style + layout now
    window.__work.push(performance.now() - t0);
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === 'click') window.__paint.push(e.duration);
  }).observe({type: 'event', durationThreshold: 16, buffered: true});
}"""


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def measure(pods: int, clicks: int, browser) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    from simlab.views._samples import bridge_pods
    from simlab.views.page import page
    from simlab.widgets import Stepper

    lab = bridge_pods(pods, steps_per_pod=3)
    t0 = time.perf_counter()
    s = Stepper(lab, live=False)
    open_py = time.perf_counter() - t0
    n = len(s.frames)
    html = page(s.scene, step=n - clicks // 2 - 2)
    path = Path(tempfile.mkdtemp()) / f"pods{pods}.html"
    path.write_text(html, encoding="utf-8")

    # baseline: the kernel-side draw a click used to cost (cache off: every click draws)
    s.cache_enabled = False
    base = []
    for i in range(n - 8, n):
        a = time.perf_counter()
        s.figure_png(i)
        base.append((time.perf_counter() - a) * 1000)

    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.goto(path.as_uri())
    pg.wait_for_selector('[data-simlab="picture"] svg .item')
    open_page = pg.evaluate("() => performance.now()") / 1000
    pg.evaluate(_HOOK)
    nxt = pg.locator('[data-simlab="next"]').bounding_box()
    back = pg.locator('[data-simlab="back"]').bounding_box()
    for k in range(clicks):
        box = nxt if (k // 4) % 2 == 0 else back  # 4 forward, 4 back, ...
        pg.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pg.wait_for_timeout(60)
    pg.wait_for_timeout(300)
    work = pg.evaluate("() => window.__work")
    slow = pg.evaluate("() => window.__paint")
    ctx.close()
    paint = slow + [16.0] * (len(work) - len(slow))  # < 16 ms: not reported by Chromium
    s.close()
    return {"pods": pods, "steps": n, "open_py_s": open_py, "open_page_s": open_page,
            "scene_kb": len(json.dumps(s.scene)) / 1024, "clicks": len(work),
            "work_med": statistics.median(work), "work_p90": pct(work, 0.9),
            "paint_med": statistics.median(paint), "paint_p90": pct(paint, 0.9),
            "over16": len(slow), "base_med": statistics.median(base)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,50,200")
    ap.add_argument("--clicks", type=int, default=40)
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"not run: {CHROMIUM} is missing (Debian: apt-get install chromium)")
        return 0
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking"])
        try:
            rows = [measure(int(n), args.clicks, browser) for n in args.sizes.split(",")]
        finally:
            browser.close()
    print(f"Chromium, 1280x800, {args.clicks} clicks (Next/Back) per size; ms unless marked")
    print(f"{'pods':>5} {'steps':>6} {'open py s':>10} {'page s':>7} {'scene KiB':>10} "
          f"{'work med':>9} {'work p90':>9} {'paint med':>10} {'paint p90':>10} "
          f"{'>16ms':>6} {'baseline':>9} {'ratio':>6}")
    ok = True
    for r in rows:
        ratio = r["base_med"] / max(r["paint_med"], 1e-9)
        print(f"{r['pods']:>5} {r['steps']:>6} {r['open_py_s']:>10.2f} {r['open_page_s']:>7.2f} "
              f"{r['scene_kb']:>10.0f} {r['work_med']:>9.1f} {r['work_p90']:>9.1f} "
              f"{r['paint_med']:>10.1f} {r['paint_p90']:>10.1f} {r['over16']:>6} "
              f"{r['base_med']:>9.1f} {ratio:>5.1f}x")
    big = next((r for r in rows if r["pods"] == 200), None)
    if big is not None:
        c_ok = big["paint_p90"] <= GOAL_CLICK_P90_MS
        o_ok = big["open_py_s"] + big["open_page_s"] <= GOAL_OPEN_S
        print(f"200 pods: click p90 {big['paint_p90']:.1f} ms (goal <= {GOAL_CLICK_P90_MS:.0f}): "
              f"{'OK' if c_ok else 'TOO SLOW'}; open {big['open_py_s'] + big['open_page_s']:.2f} s "
              f"(goal <= {GOAL_OPEN_S:.0f}): {'OK' if o_ok else 'TOO SLOW'}")
        ok = c_ok and o_ok
    print("baseline: the kernel's matplotlib redraw per click before issue 12 (round trip not "
          "included); ratio = baseline / paint median")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
