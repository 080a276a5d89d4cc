"""Redraw time of one step change in the Stepper, for a node with 5, 50 and 200 pods.

What is measured: ``stepper.figure_png(i)`` with the per-step PNG cache disabled, so
each change really draws (update the reused figure's artists, Agg draw, PNG encode):
the matplotlib picture the PNG/GIF/PDF exports make, which was also the stepper's
picture in the page until the browser drew it (issue 12; the click in the page is
measured by bench_click.py).  Two numbers per size:

- *first visit*: the step has never been drawn, so its new label outlines are built;
- *revisit*: going back and forth over steps already seen (label outlines cached,
  the figure still drawn and encoded from scratch).

The goal (issue "See it step by step"): median under 100 ms at 50 pods.  Wall time
depends on what else the machine runs, so the table also gives CPU time, and a baseline
measured in the same run: the usual pattern (a new figure, ``networkx.draw`` with a
text label per node, ``savefig(bbox_inches="tight")``) on the same 50-pod graphs.

    .venv/bin/python benchmarks/bench_redraw.py [--sizes 5,50,200] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_MS = 100.0


def measure(pods: int, repeat: int) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    from simlab.views._samples import bridge_pods
    from simlab.widgets import Stepper

    t0 = time.perf_counter()
    lab = bridge_pods(pods, steps_per_pod=3)
    t1 = time.perf_counter()
    s = Stepper(lab, ns="pod-1", cache=False, start=len(lab.timeline) - 1)
    t2 = time.perf_counter()
    n = len(s.frames)
    # the last `repeat` steps: every pod exists, each step changes one pod
    window = list(range(max(0, n - repeat - 1), n))
    first, again, cpu = [], [], []
    for i in window:  # first visits (in order, like pressing Next)
        a = time.perf_counter()
        s.figure_png(i)
        first.append(time.perf_counter() - a)
    for _ in range(2):
        for i in reversed(window):  # back and forth over the same steps
            a, c = time.perf_counter(), time.process_time()
            s.figure_png(i)
            again.append(time.perf_counter() - a)
            cpu.append(time.process_time() - c)
        window.reverse()
    return {
        "pods": pods,
        "steps": n,
        "build_lab_s": t1 - t0,
        "stepper_s": t2 - t1,
        "first_ms": statistics.median(first[1:]) * 1000,
        "again_ms": statistics.median(again) * 1000,
        "again_p90_ms": sorted(again)[int(len(again) * 0.9)] * 1000,
        "cpu_ms": statistics.median(cpu) * 1000,
        "png_kb": len(s.png) / 1024,
        "draws": s.render_count,
        "lod": s.layout.lod,
    }


def baseline(pods: int = 50, steps: int = 5) -> float:
    """Median ms of the usual pattern: new figure + networkx.draw with labels + tight PNG."""
    import io

    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from simlab.views import compute, frames
    from simlab.views._samples import bridge_pods

    fs = frames(bridge_pods(pods, steps_per_pod=3))
    lay = compute([fs[0].before] + [f.after for f in fs])
    times = []
    for f in fs[-steps:]:
        G = f.after
        a = time.perf_counter()
        fig = Figure(figsize=(9.5, 4.5))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        pos = lay.positions(G)
        H = G.subgraph(pos)
        labels = {n: d.get("ifname") or d.get("label") or n for n, d in H.nodes(data=True)}
        nx.draw_networkx(H, pos=pos, ax=ax, labels=labels, node_size=20, font_size=5)
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        times.append(time.perf_counter() - a)
    return statistics.median(times) * 1000


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,50,200")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-baseline", action="store_true", help="skip the naive-redraw baseline")
    args = ap.parse_args(argv)
    import matplotlib

    rows = [measure(int(n), args.repeat) for n in args.sizes.split(",")]
    base_ms = baseline() if not args.no_baseline else None
    print(f"matplotlib {matplotlib.__version__}, Agg, per-step PNG cache off; "
          f"median over {args.repeat} steps")
    print(f"{'pods':>5} {'steps':>6} {'lod':>8} {'setup s':>8} {'first ms':>9} {'revisit ms':>11} "
          f"{'p90 ms':>7} {'cpu ms':>7} {'PNG KiB':>8}")
    for r in rows:
        setup = r["build_lab_s"] + r["stepper_s"]
        print(f"{r['pods']:>5} {r['steps']:>6} {r['lod']:>8} {setup:>8.2f} {r['first_ms']:>9.1f} "
              f"{r['again_ms']:>11.1f} {r['again_p90_ms']:>7.1f} {r['cpu_ms']:>7.1f} "
              f"{r['png_kb']:>8.1f}")
    base = next((r for r in rows if r["pods"] == 50), None)
    if base is not None:
        worst = max(base["first_ms"], base["again_ms"])
        verdict = "OK" if worst < GOAL_MS else "TOO SLOW"
        print(f"50 pods: {worst:.1f} ms (goal < {GOAL_MS:.0f} ms): {verdict}")
        if base_ms is not None:
            print(f"baseline (new figure + networkx.draw + tight PNG), 50 pods: {base_ms:.1f} ms; "
                  f"ratio {base_ms / base['again_ms']:.1f}x")
        return 0 if worst < GOAL_MS else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
