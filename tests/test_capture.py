"""The model's packet view against real packets: `Walk.seen` == what AF_PACKET sockets capture.

The same scenario is built on both backends; a ``Ping(capture=True)`` asks each for the
echoes on every interface they crossed (the kernel captures them in each of the lab's
namespaces, simlab.kernel.capture; the model gives its walks' ``seen``).  Both lists
must agree, leg by leg and in order: namespace, interface, direction, MACs, IPs, TTL.

What is normalized, and why (nothing else is): a MAC becomes the interface that owns
it in that backend's snapshot (the kernel draws MACs at random).  A bridge that took a
port's MAC shares it with that port; the MAC is named after the bridge, the device that
sends IP packets with it (a port has no address).  ``hop`` and ``rule`` are the model's
story and are not compared (a capture has neither).
"""

from __future__ import annotations

import re
import socket
import struct

import pytest
from test_ping import SCENARIOS, _play

import simlab
from simlab.kernel.capture import parse_frame
from simlab.model import ROOT
from simlab.model.ops import Ping


# ------------------------------------------------------------------ scenarios
def _commands(name: str, pings: list[tuple[str, str]], *extra: str, upto: str = ""):
    """tests/test_ping.py's scenario ``name`` without its pings (and from ``upto`` on)."""
    lines = SCENARIOS[name]
    lines = lines[:lines.index(upto)] if upto else lines

    def build(lab):
        _play(lab, [line for line in lines if not line.startswith("ping ")] + list(extra))
        return pings
    return build


def _docker(lab):
    web = lab.docker.run("web")  # --net bridge: docker0, MASQUERADE to the LAN
    return [(web.netns, "192.168.1.254")]


def _kube(lab):
    k = lab.k8s
    a = k.run("a")
    k.add_node("k8s-node02")
    b = k.run("b", node="k8s-node02")
    return [(a.netns, b.ip)]


#: name -> a builder that makes the scenario on a lab and returns its pings (source, address).
CASES = {
    # across the pair; then to its own address, through lo
    "veth": _commands("veth_pair", [("a", "10.9.0.2"), ("b", "10.9.0.2")], "-n b link set lo up"),
    "bridge": _commands("bridge", [("c1", "10.10.0.12"),  # forwarded from port to port
                                   ("c1", "10.10.0.1"),  # to the bridge's address: passed up
                                   (ROOT, "10.10.0.13")]),  # sent by the bridge device
    # a promiscuous bridge device also hears what it forwards
    "bridge-promisc": _commands("bridge", [("c1", "10.10.0.12")], "link set br0 promisc on"),
    "router-off": _commands("router", [("a", "10.2.0.2")],  # ip_forward 0: dropped in node
                            upto="sysctl -w net.ipv4.ip_forward=1"),
    "router": _commands("router", [("a", "10.2.0.2")]),
    # nobody answers the node's ARP: the echo gets as far as the node (its error is ignored)
    "router-arp-fails": _commands("router", [("a", "10.2.0.9")]),
    "docker-nat": _docker,
    "k8s-two-nodes": _kube,
}


_CNI_VETH = re.compile(r"veth[0-9a-f]{8}")


def _devs(state) -> dict[tuple[str, str], str]:
    """(key, ifname) -> the name compared: a CNI host veth (``veth`` + 8 random hex on the
    kernel, seeded on the model) is named after its peer, the pod's end."""
    out = {}
    for key, ns in state.netns.items():
        for link in ns.links.values():
            if _CNI_VETH.fullmatch(link.ifname) and link.peer is not None:
                peer_key, peer_index = link.peer
                peer = state.netns[peer_key].links[peer_index]
                out[key, link.ifname] = f"veth<peer {peer_key}/{peer.ifname}>"
    return out


def _owners(state, devs) -> dict[str, str]:
    """MAC -> the interface that owns it ("key/ifname"), bridges before their ports."""
    owners: dict[str, str] = {}
    for key in sorted(state.netns):
        links = sorted(state.netns[key].links.values(),
                       key=lambda link: (link.kind != "bridge", link.ifindex))
        for link in links:
            name = devs.get((key, link.ifname), link.ifname)
            owners.setdefault(link.mac, f"{key or 'node'}/{name}")
    return owners


def _view(seen, state) -> list[tuple]:
    devs = _devs(state)
    owners = _owners(state, devs)
    return [(s.leg, s.netns, devs.get((s.netns, s.dev), s.dev), s.way,
             owners.get(s.src_mac, s.src_mac),
             owners.get(s.dst_mac, s.dst_mac), s.src_ip, s.dst_ip, s.ttl, s.proto) for s in seen]


#: Echoes per ping: the first one waits for ARP, the second goes from the caches.
ECHOES = 2


def captures(backend: str, case: str) -> list[list[tuple]]:
    """Per ping of the case: its echoes on every interface, MACs named by their owners."""
    out = []
    with simlab.Lab(backend=backend) as lab:
        for src, dst in CASES[case](lab):
            report = lab.raw_backend.apply(Ping(dst, netns=src, count=ECHOES, capture=True))
            out.append(_view(report.captured, lab.snapshot()))
    return out


def _legs(view: list[tuple]) -> dict[str, list[tuple]]:
    return {leg: [r for r in view if r[0] == leg] for leg in ("request", "reply")}


# ------------------------------------------------------------------- the model
def test_every_case_crosses_interfaces_on_the_model():
    counts = {case: [len(v) for v in captures("model", case)] for case in CASES}
    per_echo = {"veth": [4, 4], "bridge": [8, 6, 6], "bridge-promisc": [10], "router-off": [2],
                "router": [8], "router-arp-fails": [2], "docker-nat": [10], "k8s-two-nodes": [20]}
    assert counts == {case: [n * ECHOES for n in ns] for case, ns in per_echo.items()}


# ------------------------------------------------------------------ the kernel
@pytest.mark.kernel
@pytest.mark.parametrize("case", list(CASES))
def test_the_walk_is_what_the_kernel_captures(case):
    model, kernel = captures("model", case), captures("kernel", case)
    assert len(kernel) == len(model)
    for want, got in zip(model, kernel, strict=True):
        assert want, "the model's walk shows no packet"
        for leg in ("request", "reply"):
            assert _legs(got)[leg] == _legs(want)[leg], leg


# ------------------------------------------------------------- the frame parser
def _frame(icmp_type: int, ttl: int = 64, ethertype: int = 0x0800, proto: int = 1,
           frag: int = 0) -> bytes:
    eth = bytes.fromhex("0a00000000020a0000000001") + struct.pack("!H", ethertype)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, frag, ttl, proto, 0,
                     socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2"))
    return eth + ip + struct.pack("!BBHHH", icmp_type, 0, 0, 7, 1)


def test_the_parser_keeps_echoes_and_ignores_the_rest():
    assert parse_frame(_frame(8, ttl=63)) == (
        "request", "0a:00:00:00:00:01", "0a:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 63)
    assert parse_frame(_frame(0))[0] == "reply"
    assert parse_frame(_frame(3)) is None  # an ICMP error
    assert parse_frame(_frame(8, ethertype=0x0806)) is None  # ARP
    assert parse_frame(_frame(8, ethertype=0x86DD)) is None  # IPv6
    assert parse_frame(_frame(8, proto=17)) is None  # UDP
    assert parse_frame(_frame(8, frag=5)) is None  # a later fragment
    assert parse_frame(_frame(8)[:30]) is None  # truncated


@pytest.mark.kernel
def test_a_capture_closes_its_sockets_and_a_plain_ping_opens_none():
    import os

    def fds() -> set[str]:
        return {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")}

    with simlab.Lab(backend="kernel") as lab:
        CASES["bridge"](lab)
        lab.ping("c1", "10.10.0.12")  # warm: the ping's own sockets come and go
        before = fds()
        plain = lab.raw_backend.apply(Ping("10.10.0.12", netns="c1"))
        assert plain.captured == () and fds() == before
        report = lab.raw_backend.apply(Ping("10.10.0.12", netns="c1", capture=True))
        assert len(report.captured) == 8 and fds() == before
