"""Learner iptables input: only what simlab models reaches a backend.

On the kernel backend the words after the verb go to the real iptables, as root (inside
the lab's namespace), so anything outside the modelled subset (``--modprobe``, ``-j LOG``
options, other match modules, shell text) is refused before any backend sees it, with
the list of what simlab understands; nothing changes.
"""

from __future__ import annotations

import pytest

import simlab

from simlab.iproute.parse import parse
from simlab.model import UsageError
from simlab.model.netfilter import unknown_word

ACCEPTED = [
    "iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE",
    "iptables -A FORWARD -j ACCEPT",
    "iptables -t nat -N DOCKER",
    "iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT "
    "--to-destination 172.17.0.2:80",
    "iptables -A FORWARD -p icmp --icmp-type echo-request -j REJECT "
    "--reject-with icmp-port-unreachable",
    'iptables -t nat -A POSTROUTING -o eth0 -m comment --comment "my rule" -j MASQUERADE --random-fully',
    "iptables -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "iptables -t nat -D POSTROUTING -s 10.0.0.0/24 -j MASQUERADE",
    "iptables -F FORWARD",
    "iptables -t nat -X DOCKER",
]
REFUSED = [
    ("iptables -A FORWARD -s --modprobe=/tmp/x -j ACCEPT", '"--modprobe=/tmp/x"'),
    ("iptables -A INPUT --modprobe /tmp/x -j ACCEPT", '"--modprobe"'),
    ("iptables -A FORWARD -m string --string x -j DROP", '"-m string"'),
    ("iptables -A FORWARD -j LOG --log-prefix x", '"--log-prefix"'),
    ("iptables -A INPUT --help", '"--help"'),
    ("iptables -N $(reboot)", '"$(reboot)"'),
    ("iptables -F FORWARD extra", '"extra"'),
    ("iptables -t raw -A PREROUTING -j NOTRACK", 'the iptables table "raw"'),
    ("iptables -A FORWARD -j", '"-j"'),
]


@pytest.mark.parametrize("line", ACCEPTED)
def test_the_modelled_subset_is_accepted(line):
    parse(line)


@pytest.mark.parametrize("line,word", REFUSED)
def test_anything_else_is_refused_with_what_simlab_understands(line, word):
    with pytest.raises(UsageError) as info:
        parse(line)
    assert f"simlab does not model {word}" in str(info.value)
    assert "simlab understands" in info.value.hint or "tables are" in info.value.hint


@pytest.mark.parametrize("backend", ["model", pytest.param("kernel", marks=pytest.mark.kernel)])
def test_a_refused_rule_reaches_no_backend(backend):
    with simlab.Lab(backend=backend) as lab:
        _refused_then_accepted(lab)


def _refused_then_accepted(lab):
    lab.ip("netns add red")
    before = lab.snapshot()
    steps = len(lab.timeline)
    with pytest.raises(UsageError):
        lab.ip("netns exec red iptables -A INPUT --modprobe /tmp/x -j ACCEPT")
    assert lab.snapshot() == before and len(lab.timeline) == steps
    lab.ip("netns exec red iptables -A INPUT -p tcp --dport 22 -j DROP")
    assert "-A INPUT -p tcp -m tcp --dport 22 -j DROP" in str(lab.ip("netns exec red iptables -S"))


def test_every_word_of_the_subset_is_named_in_the_hint():
    from simlab.iproute.parse import RULE_HINT
    from simlab.model.netfilter import RULE_WORDS

    for word in (*RULE_WORDS["module"], *RULE_WORDS["target"]):
        assert word in RULE_HINT and word in RULE_HINT.ja
    assert unknown_word(("-A", "FORWARD", "-j", "ACCEPT")) is None


# Typed the way people type them; `iptables -S` prints each back in its own form.
TYPED = [
    "-A INPUT -p tcp --dport 22 -j DROP", "-A INPUT -p udp --sport 53 -j ACCEPT",
    "-A INPUT -s 10.0.0.1 -j ACCEPT", "-A FORWARD -p icmp --icmp-type echo-request -j REJECT",
    "-A FORWARD -j REJECT --reject-with icmp-host-prohibited",
    "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-A FORWARD -m state --state NEW -j ACCEPT", "-A FORWARD -i eth0 ! -d 10.1.0.0/16 -j DROP",
    '-A FORWARD -j ACCEPT -m comment --comment "my rule"',
    "-A FORWARD -p tcp --destination-port 8080 -j ACCEPT", "-A FORWARD --source 10.1.2.3/8 -j ACCEPT",
    "-A FORWARD -m conntrack --ctstate NEW -p tcp --dport 22 -j ACCEPT",
    "-A FORWARD -p TCP ! --dport 23 -j ACCEPT", "-A FORWARD -j ACCEPT -s 10.0.0.5",
    "-I FORWARD -p udp --dport 53 -j DROP", "-A FORWARD -p icmp --icmp-type port-unreachable -j DROP",
    "-D INPUT -p udp --source-port 53 -j ACCEPT",
]
PRINTED = """-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j DROP
-A INPUT -s 10.0.0.1/32 -j ACCEPT
-A FORWARD -p udp -m udp --dport 53 -j DROP
-A FORWARD -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with icmp-port-unreachable
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m state --state NEW -j ACCEPT
-A FORWARD ! -d 10.1.0.0/16 -i eth0 -j DROP
-A FORWARD -m comment --comment "my rule" -j ACCEPT
-A FORWARD -p tcp -m tcp --dport 8080 -j ACCEPT
-A FORWARD -s 10.0.0.0/8 -j ACCEPT
-A FORWARD -p tcp -m conntrack --ctstate NEW -m tcp --dport 22 -j ACCEPT
-A FORWARD -p tcp -m tcp ! --dport 23 -j ACCEPT
-A FORWARD -s 10.0.0.5/32 -j ACCEPT
-A FORWARD -p icmp -m icmp --icmp-type 3/3 -j DROP
"""


@pytest.mark.parametrize("backend", ["model", pytest.param("kernel", marks=pytest.mark.kernel)])
def test_rules_read_back_as_iptables_prints_them(backend):
    """The model's text is checked against what the real iptables-nft 1.8.9 printed (kernel)."""
    with simlab.Lab(backend=backend) as lab:
        lab.ip("netns add red")
        for rule in TYPED:
            lab.ip(f"netns exec red iptables {rule}")
        assert str(lab.ip("netns exec red iptables -S")) == PRINTED
        with pytest.raises(simlab.NetError) as info:  # a match option without its module
            lab.ip("netns exec red iptables -A FORWARD --ctstate NEW -j ACCEPT")
        assert str(info.value).startswith('iptables v1.8.9 (nf_tables): unknown option "--ctstate"')
