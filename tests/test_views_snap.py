"""The incremental frames (views.snap) against the plain way: every step's graph built whole
from its snapshot and diffed whole.  Same nodes, attributes, edges and diffs, step by step."""

from __future__ import annotations

import pytest

from simlab import scenarios
from simlab.views._samples import bridge_pods, churn, veth_pair
from simlab.views.story import frames, whole_frames


def _same_graph(view, G) -> None:
    plain = {n: {k: v for k, v in d.items() if k != "order"} for n, d in G.nodes(data=True)}
    assert list(view.nodes(data=True)) == list(plain.items())  # the same order too
    assert all(view.nodes[n] == d for n, d in plain.items()) and len(view) == len(plain)
    assert ({frozenset((u, v)): d for u, v, d in view.edges(data=True)}
            == {frozenset((u, v)): d for u, v, d in G.edges(data=True)})
    assert set(view.graph().nodes) == set(G.nodes)
    for n in G.nodes:
        assert set(view.neighbors(n)) == set(G.neighbors(n)), n
        for m in G.neighbors(n):
            assert view.has_edge(n, m) and view.edges[n, m] == G.edges[n, m]


@pytest.mark.parametrize("make", [veth_pair, churn, lambda: bridge_pods(9, steps_per_pod=3),
                                  lambda: scenarios.run("docker-bridge"),
                                  lambda: scenarios.run("docker-container"),
                                  lambda: scenarios.run("k8s")],
                         ids=["veth", "churn", "pods", "docker", "docker-container", "k8s"])
def test_incremental_frames_match_whole_graphs(make):
    source = make()
    fs, plain = frames(source), whole_frames(source)
    assert len(fs) == len(plain)
    for f, (g_b, g_a, d) in zip(fs, plain, strict=True):
        _same_graph(f.before_view, g_b)
        _same_graph(f.after_view, g_a)
        assert f.diff == d, f.step.commands


@pytest.mark.parametrize("make", [veth_pair, churn, lambda: bridge_pods(20, steps_per_pod=3),
                                  lambda: scenarios.run("docker-container"),
                                  lambda: scenarios.run("k8s")],
                         ids=["veth", "churn", "pods", "docker-container", "k8s"])
def test_layout_from_changes_is_the_layout_of_all_graphs(make):
    from simlab.views.layout import _facts, compute, compute_frames, facts_of_frames

    fs = frames(make())
    graphs = [fs[0].before] + [f.after for f in fs]
    fast, slow = facts_of_frames(fs), _facts(graphs)
    # the same facts (a link's peers may be listed in another order: the first is used)
    for i in (0, 1, 2, 4, 5, 6):
        assert fast[i] == slow[i], i
    assert {k: set(v) for k, v in fast[3].items()} == {k: set(v) for k, v in slow[3].items()}
    assert compute_frames(fs) == compute(graphs)


def test_a_slice_since_a_step_keeps_the_names_of_earlier_containers():
    """Notebook 02 shows `docker run web` on its own: `nonet`, made before, is `nonet`
    on the picture (a plain slice of the steps knows it only by its hex id)."""
    import simlab
    from simlab.views.scene import scene

    lab = simlab.Lab(backend="model")
    nonet = lab.docker.run("nonet", net="none")
    n0 = len(lab.timeline)
    lab.docker.run("web")
    sliced = scene(lab.timeline.steps[n0:])
    assert sliced["names"][nonet.netns] == nonet.netns  # what the plain slice knows
    fs = frames(lab, since=n0)
    assert [f.index for f in fs] == list(range(len(lab.timeline) - n0))
    assert fs[0].step is lab.timeline.steps[n0]
    sc = scene(None, fs=fs)
    assert sc["names"][nonet.netns] == "nonet"
    s = simlab.widgets.Stepper(lab, since=n0, live=False)
    assert len(s.frames) == len(lab.timeline) - n0
    assert (f"nonet ({nonet.netns})", nonet.netns) in s.ns_options
    s.close()
