"""Timelines survive a trip through a file: equal snapshots, ops, titles, whys and details."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest
from test_scenarios import ALL

from simlab import scenarios, timeline_io
from simlab.lab import Lab
from simlab.model import ROOT, Iptables, LinkAdd, NetnsAdd, SysctlSet, new_state
from simlab.model.state import Link, NetState
from simlab.timeline import Step, Timeline, text


def _assert_same(a: Timeline, b: Timeline, *, position: bool = True) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for f in dataclasses.fields(Step):
            assert getattr(x, f.name) == getattr(y, f.name), f.name
        assert type(x.after) is NetState
    if position:
        assert a.position == b.position


def _rich_lab() -> Lab:
    """A lab whose steps use every kind of field: peers, masters, sysctls, iptables, detail."""
    lab = scenarios.run("bridge")
    lab.apply(SysctlSet("net.ipv4.ip_forward", "1"),
              Iptables("nat", ("-A", "POSTROUTING", "-s", "10.0.0.0/24", "-j", "MASQUERADE")),
              title=text("NAT", "NAT の設定"), why=text("So that...", "外へ出るため"),
              mirrors="bridge.go: setupIPMasq", actor="cni:bridge",
              detail={"env": {"CNI_COMMAND": "ADD"}, "pair": ("a", 1), "ints": {1: "one"},
                      "link": Link(3, "eth0", "veth", "02:00:00:00:00:01", peer=("red", 4)),
                      "blob": b"\x00\x01", "list": [1, (2, 3)], "odd": object()})
    return lab


@pytest.mark.parametrize("name", ALL)
def test_round_trip_of_every_scenario(name, tmp_path):
    lab = scenarios.run(name)
    path = tmp_path / f"{name}.json"
    timeline_io.save(lab.timeline, path)
    again = timeline_io.load(path)
    _assert_same(lab.timeline, again)
    assert again.meta["scenario"] == name


def test_round_trip_keeps_types(tmp_path):
    lab = _rich_lab()
    path = tmp_path / "t.json"
    timeline_io.save(lab, path)
    again = timeline_io.load(path)
    last = again[-1]
    original = lab.timeline[-1]
    assert last.ops == original.ops and isinstance(last.ops, tuple)
    assert isinstance(last.ops[1].args, tuple)
    assert last.after == original.after
    node = last.after.netns[ROOT]
    assert all(isinstance(i, int) for i in node.links)
    veth = node.link("veth1")
    assert isinstance(veth.peer, tuple) and veth.peer[0] == "ns1"
    assert node.iptables == original.after.netns[ROOT].iptables
    assert node.sysctls["net.ipv4.ip_forward"] == "1"
    detail = last.detail
    assert detail["env"] == {"CNI_COMMAND": "ADD"}
    assert detail["pair"] == ("a", 1)
    assert detail["ints"] == {1: "one"}
    assert detail["link"] == original.detail["link"]
    assert detail["blob"] == b"\x00\x01"
    assert detail["list"] == [1, (2, 3)]
    assert detail["odd"].startswith("<object object")  # kept as its repr
    assert last.mirrors == "bridge.go: setupIPMasq" and last.actor == "cni:bridge"
    assert last.title_in("ja") == "NAT の設定"
    assert again.meta["backend"] == "model"


def test_the_file_is_plain_versioned_json(tmp_path):
    lab = scenarios.run("veth-basics")
    path = tmp_path / "t.json"
    timeline_io.save(lab.timeline, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "simlab-timeline" and data["version"] == timeline_io.VERSION
    assert "名前空間" in path.read_text(encoding="utf-8")  # Japanese kept readable
    # One snapshot per distinct state: a step's after is the next step's before.
    assert len(data["snapshots"]) == len(lab.timeline) + 1
    assert data["steps"][0]["ops"] == [{"op": "NetnsAdd", "name": "red"}]


def test_gzip(tmp_path):
    lab = scenarios.run("bridge")
    path = tmp_path / "t.json.gz"
    timeline_io.save(lab.timeline, path)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert json.load(f)["format"] == "simlab-timeline"
    _assert_same(lab.timeline, timeline_io.load(path))


def test_replay_starts_at_the_first_step_without_a_backend(tmp_path):
    lab = scenarios.run("veth-basics")
    lab.timeline.jump(3)
    path = tmp_path / "t.json"
    timeline_io.save(lab.timeline, path)
    assert timeline_io.load(path).position == 3
    replayed = timeline_io.replay(path)
    assert replayed.position == 0 and replayed.current == lab.timeline[0]
    assert not hasattr(replayed, "_backend")
    assert replayed.forward() == lab.timeline[1]
    assert replayed[-1].after == lab.snapshot()


def test_replay_is_usable_by_the_tour_renderer(tmp_path):
    from simlab.tour import ip_a_text

    lab = scenarios.run("veth-basics")
    path = tmp_path / "t.json"
    timeline_io.save(lab, path)
    final = timeline_io.replay(path)[-1].after
    assert "10.0.0.1/24" in ip_a_text(final, "red")
    assert ip_a_text(final, "red") == ip_a_text(lab.snapshot(), "red")


def test_dumps_loads_and_empty_timeline():
    assert len(timeline_io.loads(timeline_io.dumps(Timeline()))) == 0
    state = new_state(seed=7, tunnels=("tunl0", "sit0"))
    step = Step(title=text("x", "エックス"), why=text(""), ops=(NetnsAdd("red"),),
                before=state, after=state)
    again = timeline_io.loads(timeline_io.dumps(Timeline([step])))
    assert again[0] == step
    assert again[0].after.tunnels == ("tunl0", "sit0") and again[0].after.seed == 7


def test_missing_fields_take_their_defaults_and_unknown_ones_are_ignored():
    lab = scenarios.run("veth-basics")
    data = timeline_io.to_dict(lab.timeline)
    for snapshot in data["snapshots"]:
        for ns in snapshot["netns"].values():
            for link in ns["links"].values():
                del link["promisc"]  # as in a file written before the field existed
                link["future_field"] = 1
    for step in data["steps"]:
        del step["detail"]
        step["future"] = "x"
    again = timeline_io.from_dict(data)
    _assert_same(lab.timeline, again)


def test_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="not a simlab timeline"):
        timeline_io.loads('{"steps": []}')
    newer = {"format": "simlab-timeline", "version": timeline_io.VERSION + 1, "steps": []}
    with pytest.raises(ValueError, match="upgrade simlab"):
        timeline_io.from_dict(newer)
    bad_op = {"format": "simlab-timeline", "version": 1, "snapshots": [
        timeline_io.encode_state(new_state())], "steps": [
        {"title": {"en": "x"}, "why": {"en": ""}, "ops": [{"op": "Reboot"}], "before": 0,
         "after": 0}]}
    with pytest.raises(ValueError, match="Reboot"):
        timeline_io.from_dict(bad_op)


def test_detail_never_imports_code_outside_simlab():
    data = {"__dataclass__": "os:system", "fields": {"a": 1}}
    assert timeline_io._decode_any(data) == {"a": 1}


def test_op_codec_matches_cni_trace():
    from simlab.cni.trace import op_from_dict

    op = LinkAdd("veth1", "veth", peer="eth0", peer_netns="ns1", mtu=1400)
    assert op_from_dict(timeline_io.encode_op(op)) == op
    assert timeline_io.decode_op(timeline_io.encode_op(op)) == op


@pytest.mark.kernel
def test_a_kernel_timeline_replays_without_root(tmp_path):
    pytest.importorskip("simlab.kernel.backend", reason="the kernel backend has not landed yet")
    lab = scenarios.run("veth-basics", backend="kernel")
    try:
        path = tmp_path / "kernel.json"
        timeline_io.save(lab, path)
    finally:
        lab.close()
    again = timeline_io.replay(path)
    _assert_same(lab.timeline, again, position=False)
    assert again.meta["backend"] == "kernel"
