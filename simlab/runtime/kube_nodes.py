"""Kubernetes nodes in one lab: which namespace is a node's "host", and the LAN between nodes.

Every node is a namespace of the lab: ``k8s-node01`` is the lab's node
(``ROOT``), a second node is a namespace beside it (key ``node2``).  Pods are
namespaces too, all keys of the same snapshot; what makes a pod "on node 2"
is only that its veth's other end and its routes live in ``node2``.

A CNI plugin always treats the namespace it runs in as the host (Go:
``ns.GetCurrentNS()`` when it creates the host end of a veth, the bridge,
``ip_forward``).  So a plugin for node 2 must run with ``node2`` as its own
namespace:

- kernel: the plugin process is started inside node 2's namespace
  (``nsenter --net=<node2's mount> -- <plugin>``), exactly as Debian's
  reference plugins would be run on that machine;
- model: simlab's plugins run in-process against a :class:`NodeView` of the
  lab, a backend in which the key ``ROOT`` *is* ``node2`` (and ``node2`` is
  the lab's node): every snapshot the plugin reads has the two keys swapped,
  every operation it applies is swapped back before it reaches the lab, so
  the timeline shows the real commands (``ip -n node2 link add cni0 ...``).

The nodes share a LAN, 192.168.1.0/24 as on the talk's slides: node 1's
``em1`` (192.168.1.1, made by docker's start) is a veth whose other end is in
the namespace ``lan``.  A second machine on that LAN needs a switch, so the
first extra node turns ``lan`` into one: a bridge ``br0`` takes the router's
address 192.168.1.254 and the old end as its first port; each node gets its
own ``em1`` plugged into ``br0``.  Routes to each other's pod CIDR through
the other node's address (flannel's ``host-gw`` design) and ``ip_forward=1``
on every node let a pod on node 1 reach a pod on node 2 without any tunnel.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field

from ..model import ROOT, NetState
from ..model import ops as o
from ..model.state import Link, Netns
from ..timeline import text

__all__ = [
    "Node",
    "NodeView",
    "swap_state",
    "swap_op",
    "map_keys",
    "ensure_lan_switch",
    "join_node",
    "route_pod_cidrs",
    "LAN_BRIDGE",
]

#: The switch the LAN namespace becomes once a second node joins.
LAN_BRIDGE = "br0"


@dataclass(eq=False)
class Node:
    """One Kubernetes node: its name, its namespace key, its address and its CNI setup."""

    name: str  # "k8s-node01"
    key: str  # namespace key: ROOT for the lab's node, else e.g. "node2"
    address: str  # on the LAN, e.g. "192.168.1.1"
    pod_cidr: str  # e.g. "10.244.1.0/24"
    #: /etc/cni/net.d of this node: file path -> text (the learner may edit it).
    cni_config_dir: dict[str, str] = field(default_factory=dict)
    #: Directories searched for plugins (CNI_PATH); None: simlab's own.
    cni_path: list[str] | None = None
    #: Where this node's host-local keeps its reservations (a per-lab temporary directory).
    ipam_dir: str = ""
    #: Which preset wrote the config ("simlab-bridge", "reference", "ptp", "custom").
    plugin: str = "simlab-bridge"
    runtime: object = field(default=None, repr=False)  # simlab.cni.Runtime, built when first used

    @property
    def is_lab_node(self) -> bool:
        return self.key == ROOT


# --------------------------------------------------------------------- the view
def _swap_key(key, host: str):
    if key == ROOT:
        return host
    if key == host:
        return ROOT
    return key


def map_keys(op: o.Op, key_of) -> o.Op:
    """``op`` with every namespace key it names replaced by ``key_of(key)``."""
    changes = {}
    for f in dataclasses.fields(op):
        if f.name in ("netns", "peer_netns", "to_netns") or (
            f.name == "name" and isinstance(op, (o.NetnsAdd, o.NetnsDel))
        ):
            value = getattr(op, f.name)
            if value is not None and key_of(value) != value:
                changes[f.name] = key_of(value)
    return dataclasses.replace(op, **changes) if changes else op


def swap_op(op: o.Op, host: str) -> o.Op:
    """``op`` with the namespace keys ``ROOT`` and ``host`` exchanged.

    >>> swap_op(o.LinkAdd("eth0", "veth", netns="pod", peer="veth1", peer_netns=ROOT), "node2")
    ... # doctest: +NORMALIZE_WHITESPACE
    LinkAdd(ifname='eth0', kind='veth', netns='pod', peer='veth1', peer_netns='node2', mac=None,
            peer_mac=None, mtu=None)
    >>> swap_op(o.LinkAdd("cni0", "bridge"), "node2").netns
    'node2'
    """
    if host == ROOT:
        return op
    return map_keys(op, lambda key: _swap_key(key, host))


def _swap_ns(ns: Netns, host: str) -> Netns:
    links = []
    for link in ns.links.values():
        if link.peer is not None and link.peer[0] in (ROOT, host):
            link = dataclasses.replace(link, peer=(_swap_key(link.peer[0], host), link.peer[1]))
        links.append(link)
    return dataclasses.replace(
        ns,
        name=_swap_key(ns.name, host),
        links={link.ifindex: link for link in links},
        nsids={_swap_key(k, host): v for k, v in ns.nsids.items()},
    )


def swap_state(state: NetState, host: str) -> NetState:
    """The snapshot seen from ``host``: its key becomes ``ROOT`` and ``ROOT`` becomes ``host``."""
    if host == ROOT:
        return state
    if host not in state.netns:
        raise KeyError(f"no namespace {host!r}")
    netns = {}
    for key, ns in state.netns.items():
        touched = (
            key in (ROOT, host)
            or any(
                link.peer is not None and link.peer[0] in (ROOT, host) for link in ns.links.values()
            )
            or any(k in (ROOT, host) for k in ns.nsids)
        )
        netns[_swap_key(key, host)] = _swap_ns(ns, host) if touched else ns
    ordered = {ROOT: netns.pop(ROOT), **netns}  # ROOT first, as in every snapshot
    return dataclasses.replace(state, netns=ordered)


class NodeView:
    """The lab as a plugin running on ``host`` sees it (the model backend's protocol).

    Operations go through ``lab.apply`` (so they land on the timeline, inside
    the step a recorder opened); with ``host == ROOT`` nothing is swapped.

    >>> import simlab
    >>> lab = simlab.Lab(backend="model")
    >>> _ = lab.apply(o.NetnsAdd("node2"))
    >>> view = NodeView(lab, "node2")
    >>> view.apply(o.LinkAdd("cni0", "bridge"))
    >>> [link.ifname for link in lab.snapshot().netns["node2"].links.values()]
    ['lo', 'cni0']
    >>> [link.ifname for link in view.snapshot().netns[ROOT].links.values()]
    ['lo', 'cni0']
    """

    name = "model"

    def __init__(self, lab, host: str = ROOT):
        self.lab = lab
        self.capabilities = lab.capabilities
        self.host = host
        self._memo: tuple[NetState, NetState] | None = None

    def apply(self, op: o.Op) -> None:
        self.lab.apply(swap_op(op, self.host))

    def snapshot(self) -> NetState:
        real = self.lab.snapshot()
        if self._memo is not None and self._memo[0] is real:
            return self._memo[1]
        seen = swap_state(real, self.host)
        self._memo = (real, seen)
        return seen

    def show(self, tool, argv, netns):
        return None

    def close(self) -> None:
        pass


# ------------------------------------------------------------------- the LAN
def _lan_link(state: NetState, lan: str, address: str) -> Link | None:
    ns = state.netns.get(lan)
    if ns is None:
        return None
    for a in ns.addrs:
        if a.family == 4 and a.address == address:
            return ns.links.get(a.ifindex)
    return None


def ensure_lan_switch(lab, lan: str, lan_cidr: str) -> None:
    """Make the LAN namespace a switch: a bridge ``br0`` holding the router's address.

    Docker's start leaves ``lan`` as the far end of node 1's ``em1`` with the
    router's address on it; a second machine cannot plug into a veth, so the
    address moves to a bridge and the old end becomes its first port.
    """
    state = lab.snapshot()
    router = lan_cidr.split("/")[0]
    holder = _lan_link(state, lan, router)
    if holder is None:
        raise RuntimeError(
            f"the LAN namespace {lan!r} has no link with {router}: start docker first"
        )
    if holder.kind == "bridge":
        return
    lab.apply(
        o.LinkAdd(LAN_BRIDGE, "bridge", netns=lan),
        o.AddrDel(holder.ifname, lan_cidr, netns=lan),
        o.LinkSet(holder.ifname, netns=lan, master=LAN_BRIDGE),
        o.AddrAdd(LAN_BRIDGE, lan_cidr, netns=lan),
        o.LinkSet(LAN_BRIDGE, netns=lan, up=True),
        title=text(
            f"the LAN becomes a switch ({LAN_BRIDGE} in {lan!r})",
            f"LAN をスイッチにする（{lan!r} の {LAN_BRIDGE}）",
        ),
        why=text(
            f"so far the LAN was one cable: node 1's em1 and its other end {holder.ifname} "
            f"holding the router's address {router}. A second node needs a switch: a bridge "
            f"{LAN_BRIDGE} takes the router's address and {holder.ifname} becomes its first "
            "port; every node will plug its own em1 into it.",
            "これまで LAN は 1 本のケーブルだった（ノード 1 の em1 と、ルーターのアドレス "
            f"{router} を持つ対向 {holder.ifname}）。2 台目のノードをつなぐにはスイッチが要る。"
            f"ブリッジ {LAN_BRIDGE} がルーターのアドレスを引き継ぎ、{holder.ifname} "
            "をその最初のポートにする。各ノードは自分の em1 をここに差し込む。",
        ),
        actor="host",
        mirrors="a LAN switch (ip link add br0 type bridge; ip link set eth0 master br0)",
        detail={"k8s": "lan"},
    )


def _free_port_name(state: NetState, lan: str) -> str:
    ns = state.netns[lan]
    n = 1
    while ns.link(f"eth{n}") is not None:
        n += 1
    return f"eth{n}"


def join_node(lab, node: Node, lan: str, lan_cidr: str, uplink: str = "em1") -> None:
    """Create ``node``'s namespace and plug its ``em1`` into the LAN switch."""
    state = lab.snapshot()
    prefix = ipaddress.ip_interface(lan_cidr).network.prefixlen
    router = lan_cidr.split("/")[0]
    port = _free_port_name(state, lan)
    key = node.key
    lab.apply(
        o.NetnsAdd(key),
        o.LinkSet("lo", netns=key, up=True),
        o.LinkAdd(uplink, "veth", netns=key, peer=port, peer_netns=lan),
        o.LinkSet(port, netns=lan, master=LAN_BRIDGE),
        o.LinkSet(port, netns=lan, up=True),
        o.AddrAdd(uplink, f"{node.address}/{prefix}", netns=key),
        o.LinkSet(uplink, netns=key, up=True),
        o.RouteAdd("default", netns=key, via=router, dev=uplink),
        o.SysctlSet("net.ipv4.ip_forward", "1", netns=key),
        title=text(
            f"node {node.name}: a second machine on the LAN ({node.address})",
            f"ノード {node.name}: LAN 上の 2 台目のマシン（{node.address}）",
        ),
        why=text(
            f"{node.name} is a namespace of its own (key {key!r}) standing for another machine: "
            f"its em1 {node.address}/{prefix} is plugged into the LAN switch ({port} on "
            f"{LAN_BRIDGE}), its default route goes to the router {router}, and ip_forward=1 "
            "because it will route packets for its pods.",
            f"{node.name} は別のマシンを表す独立した名前空間（キー {key!r}）。em1 "
            f"{node.address}/{prefix} をLAN のスイッチ（{LAN_BRIDGE} の {port}）に差し込み、"
            f"デフォルトルートはルーター {router} へ。Pod のパケットをルーティングするので "
            "ip_forward=1 にする。",
        ),
        actor="host",
        mirrors="kubeadm join (the machine's own network setup)",
        detail={"k8s": "node", "node": node.name},
    )


def route_pod_cidrs(lab, nodes: list[Node], uplink: str = "em1") -> None:
    """On every node, a route to every other node's pod CIDR via that node (``host-gw``)."""
    ops: list[o.Op] = []
    lines = []
    for a in nodes:
        ns = lab.snapshot().netns[a.key]
        have = {r.dst for r in ns.routes}
        for b in nodes:
            if a is b or b.pod_cidr in have:
                continue
            ops.append(o.RouteAdd(b.pod_cidr, netns=a.key, via=b.address, dev=uplink))
            lines.append(f"{a.name}: {b.pod_cidr} via {b.address}")
        if ns.sysctls.get("net.ipv4.ip_forward") != "1":
            ops.append(o.SysctlSet("net.ipv4.ip_forward", "1", netns=a.key))
    if not ops:
        return
    shown = "; ".join(lines)
    lab.apply(
        *ops,
        title=text("routes between the nodes' pod CIDRs", "ノード間の Pod CIDR へのルート"),
        why=text(
            f"each node owns one pod CIDR; a packet for a pod on another node is sent to that "
            f"node's LAN address, which routes it on to its pod ({shown}). This is flannel's "
            "host-gw design: no tunnel, just routes, which works while all nodes share one L2 "
            "segment.",
            "各ノードが 1 つずつ Pod CIDR を持つ。別ノードの Pod 宛てのパケットはそのノードの "
            f"LAN アドレスへ送られ、そのノードが自分の Pod へルーティングする（{shown}）。flannel "
            "の host-gw と同じ設計で、トンネルは使わずルートだけで届く（全ノードが同じ L2 "
            "セグメントにいる間は）。",
        ),
        actor="host",
        mirrors="flannel backend/hostgw: handleSubnetEvents (netlink.RouteReplace)",
        detail={"k8s": "routes"},
    )
