"""What the kernel derives from the stored state: carrier, operstate, flags.

These are pure functions of a snapshot; views and the graph use them, so the
rules live in one place.

Kernel facts (seen on Linux 6.18 with iproute2 6.1):
- a veth has carrier only while both ends are up;
- operstate is computed when carrier changes (and stored: it goes stale):
  UP with carrier; without, ``LOWERLAYERDOWN`` when the link's iflink (a
  veth's peer ifindex) names another link *of its own namespace* whose
  operstate is not UP/UNKNOWN, else ``DOWN`` (see oper_on_carrier_change);
- a bridge that never had a port has carrier but no carrier event ever
  computed its operstate (an up one is ``state UNKNOWN``);
  once it had one, it has carrier while a port forwards (STP off: the port and
  the bridge are up and the port has carrier), otherwise ``NO-CARRIER ...
  state DOWN``;
- an up ``lo`` or tunnel reports ``state UNKNOWN``;
- the qdisc is ``noop`` until the link is first up, ``noqueue`` afterwards;
- the addresses are the stored ones, in the kernel's order (IPv4 first, as
  `ip` prints them); IPv6 link-local addresses are made by apply (addrconf).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from .state import Addr, Link, NetState, Netns

__all__ = [
    "peer_link",
    "carrier",
    "netif_carrier",
    "operstate",
    "flags",
    "port_state",
    "qdisc",
    "all_addrs",
    "eui64_link_local",
    "ports_of",
    "secondary_flags",
    "oper_on_carrier_change",
    "iflink",
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


def netif_carrier(state: NetState, ns: Netns, link: Link) -> bool:
    """The kernel's carrier bit (netif_carrier_ok()), whatever the admin state.

    A veth has it while both ends are up; a bridge that had ports while one
    forwards (none do while it is down); ``lo`` and tunnels always.
    """
    if link.kind == "veth":
        other = peer_link(state, link)
        return link.up and other is not None and other[1].up
    if link.kind == "bridge":
        # A fresh bridge has carrier until its first port; one whose MAC was set
        # by hand (docker0) has none until a port forwards (seen on Linux 6.18).
        if not link.had_ports and not link.mac_set:
            return True
        return link.up and any(l.master == link.ifindex and _port_forwards(state, link, l)
                               for l in ns.links.values())
    return True  # loopback, tunnels


def carrier(state: NetState, ns: Netns, link: Link) -> bool:
    """IFF_RUNNING (``LOWER_UP``): up and with carrier."""
    return link.up and netif_carrier(state, ns, link)


def _port_forwards(state: NetState, bridge: Link, port: Link) -> bool:
    return bridge.up and carrier(state, None, port)  # type: ignore[arg-type]


def port_state(state: NetState, ns: Netns, port: Link) -> str:
    """STP port state of a bridge port (STP off: forwarding or disabled)."""
    bridge = ns.links.get(port.master) if port.master is not None else None
    if bridge is None or not bridge.up or not carrier(state, ns, port):
        return "disabled"
    return "forwarding"


def iflink(link: Link) -> int:
    """IFLA_LINK: a veth's peer ifindex, else the link's own ifindex (0 for tunnels' @NONE)."""
    if link.peer is not None:
        return link.peer[1]
    if link.kind in ("ipip", "sit", "ip6tnl"):
        return 0
    return link.ifindex


def operstate(state: NetState, ns: Netns, link: Link) -> str:
    """IFLA_OPERSTATE: DOWN while admin-down, else the operstate the kernel last computed."""
    if not link.up:
        return "DOWN"
    return link.oper


def oper_on_carrier_change(ns: Netns, link: Link, has_carrier: bool) -> str:
    """rfc2863_policy()/default_operstate() when ``link``'s carrier changes.

    Without carrier: DOWN when IFLA_LINK is the link itself or names no link of
    *this* namespace, or names one whose operstate is UP/UNKNOWN; else
    LOWERLAYERDOWN.  The lookup is by number in the link's own namespace, even
    for a veth whose peer is elsewhere.
    """
    if has_carrier:
        return "UP"
    index = iflink(link)
    if index == link.ifindex:
        return "DOWN"
    other = ns.links.get(index)
    if other is None or other.oper in ("UP", "UNKNOWN"):
        return "DOWN"
    return "LOWERLAYERDOWN"


def flags(state: NetState, ns: Netns, link: Link, mdown: bool | None = None) -> list[str]:
    """The flag list `ip link` prints between < and >, in iproute2's order.

    M-DOWN (last) is `ip`'s: the peer is in the same namespace and down.
    ``mdown`` overrides it for tools that look the peer up differently
    (`bridge link`, `ip -6 addr` resolve its ifindex among the local links).
    """
    has_carrier = carrier(state, ns, link)
    out: list[str] = []
    if link.up and not has_carrier:
        out.append("NO-CARRIER")
    if link.kind == "loopback":
        out.append("LOOPBACK")
    elif link.kind in ("veth", "bridge"):
        out += ["BROADCAST"] + ([] if link.nomulticast else ["MULTICAST"]) + (["NOARP"] if link.noarp else [])
    else:  # tunnels
        out.append("NOARP")
    if link.allmulti:
        out.append("ALLMULTI")
    if link.promisc:
        out.append("PROMISC")
    if link.up:
        out.append("UP")
    if has_carrier:
        out.append("LOWER_UP")
    if mdown is None:
        other = peer_link(state, link)
        mdown = other is not None and other[0] == ns.name and not other[1].up
    if mdown:
        out.append("M-DOWN")
    return out


def qdisc(link: Link) -> str:
    return "noqueue" if link.activated else "noop"


@lru_cache(maxsize=4096)
def eui64_link_local(mac: str) -> str:
    """fe80::/64 address the kernel derives from a MAC (addr_gen_mode eui64)."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    value = (0xFE80 << 112) | int.from_bytes(bytes(eui), "big")
    return str(ipaddress.IPv6Address(value))


def all_addrs(state: NetState, ns: Netns, link: Link) -> list[Addr]:
    """A link's addresses as `ip addr` lists them: IPv4 then IPv6, each in kernel order."""
    stored = [a for a in ns.addrs if a.ifindex == link.ifindex]
    return [a for a in stored if a.family == 4] + [a for a in stored if a.family == 6]


def secondary_flags(ns: Netns, ifindex: int) -> dict[int, bool]:
    """id(addr) -> True for a link's IPv4 addresses that are secondary.

    An address is secondary when a primary before it has the same subnet and
    prefix length (the kernel puts secondaries after the primaries).
    """
    out: dict[int, bool] = {}
    primaries: list = []
    for a in ns.addrs:
        if a.ifindex != ifindex or a.family != 4:
            continue
        net = ipaddress.ip_interface(a.cidr).network
        secondary = any(p == net for p in primaries)
        if not secondary:
            primaries.append(net)
        out[id(a)] = secondary
    return out
