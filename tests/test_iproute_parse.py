"""simlab.iproute.parse: iproute2's syntax, abbreviations, quirks and errors."""

from __future__ import annotations

import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.iproute import Change, Show, parse
from simlab.iproute.command import (AddrShow, BridgeLinkShow, FdbShow, IpOptions, IptablesShow, LinkShow,
                                    NeighShow, NetnsList, RouteGet, RouteShow, Shown, Version)
from simlab.iproute.render import RENDERERS
from simlab.model.ops import Ping
from simlab.model import (AddrAdd, AddrDel, AddrFlush, Iptables, LinkAdd, LinkDel, LinkSet, NetError,
                          NeighAdd, NeighDel, NeighFlush, NetnsAdd, NetnsDel, ROOT, RouteAdd, RouteDel, RouteFlush,
                          SysctlSet, UsageError)


def ops(line):
    cmd = parse(line)
    assert isinstance(cmd, Change), cmd
    assert cmd.text == line
    return cmd.ops


def show(line) -> Show:
    cmd = parse(line)
    assert isinstance(cmd, Show), cmd
    assert cmd.text == line
    return cmd


@pytest.mark.parametrize("line,expected", [
    ("ip netns add red", (NetnsAdd("red"),)),
    ("ip netns del red", (NetnsDel("red"),)),
    ("ip netns delete red", (NetnsDel("red"),)),
    ("ip link add veth1 type veth peer name veth2", (LinkAdd("veth1", "veth", peer="veth2"),)),
    ("ip link add name veth1 type veth peer name veth2", (LinkAdd("veth1", "veth", peer="veth2"),)),
    ("ip link add veth1 type veth peer veth2", (LinkAdd("veth1", "veth", peer="veth2"),)),
    ("ip link add veth1 type veth", (LinkAdd("veth1", "veth"),)),
    ("ip link add type veth", (LinkAdd("", "veth"),)),
    ("ip link add br0 type bridge", (LinkAdd("br0", "bridge"),)),
    ("ip l a br0 type bridge", (LinkAdd("br0", "bridge"),)),
    ("ip link add veth1 address 02:00:00:00:00:01 mtu 1400 type veth peer name veth2 address 02:00:00:00:00:02 netns red",
     (LinkAdd("veth1", "veth", peer="veth2", peer_netns="red", mac="02:00:00:00:00:01",
              peer_mac="02:00:00:00:00:02", mtu=1400),)),
    ("ip -n red link add veth1 type veth peer name veth2 netns blue",
     (LinkAdd("veth1", "veth", netns="red", peer="veth2", peer_netns="blue"),)),
    ("ip link add br0 up type bridge", (LinkAdd("br0", "bridge"), LinkSet("br0", up=True))),
    ("ip link del veth1", (LinkDel("veth1"),)),
    ("ip link delete dev veth1", (LinkDel("veth1"),)),
    ("ip link d veth1", (LinkDel("veth1"),)),
    ("ip link set veth1 up", (LinkSet("veth1", up=True),)),
    ("ip link set dev veth1 down", (LinkSet("veth1", up=False),)),
    ("ip link s veth1 up down", (LinkSet("veth1", up=False),)),
    ("ip link set veth1 mtu 1400 address 02:42:ac:11:00:02 name eth0 master br0 netns red promisc on up",
     (LinkSet("veth1", up=True, mtu=1400, mac="02:42:ac:11:00:02", name="eth0", master="br0", to_netns="red",
              promisc=True),)),
    ("ip link set veth1 nomaster", (LinkSet("veth1", master=""),)),
    ("ip link set veth1 m br0", (LinkSet("veth1", master="br0"),)),
    ("ip link set veth1 a 02:00:00:00:00:01", (LinkSet("veth1", mac="02:00:00:00:00:01"),)),
    ("ip link set name veth1 up", (LinkSet("veth1", up=True),)),
    ("ip link change veth1 up", (LinkSet("veth1", up=True),)),
    ("ip addr add 10.0.0.1/24 dev veth1", (AddrAdd("veth1", "10.0.0.1/24"),)),
    ("ip a add 10.0.0.1/24 brd + dev veth1", (AddrAdd("veth1", "10.0.0.1/24", broadcast="+"),)),
    ("ip address add local 10.0.0.1/24 dev veth1 scope link", (AddrAdd("veth1", "10.0.0.1/24", scope="link"),)),
    ("ip -n red addr add 192.168.7.7 dev eth0", (AddrAdd("eth0", "192.168.7.7", netns="red"),)),
    ("ip addr del 10.0.0.1/24 dev veth1", (AddrDel("veth1", "10.0.0.1/24"),)),
    ("ip addr flush dev veth1", (AddrFlush("veth1"),)),
    ("ip -6 addr flush dev veth1", (AddrFlush("veth1", family=6),)),
    ("ip route add default via 10.0.0.1", (RouteAdd("default", via="10.0.0.1"),)),
    ("ip r a 10.1.0.0/16 via 10.0.0.2 dev veth1 src 10.0.0.1 metric 100 onlink",
     (RouteAdd("10.1.0.0/16", via="10.0.0.2", dev="veth1", src="10.0.0.1", metric=100, onlink=True),)),
    ("ip route add to 10.9.0.0/16 dev veth1", (RouteAdd("10.9.0.0/16", dev="veth1"),)),
    ("ip route add unicast 10.9.0.0/16 dev veth1", (RouteAdd("10.9.0.0/16", dev="veth1"),)),
    ("ip route del 10.9.0.0/16 dev veth1", (RouteDel("10.9.0.0/16", dev="veth1"),)),
    ("ip -6 route add 2001:db8::/64 via 2001:db8:1::1", (RouteAdd("2001:db8::/64", via="2001:db8:1::1", family=6),)),
    ("ip -6 route add default via 2001:db8::2", (RouteAdd("default", via="2001:db8::2", family=6),)),
    ("ip addr del 10.0.0.1 dev veth1", (AddrDel("veth1", "10.0.0.1"),)),
    ("ip route replace 10.1.0.0/16 via 10.0.0.4", (RouteAdd("10.1.0.0/16", via="10.0.0.4", mode="replace"),)),
    ("ip r change 10.1.0.0/16 via 10.0.0.4 metric 7",
     (RouteAdd("10.1.0.0/16", via="10.0.0.4", metric=7, mode="change"),)),
    ("ip route add blackhole 10.9.0.0/16", (RouteAdd("10.9.0.0/16", type="blackhole"),)),
    ("ip route add 169.254.1.1 dev eth0 scope link proto static table 100",
     (RouteAdd("169.254.1.1", dev="eth0", scope="link", proto="static", table=100),)),
    ("ip route add 10.7.0.0/16 via 10.0.0.2 proto 99", (RouteAdd("10.7.0.0/16", via="10.0.0.2", proto="openr"),)),
    ("ip route del 10.1.0.0/16 metric 50", (RouteDel("10.1.0.0/16", metric=50),)),
    ("ip route del unreachable 10.10.0.0/16 table 7", (RouteDel("10.10.0.0/16", type="unreachable", table=7),)),
    ("ip route flush dev veth1 scope link", (RouteFlush(dev="veth1", scope="link"),)),
    ("ip route flush table 100", (RouteFlush(table=100),)),
    ("ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev veth1",
     (NeighAdd("10.0.0.5", "veth1", lladdr="02:00:00:00:00:05"),)),
    ("ip n replace 10.0.0.5 lladdr 02:00:00:00:00:AA dev veth1 nud stale",
     (NeighAdd("10.0.0.5", "veth1", lladdr="02:00:00:00:00:aa", state="STALE", mode="replace"),)),
    ("ip -n red neigh del 10.0.0.5 dev veth1", (NeighDel("10.0.0.5", "veth1", netns="red"),)),
    ("ip -6 neigh flush dev veth1", (NeighFlush(ifname="veth1", family=6),)),
    ("ip neigh flush all", (NeighFlush(),)),
    ("ip route flush root 10.0.0.0/8", (RouteFlush(prefix="10.0.0.0/8", match="root"),)),
    ("ip netns exec red ip link set lo up", (LinkSet("lo", netns="red", up=True),)),
    ("ip netns exec red ip -n blue link set lo up", (LinkSet("lo", netns="blue", up=True),)),
    ("ip netns exec red sysctl -w net.ipv4.ip_forward=1", (SysctlSet("net.ipv4.ip_forward", "1", netns="red"),)),
    ("bridge link set dev veth1 hairpin on", (LinkSet("veth1", hairpin=True),)),
    ("bridge -n red link set dev veth1 hairpin off", (LinkSet("veth1", netns="red", hairpin=False),)),
    ("iptables -t nat -N DOCKER", (Iptables("nat", ("-N", "DOCKER")),)),
    ("ip netns exec red iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE",
     (Iptables("nat", ("-A", "POSTROUTING", "-s", "10.0.0.0/24", "-j", "MASQUERADE"), netns="red"),)),
    ("iptables -A FORWARD -j ACCEPT", (Iptables("filter", ("-A", "FORWARD", "-j", "ACCEPT")),)),
])
def test_changes(line, expected):
    assert ops(line) == expected


@pytest.mark.parametrize("line,tool,what,argv,netns,options", [
    ("ip a", "ip", AddrShow(), ("a",), ROOT, IpOptions()),
    ("ip addr show dev veth1", "ip", AddrShow(dev="veth1"), ("addr", "show", "dev", "veth1"), ROOT, IpOptions()),
    ("ip -n red -br a", "ip", AddrShow(), ("-br", "a"), "red", IpOptions(brief=True)),
    ("ip -br -n red a", "ip", AddrShow(), ("-br", "a"), "red", IpOptions(brief=True)),
    ("ip netns exec red ip -d link", "ip", LinkShow(), ("-d", "link"), "red", IpOptions(details=True)),
    ("ip -details link show veth1", "ip", LinkShow(dev="veth1"), ("-details", "link", "show", "veth1"), ROOT,
     IpOptions(details=True)),
    ("ip -j -p link", "ip", LinkShow(), ("-j", "-p", "link"), ROOT, IpOptions(json=True, pretty=True)),
    ("ip -4 a", "ip", AddrShow(), ("-4", "a"), ROOT, IpOptions(family=4)),
    ("ip -6 route", "ip", RouteShow(), ("-6", "route"), ROOT, IpOptions(family=6)),
    ("ip l", "ip", LinkShow(), ("l",), ROOT, IpOptions()),
    ("ip lin sh", "ip", LinkShow(), ("lin", "sh"), ROOT, IpOptions()),
    ("ip link show type veth", "ip", LinkShow(kind="veth"), ("link", "show", "type", "veth"), ROOT, IpOptions()),
    ("ip link show type bridge_slave", "ip", LinkShow(slave_kind="bridge"), ("link", "show", "type", "bridge_slave"),
     ROOT, IpOptions()),
    ("ip link show master br0", "ip", LinkShow(master="br0"), ("link", "show", "master", "br0"), ROOT, IpOptions()),
    ("ip -br a show up", "ip", AddrShow(up=True), ("-br", "a", "show", "up"), ROOT, IpOptions(brief=True)),
    ("ip r", "ip", RouteShow(), ("r",), ROOT, IpOptions()),
    ("ip ro show table local", "ip", RouteShow(table="local"), ("ro", "show", "table", "local"), ROOT, IpOptions()),
    ("ip route show default", "ip", RouteShow(exact="default"), ("route", "show", "default"), ROOT, IpOptions()),
    ("ip route get 10.0.0.2", "ip", RouteGet("10.0.0.2"), ("route", "get", "10.0.0.2"), ROOT, IpOptions()),
    ("ip n", "ip", NeighShow(), ("n",), ROOT, IpOptions()),
    ("ip neigh show dev veth1", "ip", NeighShow(dev="veth1"), ("neigh", "show", "dev", "veth1"), ROOT, IpOptions()),
    ("ip netns", "ip", NetnsList(), ("netns",), ROOT, IpOptions()),
    ("ip netns list", "ip", NetnsList(), ("netns", "list"), ROOT, IpOptions()),
    ("ip net", "ip", NetnsList(), ("net",), ROOT, IpOptions()),
    ("ip -V", "ip", Version("ip"), ("-V",), ROOT, IpOptions()),
    ("bridge -V", "bridge", Version("bridge"), ("-V",), ROOT, IpOptions()),
    ("bridge link", "bridge", BridgeLinkShow(), ("link",), ROOT, IpOptions()),
    ("bridge -d link show", "bridge", BridgeLinkShow(), ("-d", "link", "show"), ROOT, IpOptions(details=True)),
    ("bridge link show dev veth1", "bridge", BridgeLinkShow(dev="veth1"), ("link", "show", "dev", "veth1"), ROOT,
     IpOptions()),
    ("bridge fdb show br br0", "bridge", FdbShow(br="br0"), ("fdb", "show", "br", "br0"), ROOT, IpOptions()),
    ("bridge -n red fdb show dev veth1", "bridge", FdbShow(dev="veth1"), ("fdb", "show", "dev", "veth1"), "red",
     IpOptions()),
    ("iptables -t nat -S", "iptables", IptablesShow("nat"), ("-t", "nat", "-S"), ROOT, IpOptions()),
    ("ip netns exec red iptables -S", "iptables", IptablesShow("filter"), ("-S",), "red", IpOptions()),
    ("iptables -S FORWARD", "iptables", IptablesShow("filter", "FORWARD"), ("-S", "FORWARD"), ROOT, IpOptions()),
])
def test_shows(line, tool, what, argv, netns, options):
    cmd = show(line)
    assert (cmd.tool, cmd.what, cmd.argv, cmd.netns, cmd.options) == (tool, what, argv, netns, options)


def test_every_kind_of_show_has_a_renderer():
    assert set(typing.get_args(Shown)) == set(RENDERERS)


# iproute2's own words (checked against ip 6.1 on this machine) and its exit status.
@pytest.mark.parametrize("line,message,exit", [
    ("ip frob", 'Object "frob" is unknown, try "ip help".', 1),
    ("ip link sett veth1 up", 'Command "sett" is unknown, try "ip link help".', 255),
    ("ip addr frob", 'Command "frob" is unknown, try "ip address help".', 255),
    ("ip route frob", 'Command "frob" is unknown, try "ip route help".', 255),
    ("ip netns frob", 'Command "frob" is unknown, try "ip netns help".', 255),
    ("ip link add veth1 address zz type veth peer name veth2", '"zz" is invalid lladdr.', 1),
    ("ip link set veth1 address zz", '"zz" is invalid lladdr.', 1),
    ("ip link set veth1 mtu abc", 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n', 255),
    ("ip link set veth1 mtu", 'Command line is not complete. Try option "help"', 255),
    ("ip link set veth1 frob", 'Error: either "dev" is duplicate, or "frob" is a garbage.', 255),
    ("ip link set veth1 mtu 1400 mtu 1300", 'Error: duplicate "mtu": "1300" is the second value.', 255),
    ("ip link set veth1 promisc maybe", 'Error: argument of "promisc" must be "on" or "off", not "maybe"', 1),
    ("ip link set veth1 name a/b", 'Error: argument "a/b" is wrong: "name" not a valid ifname', 255),
    ("ip link set veth2 name eth0123456789abcd",
     'Error: argument "eth0123456789abcd" is wrong: "name" not a valid ifname', 255),
    ("ip link add veth3 type veth peer name veth3abcdefghijk",
     'Error: argument "veth3abcdefghijk" is wrong: "name" not a valid ifname', 255),
    ("ip link add a/b type bridge", 'Error: argument "a/b" is wrong: "dev" not a valid ifname', 255),
    ("ip link add veth3", 'Not enough information: "type" argument is required', 1),
    ("ip link add a type veth peer b", '"type" is invalid lladdr.', 1),
    ("ip link add name j k type veth", 'both "name" and "dev" cannot be used when creating devices.', 255),
    ("ip link set", 'Not enough information: "dev" argument is required.', 255),
    ("ip link del", 'Not enough information: "dev" argument is required.', 255),
    ("ip link show dev", 'Command line is not complete. Try option "help"', 255),
    ("ip addr add 10.0.0.1/24", 'Not enough information: "dev" argument is required.', 1),
    ("ip addr add 10.0.0.1/24 dev", 'Command line is not complete. Try option "help"', 255),
    ("ip addr add banana dev veth1", 'Error: any valid prefix is expected rather than "banana".', 1),
    ("ip addr add 10.0.0.300/24 dev veth1", 'Error: any valid prefix is expected rather than "10.0.0.300/24".', 1),
    ("ip addr add 10.0.0.1/33 dev veth1", 'Error: any valid prefix is expected rather than "10.0.0.1/33".', 1),
    ("ip addr add 10.0.0.1/ dev veth1", 'Error: any valid prefix is expected rather than "10.0.0.1/".', 1),
    ("ip addr add 10.0.0.1/24 dev veth1 brd + brd +", 'Error: duplicate "broadcast": "+" is the second value.', 255),
    ("ip addr add dev veth1 10.0.0.1/24 10.0.0.2/24",
     'Error: either "local" is duplicate, or "10.0.0.2/24" is a garbage.', 255),
    ("ip addr add 10.0.0.1/24 dev veth1 scope foo", 'Error: argument "foo" is wrong: invalid scope value.', 255),
    ("ip addr flush", "Flush requires arguments.", 1),
    ("ip route add banana dev veth1", 'Error: any valid prefix is expected rather than "banana".', 1),
    ("ip route add 10.0.0.0/99 dev veth1", 'Error: any valid prefix is expected rather than "10.0.0.0/99".', 1),
    ("ip route add 10.0.0.0/24 via banana", 'Error: inet address is expected rather than "banana".', 1),
    ("ip route add 10.0.0.0/24 via 10.0.0.1 dev veth1 metric abc",
     'Error: argument "abc" is wrong: "metric" value is invalid\n\n', 255),
    ("ip route add 10.6.0.0/16 10.7.0.0/16 dev veth1",
     'Error: either "to" is duplicate, or "10.7.0.0/16" is a garbage.', 255),
    ("ip -4 route add 2001::/64 dev veth1", 'Error: inet prefix is expected rather than "2001::/64".', 1),
    ("ip -6 route add 10.0.0.0/8 dev veth1", 'Error: inet6 prefix is expected rather than "10.0.0.0/8".', 1),
    ("ip route get", "need at least a destination address", 1),
    ("ip route get banana", 'Error: any valid prefix is expected rather than "banana".', 1),
    ("ip -z link", 'Option "-z" is unknown, try "ip -help".', 255),
    ("ip link show veth1 veth2", 'Error: either "dev" is duplicate, or "veth2" is a garbage.', 255),
    ("ip link del veth1 veth2", 'Error: either "dev" is duplicate, or "veth2" is a garbage.', 255),
    ("ip netns add", "No netns name specified", 1),
    ("ip netns add a/b", 'Invalid netns name "a/b"', 255),
    ("ip netns exec", "No netns name specified", 1),
    ("ip netns exec red", "No command specified", 1),
    ("ip -n", 'Cannot open network namespace "(null)": No such file or directory', 255),
    ("bridge frob", 'Object "frob" is unknown, try "bridge help".', 255),
    ("bridge link frob", 'Command "frob" is unknown, try "bridge link help".', 255),
    ("bridge fdb frob", 'Command "frob" is unknown, try "bridge fdb help".', 255),
    ("bridge link set dev veth1 hairpin maybe",
     'Error: argument of "hairpin" must be one of "off", "on", not "maybe"', 234),
])
def test_iproute2_errors(line, message, exit):
    with pytest.raises(NetError) as info:
        parse(line)
    assert info.value.message == message
    assert info.value.exit == exit
    assert info.value.hint


@pytest.mark.parametrize("line", [
    "ip -s -s link", "ip -6 route flush dev veth1", "ip rule add from 1.2.3.4 goto 32766", "ip tunnel", "ip link add l mtu 100 type veth", "ip link replace x",
    "ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:01 dev veth1 nud noarp", "ip route flush", "bridge vlan", "bridge fdb add",
    "ip link add br0 type bridge stp_state 1", "ip link add x type vxlan id 5", "ping -f 10.0.0.1", "ping", "",
    "iptables -E OLD NEW", "ip route add 10.0.0.0/8 table local dev veth1", "ip 'unterminated",
])
def test_outside_the_subset_is_a_usage_error_with_a_hint(line):
    with pytest.raises(NetError) as info:
        parse(line)
    assert isinstance(info.value, UsageError) or info.value.exit
    assert info.value.hint
    assert info.value.errno


@pytest.mark.parametrize("line, dst, netns, count", [
    ("ping 10.0.0.1", "10.0.0.1", "", 1),
    ("ping -c 3 10.0.0.1", "10.0.0.1", "", 3),
    ("ip netns exec red ping -c1 10.0.0.2", "10.0.0.2", "red", 1),
])
def test_ping_is_traffic_as_an_operation(line, dst, netns, count):
    assert parse(line).ops == (Ping(dst, netns=netns, count=count),)


def test_quirk_one_letter_names_are_keywords():
    # `ip` reads "a" as "address" and "m" as "master": `dev` makes them names.
    assert ops("ip link set dev a up") == (LinkSet("a", up=True),)
    assert ops("ip link set dev m master br0") == (LinkSet("m", master="br0"),)


VOCAB = ["ip", "bridge", "iptables", "sysctl", "-n", "red", "-d", "-br", "-j", "-p", "-4", "-6", "-s", "link",
         "l", "a", "addr", "address", "r", "route", "n", "neigh", "netns", "exec", "add", "del", "set", "show",
         "list", "flush", "get", "dev", "veth1", "veth2", "br0", "type", "veth", "bridge", "peer", "name",
         "address", "mtu", "1400", "abc", "up", "down", "master", "nomaster", "promisc", "on", "off", "via",
         "10.0.0.1", "10.0.0.0/24", "default", "2001:db8::1/64", "banana", "brd", "+", "scope", "link", "metric",
         "100", "onlink", "src", "table", "local", "all", "fdb", "br", "hairpin", "-t", "nat", "-S", "-A", "-N",
         "POSTROUTING", "-j", "MASQUERADE", "02:42:ac:11:00:02", "zz", "to", "root", "match", "exact", "dev",
         "-w", "net.ipv4.ip_forward=1", "help", "--", "-", "--json", "-netns", "''", '"', "\\"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), max_size=12))
def test_fuzz_vocabulary_never_crashes(words):
    line = " ".join(words)
    try:
        cmd = parse(line)
    except NetError as err:
        assert err.message is not None and err.exit != 0
        assert not err.message.startswith("simlab could not read"), err.message  # no hidden bug
        return
    assert isinstance(cmd, (Change, Show))


@settings(max_examples=1500, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_any_text_never_crashes(text):
    for line in (text, "ip " + text, "ip link " + text, "bridge " + text, "ip netns exec red ip " + text):
        try:
            parse(line)
        except NetError as err:
            assert not err.message.startswith("simlab could not read"), err.message  # no hidden bug


# ------------------------------------------------------------ the README's list
def test_readme_lists_what_the_parser_accepts():
    """README.md's supported-commands block is generated from simlab.iproute.supported,
    whose examples must all parse and whose refusals must all be refused with a hint."""
    from pathlib import Path

    from simlab.iproute import supported

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    start, end = readme.index(supported.BEGIN), readme.index(supported.END) + len(supported.END)
    assert readme[start:end] + "\n" == supported.markdown(), "run: python -m simlab.iproute.supported"
    for _synopsis, examples in supported.COMMANDS:
        for line in examples:
            assert isinstance(parse(line), (Change, Show)), line
    for line, _why in supported.REFUSED:
        with pytest.raises(UsageError) as info:
            parse(line)
        assert info.value.hint, line
