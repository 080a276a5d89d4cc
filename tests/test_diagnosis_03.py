"""Notebook 03's routed pod tasks (issue 16, item 3), checked by ``check_routed_pod``.

- "give a pod a routed /32 address, the Calico way": each missing piece gets its own hint
  (in the order a learner builds it), another pod's address gets the duplicate hint naming
  that pod, a /24 is refused, and the notebook's solution passes;
- "find what is broken": the fault cell as committed (English and Japanese notebooks) builds a
  pod whose node lost its host route; the checker names that in both languages, two wrong fixes
  are still rejected, and the notebook's solution passes.

On the model every case; on the kernel the solutions again, with real pings.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import simlab
import simlab.exercises as ex

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def _cells(lang: str) -> list[dict]:
    path = NB_DIR / ("03_kubernetes_and_cni.ipynb" if lang == "en" else
                     "ja/03_kubernetes_and_cni.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(lang: str, tag: str, containing: str) -> str:
    for c in _cells(lang):
        src = "".join(c["source"])
        if tag in c["metadata"].get("tags", ()) and containing in src:
            return src
    raise AssertionError(f"no {tag!r} cell with {containing!r} in 03 ({lang})")


def _node3_lab(backend: str = "model"):
    """Notebook 03 up to section 7: centos1 on node 1, calico1 on the ptp node 3."""
    lab = simlab.Lab(backend=backend)
    lab.docker.start()
    lab.k8s.run("centos1")
    lab.k8s.add_node("k8s-node02")
    lab.k8s.add_node("k8s-node03", plugin="ptp")
    lab.k8s.run("calico1", node="k8s-node03")
    return lab


def _run_cell(lab, src: str, env: dict) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src, env)
    return out.getvalue()


def _env(lab, lang: str) -> dict:
    return {"lab": lab, "ex": ex, "LANG": lang, "centos1_ip": lab.k8s.pod("centos1").ip}


def _check(lab, pod: str, lang: str = "en"):
    return ex.check_routed_pod(lab, pod, node="node3", target=lab.k8s.pod("centos1").ip,
                               lang=lang)


# ------------------------------------------------------------------ the build task
BUILD = [  # (command, the problem the check names before it)
    ("netns add handmade", "no-netns"),
    ("-n node3 link add calihand type veth peer name eth0 netns handmade", "no-ifname"),
    ("-n handmade addr add 10.244.3.50/32 dev eth0", "no-address"),
    ("-n handmade link set eth0 up", "down"),
    ("-n node3 link set calihand up", "down"),
    ("-n handmade route add 169.254.1.1 dev eth0 scope link", "no-link-route"),
    ("-n handmade route add default via 169.254.1.1 dev eth0", "no-route"),
    ("-n node3 addr add 169.254.1.1/32 dev calihand", "no-gateway"),
    ("-n node3 route add 10.244.3.50/32 dev calihand", "no-host-route"),
]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_each_missing_piece_of_a_routed_pod_has_its_hint(lang):
    lab = _node3_lab()
    for command, problem in BUILD:
        c = _check(lab, "handmade", lang)
        assert not c.ok and c.problem == problem, (command, str(c))
        assert c.hint and (ex._is_ja(c.hint) == (lang == "ja")), str(c)
        lab.ip(command)
    c = _check(lab, "handmade", lang)
    assert c.ok, str(c)
    assert ("届き" in c.verdict) == (lang == "ja")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_another_pods_address_gets_the_duplicate_hint(lang):
    lab = _node3_lab()
    taken = lab.k8s.pod("calico1").ip
    for command, _ in BUILD[:2]:
        lab.ip(command)
    lab.ip(f"-n handmade addr add {taken}/32 dev eth0")
    c = _check(lab, "handmade", lang)
    assert not c.ok and c.problem == "duplicate", str(c)
    assert c.facts["owner"] == "calico1" and "calico1" in c.hint and taken in c.hint


def test_a_slash_24_is_not_a_routed_pod():
    lab = _node3_lab()
    for command, _ in BUILD[:2]:
        lab.ip(command)
    lab.ip("-n handmade addr add 10.244.3.50/24 dev eth0")
    assert _check(lab, "handmade").problem == "not-32"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_build_tasks_cells_fail_then_the_solution_passes(lang):
    lab = _node3_lab()
    env = _env(lab, lang)
    first = _source(lang, "check", 'lab.ip("netns add handmade")')
    _run_cell(lab, first, env)
    assert _check(lab, "handmade").problem == "no-ifname"
    out = _run_cell(lab, _source(lang, "solution", "calihand"), env)
    assert _check(lab, "handmade").ok, out


# ------------------------------------------------------------------ the diagnosis task
def _broken(lang: str, backend: str = "model"):
    lab = _node3_lab(backend)
    env = _env(lab, lang)
    printed = _run_cell(lab, _source(lang, "fault", "calico2"), env)
    return lab, env, printed


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_broken_lab_fails_with_a_hint_naming_the_missing_host_route(lang):
    lab, _, printed = _broken(lang)
    assert "100% packet loss" in printed  # what the learner sees first
    assert _check(lab, "calico1", lang).ok  # the neighbour on the same node still works
    c = _check(lab, "calico2", lang)
    end = lab.k8s.pod("calico2").result.interfaces[0].name
    assert not c.ok and c.problem == "no-host-route", str(c)
    assert end in c.hint and ("ホストルート" in c.hint) == (lang == "ja")


def test_wrong_fixes_are_still_broken():
    lab, _, _ = _broken("en")
    pod = lab.k8s.pod("calico2")
    # a second default route in the pod changes nothing: the answer is lost on the node
    lab.ip(f"-n {pod.netns} route add 10.244.1.0/24 via 169.254.1.1 dev eth0")
    assert _check(lab, "calico2").problem == "no-host-route"
    # the host route through calico1's end: the node hands calico2's answers to calico1
    calico1_end = lab.k8s.pod("calico1").result.interfaces[0].name
    lab.ip(f"-n node3 route add {pod.ip}/32 dev {calico1_end}")
    c = _check(lab, "calico2")
    assert c.problem == "host-route-elsewhere" and calico1_end in c.hint, str(c)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_solution_fixes_it(lang):
    lab, env, _ = _broken(lang)
    _run_cell(lab, _source(lang, "solution", "calico2"), env)
    assert _check(lab, "calico2", lang).ok


# ------------------------------------------------------------------ the kernel
@pytest.mark.kernel
def test_both_solutions_pass_on_the_kernel_with_real_pings():
    lab, env, printed = _broken("en", backend="kernel")
    try:
        assert "100% packet loss" in printed
        assert _check(lab, "calico2").problem == "no-host-route"
        _run_cell(lab, _source("en", "solution", "calico2"), env)
        _run_cell(lab, _source("en", "check", 'lab.ip("netns add handmade")'), env)
        _run_cell(lab, _source("en", "solution", "calihand"), env)
        centos1 = lab.k8s.pod("centos1").ip
        for pod in ("calico2", "handmade"):
            assert _check(lab, pod).ok
            key = lab.k8s.pod(pod).netns if pod == "calico2" else pod
            assert "1 received" in lab.ping(key, centos1).text
    finally:
        lab.close()
