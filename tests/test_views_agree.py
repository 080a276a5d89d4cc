"""The matplotlib pictures (exports) and the browser's SVG scene show the same thing: at
every step, the same links and containers at the same places, the same names on them and
on the namespaces, and the same veth wires.  The scene is replayed as scene.js does (base
items, then each step's ``set``/``del``/``eadd``/``edel``)."""

from __future__ import annotations

import pytest

from simlab import scenarios
from simlab.views._samples import churn, veth_pair
from simlab.views.layout import compute_frames
from simlab.views.picture import _Painter
from simlab.views.scene import scene
from simlab.views.story import frames


def _replay(sc):
    items, edges = dict(sc["items"]), dict(sc["edges"])
    for st in sc["steps"]:
        items.update(st["set"])
        for i in st["del"]:
            items.pop(i, None)
        edges.update(st["eadd"])
        for k in st["edel"]:
            edges.pop(k, None)
        yield items, edges


def _xy(p) -> tuple[float, float]:
    return (round(p[0], 3), round(p[1], 3))


@pytest.mark.parametrize("make", [veth_pair, churn, lambda: scenarios.run("bridge"),
                                  lambda: scenarios.run("docker-container"),
                                  lambda: scenarios.run("k8s")],
                         ids=["veth", "churn", "bridge", "docker-container", "k8s"])
def test_matplotlib_and_svg_draw_the_same_scene(make):
    fs = frames(make())
    lay = compute_frames(fs)
    sc = scene(None, fs=fs, layout=lay, texts=False, packets=False)
    for f, (items, edges) in zip(fs, _replay(sc), strict=True):
        p = _Painter(f.after, f.diff, f.before, lay, "en", 8.0, 6.0, 1.0)
        p.namespaces()
        p.links()
        svg_marks = {i: _xy((a["x"], a["y"])) for i, a in items.items() if a["k"] != "ns"}
        if lay.lod == "dense":  # both leave lo out there (the browser by CSS)
            svg_marks = {i: xy for i, xy in svg_marks.items() if items[i].get("role") != "lo"}
        assert {n: _xy(xy) for n, xy in p.pos.items()} == svg_marks, f.step.commands
        heads = {lines[0] for (lines, *_rest), _xy_, _c in p.pic.labels}
        for a in items.values():
            if a["k"] == "link" and lay.lod != "dense" and a["role"] != "lo":
                # the head line: the name as `ip` shows it (a state word may follow)
                assert any(h == a["name"] or h.startswith(a["name"] + " ") for h in heads), (
                    a["name"], heads)
            if a["k"] == "ns" and a["key"] and lay.lod != "dense":
                assert a["name"] in heads, (a["name"], heads)
        mpl_veth = {frozenset((_xy(p.pos[u]), _xy(p.pos[v])))
                    for u, v, e in f.after.edges(data=True)
                    if e.get("kind") == "veth" and u in p.pos and v in p.pos}
        svg_veth = {frozenset((svg_marks[u], svg_marks[v]))
                    for kind, u, v in edges.values()
                    if kind == "veth" and u in svg_marks and v in svg_marks}
        assert mpl_veth == svg_veth
