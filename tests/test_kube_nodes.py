"""Two nodes on the model: a second node namespace, its own pod CIDR, pods reaching each other."""

from __future__ import annotations

import doctest

import pytest

import simlab
from simlab.model import ROOT
from simlab.model import ops as o
from simlab.cni.plugins import ptp
from simlab.runtime import kube, kube_cni, kube_nodes, kube_text
from simlab.runtime.kube import KubeError
from simlab.runtime.kube_nodes import NodeView, swap_op, swap_state


@pytest.fixture
def lab():
    lab = simlab.Lab(backend="model")
    yield lab
    lab.close()




@pytest.mark.parametrize("module", [kube, kube_cni, kube_nodes, ptp, kube_text])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_the_view_swaps_the_node_and_root(lab):
    lab.k8s.run("a")
    lab.k8s.add_node("k8s-node02")
    lab.k8s.run("b", node="k8s-node02")
    real = lab.snapshot()
    seen = swap_state(real, "node2")
    assert list(seen.netns)[0] == ROOT
    assert seen.netns[ROOT].link("em1").peer[0] == "lan"
    assert (
        seen.netns[ROOT].link("cni0") is not None
        and seen.netns["node2"].link("docker0") is not None
    )
    pod_b = lab.k8s.pod("b").netns
    assert seen.netns[pod_b].link("eth0").peer[0] == ROOT
    assert swap_state(seen, "node2") == real
    op = o.LinkSet("eth0", netns=ROOT, to_netns="node2")
    assert swap_op(swap_op(op, "node2"), "node2") == op
    assert swap_op(o.NetnsAdd("node2"), "node2") == o.NetnsAdd(ROOT)
    view = NodeView(lab, "node2")
    assert view.snapshot() is view.snapshot()  # one swap per snapshot


def test_pods_on_two_nodes_reach_each_other(lab):
    a = lab.k8s.run("a")
    node2 = lab.k8s.add_node("k8s-node02")
    assert (node2.key, node2.address, node2.pod_cidr) == ("node2", "192.168.1.2", "10.244.2.0/24")
    b = lab.k8s.run("b", node="k8s-node02")
    assert (a.ip, b.ip) == ("10.244.1.2", "10.244.2.2")
    assert lab.k8s.get_pods() == (
        "NAME      READY     STATUS    RESTARTS   AGE       IP           NODE\n"
        "a         1/1       Running   0          0s        10.244.1.2   k8s-node01\n"
        "b         1/1       Running   0          0s        10.244.2.2   k8s-node02\n"
    )
    for src, dst in (("a", "b"), ("b", "a")):
        walk = lab.k8s.reach(src, dst)
        assert walk.ok and walk.reply_ok, str(walk)
        where = [h.netns for h in walk.hops]
        assert {"lan", "node2", ROOT} <= set(where)  # across the LAN switch, through both nodes
    # routes between the pod CIDRs (host-gw) and forwarding on both nodes
    assert "10.244.2.0/24 via 192.168.1.2 dev em1" in lab.ip("route")
    assert "10.244.1.0/24 via 192.168.1.1 dev em1" in lab.ip("-n node2 route")
    state = lab.snapshot()
    assert state.netns["node2"].sysctls["net.ipv4.ip_forward"] == "1"
    assert state.netns[ROOT].sysctls["net.ipv4.ip_forward"] == "1"
    assert "inet 10.244.2.2/24" in lab.k8s.exec("b", "ip a")
    assert lab.k8s.exec("b", "hostname") == "b\n"


def test_a_plugin_for_node2_runs_with_node2_as_its_host(lab):
    lab.k8s.run("a")
    lab.k8s.add_node("k8s-node02")
    root_before = lab.snapshot().netns[ROOT]
    first = len(lab.timeline)
    b = lab.k8s.run("b", node="k8s-node02")
    assert lab.snapshot().netns[ROOT] == root_before  # node 1 untouched
    plugin_ops = [
        op for s in list(lab.timeline)[first:] if s.actor.startswith("cni:") for op in s.ops
    ]
    assert plugin_ops
    for op in plugin_ops:
        keys = {getattr(op, f, None) for f in ("netns", "peer_netns", "to_netns")} - {None}
        assert keys <= {"node2", b.netns}, op
    node2 = lab.snapshot().netns["node2"]
    assert node2.link("cni0") is not None
    assert [a.cidr for a in node2.addrs_of(node2.link("cni0").ifindex) if a.family == 4] == [
        "10.244.2.1/24"
    ]
    veth = next(link for link in node2.links.values() if link.ifname.startswith("veth"))
    assert veth.peer[0] == b.netns and veth.master == node2.link("cni0").ifindex
    # the step titles say which node's kubelet acted
    assert any(
        s.title["en"].startswith("kubelet (k8s-node02): call CNI ADD")
        for s in list(lab.timeline)[first:]
    )


def test_add_node_before_any_pod_and_bridge_vs_ptp(lab):
    lab.k8s.add_node("k8s-node02", plugin="ptp")
    assert lab.k8s.nodes["k8s-node02"].plugin == "ptp"
    a = lab.k8s.run("a")
    b = lab.k8s.run("b", node="k8s-node02")
    assert b.ip == "10.244.2.1" and "/32" in lab.k8s.exec("b", "ip a")
    assert lab.k8s.reach("a", "b").ok and lab.k8s.reach("b", "a").reply_ok
    assert a.ip == "10.244.1.2"


def test_three_nodes(lab):
    lab.k8s.add_node("k8s-node02")
    lab.k8s.add_node("k8s-node03")
    pods = [lab.k8s.run(f"p{i}", node=f"k8s-node0{i}") for i in (1, 2, 3)]
    assert [p.ip for p in pods] == ["10.244.1.2", "10.244.2.2", "10.244.3.2"]
    for src in ("p1", "p2", "p3"):
        for dst in ("p1", "p2", "p3"):
            if src != dst:
                walk = lab.k8s.reach(src, dst)
                assert walk.ok and walk.reply_ok, (
                    f"{src} -> {dst}: {walk.error or walk.reply_error}"
                )


def test_deleting_every_pod_of_both_nodes_leaves_nothing(lab):
    lab.k8s.run("a")
    lab.k8s.add_node("k8s-node02")
    lab.k8s.run("b", node="k8s-node02")
    lab.k8s.run("c", node="k8s-node02")
    nodes_only = set(lab.snapshot().netns) - {p.netns for p in lab.k8s.pods}
    for name in ("c", "a", "b"):
        lab.k8s.delete(name)
    state = lab.snapshot()
    assert set(state.netns) == nodes_only == {ROOT, "lan", "node2"}
    for key in (ROOT, "node2"):
        ns = state.netns[key]
        veths = [link.ifname for link in ns.links.values() if link.kind == "veth"]
        assert veths == ["em1"]
    assert lab.k8s.reservations() == []
    assert lab.k8s.get_pods() == "No resources found.\n"


def test_node_errors(lab):
    lab.k8s.add_node("k8s-node02")
    with pytest.raises(KubeError, match="already exists"):
        lab.k8s.add_node("k8s-node02")
    lab.ip("netns add node3")
    with pytest.raises(KubeError, match="already has a namespace 'node3'"):
        lab.k8s.add_node("k8s-node03")
    node = lab.k8s.add_node("k8s-node03", key="n3")
    assert node.key == "n3" and node.address == "192.168.1.3"
