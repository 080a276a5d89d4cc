"""The kernel backend's snapshot holds the neighbour (ARP/NDP) entries `ip neigh` lists.

Entries are made the real ways, inside the lab's own namespaces only: ICMP
echoes sent from a namespace (the raw-socket ping of test_kube_kernel.py,
started with ``nsenter --net=<path>``) and ``ip -n <real name> neigh add``.
Each check compares the snapshot with what the real ``ip`` prints, and the
model's renderer applied to the snapshot with the real text.

Entries move on the kernel's timers (INCOMPLETE turns FAILED after its probes,
DELAY turns PROBE then REACHABLE 5 s later), so a comparison takes the real
text before and after the snapshot and retries when the two differ.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

import simlab
from simlab.iproute import parse, render
from simlab.model.state import Neigh
from test_kube_kernel import ping as pod_ping

pytestmark = pytest.mark.kernel

#: Show commands compared with the renderer (`ip -n KEY ...`).
SHOWS = ("neigh", "neigh show dev {dev}", "-j neigh", "-j -p neigh", "-4 neigh", "-6 -j neigh")


@pytest.fixture
def lab():
    """Namespaces a and b joined by a veth: a's va 10.9.0.1/24, b's vb 10.9.0.2/24."""
    lab = simlab.Lab(backend="kernel")
    try:
        for line in (
            "netns add a",
            "netns add b",
            "-n a link add va type veth peer name vb netns b",
            "-n a addr add 10.9.0.1/24 dev va",
            "-n b addr add 10.9.0.2/24 dev vb",
            "-n a link set va up",
            "-n b link set vb up",
        ):
            lab.ip(line)
        assert lab.snapshot().netns["a"].neighs == ()
        yield lab
    finally:
        lab.close()
    left = [n for n in os.listdir("/run/netns") if lab.netns_key(n) is not None]
    assert left == [], f"the lab left namespaces behind: {left}"


def ping(lab, key: str, dst: str) -> tuple[int, str]:
    """A real ICMP echo from inside namespace ``key`` (the k8s tests' witness, not lab.ping)."""
    return pod_ping(lab, SimpleNamespace(netns=key), dst)


def neigh_add(lab, key: str, args: str) -> None:
    """The real ``ip neigh add`` in the lab's namespace ``key`` (simlab itself refuses it)."""
    name = os.path.basename(lab.netns_path(key))
    subprocess.run(["ip", "-n", name, "neigh", "add", *args.split()], check=True, timeout=30)


def link(state, key: str, ifname: str):
    return state.netns[key].link(ifname)


def settled(lab, key: str, cmd: str = "neigh"):
    """(the real text, a snapshot) of one moment: the text is the same before and after it."""
    for _ in range(50):
        before = lab.ip(f"-n {key} {cmd}")
        state = lab.snapshot()
        if lab.ip(f"-n {key} {cmd}") == before:
            return before, state
        time.sleep(0.05)
    pytest.fail(f"`ip -n {key} {cmd}` never held still")


def assert_renders_like_ip(lab, key: str, dev: str) -> None:
    """The model's renderer on the kernel's snapshot prints what the real `ip` prints."""
    for show in SHOWS:
        cmd = show.format(dev=dev)
        real, state = settled(lab, key, cmd)
        assert render(parse(f"ip -n {key} {cmd}"), state) == real, cmd


def wait_for(lab, key: str, want, timeout: float = 15.0):
    """The first snapshot whose neighbours in ``key`` satisfy ``want``."""
    deadline = time.monotonic() + timeout
    while True:
        state = lab.snapshot()
        if want(state.netns[key].neighs) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


# --------------------------------------------------------------------------- traffic
def test_a_ping_leaves_reachable_on_the_sender_and_delay_on_the_receiver(lab):
    code, out = ping(lab, "a", "10.9.0.2")
    assert code == 0, out
    real_a, state = settled(lab, "a")
    va, vb = link(state, "a", "va"), link(state, "b", "vb")
    assert state.netns["a"].neighs == (Neigh(va.ifindex, "10.9.0.2", vb.mac, "REACHABLE"),)
    assert real_a == f"10.9.0.2 dev va lladdr {vb.mac} REACHABLE \n"
    # b learnt a from a's ARP request (STALE) and used the entry for its reply:
    # STALE -> DELAY, which the kernel does not announce.
    real_b, state = settled(lab, "b")
    assert state.netns["b"].neighs == (Neigh(vb.ifindex, "10.9.0.1", va.mac, "DELAY"),)
    assert real_b == f"10.9.0.1 dev vb lladdr {va.mac} DELAY \n"
    assert_renders_like_ip(lab, "a", "va")
    assert_renders_like_ip(lab, "b", "vb")
    # 5 s later the kernel probes a and b's entry becomes REACHABLE.
    reachable = Neigh(vb.ifindex, "10.9.0.1", va.mac, "REACHABLE")
    state = wait_for(lab, "b", lambda neighs: neighs == (reachable,))
    assert state.netns["b"].neighs == (reachable,)
    assert_renders_like_ip(lab, "b", "vb")
    # Nothing moves now: the same snapshot object again.
    assert lab.snapshot() is lab.snapshot()


def test_a_stale_entry_used_by_traffic_turns_delay_without_an_announcement(lab):
    vb = link(lab.snapshot(), "b", "vb")
    neigh_add(lab, "a", f"10.9.0.2 lladdr {vb.mac} dev va nud stale")
    va = link(lab.snapshot(), "a", "va")
    assert lab.snapshot().netns["a"].neighs == (Neigh(va.ifindex, "10.9.0.2", vb.mac, "STALE"),)
    code, out = ping(lab, "a", "10.9.0.2")
    assert code == 0, out
    real, state = settled(lab, "a")
    assert real == f"10.9.0.2 dev va lladdr {vb.mac} DELAY \n"
    assert state.netns["a"].neighs == (Neigh(va.ifindex, "10.9.0.2", vb.mac, "DELAY"),)


def test_nobody_answering_leaves_a_failed_entry_without_lladdr(lab):
    code, out = ping(lab, "a", "10.9.0.77")
    assert code == 1, out
    va = link(lab.snapshot(), "a", "va")
    failed = Neigh(va.ifindex, "10.9.0.77", None, "FAILED")
    state = wait_for(lab, "a", lambda neighs: neighs == (failed,))
    assert state.netns["a"].neighs == (failed,)
    real, state = settled(lab, "a")
    assert real == "10.9.0.77 dev va FAILED \n"
    assert_renders_like_ip(lab, "a", "va")


# ---------------------------------------------------------------------- by hand
def test_entries_added_by_hand_in_every_state_ip_neigh_shows(lab):
    for args in (
        "10.9.0.10 lladdr 02:00:00:00:00:10 dev va nud permanent",
        "10.9.0.11 lladdr 02:00:00:00:00:11 dev va nud stale",
        "10.9.0.12 lladdr 02:00:00:00:00:12 dev va nud reachable",
        "10.9.0.13 dev va nud failed",
        "10.9.0.14 dev va nud incomplete",  # set by hand: no timer, so no probes
        "2001:db8::5 lladdr 02:00:00:00:00:15 dev va nud permanent",
        "fe80::6 lladdr 02:00:00:00:00:16 dev va nud stale",
        # hidden by `ip neigh`'s default filter (0xFF & ~NUD_NOARP; NUD_NONE has no bit):
        "10.9.0.16 lladdr 02:00:00:00:00:16 dev va nud noarp",
        "10.9.0.17 dev va nud none",
    ):
        neigh_add(lab, "a", args)
    real, state = settled(lab, "a")
    va = link(state, "a", "va").ifindex
    entries = state.netns["a"].neighs
    by_dst = {n.dst: n for n in entries}
    assert by_dst == {
        "10.9.0.10": Neigh(va, "10.9.0.10", "02:00:00:00:00:10", "PERMANENT"),
        "10.9.0.11": Neigh(va, "10.9.0.11", "02:00:00:00:00:11", "STALE"),
        "10.9.0.12": Neigh(va, "10.9.0.12", "02:00:00:00:00:12", "REACHABLE"),
        "10.9.0.13": Neigh(va, "10.9.0.13", None, "FAILED"),
        "10.9.0.14": Neigh(va, "10.9.0.14", None, "INCOMPLETE"),
        "2001:db8::5": Neigh(va, "2001:db8::5", "02:00:00:00:00:15", "PERMANENT"),
        "fe80::6": Neigh(va, "fe80::6", "02:00:00:00:00:16", "STALE"),
    }
    # What `ip neigh` lists, in its order: the ARP table, then the NDP table.
    assert [n.dst for n in entries] == [line.split()[0] for line in real.splitlines()]
    assert [":" in n.dst for n in entries] == [False] * 5 + [True] * 2
    name = os.path.basename(lab.netns_path("a"))
    everything = ["ip", "-n", name, "neigh", "show", "nud", "all"]  # simlab does not parse "nud"
    hidden = subprocess.run(everything, capture_output=True, text=True, check=True).stdout
    assert "10.9.0.16 dev va lladdr 02:00:00:00:00:16 NOARP \n" in hidden
    assert "10.9.0.17 dev va \n" in hidden
    assert_renders_like_ip(lab, "a", "va")
    # The renderer lists IPv4 entries first whatever the snapshot's order (the model
    # keeps its entries in the order traffic made them), each family in its own order.
    v4 = tuple(n for n in entries if ":" not in n.dst)
    v6 = tuple(n for n in entries if ":" in n.dst)
    table = dict(state.netns, a=state.netns["a"].evolve(neighs=v6 + v4))
    assert render(parse("ip -n a neigh"), replace(state, netns=table)) == real


def test_a_deleted_link_takes_its_entries_along(lab):
    neigh_add(lab, "a", "10.9.0.10 lladdr 02:00:00:00:00:10 dev va nud permanent")
    assert len(lab.snapshot().netns["a"].neighs) == 1
    lab.ip("-n a link del va")
    real, state = settled(lab, "a")
    assert (real, state.netns["a"].neighs, state.netns["b"].neighs) == ("", (), ())
