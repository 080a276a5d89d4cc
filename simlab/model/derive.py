"""What the kernel derives from the stored state: carrier, operstate, flags.

These are pure functions of a snapshot; views and the graph use them, so the
rules live in one place.

Kernel facts (seen on Linux 6.18 with iproute2 6.1):
- a veth has carrier only while both ends are up; an up veth without carrier
  is ``LOWERLAYERDOWN`` (its iflink is the peer, not itself);
- a bridge has carrier while one of its ports forwards (port up with carrier
  and bridge up); an up bridge without one is ``NO-CARRIER ... state DOWN``;
- an up ``lo`` reports ``state UNKNOWN``;
- IPv6 link-local addresses (EUI-64 from the MAC) exist while an Ethernet-like
  link is up with carrier; ``::1`` exists while ``lo`` is up.
"""

from __future__ import annotations

import ipaddress

from .state import Addr, Link, NetState, Netns

__all__ = [
    "peer_link",
    "carrier",
    "operstate",
    "flags",
    "port_state",
    "qdisc",
    "all_addrs",
    "eui64_link_local",
    "ports_of",
]


def peer_link(state: NetState, link: Link) -> tuple[str, Link] | None:
    """The other end of a veth as (namespace key, Link)."""
    if link.peer is None:
        return None
    key, index = link.peer
    ns = state.netns.get(key)
    if ns is None or index not in ns.links:
        return None
    return key, ns.links[index]


def ports_of(ns: Netns, bridge: Link) -> list[Link]:
    return [l for l in ns.links.values() if l.master == bridge.ifindex]


def carrier(state: NetState, ns: Netns, link: Link) -> bool:
    if not link.up:
        return False
    if link.kind == "loopback":
        return True
    if link.kind == "veth":
        other = peer_link(state, link)
        return other is not None and other[1].up
    if link.kind == "bridge":
        return any(port_state(state, ns, p) == "forwarding" for p in ports_of(ns, link))
    return False


def port_state(state: NetState, ns: Netns, port: Link) -> str:
    """STP port state of a bridge port (STP off: forwarding or disabled)."""
    bridge = ns.links.get(port.master) if port.master is not None else None
    if bridge is None or not bridge.up or not carrier(state, ns, port):
        return "disabled"
    return "forwarding"


def operstate(state: NetState, ns: Netns, link: Link) -> str:
    if not link.up:
        return "DOWN"
    if link.kind == "loopback":
        return "UNKNOWN"
    if carrier(state, ns, link):
        return "UP"
    return "LOWERLAYERDOWN" if link.kind == "veth" else "DOWN"


def flags(state: NetState, ns: Netns, link: Link) -> list[str]:
    """The flag list `ip link` prints between < and >, in iproute2's order."""
    has_carrier = carrier(state, ns, link)
    out: list[str] = []
    if link.up and not has_carrier:
        out.append("NO-CARRIER")
    if link.kind == "loopback":
        out.append("LOOPBACK")
    elif link.kind in ("veth", "bridge"):
        out += ["BROADCAST", "MULTICAST"]
    else:  # tunnels
        out.append("NOARP")
    if link.promisc:
        out.insert(len(out), "PROMISC")
    if link.up:
        out.append("UP")
    if has_carrier:
        out.append("LOWER_UP")
    # M-DOWN: the peer is in the same namespace and is down.
    other = peer_link(state, link)
    if other is not None and other[0] == ns.name and not other[1].up:
        out.append("M-DOWN")
    return out


def qdisc(link: Link) -> str:
    if not link.up or link.kind in ("ipip", "sit", "ip6tnl"):
        return "noop"
    return "noqueue"


def eui64_link_local(mac: str) -> str:
    """fe80::/64 address the kernel derives from a MAC (addr_gen_mode eui64)."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    value = (0xFE80 << 112) | int.from_bytes(bytes(eui), "big")
    return str(ipaddress.IPv6Address(value))


def all_addrs(state: NetState, ns: Netns, link: Link) -> list[Addr]:
    """Stored addresses plus the ones the kernel adds by itself, IPv4 first."""
    stored = ns.addrs_of(link.ifindex)
    v4 = [a for a in stored if a.family == 4]
    v6 = [a for a in stored if a.family == 6]
    if link.kind == "loopback" and link.up:
        v6.insert(0, Addr(link.ifindex, 6, "::1", 128, scope="host"))
    elif link.kind in ("veth", "bridge") and carrier(state, ns, link) and link.mac:
        v6.append(Addr(link.ifindex, 6, eui64_link_local(link.mac), 64, scope="link"))
    return v4 + v6
