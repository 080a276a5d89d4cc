"""Opening a stepper: the Python side, from changes against whole graphs (issue 12).

A node with N pods on a bridge, 3 steps per pod (601 steps at 200 pods).  Per size:

- *new*: ``views.story.frames`` (each step's graphs from the namespaces it changed) and
  ``views.layout.compute_frames`` (the layout from the same changes); then the whole
  ``Stepper(lab)`` (frames, layout, scene, widget), which is what a notebook waits for.
- *baseline*, same run: every step's two graphs built whole (unchanged namespaces' nodes
  reused) and diffed whole (``views.story.whole_frames(memo=True)``, what ``frames`` did
  before) and the layout read from every graph (``views.layout.compute``).

Each figure is the median of ``--repeat`` runs, wall and CPU time.  Goals (CPU, which a
machine shared with other work does not inflate): at 200 pods the new way is at least 5x the
baseline, and the Stepper opens in <= 1 s of Python (the page adds its own draw:
``bench_click.py`` times both in Chromium).  Exits 1 when a goal is missed.

    .venv/bin/python benchmarks/bench_open.py [--sizes 5,50,200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_RATIO = 5.0
GOAL_OPEN_S = 1.0


def _median(fn, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` (CPU: the machine's other load aside)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def measure(pods: int, repeat: int) -> dict:
    from simlab.views._samples import bridge_pods
    from simlab.views.layout import compute, compute_frames
    from simlab.views.story import frames, whole_frames
    from simlab.widgets import Stepper

    lab = bridge_pods(pods, steps_per_pod=3)

    def new():
        compute_frames(frames(lab))

    def old():
        plain = whole_frames(lab, memo=True)
        compute([plain[0][0]] + [g_a for _b, g_a, _d in plain])

    def stepper():
        Stepper(lab, live=False).close()

    (n_wall, n_cpu), (o_wall, o_cpu), (s_wall, s_cpu) = (
        _median(new, repeat), _median(old, repeat), _median(stepper, repeat))
    return {"pods": pods, "steps": len(lab.timeline.steps), "new": n_wall, "new_cpu": n_cpu,
            "old": o_wall, "old_cpu": o_cpu, "open": s_wall, "open_cpu": s_cpu}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,50,200")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from simlab.views._samples import veth_pair
    from simlab.widgets import Stepper

    Stepper(veth_pair(), live=False).close()  # the widget libraries' import is not the stepper's
    measure(5, 1)  # and neither is networkx's
    rows = [measure(int(n), args.repeat) for n in args.sizes.split(",")]
    print(f"median of {args.repeat}; seconds, wall / CPU (CPU: this process only, so the "
          f"figures hold on a machine shared with other work)")
    print(f"{'pods':>5} {'steps':>6} {'frames+layout':>16} {'whole graphs':>16} {'ratio':>6} "
          f"{'Stepper open':>16}")
    for r in rows:
        print(f"{r['pods']:>5} {r['steps']:>6} {r['new']:>8.3f}/{r['new_cpu']:<7.3f} "
              f"{r['old']:>8.3f}/{r['old_cpu']:<7.3f} {r['old_cpu'] / r['new_cpu']:>5.1f}x "
              f"{r['open']:>8.3f}/{r['open_cpu']:<7.3f}")
    big = next((r for r in rows if r["pods"] == 200), None)
    if big is None:
        return 0
    ratio = big["old_cpu"] / big["new_cpu"]
    ok = ratio >= GOAL_RATIO and big["open_cpu"] <= GOAL_OPEN_S
    print(f"200 pods: {ratio:.1f}x the whole-graph way in CPU (goal >= {GOAL_RATIO:.0f}x), "
          f"Stepper open {big['open']:.2f} s wall, {big['open_cpu']:.2f} s CPU (goal <= "
          f"{GOAL_OPEN_S:.0f} s CPU): {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
