"""Notebook 03's pod checker gives 02's duplicate-address hint (issue 16, item 4): a hand-made
pod with another pod's address fails with ``duplicate`` and names the owner, in both
languages; a free address passes."""

from __future__ import annotations

import pytest

import simlab
import simlab.exercises as ex


def _hand_made_pod(lab, address: str) -> None:
    for cmd in ("netns add pod1", "link add vethpod1 type veth peer name eth0 netns pod1",
                "link set vethpod1 master cni0", "link set vethpod1 up",
                f"-n pod1 addr add {address}/24 dev eth0", "-n pod1 link set eth0 up",
                "-n pod1 link set lo up", "-n pod1 route add default via 10.244.1.1"):
        lab.ip(cmd)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_pod_with_another_pods_address_gets_the_duplicate_hint(lang):
    lab = simlab.Lab(backend="model")
    other = lab.k8s.run("centos1")
    taken = lab.k8s.get_pods().splitlines()[1].split()[5]
    _hand_made_pod(lab, taken)
    c = ex.check_pod_network(lab, "pod1", lang=lang)
    assert not c.ok and c.problem == "duplicate", str(c)
    assert c.facts["owner"] == other.netns
    assert taken in c.hint
    assert ("すでに" in c.hint) == (lang == "ja")


def test_the_right_fix_passes_and_a_wrong_one_does_not():
    lab = simlab.Lab(backend="model")
    lab.k8s.run("centos1")
    _hand_made_pod(lab, "10.244.1.2")
    lab.ip("-n pod1 addr del 10.244.1.2/24 dev eth0")  # wrong fix: the gateway's address
    lab.ip("-n pod1 addr add 10.244.1.1/24 dev eth0")
    assert ex.check_pod_network(lab, "pod1", lang="en").problem == "duplicate"
    lab.ip("-n pod1 addr del 10.244.1.1/24 dev eth0")
    lab.ip("-n pod1 addr add 10.244.1.50/24 dev eth0")
    lab.ip("-n pod1 route add default via 10.244.1.1")
    c = ex.check_pod_network(lab, "pod1", lang="en")
    assert c.ok, str(c)
