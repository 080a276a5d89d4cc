"""`ip route` (tables main and local, IPv4 and IPv6) and `ip route get`.

The stored routes are table main's IPv4 routes and the IPv6 routes a user
added; the rest is derived from addresses and link state the way the kernel
makes it (fib_add_ifaddr(), addrconf):

- table local, IPv4: ``local A`` for every address (kept while the link is
  down), ``local P/N`` for ``lo``'s prefixes, ``broadcast B`` for an explicit
  ``brd`` and for a primary's subnet broadcast (prefix below /31) while the
  link is up;
- IPv6: ``fe80::/64`` (and each address's prefix) ``proto kernel metric 256``
  in main, ``local A`` and ``multicast ff00::/8`` in local, for up links.

Order: IPv4 by destination, longer prefix first for the same address, then
metric; IPv6 in the order the routes appeared.  A route through a link
without carrier ends in ``linkdown``.
"""

from __future__ import annotations

import errno

import ipaddress
from dataclasses import dataclass

from ..i18n import say
from ..model import derive
from ..model.errors import NetError
from ..model.ops import table_text
from ..model.rules.fib_rules import ACTION_ERRNO, matching
from ..model.rules.route import NO_NEXTHOP
from ..model.state import NetState, Netns, Route
from .command import IpOptions, RouteGet, RouteShow
from .jsonw import dumps

__all__ = ["render_routes", "render_route_get", "table_entries"]


@dataclass(frozen=True)
class Entry:
    """One route as `ip route` prints it."""

    dst: str  # "default", "10.0.0.0/24", "10.0.0.1/32"
    dev: int
    family: int = 4
    table: str = "main"
    type: str = "unicast"
    via: str | None = None
    proto: str = "boot"
    scope: str = "global"
    src: str | None = None
    metric: int | None = None
    onlink: bool = False

    def network(self):
        if self.dst == "default":
            return ipaddress.ip_network("0.0.0.0/0" if self.family == 4 else "::/0")
        return ipaddress.ip_network(self.dst, strict=False)


def table_name(table: int) -> str:
    return {254: "main", 255: "local"}.get(table, str(table))


def _table_id(name: str) -> int:
    return {"main": 254, "local": 255}.get(name) or int(name)


def _stored(r: Route) -> Entry:
    return Entry(r.dst, r.dev, r.family, table_name(r.table), r.type, r.via, r.proto, r.scope, r.src,
                 r.metric, r.onlink)


def _v4_entries(state: NetState, ns: Netns) -> list[Entry]:
    out = [_stored(r) for r in ns.routes if r.family == 4]
    for link in ns.links.values():
        secondary = derive.secondary_flags(ns, link.ifindex)
        primaries = [a for a in ns.addrs if a.ifindex == link.ifindex and a.family == 4
                     and not secondary.get(id(a))]
        for a in ns.addrs:
            if a.ifindex != link.ifindex or a.family != 4:
                continue
            prim = a if not secondary.get(id(a)) else next(
                (p for p in primaries if p.prefixlen == a.prefixlen
                 and ipaddress.ip_interface(p.cidr).network == ipaddress.ip_interface(a.cidr).network), a)
            src = prim.address
            out.append(Entry(f"{a.address}/32", link.ifindex, 4, "local", "local", proto="kernel",
                             scope="host", src=src))
            net = ipaddress.ip_interface(a.cidr).network
            if link.kind == "loopback" and not secondary.get(id(a)) and a.prefixlen < 32:
                out.append(Entry(str(net), link.ifindex, 4, "local", "local", proto="kernel", scope="host",
                                 src=src))
            if not link.up:
                continue
            brds = []
            if a.broadcast and a.broadcast != "255.255.255.255":
                brds.append(a.broadcast)
            if not secondary.get(id(a)) and a.prefixlen < 31:
                brds.append(str(net.broadcast_address))
            for b in dict.fromkeys(brds):
                out.append(Entry(f"{b}/32", link.ifindex, 4, "local", "broadcast", proto="kernel",
                                 scope="link", src=src))
    return out


def _v6_entries(state: NetState, ns: Netns) -> list[Entry]:
    out = [_stored(r) for r in ns.routes if r.family == 6]
    multicast = []
    for a in ns.addrs:
        if a.family != 6:
            continue
        link = ns.links.get(a.ifindex)
        if link is None or not link.up:
            continue
        out.append(Entry(f"{a.address}/128", a.ifindex, 6, "local", "local", proto="kernel", metric=0))
        if link.kind != "loopback":
            net = ipaddress.ip_interface(a.cidr).network
            if net.prefixlen < 128:
                prefix = Entry(str(net), a.ifindex, 6, "main", "unicast", proto="kernel", metric=256)
                if prefix not in out:
                    out.append(prefix)
            mc = Entry("ff00::/8", a.ifindex, 6, "local", "multicast", proto="kernel", metric=256)
            if mc not in multicast:
                multicast.append(mc)
    return out + multicast


def table_entries(state: NetState, ns: Netns, family: int, table: str) -> list[Entry]:
    """The routes of a table ("main", "local" or "all") in `ip route`'s order."""
    entries = _v4_entries(state, ns) if family == 4 else _v6_entries(state, ns)
    if table != "all":
        entries = [e for e in entries if e.table == table]
    # `table all` walks the kernel's table hash: by id modulo 256 (100, main 254, local 255).
    order = {name: _table_id(name) % 256 for name in {e.table for e in entries}}
    # IPv4 (the fib trie): by destination, longer prefix first, then metric.
    # IPv6 (fib6's radix tree, walked children first): a prefix after every
    # prefix inside it, so by last address, longer first (default last).
    # Ties keep the order the routes appeared in (fe80::/64 of each link...).
    if family == 4:
        entries.sort(key=lambda e: (order[e.table], int(e.network().network_address),
                                    -e.network().prefixlen, e.metric or 0))
    else:
        entries.sort(key=lambda e: (order[e.table], int(e.network().broadcast_address),
                                    -e.network().prefixlen, e.metric or 0))
    return entries


def _dst_text(e: Entry) -> str:
    if e.dst == "default":
        return "default"
    net = e.network()
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def _route_text(state: NetState, ns: Netns, e: Entry, flt: RouteShow, shown_table: str) -> str:
    link = ns.links.get(e.dev)
    words = []
    if e.type != "unicast":
        words.append(e.type)
    words.append(_dst_text(e))
    if e.via and flt.via is None:
        words.append(f"via {e.via}")
    if flt.dev is None and link is not None:
        words.append(f"dev {link.ifname}")
    if shown_table == "all" and e.table != "main":
        words.append(f"table {e.table}")
    if e.proto != "boot" and flt.proto is None:
        words.append(f"proto {e.proto}")
    if e.family == 4 and e.scope != "global" and flt.scope is None:
        words.append(f"scope {e.scope}")
    if e.src and flt.src is None:
        words.append(f"src {e.src}")
    if e.metric is not None and flt.metric is None:
        words.append(f"metric {e.metric}")
    if e.onlink:
        words.append("onlink")
    linkdown = link is not None and e.type in ("unicast", "multicast", "broadcast") and not derive.carrier(state, ns, link)
    if e.family == 6:
        if linkdown:
            words.append("linkdown")
        return " ".join(words) + " pref medium\n"
    if linkdown:
        words.append("linkdown")
    return " ".join(words) + " \n"


def _route_json(state: NetState, ns: Netns, e: Entry, flt: RouteShow, shown_table: str) -> dict:
    link = ns.links.get(e.dev)
    out: dict = {}
    if e.type != "unicast":
        out["type"] = e.type
    out["dst"] = _dst_text(e)
    if e.via and flt.via is None:
        out["gateway"] = e.via
    if flt.dev is None and link is not None:
        out["dev"] = link.ifname
    if shown_table == "all" and e.table != "main":
        out["table"] = e.table
    if e.proto != "boot" and flt.proto is None:
        out["protocol"] = e.proto
    if e.family == 4 and e.scope != "global" and flt.scope is None:
        out["scope"] = e.scope
    if e.src and flt.src is None:
        out["prefsrc"] = e.src
    if e.metric is not None and flt.metric is None:
        out["metric"] = e.metric
    flags = []
    if e.onlink:
        flags.append("onlink")
    if link is not None and e.type in ("unicast", "multicast", "broadcast") and not derive.carrier(state, ns, link):
        flags.append("linkdown")
    out["flags"] = flags
    if e.family == 6:
        out["pref"] = "medium"
    return out


def render_routes(state: NetState, ns: Netns, flt: RouteShow, opts: IpOptions) -> str:
    """`ip [-6] route [show SELECTORS]`."""
    family = opts.family or 4
    table = flt.table
    if family == 4 and table.isdigit() and int(table) not in ns.tables:
        raise NetError("Error: ipv4: FIB table does not exist.\nDump terminated", errno=errno.ENOENT, exit=2,
                       hint=say(f"table {table} has no routes yet: ip route add ... table {table}",
                                f"テーブル {table} にはまだルートがありません: ip route add ... table {table}"))
    entries = table_entries(state, ns, family, table)
    if table == "all" and not opts.family:
        entries += table_entries(state, ns, 6, table)
    if flt.dev is not None:
        link = ns.link(flt.dev)
        if link is None:
            raise NetError.no_device(flt.dev)
        entries = [e for e in entries if e.dev == link.ifindex]
    if flt.exact is not None:
        want = _net(flt.exact, family)
        entries = [e for e in entries if e.network() == want]
    if flt.root is not None:
        want = _net(flt.root, family)
        entries = [e for e in entries if e.network().version == want.version and e.network().subnet_of(want)]
    if flt.match is not None:
        want = _net(flt.match, family)
        entries = [e for e in entries if e.network().version == want.version and want.subnet_of(e.network())]
    if flt.proto is not None:
        entries = [e for e in entries if e.proto == flt.proto]
    if flt.scope is not None:
        entries = [e for e in entries if e.scope == flt.scope]
    if flt.type is not None:
        entries = [e for e in entries if e.type == flt.type]
    if flt.via is not None:
        entries = [e for e in entries if e.via == flt.via]
    if flt.src is not None:
        entries = [e for e in entries if e.src == flt.src]
    if flt.metric is not None:
        entries = [e for e in entries if (e.metric or 0) == flt.metric]
    if opts.json:
        return dumps([_route_json(state, ns, e, flt, table) for e in entries], pretty=opts.pretty)
    return "".join(_route_text(state, ns, e, flt, table) for e in entries)


def _net(text: str, family: int):
    if text == "default":
        return ipaddress.ip_network("0.0.0.0/0" if family == 4 else "::/0")
    return ipaddress.ip_network(text, strict=False)


def _select_src(ns: Netns, dev: int, target) -> str | None:
    """inet_select_addr(): a primary address of the device (in the target's subnet if any)."""
    secondary = derive.secondary_flags(ns, dev)
    mine = [a for a in ns.addrs if a.ifindex == dev and a.family == 4 and not secondary.get(id(a))]
    for a in mine:
        if a.scope != "host" and target in ipaddress.ip_interface(a.cidr).network:
            return a.address
    for a in mine:
        if a.scope != "host":
            return a.address
    for a in ns.addrs:
        if a.family == 4 and a.scope == "global":
            return a.address
    return None


def render_route_get(state: NetState, ns: Netns, get: RouteGet, opts: IpOptions) -> str:
    """`ip route get ADDRESS`: the policy rules in order, each table's best route."""
    text = get.dst.split("/")[0]
    if text == "default":
        text = "::" if opts.family == 6 else "0.0.0.0"
    target = ipaddress.ip_address(text)
    if target.version == 6:
        return _route_get6(state, ns, get, opts, target)
    e = _fib_lookup(state, ns, target, ipaddress.ip_address(get.src or "0.0.0.0"))
    if get.src is not None and not any(a.family == 4 and a.address == get.src for a in ns.addrs):
        # ip_route_output_key() with a source that is not ours: no route for it
        raise NetError("RTNETLINK answers: Network is unreachable", errno=errno.ENETUNREACH, exit=2,
                       hint=say(f"{get.src} is not an address of this namespace",
                                f"{get.src} はこの名前空間のアドレスではありません"))
    row: dict = {}
    if e.type == "local":
        lo = next((l for l in ns.links.values() if l.kind == "loopback"), None)
        row.update(type="local", dst=text, dev=lo.ifname if lo else "lo")
        cache = ["local"]
    else:
        if e.type == "broadcast":
            row["type"] = "broadcast"
        row["dst"] = text
        if e.via:
            row["gateway"] = e.via
        row["dev"] = ns.links[e.dev].ifname
        cache = ["local", "brd"] if e.type == "broadcast" else []
    table = _shown_table(ns, e)
    if table:
        row["table"] = table
    if e.type == "local":
        row["prefsrc"] = e.src or text
    else:
        src = e.src or _select_src(ns, e.dev, ipaddress.ip_address(e.via) if e.via else target)
        if src:
            row["prefsrc"] = src
    if get.src is not None:  # `from` is printed after the destination, and no `src`
        row.pop("prefsrc", None)
        row = {k: v for k, v in row.items() if k in ("type", "dst")} | {"from": get.src} | \
            {k: v for k, v in row.items() if k not in ("type", "dst")}
    if opts.json:
        return dumps([{**row, "flags": [], "uid": 0, "cache": cache}], pretty=opts.pretty)
    names = {"type": "", "dst": "", "from": "from ", "gateway": "via ", "dev": "dev ", "table": "table ",
             "prefsrc": "src "}
    words = [f"{names[k]}{v}" for k, v in row.items() if not (k == "type" and v == "unicast")]
    flags = f" <{','.join(cache)}>" if cache else ""
    return " ".join(words) + f" uid 0 \n    cache{flags} \n"


def _shown_table(ns: Netns, e: Entry) -> str | None:
    """The table `ip route get` names: not main; IPv4's local only once rules were changed
    (until then the kernel keeps local and main merged in one table, main)."""
    if e.table == "main" or (e.table == "local" and e.family == 4 and not ns.custom_rules):
        return None
    return e.table


def _fib_lookup(state: NetState, ns: Netns, target, saddr) -> Entry:
    """fib_rules_lookup(): each matching rule's table in turn; a table without a route for the
    target (or whose route is a ``throw``) passes to the next rule."""
    family = target.version
    entries = table_entries(state, ns, family, "all")
    for rule in matching(ns, family, saddr, target):
        if rule.action != "lookup":
            raise NetError.rtnl(ACTION_ERRNO[rule.action], hint=say(
                f"rule {rule.pref} ({rule.action}) decides: see ip rule",
                f"ルール {rule.pref} ({rule.action}) で決まります。ip rule を見てください"))
        name = table_text(rule.table)
        best = None
        for e in entries:
            if e.table != name or target not in e.network():
                continue
            link = ns.links.get(e.dev)
            if e.type not in NO_NEXTHOP and (link is None or (e.table != "local" and not link.up)):
                continue
            key = (e.network().prefixlen, -(e.metric or 0))
            if best is None or key > best[0]:
                best = (key, e)
        if best is None or best[1].type == "throw":
            continue
        if best[1].type in NO_NEXTHOP:
            raise _no_nexthop_error(best[1])
        return best[1]
    raise _no_route(str(target))


def _no_route(text: str) -> NetError:
    return NetError("RTNETLINK answers: Network is unreachable", errno=errno.ENETUNREACH, exit=2,
                    hint=say(f"no route matches {text}: add one (ip route add default via GATEWAY)",
                             f"{text} に一致するルートがありません。"
                             "ルートを追加してください (ip route add default via GATEWAY)"))


def _no_nexthop_error(e: Entry) -> NetError:
    """The error a blackhole/unreachable/prohibit/throw route gives a lookup (ip_rt_type_to_error)."""
    err = {"blackhole": errno.EINVAL, "unreachable": errno.EHOSTUNREACH, "prohibit": errno.EACCES,
           "throw": errno.ENETUNREACH}[e.type]
    return NetError.rtnl(err, hint=say(f"the route {_dst_text(e)} is a {e.type} route",
                                       f"{_dst_text(e)} は {e.type} ルートです"))


#: RFC 4291 scopes as the kernel numbers them (host 1, link 2, global 14).
_SCOPE6 = {"host": 1, "link": 2, "global": 14}


def _scope6(addr: ipaddress.IPv6Address) -> int:
    if addr.is_multicast:
        return int(addr.packed[1]) & 0x0F
    if addr.is_loopback:
        return 1
    return 2 if addr.is_link_local else 14


def _select_src6(ns: Netns, dev: int, target: ipaddress.IPv6Address) -> str | None:
    """ipv6_dev_get_saddr(), the rules that matter here (RFC 6724): the scope closest above the
    destination's, then the outgoing interface, then the longest common prefix."""
    want = _scope6(target)
    best = None
    for a in ns.addrs:
        if a.family != 6:
            continue
        cand = ipaddress.ip_address(a.address)
        scope = _SCOPE6.get(a.scope, _scope6(cand))
        common = 128 - (int(cand) ^ int(target)).bit_length()
        # a lower scope than the destination's is worst; among the rest, the smallest scope
        key = (scope >= want, -scope if scope >= want else scope, a.ifindex == dev, common)
        if best is None or key > best[0]:
            best = (key, a.address)
    return best[1] if best else None


def _route_get6(state: NetState, ns: Netns, get: RouteGet, opts: IpOptions,
                target: ipaddress.IPv6Address) -> str:
    """`ip -6 route get`: as IPv4's lookup; the source is chosen by RFC 6724's rules."""
    e = _fib_lookup(state, ns, target, ipaddress.ip_address(get.src or "::"))
    row: dict = {}
    if e.type != "unicast":
        row["type"] = e.type
    row["dst"] = str(target)
    row["from"] = get.src or "::"
    if e.via:
        row["gateway"] = e.via
    if e.type == "local":  # a packet to ourselves leaves by lo
        lo = next((l for l in ns.links.values() if l.kind == "loopback"), None)
        row["dev"] = lo.ifname if lo else "lo"
        src = str(target)
    else:
        row["dev"] = ns.links[e.dev].ifname
        src = _select_src6(ns, e.dev, target)
    if e.table != "main":
        row["table"] = e.table
    if e.proto != "boot":
        row["protocol"] = e.proto
    if src:
        row["prefsrc"] = src
    row["metric"] = e.metric or 0
    if opts.json:
        return dumps([{**row, "flags": [], "pref": "medium"}], pretty=opts.pretty)
    names = {"type": "", "dst": "", "from": "from ", "gateway": "via ", "dev": "dev ", "table": "table ",
             "protocol": "proto ", "prefsrc": "src ", "metric": "metric "}
    return " ".join(f"{names[k]}{v}" for k, v in row.items()) + " pref medium\n"
