"""The snapshot one ``apply()`` builds, with copy-on-write kept in one place.

A rule reads ``t.state`` and writes through :meth:`Txn.put` (namespaces) and
:meth:`Txn.links` (a namespace's links).  The first write to a table it was
given copies it; the tables it made are private to it until ``apply()``
returns, so later writes update them in place instead of copying a node's
thousands of links on every step.  ``apply``'s input is never changed.
"""

from __future__ import annotations

from dataclasses import replace

from .errors import NetError
from .state import Link, Netns, NetState

__all__ = ["Txn"]


class Txn:
    """One operation being applied: ``state`` so far, and linkwatch's queue."""

    __slots__ = ("state", "carrier_changed", "_mine")

    def __init__(self, state: NetState):
        self.state = state
        #: Carrier changes as (namespace key, ifindex), in order: linkwatch
        #: recomputes their operstate once the command is done.
        self.carrier_changed: list[tuple[str, int]] = []
        self._mine: dict[int, object] = {}  # id -> a table this transaction made (kept alive)

    def _owns(self, table) -> bool:
        return self._mine.get(id(table)) is table

    def _own(self, table):
        self._mine[id(table)] = table
        return table

    def ns(self, key: str) -> Netns:
        """The namespace ``key`` as it is now; iproute2's error when there is none."""
        ns = self.state.netns.get(key)
        if ns is None:
            raise NetError.no_netns(key)
        return ns

    def put(self, *namespaces: Netns) -> None:
        """Put ``namespaces`` (new versions of them) into the snapshot."""
        table = self.state.netns
        if not self._owns(table):
            table = self._own(dict(table))
            self.state = replace(self.state, netns=table)
        for ns in namespaces:
            table[ns.name] = ns

    def links(self, ns: Netns, *links: Link, drop: tuple[int, ...] = ()) -> Netns:
        """``ns.with_links(*links, drop=drop)``, in place when this transaction made ``ns``'s tables."""
        table, names = ns.links, ns._by_name
        if not (self._owns(table) and self._owns(names)):
            new = ns.with_links(*links, drop=drop, own_index=True)
            self._own(new.links)
            self._own(new._by_name)
            return new
        for index in drop:
            old = table.pop(index, None)
            if old is not None and names.get(old.ifname) == index:
                del names[old.ifname]
        for link in links:
            old = table.get(link.ifindex)
            table[link.ifindex] = link
            if old is not None and old.ifname != link.ifname and names.get(old.ifname) == link.ifindex:
                del names[old.ifname]
            names[link.ifname] = link.ifindex
        return ns

    def next_mac(self) -> str:
        """A MAC from the snapshot's seeded generator."""
        mac, self.state = self.state.next_mac()
        return mac

    def queue_linkwatch(self, key: str, index: int) -> None:
        if (key, index) not in self.carrier_changed:
            self.carrier_changed.append((key, index))
