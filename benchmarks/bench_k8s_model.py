"""`lab.k8s.run` on the model, the way a learner scripts a node: 100 and 1,000 pods.

Each pod is ``lab.k8s.run(f"pod{i}")``: the sandbox container, CNI ADD through
simlab-bridge and simlab-host-local in-process (configuration files, the IPAM
store on disk, Go's JSON), the app container, every change a step on the
timeline.  The node's pod CIDR is a /16 (``use_plugin(..., subnet=...)``), so
1,000 pods fit.

Printed (median of ``--runs`` runs, each in a fresh process so that one run's
memory does not weigh on the next):

- the time of 1,000 pods (goal: under 1 s) and of 100 pods;
- growth: time(1,000) / time(100) (goal: at most 12; 10 is linear);
- peak memory of the 1,000-pod lab and its timeline: the process's peak RSS
  minus the RSS after ``import simlab`` (goal: under 100 MB), and the timeline's
  step count.

CPU time is printed too: on a busy machine wall time moves, CPU time much less.

    .venv/bin/python benchmarks/bench_k8s_model.py [--runs 3] [--pods 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S, GOAL_GROWTH, GOAL_MB = 1.0, 12.0, 100.0


def one(pods: int) -> dict:
    """In this process: build ``pods`` pods; wall and CPU seconds, memory."""
    import resource
    import time

    sys.path.insert(0, str(REPO))
    import simlab

    base = _rss_mb()
    lab = simlab.Lab(backend="model")
    lab.k8s.use_plugin("simlab-bridge", subnet="10.244.0.0/16")
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(pods):
        lab.k8s.run(f"pod{i}")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    running = sum(p.status == "Running" for p in lab.k8s.pods)
    assert running == pods, f"{running} of {pods} pods running"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps = len(lab.timeline)
    lab.close()
    return {"wall": wall, "cpu": cpu, "peak_mb": peak - base, "rss_mb": peak, "steps": steps}


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _run(pods: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", str(pods)], capture_output=True,
                         text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    small, big = [], []
    for _ in range(args.runs):  # interleaved: both sizes see the same machine
        small.append(_run(args.pods // 10))
        big.append(_run(args.pods))
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    growth = statistics.median(b["wall"] / s["wall"] for s, b in zip(small, big, strict=True))
    growth_cpu = statistics.median(b["cpu"] / s["cpu"] for s, b in zip(small, big, strict=True))
    t_big, t_small = med(big, "wall"), med(small, "wall")
    print(f"k8s.run on the model, {args.runs} runs (median)")
    print(f"  {args.pods} pods: {t_big:.2f} s (CPU {med(big, 'cpu'):.2f} s), "
          f"{t_big / args.pods * 1000:.2f} ms per pod   [goal: under {GOAL_S:.0f} s]")
    print(f"  {args.pods // 10} pods: {t_small:.2f} s (CPU {med(small, 'cpu'):.2f} s)")
    print(f"  growth {args.pods // 10} -> {args.pods}: {growth:.1f}x wall, {growth_cpu:.1f}x CPU"
          f"   [goal: at most {GOAL_GROWTH:.0f}x]")
    print(f"  peak memory, {args.pods} pods and their timeline ({big[0]['steps']} steps): "
          f"{med(big, 'peak_mb'):.0f} MB over the imports (peak RSS {med(big, 'rss_mb'):.0f} MB)"
          f"   [goal: under {GOAL_MB:.0f} MB]")
    ok = {"time": t_big <= GOAL_S, "growth": growth <= GOAL_GROWTH,
          "memory": med(big, "peak_mb") <= GOAL_MB}
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in ok.items()))
    return 0 if all(ok.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
