"""The layout: stable across steps, objects inside their namespace, no overlaps, no hairball.

What "stable" asserts, precisely: one layout serves the whole timeline, and for every pair
of consecutive snapshots (each step's before and after, and one step's after and the next
step's before) every node present in both *in the same namespace* has exactly the same
coordinates, and every namespace box is the same rectangle.  A link that moved to another
namespace is allowed a new place (that is the change the step shows).
"""

from __future__ import annotations

import itertools
import math

import pytest

from simlab.model import ROOT
from simlab.views import frames
from simlab.views._samples import bridge_pods, churn, veth_pair
from simlab.views.layout import HIDDEN_ROLES, compute


def _runtime_scenarios():
    try:
        from simlab import scenarios
    except ImportError:
        return []
    return [(f"scenario:{n}", (lambda n=n: scenarios.run(n))) for n in scenarios.names()]


TIMELINES = [
    ("veth-pair", veth_pair),
    ("bridge-3", lambda: bridge_pods(3)),
    ("bridge-12", lambda: bridge_pods(12, steps_per_pod=1)),
    ("bridge-60", lambda: bridge_pods(60, steps_per_pod=1)),
    ("churn", churn),
    *_runtime_scenarios(),
]


@pytest.fixture(scope="module", params=TIMELINES, ids=[t[0] for t in TIMELINES])
def story(request):
    fs = frames(request.param[1]())
    graphs = [fs[0].before] + [f.after for f in fs]
    return fs, graphs, compute(graphs)


def _drawn(G, lay):
    return {n: lay.xy(G, n) for n, d in G.nodes(data=True)
            if d.get("kind") != "netns" and d.get("role") not in HIDDEN_ROLES}


def test_every_drawn_node_has_a_place(story):
    _fs, graphs, lay = story
    for G in graphs:
        for node, xy in _drawn(G, lay).items():
            assert xy is not None, node


def test_stable_between_consecutive_snapshots(story):
    fs, _graphs, lay = story
    pairs = [(f.before, f.after) for f in fs]
    pairs += [(a.after, b.before) for a, b in zip(fs, fs[1:], strict=False)]
    checked = 0
    for before, after in pairs:
        for node in set(before) & set(after):
            if before.nodes[node].get("netns") != after.nodes[node].get("netns"):
                continue  # moved: a new place is the point
            assert lay.xy(before, node) == lay.xy(after, node), node
            checked += 1
    assert checked > 0
    # and the positions are a function of (id, namespace) over the whole timeline
    seen: dict = {}
    for f in fs:
        for node, d in f.after.nodes(data=True):
            key = (node, d.get("netns"))
            xy = lay.xy(f.after, node)
            assert seen.setdefault(key, xy) == xy


def test_layout_is_deterministic(story):
    _fs, graphs, lay = story
    again = compute(graphs)
    assert again.pos == lay.pos and again.boxes == lay.boxes and again.bounds == lay.bounds


def test_nodes_sit_in_their_box_and_do_not_collide(story):
    _fs, graphs, lay = story
    for G in graphs:
        drawn = _drawn(G, lay)
        for node, (x, y) in drawn.items():
            key = G.nodes[node].get("netns")
            if key is not None:
                assert lay.boxes[key].contains(x, y, pad=1e-9), (node, key)
        for (a, pa), (b, pb) in itertools.combinations(drawn.items(), 2):
            if pa is not None and pb is not None:
                assert math.dist(pa, pb) > 0.05, (a, b)


def test_boxes_do_not_overlap(story):
    _fs, _graphs, lay = story
    for (ka, a), (kb, b) in itertools.combinations(lay.boxes.items(), 2):
        overlap = a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1
        assert not overlap, (ka, kb)
    x0, y0, x1, y1 = lay.bounds
    for box in lay.boxes.values():
        assert x0 <= box.x0 and box.x1 <= x1 and y0 <= box.y0 and box.y1 <= y1


def _crosses(p, q, box, eps=1e-6) -> bool:
    """Does segment p-q pass through the inside of box (sampled)?"""
    for t in [i / 200 for i in range(201)]:
        x, y = p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t
        if box.x0 + eps < x < box.x1 - eps and box.y0 + eps < y < box.y1 - eps:
            return True
    return False


def test_sixty_pods_no_hairball():
    fs = frames(bridge_pods(60, steps_per_pod=1))
    graphs = [fs[0].before] + [f.after for f in fs]
    lay = compute(graphs)
    assert lay.lod == "dense"
    G = graphs[-1]
    pods = [k for k in lay.boxes if k != ROOT]
    assert len(pods) == 60
    # pods above and below the node, several rows deep, and still not wider than ~4:1
    sides = {lay.boxes[k].side for k in pods}
    assert sides == {"above", "below"}
    w, h = lay.size
    assert w / h < 4.5
    # every veth is a straight line that crosses no other namespace's box
    for u, v, e in G.edges(data=True):
        if e["kind"] != "veth":
            continue
        pu, pv = lay.xy(G, u), lay.xy(G, v)
        mine = {G.nodes[u]["netns"], G.nodes[v]["netns"]}
        for key, box in lay.boxes.items():
            if key not in mine:
                assert not _crosses(pu, pv, box), (u, v, key)
        assert abs(pu[0] - pv[0]) < 1e-9  # vertical: node end straight above/below the pod end


def test_level_of_detail_follows_the_number_of_namespaces():
    assert compute([frames(veth_pair())[-1].after]).lod == "full"
    assert compute([frames(bridge_pods(12, steps_per_pod=1))[-1].after]).lod == "compact"
