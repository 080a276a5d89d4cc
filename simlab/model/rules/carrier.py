"""What the kernel does on its own when a link goes up or down or its carrier changes.

Carrier, addrconf (IPv6 link-local, multicast groups), a bridge port's
learning, and linkwatch's operstate once the command is done.
"""

from __future__ import annotations

from .. import derive
from ..learn import fdb_learn
from ..state import Addr, Link
from ..txn import Txn
from .addr import add_connected, insert_v4, insert_v6, v4_of
from .bridge import ports
from .find import ADDRESS, ETHER_KINDS, IFINDEX, ZERO_MAC, where, without
from .groups import ALL_HOSTS, ALL_NODES, SNOOPERS, mc_add, solicited


def sync(t: Txn, key: str, index: int) -> None:
    """Re-check what follows from carrier: the link, its peer, then their bridges."""
    ns = t.state.netns.get(key)
    link = ns.links.get(index) if ns else None
    if link is None:
        return
    order = [(key, index)]
    if link.peer is not None:
        order.append(link.peer)
    for k, i in list(order):
        other = t.state.netns.get(k)
        other_link = other.links.get(i) if other else None
        if other_link is not None and other_link.master is not None:
            order.append((k, other_link.master))
    done = set()
    for k, i in order:
        if (k, i) not in done:
            done.add((k, i))
            sync_one(t, k, i)


def sync_one(t: Txn, key: str, index: int) -> None:
    ns = t.state.netns.get(key)
    link = ns.links.get(index) if ns else None
    if link is None:
        return
    carrier_bit = derive.netif_carrier(t.state, ns, link)
    if carrier_bit != link.carrier_ok:
        # A carrier change queues a linkwatch event (the only thing that recomputes operstate).
        link = link.evolve(carrier_ok=carrier_bit)
        ns = t.links(ns, link)
        t.put(ns)
        t.queue_linkwatch(key, index)
    if link.up and not link.v6_ready and carrier_bit:
        _addrconf_up(t, ns, link)
    if link.master is not None:
        _learn(t, key, link)


def _addrconf_up(t: Txn, ns, link: Link) -> None:
    """addrconf_dev_config(): IF_READY, and the link-local address (DAD is off in the lab)."""
    index = link.ifindex
    link = link.evolve(v6_ready=True)
    new = None
    if link.kind == "loopback":
        new = Addr(index, 6, "::1", 128, scope="host")
    elif link.kind in ETHER_KINDS and link.mac != ZERO_MAC:
        new = Addr(index, 6, derive.eui64_link_local(link.mac), 64, scope="link")
    if link.kind in ETHER_KINDS:
        # ipv6_mc_up(): ff02::1 and the solicited-node groups of the addresses it has.
        # (addrconf_join_solict(): none on a NOARP device)
        link = mc_add(link, ALL_NODES, *(solicited(a.address) for a in where(ns.addrs, IFINDEX, index)
                                         if a.family == 6 and not link.noarp))
    if new is not None and (new.address not in map(ADDRESS, ns.addrs) or not any(
            a.address == new.address for a in where(ns.addrs, IFINDEX, index))):
        ns = insert_v6(ns, new)
        if link.kind in ETHER_KINDS and not link.noarp:
            link = mc_add(link, solicited(new.address))
    t.put(t.links(ns, link))
    _heard(t, link)


def _learn(t: Txn, key: str, port: Link) -> None:
    """A port that stops forwarding forgets what it learnt (br_fdb_delete_by_port());
    one that forwards learns its peer's MAC if the peer has IPv6 up (it is still
    soliciting routers: the RS goes out 1, 5 and 9 s after it got IPv6)."""
    ns = t.ns(key)
    if derive.port_state(t.state, ns, port) == "forwarding":
        other = derive.peer_link(t.state, port)
        if other is not None and other[1].up and other[1].v6_ready:
            _heard(t, other[1])
    elif port.ifindex in map(IFINDEX, ns.fdb):
        t.put(ns.evolve(fdb=without(ns.fdb, IFINDEX, port.ifindex)))


def _heard(t: Txn, sender: Link) -> None:
    """``sender`` just got IPv6 (it sends MLD reports and a router solicitation):
    if its veth peer is a forwarding bridge port, the bridge learns its MAC there."""
    other = derive.peer_link(t.state, sender)
    if other is None or other[1].master is None:
        return
    key, port = other
    ns = t.ns(key)
    if derive.port_state(t.state, ns, port) == "forwarding" and port.master in ns.links and port.learning:
        t.state = fdb_learn(t.state, key, port.ifindex, sender.mac)


def linkwatch(t: Txn) -> None:
    """linkwatch_do_dev() after the command (RTNL held until then): each queued
    link's operstate, in event order, from the state the command left."""
    for key, index in t.carrier_changed:
        ns = t.state.netns.get(key)
        link = ns.links.get(index) if ns else None
        if link is None:
            continue
        oper = derive.oper_on_carrier_change(ns, link, link.carrier_ok)
        if oper != link.oper:
            t.put(t.links(ns, link.evolve(oper=oper)))


def set_up(t: Txn, key: str, index: int, up: bool) -> None:
    ns = t.ns(key)
    link = ns.links[index]
    if up:
        link = link.evolve(up=True, activated=True)
        if link.kind in ETHER_KINDS:
            # br_dev_open() joins the snoopers' groups, ip_mc_up() 224.0.0.1; the IPv6
            # groups come back with ipv6_mc_up(), once the link has carrier (sync_one).
            link = mc_add(link, *(SNOOPERS if link.kind == "bridge" else ()), ALL_HOSTS)
        ns = t.links(ns, link)
        if link.kind == "loopback" and not any(a.address == "127.0.0.1" and a.prefixlen == 8
                                               for _, a, _s in v4_of(ns, index)):
            ns = insert_v4(ns, Addr(index, 4, "127.0.0.1", 8, scope="host"))
        t.put(add_connected(ns, link))
        if link.kind == "bridge":
            for port in ports(ns, index):
                sync_one(t, key, port.ifindex)
    else:
        # dev_close(): routes through the link go, addrconf_ifdown() drops IPv6
        # addresses; ip_mc_down() and br_dev_stop() leave their groups, ipv6_mc_down()
        # the IPv6 ones only if IPv6 had come up (ff02::1 stays from registration otherwise).
        v6_groups = () if link.v6_ready else tuple(m for m in link.mc if m.startswith("33:33:")
                                                    and m not in SNOOPERS)
        link = link.evolve(up=False, v6_ready=False, mc=v6_groups)
        ns = t.links(ns, link)
        ns = ns.evolve(addrs=tuple(a for a in ns.addrs if a.ifindex != index or a.family != 6)
                       if index in map(IFINDEX, ns.addrs) else ns.addrs,
                       routes=tuple(r for r in ns.routes if r.dev != index),
                       neighs=tuple(n for n in ns.neighs if n.ifindex != index))
        if link.kind == "bridge":
            members = {p.ifindex for p in ports(ns, index)}
            ns = ns.evolve(fdb=tuple(f for f in ns.fdb if f.ifindex not in members))
        t.put(ns)
    sync(t, key, index)
