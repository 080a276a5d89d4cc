"""``apply(state, op)``: the kernel's rules, as one pure function.

Rules enforced here (each one seen on a real kernel, see tests/golden):
- a new netns holds only ``lo``, DOWN, ifindex 1 (plus tunnel fallbacks when
  their modules are loaded); ifindexes are allocated per namespace and never
  reused (the counter only grows);
- a veth pair registers its *peer* first, so the peer gets the lower ifindex;
  a name left out is the first free ``veth%d`` / ``bridge%d`` (peer first);
- deleting either end of a veth deletes the pair; deleting a netns deletes its
  links and the veth peers they had elsewhere;
- moving a link to another netns sets it down, drops its addresses and routes,
  removes it from its bridge, resets its qdisc and keeps its ifindex unless
  that is taken there; ``lo`` and bridges cannot move;
- a link's first ``up`` attaches its qdisc (``noqueue`` stays after ``down``);
  ``up`` joins the IPv4 (and a bridge's snooping) multicast groups ``bridge
  fdb`` lists as ``self permanent``, the IPv6 ones (ff02::1, solicited-node)
  follow IPv6 (registration, then carrier); ``down`` leaves them, the IPv6
  ones only if IPv6 had come up;
- addrconf: the first time a link is up *with carrier* it gets its IPv6
  link-local address (EUI-64 of the MAC of that moment; ``lo`` gets ``::1``);
  ``down`` removes every IPv6 address of the link; losing carrier keeps them;
- IPv4: a second address in the subnet of a primary is ``secondary`` and goes
  to the end of the list; deleting a primary deletes its secondaries; a primary
  on an up link adds its connected route (``proto kernel scope link src A``);
  ``down`` removes every route through the link and ``up`` restores only the
  connected ones; deleting the last IPv4 address removes every route through it;
- a gateway must be reachable through a connected route (unless ``onlink``);
  a route without gateway needs its device up;
- a bridge takes the lowest MAC of its ports until one is set by hand, and
  falls back to 00:00:00:00:00:00 when the last port leaves; its MTU follows
  the smallest port until set by hand; before its first port an up bridge
  has carrier, afterwards only while a port forwards (STP off: a port forwards
  while it and the bridge are up and it has carrier);
- a forwarding port learns the MAC of its veth peer once that peer has IPv6
  up (it sends MLD reports and router solicitations for ~10 s; a port that
  starts forwarding later than that learns nothing on a real kernel, the
  model still does); a port that stops forwarding forgets what it learnt;
- operstate is recomputed only when a link's carrier changes (linkwatch, once
  the command is done), by derive.oper_on_carrier_change(); it goes stale
  otherwise, as on the kernel.
Failures raise :class:`NetError` with the kernel's errno and iproute2's text
(a message ending in a newline is iproute2's complete stderr).  ``apply``
never mutates its input and a failing operation changes nothing (the kernel
may burn an ifindex on a failed veth add; the model does not).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
from contextvars import ContextVar
from dataclasses import replace
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, eq, ne
from typing import Callable

from . import derive
from . import ops as o
from .errors import NetError, say
from .learn import fdb_learn
from .ping import ping as _ping
from .state import ROOT, Addr, FdbEntry, Link, NetState, Netns, Route, new_netns

__all__ = ["apply", "apply_all", "parse_mac", "check_ifname", "check_name_arg", "invarg", "ALL_NODES"]

IFNAMSIZ = 16  # including the terminating NUL: 15 visible characters
_MAC_RE = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_MTU_LIMITS = {"veth": (68, 65535), "bridge": (68, 65535), "loopback": (0, 0)}
ZERO_MAC = "00:00:00:00:00:00"
ETHER_KINDS = ("veth", "bridge")
#: Multicast MACs of the groups a device joins: ff02::1 (from registration),
#: 224.0.0.1 (when up) and, on a bridge, the IGMP/MLD snoopers' 224.0.0.106 / ff02::6a.
ALL_NODES = "33:33:00:00:00:01"
ALL_HOSTS = "01:00:5e:00:00:01"
SNOOPERS = ("01:00:5e:00:00:6a", "33:33:00:00:00:6a")
_V4_SCOPE = {"global": 0, "site": 200, "link": 253, "host": 254}
#: Carrier changes of the operation being applied, as (namespace key, ifindex):
#: linkwatch recomputes their operstate once the command is done.
_PENDING: ContextVar[list | None] = ContextVar("simlab_linkwatch", default=None)
#: Containers the running apply() created (id -> object).  They are private to
#: it until it returns, so it updates them in place instead of copying a
#: node's thousands of links on every step; anything it was given is copied first.
_OWNED: ContextVar[dict | None] = ContextVar("simlab_owned", default=None)


def _owned(obj) -> bool:
    owned = _OWNED.get()
    return owned is not None and owned.get(id(obj)) is obj


def _own(obj):
    owned = _OWNED.get()
    if owned is not None:
        owned[id(obj)] = obj
    return obj


def apply(state: NetState, op: o.Op) -> NetState:
    """Carry out one operation on a snapshot; return the new snapshot.

    >>> from simlab.model.state import new_state
    >>> s = apply(new_state(), o.NetnsAdd("red"))
    >>> sorted(s.netns)
    ['', 'red']
    """
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise TypeError(f"not an operation: {op!r}")
    token = _PENDING.set([])
    owned = _OWNED.set({})
    try:
        return _linkwatch(handler(state, op), _PENDING.get())
    finally:
        _OWNED.reset(owned)
        _PENDING.reset(token)


def apply_all(state: NetState, ops) -> NetState:
    """Apply several operations in order; all or nothing."""
    for op in ops:
        state = apply(state, op)
    return state


# --------------------------------------------------------------------- helpers
def _ns(state: NetState, key: str) -> Netns:
    ns = state.netns.get(key)
    if ns is None:
        raise NetError.no_netns(key)
    return ns


def _link(ns: Netns, ifname: str) -> Link:
    link = ns.link(ifname)
    if link is None:
        raise NetError.no_device(ifname)
    return link


def _with_ns(state: NetState, *namespaces: Netns) -> NetState:
    table = state.netns
    if not _owned(table):
        table = _own(dict(table))
    for ns in namespaces:
        table[ns.name] = ns
    return NetState(table, state.seed, state.counter, state.tunnels)


def _with_links(ns: Netns, *links: Link, drop: tuple[int, ...] = ()) -> Netns:
    """``ns.with_links()``; in place when this apply() made the namespace's tables."""
    table = ns.links
    if not _owned(table):
        new = ns.with_links(*links, drop=drop)
        _own(new.links)
        return new
    names = ns._names()
    if not _owned(names):
        names = _own(dict(names))
        object.__setattr__(ns, "_by_name", names)
    for index in drop:
        old = table.pop(index, None)
        if old is not None and names.get(old.ifname) == index:
            del names[old.ifname]
    for link in links:
        old = table.get(link.ifindex)
        table[link.ifindex] = link
        if old is not None and old.ifname != link.ifname and names.get(old.ifname) == link.ifindex:
            del names[old.ifname]
        names[link.ifname] = link.ifindex
    return ns


def _nsr(ns: Netns, **changes) -> Netns:
    """``replace`` for a namespace whose links do not change (keeps the name index)."""
    return ns.evolve(**changes)


def invarg(arg: str, what: str, hint: str = "") -> NetError:
    """iproute2's ``invarg()``: ``Error: argument "ARG" is wrong: WHAT`` (exit 255).

    iproute2 passes some messages with their own newline ("Device does not
    exist\\n"), which prints a blank line: such a ``what`` ends in ``\\n``.
    """
    text = f'Error: argument "{arg}" is wrong: {what}'
    if text.endswith("\n"):
        text += "\n"  # the complete stderr, blank line included
    return NetError(text, errno=errno.EINVAL, exit=255, hint=hint)


def check_ifname(name: str) -> None:
    """The kernel's checks of a device name: 1 to 15 characters, no '/', ':' or space."""
    if len(name) >= IFNAMSIZ:
        raise NetError.extack(
            "Attribute failed policy validation",
            errno.ERANGE,  # nla_validate(): an NLA_STRING longer than its policy's maximum
            hint=say(f"interface names are at most 15 characters; {name!r} has {len(name)}",
                     f"インターフェース名は最大 15 文字です。{name!r} は {len(name)} 文字あります"),
        )
    if not name or name in (".", "..") or any(c in name for c in "/:") or any(c.isspace() for c in name):
        raise NetError.rtnl(errno.EINVAL,
                            hint=say("use letters, digits, '-', '_' or '.', 1 to 15 characters",
                                     "英字、数字、'-'、'_'、'.' を使い、1 から 15 文字にしてください"))


def parse_mac(text: str) -> str:
    """iproute2's ll_addr_a2n(): colon-separated hex bytes; the first bad one is named.

    Six bytes give ``xx:xx:xx:xx:xx:xx``; another count is for the kernel to
    refuse (EINVAL: an Ethernet address has six).
    """
    out = []
    for part in text.split(":"):
        m = re.match(r"\s*(?:0[xX])?([0-9a-fA-F]+)", part)
        if m is None or int(m.group(1), 16) > 255:
            raise NetError(f'"{part}" is invalid lladdr.', errno=errno.EINVAL, exit=1,
                           hint=say("a MAC is six hex bytes separated by colons, e.g. 02:42:ac:11:00:02",
                                    "MAC アドレスはコロンで区切った 6 バイトの 16 進数です "
                                    "(例: 02:42:ac:11:00:02)"))
        out.append(int(m.group(1), 16))
    if len(out) != 6:
        raise NetError.rtnl(errno.EINVAL, hint=say("a MAC is six bytes, e.g. 02:42:ac:11:00:02",
                                                   "MAC アドレスは 6 バイトです (例: 02:42:ac:11:00:02)"))
    return ":".join(f"{b:02x}" for b in out)


def check_name_arg(name: str) -> None:
    """iproute2's check_ifname() for ``name X`` / ``peer name X``, before the kernel sees it."""
    if not name or len(name) >= IFNAMSIZ or "/" in name or any(c.isspace() for c in name):
        raise invarg(name, '"name" not a valid ifname',
                     hint=say("interface names are 1 to 15 characters, without '/' or spaces",
                              "インターフェース名は 1 から 15 文字で、'/' や空白は使えません"))


def _unicast_mac(text: str) -> str:
    """A MAC a device may carry: parsed, not multicast, not all zeros."""
    mac = parse_mac(text)
    if int(mac[:2], 16) & 1 or mac == ZERO_MAC:
        raise NetError.rtnl(errno.EADDRNOTAVAIL,
                            hint=say("a link's MAC must be unicast (first byte even) and not all zeros",
                                     "リンクの MAC アドレスはユニキャスト (先頭バイトが偶数) で、"
                                     "すべて 0 以外である必要があります"))
    return mac


def _alloc_index(ns: Netns, wanted: int | None = None) -> tuple[int, Netns]:
    """Per-netns ifindex: keep ``wanted`` if free, else the namespace's next one."""
    if wanted is not None and wanted not in ns.links:
        return wanted, ns
    index = ns.next_ifindex
    while index in ns.links:
        index += 1
    return index, _nsr(ns, next_ifindex=index + 1)


def _assign_nsid(ns: Netns, other: str) -> Netns:
    """Give ``other`` an nsid as seen from ``ns`` (the smallest free one)."""
    if other == ns.name or other in ns.nsids:
        return ns
    used = set(ns.nsids.values())
    nsid = len(used) if len(used) == max(used, default=-1) + 1 else 0
    while nsid in used:
        nsid += 1
    return _nsr(ns, nsids={**ns.nsids, other: nsid})


def _link_nsids(state: NetState, a: str, b: str) -> NetState:
    if a == b:
        return state
    return _with_ns(state, _assign_nsid(state.netns[a], b), _assign_nsid(state.netns[b], a))


def _free_name(ns: Netns, prefix: str, also: str | None = None) -> str:
    n = 0
    while ns.link(f"{prefix}{n}") is not None or f"{prefix}{n}" == also:
        n += 1
    return f"{prefix}{n}"


def _mc_add(link: Link, *macs: str) -> Link:
    new = link.mc + tuple(m for m in macs if m not in link.mc)
    return link if new == link.mc else link.evolve(mc=new)


@lru_cache(maxsize=4096)
def _solicited(address: str) -> str:
    """MAC of the IPv6 solicited-node group of ``address`` (33:33:ff + its last 24 bits)."""
    tail = ipaddress.IPv6Address(address).packed[-3:]
    return "33:33:ff:" + ":".join(f"{b:02x}" for b in tail)


# Scans at C speed (a node has thousands of links and addresses; see benchmarks/).
_IFINDEX = attrgetter("ifindex")
_MASTER = attrgetter("master")
_PORT_NO = attrgetter("port_no")
_MAC = attrgetter("mac")
_ADDRESS = attrgetter("address")


def _where(items, getter, value) -> list:
    """The items whose ``getter(item) == value``, in order."""
    return list(compress(items, map(eq, map(getter, items), repeat(value))))


def _positions(items, getter, value) -> list[int]:
    return list(compress(range(len(items)), map(eq, map(getter, items), repeat(value))))


def _without(items, getter, value) -> tuple:
    return tuple(compress(items, map(ne, map(getter, items), repeat(value))))


def _mac_key(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


# ---------------------------------------------------------------- bridges
def _ports(ns: Netns, bridge_index: int) -> list[Link]:
    return _where(ns.links.values(), _MASTER, bridge_index)


def _recompute_bridge(ns: Netns, bridge_index: int, added: Link | None = None, others: bool = False) -> Netns:
    """Bridge MAC follows its lowest port MAC until set; MTU follows the smallest port.

    ``added``: the port just enslaved, when nothing else changed, and whether
    the bridge had ``others`` (saves a scan of the links).
    """
    bridge = ns.links.get(bridge_index)
    if bridge is None or bridge.kind != "bridge":
        return ns
    if added is not None:
        mac = min(bridge.mac, added.mac, key=_mac_key) if others else added.mac
        mtu = min(bridge.mtu, added.mtu) if others else added.mtu
    else:
        ports = _ports(ns, bridge_index)
        mac = min((p.mac for p in ports), default=ZERO_MAC, key=_mac_key)
        mtu = min((p.mtu for p in ports), default=bridge.mtu)
    changes = {}
    if not bridge.mac_set and mac != bridge.mac:
        changes["mac"] = mac
    if not bridge.mtu_set and mtu != bridge.mtu:
        changes["mtu"] = mtu
    return _with_links(ns, bridge.evolve(**changes)) if changes else ns


def _enslave(ns: Netns, link: Link, bridge: Link) -> tuple[Netns, Link]:
    ports = _ports(ns, bridge.ifindex)
    used = set(map(_PORT_NO, ports))
    port_no = min(set(range(1, len(used) + 2)) - used)  # the lowest free one
    link = link.evolve(master=bridge.ifindex, port_no=port_no)
    ns = _with_links(ns, link)
    if not bridge.had_ports:
        ns = _with_links(ns, bridge.evolve(had_ports=True))
    return _recompute_bridge(ns, bridge.ifindex, added=link, others=bool(ports)), link


def _release(ns: Netns, link: Link) -> tuple[Netns, Link]:
    """br_del_if(): the port leaves its bridge and the bridge forgets it."""
    bridge_index = link.master
    link = link.evolve(master=None, port_no=0, hairpin=False)
    ns = _with_links(ns, link)
    if link.ifindex in map(_IFINDEX, ns.fdb):
        ns = _nsr(ns, fdb=_without(ns.fdb, _IFINDEX, link.ifindex))
    return _recompute_bridge(ns, bridge_index), link


# ------------------------------------------------------------- addresses
def _v4_of(ns: Netns, index: int) -> list[tuple[int, Addr, bool]]:
    """(position in ns.addrs, address, secondary) of a link's IPv4 addresses, in order."""
    out: list[tuple[int, Addr, bool]] = []
    primaries: list[Addr] = []
    for pos in _positions(ns.addrs, _IFINDEX, index):
        a = ns.addrs[pos]
        if a.family != 4:
            continue
        secondary = any(p.prefixlen == a.prefixlen and _same_net(p, a) for p in primaries)
        if not secondary:
            primaries.append(a)
        out.append((pos, a, secondary))
    return out


@lru_cache(maxsize=4096)
def _network(cidr: str):
    return ipaddress.ip_interface(cidr).network


def _same_net(a: Addr, b: Addr) -> bool:
    return _network(a.cidr) == _network(b.cidr)


def _insert_v4(ns: Netns, addr: Addr) -> Netns:
    """__inet_insert_ifa(): a secondary goes last, a primary after the last primary."""
    mine = _v4_of(ns, addr.ifindex)
    secondary = any(not sec and a.prefixlen == addr.prefixlen and _same_net(a, addr) for _, a, sec in mine)
    if secondary:
        pos = mine[-1][0] + 1
    else:
        prim = [p for p, a, sec in mine
                if not sec and _V4_SCOPE.get(addr.scope, 0) <= _V4_SCOPE.get(a.scope, 0)]
        pos = prim[-1] + 1 if prim else (mine[0][0] if mine else len(ns.addrs))
    return _nsr(ns, addrs=ns.addrs[:pos] + (addr,) + ns.addrs[pos:])


@lru_cache(maxsize=4096)
def v6_src_scope(address: str) -> int:
    """ipv6_addr_src_scope(): 1 node-local (::1), 2 link-local, 5 site, 14 global."""
    ip = ipaddress.IPv6Address(address)
    if ip.is_loopback:
        return 1
    if ip.is_link_local:
        return 2
    if ip.is_site_local:
        return 5
    return 14


def _insert_v6(ns: Netns, addr: Addr) -> Netns:
    """ipv6_link_dev_addr(): ordered by scope, global first; newest first within a scope."""
    if addr.ifindex not in map(_IFINDEX, ns.addrs):
        return _nsr(ns, addrs=ns.addrs + (addr,))
    scope = v6_src_scope(addr.address)
    mine = _positions(ns.addrs, _IFINDEX, addr.ifindex)
    pos = None
    for p in mine:
        a = ns.addrs[p]
        if a.family == 6 and scope >= v6_src_scope(a.address):
            pos = p
            break
    if pos is None:
        # After the link's last IPv6 address; a link's first one goes to the end,
        # so the tuple keeps the order in which links got IPv6 (fib6 order).
        v6 = [p for p in mine if ns.addrs[p].family == 6]
        pos = v6[-1] + 1 if v6 else len(ns.addrs)
    return _nsr(ns, addrs=ns.addrs[:pos] + (addr,) + ns.addrs[pos:])


def _connected_route(link: Link, addr: Addr) -> Route | None:
    """fib_add_ifaddr(): the prefix route of a primary IPv4 address (lo's goes to table local)."""
    if addr.family != 4 or link.kind == "loopback" or addr.prefixlen >= 32:
        return None
    net = _network(addr.cidr)
    return Route(dst=str(net), dev=addr.ifindex, proto="kernel", scope="link", src=addr.address)


def _add_connected(ns: Netns, link: Link) -> Netns:
    if link.ifindex not in map(_IFINDEX, ns.addrs):
        return ns
    routes = list(ns.routes)
    for _, addr, secondary in _v4_of(ns, link.ifindex):
        route = None if secondary else _connected_route(link, addr)
        if route is not None and not any(r.dst == route.dst and r.dev == link.ifindex
                                         and r.proto == "kernel" for r in routes):
            routes.append(route)
    return _nsr(ns, routes=tuple(routes)) if len(routes) != len(ns.routes) else ns


# --------------------------------------------------------- kernel reactions
def _sync(state: NetState, key: str, index: int) -> NetState:
    """Re-check what follows from carrier: the link, its peer, then their bridges."""
    ns = state.netns.get(key)
    link = ns.links.get(index) if ns else None
    if link is None:
        return state
    order = [(key, index)]
    if link.peer is not None:
        order.append(link.peer)
    for k, i in list(order):
        other = state.netns.get(k)
        other_link = other.links.get(i) if other else None
        if other_link is not None and other_link.master is not None:
            order.append((k, other_link.master))
    done = set()
    for k, i in order:
        if (k, i) not in done:
            done.add((k, i))
            state = _sync_one(state, k, i)
    return state


def _sync_one(state: NetState, key: str, index: int) -> NetState:
    ns = state.netns.get(key)
    link = ns.links.get(index) if ns else None
    if link is None:
        return state
    carrier_bit = derive.netif_carrier(state, ns, link)
    if carrier_bit != link.carrier_ok:
        # A carrier change queues a linkwatch event (the only thing that recomputes operstate).
        link = link.evolve(carrier_ok=carrier_bit)
        ns = _with_links(ns, link)
        state = _with_ns(state, ns)
        pending = _PENDING.get()
        if pending is not None and (key, index) not in pending:
            pending.append((key, index))
    if link.up and not link.v6_ready and carrier_bit:
        # addrconf_dev_config(): IF_READY, and the link-local address (DAD is off in the lab).
        link = link.evolve(v6_ready=True)
        new = None
        if link.kind == "loopback":
            new = Addr(index, 6, "::1", 128, scope="host")
        elif link.kind in ETHER_KINDS and link.mac != ZERO_MAC:
            new = Addr(index, 6, derive.eui64_link_local(link.mac), 64, scope="link")
        if link.kind in ETHER_KINDS:
            # ipv6_mc_up(): ff02::1 and the solicited-node groups of the addresses it has.
            link = _mc_add(link, ALL_NODES, *(_solicited(a.address) for a in _where(ns.addrs, _IFINDEX, index)
                                              if a.family == 6))
        if new is not None and (new.address not in map(_ADDRESS, ns.addrs) or not any(
                a.address == new.address for a in _where(ns.addrs, _IFINDEX, index))):
            ns = _insert_v6(ns, new)
            if link.kind in ETHER_KINDS:
                link = _mc_add(link, _solicited(new.address))
        state = _with_ns(state, _with_links(ns, link))
        state = _heard(state, link)
    if link.master is not None:
        state = _learn(state, key, link)
    return state


def _learn(state: NetState, key: str, port: Link) -> NetState:
    """A port that stops forwarding forgets what it learnt (br_fdb_delete_by_port());
    one that forwards learns its peer's MAC if the peer has IPv6 up (it is still
    soliciting routers: the RS goes out 1, 5 and 9 s after it got IPv6)."""
    ns = state.netns[key]
    if derive.port_state(state, ns, port) == "forwarding":
        other = derive.peer_link(state, port)
        if other is not None and other[1].up and other[1].v6_ready:
            return _heard(state, other[1])
        return state
    if port.ifindex not in map(_IFINDEX, ns.fdb):
        return state
    return _with_ns(state, _nsr(ns, fdb=_without(ns.fdb, _IFINDEX, port.ifindex)))


def _heard(state: NetState, sender: Link) -> NetState:
    """``sender`` just got IPv6 (it sends MLD reports and a router solicitation):
    if its veth peer is a forwarding bridge port, the bridge learns its MAC there."""
    other = derive.peer_link(state, sender)
    if other is None or other[1].master is None:
        return state
    key, port = other
    ns = state.netns[key]
    if derive.port_state(state, ns, port) != "forwarding" or port.master not in ns.links:
        return state
    return fdb_learn(state, key, port.ifindex, sender.mac)


def _linkwatch(state: NetState, pending: list) -> NetState:
    """linkwatch_do_dev() after the command (RTNL held until then): each queued
    link's operstate, in event order, from the state the command left."""
    for key, index in pending:
        ns = state.netns.get(key)
        link = ns.links.get(index) if ns else None
        if link is None:
            continue
        oper = derive.oper_on_carrier_change(ns, link, link.carrier_ok)
        if oper != link.oper:
            state = _with_ns(state, _with_links(ns, link.evolve(oper=oper)))
    return state


def _set_up(state: NetState, key: str, index: int, up: bool) -> NetState:
    ns = state.netns[key]
    link = ns.links[index]
    if up:
        link = link.evolve(up=True, activated=True)
        if link.kind in ETHER_KINDS:
            # br_dev_open() joins the snoopers' groups, ip_mc_up() 224.0.0.1; the IPv6
            # groups come back with ipv6_mc_up(), once the link has carrier (_sync_one).
            link = _mc_add(link, *(SNOOPERS if link.kind == "bridge" else ()), ALL_HOSTS)
        ns = _with_links(ns, link)
        if link.kind == "loopback" and not any(a.address == "127.0.0.1" and a.prefixlen == 8
                                               for _, a, _s in _v4_of(ns, index)):
            ns = _insert_v4(ns, Addr(index, 4, "127.0.0.1", 8, scope="host"))
        ns = _add_connected(ns, link)
        state = _with_ns(state, ns)
        if link.kind == "bridge":
            for port in _ports(ns, index):
                state = _sync_one(state, key, port.ifindex)
    else:
        # dev_close(): routes through the link go, addrconf_ifdown() drops IPv6
        # addresses, ip_mc_down()/ipv6_mc_down() leave every group.
        # ip_mc_down() and br_dev_stop() leave their groups; ipv6_mc_down() leaves the
        # IPv6 ones only if IPv6 had come up (ff02::1 stays from registration otherwise).
        v6_groups = () if link.v6_ready else tuple(m for m in link.mc if m.startswith("33:33:")
                                                    and m not in SNOOPERS)
        link = link.evolve(up=False, v6_ready=False, mc=v6_groups)
        ns = _with_links(ns, link)
        ns = _nsr(ns,
                  addrs=tuple(a for a in ns.addrs if a.ifindex != index or a.family != 6)
                  if index in map(_IFINDEX, ns.addrs) else ns.addrs,
                  routes=tuple(r for r in ns.routes if r.dev != index),
                  neighs=tuple(n for n in ns.neighs if n.ifindex != index))
        if link.kind == "bridge":
            ports = {p.ifindex for p in _ports(ns, index)}
            ns = _nsr(ns, fdb=tuple(f for f in ns.fdb if f.ifindex not in ports))
        state = _with_ns(state, ns)
    return _sync(state, key, index)


# ------------------------------------------------------------- removal
def _remove_link(state: NetState, key: str, index: int) -> NetState:
    """Unregister one device: its state goes, its bridge forgets it, ports are freed."""
    ns = state.netns[key]
    link = ns.links[index]
    ns = _nsr(
        ns,
        addrs=tuple(a for a in ns.addrs if a.ifindex != index),
        routes=tuple(r for r in ns.routes if r.dev != index),
        neighs=tuple(n for n in ns.neighs if n.ifindex != index),
        fdb=tuple(f for f in ns.fdb if f.ifindex != index),
    )
    ns = _with_links(ns, drop=(index,))
    if link.kind == "bridge":
        freed = [l.evolve(master=None, port_no=0, hairpin=False)
                 for l in ns.links.values() if l.master == index]
        if freed:
            ns = _with_links(ns, *freed)
            gone = {l.ifindex for l in freed}
            ns = _nsr(ns, fdb=tuple(f for f in ns.fdb if f.ifindex not in gone))
    if link.master is not None:
        ns = _recompute_bridge(ns, link.master)
    state = _with_ns(state, ns)
    if link.master is not None:
        state = _sync_one(state, key, link.master)
    return state


def _remove_device(state: NetState, key: str, index: int) -> NetState:
    """Delete a device; a veth takes its peer with it."""
    link = state.netns[key].links[index]
    state = _remove_link(state, key, index)
    if link.peer is not None:
        pkey, pindex = link.peer
        if pkey in state.netns and pindex in state.netns[pkey].links:
            state = _remove_link(state, pkey, pindex)
    return state


# ------------------------------------------------------------------- handlers
def _netns_add(state: NetState, op: o.NetnsAdd) -> NetState:
    if not op.name or "/" in op.name or op.name in (".", ".."):
        raise NetError(f'Invalid netns name "{op.name}"', errno=errno.EINVAL, exit=255,
                       hint=say("a namespace name is a plain word such as red or web",
                                "名前空間の名前は red や web のような単純な単語にしてください"))
    if op.name in state.netns:
        raise NetError(
            f'Cannot create namespace file "/run/netns/{op.name}": File exists',
            errno=errno.EEXIST, exit=1,
            hint=say(f"namespace {op.name!r} already exists; pick another name or delete it first",
                     f"名前空間 {op.name!r} はすでにあります。別の名前にするか、先に削除してください"),
        )
    return _with_ns(state, new_netns(op.name, state.tunnels))


def _netns_del(state: NetState, op: o.NetnsDel) -> NetState:
    if op.name not in state.netns or op.name == ROOT:
        raise NetError(
            f'Cannot remove namespace file "/run/netns/{op.name}": No such file or directory',
            errno=errno.ENOENT, exit=1,
            hint=say("list the namespaces with `ip netns`", "名前空間の一覧は `ip netns` で見られます"),
        )
    ns = state.netns[op.name]
    for link in list(ns.links.values()):
        if link.peer is not None and link.peer[0] != op.name:
            pkey, pindex = link.peer
            if pkey in state.netns and pindex in state.netns[pkey].links:
                state = _remove_link(state, pkey, pindex)
    table = {}
    for k, v in state.netns.items():
        if k == op.name:
            continue
        table[k] = _nsr(v, nsids={n: i for n, i in v.nsids.items() if n != op.name}) if op.name in v.nsids else v
    return replace(state, netns=table)


def _link_add(state: NetState, op: o.LinkAdd) -> NetState:
    ns = _ns(state, op.netns)
    if op.peer_netns is not None and op.peer_netns not in state.netns:
        raise invarg(op.peer_netns, 'Invalid "netns" value\n',
                     hint=say(f"create it first with `ip netns add {op.peer_netns}`",
                              f"先に `ip netns add {op.peer_netns}` で作成してください"))
    mac = parse_mac(op.mac) if op.mac else None
    peer_mac = parse_mac(op.peer_mac) if op.peer_mac else None
    if op.ifname:
        check_ifname(op.ifname)
    if op.peer:
        check_name_arg(op.peer)  # `peer name X` is checked by ip itself
        check_ifname(op.peer)
    if op.ifname and ns.link(op.ifname) is not None:
        raise NetError.rtnl(errno.EEXIST, hint=say(f"a link called {op.ifname!r} already exists here",
                                                   f"ここにはすでに {op.ifname!r} という名前の"
                                                   "リンクがあります"))
    if op.kind not in ("veth", "bridge"):
        raise NetError.extack("Unknown device type", errno.EOPNOTSUPP,
                              hint=say("simlab models link types veth and bridge",
                                       "simlab が扱えるリンクの種類は veth と bridge です"))
    if mac is not None:
        mac = _unicast_mac(mac)
    if peer_mac is not None:
        peer_mac = _unicast_mac(peer_mac)
    mtu = op.mtu or 1500
    if op.mtu is not None:
        _check_mtu(op.kind, op.mtu)
    if op.kind == "bridge":
        name = op.ifname or _free_name(ns, "bridge")
        if mac is None:
            mac, state = state.next_mac()
        index, ns = _alloc_index(state.netns[op.netns])
        # An MTU given at creation is not "set by the user" (BROPT_MTU_SET_BY_USER
        # is set only by br_change_mtu()): the bridge still follows its ports.
        link = Link(index, name, "bridge", mac, mtu=mtu, mac_set=op.mac is not None,
                    addr_assign_type=3 if op.mac else 1, mc=(ALL_NODES,))
        return _with_ns(state, _with_links(ns, link))
    # veth: the peer is registered first, in its own namespace.
    pkey = op.netns if op.peer_netns is None else op.peer_netns
    pns = state.netns[pkey]
    peer_name = op.peer or _free_name(pns, "veth")
    if pns.link(peer_name) is not None:
        raise NetError.rtnl(errno.EEXIST, hint=say(f"a link called {peer_name!r} already exists there",
                                                   f"対向側の名前空間にはすでに {peer_name!r} という名前の"
                                                   "リンクがあります"))
    name = op.ifname or _free_name(ns, "veth", also=peer_name if pkey == op.netns else None)
    if pkey == op.netns and peer_name == name:
        raise NetError.rtnl(errno.EEXIST, hint=say("the two ends of a veth pair need different names",
                                                   "veth ペアの両端には別々の名前が必要です"))
    if peer_mac is None:
        peer_mac, state = state.next_mac()
    if mac is None:
        mac, state = state.next_mac()
    pindex, pns = _alloc_index(state.netns[pkey])
    state = _with_ns(state, pns)
    index, ns = _alloc_index(state.netns[op.netns])
    link = Link(index, name, "veth", mac, mtu=mtu, peer=(pkey, pindex),
                addr_assign_type=3 if op.mac else 1, mc=(ALL_NODES,), carrier_ok=False, oper="DOWN")
    peer = Link(pindex, peer_name, "veth", peer_mac, peer=(op.netns, index),
                addr_assign_type=3 if op.peer_mac else 1, mc=(ALL_NODES,), carrier_ok=False, oper="DOWN")
    # veth_newlink() turns both carriers off: linkwatch computes each operstate,
    # the peer first, while the other end does not count as up yet.
    if pkey == op.netns:
        ns = _with_links(ns, peer, link.evolve(oper="DOWN"))
        peer = peer.evolve(oper=derive.oper_on_carrier_change(ns, peer, False))
        ns = _with_links(ns, peer)
        link = link.evolve(oper=derive.oper_on_carrier_change(ns, link, False))
        state = _with_ns(state, _with_links(ns, link))
    else:
        pns = _with_links(state.netns[pkey], peer)
        peer = peer.evolve(oper=derive.oper_on_carrier_change(pns, peer, False))
        ns = _with_links(ns, link)
        link = link.evolve(oper=derive.oper_on_carrier_change(ns, link, False))
        state = _with_ns(state, _with_links(ns, link), _with_links(pns, peer))
    return _link_nsids(state, op.netns, pkey)


def _check_mtu(kind: str, mtu: int) -> None:
    low, high = _MTU_LIMITS.get(kind, (68, 65535))
    hint = (say(f"a {kind} accepts an MTU from {low} to {high}",
                f"{kind} に設定できる MTU は {low} から {high} までです") if high
            else say(f"a {kind} accepts an MTU from {low}", f"{kind} に設定できる MTU は {low} 以上です"))
    if mtu < low:
        raise NetError.extack("mtu less than device minimum", errno.EINVAL, hint=hint)
    if high and mtu > high:
        raise NetError.extack("mtu greater than device maximum", errno.EINVAL, hint=hint)


def _link_del(state: NetState, op: o.LinkDel) -> NetState:
    ns = _ns(state, op.netns)
    link = _link(ns, op.ifname)
    if link.kind == "loopback":
        raise NetError.rtnl(errno.EOPNOTSUPP,
                            hint=say("lo belongs to the namespace; delete the namespace instead",
                                     "lo は名前空間に付属するリンクです。代わりに名前空間を削除してください"))
    return _remove_device(state, op.netns, link.ifindex)


def _link_set(state: NetState, op: o.LinkSet) -> NetState:
    ns = _ns(state, op.netns)
    key = op.netns
    # iproute2 resolves its arguments (netns, master) before it looks the device up.
    if op.to_netns is not None and op.to_netns not in state.netns:
        raise invarg(op.to_netns, 'Invalid "netns" value\n',
                     hint=say(f"create it first with `ip netns add {op.to_netns}`",
                              f"先に `ip netns add {op.to_netns}` で作成してください"))
    if op.master and ns.link(op.master) is None:
        raise invarg(op.master, "Device does not exist\n",
                     hint=say(f"there is no link called {op.master!r} here; create the bridge first",
                              f"ここには {op.master!r} という名前のリンクはありません。"
                              "先にブリッジを作成してください"))
    link = ns.link(op.ifname)
    if link is None:
        if op.hairpin is not None:  # bridge(8) words it its own way
            raise NetError(f'Cannot find bridge device "{op.ifname}"', errno=errno.ENODEV, exit=255,
                           hint=say(f"there is no link called {op.ifname!r} here",
                                    f"ここには {op.ifname!r} という名前のリンクはありません"))
        raise NetError.no_device(op.ifname)
    # Then the kernel's checks, in do_setlink()'s order, before anything changes.
    if op.to_netns is not None and op.to_netns != key:
        if link.kind in ("loopback", "bridge"):
            raise NetError.extack("The interface netns is immutable", errno.EINVAL,
                                  hint=say(f"a {link.kind} cannot leave its namespace",
                                           f"{link.kind} は自分の名前空間から移動できません"))
        if state.netns[op.to_netns].link(link.ifname) is not None:
            raise NetError.extack("An interface with the same name exists in the target netns",
                                  errno.EEXIST,
                                  hint=say("rename it first, or the one over there",
                                           "先にこのリンクか、移動先にある同じ名前のリンクの名前を"
                                           "変えてください"))
    target_ns = state.netns[op.to_netns] if op.to_netns is not None else ns
    mac = _unicast_mac(op.mac) if op.mac is not None else None
    if op.mtu is not None:
        _check_mtu(link.kind, op.mtu)
    if op.name is not None and op.name != link.ifname:
        check_name_arg(op.name)  # `name X` is checked by ip itself
        check_ifname(op.name)
        if target_ns.link(op.name) is not None:
            raise NetError.rtnl(errno.EEXIST, hint=say(f"a link called {op.name!r} already exists here",
                                                       f"ここにはすでに {op.name!r} という名前の"
                                                       "リンクがあります"))
    master = None
    if op.master:
        if op.to_netns is not None and op.to_netns != key:
            raise NetError.rtnl(errno.ENODEV,
                                hint=say("the bridge is in the namespace the link is leaving",
                                         "ブリッジは、このリンクが出ていく側の名前空間にあります"))
        master = ns.link(op.master)
        if master.kind != "bridge":
            raise NetError.rtnl(errno.EOPNOTSUPP,
                                hint=say(f"{op.master!r} is not a bridge; `master` takes a bridge",
                                         f"{op.master!r} はブリッジではありません。"
                                         "`master` にはブリッジを指定してください"))
        if link.kind == "bridge":
            raise NetError.extack("Can not enslave a bridge to a bridge", errno.ELOOP,
                                  hint=say("a bridge cannot be a port of a bridge; use a veth between them",
                                           "ブリッジを別のブリッジのポートにはできません。"
                                           "間を veth でつないでください"))
        if link.kind not in ETHER_KINDS:
            raise NetError.rtnl(errno.EINVAL, hint=say(f"a {link.kind} link cannot be a bridge port",
                                                       f"{link.kind} リンクはブリッジのポートにできません"))
    if op.hairpin is not None and link.master is None and master is None:
        raise NetError(f"RTNETLINK answers: {os.strerror(errno.EOPNOTSUPP)}",
                       errno=errno.EOPNOTSUPP, exit=255,
                       hint=say(f"{op.ifname} is not a bridge port",
                                f"{op.ifname} はブリッジのポートではありません"))

    # Then change, in do_setlink()'s order: netns, address, mtu, name, flags, master.
    if op.to_netns is not None and op.to_netns != key:
        state, key, link = _move(state, key, link, op.to_netns)
    ns = state.netns[key]
    index = link.ifindex
    if mac is not None and mac != link.mac:
        link = link.evolve(mac=mac, addr_assign_type=3, mac_set=link.kind == "bridge" or link.mac_set)
        ns = _with_links(ns, link)
        if link.master is not None:
            ns = _recompute_bridge(ns, link.master)
    elif mac is not None and link.kind == "bridge":
        link = link.evolve(mac_set=True, addr_assign_type=3)
        ns = _with_links(ns, link)
    if op.mtu is not None:
        link = link.evolve(mtu=op.mtu, mtu_set=link.kind == "bridge" or link.mtu_set)
        ns = _with_links(ns, link)
        if link.master is not None:
            ns = _recompute_bridge(ns, link.master)
    if op.name is not None and op.name != link.ifname:
        link = link.evolve(ifname=op.name)
        ns = _with_links(ns, link)
    if op.promisc is not None and op.promisc != link.promisc:
        link = link.evolve(promisc=op.promisc)
        ns = _with_links(ns, link)
    state = _with_ns(state, ns)
    if op.up is not None and op.up != link.up:
        state = _set_up(state, key, index, op.up)
    if op.master is not None:
        ns = state.netns[key]
        link = ns.links[index]
        old = link.master
        new = master.ifindex if master is not None else None
        if old != new:
            if old is not None:
                ns, link = _release(ns, link)
            if new is not None:
                ns, link = _enslave(ns, link, ns.links[new])
            state = _with_ns(state, ns)
            for bridge in (old, new):
                if bridge is not None:
                    state = _sync_one(state, key, bridge)
            state = _sync(state, key, index)
    if op.hairpin is not None:
        ns = state.netns[key]
        link = ns.links[index]
        if link.hairpin != op.hairpin:
            state = _with_ns(state, _with_links(ns, link.evolve(hairpin=op.hairpin)))
    return state


def _move(state: NetState, key: str, link: Link, target: str):
    """dev_change_net_namespace(): down, unregistered here, registered there afresh."""
    if link.up:
        state = _set_up(state, key, link.ifindex, False)
        link = state.netns[key].links[link.ifindex]
    if link.master is not None:
        ns, link = _release(state.netns[key], link)
        state = _with_ns(state, ns)
        state = _sync_one(state, key, link.master) if link.master is not None else state
    state = _remove_link(state, key, link.ifindex)
    # __dev_change_net_namespace(): the old namespace reports IFLA_NEW_NETNSID,
    # so it gets an nsid for the new one (peernet2id_alloc()).
    state = _with_ns(state, _assign_nsid(state.netns[key], target))
    tns = state.netns[target]
    index, tns = _alloc_index(tns, wanted=link.ifindex)
    moved = link.evolve(ifindex=index, master=None, hairpin=False, port_no=0, activated=False,
                    v6_ready=False, mc=(ALL_NODES,) if link.kind in ETHER_KINDS else ())
    state = _with_ns(state, _with_links(tns, moved))
    pending = _PENDING.get()
    if pending is not None and (key, link.ifindex) in pending:
        pending[pending.index((key, link.ifindex))] = (target, index)
    if moved.peer is not None:
        pkey, pindex = moved.peer
        pns = state.netns[pkey]
        state = _with_ns(state, _with_links(pns, pns.links[pindex].evolve(peer=(target, index))))
        state = _link_nsids(state, target, pkey)
        state = _sync(state, pkey, pindex)
    return state, target, moved


def _parse_cidr(text: str, *, what: str = "any valid prefix") -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    try:
        if text.endswith("/") or text.count("/") > 1:
            raise ValueError(text)
        return ipaddress.ip_interface(text)
    except ValueError:
        raise NetError(f'Error: {what} is expected rather than "{text}".', errno=errno.EINVAL, exit=1,
                       hint=say("write an address with its prefix length, e.g. 10.0.0.2/24",
                                "アドレスはプレフィックス長を付けて書いてください "
                                "(例: 10.0.0.2/24)")) from None


def _addr_scope(iface) -> str:
    if iface.ip.is_loopback:
        return "host"
    if iface.version == 6 and iface.ip.is_link_local:
        return "link"
    return "global"


def _addr_add(state: NetState, op: o.AddrAdd) -> NetState:
    ns = _ns(state, op.netns)
    iface = _parse_cidr(op.cidr)
    link = _link(ns, op.ifname)
    family = iface.version
    scope = op.scope or _addr_scope(iface)
    if family == 6:
        if any(a.ifindex == link.ifindex and a.family == 6 and a.address == str(iface.ip) for a in ns.addrs):
            raise NetError.extack("ipv6: address already assigned", errno.EEXIST,
                                  hint=say(f"{op.ifname} already has {iface.ip}",
                                           f"{op.ifname} にはすでに {iface.ip} が付いています"))
        addr = Addr(link.ifindex, 6, str(iface.ip), iface.network.prefixlen, scope=scope)
        ns = _insert_v6(ns, addr)
        if link.up and link.kind in ETHER_KINDS:
            ns = _with_links(ns, _mc_add(link, _solicited(addr.address)))
        return _with_ns(state, ns)
    for _, a, _sec in _v4_of(ns, link.ifindex):
        if a.prefixlen == iface.network.prefixlen and _same_net(a, Addr(0, 4, str(iface.ip), a.prefixlen)):
            if a.address == str(iface.ip):
                raise NetError.extack("ipv4: Address already assigned", errno.EEXIST,
                                      hint=say(f"{op.ifname} already has {iface.with_prefixlen}",
                                               f"{op.ifname} にはすでに {iface.with_prefixlen} "
                                               "が付いています"))
            if a.scope != scope:
                raise NetError.extack("ipv4: Invalid scope value", errno.EINVAL,
                                      hint=say(f"{a.cidr} on {op.ifname} has scope {a.scope}; "
                                               "an address in its subnet needs the same scope",
                                               f"{op.ifname} の {a.cidr} のスコープは {a.scope} です。"
                                               "同じサブネットのアドレスには同じスコープが必要です"))
    broadcast = op.broadcast
    if broadcast == "+":
        broadcast = str(iface.network.broadcast_address) if iface.network.prefixlen < 31 else None
    elif broadcast == "-":
        broadcast = None
    addr = Addr(link.ifindex, 4, str(iface.ip), iface.network.prefixlen, scope=scope, broadcast=broadcast)
    ns = _insert_v4(ns, addr)
    if link.up:
        ns = _add_connected(ns, link)
    return _with_ns(state, ns)


def _addr_del(state: NetState, op: o.AddrDel) -> NetState:
    ns = _ns(state, op.netns)
    iface = _parse_cidr(op.cidr)
    link = _link(ns, op.ifname)
    if iface.version == 6:
        prefix = iface.network.prefixlen
        match = [a for a in ns.addrs if a.ifindex == link.ifindex and a.family == 6
                 and a.address == str(iface.ip) and a.prefixlen == prefix]
        if not match:
            raise NetError.extack("ipv6: address not found", errno.EADDRNOTAVAIL,
                                  hint=say(f"{op.ifname} has no address {op.cidr}; "
                                           f"see `ip addr show {op.ifname}`",
                                           f"{op.ifname} にアドレス {op.cidr} はありません。"
                                           f"`ip addr show {op.ifname}` で確認してください"))
        ns = _nsr(ns, addrs=tuple(a for a in ns.addrs if a is not match[0]))
        return _with_ns(state, ns)
    wildcard = "/" not in op.cidr  # iproute2 then leaves the prefix out and warns
    prefix = iface.network.prefixlen
    mine = _v4_of(ns, link.ifindex)
    match = [(a, sec) for _, a, sec in mine
             if a.address == str(iface.ip) and (wildcard or a.prefixlen == prefix)]
    if not match:
        warning = ""
        if wildcard:
            warning = ("Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
                       f"         Explicitly specify the prefix length ({iface.ip}/32) to avoid this warning.\n"
                       "         This special behaviour is likely to disappear in further releases,\n"
                       "         fix your scripts!\n")
        raise NetError(warning + "Error: ipv4: Address not found.", errno=errno.EADDRNOTAVAIL, exit=2,
                       hint=say(f"{op.ifname} has no address {op.cidr}; see `ip addr show {op.ifname}`",
                                f"{op.ifname} にアドレス {op.cidr} はありません。"
                                f"`ip addr show {op.ifname}` で確認してください"))
    gone, secondary = match[0]
    doomed = [gone]
    if not secondary:
        # promote_secondaries is off: the primary takes its secondaries with it.
        doomed += [a for _, a, sec in mine if sec and a.prefixlen == gone.prefixlen and _same_net(a, gone)]
    addrs = tuple(a for a in ns.addrs if not any(a is d for d in doomed))
    gone_ips = {d.address for d in doomed}
    # fib_del_ifaddr()/fib_sync_down_addr(): routes preferring a gone address go.
    routes = tuple(r for r in ns.routes if r.src not in gone_ips)
    ns = _nsr(ns, addrs=addrs, routes=routes)
    if not any(a.ifindex == link.ifindex and a.family == 4 for a in ns.addrs):
        # The last IPv4 address went: fib_disable_ip() drops every route through the link.
        ns = _nsr(ns, routes=tuple(r for r in ns.routes if r.dev != link.ifindex or r.family != 4))
    return _with_ns(state, ns)


def _addr_flush(state: NetState, op: o.AddrFlush) -> NetState:
    ns = _ns(state, op.netns)
    link = _link(ns, op.ifname)
    index = link.ifindex
    gone = [a for a in ns.addrs if a.ifindex == index and op.family in (None, a.family)]
    if not gone:
        return state
    addrs = tuple(a for a in ns.addrs if not (a.ifindex == index and op.family in (None, a.family)))
    gone_v4 = {a.address for a in gone if a.family == 4}
    routes = tuple(r for r in ns.routes if not (r.src in gone_v4 or (gone_v4 and r.dev == index and r.family == 4)))
    ns = _nsr(ns, addrs=addrs, routes=routes)
    if any(a.family == 6 for a in gone) and link.kind in ETHER_KINDS:
        solicited = {_solicited(a.address) for a in gone if a.family == 6}
        keep = {_solicited(a.address) for a in ns.addrs if a.ifindex == index and a.family == 6}
        ns = _with_links(ns, link.evolve(mc=tuple(m for m in link.mc if m not in solicited - keep)))
    return _with_ns(state, ns)


def _route_dst(text: str) -> str:
    if text == "default":
        return "default"
    iface = _parse_cidr(text)
    if "/" not in text:
        return f"{iface.ip}/32" if iface.version == 4 else f"{iface.ip}/128"
    net = iface.network
    if net.network_address != iface.ip:
        raise NetError.extack("Invalid prefix for given prefix length", errno.EINVAL,
                              hint=say(f"a route's destination is a network; did you mean {net}?",
                                       f"ルートの宛先にはネットワークを指定します。{net} のことですか?"))
    return str(net)


def _lookup_connected(ns: Netns, gw: str, dev: int | None) -> int | None:
    """The link through which ``gw`` is directly reachable (a connected route), if any."""
    ip = ipaddress.ip_address(gw)
    best: tuple[int, int] | None = None
    for r in ns.routes:
        if r.scope != "link" or r.dst == "default" or r.via is not None:
            continue
        net = _network(r.dst)
        if ip.version == net.version and ip in net and (dev is None or r.dev == dev):
            if best is None or net.prefixlen > best[0]:
                best = (net.prefixlen, r.dev)
    if best is None and ip.version == 6:
        # IPv6 prefix routes are derived from the addresses of up links.
        for a in ns.addrs:
            if a.family != 6 or (dev is not None and a.ifindex != dev):
                continue
            link = ns.links.get(a.ifindex)
            net = ipaddress.ip_interface(a.cidr).network
            if link is not None and link.up and ip in net and net.prefixlen < 128:
                return a.ifindex
    return None if best is None else best[1]


def _route_add(state: NetState, op: o.RouteAdd) -> NetState:
    ns = _ns(state, op.netns)
    dst = _route_dst(op.dst)
    dev_link = _link(ns, op.dev) if op.dev else None
    if op.via is not None:
        try:
            ipaddress.ip_address(op.via)
        except ValueError:
            raise NetError(f'Error: inet address is expected rather than "{op.via}".', errno=errno.EINVAL,
                           exit=1, hint=say("`via` takes the gateway's address, e.g. via 10.0.0.1",
                                            "`via` にはゲートウェイのアドレスを指定します "
                                            "(例: via 10.0.0.1)")) from None
    family = 6 if ":" in dst else 4
    if op.via is None:
        if dev_link is None:
            raise NetError.rtnl(errno.ENODEV, hint=say("a route needs `via GATEWAY` or `dev IFNAME`",
                                                       "ルートには `via GATEWAY` か `dev IFNAME` が必要です"))
        if not dev_link.up:
            raise NetError.extack("Device for nexthop is not up", errno.ENETDOWN,
                                  hint=say(f"bring it up first: ip link set {op.dev} up",
                                           f"先に UP にしてください: ip link set {op.dev} up"))
        index = dev_link.ifindex
    elif op.onlink:
        if dev_link is None:
            raise NetError.extack("Nexthop device required for onlink", errno.EINVAL,
                                  hint=say("`onlink` needs `dev IFNAME`",
                                           "`onlink` には `dev IFNAME` が必要です"))
        if not dev_link.up:
            raise NetError.extack("Nexthop device is not up", errno.ENETDOWN,
                                  hint=say(f"bring it up first: ip link set {op.dev} up",
                                           f"先に UP にしてください: ip link set {op.dev} up"))
        index = dev_link.ifindex
    else:
        found = _lookup_connected(ns, op.via, dev_link.ifindex if dev_link else None)
        if found is None:  # the fib lookup of the gateway failed: ENETUNREACH
            raise NetError.extack("Nexthop has invalid gateway", errno.ENETUNREACH,
                                  hint=say(f"{op.via} is not on a subnet of this namespace's links; "
                                           "add an address in its subnet first",
                                           f"{op.via} はこの名前空間のどのリンクのサブネットにもありません。"
                                           "先にそのサブネットのアドレスを追加してください"))
        index = found
        if not ns.links[index].up:
            raise NetError.extack("Nexthop device is not up", errno.ENETDOWN)
    if op.src is not None and not any(a.address == op.src for a in ns.addrs):
        raise NetError.extack("Invalid prefsrc address", errno.EINVAL,
                              hint=say(f"{op.src} is not an address of this namespace",
                                       f"{op.src} はこの名前空間のアドレスではありません"))
    metric = op.metric or None
    if family == 6 and metric is None:
        metric = 1024  # IP6_RT_PRIO_USER
    for r in ns.routes:
        if r.dst == dst and r.family == family and (r.metric or None) == metric:
            if family == 4 or r.dev == index:
                raise NetError.rtnl(errno.EEXIST, hint=say(f"there is already a route to {dst}; "
                                                           "delete it first or use another metric",
                                                           f"{dst} へのルートはすでにあります。"
                                                           "先に削除するか、別の metric を指定してください"))
    route = Route(dst=dst, dev=index, family=family, via=op.via, proto="boot",
                  scope="link" if op.via is None else "global", src=op.src, metric=metric,
                  onlink=op.onlink)
    return _with_ns(state, _nsr(ns, routes=ns.routes + (route,)))


def _route_del(state: NetState, op: o.RouteDel) -> NetState:
    ns = _ns(state, op.netns)
    dst = _route_dst(op.dst)
    dev = _link(ns, op.dev).ifindex if op.dev else None
    family = 6 if ":" in dst else 4
    candidates = sorted((r for r in ns.routes if r.family == family), key=lambda r: r.metric or 0)
    for r in candidates:
        if r.dst == dst and (op.via is None or r.via == op.via) and (dev is None or r.dev == dev):
            return _with_ns(state, _nsr(ns, routes=tuple(x for x in ns.routes if x is not r)))
    raise NetError.rtnl(errno.ESRCH, hint=say(f"there is no route to {dst}; see `ip route`",
                                              f"{dst} へのルートはありません。`ip route` で確認してください"))


def _sysctl_set(state: NetState, op: o.SysctlSet) -> NetState:
    ns = _ns(state, op.netns)
    if not op.key.startswith(("net.ipv4.", "net.ipv6.", "net.bridge.", "net.core.")):
        path = "/proc/sys/" + op.key.replace(".", "/")
        raise NetError(f"sysctl: cannot stat {path}: No such file or directory", errno=errno.ENOENT,
                       exit=1, hint=say("simlab keeps the net.* sysctls of each namespace",
                                        "simlab が扱うのは名前空間ごとの net.* の sysctl だけです"))
    return _with_ns(state, _nsr(ns, sysctls={**ns.sysctls, op.key: op.value}))


def _iptables(state: NetState, op: o.Iptables) -> NetState:
    from .netfilter import apply_iptables

    ns = _ns(state, op.netns)
    tables = dict(ns.iptables)
    tables[op.table] = apply_iptables(op.table, tables.get(op.table, ()), op.args)
    return _with_ns(state, _nsr(ns, iptables=tables))


_HANDLERS: dict[type, Callable] = {
    o.NetnsAdd: _netns_add,
    o.NetnsDel: _netns_del,
    o.LinkAdd: _link_add,
    o.LinkDel: _link_del,
    o.LinkSet: _link_set,
    o.AddrAdd: _addr_add,
    o.AddrDel: _addr_del,
    o.AddrFlush: _addr_flush,
    o.RouteAdd: _route_add,
    o.RouteDel: _route_del,
    o.SysctlSet: _sysctl_set,
    o.Ping: _ping,
    o.Iptables: _iptables,
}
