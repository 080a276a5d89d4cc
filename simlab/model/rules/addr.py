"""``ip addr add|del|flush``: primaries and secondaries, IPv6 order, connected routes."""

from __future__ import annotations

import errno
import ipaddress
from functools import lru_cache

from .. import ops as o
from ..checks import get_prefix
from ..errors import NetError, Said, say
from ..state import Addr, Link, Netns, Route
from ..txn import Txn
from .find import ETHER_KINDS, IFINDEX, find_link, network, positions
from .groups import mc_add, solicited

_V4_SCOPE = {"global": 0, "site": 200, "link": 253, "host": 254}


def v4_of(ns: Netns, index: int) -> list[tuple[int, Addr, bool]]:
    """(position in ns.addrs, address, secondary) of a link's IPv4 addresses, in order."""
    out: list[tuple[int, Addr, bool]] = []
    primaries: list[Addr] = []
    for pos in positions(ns.addrs, IFINDEX, index):
        a = ns.addrs[pos]
        if a.family != 4:
            continue
        secondary = any(p.prefixlen == a.prefixlen and same_net(p, a) for p in primaries)
        if not secondary:
            primaries.append(a)
        out.append((pos, a, secondary))
    return out


def same_net(a: Addr, b: Addr) -> bool:
    return network(a.cidr) == network(b.cidr)


def insert_v4(ns: Netns, addr: Addr) -> Netns:
    """__inet_insert_ifa(): a secondary goes last, a primary after the last primary."""
    mine = v4_of(ns, addr.ifindex)
    secondary = any(not sec and a.prefixlen == addr.prefixlen and same_net(a, addr) for _, a, sec in mine)
    if secondary:
        pos = mine[-1][0] + 1
    else:
        prim = [p for p, a, sec in mine
                if not sec and _V4_SCOPE.get(addr.scope, 0) <= _V4_SCOPE.get(a.scope, 0)]
        pos = prim[-1] + 1 if prim else (mine[0][0] if mine else len(ns.addrs))
    return ns.evolve(addrs=ns.addrs[:pos] + (addr,) + ns.addrs[pos:])


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


def insert_v6(ns: Netns, addr: Addr) -> Netns:
    """ipv6_link_dev_addr(): ordered by scope, global first; newest first within a scope."""
    if addr.ifindex not in map(IFINDEX, ns.addrs):
        return ns.evolve(addrs=ns.addrs + (addr,))
    scope = v6_src_scope(addr.address)
    mine = positions(ns.addrs, IFINDEX, addr.ifindex)
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
    return ns.evolve(addrs=ns.addrs[:pos] + (addr,) + ns.addrs[pos:])


def _connected_route(link: Link, addr: Addr) -> Route | None:
    """fib_add_ifaddr(): the prefix route of a primary IPv4 address (lo's goes to table local)."""
    if addr.family != 4 or link.kind == "loopback" or addr.prefixlen >= 32:
        return None
    return Route(dst=str(network(addr.cidr)), dev=addr.ifindex, proto="kernel", scope="link",
                 src=addr.address)


def _add_route_of(ns: Netns, link: Link, addr: Addr) -> Netns:
    """fib_add_ifaddr() for one new address: its prefix route if it is a primary
    (a connected route the user deleted stays deleted)."""
    secondary = next(sec for _, a, sec in v4_of(ns, link.ifindex) if a is addr)
    route = None if secondary else _connected_route(link, addr)
    if route is None or any(r.dst == route.dst and r.dev == link.ifindex and r.proto == "kernel"
                            for r in ns.routes):
        return ns
    return ns.evolve(routes=ns.routes + (route,))


def add_connected(ns: Netns, link: Link) -> Netns:
    if link.ifindex not in map(IFINDEX, ns.addrs):
        return ns
    routes = list(ns.routes)
    for _, addr, secondary in v4_of(ns, link.ifindex):
        route = None if secondary else _connected_route(link, addr)
        if route is not None and not any(r.dst == route.dst and r.dev == link.ifindex
                                         and r.proto == "kernel" for r in routes):
            routes.append(route)
    return ns.evolve(routes=tuple(routes)) if len(routes) != len(ns.routes) else ns


def _addr_scope(iface) -> str:
    if iface.ip.is_loopback:
        return "host"
    if iface.version == 6 and iface.ip.is_link_local:
        return "link"
    return "global"


def _no_such(op) -> Said:
    return say(f"{op.ifname} has no address {op.cidr}; see `ip addr show {op.ifname}`",
               f"{op.ifname} にアドレス {op.cidr} はありません。`ip addr show {op.ifname}` で確認してください")


def addr_add(t: Txn, op: o.AddrAdd) -> None:
    ns = t.ns(op.netns)
    iface = get_prefix(op.cidr)[0]
    link = find_link(ns, op.ifname)
    scope = op.scope or _addr_scope(iface)
    if iface.version == 6:
        if any(a.ifindex == link.ifindex and a.family == 6 and a.address == str(iface.ip) for a in ns.addrs):
            raise NetError.extack("ipv6: address already assigned", errno.EEXIST,
                                  hint=say(f"{op.ifname} already has {iface.ip}",
                                           f"{op.ifname} にはすでに {iface.ip} が付いています"))
        addr = Addr(link.ifindex, 6, str(iface.ip), iface.network.prefixlen, scope=scope)
        ns = insert_v6(ns, addr)
        if link.kind in ETHER_KINDS and not link.noarp:  # joined at once, even on a down link (6.18)
            ns = t.links(ns, mc_add(link, solicited(addr.address)))
        t.put(ns)
        return
    for _, a, _sec in v4_of(ns, link.ifindex):
        if a.prefixlen == iface.network.prefixlen and same_net(a, Addr(0, 4, str(iface.ip), a.prefixlen)):
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
    elif broadcast == "-":  # iproute2 sends the network address
        broadcast = str(iface.network.network_address)
    if op.label is not None and len(op.label) >= 16:  # IFA_LABEL's policy: IFNAMSIZ
        raise NetError.extack("Attribute failed policy validation", errno.EINVAL,
                              hint=say("a label has at most 15 characters, e.g. veth1:0",
                                       "ラベルは 15 文字までです (例: veth1:0)"))
    label = op.label if op.label != link.ifname else None
    addr = Addr(link.ifindex, 4, str(iface.ip), iface.network.prefixlen, scope=scope, broadcast=broadcast,
                label=label)
    ns = insert_v4(ns.evolve(local_table=True), addr)
    if link.up:
        ns = _add_route_of(ns, link, addr)
    t.put(ns)


def wildcard_warning(address: str) -> str:
    """What iproute2 prints to stderr for ``ip addr del A`` (IPv4, no prefix length)."""
    return ("Warning: Executing wildcard deletion to stay compatible with old scripts.\n"
            f"         Explicitly specify the prefix length ({address}/32) to avoid this warning.\n"
            "         This special behaviour is likely to disappear in further releases,\n"
            "         fix your scripts!\n")


def addr_del(t: Txn, op: o.AddrDel) -> None:
    ns = t.ns(op.netns)
    iface = get_prefix(op.cidr)[0]
    link = find_link(ns, op.ifname)
    prefix = iface.network.prefixlen
    if iface.version == 6:
        match = [a for a in ns.addrs if a.ifindex == link.ifindex and a.family == 6
                 and a.address == str(iface.ip) and a.prefixlen == prefix]
        if not match:
            raise NetError.extack("ipv6: address not found", errno.EADDRNOTAVAIL, hint=_no_such(op))
        ns = ns.evolve(addrs=tuple(a for a in ns.addrs if a is not match[0]))
        group = solicited(match[0].address)
        if group in link.mc and not any(a.ifindex == link.ifindex and a.family == 6
                                        and solicited(a.address) == group for a in ns.addrs):
            ns = t.links(ns, link.evolve(mc=tuple(m for m in link.mc if m != group)))
        t.put(ns)
        return
    wildcard = "/" not in op.cidr  # iproute2 then leaves the prefix out and warns
    mine = v4_of(ns, link.ifindex)
    match = [(a, sec) for _, a, sec in mine
             if a.address == str(iface.ip) and (wildcard or a.prefixlen == prefix)]
    if not match:
        warning = wildcard_warning(str(iface.ip)) if wildcard else ""
        raise NetError(warning + "Error: ipv4: Address not found.", errno=errno.EADDRNOTAVAIL, exit=2,
                       hint=_no_such(op))
    gone, secondary = match[0]
    doomed = [gone]
    promote = None
    if not secondary:
        same = [a for _, a, sec in mine if sec and a.prefixlen == gone.prefixlen and same_net(a, gone)]
        if same and _promotes(ns, link):
            promote = same[0]  # the first secondary becomes the primary
        else:  # the primary takes its secondaries with it
            doomed += same
    if promote is not None:
        addrs = _promoted(ns, gone, promote)
    else:
        addrs = tuple(a for a in ns.addrs if not any(a is d for d in doomed))
    gone_ips = {d.address for d in doomed}
    # fib_del_ifaddr()/fib_sync_down_addr(): routes preferring a gone address go.
    routes = tuple(r for r in ns.routes if r.src not in gone_ips)
    ns = ns.evolve(addrs=addrs, routes=routes)
    if not any(a.ifindex == link.ifindex and a.family == 4 for a in ns.addrs):
        # The last IPv4 address went: fib_disable_ip() drops every route through the link.
        ns = ns.evolve(routes=tuple(r for r in ns.routes if r.dev != link.ifindex or r.family != 4))
    elif promote is not None and link.up:
        ns = _add_route_of(ns, link, promote)  # the subnet's route again, from the promoted address
    t.put(ns)


def _promotes(ns: Netns, link: Link) -> bool:
    """IN_DEV_PROMOTE_SECONDARIES(): the ``all`` or the device's own sysctl is on."""
    keys = ("net.ipv4.conf.all.promote_secondaries", f"net.ipv4.conf.{link.ifname}.promote_secondaries")
    return any(ns.sysctls.get(k, "0") not in ("0", "") for k in keys)


def _promoted(ns: Netns, gone: Addr, promote: Addr) -> tuple[Addr, ...]:
    """__inet_del_ifa() with promotion: the deleted primary leaves; if other addresses
    stood between it and the promoted secondary, that one moves after the last primary
    (of the same scope or wider) that followed the deleted one."""
    mine = v4_of(ns, gone.ifindex)
    slots = [pos for pos, _, _ in mine]
    order = [a for _, a, _ in mine]
    start = order.index(gone)
    last_prim = start  # an insert index into the list without `gone`
    moved = False
    for j in range(start + 1, len(order)):
        a, sec = order[j], mine[j][2]
        if not sec and _V4_SCOPE.get(gone.scope, 0) <= _V4_SCOPE.get(a.scope, 0):
            last_prim = j
        if a is promote:
            break
        moved = True
    rest = [a for a in order if a is not gone]
    if moved:
        rest.remove(promote)
        rest.insert(last_prim, promote)
    addrs = list(ns.addrs)
    for pos, a in zip(slots, rest + [None]):
        addrs[pos] = a
    return tuple(a for a in addrs if a is not None)


def addr_flush(t: Txn, op: o.AddrFlush) -> None:
    ns = t.ns(op.netns)
    link = find_link(ns, op.ifname)
    index = link.ifindex
    gone = [a for a in ns.addrs if a.ifindex == index and op.family in (None, a.family)]
    if not gone:
        return
    addrs = tuple(a for a in ns.addrs if not (a.ifindex == index and op.family in (None, a.family)))
    gone_v4 = {a.address for a in gone if a.family == 4}
    routes = tuple(r for r in ns.routes
                   if not (r.src in gone_v4 or (gone_v4 and r.dev == index and r.family == 4)))
    ns = ns.evolve(addrs=addrs, routes=routes)
    if any(a.family == 6 for a in gone) and link.kind in ETHER_KINDS:
        gone_groups = {solicited(a.address) for a in gone if a.family == 6}
        keep = {solicited(a.address) for a in ns.addrs if a.ifindex == index and a.family == 6}
        ns = t.links(ns, link.evolve(mc=tuple(m for m in link.mc if m not in gone_groups - keep)))
    t.put(ns)
