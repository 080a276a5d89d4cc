"""``ip link add|del``: veth pairs and bridges, names, MACs, MTUs, ifindexes and nsids, and
unregistering a device."""

from __future__ import annotations

import errno

from .. import derive
from .. import ops as o
from ..checks import IFNAMSIZ, bad_netns, check_dev_name, check_name_arg, mtu_range, parse_mac
from ..errors import NetError, say
from ..state import Link, Netns
from ..txn import Txn
from .bridge import recompute_bridge
from .carrier import sync_one
from .find import ZERO_MAC, find_link
from .groups import ALL_NODES


def dev_valid_name(name: str) -> None:
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


def unicast_mac(text: str) -> str:
    """A MAC a device may carry: parsed, not multicast, not all zeros."""
    mac = parse_mac(text)
    if int(mac[:2], 16) & 1 or mac == ZERO_MAC:
        raise NetError.rtnl(errno.EADDRNOTAVAIL,
                            hint=say("a link's MAC must be unicast (first byte even) and not all zeros",
                                     "リンクの MAC アドレスはユニキャスト (先頭バイトが偶数) で、"
                                     "すべて 0 以外である必要があります"))
    return mac


def check_mtu(kind: str, mtu: int) -> None:
    """dev_validate_mtu(): within the kind's min_mtu..max_mtu (no maximum when it is 0)."""
    low, high = mtu_range(kind)
    hint = (say(f"a {kind} accepts an MTU from {low} to {high}",
                f"{kind} に設定できる MTU は {low} から {high} までです") if high
            else say(f"a {kind} accepts an MTU from {low}", f"{kind} に設定できる MTU は {low} 以上です"))
    if mtu < low:
        raise NetError.extack("mtu less than device minimum", errno.EINVAL, hint=hint)
    if high and mtu > high:
        raise NetError.extack("mtu greater than device maximum", errno.EINVAL, hint=hint)


def name_taken(name: str, there: bool = False) -> NetError:
    where_en, where_ja = ("there", "対向側の名前空間には") if there else ("here", "ここには")
    return NetError.rtnl(errno.EEXIST, hint=say(f"a link called {name!r} already exists {where_en}",
                                                f"{where_ja}すでに {name!r} という名前のリンクがあります"))


def alloc_index(ns: Netns, wanted: int | None = None) -> tuple[int, Netns]:
    """Per-netns ifindex: keep ``wanted`` if free, else the namespace's next one."""
    if wanted is not None and wanted not in ns.links:
        return wanted, ns
    index = ns.next_ifindex
    while index in ns.links:
        index += 1
    return index, ns.evolve(next_ifindex=index + 1)


def assign_nsid(ns: Netns, other: str) -> Netns:
    """Give ``other`` an nsid as seen from ``ns`` (the smallest free one)."""
    if other == ns.name or other in ns.nsids:
        return ns
    used = set(ns.nsids.values())
    nsid = len(used) if len(used) == max(used, default=-1) + 1 else 0
    while nsid in used:
        nsid += 1
    return ns.evolve(nsids={**ns.nsids, other: nsid})


def link_nsids(t: Txn, a: str, b: str) -> None:
    """Two namespaces a veth now joins know each other by nsid."""
    if a != b:
        t.put(assign_nsid(t.ns(a), b), assign_nsid(t.ns(b), a))


def _free_name(ns: Netns, prefix: str, also: str | None = None) -> str:
    n = 0
    while ns.link(f"{prefix}{n}") is not None or f"{prefix}{n}" == also:
        n += 1
    return f"{prefix}{n}"


def _check_add(t: Txn, ns: Netns, op: o.LinkAdd) -> tuple[str | None, str | None]:
    """What ip and then the kernel check before a device is made; the MACs to give it."""
    if op.peer_netns is not None and op.peer_netns not in t.state.netns:
        raise bad_netns(op.peer_netns)
    mac = parse_mac(op.mac) if op.mac else None
    peer_mac = parse_mac(op.peer_mac) if op.peer_mac else None
    if op.ifname:
        check_dev_name(op.ifname)  # `ip link add NAME` is checked by ip itself
        dev_valid_name(op.ifname)
    if op.peer:
        check_name_arg(op.peer)  # so is `peer name X`
        dev_valid_name(op.peer)
    if op.ifname and ns.link(op.ifname) is not None:
        raise name_taken(op.ifname)
    if op.kind not in ("veth", "bridge"):
        raise NetError.extack("Unknown device type", errno.EOPNOTSUPP,
                              hint=say("simlab models link types veth and bridge",
                                       "simlab が扱えるリンクの種類は veth と bridge です"))
    if mac is not None:
        mac = unicast_mac(mac)
    if peer_mac is not None:
        peer_mac = unicast_mac(peer_mac)
    if op.mtu is not None:
        check_mtu(op.kind, op.mtu)
    return mac, peer_mac


def link_add(t: Txn, op: o.LinkAdd) -> None:
    ns = t.ns(op.netns)
    mac, peer_mac = _check_add(t, ns, op)
    if op.kind == "bridge":
        _bridge_add(t, ns, op, mac)
    else:
        _veth_add(t, ns, op, mac, peer_mac)


def _bridge_add(t: Txn, ns: Netns, op: o.LinkAdd, mac: str | None) -> None:
    name = op.ifname or _free_name(ns, "bridge")
    if mac is None:
        mac = t.next_mac()
    index, ns = alloc_index(ns)
    # An MTU given at creation is not "set by the user" (BROPT_MTU_SET_BY_USER
    # is set only by br_change_mtu()): the bridge still follows its ports.
    link = Link(index, name, "bridge", mac, mtu=op.mtu or 1500, mac_set=op.mac is not None,
                addr_assign_type=3 if op.mac else 1, mc=(ALL_NODES,))
    t.put(t.links(ns, link))


def _veth_add(t: Txn, ns: Netns, op: o.LinkAdd, mac: str | None, peer_mac: str | None) -> None:
    """veth_newlink(): the peer is registered first, in its own namespace."""
    pkey = op.netns if op.peer_netns is None else op.peer_netns
    pns = t.ns(pkey)
    peer_name = op.peer or _free_name(pns, "veth")
    if pns.link(peer_name) is not None:
        raise name_taken(peer_name, there=True)
    name = op.ifname or _free_name(ns, "veth", also=peer_name if pkey == op.netns else None)
    if pkey == op.netns and peer_name == name:
        raise NetError.rtnl(errno.EEXIST, hint=say("the two ends of a veth pair need different names",
                                                   "veth ペアの両端には別々の名前が必要です"))
    if peer_mac is None:
        peer_mac = t.next_mac()
    if mac is None:
        mac = t.next_mac()
    pindex, pns = alloc_index(pns)
    t.put(pns)
    index, ns = alloc_index(t.ns(op.netns))
    link = Link(index, name, "veth", mac, mtu=op.mtu or 1500, peer=(pkey, pindex),
                addr_assign_type=3 if op.mac else 1, mc=(ALL_NODES,), carrier_ok=False, oper="DOWN")
    peer = Link(pindex, peer_name, "veth", peer_mac, peer=(op.netns, index),
                addr_assign_type=3 if op.peer_mac else 1, mc=(ALL_NODES,), carrier_ok=False, oper="DOWN")
    # veth_newlink() turns both carriers off: linkwatch computes each operstate,
    # the peer first, while the other end does not count as up yet.
    if pkey == op.netns:
        ns = t.links(ns, peer, link.evolve(oper="DOWN"))
        peer = peer.evolve(oper=derive.oper_on_carrier_change(ns, peer, False))
        ns = t.links(ns, peer)
        link = link.evolve(oper=derive.oper_on_carrier_change(ns, link, False))
        t.put(t.links(ns, link))
    else:
        pns = t.links(t.ns(pkey), peer)
        peer = peer.evolve(oper=derive.oper_on_carrier_change(pns, peer, False))
        ns = t.links(ns, link)
        link = link.evolve(oper=derive.oper_on_carrier_change(ns, link, False))
        t.put(t.links(ns, link), t.links(pns, peer))
    link_nsids(t, op.netns, pkey)


def link_del(t: Txn, op: o.LinkDel) -> None:
    ns = t.ns(op.netns)
    link = find_link(ns, op.ifname)
    if link.kind == "loopback":
        raise NetError.rtnl(errno.EOPNOTSUPP,
                            hint=say("lo belongs to the namespace; delete the namespace instead",
                                     "lo は名前空間に付属するリンクです。代わりに名前空間を削除してください"))
    remove_device(t, op.netns, link.ifindex)


def remove_link(t: Txn, key: str, index: int) -> None:
    """Unregister one device: its state goes, its bridge forgets it, ports are freed."""
    ns = t.ns(key)
    link = ns.links[index]
    ns = ns.evolve(
        addrs=tuple(a for a in ns.addrs if a.ifindex != index),
        routes=tuple(r for r in ns.routes if r.dev != index),
        neighs=tuple(n for n in ns.neighs if n.ifindex != index),
        fdb=tuple(f for f in ns.fdb if f.ifindex != index),
    )
    ns = t.links(ns, drop=(index,))
    if link.kind == "bridge":
        freed = [l.evolve(master=None, port_no=0, hairpin=False, learning=True, flood=True)
                 for l in ns.links.values() if l.master == index]
        if freed:
            ns = t.links(ns, *freed)
            gone = {l.ifindex for l in freed}
            ns = ns.evolve(fdb=tuple(f for f in ns.fdb if f.ifindex not in gone))
    if link.master is not None:
        ns = recompute_bridge(t, ns, link.master)
    t.put(ns)
    if link.master is not None:
        sync_one(t, key, link.master)


def remove_device(t: Txn, key: str, index: int) -> None:
    """Delete a device; a veth takes its peer with it."""
    link = t.ns(key).links[index]
    remove_link(t, key, index)
    if link.peer is not None:
        pkey, pindex = link.peer
        if pkey in t.state.netns and pindex in t.ns(pkey).links:
            remove_link(t, pkey, pindex)
