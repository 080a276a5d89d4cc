"""Two pods with one address (issue 16, item 4): the packet walk must not contradict itself.

Notebook 03's hand-made pod, given centos1's address: every ARP request from it teaches the
asker (and the bridge) its MAC, so the answer goes back to the asker, not to centos1.  The walk
used to say "10.244.1.2 is already in the ARP cache as <the hand-made pod's MAC>" and, on the
next line, send the frame to centos1's MAC (and the model's ping lost an echo the kernel got).
Same steps on both backends: the ping lines agree, every walk sends its frame to the MAC its
neighbour line named, and the echo comes back to the namespace that sent it.
"""

from __future__ import annotations

import re

import pytest

import simlab

MAC = r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"


def _lab_with_a_twin(backend: str):
    lab = simlab.Lab(backend=backend)
    lab.docker.start()
    one = lab.k8s.run("centos1")
    two = lab.k8s.run("centos2")
    sandbox = lab.docker.run("k8s_POD_handmade", net="none", image="k8s.gcr.io/pause")
    ns = sandbox.netns
    for cmd in (f"link add vhand type veth peer name eth0 netns {ns}",
                "link set vhand master cni0", "link set vhand up",
                f"-n {ns} addr add {one.ip}/24 dev eth0", f"-n {ns} link set eth0 up",
                f"-n {ns} route add default via 10.244.1.1"):
        lab.ip(cmd)
    return lab, ns, one, two


def _frame_follows_the_cache(lines: list[str]) -> list[str]:
    """Lines where the frame goes to another MAC than the neighbour line just before named."""
    wrong, named = [], None
    for line in lines:
        m = re.search(rf"(?:in the ARP cache as|is at) ({MAC})", line)
        if m:
            named = m.group(1)
            continue
        m = re.search(rf"(?:; |sends the frame: )({MAC}) (?:is in its FDB|was learned|is the "
                      r"bridge's own MAC)", line)
        if m and named is not None:
            if m.group(1) != named:
                wrong.append(line)
            named = None
    return wrong


def _run(backend: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    lab, ns, one, two = _lab_with_a_twin(backend)
    try:
        texts, walks = [], []
        for src, dst in ((ns, "10.244.1.1"), (ns, two.ip), (two.netns, one.ip), ("", one.ip)):
            report = lab.ping(src, dst)
            texts.append(report.text)
            walks.append((src, report.walk))
        home = []
        for src, walk in walks:
            assert not _frame_follows_the_cache(walk.lines("en")), "\n".join(walk.lines("en"))
            assert walk.ok and walk.reply_ok, "\n".join(walk.lines("en"))
            home.append(walk.reply_hops[-1].netns == (src or simlab.model.ROOT))
        assert all(home), home
        return texts, [(s, w.lines("en")) for s, w in walks]
    finally:
        lab.close()


def test_the_walk_follows_the_arp_cache_on_the_model():
    texts, _ = _run("model")
    assert all("1 received" in t for t in texts), texts


def test_the_contradiction_check_sees_the_old_story():
    old = ["reply 2. [node cni0] neighbour: 10.244.1.2 is already in the ARP cache as "
           "62:c8:2c:0b:39:78 (STALE)",
           "reply 3. [node cni0] bridge cni0 sends the frame: 52:cb:6e:f4:76:d2 is in its FDB "
           "(bridge fdb) on port veth23f1f985"]
    assert _frame_follows_the_cache(old) == [old[1]]


@pytest.mark.kernel
def test_both_backends_agree_on_a_duplicate_address():
    model, _ = _run("model")
    kernel, _ = _run("kernel")
    assert kernel == model
