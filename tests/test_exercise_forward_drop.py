"""Notebook 02's diagnosis task: the pod cannot reach the container on docker0 (FORWARD DROP).

Checked on the broken lab (the node as in early 2017: docker's DROP policy, no pod-network
rules), after wrong fixes and after right ones, in English and Japanese; the kernel run
sends real echoes, so the checker's verdict (the model's walk on the kernel's snapshot)
is compared with what the packets did.
"""

from __future__ import annotations

import re

import pytest

import simlab
import simlab.exercises as ex

from test_kube_kernel import ping as real_ping

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]
JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FLANNEL = ("-s 10.244.0.0/16 -j ACCEPT", "-d 10.244.0.0/16 -j ACCEPT")


@pytest.fixture(params=BACKENDS)
def broken(request):
    """Notebook 02's section 8: a pod and a container on one node, flannel's rules removed."""
    with simlab.Lab(backend=request.param) as lab:
        lab.docker.run("web")
        lab.k8s.run("centos1")
        for rule in FLANNEL:
            lab.iptables(f"-D FORWARD {rule}")
        yield lab


def _really(lab) -> bool | None:
    """Did a real echo from the pod get its answer (None on the model)?"""
    if lab.backend != "kernel":
        return None
    return real_ping(lab, lab.k8s.pod("centos1"), lab.docker.get("web").ip)[0] == 0


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_broken_lab_points_at_the_forward_chain(broken, lang):
    c = ex.check_pod_reaches_container(broken, "centos1", "web", lang=lang)
    assert not c and c.problem == "forward-drop"
    assert "iptables -S" in c.hint and "cni0" in c.hint
    assert bool(JA.search(c.hint)) == (lang == "ja") and bool(JA.search(c.verdict)) == (lang == "ja")
    assert "DROP" in c.notes[-1]  # the last hop: the node's FORWARD policy
    assert _really(broken) in (None, False)


@pytest.mark.parametrize("wrong", [
    "-A INPUT -s 10.244.0.0/16 -j ACCEPT",             # the node is not the destination
    "-A FORWARD -i docker0 -o cni0 -j ACCEPT",          # the answer's way, not the request's
    "-I FORWARD -d 10.244.0.0/16 -j ACCEPT",            # towards the pods only
    "-A DOCKER-USER -s 10.244.0.0/16 -j ACCEPT",        # after DOCKER-USER's RETURN: never read
])
def test_a_wrong_fix_still_fails(broken, wrong):
    broken.iptables(wrong)
    for lang in ("en", "ja"):  # the checker only reads the lab: both languages on one lab
        c = ex.check_pod_reaches_container(broken, "centos1", "web", lang=lang)
        assert not c and c.problem == "forward-drop"
        assert bool(JA.search(c.hint)) == (lang == "ja")
    assert _really(broken) in (None, False)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_opening_the_policy_works_but_is_not_accepted(broken, lang):
    broken.iptables("-P FORWARD ACCEPT")
    c = ex.check_pod_reaches_container(broken, "centos1", "web", lang=lang)
    assert not c and c.problem == "policy-accept" and "DOCKER-USER" in c.hint
    assert bool(JA.search(c.hint)) == (lang == "ja")
    assert _really(broken) in (None, True)


def test_a_drop_for_the_answers_is_named(broken):
    broken.iptables("-I DOCKER-USER -s 10.244.0.0/16 -j ACCEPT")
    broken.iptables("-I DOCKER-USER -d 10.244.0.0/16 -j DROP")
    c = ex.check_pod_reaches_container(broken, "centos1", "web", lang="en")
    assert not c and c.problem == "reply-dropped" and "answer" in c.hint
    assert _really(broken) in (None, False)


@pytest.mark.parametrize("fix", [
    ("-I DOCKER-USER -s 10.244.0.0/16 -j ACCEPT", "-I DOCKER-USER -d 10.244.0.0/16 -j ACCEPT"),
    ("-A FORWARD -s 10.244.0.0/16 -j ACCEPT", "-A FORWARD -d 10.244.0.0/16 -j ACCEPT"),
    ("-I DOCKER-USER -i cni0 -o docker0 -j ACCEPT",),  # docker's own rule lets the answer back
])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_right_fix_passes(broken, fix, lang):
    for rule in fix:
        broken.iptables(rule)
    c = ex.check_pod_reaches_container(broken, "centos1", "web", lang=lang)
    assert c and c.problem == ""
    assert bool(JA.search(c.verdict)) == (lang == "ja")
    assert _really(broken) in (None, True)
    assert broken.ping(broken.k8s.pod("centos1").netns, broken.docker.get("web").ip).ok


def test_the_lab_as_built_passes():
    """simlab's node has flannel's rules: the deck's demo works without the task."""
    with simlab.Lab(backend="model") as lab:
        lab.docker.run("web")
        lab.k8s.run("centos1")
        assert ex.check_pod_reaches_container(lab, "centos1", "web", lang="en")
