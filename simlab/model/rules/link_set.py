"""``ip link set`` (and ``bridge link set ... hairpin``): checked first, then changed in do_setlink()'s order.

Moving a link to another namespace sets it down, drops its addresses and
routes, removes it from its bridge, resets its qdisc and keeps its ifindex
unless that is taken there.
"""

from __future__ import annotations

import errno
import os

from .. import ops as o
from ..checks import bad_netns, check_name_arg, no_master
from ..errors import NetError, say
from ..state import Link
from ..txn import Txn
from .bridge import enslave, recompute_bridge, release
from .carrier import set_up, sync, sync_one
from .find import ETHER_KINDS
from .groups import ALL_NODES
from .link import (alloc_index, assign_nsid, check_mtu, dev_valid_name, link_nsids, name_taken, remove_link,
                   unicast_mac)


def link_set(t: Txn, op: o.LinkSet) -> None:
    link = _find(t, op)
    master, mac = _check(t, op, link)
    key = op.netns
    if op.to_netns is not None and op.to_netns != key:
        key, link = _move(t, key, link, op.to_netns)
    index = link.ifindex
    link = _set_attributes(t, key, link, op, mac)
    if op.up is not None and op.up != link.up:
        set_up(t, key, index, op.up)
    if op.master is not None:
        _set_master(t, key, index, master)
    if o.port_options(op):
        ns = t.ns(key)
        link = ns.links[index]
        changed = link.evolve(**o.port_options(op))
        if changed != link:
            t.put(t.links(ns, changed))


def _find(t: Txn, op: o.LinkSet) -> Link:
    """iproute2 resolves its arguments (netns, master) before it looks the device up."""
    ns = t.ns(op.netns)
    if op.to_netns is not None and op.to_netns not in t.state.netns:
        raise bad_netns(op.to_netns)
    if op.master not in (None, o.NOMASTER) and ns.link(op.master) is None:
        raise no_master(op.master)
    link = ns.link(op.ifname)
    if link is None:
        if o.port_options(op):  # bridge(8) words it its own way
            raise NetError(f'Cannot find bridge device "{op.ifname}"', errno=errno.ENODEV, exit=255,
                           hint=say(f"there is no link called {op.ifname!r} here",
                                    f"ここには {op.ifname!r} という名前のリンクはありません"))
        raise NetError.no_device(op.ifname)
    return link


def _check(t: Txn, op: o.LinkSet, link: Link) -> tuple[Link | None, str | None]:
    """The kernel's checks, in do_setlink()'s order, before anything changes: the new master and MAC."""
    ns = t.ns(op.netns)
    moving = op.to_netns is not None and op.to_netns != op.netns
    if moving:
        if link.kind in ("loopback", "bridge"):
            raise NetError.extack("The interface netns is immutable", errno.EINVAL,
                                  hint=say(f"a {link.kind} cannot leave its namespace",
                                           f"{link.kind} は自分の名前空間から移動できません"))
        if t.ns(op.to_netns).link(link.ifname) is not None:
            raise NetError.extack("An interface with the same name exists in the target netns",
                                  errno.EEXIST,
                                  hint=say("rename it first, or the one over there",
                                           "先にこのリンクか、移動先にある同じ名前のリンクの名前を"
                                           "変えてください"))
    mac = unicast_mac(op.mac) if op.mac is not None else None
    if op.mtu is not None:
        check_mtu(link.kind, op.mtu)
    if op.name is not None and op.name != link.ifname:
        check_name_arg(op.name)  # `name X` is checked by ip itself
        dev_valid_name(op.name)
        if t.ns(op.to_netns if op.to_netns is not None else op.netns).link(op.name) is not None:
            raise name_taken(op.name)
    master = None
    if op.master not in (None, o.NOMASTER):
        if moving:
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
    if o.port_options(op) and link.master is None and master is None:
        raise NetError(f"RTNETLINK answers: {os.strerror(errno.EOPNOTSUPP)}",
                       errno=errno.EOPNOTSUPP, exit=255,
                       hint=say(f"{op.ifname} is not a bridge port",
                                f"{op.ifname} はブリッジのポートではありません"))
    return master, mac


def _set_attributes(t: Txn, key: str, link: Link, op: o.LinkSet, mac: str | None) -> Link:
    """Address, mtu, name, promisc: a bridge port's change can change its bridge."""
    ns = t.ns(key)
    if mac is not None and mac != link.mac:
        link = link.evolve(mac=mac, addr_assign_type=3, mac_set=link.kind == "bridge" or link.mac_set)
        ns = t.links(ns, link)
        if link.master is not None:
            ns = recompute_bridge(t, ns, link.master)
    elif mac is not None and link.kind == "bridge":
        link = link.evolve(mac_set=True, addr_assign_type=3)
        ns = t.links(ns, link)
    if op.mtu is not None:
        link = link.evolve(mtu=op.mtu, mtu_set=link.kind == "bridge" or link.mtu_set)
        ns = t.links(ns, link)
        if link.master is not None:
            ns = recompute_bridge(t, ns, link.master)
    if op.name is not None and op.name != link.ifname:
        link = link.evolve(ifname=op.name)
        ns = t.links(ns, link)
    if op.promisc is not None and op.promisc != link.promisc:
        link = link.evolve(promisc=op.promisc)
        ns = t.links(ns, link)
    if op.arp is not None and link.kind in ("veth", "bridge"):
        link = link.evolve(noarp=not op.arp)
        ns = t.links(ns, link)
    if op.multicast is not None and link.kind in ("veth", "bridge"):
        link = link.evolve(nomulticast=not op.multicast)
        ns = t.links(ns, link)
    if op.allmulticast is not None:
        link = link.evolve(allmulti=op.allmulticast)
        ns = t.links(ns, link)
    t.put(ns)
    if mac is not None and link.kind == "bridge":
        # br_stp_change_bridge_id() reselects port states: no live port, no carrier.
        sync_one(t, key, link.ifindex)
        link = t.ns(key).links[link.ifindex]
    return link


def _set_master(t: Txn, key: str, index: int, master: Link | None) -> None:
    ns = t.ns(key)
    link = ns.links[index]
    old = link.master
    new = master.ifindex if master is not None else None
    if old == new:
        return
    if old is not None:
        ns, link = release(t, ns, link)
    if new is not None:
        ns, link = enslave(t, ns, link, ns.links[new])
    t.put(ns)
    for bridge in (old, new):
        if bridge is not None:
            sync_one(t, key, bridge)
    sync(t, key, index)


def _move(t: Txn, key: str, link: Link, target: str) -> tuple[str, Link]:
    """dev_change_net_namespace(): down, unregistered here, registered there afresh."""
    if link.up:
        set_up(t, key, link.ifindex, False)
        link = t.ns(key).links[link.ifindex]
    if link.master is not None:
        ns, link = release(t, t.ns(key), link)
        t.put(ns)
    remove_link(t, key, link.ifindex)
    # __dev_change_net_namespace(): the old namespace reports IFLA_NEW_NETNSID,
    # so it gets an nsid for the new one (peernet2id_alloc()).
    t.put(assign_nsid(t.ns(key), target))
    index, tns = alloc_index(t.ns(target), wanted=link.ifindex)
    moved = link.evolve(ifindex=index, master=None, hairpin=False, learning=True, flood=True, port_no=0, activated=False,
                        v6_ready=False, mc=(ALL_NODES,) if link.kind in ETHER_KINDS else ())
    t.put(t.links(tns, moved))
    queued = t.carrier_changed
    if (key, link.ifindex) in queued:
        queued[queued.index((key, link.ifindex))] = (target, index)
    if moved.peer is not None:
        pkey, pindex = moved.peer
        pns = t.ns(pkey)
        t.put(t.links(pns, pns.links[pindex].evolve(peer=(target, index))))
        link_nsids(t, target, pkey)
        sync(t, pkey, pindex)
    return target, moved
