"""Policy routing (`ip rule`) decides real pings: the model's walk must take the table the
kernel takes, for what a namespace sends (iif lo) and for what it forwards."""

from __future__ import annotations

import pytest

import simlab
from simlab.model import ROOT

# a -- node -- b: the node routes; b also holds 10.7.0.9, reachable only through table 100
SETUP = [
    "netns add a", "netns add b",
    "link add ha type veth peer name eth0 netns a", "link add hb type veth peer name eth0 netns b",
    "addr add 10.1.0.1/24 dev ha", "addr add 10.2.0.1/24 dev hb",
    "link set ha up", "link set hb up", "link set lo up",
    "-n a addr add 10.1.0.2/24 dev eth0", "-n b addr add 10.2.0.2/24 dev eth0",
    "-n b addr add 10.7.0.9/32 dev lo",
    "-n a link set eth0 up", "-n b link set eth0 up", "-n a link set lo up", "-n b link set lo up",
    "-n a route add default via 10.1.0.1", "-n b route add default via 10.2.0.1",
    "sysctl -w net.ipv4.ip_forward=1",
    "route add 10.7.0.0/16 via 10.2.0.2 table 100",
]
STEPS = [
    "ping - 10.7.0.9", "ping a 10.7.0.9",                          # table 100 is never asked
    "rule add to 10.7.0.0/16 lookup 100 pref 100",
    "ping - 10.7.0.9", "ping a 10.7.0.9",                          # now both pass
    "rule add iif ha to 10.7.0.9 blackhole pref 50",
    "ping - 10.7.0.9", "ping a 10.7.0.9",                          # a's packets vanish at the node
    "rule add from 10.1.0.2 prohibit pref 40",
    "ping a 10.7.0.9",                                             # Packet filtered, from the node
    "rule add not iif lo unreachable pref 30",
    "ping a 10.2.0.2", "ping - 10.2.0.2",                          # forwarding: Net Unreachable
    "rule del pref 30", "rule del pref 40", "rule del pref 50",
    "rule add to 10.7.0.0/16 unreachable pref 20",
    "ping - 10.7.0.9",                                             # connect: Network is unreachable
    "route get 10.7.0.9", "rule",
]


def _run(backend: str) -> list[str]:
    lab = simlab.Lab(backend=backend)
    out = []
    try:
        for line in SETUP:
            if line.startswith("sysctl "):
                assert lab.run(line).exit == 0
            else:
                lab.ip(line)
        for line in STEPS:
            if line.startswith("ping "):
                _, src, dst = line.split()
                report = lab.ping(ROOT if src == "-" else src, dst)
                out.append(f"{line} -> exit {report.exit}\n{report.text}")
            else:
                try:
                    out.append(f"{line}\n{lab.ip(line)}")
                except simlab.NetError as err:
                    out.append(f"{line}\n! {err}")
    finally:
        lab.close()
    return out


def _timeless(out: list[str]) -> list[str]:
    """Every line but the timings (time=, rtt, the total) and simlab's hints (the model's own)."""
    return ["\n".join(l.split(", time ")[0] for l in x.splitlines() if "time=" not in l and "rtt " not in l and "hint:" not in l)
            for x in out]


def test_rules_decide_the_model_walk():
    out = _run("model")
    heads = [x.splitlines()[0] for x in out]
    assert heads[0] == "ping - 10.7.0.9 -> exit 2" and heads[1] == "ping a 10.7.0.9 -> exit 1"
    assert heads[3] == "ping - 10.7.0.9 -> exit 0" and heads[4] == "ping a 10.7.0.9 -> exit 0"
    assert heads[6] == "ping - 10.7.0.9 -> exit 0" and heads[7] == "ping a 10.7.0.9 -> exit 1"
    assert "From 10.1.0.1" not in out[7]  # a blackhole answers nothing
    assert "Packet filtered" in out[9]
    assert "Destination Net Unreachable" in out[11] and out[12].startswith("ping - 10.2.0.2 -> exit 0")
    assert "connect: Network is unreachable" in out[17]


@pytest.mark.kernel
def test_the_model_takes_the_kernels_tables():
    assert _timeless(_run("model")) == _timeless(_run("kernel"))
