"""The packet view of a walk: one IP packet on each interface it crosses, as a capture shows it.

:func:`simlab.model.forward.reach` tells what happens to a packet as hops (a route
lookup, an ARP exchange, a bridge decision); this module turns each transmission of
the walk into the :class:`Seen` records a capture (``tcpdump -e -i DEV``) on each
interface would show.  The kernel backend's capture (simlab.kernel.capture) returns
the same records, and a differential test compares the two.

Kernel facts the records follow (checked with AF_PACKET sockets, tests/test_capture.py):
- a frame sent on a veth is seen ``out`` on it, then ``in`` on its peer;
- a bridge port sees ``in`` every frame it receives; a frame for the bridge's own MAC
  is then seen ``in`` on the bridge device (passed up); a forwarded frame is seen
  ``out`` on the port it leaves by, and on the bridge device only when that is
  promiscuous (``ip link set br0 promisc on``: a copy is passed up, then dropped by IP
  as another host's); what the bridge device sends is seen ``out`` on it, then on the
  port;
- the IP header is the one on the wire: an ``in`` record comes before ``nat
  PREROUTING`` (DNAT, conntrack's reverse of SNAT/MASQUERADE), an ``out`` record after
  ``nat POSTROUTING``; the TTL is 64 from the sender and one less after each router;
- a packet to an address of its own namespace is seen ``out`` then ``in`` on ``lo``,
  with zero MACs.

``rule`` is the table entry that decided the record, as the tools print it: the route
(``ip route``) or the nat rule (``iptables -t nat -S``) or the conntrack entry
(``conntrack -L``, without its timers) for what an IP layer sends; the neighbour entry
(``ip neigh``, in the table of the namespace whose IP layer sent the frame: the last
``out`` record made by a route, nat rule or conntrack entry) that gave the frame its
destination MAC where it arrives on a link's far end; the FDB entry (``bridge fdb``)
where a bridge forwards it or passes it up.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .state import Link, Netns, NetState, Route

__all__ = ["Seen", "Sent", "route_text", "neigh_text", "local_route_text", "conntrack_text",
           "sent", "looped"]

_LO_MAC = "00:00:00:00:00:00"


@dataclass(frozen=True)
class Seen:
    """One IP packet on one interface, as a capture there (``tcpdump -e -i DEV``) shows it.

    The packet view of a walk: a picture moves the packet along these, and the kernel
    backend's capture is compared with them.  ``rule`` is the table entry that sent the
    packet this way (a route, a neighbour, an FDB entry, a NAT or filter rule) as
    ``ip``/``bridge``/``iptables -S`` would print it; ``hop`` indexes the walk's hops
    (``hops`` for the request, ``reply_hops`` for the reply) that tells the story.
    """

    leg: str  # "request" | "reply"
    netns: str  # namespace key (ROOT is the node)
    dev: str  # the interface the packet crosses
    way: str  # "out" (sent on dev) | "in" (received on dev)
    src_mac: str
    dst_mac: str
    src_ip: str
    dst_ip: str
    ttl: int
    proto: str = "icmp"
    hop: int = -1
    rule: str = ""


# ------------------------------------------------------------------ rule texts
def route_text(ns: Netns, route: Route) -> str:
    """The route as `ip route` prints it (main table, IPv4; proto boot and scope global unsaid)."""
    link = ns.links.get(route.dev)
    dst = route.dst[:-3] if route.dst.endswith("/32") else route.dst
    words = ((True, dst), (route.via, f"via {route.via}"),
             (link is not None, f"dev {link.ifname if link else ''}"),
             (route.proto != "boot", f"proto {route.proto}"),
             (route.scope != "global", f"scope {route.scope}"), (route.src, f"src {route.src}"),
             (route.metric is not None, f"metric {route.metric}"), (route.onlink, "onlink"))
    return " ".join(word for said, word in words if said)


def local_route_text(ns: Netns, dst: str, holder: Link | None) -> str:
    """The local table's entry that delivers ``dst`` (`ip route show table local`)."""
    if ipaddress.ip_address(dst).is_loopback:
        return "local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1"
    dev = holder.ifname if holder is not None else "lo"
    return f"local {dst} dev {dev} proto kernel scope host src {dst}"


def neigh_text(ns: Netns, out: Link, nexthop: str, mac: str) -> str:
    """The neighbour entry that gave the frame its destination MAC, as `ip neigh` prints it.

    One already in the cache is shown in the state it was found in; one ARP just
    resolved is REACHABLE (the answer confirmed it).
    """
    cached = next((n for n in ns.neighs
                   if n.ifindex == out.ifindex and n.dst == nexthop and n.lladdr), None)
    state = cached.state if cached is not None else "REACHABLE"
    return f"{nexthop} dev {out.ifname} lladdr {mac} {state}"


def _fdb_text(ns: Netns, bridge: Link, port: Link, mac: str) -> str:
    """The FDB entry for ``mac`` as `bridge fdb show` prints it (learnt, or the bridge's own)."""
    if mac == bridge.mac:  # the bridge's own MAC: a port's that it took, or its own
        owner = next((p for p in ns.links.values()
                      if p.master == bridge.ifindex and p.mac == mac), bridge)
        return f"{mac} dev {owner.ifname} master {bridge.ifname} permanent"
    return f"{mac} dev {port.ifname} master {bridge.ifname}"


def conntrack_text(proto: str, before, after) -> str:
    """A conntrack entry as `conntrack -L` prints it, without its timers and ids.

    ``before``/``after``: the connection's first packet as it entered and left the
    namespace that rewrote it (anything with ``src``, ``dst``, ``sport``, ``dport``).
    """
    orig = f" sport={before.sport} dport={before.dport}" if before.dport is not None else ""
    back = f" sport={after.dport} dport={after.sport}" if after.dport is not None else ""
    return f"{proto} src={before.src} dst={before.dst}{orig} src={after.dst} dst={after.src}{back}"


# ---------------------------------------------------------------- the records
@dataclass(frozen=True)
class Sent:
    """One transmission by an IP layer: what it sent on which link, and why."""

    leg: str
    netns: str
    out: Link
    dst_mac: str  # the MAC the next hop answered ARP with
    src_ip: str
    dst_ip: str
    ttl: int
    proto: str
    hop: int  # the hop that chose the way (route, forward, nat, conntrack)
    rule: str
    arp_hop: int  # the hop that resolved the next hop
    neigh: str  # its neighbour entry


def sent(state: NetState, s: Sent, path, l2_hop: int) -> list[Seen]:
    """The records of one transmission: out on its link, then along the frame's way.

    ``path``: the layer-2 steps the frame takes (forward._L2: veth crossings and bridge
    decisions), each told by one hop, the first at index ``l2_hop``.
    """
    def record(netns: str, dev: str, way: str, hop: int, rule: str) -> Seen:
        return Seen(s.leg, netns, dev, way, s.out.mac, s.dst_mac, s.src_ip, s.dst_ip, s.ttl,
                    s.proto, hop, rule)

    out = [record(s.netns, s.out.ifname, "out", s.hop, s.rule)]
    for i, step in enumerate(path):
        hop = l2_hop + i
        if step.kind == "veth":  # the far end of the cable receives it
            out.append(record(step.c_netns, step.b.ifname, "in", hop, s.neigh))
        elif step.kind == "bridge-up":  # for the bridge's own MAC: passed up to its device
            rule = _fdb_text(state.netns[step.netns], step.a, step.b, s.dst_mac)
            out.append(record(step.netns, step.a.ifname, "in", hop, rule))
        else:  # forwarded (bridge-fwd: from a port; bridge-out: sent by the bridge device)
            port = step.c if step.kind == "bridge-fwd" else step.b
            rule = _fdb_text(state.netns[step.netns], step.a, port, s.dst_mac)
            out.append(record(step.netns, port.ifname, "out", hop, rule))
            if step.kind == "bridge-fwd" and step.a.promisc:  # br_pass_frame_up's copy
                out.append(record(step.netns, step.a.ifname, "in", hop, rule))
    return out


def looped(leg: str, netns: str, src_ip: str, dst_ip: str, proto: str, hop: int,
           rule: str) -> list[Seen]:
    """A packet to the namespace's own address: out and in on ``lo``, with zero MACs."""
    return [Seen(leg, netns, "lo", way, _LO_MAC, _LO_MAC, src_ip, dst_ip, 64, proto, hop, rule)
            for way in ("out", "in")]
