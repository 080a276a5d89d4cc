"""What a step added, changed and removed, as node and edge ids (pure).

Rules:

- ``added``: a node id in the after graph only; ``removed``: in the before graph only
  (drawn as a red ghost where it was);
- ``changed``: in both, with a different visible attribute (name, MAC, state,
  addresses, MTU, master, namespace, routes, forwarding, NAT); ``moved`` is the part of
  ``changed`` whose namespace changed;
- a veth whose *peer* came up is ``changed`` too: its operstate became UP, which is
  the kernel's rule the learner should see.
- edges are compared as unordered pairs with their ``kind``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Diff", "diff", "changes", "VISIBLE"]

#: Node attributes whose change is shown as "changed".
VISIBLE = ("ifname", "mac", "up", "operstate", "addrs", "mtu", "master", "netns", "routes",
           "forwarding", "nat", "shares", "label")

Edge = frozenset


@dataclass(frozen=True)
class Diff:
    """The change between two graphs, by node id and edge (a frozenset of two ids)."""

    added: frozenset[str] = frozenset()
    changed: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    moved: frozenset[str] = frozenset()
    edges_added: frozenset[Edge] = frozenset()
    edges_removed: frozenset[Edge] = frozenset()
    #: For each changed node, the attribute names that changed.
    why: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.edges_added
                    or self.edges_removed)

    def status(self, node: str) -> str | None:
        """"added", "changed", "removed" or None."""
        if node in self.added:
            return "added"
        if node in self.removed:
            return "removed"
        if node in self.changed:
            return "changed"
        return None

    def edge_status(self, u: str, v: str) -> str | None:
        e = frozenset((u, v))
        if e in self.edges_added:
            return "added"
        if e in self.edges_removed:
            return "removed"
        return None

    @classmethod
    def of(cls, statuses: Mapping[str, str]) -> Diff:
        """A highlight given by hand: ``{"if:red/eth0": "added", ...}``."""
        pick = lambda s: frozenset(n for n, v in statuses.items() if v == s)  # noqa: E731
        return cls(added=pick("added"), changed=pick("changed"), removed=pick("removed"))


def changes(before: Mapping, after: Mapping, nodes) -> tuple[set, set, dict]:
    """(changed, moved, why) of ``nodes``, each in both node -> attributes mappings."""
    changed, moved, why = set(), set(), {}
    for node in nodes:
        old, new = before[node], after[node]
        if old is new or old == new:
            continue
        keys = tuple(k for k in VISIBLE if old.get(k) != new.get(k))
        if keys:
            changed.add(node)
            why[node] = keys
            if "netns" in keys:
                moved.add(node)
    return changed, moved, why


def _edges(G) -> dict[Edge, str]:
    return {frozenset((u, v)): d.get("kind", "") for u, v, d in G.edges(data=True)}


def diff(before, after) -> Diff:
    """The difference between two graphs from :func:`simlab.views.graph.build`.

    >>> import networkx as nx
    >>> a = nx.Graph(); a.add_node("if:/veth1", up=False)
    >>> b = nx.Graph(); b.add_node("if:/veth1", up=True); b.add_node("ns:red")
    >>> d = diff(a, b)
    >>> sorted(d.added), sorted(d.changed), d.why["if:/veth1"]
    (['ns:red'], ['if:/veth1'], ('up',))
    """
    bn, an = set(before.nodes), set(after.nodes)
    changed, moved, why = changes(before.nodes, after.nodes, bn & an)
    be, ae = _edges(before), _edges(after)
    return Diff(
        added=frozenset(an - bn),
        changed=frozenset(changed),
        removed=frozenset(bn - an),
        moved=frozenset(moved),
        edges_added=frozenset(e for e in ae if be.get(e) != ae[e]),
        edges_removed=frozenset(e for e in be if ae.get(e) != be[e]),
        why=why,
    )
