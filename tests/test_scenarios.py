"""Every scenario runs to its end on the model, with a bilingual title and why on each step."""

from __future__ import annotations

import re
import sys
import types

import pytest

from simlab import scenarios
from simlab.i18n import CATALOG
from simlab.model import ROOT, NetnsAdd, derive

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
ALL = [s.name for s in scenarios.all_scenarios()]


# ------------------------------------------------------------------- the API
def test_names_lists_what_imports():
    names = scenarios.names()
    assert names[:2] == ["veth-basics", "bridge"]
    for name in ALL:
        ok, _ = scenarios.get(name).available()
        assert (name in names) == ok
    assert names == ALL  # the runtimes import: a broken import fails here, not as a skip


def test_every_named_scenario_exists():
    assert ALL == ["veth-basics", "bridge", "docker-none", "docker-host", "docker-bridge",
                   "docker-container", "k8s"]


def test_get_and_titles():
    scenario = scenarios.get("bridge")
    assert scenario.title("en") == "A bridge joining three namespaces"
    assert JAPANESE.search(scenario.title("ja"))
    with pytest.raises(KeyError, match="known: veth-basics"):
        scenarios.get("nope")


def test_run_refuses_an_unavailable_scenario(monkeypatch):
    broken = scenarios.Scenario("broken", {"en": "x", "ja": "x"}, lambda lab: None,
                                needs=(("simlab.no_such_module", ""),))
    monkeypatch.setattr(scenarios, "_ALL", scenarios._ALL + (broken,))
    assert "broken" not in scenarios.names()
    assert broken.available() == (False, "simlab.no_such_module")
    with pytest.raises(RuntimeError, match="simlab.no_such_module"):
        scenarios.run("broken")


def test_a_half_written_runtime_does_not_break_names(monkeypatch):
    broken = types.ModuleType("simlab.runtime.docker")  # imports, but has no DockerEngine yet
    monkeypatch.setitem(sys.modules, "simlab.runtime.docker", broken)
    assert "docker-none" not in scenarios.names()


# ------------------------------------------------------------- every scenario
def _check_steps(lab, name):
    steps = list(lab.timeline)
    assert steps, name
    for step in steps:
        for lang in ("en", "ja"):
            assert step.title_in(lang), (name, step)
            assert step.why_in(lang), (name, step)
        assert step.after == lab.timeline[steps.index(step)].after
    # Every step the scenario wrote itself is in both languages, really translated.
    own = [s for s in steps if s.title.get("ja") in CATALOG["ja"].values()]
    assert own, name
    for step in own:
        assert step.title["ja"] != step.title["en"]
        assert JAPANESE.search(step.why["ja"]), step.why
    for before, after in zip(steps, steps[1:], strict=False):
        assert before.after == after.before  # nothing happens between steps
    return steps


@pytest.mark.parametrize("name", ALL)
def test_every_scenario_runs_on_the_model(name):
    lab = scenarios.run(name)
    assert lab.backend == "model"
    assert lab.timeline.meta["scenario"] == name
    _check_steps(lab, name)


def _v4(ns, link):
    return [a.cidr for a in ns.addrs_of(link.ifindex) if a.family == 4]


def _link(state, key, ifname):
    link = state.netns[key].link(ifname)
    assert link is not None, (key, ifname)
    return link


def test_veth_basics_ends_ping_ready():
    lab = scenarios.run("veth-basics")
    steps = list(lab.timeline)
    assert len(steps) == 7
    final = lab.snapshot()
    assert sorted(final.netns) == ["", "blue", "red"]
    for key, ifname, cidr in (("red", "veth1", "10.0.0.1/24"), ("blue", "veth2", "10.0.0.2/24")):
        ns = final.netns[key]
        link = _link(final, key, ifname)
        assert derive.operstate(final, ns, link) == "UP"
        assert _v4(ns, link) == [cidr]
        assert any(r.dst == "10.0.0.0/24" and r.dev == link.ifindex for r in ns.routes)
        assert derive.operstate(final, ns, _link(final, key, "lo")) == "UNKNOWN"
    assert _link(final, "red", "veth1").peer[0] == "blue"
    assert final.netns[ROOT].link("veth1") is None and final.netns[ROOT].link("veth2") is None
    # The addresses were added while the links were down: no route until "up".
    addr_step = steps[5]
    assert all(not ns.routes for k, ns in addr_step.after.netns.items() if k != ROOT)


def test_bridge_has_three_forwarding_ports():
    lab = scenarios.run("bridge")
    assert len(lab.timeline) == 10
    final = lab.snapshot()
    node = final.netns[ROOT]
    br0 = _link(final, ROOT, "br0")
    ports = derive.ports_of(node, br0)
    assert sorted(p.ifname for p in ports) == ["veth1", "veth2", "veth3"]
    assert all(derive.port_state(final, node, p) == "forwarding" for p in ports)
    assert derive.operstate(final, node, br0) == "UP"
    for i in (1, 2, 3):
        ns = final.netns[f"ns{i}"]
        eth0 = _link(final, f"ns{i}", "eth0")
        assert _v4(ns, eth0) == [f"10.0.0.{i}/24"]
        assert derive.operstate(final, ns, eth0) == "UP"


def test_runtime_scenarios_frame_the_runtime_steps():
    lab = scenarios.run("k8s")
    steps = list(lab.timeline)
    assert steps[0].title["en"] == CATALOG["en"]["sc.k8s.start.title"]
    assert steps[-1].title["en"] == CATALOG["en"]["sc.k8s.result.title"]
    assert steps[0].ops == () and steps[-1].ops == ()
    assert len(steps) > 2  # the kubelet's own steps sit in between
    lab = scenarios.run("docker-host")
    wanted = CATALOG["en"]["sc.docker-host.run.title"]
    chapter = next(s for s in lab.timeline if s.title["en"] == wanted)
    assert chapter.ops == ()
    assert list(lab.snapshot().netns) == list(chapter.before.netns)  # --net host: no namespace


def test_run_on_a_given_lab():
    from simlab.lab import Lab

    lab = Lab(backend="model")
    assert scenarios.run("veth-basics", lab=lab) is lab
    assert len(lab.timeline) == 7


def test_a_failing_scenario_raises_the_kernel_error():
    from simlab.lab import Lab
    from simlab.model import NetError

    lab = Lab(backend="model")
    lab.apply(NetnsAdd("red"))
    with pytest.raises(NetError, match="File exists"):
        scenarios.run("veth-basics", lab=lab)


@pytest.mark.kernel
@pytest.mark.parametrize("name", ["veth-basics", "bridge"])
def test_scenarios_on_the_kernel_match_the_model(name):
    pytest.importorskip("simlab.kernel.backend", reason="the kernel backend has not landed yet")
    kernel = scenarios.run(name, backend="kernel")
    try:
        model = scenarios.run(name)
        assert len(kernel.timeline) == len(model.timeline)
        k, m = kernel.timeline[-1].after, model.timeline[-1].after
        assert sorted(k.netns) == sorted(m.netns)
        for key in m.netns:
            kn, mn = k.netns[key], m.netns[key]
            assert sorted(x.ifname for x in kn.links.values()) == sorted(
                x.ifname for x in mn.links.values()), key
            v4 = lambda n: sorted(a.cidr for a in n.addrs if a.family == 4)  # noqa: E731
            assert v4(kn) == v4(mn), key
    finally:
        kernel.close()
