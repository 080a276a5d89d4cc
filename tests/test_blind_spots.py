"""Rules the suite held only by a thread (found by planting bugs one at a time).

Each scenario runs on both backends; the model's text must be the kernel's (kernel
tests need root), and each model-only assertion pins the rule a planted bug broke.
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import ROOT

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]


def _run(backend: str, lines: list[str]) -> tuple[simlab.Lab, list[str]]:
    lab = simlab.Lab(backend=backend)
    out = []
    for line in lines:
        if line.startswith("ping "):
            _, src, dst = line.split()
            report = lab.ping(ROOT if src == "-" else src, dst)
            out.append(f"{line} -> exit {report.exit}\n{report.text}")
        elif line.startswith("sysctl ") or line.startswith("iptables "):
            assert lab.run(line).exit == 0, line
        else:
            out.append(str(lab.ip(line)))
    return lab, out


def _both(lines: list[str], backend: str) -> list[str]:
    lab, out = _run(backend, lines)
    lab.close()
    return out


MOVE_AND_BACK = [
    "netns add red", "link add d0 type veth peer name d1", "addr add 10.7.0.1/24 dev d0",
    "link set d1 up", "link set d0 up", "link set d0 netns red", "-n red link set d0 netns 1",
    "addr show dev d0", "-4 route",
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_link_moved_away_and_back_has_lost_its_ipv4_addresses(backend):
    out = _both(MOVE_AND_BACK, backend)
    shown = out[-2]
    assert "d0" in shown and "inet " not in shown and "10.7.0.0/24" not in out[-1]


BRIDGE_MAC = [
    "link add br0 type bridge",
    "link add p1 address 02:00:00:00:00:{a} type veth peer name q1",
    "link add p2 address 02:00:00:00:00:{b} type veth peer name q2",
    "link set p1 master br0", "link set p2 master br0", "-br link show br0",
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("first,second", [("05", "09"), ("09", "05")])
def test_a_bridge_takes_the_lowest_port_mac_whatever_the_order(backend, first, second):
    lines = [x.format(a=first, b=second) for x in BRIDGE_MAC]
    assert "02:00:00:00:00:05" in _both(lines, backend)[-1]


ROUTER = [
    "netns add a", "netns add b",
    "link add ha type veth peer name eth0 netns a", "link add hb type veth peer name eth0 netns b",
    "addr add 10.1.0.1/24 dev ha", "addr add 10.2.0.1/24 dev hb",
    "link set ha up", "link set hb up", "link set lo up",
    "-n a addr add 10.1.0.2/24 dev eth0", "-n b addr add 10.2.0.2/24 dev eth0",
    "-n a link set eth0 up", "-n b link set eth0 up", "-n a link set lo up", "-n b link set lo up",
    "-n a route add default via 10.1.0.1", "-n b route add default via 10.2.0.1",
    "sysctl -w net.ipv4.ip_forward=1",
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("rule,said", [
    ("FORWARD -d 10.2.0.2/32 -j REJECT", "From 10.1.0.1 icmp_seq=1 Destination Port Unreachable"),
    ("FORWARD -j REJECT --reject-with icmp-host-prohibited",
     "From 10.1.0.1 icmp_seq=1 Destination Host Prohibited"),
    ("FORWARD -j REJECT --reject-with icmp-net-unreachable",
     "From 10.1.0.1 icmp_seq=1 Destination Net Unreachable"),
])
def test_a_reject_rule_answers_with_its_icmp_error(backend, rule, said):
    lines = [*ROUTER, "ping a 10.2.0.2", f"iptables -A {rule}", "ping a 10.2.0.2"]
    out = _both(lines, backend)
    assert out[-2].startswith("ping a 10.2.0.2 -> exit 0")
    assert out[-1].startswith("ping a 10.2.0.2 -> exit 1")
    assert said in out[-1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_metric_0_is_a_metric(backend):
    out = _both(["link add d0 type veth peer name d1", "link set d1 up", "link set d0 up",
                 "route add 10.9.0.0/24 dev d0 metric 0", "route"], backend)
    assert "10.9.0.0/24 dev d0 scope link \n" in out[-1]  # iproute2 prints no "metric 0"


NEIGH_PER_LINK = [
    "netns add b", "netns add c",
    "link add a0 type veth peer name eth0 netns b", "link add a1 type veth peer name eth0 netns c",
    "addr add 10.0.0.1/24 dev a0", "addr add 10.1.0.1/24 dev a1",
    "link set a0 up", "link set a1 up", "link set lo up",
    "-n b addr add 10.1.0.2/24 dev eth0", "-n c addr add 10.1.0.2/24 dev eth0",
    "-n b addr add 10.0.0.2/24 dev eth0",  # b's way back to 10.0.0.1
    "-n b link set eth0 up", "-n c link set eth0 up", "-n b link set lo up", "-n c link set lo up",
    "ping - 10.1.0.2",                       # via a1: c answers, the node learns c's MAC on a1
    "route del 10.1.0.0/24 dev a1", "route add 10.1.0.0/24 dev a0",
    "ping - 10.1.0.2",                       # via a0 now: must ask again on a0, b answers
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_neighbour_entry_counts_only_on_its_own_link(backend):
    lab, out = _run(backend, NEIGH_PER_LINK)
    try:
        assert out[-1].startswith("ping - 10.1.0.2 -> exit 0"), out[-1]
        neigh = str(lab.ip("neigh"))
        assert "dev a0" in neigh and "dev a1" in neigh  # one entry per link
    finally:
        lab.close()


ROUTES_WITHOUT_DEVICE = [
    *ROUTER[:2], "link add ha type veth peer name eth0 netns a", "addr add 10.1.0.1/24 dev ha",
    "link set ha up", "link set lo up", "-n a addr add 10.1.0.2/24 dev eth0",
    "-n a link set eth0 up", "-n a link set lo up", "-n a route add default via 10.1.0.1",
    "sysctl -w net.ipv4.ip_forward=1",
    "route add blackhole 10.9.0.0/24", "route add unreachable 10.9.1.0/24",
    "route add prohibit 10.9.2.0/24", "route add 10.8.0.0/24 dev ha table 100",
    "ping - 10.9.0.5", "ping - 10.9.1.5", "ping - 10.9.2.5", "ping - 10.8.0.5",
    "ping a 10.9.0.5", "ping a 10.9.1.5", "ping a 10.9.2.5",
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_routes_without_a_device_and_other_tables(backend):
    """connect() errors on the sender, ICMP errors (or silence) from a router; a route in
    table 100 is not used (no rule sends a lookup there)."""
    out = _both(ROUTES_WITHOUT_DEVICE, backend)[-7:]
    assert [x.splitlines()[0] for x in out[:4]] == [
        "ping - 10.9.0.5 -> exit 2", "ping - 10.9.1.5 -> exit 2", "ping - 10.9.2.5 -> exit 2",
        "ping - 10.8.0.5 -> exit 2"]
    assert [x.splitlines()[1] for x in out[:4]] == [
        "ping: connect: Invalid argument", "ping: connect: No route to host",
        "ping: connect: Permission denied", "ping: connect: Network is unreachable"]
    assert "From 10.1.0.1" not in out[4] and out[4].startswith("ping a 10.9.0.5 -> exit 1")
    assert "From 10.1.0.1 icmp_seq=1 Destination Host Unreachable" in out[5]
    assert "From 10.1.0.1 icmp_seq=1 Packet filtered" in out[6]
