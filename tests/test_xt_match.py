"""The mark and multiport on the model: their text (simlab.model.xt_match) and their verdicts.

The text was checked against iptables-nft 1.8.9 in ``unshare --net`` (kernel tests with
real traffic through these rules: tests/test_hostport.py, tests/test_portmap.py).
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import xt_match
from simlab.model.errors import NetError
from simlab.model.forward import reach
from simlab.model.netfilter import apply_iptables


@pytest.mark.parametrize("given, shown", [
    (["--set-xmark", "0x2000/0x2000"], "0x2000/0x2000"),
    (["--set-mark", "5"], "0x5/0xffffffff"),
    (["--set-mark", "0x10/0x0f"], "0x10/0x1f"),
    (["--or-mark", "0x4"], "0x4/0x4"),
    (["--and-mark", "0x4"], "0x0/0xfffffffb"),
    (["--xor-mark", "0x4"], "0x4/0x0"),
])
def test_every_mark_form_is_one_set_xmark(given, shown):
    assert xt_match.mark_target(given) == ["--set-xmark", shown]


def test_set_xmark_clears_the_mask_then_xors_the_value():
    assert xt_match.set_mark(0x1, {"--set-xmark": "0x2000/0x2000"}) == 0x2001
    assert xt_match.set_mark(0x2005, {"--set-xmark": "0x0/0xfffffffb"}) == 0x4  # --and-mark 4
    assert xt_match.set_mark(0x4, {"--set-xmark": "0x4/0x0"}) == 0x0  # --xor-mark 4
    assert xt_match.hit("--mark", "0x2000/0x2000", 0x2001, None, None)
    assert not xt_match.hit("--mark", "0x2000", 0x2001, None, None)


def test_multiport_lists_and_ranges():
    assert xt_match.hit("--dports", "22,8000:8100", 0, 40000, 8080)
    assert not xt_match.hit("--dports", "22,8000:8100", 0, 8080, 80)
    assert xt_match.hit("--ports", "80", 0, 80, 40000)
    with pytest.raises(NetError, match="multiport needs `-p tcp'"):
        apply_iptables("nat", (), ("-A", "PREROUTING", "-m", "multiport", "--dports", "80", "-j", "ACCEPT"))


def _two(lab):
    lab.ip("netns add a")
    lab.ip("netns add b")
    lab.ip("-n a link add va type veth peer name vb netns b")
    lab.ip("-n a addr add 10.0.0.1/24 dev va")
    lab.ip("-n b addr add 10.0.0.2/24 dev vb")
    lab.ip("-n a link set va up")
    lab.ip("-n b link set vb up")


def test_the_mark_goes_on_in_its_namespace_and_is_gone_in_the_next():
    """-j MARK does not end the chain; a packet entering another namespace has mark 0."""
    with simlab.Lab(backend="model") as lab:
        _two(lab)
        lab.run("ip netns exec a iptables -t nat -A OUTPUT -j MARK --set-xmark 0x1/0x1")
        lab.run("ip netns exec a iptables -t nat -A POSTROUTING -m mark --mark 0x1 -j SNAT --to-source 10.0.0.1")
        lab.run("ip netns exec b iptables -t nat -A PREROUTING -m mark --mark 0x1 -j DNAT --to-destination 10.0.0.9")
        walk = reach(lab.snapshot(), "a", "10.0.0.2", "tcp", 80)
        assert walk.ok and walk.seen_dst == "10.0.0.2"  # b never saw the mark
        assert any("mark to 0x1" in h.en for h in walk.hops)
        assert any("SNAT" in h.en for h in walk.hops)  # a's POSTROUTING did


#: What a learner types, and what iptables-nft 1.8.9 prints back (recorded in unshare --net).
TYPED = [
    "-t nat -N HP",
    "-t nat -A HP -m mark --mark 8192 -j MASQUERADE",
    "-t nat -A HP -j MARK --or-mark 0x2000",
    "-t nat -A HP -p tcp -m multiport --dports 80,8000:8100 -j RETURN",
    "-t nat -I HP 2 -m mark ! --mark 0x1/0xff -j ACCEPT",
    "-t nat -D HP 1",
]
SHOWN = """\
-N HP
-A HP -m mark ! --mark 0x1/0xff -j ACCEPT
-A HP -j MARK --set-xmark 0x2000/0x2000
-A HP -p tcp -m multiport --dports 80,8000:8100 -j RETURN
"""


@pytest.mark.parametrize("backend", ["model", pytest.param("kernel", marks=pytest.mark.kernel)])
def test_a_learner_types_mark_and_multiport_rules(backend):
    with simlab.Lab(backend=backend) as lab:
        for line in TYPED:
            lab.iptables(line)
        assert lab.iptables("-t nat -S HP") == SHOWN
        assert lab.snapshot().netns[""].iptables["nat"][-3:] == tuple(SHOWN.splitlines()[1:])
