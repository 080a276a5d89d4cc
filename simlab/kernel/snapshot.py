"""Reading the lab's namespaces back into :class:`~simlab.model.NetState` values.

A namespace is re-read only when its monitor sockets saw a change since the
last read (rtnetlink groups for links, addresses, routes, nsids, netconf; the
nftables group for iptables rules).  A read settles what the kernel finishes
asynchronously, so that a snapshot is what the next ``ip`` command would show:

- operstate (linkwatch, up to a second late for a bridge): a single
  ``RTM_GETLINK`` of a link runs its queued event (``linkwatch_sync_dev``);
- IPv6 addresses start ``tentative`` until addrconf's work runs, DAD or not;
- a bridge learns its ports' peers from their first frames (MLD reports).

Neighbour entries change with traffic and timers.  The monitor also listens
to RTNLGRP_NEIGH, but not every move is announced: REACHABLE -> DELAY (timer),
STALE -> DELAY and FAILED -> INCOMPLETE (a packet uses the entry), a new
entry's NONE -> INCOMPLETE, and an entry added by hand as FAILED or INCOMPLETE
send no RTM_NEWNEIGH.  So a namespace that holds an entry in any state but
PERMANENT has its neighbours dumped again at every snapshot; the others cost
nothing until an event.  What stays unseen, in a namespace without such
entries: a new entry while it is INCOMPLETE, until its answer (REACHABLE) or
its last probe (FAILED, about 3 s later) is announced, and an entry added by
hand as FAILED or INCOMPLETE, until the next announced change there.
"""

from __future__ import annotations

import contextlib
import select
import time
from dataclasses import fields

from ..model.state import Link, Netns
from . import read as rd
from .context import Kernel, Ns
from .netns import read_sysctl
from .rtnl import ADDR, EVERYTHING, LINK, NEIGH, NETCONF, NSID, ROUTE, RULE
from .spaces import monitors_here

__all__ = ["read_all", "read_ns", "full_read"]

_IFF_PROMISC = 0x100
_LINK_FIELDS = {f.name for f in fields(Link)}


#: The parts of a namespace a read redoes, besides the monitors' (:mod:`.rtnl`) five.
SYSCTL, IPTABLES = "sysctl", "iptables"
ALL = EVERYTHING | {SYSCTL}
#: What a notification about one part can have changed elsewhere without a notification
#: of its own: a link change anything (routes go silently with a link's carrier or its
#: addresses, labels follow names...), and so does an nsid (a veth's peer moved to the
#: namespace it names: this end's link-netnsid changed, unannounced); an address
#: change the routes (IPv4 ones go silently with their source) and the multicast
#: lists; a neighbour one the learned FDB.
_REDO = {
    LINK: ALL - {SYSCTL},  # (ip_forward announces itself: netconf; the other sysctls are
    NSID: ALL - {SYSCTL},  # read every time) -- a sysctl read enters the namespace: costly
    ADDR: frozenset({ADDR, ROUTE, "fdb"}),
    ROUTE: frozenset({ROUTE}),
    NEIGH: frozenset({NEIGH, "fdb"}),
    NETCONF: frozenset({SYSCTL}),
    RULE: frozenset({RULE}),
    SYSCTL: frozenset({SYSCTL}),
    IPTABLES: frozenset({IPTABLES}),
}


def read_all(k: Kernel) -> tuple[dict[str, Netns], bool]:
    """The real state of every namespace of the lab, as model values, and whether it
    differs from the last read.

    Only the namespaces whose monitors have something to tell are visited (one epoll
    over all of them), and in those only the parts the notifications were about are
    read again; the rest is the last read's objects, shared.
    """
    if k.poller is None:
        k.poller = select.epoll()
    changed = False
    todo: dict[str, set] = {}
    only: dict[str, set | None] = {}  # the links notified, by namespace (None: any)
    handles = k.read_handles
    if handles.keys() != k.ns.keys():
        changed = True  # namespaces came or went
        for key in [x for x in handles if x not in k.ns]:
            _forget(k, key)
        k.table = {key: k.table.get(key) for key in k.ns}
    for key, handle in k.ns.items():
        # New (or made again), or a handler asked for a full read (traffic, sysctl, iptables).
        if handle.cache is None or handles.get(key) is not handle:
            if handles.get(key) is not handle:
                if key in handles:
                    _forget(k, key)
                _watch(k, handle)
            handle.parts = {}
            todo[key] = set(ALL)
            only[key] = None
    for fd, _events in k.poller.poll(0):
        found = k.polled.get(fd)
        if found is None:
            continue
        key, which = found
        handle = k.ns.get(key)
        if handle is None:
            continue
        if which == "nf":
            if handle.nfmon.changed():
                todo.setdefault(key, set()).add(IPTABLES)
        else:
            parts = handle.mon.changed()
            if parts:
                todo.setdefault(key, set()).update(parts)
                links, handle.mon.links = handle.mon.links, set()
                # An nsid came or went: a veth end's link-netnsid may have changed, unannounced.
                _target(only, key, None if NSID in parts else links)
    for key in k.every_time:
        todo.setdefault(key, set())
    done: dict[str, set | None] = {}  # the links read so far in this pass (None: all)
    while todo:
        key, parts = todo.popitem()
        handle = k.ns[key]
        what: set = set()
        for part in parts:
            what |= _REDO[part]
        if handle.nfmon is None:
            what = ALL | {IPTABLES}  # no nftables monitor: read the rules every time
        elif len(handle.sysctl_keys) > 1:
            what.add(SYSCTL)  # sysctls other than ip_forward send no netconf notification
        old = k.table.get(key)
        if old is None or not handle.parts:
            what |= ALL
        if what:
            targets = only.pop(key, None) if LINK in what else None
            new = read_ns(k, handle, frozenset(what), targets)
            if LINK in what:
                prev = done.get(key, set())
                done[key] = None if targets is None or prev is None else prev | targets
            else:
                done.setdefault(key, set())
        elif _on_timers(old):
            new = _with_neighs(old, rd.dump_neighs(handle.rt))
            done.setdefault(key, set())
        else:
            new = old
            done.setdefault(key, set())
        if old is not None and new is not old and new == old:
            new = old  # the same as last time: the same object
        if new is not old:
            k.table[key] = new
            changed = True
        handle.cache = new
        if handle.nfmon is None or len(handle.sysctl_keys) > 1 or _on_timers(new):
            k.every_time.add(key)
        else:
            k.every_time.discard(key)
        # A veth end that changed changed its peer's carrier too, which the peer's
        # namespace announces only once linkwatch gets to it: read that one as well.
        if LINK in what and handle.mon is not None:
            for other, indexes in _peer_spaces(k, handle, targets).items():
                seen = done.get(other, set())
                if other in k.ns and seen is not None and not indexes <= seen:
                    # (read again if it was read earlier in this pass: its peer changed since)
                    todo.setdefault(other, set()).add(LINK)
                    _target(only, other, indexes)
    return dict(k.table), changed


def _target(only: dict, key: str, indexes: set | None) -> None:
    """Add ``indexes`` to the links to read again in ``key`` (None: all of them)."""
    if key in only and only[key] is None:
        return
    only[key] = None if indexes is None else only.get(key, set()) | indexes


def _peer_spaces(k: Kernel, handle: Ns, changed: set | None) -> dict[str, set[int]]:
    """The other namespaces of the veth peers of the links ``changed`` in ``handle``
    (None: all its links), with the peers' ifindexes."""
    by_index, out = handle.parts.get("by_index", {}), {}
    for index in by_index if changed is None else changed:
        raw = by_index.get(index)
        if raw is not None and raw.kind == "veth" and raw.link_netnsid is not None:
            other = k.nsid_key(handle, raw.link_netnsid)
            if other is not None and raw.link:
                out.setdefault(other, set()).add(raw.link)
    return out


def full_read(k: Kernel) -> dict[str, Netns]:
    """Every namespace read whole, whatever the monitors said (what :func:`read_all`
    must equal; for tests).  The incremental reader's own state is left as it was."""
    table = {}
    for key, handle in list(k.ns.items()):
        kept = handle.parts, handle.cache, handle.iptables, handle.iptables_read
        handle.parts, handle.iptables_read = {}, False
        try:
            table[key] = read_ns(k, handle, ALL)
        finally:
            handle.parts, handle.cache, handle.iptables, handle.iptables_read = kept
    return table


def _watch(k: Kernel, handle: Ns) -> None:
    """Make ``handle``'s monitors (first read: from now on they tell what changed)."""
    if handle.mon is None:
        k.thread.inside(handle.path, monitors_here, handle)
    handle.iptables_read = False
    for which, mon in (("rt", handle.mon), ("nf", handle.nfmon)):
        if mon is not None:
            k.poller.register(mon.fileno(), select.EPOLLIN)
            k.polled[mon.fileno()] = (handle.key, which)
    k.read_handles[handle.key] = handle


def _forget(k: Kernel, key: str) -> None:
    handle = k.read_handles.pop(key)
    k.every_time.discard(key)
    for fd in [fd for fd, (x, _w) in k.polled.items() if x == key]:
        del k.polled[fd]
        with contextlib.suppress(OSError, ValueError):
            k.poller.unregister(fd)
    del handle


def settled_links(handle: Ns) -> list[rd.RawLink]:
    """The links, after running the linkwatch events still pending in the namespace.

    The kernel updates operstate (and, through NETDEV_CHANGE, makes IPv6
    link-local addresses) from a linkwatch queue, up to a second late for a
    bridge.  A link whose operstate disagrees with its carrier has an event
    queued; a single ``RTM_GETLINK`` of it runs the event now
    (``rtnl_getlink`` -> ``linkwatch_sync_dev``).  A disagreement that stays
    is the kernel's own stale operstate, kept as it is.
    """
    raws = rd.dump_links(handle.rt)
    synced: set[int] = set()
    for _round in range(3):
        # A port's event can queue its bridge's (carrier): another round syncs that one.
        lagging = [x for x in raws if _lagging(x) and x.ifindex not in synced]
        if not lagging:
            break
        for link in lagging:
            rd.get_link_index(handle.rt, link.ifindex)
            synced.add(link.ifindex)
        raws = rd.dump_links(handle.rt)
    return raws


def settled_addrs(handle: Ns, links: dict) -> list:
    """The addresses, once no IPv6 address is still ``tentative``.

    With DAD off an address still starts tentative and addrconf's work
    queue clears the flag a moment later (it also adds its routes then).
    """
    deadline = time.monotonic() + 1.0
    while rd.has_tentative(handle.rt) and time.monotonic() < deadline:
        time.sleep(0.002)
    return rd.dump_addrs(handle.rt, links)


def settled_fdb(handle: Ns, raws: list[rd.RawLink]):
    """The FDB once each forwarding bridge port has learned its peer.

    The first frame a new link sends (its MLD report when its IPv6
    link-local address is made) crosses the veth and the bridge in softirq
    a moment after the change: wait for it (at most 0.2 s).
    """
    up_bridges = {x.ifindex for x in raws if x.kind == "bridge" and x.up}
    forwarding = {x.ifindex for x in raws if x.master in up_bridges and x.up and x.carrier}
    deadline = time.monotonic() + 0.2
    while True:
        mc, fdb = rd.dump_fdb(handle.rt)
        if forwarding <= {e.ifindex for e in fdb} or time.monotonic() > deadline:
            return mc, fdb
        time.sleep(0.002)


def had_ports(k: Kernel, key: str, raw: rd.RawLink, ports: list, set_by_hand: bool) -> bool:
    """Whether a bridge ever had a port: seen with one, or without the carrier it
    keeps until its first port (a bridge made with a MAC of its own starts without)."""
    seen = k.bridges_with_ports
    if ports:
        seen.add((key, raw.ifindex))
    return (key, raw.ifindex) in seen or (not raw.carrier and not set_by_hand)


def read_ns(k: Kernel, handle: Ns, what: frozenset = ALL, only: set | None = None) -> Netns:
    """Namespace ``handle`` as a :class:`Netns`, reading again the parts in ``what``
    (:data:`ALL`: everything) and taking the others from the last read.

    ``only``: the links to read again (the others are the last read's), else all."""
    key, parts = handle.key, handle.parts
    relinked = None  # the ifindexes whose Link must be made again (None: all)
    if (LINK in what or not parts) and only is not None and "raws" in parts:
        relinked = _settled_some(handle, parts, only)
    elif LINK in what or not parts:
        parts["raws"] = settled_links(handle)
        parts["by_index"] = {x.ifindex: x for x in parts["raws"]}
    raws, by_index = parts["raws"], parts["by_index"]
    # Addresses first: addrconf's work that clears "tentative" also joins the
    # solicited-node group (the multicast lists) and adds the IPv6 routes.
    if ADDR in what or "addrs" not in parts:
        parts["addrs"] = tuple(settled_addrs(handle, by_index))
    old_mc = parts.get("mc")
    if "fdb" in what or LINK in what or "fdb" not in parts:
        parts["mc"], fdb = settled_fdb(handle, raws)
        parts["fdb"] = tuple(fdb)
    if NSID in what or "nsids" not in parts:
        nsids = {}
        for nsid in rd.dump_nsids(handle.rt):
            other = k.nsid_key(handle, nsid)
            if other is not None:
                nsids[other] = nsid
        parts["nsids"] = nsids
    if NSID in what or "links" not in parts or (LINK in what and relinked is None):
        parts["links"] = _links(k, handle, raws, parts["mc"])
    elif relinked or parts["mc"] != old_mc:
        mc = parts["mc"]
        moved = {i for i in set(mc) | set(old_mc or ()) if mc.get(i) != (old_mc or {}).get(i)}
        parts["links"] = _links(k, handle, raws, mc, (relinked or set()) | moved, parts["links"])
    if ROUTE in what or "routes" not in parts:
        parts["routes"] = tuple(rd.dump_routes(handle.rt))
    if NEIGH in what or "neighs" not in parts:
        parts["neighs"] = tuple(rd.dump_neighs(handle.rt))
    if RULE in what or "rules" not in parts:
        parts["rules"] = tuple(rd.dump_rules(handle.rt))
    if SYSCTL in what or "sysctls" not in parts:
        parts["sysctls"] = k.thread.inside(handle.path, _read_sysctls, sorted(handle.sysctl_keys))
    if IPTABLES in what:
        handle.iptables_read = False
    if not handle.iptables_read:
        handle.iptables = read_iptables(k, handle)
        handle.iptables_read = True
    handle.cache = Netns(
        name=key,
        links=parts["links"],
        addrs=parts["addrs"],
        fdb=parts["fdb"],
        routes=parts["routes"],
        neighs=parts["neighs"],
        sysctls=parts["sysctls"],
        iptables=dict(handle.iptables),
        next_ifindex=handle.next_ifindex,
        nsids=parts["nsids"],
        rules=parts["rules"],
        custom_rules=handle.custom_rules,
    )
    return handle.cache


def _settled_some(handle: Ns, parts: dict, only: set) -> set:
    """Read again the links ``only`` (settled, like :func:`settled_links`), their
    peers here and their bridges (whose carrier follows theirs); the ifindexes read."""
    by_index = dict(parts["by_index"])
    done: set = set()
    wanted = set(only)
    for _round in range(3):
        for index in sorted(wanted - done):
            # RTM_GETLINK of one link runs its queued linkwatch event first.
            raw = rd.get_link_index(handle.rt, index)
            done.add(index)
            old = by_index.pop(index, None)
            if raw is not None:
                by_index[index] = raw
            for x in (old, raw):
                if x is not None and x.master is not None:
                    wanted.add(x.master)
                if x is not None and x.kind == "veth" and x.link_netnsid is None and x.link:
                    wanted.add(x.link)
        lagging = {i for i in done if i in by_index and _lagging(by_index[i])}
        if wanted <= done and not lagging:
            break
        done -= lagging
        wanted |= lagging
    parts["by_index"] = dict(sorted(by_index.items()))  # a dump's order (by ifindex)
    parts["raws"] = list(parts["by_index"].values())
    return done


def _links(k: Kernel, handle: Ns, raws: list, mc: dict, some: set | None = None,
           old: dict | None = None) -> dict:
    """The Link values; with ``some``, only those ifindexes made again (and the others
    taken from ``old``)."""
    key = handle.key
    by_index = {x.ifindex: x for x in raws}
    ports_of: dict = {}
    for raw in raws:
        if raw.master is not None:
            ports_of.setdefault(raw.master, []).append(raw)
    if some is not None:
        links = {i: old[i] for i in by_index if i in old and i not in some}
        todo = [by_index[i] for i in sorted(some) if i in by_index]
    else:
        links, todo = {}, raws
    for raw in todo:
        peer = None
        if raw.kind == "veth" and raw.link is not None:
            if raw.link_netnsid is None:
                peer = (key, raw.link)
            else:
                other = k.nsid_key(handle, raw.link_netnsid)
                peer = (other, raw.link) if other is not None else None
        ports = ports_of.get(raw.ifindex, [])
        set_by_hand = (key, raw.ifindex) in k.mac_set
        values = dict(
            ifindex=raw.ifindex,
            ifname=raw.ifname,
            kind=raw.kind,
            mac=raw.mac,
            mtu=raw.mtu,
            up=raw.up,
            txqlen=raw.txqlen,
            peer=peer,
            master=raw.master,
            mac_set=raw.kind == "bridge" and set_by_hand,
            addr_assign_type=0
            if raw.kind not in ("veth", "bridge")
            else (3 if set_by_hand else 1),
            hairpin=raw.hairpin,
            learning=raw.learning,
            flood=raw.flood,
            promisc=bool(raw.flags & _IFF_PROMISC),
            activated=raw.qdisc != "noop",
            v6_ready=bool(raw.v6_flags & rd.IF_READY),
            had_ports=raw.kind == "bridge" and had_ports(k, key, raw, ports, set_by_hand),
            mtu_set=(key, raw.ifindex) in k.mtu_set,
            port_no=raw.port_no if raw.master else 0,
            carrier_ok=bool(raw.carrier),
            oper=raw.operstate,
            mc=mc.get(raw.ifindex, ()),
            noarp=raw.kind in ("veth", "bridge") and bool(raw.flags & 0x80),  # IFF_NOARP
            nomulticast=raw.kind in ("veth", "bridge") and not raw.flags & 0x1000,  # IFF_MULTICAST
            allmulti=bool(raw.flags & 0x200),  # IFF_ALLMULTI
        )
        links[raw.ifindex] = Link(**{f: v for f, v in values.items() if f in _LINK_FIELDS})
    if some is not None:
        links = {i: links[i] for i in by_index if i in links}  # the dump's order
    # The kernel's per-namespace counter is not visible: it moved past every
    # index it handed out here, which a link moved in with its own index was not.
    handle.moved_in &= set(by_index)
    counted = [i for i in by_index if i not in handle.moved_in]
    handle.next_ifindex = max(handle.next_ifindex, max(counted, default=1) + 1)
    return links


def has_tables(k: Kernel, handle: Ns) -> bool:
    """Whether the namespace has any nftables table (a request, not an iptables run)."""
    if handle.nfmon is None:
        return True
    return k.thread.inside(handle.path, rd.has_nft_tables)


def read_iptables(k: Kernel, handle: Ns) -> dict:
    """``iptables-save`` inside the namespace, as ``iptables -S`` lines per table."""
    if not has_tables(k, handle):
        return {}  # no nftables table at all: nothing for iptables to list
    p = k.run_in(handle, ["iptables-save"])
    tables: dict[str, list[str]] = {}
    current = None
    for line in p.stdout.splitlines():
        if line.startswith("*"):
            current = tables.setdefault(line[1:], [])
        elif current is None or line.startswith("#") or line == "COMMIT":
            continue
        elif line.startswith(":"):
            # ":FORWARD DROP [0:0]": a built-in chain and its policy, kept (as the model keeps
            # it) only when not ACCEPT; ":DOCKER - [0:0]": a user chain.
            chain, policy = line[1:].split()[:2]
            if policy == "-":
                current.append(f"-N {chain}")
            elif policy != "ACCEPT":
                current.insert(0, f"-P {chain} {policy}")
        elif line.startswith("-"):
            current.append(line)
    return {t: tuple(lines) for t, lines in tables.items()}


# ---------------------------------------------------------------- helpers
def _on_timers(ns: Netns) -> bool:
    """Some neighbour entry may change state without an announcement (see the module docstring)."""
    return any(n.state != "PERMANENT" for n in ns.neighs)


def _with_neighs(ns: Netns, neighs: list) -> Netns:
    """``ns`` with these neighbour entries (the same object when they did not change)."""
    found = tuple(neighs)
    return ns if found == ns.neighs else ns.evolve(neighs=found)


def _lagging(link: rd.RawLink) -> bool:
    """Operstate disagrees with carrier: a linkwatch event is (or may be) queued."""
    if link.kind not in ("veth", "bridge"):
        return False
    if not link.up:
        return link.operstate != "DOWN"
    if link.carrier:
        # UNKNOWN: never computed (a bridge that never had a port) or an event is
        # queued; a sync costs one request and tells which.
        return link.operstate != "UP"
    return link.operstate in ("UP", "UNKNOWN")


def _read_sysctls(keys: list[str]) -> dict:
    out = {}
    for key in keys:
        with contextlib.suppress(OSError):
            out[key] = read_sysctl(key)
    return out
