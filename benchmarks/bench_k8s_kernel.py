#!/usr/bin/env python3
"""`lab.k8s.run` on the kernel, and one CNI ADD, against Debian's reference plugins.

1. ``lab.k8s.run`` of ``--pods`` pods with simlab's teaching plugins
   (``simlab-bridge`` + ``simlab-host-local``, executables started per call) and
   with Debian's ``bridge`` + ``host-local`` through the same runtime
   (``use_plugin("reference")``); the median time per pod of each, and their
   ratio.  Goal: at most 80 ms per pod with the teaching plugins at 100 pods.
2. One CNI ADD of the same configuration (bridge ``cni0``, isGateway, host-local)
   into a fresh namespace, by the teaching executable and by the reference one,
   alternately; and ``VERSION`` (start-up alone).  Goal: the teaching ADD within 2
   times the reference ADD.  DAD is off in those namespaces, as in a lab's.

Runs in a throw-away ``unshare --net --mount`` sandbox with a private tmpfs on /run.
Needs root and /usr/lib/cni (containernetworking-plugins).

    sudo .venv/bin/python benchmarks/bench_k8s_kernel.py [--pods 100] [--adds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}
REFERENCE = "/usr/lib/cni"
GOAL_POD_MS, GOAL_ADD = 80.0, 2.0


def pods(n: int, plugin: str) -> list[float]:
    """Seconds per ``lab.k8s.run`` of ``n`` pods with ``plugin``'s preset."""
    import simlab

    with simlab.Lab(backend="kernel") as lab:
        lab.k8s.use_plugin(plugin, subnet="10.244.0.0/16")
        lab.k8s.run("warm-up")
        took = []
        for i in range(n):
            t0 = time.perf_counter()
            lab.k8s.run(f"pod{i}")
            took.append(time.perf_counter() - t0)
        running = sum(p.status == "Running" for p in lab.k8s.pods)
        assert running == n + 1, f"{plugin}: {running} of {n + 1} pods running"
    return took


def teaching_exe(name: str) -> list[str]:
    from simlab.cni.runtime import default_cni_path

    return [os.path.join(default_cni_path(), name)]


def conf(bridge: str, ipam: str, data_dir: str) -> bytes:
    return json.dumps({
        "cniVersion": "1.0.0", "name": "bench", "type": bridge, "bridge": "cni0",
        "isGateway": True, "ipMasq": False,
        "ipam": {"type": ipam, "subnet": "10.88.0.0/16", "dataDir": data_dir},
    }).encode()


def adds(count: int) -> dict[str, list[float]]:
    """Seconds per ADD (and per VERSION) of each implementation, alternately."""
    teach_dir = os.path.dirname(teaching_exe("simlab-bridge")[0])
    out: dict[str, list[float]] = {"teaching": [], "reference": [], "teaching VERSION": [],
                                   "reference VERSION": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            for who, exe, path, ipam in (
                ("teaching", os.path.join(teach_dir, "simlab-bridge"), teach_dir,
                 "simlab-host-local"),
                ("reference", os.path.join(REFERENCE, "bridge"), REFERENCE, "host-local"),
            ):
                ns = f"bench-{who}-{i}"
                subprocess.run(["ip", "netns", "add", ns], check=True, env=ENV)
                # As in a lab's pod namespace: no DAD (else both wait for it differently).
                subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                                "net.ipv6.conf.all.accept_dad=0",
                                "net.ipv6.conf.default.accept_dad=0"], check=True, env=ENV)
                env = {**os.environ, "CNI_COMMAND": "ADD", "CNI_CONTAINERID": ns,
                       "CNI_NETNS": f"/run/netns/{ns}", "CNI_IFNAME": "eth0", "CNI_PATH": path}
                stdin = conf(os.path.basename(exe), ipam, os.path.join(tmp, who))
                t0 = time.perf_counter()
                p = subprocess.run([exe], input=stdin, env=env, capture_output=True)
                out[who].append(time.perf_counter() - t0)
                assert p.returncode == 0, (who, p.stdout, p.stderr)
                t0 = time.perf_counter()
                subprocess.run([exe], input=b"{}", env={**env, "CNI_COMMAND": "VERSION"},
                               capture_output=True, check=True)
                out[f"{who} VERSION"].append(time.perf_counter() - t0)
    return out


def inside(args) -> int:
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True, env=ENV)
    os.makedirs("/run/netns", exist_ok=True)
    subprocess.run(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0"], check=True, env=ENV)  # the sandbox's
    sys.path.insert(0, str(REPO))
    ok = {}
    timed = adds(args.adds)
    med = {k: statistics.median(v) * 1000 for k, v in timed.items()}
    add_ratio = med["teaching"] / med["reference"]
    print(f"one CNI ADD (bridge cni0, isGateway, host-local), {args.adds} each (median)")
    print(f"  teaching {med['teaching']:.1f} ms, reference {med['reference']:.1f} ms: "
          f"{add_ratio:.2f}x   [goal: <= {GOAL_ADD:.0f}x]")
    print(f"  VERSION (start-up): teaching {med['teaching VERSION']:.1f} ms, "
          f"reference {med['reference VERSION']:.1f} ms")
    ok["ADD"] = add_ratio <= GOAL_ADD
    if args.pods:
        time.sleep(args.pause)
        teach = pods(args.pods, "simlab-bridge")
        time.sleep(args.pause)
        ref = pods(args.pods, "reference")
        t, r = statistics.median(teach) * 1000, statistics.median(ref) * 1000
        print(f"lab.k8s.run on the kernel, {args.pods} pods, median per pod")
        print(f"  teaching plugins {t:.0f} ms, Debian's reference plugins {r:.0f} ms: "
              f"{t / r:.2f}x   [goal: teaching <= {GOAL_POD_MS:.0f} ms]")
        print(f"  total: teaching {sum(teach):.1f} s, reference {sum(ref):.1f} s")
        ok["per pod"] = t <= GOAL_POD_MS
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in ok.items()))
    return 0 if all(ok.values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--adds", type=int, default=20)
    parser.add_argument("--pause", type=float, default=3.0)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    if not os.path.exists(os.path.join(REFERENCE, "bridge")):
        print(f"not run: {REFERENCE}/bridge is missing (containernetworking-plugins)")
        return 0
    if args.inside:
        return inside(args)
    cmd = ["unshare", "--net", "--mount", "--propagation", "private", sys.executable, __file__,
           "--inside", "--pods", str(args.pods), "--adds", str(args.adds), "--pause",
           str(args.pause)]
    return subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(REPO)}).returncode


if __name__ == "__main__":
    sys.exit(main())
