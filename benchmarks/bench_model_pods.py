"""Build a node with 1,000 pods on the model, through the Python op API.

Per pod, as the CNI bridge plugin does it: ``ip netns add``, a veth with its
peer in the pod's namespace, the host end on bridge ``cni0`` (``master``), an
address on the pod end, both ends up, a default route in the pod.

Prints ``model: 1000 pods in X.XX s`` (the median of 3 runs) and the rate, and
exits non-zero when that is over 1.0 s.

Run: ``.venv/bin/python benchmarks/bench_model_pods.py [PODS]``
"""

from __future__ import annotations

import ipaddress
import statistics
import sys
import time

from simlab.model import (AddrAdd, LinkAdd, LinkSet, NetnsAdd, RouteAdd, apply, new_state)

LIMIT_S = 1.0


def pod_ops(i: int, gateway: str = "10.244.0.1"):
    pod = f"pod{i}"
    host = f"veth{i:08x}"[:15]
    ip = ipaddress.ip_address("10.244.0.2") + i
    return [
        NetnsAdd(pod),
        LinkAdd(host, "veth", peer="eth0", peer_netns=pod),
        LinkSet(host, master="cni0", up=True),
        AddrAdd("eth0", f"{ip}/16", netns=pod),
        LinkSet("eth0", netns=pod, up=True),
        RouteAdd("default", netns=pod, via=gateway),
    ]


def build(pods: int):
    state = new_state()
    for op in (LinkAdd("cni0", "bridge"), AddrAdd("cni0", "10.244.0.1/16"), LinkSet("cni0", up=True)):
        state = apply(state, op)
    for i in range(pods):
        for op in pod_ops(i):
            state = apply(state, op)
    return state


def main(argv: list[str]) -> int:
    pods = int(argv[1]) if len(argv) > 1 else 1000
    times, cpu = [], []
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        state = build(pods)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    node = state.netns[""]
    assert len(state.netns) == pods + 1 and len(node.links) == pods + 2
    median = statistics.median(times)
    print(f"model: {pods} pods in {median:.2f} s")
    print(f"  {pods / median:,.0f} pods/s; runs: " + ", ".join(f"{t:.2f} s" for t in times)
          + f" (CPU time, median: {statistics.median(cpu):.2f} s; wall time suffers on a busy machine)")
    return 0 if median <= LIMIT_S * pods / 1000 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
