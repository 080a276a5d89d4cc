"""`lab.ping`: what ping prints, and what its packets teach the machines (ARP, bridge FDB).

The model tests pin the kernel's rules (see simlab.model.learn); the kernel tests
run the same scenarios with real echoes and compare the printed text, `ip neigh`
and the snapshots (normalized as tests/test_differential.py does).
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import NetError, ROOT
from simlab.model.learn import Heard, Resolved, learn
from simlab.model.ops import Ping, as_command
from simlab.normalize import normalize

_PAIR = [
    "netns add a", "netns add b",
    "-n a link add va type veth peer name vb netns b",
    "-n a addr add 10.9.0.1/24 dev va", "-n b addr add 10.9.0.2/24 dev vb",
    "-n a link set va up", "-n b link set vb up",
]

#: Each scenario: commands typed into lab.ip, and pings ("ping SRC DST") in order.
SCENARIOS = {
    # two namespaces on a veth pair
    "veth_pair": [*_PAIR,
        "ping a 10.9.0.2",   # a learns b (REACHABLE), b learns a from the request (DELAY)
        "ping a 10.9.0.2",   # from the caches: nothing changes
        "ping a 192.0.2.1",  # no route: nothing is sent
        "ping b 10.9.0.2",   # its own address: through lo, which is down: dropped silently
        "-n b link set lo up",
        "ping b 10.9.0.2",   # now it loops back
    ],
    # nobody answers ARP (a lab of its own: these take 3 s, and the kernel's timers would
    # move the entries of the pair above on meanwhile; the model has no timers)
    "unanswered": [*_PAIR,
        "ping a 10.9.0.7",   # FAILED, and with lo down no error reaches ping
        "-n a link set lo up",
        "ping a 10.9.0.8",   # now the kernel's Host Unreachable comes back through lo
    ],
    # three namespaces on a bridge of the node, which has an address on it
    "bridge": [
        "link add br0 type bridge", "addr add 10.10.0.1/24 dev br0", "link set br0 up",
        *[c for i in (1, 2, 3) for c in (
            f"netns add c{i}",
            f"link add h{i} type veth peer name eth0 netns c{i}",
            f"link set h{i} master br0", f"link set h{i} up",
            f"-n c{i} addr add 10.10.0.1{i}/24 dev eth0", f"-n c{i} link set eth0 up",
            f"-n c{i} link set lo up",
        )],
        "ping c1 10.10.0.12",
        "ping c1 10.10.0.1",
        "ping c3 10.10.0.11",
        "ping  10.10.0.13",  # from the node (no namespace name)
    ],
    # the node routes between two subnets
    "router": [
        "netns add a", "netns add b",
        "link add ha type veth peer name eth0 netns a",
        "link add hb type veth peer name eth0 netns b",
        "addr add 10.1.0.1/24 dev ha", "addr add 10.2.0.1/24 dev hb",
        "link set ha up", "link set hb up", "link set lo up",
        "-n a addr add 10.1.0.2/24 dev eth0", "-n b addr add 10.2.0.2/24 dev eth0",
        "-n a link set eth0 up", "-n b link set eth0 up",
        "-n a link set lo up", "-n b link set lo up",
        "-n a route add default via 10.1.0.1", "-n b route add default via 10.2.0.1",
        "ping a 10.2.0.2",   # ip_forward is 0 on the node: dropped, no answer
        "sysctl -w net.ipv4.ip_forward=1",
        "ping a 10.2.0.9",   # the node's ARP fails: Destination Host Unreachable from 10.1.0.1
        "ping a 10.3.0.9",   # the node has no route: Destination Net Unreachable from 10.1.0.1
        "ping a 10.2.0.2",   # routed: ttl 63 (last: its DELAY entries turn REACHABLE 5 s later)
    ],
}


def _play(lab, lines):
    """Run a scenario; return what each ping printed and its exit status."""
    out = []
    for line in lines:
        if line.startswith("ping "):
            _, src, dst = line.split(" ", 2)
            r = lab.ping(src, dst.strip())
            out.append((line, r.text, r.exit))
        elif line.startswith("sysctl "):
            assert lab.run(line).exit == 0
        else:
            lab.ip(line)
    return out


def _neigh_text(lab) -> str:
    """`ip -n X neigh` of every namespace, each sorted (the kernel lists hash buckets)."""
    blocks = []
    for key in sorted(lab.snapshot().netns):
        text = lab.ip(f"-n {key} neigh" if key != ROOT else "neigh")
        blocks.append(f"[{key or 'node'}]\n" + "".join(sorted(text.splitlines(keepends=True))))
    return "".join(blocks)


# ------------------------------------------------------------------ the model
@pytest.fixture
def model():
    return simlab.Lab(backend="model")


def _neighs(lab, key):
    return {(n.dst, n.state) for n in lab.snapshot().netns[key].neighs}


def test_a_ping_fills_both_arp_caches(model):
    pings = _play(model, SCENARIOS["veth_pair"][:8])
    assert pings[0][2] == 0 and "64 bytes from 10.9.0.2: icmp_seq=1 ttl=64" in pings[0][1]
    assert _neighs(model, "a") == {("10.9.0.2", "REACHABLE")}
    assert _neighs(model, "b") == {("10.9.0.1", "DELAY")}
    a, b = (model.snapshot().netns[k] for k in "ab")
    assert a.neighs[0].lladdr == b.link("vb").mac and b.neighs[0].lladdr == a.link("va").mac
    assert model.ip("-n a neigh") == f"10.9.0.2 dev va lladdr {b.link('vb').mac} REACHABLE \n"


def test_the_answer_uses_what_the_request_taught():
    lab = simlab.Lab(backend="model")
    _play(lab, SCENARIOS["veth_pair"][:7])
    report = lab.ping("a", "10.9.0.2")
    arp = [h.en for h in report.walk.reply_hops if h.action == "arp"]
    assert arp == [f"neighbour: 10.9.0.1 is already in the ARP cache as "
                   f"{lab.snapshot().netns['a'].link('va').mac} (STALE)"]


def test_a_second_ping_changes_nothing(model):
    _play(model, SCENARIOS["veth_pair"][:8])
    before = model.snapshot()
    model.ping("a", "10.9.0.2")
    assert model.snapshot() == before


def test_unanswered_arp_fails_and_lo_decides_whether_ping_hears_of_it(model):
    pings = _play(model, SCENARIOS["unanswered"])
    silent, told = pings
    assert silent[2] == 1 and "From" not in silent[1] and ", 100% packet loss" in silent[1]
    assert told[2] == 1 and "From 10.9.0.1 icmp_seq=1 Destination Host Unreachable" in told[1]
    assert "+1 errors, 100% packet loss" in told[1]
    assert ("10.9.0.7", "FAILED") in _neighs(model, "a")
    assert "10.9.0.8 dev va FAILED \n" in model.ip("-n a neigh")


def test_no_route_means_nothing_is_sent_and_lo_carries_the_own_address(model):
    pings = _play(model, SCENARIOS["veth_pair"])
    assert pings[2][1:] == ("ping: connect: Network is unreachable\n", 2)
    assert pings[3][2] == 1 and pings[4][2] == 0


def test_a_router_lowers_the_ttl_and_answers_errors(model):
    pings = {line: (text, code) for line, text, code in
             _play(model, SCENARIOS["router"][:-3])}
    assert pings["ping a 10.2.0.2"][1] == 1  # the first one: forwarding off
    lab = simlab.Lab(backend="model")
    out = _play(lab, SCENARIOS["router"])
    assert "From 10.1.0.1 icmp_seq=1 Destination Host Unreachable" in out[1][1]
    assert "From 10.1.0.1 icmp_seq=1 Destination Net Unreachable" in out[2][1]
    assert out[3][2] == 0 and "ttl=63" in out[3][1]
    assert ("10.2.0.2", "REACHABLE") in _neighs(lab, ROOT)
    assert ("10.2.0.9", "FAILED") in _neighs(lab, ROOT)


def test_bridges_learn_the_macs_they_hear():
    state = simlab.Lab(backend="model")
    _play(state, SCENARIOS["bridge"][:3 + 7])  # the bridge and c1 only
    snap = state.snapshot()
    c1 = snap.netns["c1"].link("eth0")
    port = snap.netns[ROOT].link("h1")
    assert (port.ifindex, c1.mac) in {(f.ifindex, f.mac) for f in snap.netns[ROOT].fdb}
    # a MAC heard on another port moves there; the bridge's own MACs are never learned
    moved = learn(snap, [Heard(ROOT, port.ifindex, "02:00:00:00:00:99"),
                         Heard(ROOT, port.ifindex, snap.netns[ROOT].link("br0").mac)])
    assert [f.mac for f in moved.netns[ROOT].fdb].count("02:00:00:00:00:99") == 1
    assert snap.netns[ROOT].link("br0").mac not in {f.mac for f in moved.netns[ROOT].fdb}


def test_learning_rules():
    lab = simlab.Lab(backend="model")
    _play(lab, SCENARIOS["veth_pair"][:7])
    s = lab.snapshot()
    va, vb = s.netns["a"].link("va"), s.netns["b"].link("vb")
    ask = Resolved("a", va.ifindex, va.mac, "10.9.0.1", "10.9.0.2", ("b", vb.ifindex, vb.mac))
    once = learn(s, [ask])
    assert {(n.dst, n.state) for n in once.netns["b"].neighs} == {("10.9.0.1", "STALE")}
    used = learn(once, [Resolved("b", vb.ifindex, vb.mac, "10.9.0.2", "10.9.0.1", None)])
    assert {(n.dst, n.state) for n in used.netns["b"].neighs} == {("10.9.0.1", "DELAY")}
    nobody = learn(s, [Resolved("a", va.ifindex, va.mac, "10.9.0.1", "10.9.0.5", None)])
    assert [(n.dst, n.lladdr, n.state) for n in nobody.netns["a"].neighs] == [
        ("10.9.0.5", None, "FAILED")]


def test_ping_is_a_step_with_its_why(model):
    _play(model, SCENARIOS["veth_pair"][:8])
    step = model.timeline[-1]
    assert step.actor == "ping" and step.ops == (Ping("10.9.0.2", netns="a"),)
    assert as_command(step.ops[0]) == "ip netns exec a ping -c 1 10.9.0.2"
    assert "ARP" in step.why["en"] and "ARP" in step.why["ja"]


@pytest.mark.parametrize("src, dst, count, message", [
    ("nowhere", "10.0.0.1", 1, 'Cannot open network namespace "nowhere"'),
    ("a", "example.org", 1, "ping: example.org: Name or service not known"),
    ("a", "10.0.0.1", 0, "out of range: 1 <= value <= 100"),
])
def test_bad_pings_are_refused_and_change_nothing(model, src, dst, count, message):
    model.ip("netns add a")
    steps, before = len(model.timeline), model.snapshot()
    with pytest.raises(NetError) as caught:
        model.ping(src, dst, count)
    assert message in caught.value.message and caught.value.hint
    assert len(model.timeline) == steps and model.snapshot() == before


def test_count_sends_several_echoes(model):
    _play(model, SCENARIOS["veth_pair"][:7])
    text = model.ping("a", "10.9.0.2", count=3).text
    assert [line.split("icmp_seq=")[1][0] for line in text.splitlines() if "icmp_seq" in line] \
        == ["1", "2", "3"]
    assert "3 packets transmitted, 3 received, 0% packet loss" in text


def test_a_capture_is_asked_for_and_gives_the_walks_packets(model):
    _play(model, SCENARIOS["veth_pair"][:7])
    plain = model.raw_backend.apply(Ping("10.9.0.2", netns="a"))
    assert plain.captured == () and len(plain.walk.seen) == 4
    two = model.raw_backend.apply(Ping("10.9.0.2", netns="a", count=2, capture=True))
    assert two.captured == two.walk.seen * 2  # from the caches: the second echo goes the same way
    command = as_command(Ping("10.9.0.2", netns="a", capture=True))
    assert command == "ip netns exec a ping -c 1 10.9.0.2"  # a capture is not part of ping


# ----------------------------------------------------------------- the kernel
@pytest.mark.kernel
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_ping_on_both_backends(name):
    from test_differential import assert_same_state

    results = {}
    for backend in ("model", "kernel"):
        with simlab.Lab(backend=backend) as lab:
            pings = _play(lab, SCENARIOS[name])
            results[backend] = (pings, normalize([_neigh_text(lab)])[0], lab.snapshot())
    (m_pings, m_neigh, m_state), (k_pings, k_neigh, k_state) = results["model"], results["kernel"]
    assert k_pings == m_pings
    assert _coarse(k_neigh) == _coarse(m_neigh)
    assert_same_state(m_state, k_state)


def _coarse(text: str) -> str:
    """MAC identities erased: which MAC is which is compared through the snapshots."""
    import re

    return re.sub(r"<mac\d+>", "<mac>", text)


def _docker_story(backend):
    with simlab.Lab(backend=backend) as lab:
        d = lab.docker
        d.run("web")
        d.run("db")
        d.run("box", net="none")
        out = [d.exec("web", f"ping -c 1 {d.get('db').ip}"),
               d.exec("web", "ping -c 1 172.17.0.1"),
               d.exec("box", "ping -c 1 172.17.0.2"),
               d.exec("web", "ip neigh"), d.exec("db", "ip neigh")]
        return [_coarse(normalize([text])[0]) for text in out]


def test_docker_exec_ping_on_the_model():
    web_to_db, web_to_gw, none, web_neigh, db_neigh = _docker_story("model")
    assert "64 bytes from 172.17.0.3: icmp_seq=1 ttl=64" in web_to_db
    assert "64 bytes from 172.17.0.1: icmp_seq=1 ttl=64" in web_to_gw
    assert none == "ping: connect: Network is unreachable\n"
    assert "172.17.0.3 dev eth0 lladdr <mac> REACHABLE" in web_neigh
    assert "172.17.0.1 dev eth0 lladdr <mac> REACHABLE" in web_neigh
    assert "172.17.0.2 dev eth0 lladdr <mac> DELAY" in db_neigh


@pytest.mark.kernel
def test_docker_exec_ping_on_both_backends():
    model, kernel = _docker_story("model"), _docker_story("kernel")
    assert [sorted(t.splitlines()) for t in kernel] == [sorted(t.splitlines()) for t in model]


def _kube_story(backend):
    """Pods on two nodes (bridge and ptp): kubectl exec ping across the underlay."""
    with simlab.Lab(backend=backend) as lab:
        k = lab.k8s
        a = k.run("a")
        k.add_node("k8s-node02")
        b = k.run("b", node="k8s-node02")
        k.use_plugin("ptp", node="k8s-node02", subnet="10.244.3.0/24")
        c = k.run("c", node="k8s-node02")
        out = [k.exec(src.name, f"ping -c 1 {dst.ip}") for src, dst in ((a, b), (b, c), (c, a))]
        out += [k.exec(p.name, "ip neigh") for p in (a, b, c)]
        return [_coarse(normalize([text])[0]) for text in out]


def test_kubectl_exec_ping_across_nodes_on_the_model():
    a_to_b, b_to_c, c_to_a, *_ = _kube_story("model")
    assert "64 bytes from 10.244.2.2: icmp_seq=1 ttl=62" in a_to_b  # node 1, node 2
    assert "64 bytes from 10.244.3.1: icmp_seq=1 ttl=63" in b_to_c  # node 2
    assert "64 bytes from 10.244.1.2: icmp_seq=1 ttl=62" in c_to_a


@pytest.mark.kernel
def test_kubectl_exec_ping_across_nodes_on_both_backends():
    model, kernel = _kube_story("model"), _kube_story("kernel")
    assert [sorted(t.splitlines()) for t in kernel] == [sorted(t.splitlines()) for t in model]
