"""The graph of a snapshot: stable node ids across moves and renames, edges, and diffs."""

from __future__ import annotations

import pytest

from simlab.model import ROOT, AddrAdd, LinkAdd, LinkSet, NetnsAdd, apply_all, new_state
from simlab.views import build, diff, follow, frames, initial_ids
from simlab.views._samples import bridge_pods, churn, veth_pair


def test_build_nodes_edges_and_attributes():
    s = apply_all(new_state(), [NetnsAdd("red"), LinkAdd("br0", "bridge"),
                                LinkAdd("veth1", "veth", peer="eth0", peer_netns="red"),
                                LinkSet("veth1", master="br0"),
                                AddrAdd("eth0", "10.0.0.2/24", netns="red")])
    G = build(s)
    assert G.nodes["ns:"]["kind"] == "netns" and G.nodes["ns:red"]["netns"] == "red"
    eth0 = G.nodes["if:red/eth0"]
    assert (eth0["netns"], eth0["role"], eth0["addrs"]) == ("red", "veth", ("10.0.0.2/24",))
    assert eth0["up"] is False
    assert eth0["mac"] == s.netns["red"].link("eth0").mac
    assert G.nodes["if:/br0"]["role"] == "bridge"
    assert G.nodes["if:/veth1"]["master"] == "if:/br0"
    assert G.edges["if:/veth1", "if:red/eth0"]["kind"] == "veth"
    assert G.edges["if:/veth1", "if:/br0"]["kind"] == "port"
    # pure: the same snapshot gives the same graph
    H = build(s)
    assert dict(G.nodes(data=True)) == dict(H.nodes(data=True))
    assert sorted(map(sorted, G.edges)) == sorted(map(sorted, H.edges))


def test_shares_and_extra_edges():
    s = apply_all(new_state(), [NetnsAdd("web")])
    G = build(s, shares={"sidecar": "web", "h": ROOT, "ghost": "nowhere"},
              extra_edges=[("if:web/lo", "world", {"kind": "note"})])
    assert G.edges["ctr:sidecar", "ns:web"]["kind"] == "shares"
    assert G.edges["ctr:h", "ns:"]["kind"] == "shares"
    assert "ctr:ghost" not in G  # its namespace does not exist
    assert G.nodes["world"]["kind"] == "external"
    assert G.edges["if:web/lo", "world"]["kind"] == "note"


def test_ids_follow_a_move_and_a_rename():
    fs = frames(veth_pair())
    last = fs[-1].after
    # veth1 was born in the node; moved to red and renamed eth0, it keeps its id
    assert last.nodes["if:/veth1"]["netns"] == "red"
    assert last.nodes["if:/veth1"]["ifname"] == "eth0"
    assert last.nodes["if:/veth2"]["netns"] == "blue"
    assert not any(n.startswith("if:red/eth0") for n in last)
    by_title = {f.step.title_in(): f for f in fs}
    move = by_title["veth1 to red"].diff
    assert move.moved == {"if:/veth1"} and not move.added and not move.removed
    rename = by_title["rename to eth0"].diff
    assert rename.changed == {"if:/veth1", "if:/veth2"} and rename.why["if:/veth1"] == ("ifname",)
    up = by_title["blue eth0 up"].diff
    # red's eth0 gets carrier when its peer comes up: that is shown as a change too
    assert {"if:/veth1", "if:/veth2"} <= up.changed


def test_ids_without_ops_follow_the_mac():
    s0 = apply_all(new_state(), [NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2")])
    s1 = apply_all(s0, [LinkSet("veth2", to_netns="red"),
                        LinkSet("veth2", netns="red", name="eth0")])
    ids = follow(s0, s1, initial_ids(s0), ops=())  # e.g. a runtime that did not record its ops
    eth0 = s1.netns["red"].link("eth0")
    assert ids[("red", eth0.ifindex)] == "if:/veth2"


def test_docker_bridge_container_end_keeps_its_id():
    scenarios = pytest.importorskip("simlab.scenarios")
    if "docker-bridge" not in scenarios.names():
        pytest.skip("simlab.runtime.docker is not available")
    fs = frames(scenarios.run("docker-bridge"))
    last = fs[-1].after
    eth0s = [n for n, d in last.nodes(data=True)
             if d.get("ifname") == "eth0" and d["netns"] not in (ROOT, "lan")]
    assert len(eth0s) == 2 and all(n.startswith("if:/veth") for n in eth0s)  # born in the node
    labels = {d["label"] for n, d in last.nodes(data=True) if d.get("kind") == "netns"}
    assert {"web", "db"} <= labels  # sandbox keys are shown by the container's name


def test_churn_reuses_ids_and_diff_lists_removals():
    fs = frames(churn())
    ids_by_step = [set(f.after) for f in fs]
    gone = fs[-3].diff  # CNI DEL
    assert {"if:pod-1/eth0", "if:/veth0001"} <= gone.removed
    assert frozenset({"if:pod-1/eth0", "if:/veth0001"}) in gone.edges_removed
    again = fs[-1].diff
    assert {"ns:pod-1", "if:pod-1/eth0", "if:/veth0001"} <= again.added
    assert "if:pod-1/eth0" in ids_by_step[-1] and "if:pod-1/eth0" not in ids_by_step[-2]


def test_ids_are_unique_when_a_birth_name_is_reused():
    s0 = apply_all(new_state(), [NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2")])
    ops = [LinkSet("veth1", name="old1"), LinkAdd("veth1", "veth", peer="veth3")]
    s1 = apply_all(s0, ops)
    ids = follow(s0, s1, initial_ids(s0), ops)
    assert len(set(ids.values())) == len(ids)
    assert "if:/veth1#2" in ids.values()


def test_diff_of_identical_graphs_is_empty_and_of_by_hand():
    G = build(veth_pair().snapshot())
    d = diff(G, G)
    assert not d and d.status("ns:red") is None
    from simlab.views import Diff

    h = Diff.of({"ns:red": "added", "if:/veth1": "changed"})
    assert h.status("ns:red") == "added" and h.status("if:/veth1") == "changed"


def test_memo_gives_the_same_graphs():
    lab = bridge_pods(4)
    memo: dict = {}
    for step in lab.timeline:
        plain = build(step.after)
        cached = build(step.after, memo=memo)
        assert dict(plain.nodes(data=True)) == dict(cached.nodes(data=True))
        assert {frozenset(e) for e in plain.edges} == {frozenset(e) for e in cached.edges}
