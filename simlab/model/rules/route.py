"""``ip route add|del``: a gateway must be reachable, a device route needs its device up."""

from __future__ import annotations

import errno
import ipaddress

from .. import ops as o
from ..checks import get_prefix
from ..errors import NetError, say
from ..state import Netns, Route
from ..txn import Txn
from .find import find_link, network


def _route_dst(text: str) -> str:
    if text == "default":
        return "default"
    iface, given = get_prefix(text)
    if not given:
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
        net = network(r.dst)
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


def _onlink_unicast(ns: Netns, gw: str) -> bool:
    """inet_addr_type_dev_table() is RTN_UNICAST: table local exists and does not
    hold ``gw`` as a local or broadcast address."""
    if not (ns.local_table or any(a.family == 4 for a in ns.addrs)):
        return False  # no table: the type stays RTN_BROADCAST
    ip = ipaddress.ip_address(gw)
    if ip.is_multicast or ip.is_unspecified or gw == "255.255.255.255":
        return False
    for a in ns.addrs:
        if a.family != 4:
            continue
        iface = ipaddress.ip_interface(a.cidr)
        if gw in (a.address, a.broadcast) or (iface.network.prefixlen < 31 and ip == iface.network.broadcast_address):
            return False
    return True


def _bring_up(dev: str) -> str:
    return say(f"bring it up first: ip link set {dev} up", f"先に UP にしてください: ip link set {dev} up")


def _nexthop_dev(ns: Netns, op: o.RouteAdd) -> int:
    """fib_check_nh(): the ifindex the route goes out of, or the kernel's refusal."""
    dev_link = find_link(ns, op.dev) if op.dev else None
    if op.via is not None:
        try:
            ipaddress.ip_address(op.via)
        except ValueError:
            raise NetError(f'Error: inet address is expected rather than "{op.via}".', errno=errno.EINVAL,
                           exit=1, hint=say("`via` takes the gateway's address, e.g. via 10.0.0.1",
                                            "`via` にはゲートウェイのアドレスを指定します "
                                            "(例: via 10.0.0.1)")) from None
    if op.via is None:
        if dev_link is None:
            raise NetError.rtnl(errno.ENODEV, hint=say("a route needs `via GATEWAY` or `dev IFNAME`",
                                                       "ルートには `via GATEWAY` か `dev IFNAME` が必要です"))
        if not dev_link.up:
            raise NetError.extack("Device for nexthop is not up", errno.ENETDOWN, hint=_bring_up(op.dev))
        return dev_link.ifindex
    if op.onlink:
        if dev_link is None:
            raise NetError.extack("Nexthop device required for onlink", errno.EINVAL,
                                  hint=say("`onlink` needs `dev IFNAME`",
                                           "`onlink` には `dev IFNAME` が必要です"))
        if not dev_link.up:
            raise NetError.extack("Nexthop device is not up", errno.ENETDOWN, hint=_bring_up(op.dev))
        if ":" not in op.via and not _onlink_unicast(ns, op.via):
            raise NetError.extack("Nexthop has invalid gateway", errno.EINVAL,
                                  hint=say(f"{op.via} is one of this namespace's own or broadcast "
                                           "addresses, or the namespace has no IPv4 address yet "
                                           "(its local table does not exist): add an address first",
                                           f"{op.via} はこの名前空間自身のアドレスかブロードキャストアドレスです。"
                                           "または IPv4 アドレスがまだ 1 つもありません "
                                           "(local テーブルがありません)。先にアドレスを追加してください"))
        return dev_link.ifindex
    found = _lookup_connected(ns, op.via, dev_link.ifindex if dev_link else None)
    if found is None:  # the fib lookup of the gateway failed: ENETUNREACH
        raise NetError.extack("Nexthop has invalid gateway", errno.ENETUNREACH,
                              hint=say(f"{op.via} is not on a subnet of this namespace's links; "
                                       "add an address in its subnet first",
                                       f"{op.via} はこの名前空間のどのリンクのサブネットにもありません。"
                                       "先にそのサブネットのアドレスを追加してください"))
    if not ns.links[found].up:
        raise NetError.extack("Nexthop device is not up", errno.ENETDOWN)
    return found


def route_family(op: o.RouteAdd | o.RouteDel) -> int:
    """The route's family: -4/-6, else its destination's, else its gateway's, else IPv4."""
    if op.family:
        return op.family
    return 6 if ":" in op.dst or (op.dst == "default" and op.via and ":" in op.via) else 4


#: Route types without a next hop (fib_props: no device, no gateway).
NO_NEXTHOP = ("blackhole", "unreachable", "prohibit", "throw")


def _exists(routes, dst: str, family: int, table: int, metric) -> list[Route]:
    """fib_find_alias() / fib6 with the same metric: the routes an add would clash with."""
    return [r for r in routes if r.dst == dst and r.family == family and r.table == table
            and (r.metric or None) == metric]


def route_add(t: Txn, op: o.RouteAdd) -> None:
    ns = t.ns(op.netns)
    dst = _route_dst(op.dst)
    family = route_family(op)
    if op.type in NO_NEXTHOP:
        if op.via is not None or op.dev is not None:
            raise NetError.extack("Gateway, device and multipath can not be specified for this route type",
                                  errno.EINVAL,
                                  hint=say(f"a {op.type} route has no next hop: ip route add {op.type} {op.dst}",
                                           f"{op.type} ルートにはネクストホップがありません: "
                                           f"ip route add {op.type} {op.dst}"))
        index = 1 if family == 6 else 0  # IPv6 reject routes point at lo
    else:
        if op.via is not None and op.scope in ("link", "host") and not op.onlink:
            # The gateway is looked up with a scope narrower than link: no connected route fits.
            raise NetError.extack("Nexthop has invalid gateway", errno.ENETUNREACH,
                                  hint=say("a route via a gateway has scope global; drop `scope`",
                                           "ゲートウェイ経由のルートのスコープは global です。`scope` を外してください"))
        index = _nexthop_dev(ns, op)
    if op.src is not None and not any(a.address == op.src for a in ns.addrs):
        raise NetError.extack("Invalid prefsrc address", errno.EINVAL,
                              hint=say(f"{op.src} is not an address of this namespace",
                                       f"{op.src} はこの名前空間のアドレスではありません"))
    metric = op.metric or None
    if family == 6 and metric is None:
        metric = 1024  # IP6_RT_PRIO_USER
    same = _exists(ns.routes, dst, family, op.table, metric)
    if op.mode == "add" and same:
        raise NetError.rtnl(errno.EEXIST, hint=say(f"there is already a route to {dst}; "
                                                   "delete it first, use another metric, or ip route replace",
                                                   f"{dst} へのルートはすでにあります。"
                                                   "先に削除するか、別の metric を指定するか、ip route replace を使ってください"))
    if op.mode == "change" and not same:
        raise NetError.rtnl(errno.ENOENT, hint=say(f"there is no route to {dst} to change; add it",
                                                   f"変更する {dst} へのルートはありません。追加してください"))
    if op.scope is not None:
        scope = op.scope
    else:
        scope = "link" if op.via is None and family == 4 and op.type == "unicast" else "global"
    route = Route(dst=dst, dev=index, family=family, via=op.via, proto=op.proto or "boot",
                  scope=scope, src=op.src, metric=metric, onlink=op.onlink, type=op.type, table=op.table)
    if same:  # replace / change: the first route of that destination and metric, in place
        routes = tuple(route if r is same[0] else r for r in ns.routes)
    else:
        routes = ns.routes + (route,)
    tables = ns.tables if op.table == 254 or op.table in ns.tables else ns.tables + (op.table,)
    t.put(ns.evolve(routes=routes, tables=tables))


def route_del(t: Txn, op: o.RouteDel) -> None:
    ns = t.ns(op.netns)
    dst = _route_dst(op.dst)
    dev = find_link(ns, op.dev).ifindex if op.dev else None
    family = route_family(op)
    metric = op.metric or None
    candidates = sorted((r for r in ns.routes if r.family == family and r.table == op.table),
                        key=lambda r: r.metric or 0)
    for r in candidates:
        if r.dst == dst and (op.via is None or r.via == op.via) and (dev is None or r.dev == dev) \
                and (metric is None or (r.metric or None) == metric) \
                and (op.type is None or r.type == op.type) and (op.proto is None or r.proto == op.proto):
            t.put(ns.evolve(routes=tuple(x for x in ns.routes if x is not r)))
            return
    raise NetError.rtnl(errno.ESRCH, hint=say(f"there is no such route to {dst}; see `ip route`",
                                              f"そのような {dst} へのルートはありません。`ip route` で確認してください"))


def flush_matches(ns: Netns, op: o.RouteFlush, r: Route) -> bool:
    """Whether ``ip route flush SELECTORS`` deletes ``r`` (what ``ip route show`` would list)."""
    if r.family != 4 or r.table != op.table:
        return False
    if op.dev is not None:
        link = ns.link(op.dev)
        if link is None or r.dev != link.ifindex:
            return False
    for key in ("proto", "scope", "type", "via", "src"):
        want = getattr(op, key)
        if want is not None and getattr(r, key) != want:
            return False
    if op.metric is not None and (r.metric or 0) != op.metric:
        return False
    if op.prefix is not None:
        want = network("0.0.0.0/0" if op.prefix == "default" else op.prefix)
        have = network("0.0.0.0/0" if r.dst == "default" else r.dst)
        if op.match == "exact" and have != want:
            return False
        if op.match == "root" and not have.subnet_of(want):
            return False
        if op.match == "match" and not want.subnet_of(have):
            return False
    return True


def route_flush(t: Txn, op: o.RouteFlush) -> None:
    ns = t.ns(op.netns)
    if op.dev is not None:
        find_link(ns, op.dev)
    t.put(ns.evolve(routes=tuple(r for r in ns.routes if not flush_matches(ns, op, r))))
