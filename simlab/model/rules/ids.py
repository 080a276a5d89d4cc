"""The numbers a namespace gives out: ifindexes (per namespace, never reused) and nsids."""

from __future__ import annotations

from ..state import Netns
from ..txn import Txn


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
