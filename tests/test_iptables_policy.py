"""Chain policies (`iptables -P`) and the filter FORWARD verdict, on both backends.

The kernel side sends real echoes through a namespace whose FORWARD policy is DROP: the
real rules decide, and the model's walk must say the same (blocked, then passing after
the fix, then the reply blocked when only the request is accepted).
"""

from __future__ import annotations

import pytest

import simlab
from simlab.iproute.parse import parse
from simlab.model import Iptables, NetError, UsageError, apply_all
from simlab.model.forward import reach
from simlab.model.netfilter import apply_iptables, render_rules

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]


@pytest.fixture(params=BACKENDS)
def lab(request):
    with simlab.Lab(backend=request.param) as lab:
        yield lab


def routed(lab) -> None:
    """a (10.0.1.2) -- r (ip_forward=1) -- b (10.0.2.2)."""
    for line in ("netns add a", "netns add r", "netns add b",
                 "-n r link add ra type veth peer name eth0 netns a",
                 "-n r link add rb type veth peer name eth0 netns b",
                 "-n r addr add 10.0.1.1/24 dev ra", "-n r addr add 10.0.2.1/24 dev rb",
                 "-n a addr add 10.0.1.2/24 dev eth0", "-n b addr add 10.0.2.2/24 dev eth0",
                 "-n r link set ra up", "-n r link set rb up", "-n a link set eth0 up",
                 "-n b link set eth0 up", "-n a link set lo up", "-n b link set lo up",
                 "-n a route add default via 10.0.1.1", "-n b route add default via 10.0.2.1"):
        lab.ip(line)
    lab.run("ip netns exec r sysctl -w net.ipv4.ip_forward=1")


# ----------------------------------------------------------------- the text
def test_policy_lines_in_iptables_s():
    lines = apply_iptables("filter", (), ("-P", "FORWARD", "DROP"))
    assert lines == ("-P FORWARD DROP",)
    assert render_rules("filter", lines) == "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n"
    assert apply_iptables("filter", lines, ("-P", "FORWARD", "ACCEPT")) == ()


def test_user_chains_are_listed_by_name_as_iptables_nft_does():
    lines = ()
    for args in (("-N", "DOCKER-USER"), ("-N", "DOCKER"), ("-A", "DOCKER-USER", "-j", "RETURN"),
                 ("-A", "DOCKER", "-d", "172.17.0.2", "-j", "ACCEPT")):
        lines = apply_iptables("filter", lines, args)
    assert render_rules("filter", lines).splitlines()[3:] == [
        "-N DOCKER", "-N DOCKER-USER", "-A DOCKER -d 172.17.0.2/32 -j ACCEPT",
        "-A DOCKER-USER -j RETURN"]


def test_policy_parses_and_odd_words_are_refused():
    assert parse("iptables -P FORWARD DROP").ops == (Iptables("filter", ("-P", "FORWARD", "DROP")),)
    assert parse("iptables --policy FORWARD ACCEPT").ops[0].args == ("-P", "FORWARD", "ACCEPT")
    with pytest.raises(UsageError):
        parse("iptables -P FORWARD $(reboot)")


ERRORS = [
    ("-P DOCKER DROP", "iptables: Bad built-in chain name.", 1),
    ("-P NOPE DROP", "iptables: Bad built-in chain name.", 1),
    ("-P FORWARD FOO", "iptables: Bad policy name. Run `dmesg' for more information.", 1),
    ("-P FORWARD", "iptables v1.8.9 (nf_tables): -P requires a chain and a policy\n"
                   "Try `iptables -h' or 'iptables --help' for more information.", 2),
    ("-t nat -P PREROUTING DROP", 'iptables v1.8.9 (nf_tables): \nThe "nat" table is not intended '
                                  "for filtering, the use of DROP is therefore inhibited.\n\n\n"
                                  "Try `iptables -h' or 'iptables --help' for more information.", 2),
]


@pytest.mark.parametrize("args,stderr,exit", ERRORS)
def test_policy_errors_are_iptables_own(lab, args, stderr, exit):
    lab.iptables("-N DOCKER")
    before = lab.iptables("-S")
    with pytest.raises(NetError) as info:
        lab.iptables(args)
    assert (info.value.message, info.value.exit) == (stderr, exit)
    assert info.value.hint
    assert lab.iptables("-S") == before


def test_policy_shows_the_same_on_both_backends(lab):
    lab.iptables("-N DOCKER-USER")
    lab.iptables("-N DOCKER")
    lab.iptables("-P FORWARD DROP")
    lab.iptables("-A FORWARD -j DOCKER-USER")
    assert lab.iptables("-S") == ("-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-N DOCKER\n"
                                  "-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n")
    assert lab.iptables("-S FORWARD") == "-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n"
    assert lab.snapshot().netns[""].iptables["filter"][0] == "-P FORWARD DROP"


def test_a_failed_step_puts_the_policy_back(lab):
    with pytest.raises(NetError):
        with lab.step("policy then a bad rule"):
            lab.iptables("-P FORWARD DROP")
            lab.iptables("-A FORWARD -j NOSUCHCHAIN")
    assert lab.iptables("-S FORWARD") == "-P FORWARD ACCEPT\n"


# ---------------------------------------------------------------- the walk
def test_forward_drop_blocks_and_a_fix_lets_it_through(lab):
    routed(lab)
    assert lab.ping("a", "10.0.2.2").ok
    lab.iptables("-P FORWARD DROP", netns="r")
    report = lab.ping("a", "10.0.2.2")
    walk = reach(lab.snapshot(), "a", "10.0.2.2")
    assert not report.ok and not walk.ok
    assert walk.error == "dropped by filter FORWARD"
    assert "policy is DROP" in walk.hops[-1].text("en")
    # Only the request accepted: it arrives, the answer (b -> a) meets the DROP policy.
    lab.iptables("-A FORWARD -s 10.0.1.0/24 -j ACCEPT", netns="r")
    report = lab.ping("a", "10.0.2.2")
    walk = reach(lab.snapshot(), "a", "10.0.2.2")
    assert not report.ok and walk.ok and not walk.reply_ok
    assert walk.reply_error == "dropped by filter FORWARD"
    # conntrack: the answer belongs to an accepted flow.
    lab.iptables("-I FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", netns="r")
    report = lab.ping("a", "10.0.2.2")
    walk = reach(lab.snapshot(), "a", "10.0.2.2")
    assert report.ok and walk.ok and walk.reply_ok
    # ...but a flow b starts is NEW, and nothing accepts it.
    assert not lab.ping("b", "10.0.1.2").ok
    assert reach(lab.snapshot(), "b", "10.0.1.2").error == "dropped by filter FORWARD"
    lab.iptables("-P FORWARD ACCEPT", netns="r")
    assert lab.ping("b", "10.0.1.2").ok


def test_input_policy_drop_stops_delivery():
    s = apply_all(simlab.model.new_state(), [
        simlab.model.NetnsAdd("a"), Iptables("filter", ("-P", "INPUT", "DROP"), netns="a")])
    s = apply_all(s, [simlab.model.LinkSet("lo", netns="a", up=True)])
    w = reach(s, "a", "127.0.0.1")
    assert not w.ok and w.error == "dropped by filter INPUT"
