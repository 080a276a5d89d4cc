"""Small timelines built with the op API, for the views' doctests, tests and benchmarks.

(The talk's own scenarios live in :mod:`simlab.scenarios`; these exist so the views
can be tested on shapes the scenarios do not have: renames, deletions, many pods.)
They record steps with the model's ``apply`` directly, so the views package needs no
lab and no backend; a :class:`~simlab.Lab` can be passed instead (``lab=``).
"""

from __future__ import annotations

from ..model import (
    ROOT,
    AddrAdd,
    LinkAdd,
    LinkDel,
    LinkSet,
    NetnsAdd,
    NetnsDel,
    RouteAdd,
    apply_all,
    new_state,
)
from ..timeline import Step, Timeline, text

__all__ = ["Recorder", "veth_pair", "bridge_pods", "churn"]


class Recorder:
    """A model-only stand-in for ``Lab.apply``: every call is one step on ``timeline``."""

    def __init__(self, seed: int = 0):
        self.state = new_state(seed=seed)
        self.timeline = Timeline()

    def apply(self, *ops, title="", why="", mirrors: str = "", actor: str = "python", detail=None):
        before = self.state
        self.state = apply_all(before, ops)
        return self.timeline.record(Step(
            title=text(title) if isinstance(title, str) else title,
            why=text(why) if isinstance(why, str) else why, ops=tuple(ops), before=before,
            after=self.state, mirrors=mirrors, actor=actor, detail=dict(detail or {})))

    def snapshot(self):
        return self.state


def _lab(seed: int = 0) -> Recorder:
    return Recorder(seed)


def veth_pair(lab=None):
    """red and blue joined by a veth pair made in the node, moved, renamed eth0, up.

    >>> [s.title_in("en") for s in veth_pair().timeline][:3]
    ['netns red', 'netns blue', 'veth pair']
    """
    lab = lab or _lab()
    lab.apply(NetnsAdd("red"), title="netns red", why="a new namespace has only lo, DOWN")
    lab.apply(NetnsAdd("blue"), title="netns blue", why="and another one")
    lab.apply(LinkAdd("veth1", "veth", peer="veth2"), title="veth pair",
              why="both ends start in the node namespace")
    lab.apply(LinkSet("veth1", to_netns="red"), title="veth1 to red", why="a move keeps the MAC")
    lab.apply(LinkSet("veth2", to_netns="blue"), title="veth2 to blue",
              why="now the pair joins red and blue")
    lab.apply(LinkSet("veth1", netns="red", name="eth0"),
              LinkSet("veth2", netns="blue", name="eth0"),
              title="rename to eth0", why="a rename keeps the ifindex")
    lab.apply(AddrAdd("eth0", "10.0.0.1/24", netns="red"),
              AddrAdd("eth0", "10.0.0.2/24", netns="blue"),
              title="addresses", why="one subnet on both ends")
    lab.apply(LinkSet("eth0", netns="red", up=True), title="red eth0 up",
              why="one end up: LOWERLAYERDOWN until the peer is up")
    lab.apply(LinkSet("eth0", netns="blue", up=True), LinkSet("lo", netns="red", up=True),
              LinkSet("lo", netns="blue", up=True), title="blue eth0 up",
              why="both ends up: carrier")
    return lab


def bridge_pods(n: int = 3, *, lab=None, steps_per_pod: int = 3, bridge: str = "cni0",
                prefix: str = "pod"):
    """A bridge on the node and ``n`` pods wired to it the way the CNI bridge plugin does.

    ``steps_per_pod`` 3: namespace, veth + port, address + up + route; 1: all in one step.
    """
    lab = lab or _lab()
    lab.apply(LinkAdd(bridge, "bridge"), LinkSet(bridge, up=True), AddrAdd(bridge, "10.244.0.1/24"),
              title=f"bridge {bridge}", why="the node's bridge, the pods' gateway",
              mirrors="bridge.go: ensureBridge")
    for i in range(1, n + 1):
        ns, host, ip = f"{prefix}-{i}", f"veth{i:04x}", f"10.244.{i // 250}.{i % 250 + 2}/16"
        groups = [
            ([NetnsAdd(ns)], f"{ns}: sandbox", "the runtime makes the pod's namespace", ""),
            ([LinkAdd("eth0", "veth", netns=ns, peer=host, peer_netns=ROOT),
              LinkSet(host, master=bridge), LinkSet(host, up=True)],
             f"{ns}: veth", "eth0 in the pod, its peer on the bridge", "bridge.go: setupVeth"),
            ([AddrAdd("eth0", ip, netns=ns), LinkSet("eth0", netns=ns, up=True),
              LinkSet("lo", netns=ns, up=True),
              RouteAdd("default", netns=ns, via="10.244.0.1")],
             f"{ns}: address", "host-local gave the pod an address", "bridge.go: configureIface"),
        ]
        if steps_per_pod == 1:
            lab.apply(*[op for ops, *_ in groups for op in ops], title=f"{ns}: CNI ADD",
                      why="sandbox, veth, address", mirrors="bridge.go: cmdAdd")
        else:
            for ops, title, why, mirrors in groups:
                lab.apply(*ops, title=title, why=why, mirrors=mirrors)
    return lab


def churn(lab=None):
    """Deletions and re-creations: a pod leaves and a new one reuses its names."""
    lab = bridge_pods(2, lab=lab)
    lab.apply(LinkDel("eth0", netns="pod-1"), title="pod-1: CNI DEL",
              why="deleting one end deletes the pair")
    lab.apply(NetnsDel("pod-1"), title="pod-1: gone", why="the sandbox is removed")
    lab.apply(NetnsAdd("pod-1"),
              LinkAdd("eth0", "veth", netns="pod-1", peer="veth0001", peer_netns=ROOT),
              LinkSet("veth0001", master="cni0", up=True), title="pod-1 again",
              why="same names: the picture puts it where it was")
    return lab
