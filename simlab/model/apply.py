"""``apply(state, op)``: the kernel's rules, as one pure function.

Rules enforced here (each one seen on a real kernel, see tests/golden):
- a new netns holds only ``lo``, DOWN, ifindex 1 (plus tunnel fallbacks when
  their modules are loaded); ifindexes are allocated per namespace;
- a veth pair registers its *peer* first, so the peer gets the lower ifindex;
- deleting either end of a veth deletes the pair; deleting a netns deletes its
  links and the veth peers they had elsewhere;
- moving a link to another netns sets it down, drops its addresses and routes,
  removes it from its bridge and keeps its ifindex unless that is taken there;
- adding an IPv4 address to an up link adds its connected route
  (``proto kernel scope link src A``); taking a link down removes every IPv4
  route through it, and up restores only the connected ones;
- a gateway must be reachable through a connected route (unless ``onlink``);
- a bridge takes the lowest MAC of its ports until one is set by hand, and
  falls back to 00:00:00:00:00:00 when the last port leaves.
Failures raise :class:`NetError` with the kernel's errno and iproute2's text.
``apply`` never mutates its input; it returns a new snapshot.
"""

from __future__ import annotations

import errno
import ipaddress
import re
from dataclasses import replace
from typing import Callable

from . import ops as o
from .errors import NetError
from .state import ROOT, Addr, Link, NetState, Netns, Route, new_netns

__all__ = ["apply", "apply_all", "parse_mac", "check_ifname"]

IFNAMSIZ = 16  # including the terminating NUL: 15 visible characters
_MAC_RE = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_MTU_LIMITS = {"veth": (68, 65535), "bridge": (68, 65535), "loopback": (0, 2147483647)}


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
    return handler(state, op)


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
    table = dict(state.netns)
    for ns in namespaces:
        table[ns.name] = ns
    return replace(state, netns=table)


def _with_links(ns: Netns, *links: Link, drop: tuple[int, ...] = ()) -> Netns:
    table = {i: l for i, l in ns.links.items() if i not in drop}
    for link in links:
        table[link.ifindex] = link
    return replace(ns, links=table)


def check_ifname(name: str) -> None:
    """The kernel's dev_valid_name(): 1 to 15 characters, no '/', ':' or space."""
    if len(name) >= IFNAMSIZ:
        raise NetError.extack(
            "Attribute failed policy validation",
            errno.EINVAL,
            hint=f"interface names are at most 15 characters; {name!r} has {len(name)}",
        )
    if not name or name in (".", "..") or any(c in name for c in "/: \t\n"):
        raise NetError(
            f'"{name}" is not a valid ifname',
            errno=errno.EINVAL,
            exit=1,
            hint="use letters, digits, '-', '_' or '.', 1 to 15 characters",
        )


def parse_mac(text: str) -> str:
    if not _MAC_RE.match(text):
        raise NetError(f'"{text}" is invalid lladdr.', errno=errno.EINVAL, exit=1,
                       hint="a MAC is six hex bytes separated by colons, e.g. 02:42:ac:11:00:02")
    return ":".join(f"{int(x, 16):02x}" for x in text.split(":"))


def _alloc_index(ns: Netns, wanted: int | None = None) -> tuple[int, Netns]:
    """Per-netns ifindex: keep ``wanted`` if free, else the namespace's next one."""
    if wanted is not None and wanted not in ns.links:
        return wanted, ns
    index = ns.next_ifindex
    while index in ns.links:
        index += 1
    return index, replace(ns, next_ifindex=index + 1)


def _assign_nsid(ns: Netns, other: str) -> Netns:
    """Give ``other`` an nsid as seen from ``ns`` (the smallest free one)."""
    if other == ns.name or other in ns.nsids:
        return ns
    used = set(ns.nsids.values())
    nsid = 0
    while nsid in used:
        nsid += 1
    return replace(ns, nsids={**ns.nsids, other: nsid})


def _link_nsids(state: NetState, a: str, b: str) -> NetState:
    if a == b:
        return state
    return _with_ns(state, _assign_nsid(state.netns[a], b), _assign_nsid(state.netns[b], a))


def _recompute_bridge(ns: Netns, bridge_index: int) -> Netns:
    """Bridge MAC follows its lowest port MAC until set; MTU follows the smallest port."""
    bridge = ns.links.get(bridge_index)
    if bridge is None or bridge.kind != "bridge":
        return ns
    ports = [l for l in ns.links.values() if l.master == bridge_index]
    if bridge.mac_set:
        return ns
    mac = min((p.mac for p in ports), default="00:00:00:00:00:00", key=_mac_key)
    return _with_links(ns, replace(bridge, mac=mac))


def _mac_key(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def _drop_link_state(ns: Netns, index: int) -> Netns:
    """Remove addresses, routes, neighbours and FDB entries of a link."""
    return replace(
        ns,
        addrs=tuple(a for a in ns.addrs if a.ifindex != index),
        routes=tuple(r for r in ns.routes if r.dev != index),
        neighs=tuple(n for n in ns.neighs if n.ifindex != index),
        fdb=tuple(f for f in ns.fdb if f.ifindex != index),
    )


def _remove_link(state: NetState, key: str, index: int) -> NetState:
    """Unregister one device: its state goes, its bridge forgets it, ports are freed."""
    ns = state.netns[key]
    link = ns.links[index]
    ns = _drop_link_state(ns, index)
    ns = _with_links(ns, drop=(index,))
    if link.kind == "bridge":
        freed = [replace(l, master=None) for l in ns.links.values() if l.master == index]
        ns = _with_links(ns, *freed)
    if link.master is not None:
        ns = _recompute_bridge(ns, link.master)
    return _with_ns(state, ns)


def _remove_device(state: NetState, key: str, index: int) -> NetState:
    """Delete a device; a veth takes its peer with it."""
    link = state.netns[key].links[index]
    state = _remove_link(state, key, index)
    if link.peer is not None:
        pkey, pindex = link.peer
        if pkey in state.netns and pindex in state.netns[pkey].links:
            state = _remove_link(state, pkey, pindex)
    return state


def _connected_route(addr: Addr) -> Route | None:
    if addr.family != 4 or addr.scope == "host" or addr.prefixlen >= 32:
        return None
    net = ipaddress.ip_interface(addr.cidr).network
    return Route(dst=str(net), dev=addr.ifindex, proto="kernel", scope="link", src=addr.address)


def _add_route(ns: Netns, route: Route) -> Netns:
    return replace(ns, routes=ns.routes + (route,))


# ------------------------------------------------------------------- handlers
def _netns_add(state: NetState, op: o.NetnsAdd) -> NetState:
    if not op.name or "/" in op.name or op.name in (".", ".."):
        raise NetError(f'Invalid netns name "{op.name}"', errno=errno.EINVAL, exit=1,
                       hint="a namespace name is a plain word such as red or web")
    if op.name in state.netns:
        raise NetError(
            f'Cannot create namespace file "/run/netns/{op.name}": File exists',
            errno=errno.EEXIST, exit=1,
            hint=f"namespace {op.name!r} already exists; pick another name or delete it first",
        )
    return _with_ns(state, new_netns(op.name, state.tunnels))


def _netns_del(state: NetState, op: o.NetnsDel) -> NetState:
    if op.name not in state.netns or op.name == ROOT:
        raise NetError(
            f'Cannot remove namespace file "/run/netns/{op.name}": No such file or directory',
            errno=errno.ENOENT, exit=1, hint="list the namespaces with `ip netns`",
        )
    ns = state.netns[op.name]
    for index, link in list(ns.links.items()):
        if link.peer is not None and link.peer[0] != op.name:
            pkey, pindex = link.peer
            if pkey in state.netns and pindex in state.netns[pkey].links:
                state = _remove_link(state, pkey, pindex)
    table = {k: replace(v, nsids={n: i for n, i in v.nsids.items() if n != op.name})
             for k, v in state.netns.items() if k != op.name}
    return replace(state, netns=table)


def _link_add(state: NetState, op: o.LinkAdd) -> NetState:
    ns = _ns(state, op.netns)
    if op.kind not in ("veth", "bridge"):
        raise NetError.extack("Unknown device type", errno.EOPNOTSUPP,
                              hint="simlab models link types veth and bridge")
    check_ifname(op.ifname)
    if ns.link(op.ifname) is not None:
        raise NetError.rtnl(errno.EEXIST, hint=f"a link called {op.ifname!r} already exists here")
    mac = parse_mac(op.mac) if op.mac else None
    mtu = op.mtu or 1500
    if op.mtu is not None:
        _check_mtu(op.kind, op.mtu)
    if op.kind == "bridge":
        if mac is None:
            mac, state = state.next_mac()
        index, ns = _alloc_index(state.netns[op.netns])
        link = Link(index, op.ifname, "bridge", mac, mtu=mtu, mac_set=op.mac is not None,
                    addr_assign_type=3 if op.mac else 1)
        return _with_ns(state, _with_links(ns, link))
    # veth: the peer is registered first, in its own namespace.
    pkey = op.netns if op.peer_netns is None else op.peer_netns
    pns = _ns(state, pkey)
    peer_name = op.peer or _free_name(pns, "veth", also=op.ifname if pkey == op.netns else None)
    check_ifname(peer_name)
    if pns.link(peer_name) is not None or (pkey == op.netns and peer_name == op.ifname):
        raise NetError.rtnl(errno.EEXIST, hint=f"a link called {peer_name!r} already exists there")
    peer_mac = parse_mac(op.peer_mac) if op.peer_mac else None
    if peer_mac is None:
        peer_mac, state = state.next_mac()
    if mac is None:
        mac, state = state.next_mac()
    pindex, pns = _alloc_index(state.netns[pkey])
    state = _with_ns(state, pns)
    index, ns = _alloc_index(state.netns[op.netns])
    link = Link(index, op.ifname, "veth", mac, mtu=mtu, peer=(pkey, pindex),
                addr_assign_type=3 if op.mac else 1)
    peer = Link(pindex, peer_name, "veth", peer_mac, mtu=mtu, peer=(op.netns, index),
                addr_assign_type=3 if op.peer_mac else 1)
    if pkey == op.netns:
        state = _with_ns(state, _with_links(ns, peer, link))
    else:
        state = _with_ns(state, _with_links(ns, link), _with_links(state.netns[pkey], peer))
    return _link_nsids(state, op.netns, pkey)


def _free_name(ns: Netns, prefix: str, also: str | None = None) -> str:
    n = 0
    while ns.link(f"{prefix}{n}") is not None or f"{prefix}{n}" == also:
        n += 1
    return f"{prefix}{n}"


def _check_mtu(kind: str, mtu: int) -> None:
    low, high = _MTU_LIMITS.get(kind, (68, 65535))
    if mtu < low:
        raise NetError.extack("mtu less than device minimum", errno.EINVAL,
                              hint=f"a {kind} accepts an MTU from {low} to {high}")
    if mtu > high:
        raise NetError.extack("mtu greater than device maximum", errno.EINVAL,
                              hint=f"a {kind} accepts an MTU from {low} to {high}")


def _link_del(state: NetState, op: o.LinkDel) -> NetState:
    ns = _ns(state, op.netns)
    link = _link(ns, op.ifname)
    if link.kind == "loopback":
        raise NetError.rtnl(errno.EOPNOTSUPP, hint="lo belongs to the namespace; delete the namespace instead")
    return _remove_device(state, op.netns, link.ifindex)


def _link_set(state: NetState, op: o.LinkSet) -> NetState:
    ns = _ns(state, op.netns)
    link = _link(ns, op.ifname)
    key = op.netns
    # Validate everything first so a failing command changes nothing.
    if op.mac is not None:
        mac = parse_mac(op.mac)
        if int(mac[:2], 16) & 1:
            raise NetError.rtnl(errno.EADDRNOTAVAIL, hint="a link's MAC must be unicast (first byte even)")
    if op.mtu is not None:
        _check_mtu(link.kind, op.mtu)
    if op.to_netns is not None and op.to_netns not in state.netns:
        raise NetError(f'Error: argument "{op.to_netns}" is wrong: Invalid "netns" value\n',
                       errno=errno.ENOENT, exit=255,
                       hint=f"create it first with `ip netns add {op.to_netns}`")
    if op.name is not None:
        check_ifname(op.name)
        if op.name != link.ifname and ns.link(op.name) is not None:
            raise NetError.rtnl(errno.EEXIST, hint=f"a link called {op.name!r} already exists here")
    master = None
    if op.master:
        master = _link(ns, op.master)
        if master.kind != "bridge" or master.ifindex == link.ifindex:
            raise NetError.rtnl(errno.EOPNOTSUPP, hint=f"{op.master!r} is not a bridge; `master` takes a bridge")
    if op.hairpin is not None and link.master is None:
        raise NetError.rtnl(errno.EOPNOTSUPP, hint=f"{op.ifname} is not a bridge port")

    # Then change, in the order iproute2 sends them: netns, name, address, mtu, master, up.
    if op.to_netns is not None and op.to_netns != key:
        state, key, link = _move(state, key, link, op.to_netns)
        ns = state.netns[key]
    changes: dict = {}
    if op.name is not None:
        changes["ifname"] = op.name
    if op.mac is not None:
        changes.update(mac=parse_mac(op.mac), addr_assign_type=3)
        if link.kind == "bridge":
            changes["mac_set"] = True
    if op.mtu is not None:
        changes["mtu"] = op.mtu
    if op.promisc is not None:
        changes["promisc"] = op.promisc
    if op.hairpin is not None:
        changes["hairpin"] = op.hairpin
    old_master = link.master
    if op.master is not None:
        changes["master"] = master.ifindex if master else None
        if not op.master:
            changes["hairpin"] = False
    link = replace(link, **changes)
    ns = _with_links(ns, link)
    for bridge in {old_master, link.master} - {None}:
        ns = _recompute_bridge(ns, bridge)
    if op.mac is not None and link.master is not None:
        ns = _recompute_bridge(ns, link.master)
    state = _with_ns(state, ns)
    if op.up is not None and op.up != link.up:
        state = _set_up(state, key, link.ifindex, op.up)
    return state


def _move(state: NetState, key: str, link: Link, target: str):
    """dev_change_net_namespace(): down, addresses and routes gone, maybe a new ifindex."""
    if link.kind in ("loopback", "bridge"):
        raise NetError.rtnl(errno.EINVAL, hint=f"a {link.kind} cannot leave its namespace")
    tns = state.netns[target]
    if tns.link(link.ifname) is not None:
        raise NetError.rtnl(errno.EEXIST, hint=f"{target} already has a link called {link.ifname!r}")
    if link.up:
        state = _set_up(state, key, link.ifindex, False)
        link = state.netns[key].links[link.ifindex]
    old_master = link.master
    state = _remove_link(state, key, link.ifindex)
    tns = state.netns[target]
    index, tns = _alloc_index(tns, wanted=link.ifindex)
    moved = replace(link, ifindex=index, master=None, hairpin=False)
    state = _with_ns(state, _with_links(tns, moved))
    if moved.peer is not None:
        pkey, pindex = moved.peer
        pns = state.netns[pkey]
        state = _with_ns(state, _with_links(pns, replace(pns.links[pindex], peer=(target, index))))
        state = _link_nsids(state, target, pkey)
    del old_master
    return state, target, moved


def _set_up(state: NetState, key: str, index: int, up: bool) -> NetState:
    ns = state.netns[key]
    link = replace(ns.links[index], up=up)
    ns = _with_links(ns, link)
    if up:
        if link.kind == "loopback" and not any(a.family == 4 for a in ns.addrs_of(index)):
            ns = replace(ns, addrs=ns.addrs + (Addr(index, 4, "127.0.0.1", 8, scope="host"),))
        for addr in ns.addrs_of(index):
            route = _connected_route(addr)
            if route is not None and not any(r.dst == route.dst and r.dev == index for r in ns.routes):
                ns = _add_route(ns, route)
    else:
        ns = replace(ns, routes=tuple(r for r in ns.routes if r.dev != index),
                     neighs=tuple(n for n in ns.neighs if n.ifindex != index))
    return _with_ns(state, ns)


def _parse_cidr(text: str, *, what: str = "any valid prefix") -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise NetError(f'Error: {what} is expected rather than "{text}".', errno=errno.EINVAL, exit=1,
                       hint="write an address with its prefix length, e.g. 10.0.0.2/24") from None


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
    if "/" not in op.cidr:
        iface = ipaddress.ip_interface(f"{iface.ip}/{iface.max_prefixlen}")
    family = iface.version
    for a in ns.addrs_of(link.ifindex):
        if a.family == family and a.address == str(iface.ip) and (family == 6 or a.prefixlen == iface.network.prefixlen):
            raise NetError.rtnl(errno.EEXIST, hint=f"{op.ifname} already has {op.cidr}")
    broadcast = op.broadcast
    if broadcast == "+":
        broadcast = str(iface.network.broadcast_address) if family == 4 else None
    addr = Addr(link.ifindex, family, str(iface.ip), iface.network.prefixlen,
                scope=op.scope or _addr_scope(iface), broadcast=broadcast)
    ns = replace(ns, addrs=ns.addrs + (addr,))
    route = _connected_route(addr)
    if link.up and route is not None and not any(r.dst == route.dst and r.dev == link.ifindex for r in ns.routes):
        ns = _add_route(ns, route)
    return _with_ns(state, ns)


def _addr_del(state: NetState, op: o.AddrDel) -> NetState:
    ns = _ns(state, op.netns)
    iface = _parse_cidr(op.cidr)
    link = _link(ns, op.ifname)
    prefix = iface.network.prefixlen if "/" in op.cidr else None
    match = [a for a in ns.addrs_of(link.ifindex)
             if a.address == str(iface.ip) and (prefix is None or a.prefixlen == prefix)]
    if not match:
        raise NetError.rtnl(errno.EADDRNOTAVAIL, hint=f"{op.ifname} has no address {op.cidr}; see `ip addr show {op.ifname}`")
    gone = match[0]
    addrs = tuple(a for a in ns.addrs if a is not gone)
    routes = tuple(r for r in ns.routes if r.src != gone.address or r.dev != link.ifindex)
    ns = replace(ns, addrs=addrs, routes=routes)
    if gone.family == 4 and not any(a.family == 4 for a in ns.addrs_of(link.ifindex)):
        # The last IPv4 address went: fib_disable_ip() drops every route through the link.
        ns = replace(ns, routes=tuple(r for r in ns.routes if r.dev != link.ifindex))
    return _with_ns(state, ns)


def _route_dst(text: str) -> str:
    if text == "default":
        return "default"
    iface = _parse_cidr(text, what="inet prefix")
    if "/" not in text:
        return f"{iface.ip}/32" if iface.version == 4 else f"{iface.ip}/128"
    net = iface.network
    if net.network_address != iface.ip:
        raise NetError(f'Error: Invalid prefix for given prefix length.', errno=errno.EINVAL, exit=2,
                       hint=f"a route's destination is a network; did you mean {net}?")
    return str(net)


def _lookup_connected(state: NetState, ns: Netns, gw: str, dev: int | None) -> int | None:
    """The link through which ``gw`` is directly reachable (a connected route), if any."""
    ip = ipaddress.ip_address(gw)
    best: tuple[int, int] | None = None
    for r in ns.routes:
        if r.scope != "link" or r.dst == "default" or r.via is not None:
            continue
        net = ipaddress.ip_network(r.dst)
        if ip.version == net.version and ip in net and (dev is None or r.dev == dev):
            if best is None or net.prefixlen > best[0]:
                best = (net.prefixlen, r.dev)
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
                           exit=1, hint="`via` takes the gateway's address, e.g. via 10.0.0.1") from None
    if dev_link is not None and not dev_link.up:
        raise NetError.extack("Device for nexthop is not up", errno.ENETDOWN,
                              hint=f"bring it up first: ip link set {op.dev} up")
    if op.via is not None and not op.onlink:
        index = _lookup_connected(state, ns, op.via, dev_link.ifindex if dev_link else None)
        if index is None:
            raise NetError.extack("Nexthop has invalid gateway", errno.EINVAL,
                                  hint=f"{op.via} is not on a subnet of this namespace's links; "
                                       "add an address in its subnet first")
    elif op.via is not None:
        index = dev_link.ifindex if dev_link else None
        if index is None:
            raise NetError.extack("Nexthop device required for onlink", errno.EINVAL)
    elif dev_link is not None:
        index = dev_link.ifindex
    else:
        raise NetError.rtnl(errno.EINVAL, hint="a route needs `via GATEWAY` or `dev IFNAME`")
    if op.src is not None and not any(a.address == op.src for a in ns.addrs):
        raise NetError.extack("Invalid prefsrc address", errno.EINVAL,
                              hint=f"{op.src} is not an address of this namespace")
    metric = op.metric or None
    for r in ns.routes:
        if r.dst == dst and (r.metric or None) == metric:
            raise NetError.rtnl(errno.EEXIST, hint=f"there is already a route to {dst}; delete it first or use another metric")
    family = 6 if ":" in dst else 4
    route = Route(dst=dst, dev=index, family=family, via=op.via, proto="boot",
                  scope="link" if op.via is None else "global", src=op.src, metric=metric,
                  onlink=op.onlink)
    return _with_ns(state, _add_route(ns, route))


def _route_del(state: NetState, op: o.RouteDel) -> NetState:
    ns = _ns(state, op.netns)
    dst = _route_dst(op.dst)
    dev = _link(ns, op.dev).ifindex if op.dev else None
    for r in ns.routes:
        if r.dst == dst and (op.via is None or r.via == op.via) and (dev is None or r.dev == dev):
            return _with_ns(state, replace(ns, routes=tuple(x for x in ns.routes if x is not r)))
    raise NetError.rtnl(errno.ESRCH, hint=f"there is no route to {dst}; see `ip route`")


def _sysctl_set(state: NetState, op: o.SysctlSet) -> NetState:
    ns = _ns(state, op.netns)
    if not op.key.startswith(("net.ipv4.", "net.ipv6.", "net.bridge.", "net.core.")):
        path = "/proc/sys/" + op.key.replace(".", "/")
        raise NetError(f"sysctl: cannot stat {path}: No such file or directory", errno=errno.ENOENT,
                       exit=255, hint="simlab keeps the net.* sysctls of each namespace")
    return _with_ns(state, replace(ns, sysctls={**ns.sysctls, op.key: op.value}))


def _iptables(state: NetState, op: o.Iptables) -> NetState:
    from .netfilter import apply_iptables

    ns = _ns(state, op.netns)
    tables = dict(ns.iptables)
    tables[op.table] = apply_iptables(op.table, tables.get(op.table, ()), op.args)
    return _with_ns(state, replace(ns, iptables=tables))


_HANDLERS: dict[type, Callable] = {
    o.NetnsAdd: _netns_add,
    o.NetnsDel: _netns_del,
    o.LinkAdd: _link_add,
    o.LinkDel: _link_del,
    o.LinkSet: _link_set,
    o.AddrAdd: _addr_add,
    o.AddrDel: _addr_del,
    o.RouteAdd: _route_add,
    o.RouteDel: _route_del,
    o.SysctlSet: _sysctl_set,
    o.Iptables: _iptables,
}
