"""The machine's network state as plain, immutable data.

A :class:`NetState` is a snapshot: namespaces holding links, addresses,
routes, neighbours, sysctls and NAT rules.  Nothing here changes a snapshot;
:func:`simlab.model.apply.apply` returns a new one.  Collections are tuples or
dicts that are never mutated once ``apply`` has returned them (its transaction,
:mod:`simlab.model.txn`, copies what it was given before it writes), so a
snapshot can be kept on a timeline and shown again later.
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
    "Rule",
    "DEFAULT_RULES",
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
    #: A qdisc was attached (first `up`): `qdisc noqueue` stays after `down`,
    #: until a move to another namespace resets the device.
    activated: bool = False
    #: addrconf's IF_READY: set when the link is first up *with carrier*, which
    #: is when the IPv6 link-local address is made (from the MAC of that moment).
    v6_ready: bool = False
    #: bridge: a port was ever added; before that an up bridge has carrier
    #: (``state UNKNOWN``), after that only while a port forwards.
    had_ports: bool = False
    #: bridge: the MTU was set by hand, so it no longer follows the smallest port.
    mtu_set: bool = False
    #: bridge port: its port number (``port_no 0x1``), the lowest free one.
    port_no: int = 0
    #: netif_carrier_ok() as last reported, and dev->operstate computed then:
    #: the kernel recomputes operstate only when carrier changes, so it can go
    #: stale (shown while the link is up; an admin-down link shows DOWN).
    carrier_ok: bool = True
    oper: str = "UNKNOWN"
    #: The device's multicast list (``bridge fdb show`` ``self permanent`` lines), in order.
    mc: tuple[str, ...] = ()
    #: `ip link set X arp off` (IFF_NOARP) and `multicast off` (IFF_MULTICAST cleared) on a veth or bridge.
    noarp: bool = False
    nomulticast: bool = False
    allmulti: bool = False  # `allmulticast on` (IFF_ALLMULTI)
    #: bridge port options (`bridge link set dev X learning off | flood off`).
    learning: bool = True
    flood: bool = True

    def evolve(self, **changes) -> "Link":
        """``dataclasses.replace()``, several times faster (apply() calls it a lot)."""
        g = changes.get
        return Link(g("ifindex", self.ifindex), g("ifname", self.ifname), g("kind", self.kind),
                    g("mac", self.mac), g("mtu", self.mtu), g("up", self.up), g("txqlen", self.txqlen),
                    g("peer", self.peer), g("master", self.master), g("mac_set", self.mac_set),
                    g("addr_assign_type", self.addr_assign_type), g("hairpin", self.hairpin),
                    g("promisc", self.promisc), g("alias", self.alias), g("activated", self.activated),
                    g("v6_ready", self.v6_ready), g("had_ports", self.had_ports), g("mtu_set", self.mtu_set),
                    g("port_no", self.port_no), g("carrier_ok", self.carrier_ok), g("oper", self.oper),
                    g("mc", self.mc), g("noarp", self.noarp), g("nomulticast", self.nomulticast),
                    g("allmulti", self.allmulti), g("learning", self.learning), g("flood", self.flood))


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
    """A route a user or an address added, in table main or another one (``ip route``)."""

    dst: str  # "default" or "10.0.0.0/24"
    dev: int  # ifindex of the output link
    family: int = 4
    via: str | None = None
    proto: str = "boot"  # "kernel" for connected routes, "boot" for `ip route add`
    scope: str = "global"  # "link" for connected routes
    src: str | None = None
    metric: int | None = None
    onlink: bool = False
    #: rtm_type: "unicast", or "blackhole" / "unreachable" / "prohibit" / "throw" (no device: dev 0).
    type: str = "unicast"
    #: The routing table's id (254 is main; 255, local, is derived and never stored).
    table: int = 254


@dataclass(frozen=True, slots=True)
class Rule:
    """A policy routing rule (``ip rule``): which packets look up which table, by priority."""

    pref: int
    family: int = 4
    #: The table looked up (255 local, 254 main, 253 default); 0 when none was given.
    table: int = 254
    #: "lookup" (FR_ACT_TO_TBL), or "blackhole" / "unreachable" / "prohibit".
    action: str = "lookup"
    src: str | None = None  # "10.0.0.0/24"; None: from all
    dst: str | None = None
    iif: str | None = None  # a device name: a rule outlives its device ("[detached]")
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None  # None: all 32 bits
    invert: bool = False  # `not`
    #: Who made it (`ip -d rule`): "kernel" for a namespace's own rules, else "unspec".
    proto: str = "unspec"


#: The rules a new namespace starts with (fib_default_rules_init(), IPv4 and IPv6).
DEFAULT_RULES = tuple(Rule(pref, family, table, proto="kernel") for family, pref, table in
                      ((4, 0, 255), (4, 32766, 254), (4, 32767, 253), (6, 0, 255), (6, 32766, 254)))


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
    #: The IPv4 table local exists: made by the first IPv4 address, never removed
    #: (an ``onlink`` gateway is looked up there; without it the gateway is invalid).
    local_table: bool = False
    #: The numbered routing tables made so far (a table is made by its first route, never removed).
    tables: tuple[int, ...] = ()
    #: Policy routing rules, IPv4 then IPv6, each in the kernel's order (by priority).
    rules: tuple[Rule, ...] = DEFAULT_RULES
    #: An IPv4 rule was ever added or deleted: the kernel then looks up table local and main
    #: apart, and `ip route get` names table local (fib_has_custom_rules never goes back).
    custom_rules: bool = False
    #: iptables' packet and byte counters (see simlab.model.xt_counters): beside the rules,
    #: not part of the value (a kernel snapshot reads rules without them).
    xt_counts: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict, compare=False)

    #: name -> ifindex, built on first use and carried forward by ``with_links``
    #: (not part of the value: two equal snapshots may differ here).
    _by_name: dict | None = field(default=None, init=False, repr=False, compare=False)

    def link(self, ifname: str) -> Link | None:
        index = self._names().get(ifname)
        return None if index is None else self.links.get(index)

    def _names(self) -> dict:
        names = self._by_name
        if names is None:
            names = {l.ifname: i for i, l in self.links.items()}
            object.__setattr__(self, "_by_name", names)
        return names

    def with_links(self, *links: Link, drop: tuple[int, ...] = (), own_index: bool = False) -> "Netns":
        """A copy with ``links`` added or replaced and ``drop`` removed (indexes kept in step).

        ``own_index``: give the copy its own name index even when no name changes
        (apply's transaction then updates both tables in place).
        """
        table = dict(self.links)
        names = self._names()
        copied = False
        if own_index:
            names, copied = dict(names), True
        for index in drop:
            old = table.pop(index, None)
            if old is not None and names.get(old.ifname) == index:
                if not copied:
                    names, copied = dict(names), True
                del names[old.ifname]
        for link in links:
            old = table.get(link.ifindex)
            table[link.ifindex] = link
            if old is not None and old.ifname == link.ifname:
                continue  # the name index can be shared: it is never changed in place
            if not copied:
                names, copied = dict(names), True
            if old is not None and names.get(old.ifname) == link.ifindex:
                del names[old.ifname]
            names[link.ifname] = link.ifindex
        new = Netns(self.name, table, self.addrs, self.routes, self.neighs, self.fdb, self.sysctls,
                    self.iptables, self.next_ifindex, self.nsids, self.local_table, self.tables,
                    self.rules, self.custom_rules, self.xt_counts)
        object.__setattr__(new, "_by_name", names)
        return new

    def evolve(self, **changes) -> "Netns":
        """``replace()`` for anything but the links, keeping the name index (faster too)."""
        new = Netns(changes.get("name", self.name), self.links, changes.get("addrs", self.addrs),
                    changes.get("routes", self.routes), changes.get("neighs", self.neighs),
                    changes.get("fdb", self.fdb), changes.get("sysctls", self.sysctls),
                    changes.get("iptables", self.iptables), changes.get("next_ifindex", self.next_ifindex),
                    changes.get("nsids", self.nsids), changes.get("local_table", self.local_table),
                    changes.get("tables", self.tables), changes.get("rules", self.rules),
                    changes.get("custom_rules", self.custom_rules),
                    changes.get("xt_counts", self.xt_counts))
        object.__setattr__(new, "_by_name", self._by_name)
        return new

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
