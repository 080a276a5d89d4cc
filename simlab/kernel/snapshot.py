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
import time
from dataclasses import fields

from ..model.state import Link, Netns
from . import read as rd
from .context import Kernel, Ns
from .netns import read_sysctl
from .spaces import monitors_here

__all__ = ["read_all", "read_ns"]

_IFF_PROMISC = 0x100
_LINK_FIELDS = {f.name for f in fields(Link)}


def read_all(k: Kernel) -> dict[str, Netns]:
    """The real state of every namespace of the lab, as model values (re-read where changed)."""
    table = {}
    for key, handle in list(k.ns.items()):
        if handle.mon is None:
            # First read: from now on the monitors tell what changed.
            k.thread.inside(handle.path, monitors_here, handle)
            handle.cache = None
            handle.iptables_read = False
        changed = handle.mon.changed()
        if handle.nfmon is None or handle.nfmon.changed():
            handle.iptables_read = False
            changed = True
        if handle.cache is None or changed or len(handle.sysctl_keys) > 1:
            handle.cache = read_ns(k, handle)
        elif _on_timers(handle.cache):
            handle.cache = _with_neighs(handle.cache, rd.dump_neighs(handle.rt))
        table[key] = handle.cache
    return table


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
    lagging = [x for x in raws if _lagging(x)]
    if not lagging:
        return raws
    for link in lagging:
        rd.get_link_index(handle.rt, link.ifindex)
    return rd.dump_links(handle.rt)


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


def read_ns(k: Kernel, handle: Ns) -> Netns:
    key = handle.key
    raws = settled_links(handle)
    by_index = {x.ifindex: x for x in raws}
    # Addresses first: addrconf's work that clears "tentative" also joins the
    # solicited-node group (the multicast lists) and adds the IPv6 routes.
    addrs = tuple(settled_addrs(handle, by_index))
    mc, fdb = settled_fdb(handle, raws)
    nsids = {}
    for nsid in rd.dump_nsids(handle.rt):
        other = k.nsid_key(handle, nsid)
        if other is not None:
            nsids[other] = nsid
    links = {}
    for raw in raws:
        peer = None
        if raw.kind == "veth" and raw.link is not None:
            if raw.link_netnsid is None:
                peer = (key, raw.link)
            else:
                other = k.nsid_key(handle, raw.link_netnsid)
                peer = (other, raw.link) if other is not None else None
        ports = [x for x in raws if x.master == raw.ifindex]
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
    # The kernel's per-namespace counter is not visible: it moved past every
    # index it handed out here, which a link moved in with its own index was not.
    handle.moved_in &= set(by_index)
    counted = [i for i in by_index if i not in handle.moved_in]
    handle.next_ifindex = max(handle.next_ifindex, max(counted, default=1) + 1)
    sysctls = k.thread.inside(handle.path, _read_sysctls, sorted(handle.sysctl_keys))
    if not handle.iptables_read:
        handle.iptables = read_iptables(k, handle)
        handle.iptables_read = True
    return Netns(
        name=key,
        links=links,
        addrs=addrs,
        fdb=tuple(fdb),
        routes=tuple(rd.dump_routes(handle.rt)),
        neighs=tuple(rd.dump_neighs(handle.rt)),
        sysctls=sysctls,
        iptables=dict(handle.iptables),
        next_ifindex=handle.next_ifindex,
        nsids=nsids,
    )


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
            chain, policy = line[1:].split()[:2]
            if policy == "-":
                current.append(f"-N {chain}")
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
