"""Where everything goes: one layout for a whole timeline, so nothing jumps between steps.

Rules of this module:

- A layout is computed once from *every* graph of a timeline (all the objects that ever
  exist), and a position is a function of ``(node id, namespace)`` only.  So an object
  that is in the same namespace in two steps, whichever steps, is at the same place in
  both.  A link that moves to another namespace gets its place in the new namespace's
  box at the step where it moves (that is the change the learner should see), and gets
  its old place back if it ever returns.  Box rectangles and the axes limits are fixed
  for the whole timeline too.
- The node namespace is a wide box; the other namespaces (containers, pods) and
  containers without a namespace of their own get *slots* in the order they first
  appear: one row below the node for up to 8 slots, then alternately below and above.
  A side with more than 12 slots is staggered over 2-4 rows: row ``d`` is shifted by
  ``d/D`` of a column, and a box is narrower than ``2/D`` of the column pitch, so the
  straight veth line of a deeper pod passes through the gaps of the rows in front of it
  (no line crosses a box, checked by a test at 60 pods).
- Inside a pod's box, a link whose peer ever lives in the node sits on the edge facing
  the node, and its peer's node-side end sits straight across on the node's edge (the
  pair shares a vertical "lane"); a link whose peer lives in another pod sits on the
  left or right edge facing that pod; anything else sits in the middle; ``lo`` in the
  right corner away from the node.  Bridges of the node are horizontal bars in the node's
  box, their ports hang from them; node links with no pod to face (an uplink, ``lo``)
  are listed on the left.
- The level of detail follows the number of slots: ``full`` (up to 6: name, addresses,
  MAC), ``compact`` (up to 16: name and address), ``dense`` (more: a pod is a card with
  its name and address; links are dots, labelled only when the step changes them).
- Units are inches at natural size; :mod:`simlab.views.draw` scales the whole picture
  (fonts included) to fit the figure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..model import ROOT

__all__ = ["Box", "Layout", "compute", "compute_frames", "LOD"]

#: Level-of-detail presets: slot width/height, natural font size (pt), label lines of a link.
LOD = {
    "full": dict(W=2.0, H=1.15, font=8.0, lines=3, left=1.9),
    "compact": dict(W=1.35, H=0.72, font=7.0, lines=2, left=1.6),
    "dense": dict(W=0.9, H=0.46, font=6.0, lines=0, left=1.4),
}
HIDDEN_ROLES = ("tunnel",)


@dataclass(frozen=True)
class Box:
    """A namespace's rectangle; ``side`` is "node", "below" or "above"."""

    x0: float
    y0: float
    w: float
    h: float
    side: str = "below"

    @property
    def x1(self) -> float:
        return self.x0 + self.w

    @property
    def y1(self) -> float:
        return self.y0 + self.h

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.w / 2, self.y0 + self.h / 2)

    def contains(self, x: float, y: float, pad: float = 0.0) -> bool:
        return self.x0 - pad <= x <= self.x1 + pad and self.y0 - pad <= y <= self.y1 + pad


@dataclass
class Layout:
    """Positions for a whole timeline.  ``pos[(node id, netns)] = (x, y)``."""

    lod: str
    boxes: dict = field(default_factory=dict)  # namespace key -> Box
    pos: dict = field(default_factory=dict)  # (node id, netns key or None) -> (x, y)
    #: where a link's label goes relative to its dot: (dx, dy) unit direction
    label_dir: dict = field(default_factory=dict)
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    font: float = 8.0
    line: float = 0.14  # natural line height (inches)
    boxes_width: float = 2.0  # width of a pod's box (inches at natural size)

    def xy(self, G, node: str) -> tuple[float, float] | None:
        """Where ``node`` of graph ``G`` is drawn (None: not drawn, e.g. a tunnel device)."""
        data = G.nodes[node]
        return self.pos.get((node, data.get("netns")))

    def positions(self, G) -> dict[str, tuple[float, float]]:
        """Positions of every drawn node of ``G`` (the networkx ``pos`` dict)."""
        out = {}
        for node, data in G.nodes(data=True):
            p = self.pos.get((node, data.get("netns")))
            if p is not None:
                out[node] = p
        return out

    @property
    def size(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bounds
        return (x1 - x0, y1 - y0)


def _facts(graphs: Iterable):
    """Everything the timeline ever holds, in order of first appearance."""
    slots: list[tuple[str, str]] = []  # ("ns", key) or ("ctr", node id)
    seen_slot: set = set()
    places: list[tuple[str, str]] = []  # (link id, netns), in order
    seen_place: set = set()
    visits: dict[str, list[str]] = {}
    peers: dict[str, list[str]] = {}
    role: dict[str, str] = {}
    facing: dict[tuple[str, str], dict[str, list[int]]] = {}  # place -> peer ns -> [count, last]
    for t, G in enumerate(graphs):
        for node, d in G.nodes(data=True):
            kind = d.get("kind")
            if kind == "netns":
                if d["netns"] != ROOT and ("ns", d["netns"]) not in seen_slot:
                    seen_slot.add(("ns", d["netns"]))
                    slots.append(("ns", d["netns"]))
            elif kind in ("container", "external"):
                if ("ctr", node) not in seen_slot:
                    seen_slot.add(("ctr", node))
                    slots.append(("ctr", node))
            else:
                key = d["netns"]
                role.setdefault(node, d.get("role", "other"))
                if (node, key) not in seen_place:
                    seen_place.add((node, key))
                    places.append((node, key))
                    visits.setdefault(node, []).append(key)
        for u, v, e in G.edges(data=True):
            if e.get("kind") == "veth":
                for a, b in ((u, v), (v, u)):
                    lst = peers.setdefault(a, [])
                    if b not in lst:
                        lst.append(b)
                    seen = facing.setdefault((a, G.nodes[a]["netns"]), {})
                    entry = seen.setdefault(G.nodes[b]["netns"], [0, 0])
                    entry[0] += 1
                    entry[1] = t
    peers_of_bridge: dict[str, set[str]] = {}
    for G in graphs:
        for u, v, e in G.edges(data=True):
            if e.get("kind") == "port":
                br, port = (u, v) if G.nodes[u].get("role") == "bridge" else (v, u)
                peers_of_bridge.setdefault(br, set()).add(port)
    return slots, places, visits, peers, role, _faces(facing), peers_of_bridge


def _faces(facing: dict) -> dict:
    """The namespace a link's peer is in for most of the time the link is in a place."""
    return {place: max(c.items(), key=lambda kv: (kv[1][0], kv[1][1]))[0]
            for place, c in facing.items()}


class _Facts:
    """:func:`_facts` of a list of frames, fed step by step with what each step changed
    (fragments that are not the same object as the graph before's): the work grows with
    the changes, not with steps x pods."""

    def __init__(self) -> None:
        self.slots: list = []
        self.seen_slot: set = set()
        self.places: list = []
        self.seen_place: set = set()
        self.visits: dict[str, list[str]] = {}
        self.peers: dict[str, list[str]] = {}
        self.role: dict[str, str] = {}
        self.facing: dict = {}
        self.open: dict = {}  # place -> (peer namespace, first graph it faced it in)
        self.bridge_ports: dict[str, set[str]] = {}

    def _close(self, place, ns: str, start: int, t: int) -> None:
        entry = self.facing.setdefault(place, {}).setdefault(ns, [0, 0])
        entry[0] += t - start
        entry[1] = t - 1

    def feed(self, t: int, snap, keys: Iterable[str], prev=None) -> None:
        """Graph ``t`` is ``snap``; its fragments ``keys`` differ from ``prev``'s (their
        link records that are the same objects in both are skipped)."""
        seen_now: dict = {}
        seen_before: dict = {}
        for key in keys:
            frag = snap.frags.get(key)
            old = prev.frags.get(key) if prev is not None else None
            was = set(map(id, old[7])) if old is not None else set()
            now = set(map(id, frag[7])) if frag is not None else set()
            if old is not None:
                for rec in old[7]:
                    if id(rec) not in now:
                        for u, _v, e in rec[1]:
                            if e["kind"] == "veth":
                                seen_before[(u, key)] = old[3][u]
            if frag is None:
                continue
            for rec in frag[7]:
                if id(rec) in was:
                    continue
                node, d = rec[0]
                self.role.setdefault(node, d.get("role", "other"))
                if (node, key) not in self.seen_place:
                    self.seen_place.add((node, key))
                    self.places.append((node, key))
                    self.visits.setdefault(node, []).append(key)
                for u, v, e in rec[1]:
                    if e["kind"] == "veth":
                        for a, b in ((u, v), (v, u)):
                            lst = self.peers.setdefault(a, [])
                            if b not in lst:
                                lst.append(b)
                        seen_now[(u, key)] = frag[3][u]
                    elif e["kind"] == "port":
                        br, port = (u, v) if frag[4].get(u, {}).get("role") == "bridge" else (v, u)
                        self.bridge_ports.setdefault(br, set()).add(port)
            if key != ROOT and ("ns", key) not in self.seen_slot:
                self.seen_slot.add(("ns", key))
                self.slots.append(("ns", key))
        for name in snap.shares:
            if ("ctr", f"ctr:{name}") not in self.seen_slot:
                self.seen_slot.add(("ctr", f"ctr:{name}"))
                self.slots.append(("ctr", f"ctr:{name}"))
        for place, ns in seen_before.items():
            if seen_now.get(place) != ns and place in self.open:
                self._close(place, *self.open.pop(place), t)
        for place, ns in seen_now.items():
            if self.open.get(place, (None,))[0] != ns:
                if place in self.open:
                    self._close(place, *self.open.pop(place), t)
                self.open[place] = (ns, t)

    def result(self, end: int):
        for place, (ns, start) in list(self.open.items()):
            self._close(place, ns, start, end)
        return (self.slots, self.places, self.visits, self.peers, self.role,
                _faces(self.facing), self.bridge_ports)


def facts_of_frames(fs: Sequence):
    """:func:`_facts` of ``[fs[0].before] + [f.after for f in fs]``, from the frames' Snaps."""
    acc = _Facts()
    prev = fs[0].before_view
    acc.feed(0, prev, list(prev.frags))
    for t, f in enumerate(fs, 1):
        snap = f.after_view
        keys = [k for k, frag in snap.frags.items() if prev.frags.get(k) is not frag]
        keys += [k for k in prev.frags if k not in snap.frags]
        acc.feed(t, snap, keys, prev)
        prev = snap
    return acc.result(len(fs) + 1)


def _grid(count: int) -> tuple[int, int]:
    """(rows D, columns) for a side of ``count`` slots."""
    if count <= 12:
        return 1, max(count, 1)
    depth = min(4, math.ceil(count / 12))
    return depth, math.ceil(count / depth)


def compute(graphs: Sequence, *, lod: str | None = None) -> Layout:
    """A layout for every graph of a timeline (or a single graph: ``compute([G])``).

    >>> from simlab.views import frames
    >>> from simlab.views._samples import veth_pair
    >>> fs = frames(veth_pair())
    >>> lay = compute([fs[0].before] + [f.after for f in fs])
    >>> lay.lod, sorted(lay.boxes)
    ('full', ['', 'blue', 'red'])
    >>> lay.xy(fs[3].after, "if:/veth1") == lay.xy(fs[8].after, "if:/veth1")  # red, both times
    True
    """
    return _place(_facts(list(graphs)), lod)


def compute_frames(fs: Sequence, *, lod: str | None = None) -> Layout:
    """:func:`compute` of a list of frames (:func:`simlab.views.story.frames`), the same
    layout, from what each step changed only.

    >>> from simlab.views import frames
    >>> from simlab.views._samples import veth_pair
    >>> fs = frames(veth_pair())
    >>> compute_frames(fs) == compute([fs[0].before] + [f.after for f in fs])
    True
    """
    return _place(facts_of_frames(fs), lod)


def _place(facts, lod: str | None) -> Layout:
    slots, places, visits, peers, role, faces, peers_of_bridge = facts
    n = len(slots)
    if lod is None:
        lod = "full" if n <= 6 else "compact" if n <= 16 else "dense"
    P = LOD[lod]
    W, H, left = P["W"], P["H"], P["left"]
    lh = P["font"] * 1.3 / 72
    lay = Layout(lod=lod, font=P["font"], line=lh, boxes_width=W)

    # ---- which side and which grid cell each slot takes
    # The namespace at the far end of the node's uplink (the LAN) goes above the node.
    world = {k for nid, r in role.items() if r == "uplink"
             for p in peers.get(nid, []) for k in visits.get(p, []) if k != ROOT}
    two_sides = n - len(world) > 8
    sides = {"below": [], "above": []}
    i = 0
    for slot in slots:
        if slot[0] == "ns" and slot[1] in world:
            sides["above"].append(slot)
            continue
        sides["above" if two_sides and i % 2 else "below"].append(slot)
        i += 1
    grids = {s: _grid(len(v)) for s, v in sides.items()}

    def pitch(depth: int) -> float:
        return W * 1.3 if depth == 1 else W * depth / 1.6  # box < 2/D of the pitch

    width = left + max(grids[s][1] * pitch(grids[s][0]) for s in sides) + 0.2 * W

    # ---- node links: bridges (bars), links that face a pod (lanes), the rest (left list)
    slot_of = {slot[1]: i for i, slot in enumerate(slots) if slot[0] == "ns"}
    anchor: dict[str, str] = {}  # link id -> pod key whose lane it uses
    for node, visited in visits.items():
        if role.get(node) in HIDDEN_ROLES + ("lo", "bridge"):
            continue
        for key in visited + [k for p in peers.get(node, []) for k in visits.get(p, [])]:
            if key != ROOT and key in slot_of:
                anchor[node] = key
                break
    node_links = [nid for nid, key in places if key == ROOT and role.get(nid) not in HIDDEN_ROLES]
    bridges = [nid for nid in node_links if role[nid] == "bridge"]
    # The busiest bridge gets the lowest bar, nearest the pods' lanes, so that fewer port
    # stubs cross another bridge's bar.
    ports = {b: sum(1 for p in peers_of_bridge.get(b, ())) for b in bridges}
    bridges.sort(key=lambda b: -ports[b])
    listed = [nid for nid in node_links if role[nid] != "bridge" and nid not in anchor]

    # lanes per pod: a veth pair (or a lone link) that crosses between the pod and the node
    lanes: dict[str, list] = {}
    def lane_key(nid: str):
        return frozenset([nid, *peers.get(nid, [])])
    for nid, key in places:
        if key == ROOT and nid in anchor:
            k = lane_key(nid)
            lanes.setdefault(anchor[nid], [])
            if k not in lanes[anchor[nid]]:
                lanes[anchor[nid]].append(k)
        elif key != ROOT and faces.get((nid, key)) == ROOT:
            k = lane_key(nid)
            lanes.setdefault(key, [])
            if k not in lanes[key]:
                lanes[key].append(k)

    # ---- node box height
    band = (P["lines"] + 0.8) * lh + 0.12  # room for the labels of the links on an edge
    bars = len(bridges) * (lh * 2.2)
    core = band * (2 if sides["above"] else 1) + bars + lh * 1.6
    core = max(core, lh * 1.8 + len(listed) * (lh * (max(P["lines"], 1) + 0.6)))
    root = Box(0.0, 0.0, width, core, side="node")
    lay.boxes[ROOT] = root
    gap = H * 0.55 + (0.25 if lod == "full" else 0.1)
    gy = H * 0.25

    # ---- slot boxes
    slot_box: dict = {}
    for side, members in sides.items():
        depth, _cols = grids[side]
        p = pitch(depth)
        for j, slot in enumerate(members):
            c, d = divmod(j, depth)
            x0 = left + c * p + d * p / depth
            if side == "below":
                y0 = root.y0 - gap - d * (H + gy) - H
            else:
                y0 = root.y1 + gap + d * (H + gy)
            box = Box(x0, y0, W, H, side=side)
            slot_box[slot] = box
            if slot[0] == "ns":
                lay.boxes[slot[1]] = box
                lay.pos[(f"ns:{slot[1]}", slot[1])] = box.center
            else:
                lay.pos[(slot[1], None)] = box.center
    lay.pos[("ns:", ROOT)] = root.center

    def lane_x(key: str, nid: str) -> float:
        box = slot_box[("ns", key)]
        ks = lanes.get(key, [])
        k = lane_key(nid)
        j = ks.index(k) if k in ks else 0
        spread = min(W / (len(ks) + 1), 0.35) if len(ks) > 1 else 0.0
        return box.x0 + W / 2 + (j - (len(ks) - 1) / 2) * spread

    # ---- links in the node
    bar_y0 = root.y0 + band + lh * 0.8
    for i, nid in enumerate(bridges):
        lay.pos[(nid, ROOT)] = (left, bar_y0 + i * lh * 2.2)
        lay.label_dir[(nid, ROOT)] = (1, 1)
    for i, nid in enumerate(listed):
        y = root.y1 - lh * 2.2 - i * lh * (max(P["lines"], 1) + 0.6)
        lay.pos[(nid, ROOT)] = (0.25, y)
        lay.label_dir[(nid, ROOT)] = (1, 0)
    # Both ends of a pair can be in the node at once (docker makes the pair there, then
    # moves one end): the end that stays keeps the lane, the one that leaves waits beside it.
    in_lane: dict[tuple, list[str]] = {}
    for nid, key in places:
        if key == ROOT and nid in anchor:
            in_lane.setdefault((anchor[nid], lane_key(nid)), []).append(nid)
    for (pod, _k), nids in in_lane.items():
        box = slot_box[("ns", pod)]
        depth = grids[box.side][0]
        off = min(W * 0.3, 0.45) if depth == 1 else min(W * 0.3, 0.4 * pitch(depth) / depth)
        order = {n: i for i, n in enumerate(nids)}
        nids = sorted(nids, key=lambda n: (pod in visits[n], order[n]))
        y = root.y0 if box.side == "below" else root.y1
        for j, nid in enumerate(nids):
            lay.pos[(nid, ROOT)] = (lane_x(pod, nid) - j * off, y)
            # beside the port's stub, toward the inside of the node's box
            dx = 1 if j == 0 else -1
            lay.label_dir[(nid, ROOT)] = (dx, 1) if box.side == "below" else (dx, -1)

    # ---- links in pods
    inner: dict[str, list[str]] = {}
    sideways: dict[tuple[str, int], list[str]] = {}
    for nid, key in places:
        if key == ROOT or role.get(nid) in HIDDEN_ROLES:
            continue
        box = slot_box[("ns", key)]
        toward = -1 if box.side == "above" else 1  # +1: the node is above this box
        if role.get(nid) == "lo":
            # the far corner from the node, on the right (the name's lines are on the
            # left): a sideways link's label lines centre on the box's middle, and a lane's
            # hang from the edge facing the node, so this corner is the one they leave free
            # (at the fit zoom a box is >= 6 lines tall and lo sits 1 line from the edge)
            y = box.y1 - H * 0.14 if box.side == "above" else box.y0 + H * 0.14
            lay.pos[(nid, key)] = (box.x1 - 0.12, y)
            lay.label_dir[(nid, key)] = (-1, 0)
        elif faces.get((nid, key)) == ROOT:
            y = box.y1 if toward == 1 else box.y0
            lay.pos[(nid, key)] = (lane_x(key, nid), y)
            lay.label_dir[(nid, key)] = (0, -toward)
        else:
            other = faces.get((nid, key))
            if ("ns", other) not in slot_box or other == key:
                other = None
            if other is not None:
                ob = slot_box[("ns", other)]
                edge = 1 if ob.center[0] >= box.center[0] else -1
                sideways.setdefault((key, edge), []).append(nid)
            else:
                inner.setdefault(key, []).append(nid)
    for (key, edge), nids in sideways.items():
        box = slot_box[("ns", key)]
        for j, nid in enumerate(nids):
            y = box.y0 + box.h * (j + 1) / (len(nids) + 1)
            lay.pos[(nid, key)] = (box.x1 if edge == 1 else box.x0, y)
            lay.label_dir[(nid, key)] = (-edge, 0)
    for key, nids in inner.items():
        box = slot_box[("ns", key)]
        for j, nid in enumerate(nids):
            lay.pos[(nid, key)] = (box.x0 + box.w * (j + 1) / (len(nids) + 1), box.center[1])
            lay.label_dir[(nid, key)] = (0, -1)

    xs = [b.x0 for b in lay.boxes.values()] + [b.x1 for b in lay.boxes.values()]
    ys = [b.y0 for b in lay.boxes.values()] + [b.y1 for b in lay.boxes.values()]
    for box in slot_box.values():
        xs += [box.x0, box.x1]
        ys += [box.y0, box.y1]
    m = 0.12
    lay.bounds = (min(xs) - m, min(ys) - m, max(xs) + m, max(ys) + m)
    return lay
