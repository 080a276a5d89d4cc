#!/usr/bin/env python3
"""The kernel backend against the same `ip` commands as a shell script: 100 pods on a bridge.

Each pod is what a CNI bridge plugin makes: a namespace, a veth whose peer is
created inside it as ``eth0``, the host end on the bridge and up, an address
on ``eth0``, ``eth0`` and ``lo`` up, a default route.  Both sides build the
same node, in the same run, inside a throw-away ``unshare --net --mount``
sandbox with a private tmpfs on /run (so nothing reaches this machine, and
both pay the same file system costs).

Build: the kernel backend's ``apply_all`` of the pod operations (model
precheck off: the script validates nothing either; the ratio with it on is
printed too) vs one ``sh`` script of 7 `ip` commands per pod.  Tear-down:
``close()`` (every namespace, node included) vs ``ip netns del`` per pod and
``ip link del br0``; both return before the kernel frees the namespaces.
Prints the median over ``--runs`` runs and the ratios, e.g.::

    kernel/shell build ratio: 3.4  (shell 1.446 s, kernel 0.413 s; ...)

(a ratio is shell time / kernel time: higher is faster for the kernel).
Exits 1 when the target (build >= 3x, tear-down >= 1x) is missed.  On a busy
machine the numbers move; the runs are interleaved so both sides see the same.
Needs root.  Usage::

    sudo .venv/bin/python benchmarks/bench_kernel_vs_shell.py [--pods 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}


def pod_ops(n: int):
    from simlab.model import ops as o

    ops = [o.LinkAdd("br0", "bridge"), o.AddrAdd("br0", "10.244.0.1/16"), o.LinkSet("br0", up=True)]
    for i in range(n):
        pod = f"pod{i}"
        ops += [
            o.NetnsAdd(pod),
            o.LinkAdd(f"veth{i}", "veth", peer="eth0", peer_netns=pod),
            o.LinkSet(f"veth{i}", master="br0", up=True),
            o.AddrAdd("eth0", f"10.244.{(i + 2) // 256}.{(i + 2) % 256}/16", netns=pod),
            o.LinkSet("eth0", netns=pod, up=True),
            o.LinkSet("lo", netns=pod, up=True),
            o.RouteAdd("default", netns=pod, via="10.244.0.1"),
        ]
    return ops


def shell_script(n: int) -> tuple[str, str]:
    build = [
        "set -e",
        "ip link add br0 type bridge",
        "ip addr add 10.244.0.1/16 dev br0",
        "ip link set br0 up",
    ]
    for i in range(n):
        pod = f"pod{i}"
        build += [
            f"ip netns add {pod}",
            f"ip link add veth{i} type veth peer name eth0 netns {pod}",
            f"ip link set veth{i} master br0 up",
            f"ip -n {pod} addr add 10.244.{(i + 2) // 256}.{(i + 2) % 256}/16 dev eth0",
            f"ip -n {pod} link set eth0 up",
            f"ip -n {pod} link set lo up",
            f"ip -n {pod} route add default via 10.244.0.1",
        ]
    teardown = ["set -e"] + [f"ip netns del pod{i}" for i in range(n)] + ["ip link del br0"]
    return "\n".join(build) + "\n", "\n".join(teardown) + "\n"


def run_kernel(n: int, precheck: bool = False) -> tuple[float, float]:
    from simlab.kernel import KernelBackend

    backend = KernelBackend(precheck=precheck)
    ops = pod_ops(n)
    t0 = time.perf_counter()
    backend.apply_all(ops)
    build = time.perf_counter() - t0
    # Check the result is what the script makes: n pods, each with eth0 up and a route.
    state = backend.snapshot()
    assert len(state.netns) == n + 1, len(state.netns)
    last = state.netns[f"pod{n - 1}"]
    assert last.link("eth0").up and any(r.dst == "default" for r in last.routes)
    t0 = time.perf_counter()
    backend.close()
    teardown = time.perf_counter() - t0
    return build, teardown


def run_shell(n: int) -> tuple[float, float]:
    build, teardown = shell_script(n)
    with tempfile.TemporaryDirectory() as tmp:
        b, t = Path(tmp, "build.sh"), Path(tmp, "teardown.sh")
        b.write_text(build)
        t.write_text(teardown)
        t0 = time.perf_counter()
        subprocess.run(["sh", str(b)], check=True, env=ENV)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run(["sh", str(t)], check=True, env=ENV)
        teardown_s = time.perf_counter() - t0
    return build_s, teardown_s


def inside(args) -> int:
    # Private /run/netns and /run/simlab for this sandbox only.
    # A private tmpfs on /run: the sandbox's /run/netns and /run/simlab are its own
    # (directories on the machine's /run could be removed under it by another lab).
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True, env=ENV)
    os.makedirs("/run/netns", exist_ok=True)
    sys.path.insert(0, str(REPO))
    rows = {"kernel": [], "shell": [], "precheck": []}
    run_kernel(5)  # warm up imports and caches
    for _ in range(args.runs):
        # Namespaces are freed asynchronously (cleanup_net), which slows the next
        # creations down: let the kernel catch up before each measured build.
        time.sleep(args.pause)
        rows["shell"].append(run_shell(args.pods))
        time.sleep(args.pause)
        rows["kernel"].append(run_kernel(args.pods))
        time.sleep(args.pause)
        rows["precheck"].append(run_kernel(args.pods, precheck=True))
    med = {
        k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
        for k, v in rows.items()
    }
    ratios_b = [s[0] / k[0] for s, k in zip(rows["shell"], rows["kernel"], strict=True)]
    ratios_t = [s[1] / k[1] for s, k in zip(rows["shell"], rows["kernel"], strict=True)]
    print(f"{args.pods} pods, {args.runs} runs (median)")
    print(
        f"kernel/shell build ratio: {statistics.median(ratios_b):.1f}  "
        f"(shell {med['shell'][0]:.3f} s, kernel {med['kernel'][0]:.3f} s; "
        f"per pod: shell {med['shell'][0] / args.pods * 1000:.1f} ms, "
        f"kernel {med['kernel'][0] / args.pods * 1000:.1f} ms)"
    )
    print(
        f"kernel/shell tear-down ratio: {statistics.median(ratios_t):.1f}  "
        f"(shell {med['shell'][1]:.3f} s, kernel {med['kernel'][1]:.3f} s)"
    )
    ratios_p = [s[0] / k[0] for s, k in zip(rows["shell"], rows["precheck"], strict=True)]
    print(
        f"kernel/shell build ratio with the model precheck (a Lab's default for a "
        f"multi-operation step): {statistics.median(ratios_p):.1f}  "
        f"(kernel {med['precheck'][0]:.3f} s)"
    )
    ok = statistics.median(ratios_b) >= 3.0 and statistics.median(ratios_t) >= 1.0
    print("target (build >= 3x, tear-down >= 1x):", "met" if ok else "NOT met")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pause", type=float, default=3.0, help="seconds between builds")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    if args.inside:
        return inside(args)
    cmd = [
        "unshare",
        "--net",
        "--mount",
        "--propagation",
        "private",
        sys.executable,
        __file__,
        "--inside",
        "--pods",
        str(args.pods),
        "--runs",
        str(args.runs),
        "--pause",
        str(args.pause),
    ]
    return subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(REPO)}).returncode


if __name__ == "__main__":
    sys.exit(main())
