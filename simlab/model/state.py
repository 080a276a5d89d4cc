"""The machine's network state as plain, immutable data.

A :class:`NetState` is a snapshot: namespaces holding links, addresses,
routes, neighbours, sysctls and NAT rules.  Nothing here changes a snapshot;
:func:`simlab.model.apply.apply` returns a new one.  Collections are tuples or
dicts that are never mutated after construction (``apply`` copies before it
writes), so a snapshot can be kept on a timeline and shown again later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Mapping

__all__ = [
    "ROOT",
    "Link",
    "Addr",
    "Route",
    "Neigh",
    "FdbEntry",
    "Netns",
    "NetState",
    "new_state",
    "new_netns",
    "TUNNEL_FALLBACKS",
]

#: Key of the lab's node namespace: where `ip` runs when no ``-n`` is given.
#: It is the empty string because no `ip netns` name can be empty.
ROOT = ""


@dataclass(frozen=True, slots=True)
class Link:
    """One network device (``struct net_device``) inside one namespace."""

    ifindex: int
    ifname: str
    kind: str  # "loopback", "veth", "bridge", "ip6tnl", "sit", "ipip"
    mac: str
    mtu: int = 1500
    up: bool = False  # IFF_UP: what `ip link set X up|down` sets
    txqlen: int = 1000
    #: veth: the other end as (namespace key, ifindex).
    peer: tuple[str, int] | None = None
    #: bridge port: ifindex of the bridge it is enslaved to (same namespace).
    master: int | None = None
    #: bridge: True once a MAC was set by hand (it no longer follows its ports).
    mac_set: bool = False
    #: NET_ADDR_RANDOM (1) or NET_ADDR_SET (3): how the MAC was chosen.
    addr_assign_type: int = 1
    hairpin: bool = False  # bridge port option
    promisc: bool = False  # `ip link set X promisc on`
    #: The name the device had before a move changed its ifindex, etc.: not kept.
    alias: str = ""


@dataclass(frozen=True, slots=True)
class Addr:
    """An address on a link (``ip addr``)."""

    ifindex: int
    family: int  # 4 or 6
    address: str
    prefixlen: int
    scope: str = "global"  # "global", "link", "host"
    broadcast: str | None = None
    label: str | None = None  # IPv4 label; defaults to the link name when shown

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True, slots=True)
class Route:
    """A route in the main table (``ip route``)."""

    dst: str  # "default" or "10.0.0.0/24"
    dev: int  # ifindex of the output link
    family: int = 4
    via: str | None = None
    proto: str = "boot"  # "kernel" for connected routes, "boot" for `ip route add`
    scope: str = "global"  # "link" for connected routes
    src: str | None = None
    metric: int | None = None
    onlink: bool = False


@dataclass(frozen=True, slots=True)
class Neigh:
    """An ARP/NDP entry (``ip neigh``)."""

    ifindex: int
    dst: str
    lladdr: str | None
    state: str = "REACHABLE"  # REACHABLE, STALE, PERMANENT, FAILED


@dataclass(frozen=True, slots=True)
class FdbEntry:
    """A learned bridge forwarding entry (``bridge fdb``); permanent ones are derived."""

    ifindex: int  # the port
    mac: str


@dataclass(frozen=True, slots=True)
class Netns:
    """One network namespace: its own links, addresses, routes and netfilter."""

    name: str
    links: Mapping[int, Link]
    addrs: tuple[Addr, ...] = ()
    routes: tuple[Route, ...] = ()
    neighs: tuple[Neigh, ...] = ()
    fdb: tuple[FdbEntry, ...] = ()
    sysctls: Mapping[str, str] = field(default_factory=dict)
    #: iptables rules as `iptables -S` prints them, per table: {"nat": ("-N DOCKER", ...)}.
    iptables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: The kernel's next ifindex for this namespace (per-netns counter).
    next_ifindex: int = 2
    #: nsids this namespace assigned to others (``link-netnsid N``), by namespace key.
    nsids: Mapping[str, int] = field(default_factory=dict)

    def link(self, ifname: str) -> Link | None:
        for link in self.links.values():
            if link.ifname == ifname:
                return link
        return None

    def addrs_of(self, ifindex: int) -> tuple[Addr, ...]:
        return tuple(a for a in self.addrs if a.ifindex == ifindex)


#: Fallback devices each new namespace gets when their modules are loaded
#: (as on the talk's slides): (ifname, kind, mtu, link type address).
TUNNEL_FALLBACKS = (
    ("tunl0", "ipip", 1480),
    ("ip6tnl0", "ip6tnl", 1452),
    ("sit0", "sit", 1480),
)


@dataclass(frozen=True, slots=True)
class NetState:
    """A whole machine: its namespaces by key (``ROOT`` is the node itself)."""

    netns: Mapping[str, Netns]
    #: Seed and counter of the MAC generator, so generated MACs are stable.
    seed: int = 0
    counter: int = 0
    #: Tunnel fallback devices to create in every new namespace (None, or a
    #: tuple of ifnames from TUNNEL_FALLBACKS), as when ipip/sit/ip6_tunnel are loaded.
    tunnels: tuple[str, ...] = ()

    def ns(self, key: str) -> Netns | None:
        return self.netns.get(key)

    def next_mac(self) -> tuple[str, "NetState"]:
        """A locally administered unicast MAC from the seeded generator."""
        digest = hashlib.blake2b(f"{self.seed}:{self.counter}".encode(), digest_size=6).digest()
        first = (digest[0] & 0xFC) | 0x02  # unicast, locally administered
        mac = ":".join(f"{b:02x}" for b in (first, *digest[1:]))
        return mac, replace(self, counter=self.counter + 1)


def new_netns(name: str, tunnels: tuple[str, ...] = ()) -> Netns:
    """A namespace as ``setup_net()`` leaves it: ``lo`` DOWN, plus tunnel fallbacks."""
    links = {1: Link(1, "lo", "loopback", "00:00:00:00:00:00", mtu=65536, addr_assign_type=0)}
    index = 2
    for ifname, kind, mtu in TUNNEL_FALLBACKS:
        if ifname in tunnels:
            links[index] = Link(index, ifname, kind, "", mtu=mtu, txqlen=1000, addr_assign_type=0)
            index += 1
    return Netns(
        name=name,
        links=links,
        sysctls={"net.ipv4.ip_forward": "0"},
        next_ifindex=index,
    )


def new_state(seed: int = 0, tunnels: tuple[str, ...] = ()) -> NetState:
    """A fresh machine: just the node namespace with its ``lo``.

    >>> s = new_state()
    >>> [l.ifname for l in s.netns[ROOT].links.values()]
    ['lo']
    """
    return NetState(netns={ROOT: new_netns(ROOT, tunnels)}, seed=seed, tunnels=tunnels)
