#!/usr/bin/env python3
"""Typed `lab.ip(...)` on the kernel, the learners' path, against a shell script.

1. Build 100 pods by typing, one ``lab.ip("...")`` per command, the same 7 ``ip``
   commands per pod that ``bench_kernel_vs_shell.py``'s shell script runs
   (namespace, veth with its peer in the pod, host end on ``br0`` and up, address,
   ``eth0`` and ``lo`` up, default route).  Every command is a step with its
   before/after snapshots, as in a notebook.  Baseline: the same commands as one
   ``sh`` script, in the same run.  Ratio = shell time / typed time (goal: >= 3).
2. One typed change in a lab of 10, 100 and 1,000 pods (built with the batch path, then
   left until a snapshot finds nothing changed):
   the median time of ``lab.ip("-n podK addr add ... dev eth0")`` (a pod's change)
   and of ``lab.ip("link set vethK down")``/``up`` (a change on the node, whose
   veth peer is in a pod).  Goal: the 1,000-pod figure within 2 times the 10-pod one.

Runs inside a throw-away ``unshare --net --mount`` sandbox with a private tmpfs on
/run, like ``bench_kernel_vs_shell.py``; the runs are interleaved.  Needs root.

    sudo .venv/bin/python benchmarks/bench_typed_kernel.py [--pods 100] [--runs 3]
        [--sizes 10,100,1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_kernel_vs_shell import pod_ops, run_shell, shell_script  # noqa: E402

GOAL_RATIO, GOAL_GROWTH = 3.0, 2.0


def typed_lines(n: int) -> list[str]:
    """The build script's commands without ``ip `` (what a learner types into lab.ip)."""
    build, _teardown = shell_script(n)
    return [line[3:] for line in build.splitlines() if line.startswith("ip ")]


def run_typed(n: int) -> float:
    import simlab

    lab = simlab.Lab(backend="kernel")
    lines = typed_lines(n)
    t0 = time.perf_counter()
    for line in lines:
        lab.ip(line)
    took = time.perf_counter() - t0
    assert len(lab.timeline) == len(lines)
    last = lab.timeline[-1].after.netns[f"pod{n - 1}"]
    assert any(r.dst == "default" for r in last.routes)
    lab.close()
    return took


def one_change(n: int, repeat: int) -> tuple[float, float]:
    """Median ms of a typed change in a pod, and on the node, in a lab of ``n`` pods."""
    import simlab

    lab = simlab.Lab(backend="kernel")
    lab.raw_backend.precheck = False
    lab.raw_backend.apply_all(pod_ops(n))
    # New namespaces keep changing for a while (IPv6 addresses, bridge learning):
    # measure in a lab at rest, as a learner's is between two commands.
    last, deadline = lab.snapshot(), time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = lab.snapshot()
        if now is last:
            break
        last = now
    k = n // 2
    pod, node = [], []
    for j in range(repeat):
        t0 = time.perf_counter()
        lab.ip(f"-n pod{k} addr add 10.99.{j}.1/24 dev eth0")
        pod.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        lab.ip(f"link set veth{k} {'down' if j % 2 == 0 else 'up'}")
        node.append(time.perf_counter() - t0)
    lab.close()
    return statistics.median(pod) * 1000, statistics.median(node) * 1000


def inside(args) -> int:
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True, env=ENV)
    os.makedirs("/run/netns", exist_ok=True)
    run_typed(3)  # warm up imports and caches
    typed, shell = [], []
    for _ in range(args.runs):
        time.sleep(args.pause)
        shell.append(run_shell(args.pods)[0])
        time.sleep(args.pause)
        typed.append(run_typed(args.pods))
    ratio = statistics.median(s / t for s, t in zip(shell, typed, strict=True))
    n_cmds = len(typed_lines(args.pods))
    print(f"typed lab.ip on the kernel, {args.pods} pods ({n_cmds} commands), "
          f"{args.runs} runs (median)")
    print(f"  shell/typed ratio: {ratio:.2f}  (shell {statistics.median(shell):.2f} s, typed "
          f"{statistics.median(typed):.2f} s; per command: shell "
          f"{statistics.median(shell) / n_cmds * 1000:.2f} ms, typed "
          f"{statistics.median(typed) / n_cmds * 1000:.2f} ms)   [goal: >= {GOAL_RATIO:.0f}]")
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = {}
    for size in sizes:
        time.sleep(args.pause)
        rows[size] = one_change(size, args.repeat)
        print(f"  one typed change, {size} pods: in a pod {rows[size][0]:.2f} ms, "
              f"on the node {rows[size][1]:.2f} ms", flush=True)
    lo, hi = rows[sizes[0]], rows[sizes[-1]]
    growth = hi[0] / lo[0]
    print(f"  growth {sizes[0]} -> {sizes[-1]} pods: in a pod {growth:.2f}x, on the node "
          f"{hi[1] / lo[1]:.2f}x   [goal: in a pod <= {GOAL_GROWTH:.0f}x]")
    ok = {"ratio": ratio >= GOAL_RATIO, "growth": growth <= GOAL_GROWTH}
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in ok.items()))
    return 0 if all(ok.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between builds")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    if args.inside:
        return inside(args)
    cmd = ["unshare", "--net", "--mount", "--propagation", "private", sys.executable, __file__,
           "--inside", "--pods", str(args.pods), "--runs", str(args.runs), "--sizes", args.sizes,
           "--repeat", str(args.repeat), "--pause", str(args.pause)]
    return subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(REPO)}).returncode


if __name__ == "__main__":
    sys.exit(main())
