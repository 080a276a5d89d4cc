"""``ip addr add|del|flush`` and ``ip route add|del``, as iproute2 sends them.

Each handler first makes iproute2's own client-side checks (so a bad command
fails with ``ip``'s words and exit status), then sends the netlink request
``ip`` would send, and returns the actions that undo what it did.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_DELADDR, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWROUTE
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from ..model import ops as o
from ..model.errors import NetError
from ..model.rules.addr import wildcard_warning
from ..model.rules.route import flush_matches
from ..model.state import Link, Netns
from . import checks
from . import read as rd
from .context import Kernel, Ns, Undo
from .rtnl import CREATE, REQ

NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
PROTO_NUMBERS = {v: k for k, v in rd.PROTOS.items()}

__all__ = ["addr_add", "addr_del", "addr_flush", "route_add", "route_del", "route_flush"]


def addr_add(k: Kernel, op: o.AddrAdd) -> Undo:
    handle = k.ns_of(op.netns)
    iface, _given = checks.parse_prefix(op.cidr)
    link = k.find(handle, op.ifname)
    msg = ifaddrmsg()
    family = socket.AF_INET if iface.version == 4 else socket.AF_INET6
    msg["family"] = family
    msg["prefixlen"] = iface.network.prefixlen
    msg["index"] = link.ifindex
    scope = _scope_number(op.scope)
    if scope is None:
        # iproute2's default_scope(): host for 127/8, else universe.
        scope = 254 if iface.version == 4 and iface.ip.is_loopback else 0
    msg["scope"] = scope
    attrs = [("IFA_LOCAL", str(iface.ip)), ("IFA_ADDRESS", str(iface.ip))]
    if op.broadcast and iface.version == 4:
        brd = str(iface.network.broadcast_address) if op.broadcast == "+" else op.broadcast
        if op.broadcast == "-":
            brd = str(iface.network.network_address)
        attrs.append(("IFA_BROADCAST", brd))
    if op.label is not None and iface.version == 4:
        attrs.append(("IFA_LABEL", op.label))
    msg["attrs"] = attrs
    k.talk(handle, msg, RTM_NEWADDR, CREATE)
    return [
        lambda: addr_delete(
            handle, family, str(iface.ip), iface.network.prefixlen, link.ifindex
        )
    ]


def addr_delete(handle: Ns, family: int, address: str, prefixlen: int, index: int) -> None:
    msg = ifaddrmsg()
    msg["family"] = family
    msg["prefixlen"] = prefixlen
    msg["index"] = index
    msg["attrs"] = (
        [("IFA_LOCAL", address)] if family == socket.AF_INET else [("IFA_ADDRESS", address)]
    )
    handle.rt.request(msg, RTM_DELADDR, REQ)


def addr_del(k: Kernel, op: o.AddrDel) -> Undo:
    handle = k.ns_of(op.netns)
    iface, given = checks.parse_prefix(op.cidr)
    link = k.find(handle, op.ifname)
    family = socket.AF_INET if iface.version == 4 else socket.AF_INET6
    prefixlen = iface.network.prefixlen
    links = {link.ifindex: link}
    current = [a for a in rd.dump_addrs(handle.rt, links) if a.ifindex == link.ifindex]
    if not given:
        # iproute2's "wildcard deletion": the first address with that IP, whatever its prefix.
        match = [a for a in current if a.address == str(iface.ip)]
        if match:
            prefixlen = match[0].prefixlen
    found = [a for a in current if a.address == str(iface.ip) and a.prefixlen == prefixlen]
    msg = ifaddrmsg()
    msg["family"] = family
    msg["prefixlen"] = prefixlen
    msg["index"] = link.ifindex
    msg["attrs"] = (
        [("IFA_LOCAL", str(iface.ip))]
        if family == socket.AF_INET
        else [("IFA_ADDRESS", str(iface.ip))]
    )
    try:
        k.talk(handle, msg, RTM_DELADDR)
    except NetError as err:
        if given or family != socket.AF_INET:
            raise
        # iproute2 warned before it asked the kernel: the warning comes first.
        raise NetError(wildcard_warning(str(iface.ip)) + err.message, errno=err.errno, exit=err.exit,
                       hint=err.hint) from None
    if not found:
        return []
    gone = found[0]
    return [lambda: addr_add(k, _readd(op, gone))]


def addr_flush(k: Kernel, op: o.AddrFlush) -> Undo:
    handle = k.ns_of(op.netns)
    link = rd.get_link(handle.rt, op.ifname)
    if link is None:
        raise NetError(f'Device "{op.ifname}" does not exist.', errno=errno.ENODEV, exit=1)
    rows = [
        m
        for m in rd.dump_addr_msgs(handle.rt)
        if m["index"] == link.ifindex
        and (op.family is None or (m["family"] == socket.AF_INET) == (op.family == 4))
    ]
    # Secondaries first, as `ip addr flush` does (a primary takes its secondaries with it).
    rows.sort(key=lambda m: not (m["flags"] & 0x1))
    for m in rows:
        address = m.get_attr("IFA_LOCAL") or m.get_attr("IFA_ADDRESS")
        with contextlib.suppress(NetlinkError):
            addr_delete(handle, m["family"], address, m["prefixlen"], link.ifindex)
    return []


def route_msg(k: Kernel, handle: Ns, dst: str, via: str | None, dev: str | None,
              family: int | None = None):
    if dst == "default":
        net = None
    else:
        iface, given = checks.parse_prefix(dst)
        net = iface
        family = iface.version
    gw = checks.parse_addr(via) if via is not None else None
    if family is None:
        family = gw.version if gw is not None else 4
    link = k.find(handle, dev) if dev else None
    msg = rtmsg()
    msg["family"] = socket.AF_INET if family == 4 else socket.AF_INET6
    msg["table"] = 254
    attrs: list = []
    if net is not None:
        msg["dst_len"] = net.network.prefixlen
        attrs.append(("RTA_DST", str(net.ip)))
    if gw is not None:
        attrs.append(("RTA_GATEWAY", str(gw)))
    if link is not None:
        attrs.append(("RTA_OIF", link.ifindex))
    msg["attrs"] = attrs
    return msg, gw, link


#: rtm_type of the route types simlab keeps.
RTN_TYPES = {"unicast": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8, "throw": 9}
#: NLM_F_* of `ip route add|replace|change` (iproute2's iproute_modify()).
MODES = {"add": CREATE, "replace": REQ | NLM_F_CREATE | NLM_F_REPLACE, "change": REQ | NLM_F_REPLACE}


def _table(msg, table: int) -> None:
    if table < 256:
        msg["table"] = table
    else:  # as iproute2: RT_TABLE_UNSPEC in the header, the id in RTA_TABLE
        msg["table"] = 0
        msg["attrs"].append(("RTA_TABLE", table))


def route_add(k: Kernel, op: o.RouteAdd) -> Undo:
    handle = k.ns_of(op.netns)
    msg, gw, link = route_msg(k, handle, op.dst, op.via, op.dev, op.family)
    proto = op.proto or "boot"
    msg["proto"] = PROTO_NUMBERS[proto] if proto in PROTO_NUMBERS else int(proto)
    msg["type"] = RTN_TYPES[op.type]
    # iproute2: scope link for a unicast route without a gateway (IPv4), universe otherwise.
    if op.scope is not None:
        msg["scope"] = _scope_number(op.scope)
    else:
        msg["scope"] = 253 if gw is None and op.type == "unicast" and msg["family"] == socket.AF_INET else 0
    if op.src is not None:
        msg["attrs"].append(("RTA_PREFSRC", str(checks.parse_addr(op.src))))
    if op.metric is not None:
        msg["attrs"].append(("RTA_PRIORITY", op.metric))
    if op.onlink:
        msg["flags"] = 4  # RTNH_F_ONLINK
    _table(msg, op.table)
    before = rd.dump_routes(handle.rt)
    k.talk(handle, msg, RTM_NEWROUTE, MODES[op.mode])
    return _route_undo(k, handle, before)


def _route_undo(k: Kernel, handle: Ns, before: list) -> Undo:
    """Undo a route change by what it changed: delete the routes it made, restore the ones it removed."""
    after = rd.dump_routes(handle.rt)
    made = [r for r in after if r not in before]
    gone = [r for r in before if r not in after]

    def undo() -> None:
        for route in made:
            with contextlib.suppress(NetlinkError):
                route_remove(handle, route)
        for route in gone:
            route_restore(k, handle, route)
    return [undo] if made or gone else []


def route_del(k: Kernel, op: o.RouteDel, undo: bool = False) -> Undo:
    handle = k.ns_of(op.netns)
    msg, _gw, _link = route_msg(k, handle, op.dst, op.via, op.dev, op.family)
    msg["scope"] = 255  # RT_SCOPE_NOWHERE: any scope matches, as `ip route del` sends
    msg["proto"] = PROTO_NUMBERS[op.proto] if op.proto else 0
    if op.type is not None:
        msg["type"] = RTN_TYPES[op.type]
    if op.metric is not None:
        msg["attrs"].append(("RTA_PRIORITY", op.metric))
    _table(msg, op.table)
    before = rd.dump_routes(handle.rt)
    k.talk(handle, msg, RTM_DELROUTE)
    return [] if undo else _route_undo(k, handle, before)


def route_flush(k: Kernel, op: o.RouteFlush) -> Undo:
    """`ip route flush`: list what `ip route show` would, delete each (as iproute2 does)."""
    handle = k.ns_of(op.netns)
    if op.dev is not None:
        k.find(handle, op.dev)
    ns = snapshot_ns(k, handle)
    before = rd.dump_routes(handle.rt)
    for route in before:
        if flush_matches(ns, op, route):
            with contextlib.suppress(NetlinkError):
                route_remove(handle, route)
    return _route_undo(k, handle, before)


def snapshot_ns(k: Kernel, handle: Ns) -> Netns:
    """Just enough of a namespace for the route selectors: its links by name."""
    links = {}
    for raw in rd.dump_links(handle.rt):
        links[raw.ifindex] = Link(raw.ifindex, raw.ifname, "", "")
    return Netns(handle.key, links)


def _exact_msg(route) -> rtmsg:
    msg = rtmsg()
    msg["family"] = socket.AF_INET if route.family == 4 else socket.AF_INET6
    attrs: list = []
    if route.dst != "default":
        net = ipaddress.ip_network(route.dst)
        msg["dst_len"] = net.prefixlen
        attrs.append(("RTA_DST", str(net.network_address)))
    if route.via:
        attrs.append(("RTA_GATEWAY", route.via))
    if route.dev:
        attrs.append(("RTA_OIF", route.dev))
    if route.metric:
        attrs.append(("RTA_PRIORITY", route.metric))
    msg["attrs"] = attrs
    msg["type"] = RTN_TYPES.get(route.type, 1)
    _table(msg, route.table)
    return msg


def route_remove(handle: Ns, route) -> None:
    msg = _exact_msg(route)
    msg["scope"] = 255
    handle.rt.request(msg, RTM_DELROUTE, REQ)


def route_restore(k: Kernel, handle: Ns, route) -> None:
    msg = _exact_msg(route)
    msg["proto"] = PROTO_NUMBERS.get(route.proto, 3)
    msg["scope"] = _scope_number(route.scope) or 0
    if route.src:
        msg["attrs"].append(("RTA_PREFSRC", route.src))
    if route.onlink:
        msg["flags"] = 4
    handle.rt.request(msg, RTM_NEWROUTE, CREATE)


def _readd(op: o.AddrDel, gone) -> o.AddrAdd:
    return o.AddrAdd(
        op.ifname,
        f"{gone.address}/{gone.prefixlen}",
        op.netns,
        broadcast=gone.broadcast,
        scope=gone.scope if gone.scope != "global" else None,
        label=gone.label,
    )


def _scope_number(scope: str | None) -> int | None:
    if scope is None:
        return None
    names = {v: k for k, v in rd.SCOPES.items()}
    names["universe"] = 0
    if scope in names:
        return names[scope]
    try:
        return int(scope)
    except ValueError:
        raise NetError(
            f'Error: argument "{scope}" is wrong: invalid scope value.',
            errno=errno.EINVAL,
            exit=255,
        ) from None
