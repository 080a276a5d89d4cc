"""The scene: plain data the browser, the HTML export and matplotlib draw (views/scene.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from simlab import scenarios
from simlab.model import ROOT, new_state
from simlab.model.forward import Seen, reach
from simlab.views._samples import bridge_pods, churn, veth_pair
from simlab.views.layout import compute
from simlab.views.scene import badges_for, item_attrs, packet_frames, scene, scene_json
from simlab.views.story import frames


def replay(sc: dict, upto: int) -> dict:
    """What the browser does: the base, then each step's diff (scene.js: apply)."""
    items = dict(sc["items"])
    for st in sc["steps"][: upto + 1]:
        items.update(st["set"])
        for gone in st["del"]:
            items.pop(gone, None)
    return items


@pytest.mark.parametrize("make", [veth_pair, churn, lambda: bridge_pods(4)])
def test_the_diffs_rebuild_every_step(make):
    lab = make()
    fs = frames(lab)
    lay = compute([fs[0].before] + [f.after for f in fs])
    sc = scene(lab, fs=fs, layout=lay)
    assert json.loads(scene_json(sc)) == json.loads(json.dumps(sc))  # plain JSON data
    for i, f in enumerate(fs):
        want = {n: a for n in f.after.nodes if (a := item_attrs(f.after, n, lay)) is not None}
        assert replay(sc, i) == want, i


def test_a_step_carries_only_its_change():
    """50 pods: no step sends more than the few items it touched (cost grows with the change)."""
    sc = scene(bridge_pods(50), texts=False)
    sizes = [len(st["set"]) + len(st["del"]) for st in sc["steps"]]
    assert max(sizes) <= 6 and len(sc["steps"]) > 100
    assert sc["groups"] and len(sc["groups"][0]["members"]) == 50  # "48 more pods like this"


def test_names_first():
    lab = scenarios.run("k8s")
    try:
        sc = scene(lab, texts=False)
        final = replay(sc, len(sc["steps"]) - 1)
        pods = [a for a in final.values() if a["k"] == "ns" and a["name"] == "centos1"]
        assert pods and pods[0]["sub"].startswith("default/centos1 ")
        assert pods[0]["key"] in pods[0]["sub"]  # the id, in small print
        eth0 = [a for a in final.values() if a["k"] == "link" and a["ns"] == pods[0]["key"]
                and a["ifname"] == "eth0"][0]
        peer = lab.snapshot().netns[pods[0]["key"]].link("eth0").peer
        assert eth0["name"] == f"eth0@if{peer[1]}"  # as `ip a` prints it
    finally:
        lab.close()
    sc = scene(veth_pair())
    names = {a["name"] for a in replay(sc, 3).values() if a["k"] == "link"}
    assert "veth2@veth1" not in names and any(n.startswith("veth1@if") for n in names)


def test_badges_say_what_the_picture_does_not_draw():
    lab = scenarios.run("k8s")
    try:
        sc = scene(lab, texts=False)
    finally:
        lab.close()
    by_title = {st["title"]: st["badges"] for st in sc["steps"]}
    assert "host-local reserved 10.244.1.2" in by_title["simlab-bridge ADD: IPAM ADD"]
    assert "net.ipv4.ip_forward = 1" in by_title["dockerd: turn on IP forwarding, FORWARD policy DROP"]
    assert any(b.startswith("ip netns exec") or b.startswith("iptables") or "iptables" in b
               for b in by_title["dockerd: NAT rules (MASQUERADE and the DOCKER chain)"])
    quiet = [st for st in sc["steps"] if not (st["set"] or st["del"] or st["eadd"] or st["edel"])]
    assert quiet and all(st["badges"] for st in quiet)  # Next never looks broken
    ja = scene(scenarios.run("k8s"), texts=False, lang="ja")
    assert any("予約" in b for st in ja["steps"] for b in st["badges"])


def test_badges_from_ops():
    from simlab.model import apply
    from simlab.model.ops import RouteAdd, SysctlSet
    from simlab.timeline import Step

    s0 = new_state()
    op = SysctlSet("net.ipv4.conf.all.forwarding", "1")
    assert badges_for(Step("x", "", (op,), s0, apply(s0, op)), True) == \
        ["net.ipv4.conf.all.forwarding = 1"]
    op = RouteAdd("default", via="10.0.0.1", dev="eth0")
    assert badges_for(Step("x", "", (op,), s0, s0), True) == \
        ["ip route add default via 10.0.0.1 dev eth0"]


def test_texts_are_the_ip_texts_deduplicated():
    lab = veth_pair()
    sc = scene(lab)
    assert len(sc["texts"]) == len(set(sc["texts"]))
    last = len(sc["steps"]) - 1

    def text(ns, what, at):
        for j in range(at, -1, -1):
            tx = sc["steps"][j]["texts"]
            if f"{ns}|{what}" in tx:
                return sc["texts"][tx[f"{ns}|{what}"]]
        return sc["texts"][sc["baseTexts"][f"{ns}|{what}"]]

    from simlab.views.ipa import show_text
    state = lab.timeline[last].after
    for ns in state.netns:
        for what in ("a", "route", "neigh", "fdb"):
            assert text(ns, what, last) == show_text(state, ns, what)
    assert scene(lab, texts=False)["texts"] is None


def pinged():
    lab = scenarios.run("veth-basics")
    lab.ping("red", "10.0.0.2")
    return lab


def test_a_ping_step_carries_its_walk():
    lab = pinged()
    sc = scene(lab)
    lab.close()
    pings = [st for st in sc["steps"] if "packet" in st]
    assert len(pings) == 1
    pk = pings[0]["packet"]
    legs = [f["leg"] for f in pk["frames"]]
    assert pk["ok"] and legs[0] == "request" and legs[-1] == "reply"
    items = set(replay(sc, len(sc["steps"]) - 1))
    assert all(f["at"] in items for f in pk["frames"])


def test_packet_frames_from_seen_packets():
    """Seen values built by hand: the picture plays them, with headers and the deciding rule."""
    lab = pinged()
    fs = frames(lab)
    lab.close()
    f = fs[-1]
    walk = reach(f.step.before, "red", "10.0.0.2")
    seen = (
        Seen("request", "red", "veth1", "out", "02:00:00:00:00:01", "02:00:00:00:00:02",
             "10.0.0.1", "10.0.0.2", 64, hop=0, rule="10.0.0.0/24 dev eth0 proto kernel"),
        Seen("request", "blue", "veth2", "in", "02:00:00:00:00:01", "02:00:00:00:00:02",
             "10.0.0.1", "10.0.0.2", 64, hop=2),
        Seen("reply", "blue", "veth2", "out", "02:00:00:00:00:02", "02:00:00:00:00:01",
             "10.0.0.2", "10.0.0.1", 64, hop=0, rule="10.0.0.1 dev eth0 lladdr 02:00:00:00:00:01"),
    )
    pk = packet_frames(dataclasses.replace(walk, seen=seen), f.before)
    assert pk["source"] == "seen" and len(pk["frames"]) == 3
    first = pk["frames"][0]
    assert first["hdr"] == {"src_mac": "02:00:00:00:00:01", "dst_mac": "02:00:00:00:00:02",
                            "src": "10.0.0.1", "dst": "10.0.0.2", "ttl": 64, "proto": "icmp"}
    assert first["rule"].startswith("10.0.0.0/24") and first["text"] == walk.hops[0].text("en")
    ns_of = {n: d.get("netns") for n, d in f.before.nodes(data=True)}
    assert ns_of[first["at"]] == "red" and f.before.nodes[first["at"]]["ifname"] == "veth1"
    assert pk["frames"][2]["leg"] == "reply"
    fallback = packet_frames(dataclasses.replace(walk, seen=()), f.before)
    assert fallback["source"] == "hops" and len(fallback["frames"]) == \
        len(walk.hops) + len(walk.reply_hops)
    real = packet_frames(walk, f.before)  # the model's own walk: its packets, interface by interface
    assert walk.seen and real["source"] == "seen" and len(real["frames"]) == len(walk.seen)


def test_scene_json_is_safe_in_a_script_element():
    sc = scene(veth_pair())
    sc["steps"][0]["title"] = "</script><script>alert(1)</script>"
    assert "</script" not in scene_json(sc)
    assert json.loads(scene_json(sc))["steps"][0]["title"].startswith("</script>")


def test_the_node_is_never_the_first_focus():
    sc = scene(veth_pair())
    for st in sc["steps"]:
        if len(st["focus"]) > 1:
            assert st["focus"][-1] == ROOT or ROOT not in st["focus"]
