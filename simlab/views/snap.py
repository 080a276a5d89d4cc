"""A snapshot's graph as its namespaces' fragments: cheap to step, read like networkx.

Why: a timeline of 600 steps over 200 pods is 600 graphs of ~1000 nodes.  Building each
as a :class:`networkx.Graph` costs milliseconds, so a stepper took 15 s to open.  Between
two steps most namespaces are the same objects (snapshots share what did not change), so
their fragments (:func:`simlab.views.graph._fragment`) are the same tuples too.

Rules of this module:

- A :class:`Snap` holds ``{namespace key: fragment}`` in the snapshot's order, and the
  containers that share a namespace.  :meth:`Snap.advance` makes the next snapshot's Snap
  by recomputing only the fragments of the namespaces that changed (by identity) and of
  those with a veth peer in them (a peer's state shows on the other end).
- :func:`snap_diff` compares only the link records (see ``_fragment``) that are not the
  same objects in both: the diff costs what the step changed.
- Read access (``G.nodes[n]``, ``n in G``, ``G.neighbors(n)``, ``G.edges[u, v]``,
  ``G.adj[n]``, ``G.nodes(data=True)``, ``G.edges(data=True)``, ``G.has_edge``) merges the
  fragments' node dicts on first use (a namespace's node lacks networkx's ``order``);
  :meth:`Snap.graph` is the same graph as :func:`~simlab.views.graph.build` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .diff import Diff, changes
from .graph import _fragment, ctr_id, ns_id

__all__ = ["Snap", "snap_diff"]


class _Nodes:
    def __init__(self, snap: Snap) -> None:
        self._s = snap

    def __getitem__(self, n: str) -> dict:
        return self._s._index()[n]

    def get(self, n: str, default=None):
        return self._s._index().get(n, default)

    def __contains__(self, n: object) -> bool:
        return n in self._s._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._s._ordered())

    def __len__(self) -> int:
        return len(self._s._index())

    def __call__(self, data: bool = False):
        nodes = self._s._ordered()
        return iter(nodes.items()) if data else iter(nodes)


class _Edges:
    def __init__(self, snap: Snap) -> None:
        self._s = snap

    def __getitem__(self, uv: tuple[str, str]) -> dict:
        u, v = uv
        return self._s._adj(u)[v]

    def __call__(self, data: bool = False):
        s, seen = self._s, set()
        for u in s._ordered():
            for v, d in s._adj(u).items():
                if v not in seen:
                    yield (u, v, d) if data else (u, v)
            seen.add(u)


class _Adj:
    def __init__(self, snap: Snap) -> None:
        self._s = snap

    def __getitem__(self, n: str) -> dict:
        return self._s._adj(n)


class Snap:
    """One snapshot's graph, as fragments (see the module rules)."""

    __slots__ = ("frags", "shares", "_idx", "_graph", "nodes", "edges", "adj", "_base")

    def __init__(self, frags: Mapping[str, tuple], shares: Mapping[str, str]) -> None:
        self.frags = dict(frags)
        self.shares = {n: k for n, k in shares.items() if k in self.frags}
        self._idx = None
        self._graph = None
        self._base = None  # (the Snap this one was advanced from, the keys redone)
        self.nodes = _Nodes(self)
        self.edges = _Edges(self)
        self.adj = _Adj(self)

    # ------------------------------------------------------------------ making
    @classmethod
    def of(cls, snapshot, ids, shares, names, memo, uplinks=("em1",)) -> Snap:
        frags = {key: _fragment(snapshot, key, ns, ids, uplinks, names.get(key, key), memo)
                 for key, ns in snapshot.netns.items()}
        return cls(frags, shares)

    def advance(self, before, snapshot, ids, changed: Iterable[str], shares, names, memo,
                uplinks=("em1",)) -> tuple[Snap, set[str]]:
        """The Snap of ``snapshot``; this one is ``before``'s, and the two snapshots differ
        in the namespaces ``changed``.  Also returns the keys whose fragments were redone:
        those, and the namespaces of the veth peers of the links that changed in them."""
        redo = set(changed)
        for key in changed:
            old, new = before.netns.get(key), snapshot.netns.get(key)
            ol, nl = (old.links if old else {}), (new.links if new else {})
            for index in ol.keys() | nl.keys():
                a, b = ol.get(index), nl.get(index)
                if a is b:
                    continue
                for link in (a, b):
                    if link is not None and link.peer is not None:
                        redo.add(link.peer[0])
        frags = {}
        for key, ns in snapshot.netns.items():
            if key in redo or key not in self.frags:
                frags[key] = _fragment(snapshot, key, ns, ids, uplinks, names.get(key, key), memo)
            else:
                frags[key] = self.frags[key]
        out = Snap(frags, shares)
        out._base = (self, redo)
        return out, redo

    # ------------------------------------------------------------------ reading
    def _index(self) -> dict:
        """node id -> attributes (a namespace's node without networkx's ``order``)."""
        if self._idx is None and self._base is not None and self._base[0]._idx is not None:
            base, redo = self._base  # the last step's index, patched where fragments differ
            nodes = dict(base._idx)
            redo = [k for k in redo if base.frags.get(k) is not self.frags.get(k)]
            for key in redo:  # all removals first: a link may move between two of them
                old, new = base.frags.get(key), self.frags.get(key)
                if old is not None:
                    keep = set(map(id, new[7])) if new is not None else set()
                    for r in old[7]:
                        if id(r) not in keep:
                            nodes.pop(r[0][0], None)
                    nodes.pop(ns_id(key), None)
            for key in redo:
                new = self.frags.get(key)
                if new is not None:
                    nodes.update(new[4])
                    nodes[ns_id(key)] = new[2]
            for name in base.shares:
                nodes.pop(ctr_id(name), None)
            for name, key in self.shares.items():
                nodes[ctr_id(name)] = dict(kind="container", netns=None, name=name, shares=key)
            self._idx = nodes
        if self._idx is None:
            self._idx = self._ordered()
        return self._idx

    def _ordered(self) -> dict:
        """node id -> attributes in the graph's order (that of networkx's graph)."""
        nodes: dict[str, dict] = {}
        for key, frag in self.frags.items():
            nodes.update(frag[4])
            nodes[ns_id(key)] = frag[2]
        for name, key in self.shares.items():
            nodes[ctr_id(name)] = dict(kind="container", netns=None, name=name, shares=key)
        return nodes

    def _adj(self, n: str) -> dict:
        """n's neighbours -> edge attributes.  A link that cannot be a master (a veth, lo,
        a dummy) has all its edges in its own record; others scan their namespace's once."""
        d = self._index()[n]
        kind = d.get("kind")
        if kind == "container":
            return {ns_id(d["shares"]): {"kind": "shares"}}
        key = d["netns"]
        if kind == "netns":
            return {ctr_id(c): {"kind": "shares"} for c, k in self.shares.items() if k == key}
        frag = self.frags[key]
        cache = frag[6]
        if kind in ("veth", "loopback", "dummy"):
            own = cache.get("own")
            if own is None:
                own = cache["own"] = {r[0][0]: r[1] for r in frag[7]}
            return {v: e for _u, v, e in own.get(n, ())}
        adj = cache.get("adj")
        if adj is None:
            adj = cache["adj"] = {}
            for u, v, e in frag[1]:
                adj.setdefault(u, {})[v] = e
                if v in frag[4]:
                    adj.setdefault(v, {})[u] = e
        return adj.get(n, {})

    def release(self) -> None:
        """Forget the merged index (it is made again on the next read)."""
        self._idx = None

    def __contains__(self, n: object) -> bool:
        return n in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ordered())

    def __len__(self) -> int:
        return len(self._index())

    def neighbors(self, n: str) -> Iterator[str]:
        return iter(self._adj(n))

    def has_edge(self, u: str, v: str) -> bool:
        return u in self._index() and v in self._adj(u)

    def graph(self):
        """The snapshot as a :class:`networkx.Graph` (made once, then kept)."""
        if self._graph is None:
            import networkx as nx

            G = nx.Graph()
            nodes, edges = [], []
            for order, (key, frag) in enumerate(self.frags.items()):
                nodes.extend(frag[0])
                edges.extend(frag[1])
                nodes.append((ns_id(key), {**frag[2], "order": order}))
            G.add_nodes_from(nodes)
            G.add_edges_from(edges)
            for name, key in self.shares.items():
                G.add_node(ctr_id(name), kind="container", netns=None, name=name, shares=key)
                G.add_edge(ctr_id(name), ns_id(key), kind="shares")
            self._graph = G
        return self._graph


def _parts(before: Snap, after: Snap, keys: Iterable[str]):
    """Nodes and edge kinds of the link records that differ between the fragments
    ``keys`` of two Snaps (records are compared by identity), and their namespaces'
    nodes; then the containers."""
    bn: dict[str, dict] = {}
    an: dict[str, dict] = {}
    be: dict[frozenset, str] = {}
    ae: dict[frozenset, str] = {}
    for key in keys:
        fb, fa = before.frags.get(key), after.frags.get(key)
        rb, ra = (fb[7] if fb else ()), (fa[7] if fa else ())
        ib, ia = set(map(id, rb)), set(map(id, ra))
        for recs, other, nodes, edges in ((rb, ia, bn, be), (ra, ib, an, ae)):
            for r in recs:
                if id(r) not in other:
                    nodes[r[0][0]] = r[0][1]
                    edges.update(r[2])
        if fb:
            bn[ns_id(key)] = fb[2]
        if fa:
            an[ns_id(key)] = fa[2]
    for snap, nodes in ((before, bn), (after, an)):
        for name, key in snap.shares.items():
            nodes[ctr_id(name)] = dict(kind="container", netns=None, name=name, shares=key)
    return bn, an, be, ae


def _shared(snap: Snap) -> dict:
    return {frozenset((ctr_id(n), ns_id(k))): "shares" for n, k in snap.shares.items()}


def snap_diff(before: Snap, after: Snap, keys: Iterable[str]) -> Diff:
    """:func:`simlab.views.diff.diff` of two Snaps whose fragments differ only in ``keys``.

    An edge with an end in a fragment outside ``keys`` is in both graphs or in neither
    (a veth pair is listed by both ends' fragments), so only the rest is compared.
    """
    keys = [k for k in dict.fromkeys(keys) if before.frags.get(k) is not after.frags.get(k)]
    bn, an, be, ae = _parts(before, after, keys)
    changed, moved, why = changes(bn, an, bn.keys() & an.keys())
    inside = bn.keys() | an.keys()

    def real(e: frozenset, kind: str) -> bool:
        # a veth edge to a link whose record did not change is listed by that record in
        # both graphs (a pair is listed by both ends): it neither came nor went
        return kind != "veth" or e <= inside

    shared_b, shared_a = _shared(before).items(), _shared(after).items()
    return Diff(
        added=frozenset(an.keys() - bn.keys()),
        changed=frozenset(changed),
        removed=frozenset(bn.keys() - an.keys()),
        moved=frozenset(moved),
        edges_added=frozenset([e for e, k in ae.items() - be.items() if real(e, k)]
                              + [e for e, _k in shared_a - shared_b]),
        edges_removed=frozenset([e for e, k in be.items() - ae.items() if real(e, k)]
                                + [e for e, _k in shared_b - shared_a]),
        why=why,
    )
