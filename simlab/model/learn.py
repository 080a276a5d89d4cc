"""What traffic leaves behind: neighbour (ARP) entries and learned bridge FDB entries.

A packet walk (:mod:`simlab.model.forward`) reports two kinds of events, and
:func:`learn` folds them into a snapshot, in order, as the kernel would:

- :class:`Resolved`: a namespace looked up the MAC of a next hop on a link.
  No usable entry: it broadcasts an ARP request; the answer makes the entry
  ``REACHABLE`` (``arp_process`` -> ``neigh_update``), and the host that
  answered learns the asker from the request as ``STALE`` (``neigh_event_ns``;
  an entry it already had with the same MAC stays as it was).  A ``STALE``
  entry that is used goes to ``DELAY`` (``neigh_event_send``: it is probed 5 s
  later).  Nobody answering leaves a ``FAILED`` entry once the 3 probes are
  out (``mcast_solicit``, 1 s apart).
- :class:`Heard`: a bridge port received a frame, so the bridge learns the
  sender's MAC on that port (``br_fdb_update``), unless the MAC is one of the
  bridge's own (its local entries); a MAC lives on one port at a time.

Timers are not modelled: entries stay in the state the last packet left
them in (the kernel ages ``REACHABLE`` to ``STALE`` after 15 to 45 s and
forgets learned FDB entries after 300 s).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from operator import attrgetter

from .state import FdbEntry, Neigh, NetState

__all__ = ["Resolved", "Heard", "learn", "fdb_learn"]

_MAC = attrgetter("mac")
#: States with a MAC that can be used to send (``NUD_VALID``).
_USABLE = ("REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP")


@dataclass(frozen=True, slots=True)
class Resolved:
    """Namespace ``netns`` needed the MAC of ``nexthop`` on link ``ifindex`` (MAC ``mac``),
    asking from address ``src``; ``answer`` is (namespace, ifindex, MAC) of the link that
    holds the address, or None when nobody on the segment does."""

    netns: str
    ifindex: int
    mac: str
    src: str | None
    nexthop: str
    answer: tuple[str, int, str] | None


@dataclass(frozen=True, slots=True)
class Heard:
    """Bridge port ``port`` in ``netns`` received a frame sent from ``mac``."""

    netns: str
    port: int
    mac: str


def learn(state: NetState, events) -> NetState:
    """``state`` after the traffic that produced ``events`` (a pure function)."""
    for event in events:
        if isinstance(event, Heard):
            state = fdb_learn(state, event.netns, event.port, event.mac)
        else:
            state = _resolved(state, event)
    return state


def _entry(state: NetState, key: str, ifindex: int, dst: str) -> Neigh | None:
    return next((n for n in state.netns[key].neighs if n.ifindex == ifindex and n.dst == dst), None)


def _with(state: NetState, key: str, **changes) -> NetState:
    """``state`` with namespace ``key`` changed (links untouched)."""
    table = dict(state.netns)
    table[key] = state.netns[key].evolve(**changes)
    return replace(state, netns=table)


def _put(state: NetState, key: str, entry: Neigh) -> NetState:
    kept = tuple(n for n in state.netns[key].neighs
                 if (n.ifindex, n.dst) != (entry.ifindex, entry.dst))
    return _with(state, key, neighs=kept + (entry,))


def _resolved(state: NetState, ev: Resolved) -> NetState:
    mine = _entry(state, ev.netns, ev.ifindex, ev.nexthop)
    usable = mine is not None and mine.lladdr and mine.state in _USABLE
    if usable:
        if mine.state == "STALE":
            state = _put(state, ev.netns, replace(mine, state="DELAY"))
        return state
    if ev.answer is None:
        return _put(state, ev.netns, Neigh(ev.ifindex, ev.nexthop, None, "FAILED"))
    where, index, mac = ev.answer
    state = _put(state, ev.netns, Neigh(ev.ifindex, ev.nexthop, mac, "REACHABLE"))
    if ev.src is None or where not in state.netns:
        return state
    theirs = _entry(state, where, index, ev.src)
    if theirs is None or theirs.lladdr != ev.mac:
        state = _put(state, where, Neigh(index, ev.src, ev.mac, "STALE"))
    return state


def fdb_learn(state: NetState, key: str, port: int, mac: str) -> NetState:
    """Bridge port ``port`` in namespace ``key`` saw a frame from ``mac``."""
    ns = state.netns[key]
    link = ns.links.get(port)
    bridge = ns.links.get(link.master) if link is not None and link.master is not None else None
    if bridge is None:
        return state
    # (map/attrgetter scans: this runs for every port that comes up, 1,000 pods included)
    if mac == bridge.mac or mac in map(_MAC, ns.links.values()) and any(
            l.mac == mac and l.master == bridge.ifindex for l in ns.links.values()):
        return state  # the bridge's own MACs (its ports') are local entries: never learned
    fdb = ns.fdb
    if mac in map(_MAC, fdb):
        if FdbEntry(port, mac) in fdb:
            return state
        ports = {i for i, l in ns.links.items() if l.master == bridge.ifindex}
        fdb = tuple(f for f in fdb if not (f.mac == mac and f.ifindex in ports))
    return _with(state, key, fdb=(FdbEntry(port, mac),) + fdb)
