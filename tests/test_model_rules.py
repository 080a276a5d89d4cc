"""The kernel rules apply() enforces (its module docstring), and every error it raises.

Each test names the rule it checks; the expected texts are what iproute2 6.1
prints on Linux 6.18 (tests/golden).
"""

from __future__ import annotations

import dataclasses
import errno

import pytest

from simlab.model import (AddrAdd, AddrDel, AddrFlush, Iptables, LinkAdd, LinkDel, LinkSet, NetError,
                          NetnsAdd, NetnsDel, ROOT, RouteAdd, RouteDel, SysctlSet, apply, apply_all,
                          derive, new_state)
from simlab.model.state import Link


def build(*ops, state=None):
    return apply_all(state or new_state(), ops)


def link(state, name, ns=ROOT):
    found = state.netns[ns].link(name)
    assert found is not None, f"no {name} in {ns!r}"
    return found


def addrs(state, name, ns=ROOT, family=None):
    l = link(state, name, ns)
    return [a.cidr for a in derive.all_addrs(state, state.netns[ns], l)
            if family is None or a.family == family]


def routes(state, ns=ROOT):
    n = state.netns[ns]
    return [(r.dst, n.links[r.dev].ifname, r.via) for r in n.routes]


def fails(state, op, message, err, exit):
    with pytest.raises(NetError) as info:
        apply(state, op)
    assert info.value.message.rstrip("\n") == message.rstrip("\n")
    assert info.value.errno == err
    assert info.value.exit == exit
    assert info.value.hint  # a new user always gets a next step
    return info.value


PAIR = LinkAdd("veth1", "veth", peer="veth2")
UP1, UP2 = LinkSet("veth1", up=True), LinkSet("veth2", up=True)


# ------------------------------------------------------------------ namespaces
def test_new_netns_has_only_a_down_lo():
    s = build(NetnsAdd("red"))
    red = s.netns["red"]
    assert [(l.ifindex, l.ifname, l.up) for l in red.links.values()] == [(1, "lo", False)]
    assert red.addrs == () and red.routes == ()


def test_tunnel_fallbacks_when_their_modules_are_loaded():
    s = build(NetnsAdd("red"), state=new_state(tunnels=("ip6tnl0", "sit0")))
    assert [(l.ifindex, l.ifname, l.kind) for l in s.netns["red"].links.values()] == [
        (1, "lo", "loopback"), (2, "ip6tnl0", "ip6tnl"), (3, "sit0", "sit")]


def test_ifindex_counter_per_netns_never_reuses():
    s = build(PAIR, LinkDel("veth1"), PAIR, LinkAdd("br0", "bridge"))
    assert [(l.ifindex, l.ifname) for l in s.netns[ROOT].links.values()] == [
        (1, "lo"), (4, "veth2"), (5, "veth1"), (6, "br0")]


def test_netns_del_takes_the_peer_in_the_node_and_frees_the_bridge():
    s = build(NetnsAdd("red"), PAIR, LinkSet("veth2", to_netns="red"), LinkAdd("br0", "bridge"),
              LinkSet("veth1", master="br0"))
    assert link(s, "br0").mac == link(s, "veth1").mac
    s = apply(s, NetnsDel("red"))
    assert s.netns[ROOT].link("veth1") is None
    assert link(s, "br0").mac == "00:00:00:00:00:00"
    assert "red" not in s.netns[ROOT].nsids


# ------------------------------------------------------------------------ veth
def test_peer_is_registered_first():
    s = build(PAIR)
    assert (link(s, "veth2").ifindex, link(s, "veth1").ifindex) == (2, 3)
    assert link(s, "veth1").peer == (ROOT, 2) and link(s, "veth2").peer == (ROOT, 3)


def test_auto_names_peer_first():
    s = build(PAIR, LinkAdd("br0", "bridge"), LinkAdd("", "veth"))
    assert (link(s, "veth0").ifindex, link(s, "veth3").ifindex) == (5, 6)
    assert link(s, "veth3").peer == (ROOT, 5)
    assert build(LinkAdd("", "bridge")).netns[ROOT].link("bridge0") is not None


def test_peer_in_another_netns_gets_that_netns_index_and_nsids():
    s = build(NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"))
    assert link(s, "veth1").ifindex == 2 and link(s, "veth2", "red").ifindex == 2
    assert s.netns[ROOT].nsids == {"red": 0} and s.netns["red"].nsids == {ROOT: 0}


def test_deleting_one_end_deletes_the_pair_across_namespaces():
    s = build(NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"), LinkDel("veth1"))
    assert s.netns["red"].link("veth2") is None


def test_carrier_only_when_both_ends_are_up():
    s = build(PAIR, UP1)
    ns = s.netns[ROOT]
    assert not derive.carrier(s, ns, link(s, "veth1"))
    assert derive.flags(s, ns, link(s, "veth1")) == ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP", "M-DOWN"]
    s = apply(s, UP2)
    assert derive.carrier(s, s.netns[ROOT], link(s, "veth1"))
    assert derive.operstate(s, s.netns[ROOT], link(s, "veth1")) == "UP"


def test_operstate_lowerlayerdown_vs_down_is_decided_by_the_local_index():
    # Same namespace: the peer is a down local link -> LOWERLAYERDOWN.
    s = build(PAIR, UP1)
    assert derive.operstate(s, s.netns[ROOT], link(s, "veth1")) == "LOWERLAYERDOWN"
    # Peer elsewhere with the same ifindex as the link itself -> DOWN (tests/golden 11).
    s = build(NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"), UP1)
    assert derive.operstate(s, s.netns[ROOT], link(s, "veth1")) == "DOWN"


def test_operstate_goes_stale_until_carrier_changes():
    # tests/golden 49: veth3's peer index names a down local veth9 at creation; later
    # changes of veth9 do not recompute veth3's operstate.
    s = build(NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"), UP1,
              LinkAdd("veth8", "veth", peer="veth9"), LinkAdd("veth3", "veth", peer="veth4", peer_netns="red"),
              LinkSet("veth3", up=True))
    state = lambda s: derive.operstate(s, s.netns[ROOT], link(s, "veth3"))  # noqa: E731
    assert state(s) == "LOWERLAYERDOWN"
    s = build(LinkSet("veth9", up=True), LinkSet("veth8", up=True), LinkSet("veth3", up=False),
              LinkSet("veth3", up=True), state=s)
    assert state(s) == "LOWERLAYERDOWN"


def test_move_sets_down_drops_addresses_keeps_or_changes_ifindex():
    s = build(NetnsAdd("red"), LinkAdd("vetha", "veth", peer="vethb", netns="red"), PAIR,
              LinkSet("veth2", up=True), AddrAdd("veth2", "10.0.0.2/24"), LinkSet("veth2", to_netns="red"))
    moved = link(s, "veth2", "red")
    assert moved.ifindex == 4 and not moved.up and not moved.activated  # index 2 was taken in red
    assert addrs(s, "veth2", "red") == []
    assert link(s, "veth1").peer == ("red", 4)
    s = build(PAIR, LinkSet("veth2", to_netns="red"), state=build(NetnsAdd("red")))
    assert link(s, "veth2", "red").ifindex == 2  # free there: kept


def test_move_leaves_the_bridge():
    s = build(NetnsAdd("red"), LinkAdd("br0", "bridge"), PAIR, LinkSet("veth1", master="br0"),
              LinkSet("veth1", to_netns="red"))
    assert link(s, "veth1", "red").master is None
    assert link(s, "br0").mac == "00:00:00:00:00:00"


def test_move_gives_the_old_netns_an_nsid_for_the_new_one():
    s = build(NetnsAdd("red"), NetnsAdd("blue"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"),
              LinkSet("veth2", netns="red", to_netns="blue"))
    assert s.netns["red"].nsids == {ROOT: 0, "blue": 1}
    assert s.netns[ROOT].nsids == {"red": 0, "blue": 1}


def test_multicast_lists_follow_ipv4_and_ipv6():
    s = build(PAIR, UP1)  # up without carrier: IPv6 never came up
    assert link(s, "veth1").mc == ("33:33:00:00:00:01", "01:00:5e:00:00:01")
    s = build(LinkSet("veth1", up=False), UP1, state=s)  # ff02::1 stays from registration
    assert link(s, "veth1").mc == ("33:33:00:00:00:01", "01:00:5e:00:00:01")
    s = build(UP2, LinkSet("veth1", up=False), UP1, state=s)  # IPv6 was up: left, and back
    mc = link(s, "veth1").mc
    assert mc[:2] == ("01:00:5e:00:00:01", "33:33:00:00:00:01") and mc[2].startswith("33:33:ff:")


def test_lo_and_bridges_cannot_move():
    s = build(NetnsAdd("red"), LinkAdd("br0", "bridge"))
    for name in ("lo", "br0"):
        fails(s, LinkSet(name, to_netns="red"), "Error: The interface netns is immutable.", errno.EINVAL, 2)


# ------------------------------------------------------------------ qdisc, IPv6
def test_qdisc_noqueue_after_first_up_stays_after_down():
    s = build(PAIR)
    assert derive.qdisc(link(s, "veth1")) == "noop"
    s = build(UP1, LinkSet("veth1", up=False), state=s)
    assert derive.qdisc(link(s, "veth1")) == "noqueue"


def test_link_local_needs_carrier_and_goes_with_down():
    s = build(PAIR, UP1)
    assert addrs(s, "veth1") == []
    s = apply(s, UP2)
    mac = link(s, "veth1").mac
    assert addrs(s, "veth1") == [f"{derive.eui64_link_local(mac)}/64"]
    s = apply(s, LinkSet("veth2", up=False))  # carrier lost: kept
    assert addrs(s, "veth1", family=6) != []
    s = apply(s, LinkSet("veth1", up=False))  # down: gone
    assert addrs(s, "veth1", family=6) == []


def test_link_local_keeps_the_mac_it_was_made_from():
    s = build(LinkAdd("br0", "bridge"), LinkSet("br0", up=True))
    first = addrs(s, "br0", family=6)
    s = build(PAIR, LinkSet("veth1", master="br0"), UP1, UP2, state=s)
    assert addrs(s, "br0", family=6) == first
    assert link(s, "br0").mac == link(s, "veth1").mac


def test_lo_up_down():
    s = build(NetnsAdd("red"), LinkSet("lo", netns="red", up=True))
    assert addrs(s, "lo", "red") == ["127.0.0.1/8", "::1/128"]
    assert derive.operstate(s, s.netns["red"], link(s, "lo", "red")) == "UNKNOWN"
    s = apply(s, LinkSet("lo", netns="red", up=False))
    assert addrs(s, "lo", "red") == ["127.0.0.1/8"]


# -------------------------------------------------------------------------- IPv4
def test_secondary_goes_last_and_leaves_with_its_primary():
    s = build(PAIR, *(AddrAdd("veth1", c) for c in ("10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24", "10.1.0.1/24")))
    ns = s.netns[ROOT]
    sec = derive.secondary_flags(ns, link(s, "veth1").ifindex)
    shown = [(a.cidr, sec[id(a)]) for a in derive.all_addrs(s, ns, link(s, "veth1"))]
    assert shown == [("10.0.0.1/24", False), ("10.1.0.1/24", False), ("10.0.0.2/24", True),
                     ("10.0.0.3/24", True)]
    s = apply(s, AddrDel("veth1", "10.0.0.1/24"))
    assert addrs(s, "veth1") == ["10.1.0.1/24"]


def test_connected_route_only_on_an_up_link_and_only_for_primaries():
    s = build(PAIR, AddrAdd("veth1", "10.0.0.1/24"))
    assert routes(s) == []
    s = build(UP1, UP2, AddrAdd("veth1", "10.0.0.9/24"), state=s)
    assert routes(s) == [("10.0.0.0/24", "veth1", None)]
    r = s.netns[ROOT].routes[0]
    assert (r.proto, r.scope, r.src) == ("kernel", "link", "10.0.0.1")


def test_down_removes_routes_and_up_restores_only_connected():
    s = build(PAIR, UP1, UP2, AddrAdd("veth1", "10.0.0.1/24"), RouteAdd("10.9.0.0/16", via="10.0.0.2"))
    assert len(routes(s)) == 2
    s = apply(s, LinkSet("veth1", up=False))
    assert routes(s) == []
    s = apply(s, UP1)
    assert routes(s) == [("10.0.0.0/24", "veth1", None)]


def test_last_address_takes_every_route_through_the_link():
    s = build(PAIR, UP1, UP2, AddrAdd("veth1", "10.0.0.1/24"), RouteAdd("10.9.0.0/16", dev="veth1"),
              AddrDel("veth1", "10.0.0.1/24"))
    assert routes(s) == []


def test_flush_removes_ipv4_and_ipv6():
    s = build(PAIR, UP1, UP2, AddrAdd("veth1", "10.0.0.1/24"), AddrFlush("veth1"))
    assert addrs(s, "veth1") == [] and routes(s) == []


def test_broadcast_plus_and_bare_address():
    s = build(PAIR, AddrAdd("veth1", "10.0.0.1/24", broadcast="+"), AddrAdd("veth1", "192.168.7.7"))
    ns = s.netns[ROOT]
    got = [(a.cidr, a.broadcast) for a in ns.addrs]
    assert got == [("10.0.0.1/24", "10.0.0.255"), ("192.168.7.7/32", None)]


# ------------------------------------------------------------------------- routes
def test_gateway_needs_a_connected_route_unless_onlink():
    s = build(PAIR, UP1, UP2, AddrAdd("veth1", "10.0.0.1/24"))
    fails(s, RouteAdd("default", via="10.9.9.9"), "Error: Nexthop has invalid gateway.", errno.ENETUNREACH, 2)
    fails(s, RouteAdd("10.3.0.0/16", via="10.0.0.2", dev="veth2"), "Error: Nexthop has invalid gateway.",
          errno.ENETUNREACH, 2)
    s2 = apply(s, RouteAdd("10.5.0.0/16", via="10.9.9.9", dev="veth1", onlink=True))
    assert ("10.5.0.0/16", "veth1", "10.9.9.9") in routes(s2)


def test_gateway_on_a_link_without_carrier_is_fine():
    s = build(NetnsAdd("red"), LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"),
              AddrAdd("veth2", "10.0.0.2/24", netns="red"), LinkSet("veth2", netns="red", up=True),
              RouteAdd("default", netns="red", via="10.0.0.1"))
    assert routes(s, "red")[-1] == ("default", "veth2", "10.0.0.1")


def test_route_errors():
    s = build(PAIR, UP1, UP2, AddrAdd("veth1", "10.0.0.1/24"), RouteAdd("10.1.0.0/16", via="10.0.0.2"))
    fails(s, RouteAdd("10.1.0.0/16", via="10.0.0.2"), "RTNETLINK answers: File exists", errno.EEXIST, 2)
    fails(s, RouteDel("10.2.0.0/16"), "RTNETLINK answers: No such process", errno.ESRCH, 2)
    fails(s, RouteAdd("10.1.0.0/16", dev="nope"), 'Cannot find device "nope"', errno.ENODEV, 1)
    fails(s, RouteAdd("10.0.0.1/24", dev="veth1"), "Error: Invalid prefix for given prefix length.",
          errno.EINVAL, 2)
    fails(s, RouteAdd("10.7.0.0/16", dev="veth1", src="10.9.9.9"), "Error: Invalid prefsrc address.",
          errno.EINVAL, 2)
    fails(s, RouteAdd("10.7.0.0/16"), "RTNETLINK answers: No such device", errno.ENODEV, 2)
    fails(s, RouteAdd("10.7.0.0/16", via="10.0.0.9", onlink=True), "Error: Nexthop device required for onlink.",
          errno.EINVAL, 2)
    s2 = apply(s, LinkSet("veth2", up=False))
    s2 = apply(s2, LinkSet("veth1", up=False))
    fails(s2, RouteAdd("10.7.0.0/16", dev="veth1"), "Error: Device for nexthop is not up.", errno.ENETDOWN, 2)


# ------------------------------------------------------------------------- bridges
def test_bridge_takes_the_lowest_port_mac_until_set():
    s = build(LinkAdd("br0", "bridge"), PAIR, LinkAdd("veth3", "veth", peer="veth4"),
              LinkSet("veth1", mac="02:00:00:00:00:09"), LinkSet("veth3", mac="02:00:00:00:00:01"),
              LinkSet("veth1", master="br0"))
    assert link(s, "br0").mac == "02:00:00:00:00:09"
    s = apply(s, LinkSet("veth3", master="br0"))
    assert link(s, "br0").mac == "02:00:00:00:00:01"
    s = apply(s, LinkSet("veth3", mac="02:00:00:00:00:0a"))
    assert link(s, "br0").mac == "02:00:00:00:00:09"
    s = build(LinkSet("veth1", master=""), LinkSet("veth3", master=""), state=s)
    assert link(s, "br0").mac == "00:00:00:00:00:00"
    s = build(LinkSet("br0", mac="02:00:00:00:00:05"), LinkSet("veth1", master="br0"), state=s)
    assert link(s, "br0").mac == "02:00:00:00:00:05"


def test_bridge_mtu_follows_smallest_port_until_set():
    s = build(LinkAdd("br0", "bridge", mtu=1400), LinkAdd("veth1", "veth", peer="veth2", mtu=9000),
              LinkSet("veth1", master="br0"))
    assert link(s, "br0").mtu == 9000  # an MTU given at creation is not "set by hand"
    s = build(LinkSet("br0", mtu=1400), LinkSet("veth1", mtu=8000), state=s)
    assert link(s, "br0").mtu == 1400


def test_bridge_carrier_before_and_after_ports():
    s = build(LinkAdd("br0", "bridge"), LinkSet("br0", up=True))
    state = lambda s: derive.operstate(s, s.netns[ROOT], link(s, "br0"))  # noqa: E731
    assert state(s) == "UNKNOWN" and derive.carrier(s, s.netns[ROOT], link(s, "br0"))
    s = build(PAIR, LinkSet("veth1", master="br0"), state=s)
    assert state(s) == "DOWN"
    s = build(UP1, UP2, state=s)
    assert state(s) == "UP"
    assert derive.port_state(s, s.netns[ROOT], link(s, "veth1")) == "forwarding"
    s = build(LinkSet("veth1", master=""), LinkSet("br0", up=False), LinkSet("br0", up=True), state=s)
    assert state(s) == "DOWN"


def test_forwarding_port_learns_its_peer_and_forgets_when_disabled():
    s = build(LinkAdd("br0", "bridge"), PAIR, LinkSet("veth1", master="br0"), LinkSet("br0", up=True), UP1, UP2)
    ns = s.netns[ROOT]
    assert [(ns.links[f.ifindex].ifname, f.mac) for f in ns.fdb] == [("veth1", link(s, "veth2").mac)]
    s = apply(s, LinkSet("br0", up=False))
    assert s.netns[ROOT].fdb == ()


def test_enslave_errors():
    s = build(PAIR, LinkAdd("veth3", "veth", peer="veth4"), LinkAdd("br0", "bridge"))
    fails(s, LinkSet("veth1", master="veth3"), "RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP, 2)
    fails(s, LinkSet("br0", master="br0"), "Error: Can not enslave a bridge to a bridge.", errno.ELOOP, 2)
    fails(s, LinkSet("lo", master="br0"), "RTNETLINK answers: Invalid argument", errno.EINVAL, 2)
    fails(s, LinkSet("veth1", master="x"), 'Error: argument "x" is wrong: Device does not exist\n\n',
          errno.EINVAL, 255)
    fails(s, LinkSet("x", master="br0"), 'Cannot find device "x"', errno.ENODEV, 1)
    fails(s, LinkSet("veth1", hairpin=True), "RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP, 255)
    s = build(LinkSet("veth1", master="br0"), LinkSet("veth1", master="br0"), state=s)  # again: silent
    assert link(s, "veth1").master == link(s, "br0").ifindex and link(s, "veth1").port_no == 1


# --------------------------------------------------------------- link errors
def test_link_add_errors():
    s = build(PAIR, LinkAdd("br0", "bridge"))
    exists = "RTNETLINK answers: File exists"
    fails(s, LinkAdd("veth1", "veth", peer="veth3"), exists, errno.EEXIST, 2)
    fails(s, LinkAdd("veth3", "veth", peer="veth2"), exists, errno.EEXIST, 2)
    fails(s, LinkAdd("veth2", "bridge"), exists, errno.EEXIST, 2)
    fails(s, LinkAdd("veth5", "veth", peer="veth5"), exists, errno.EEXIST, 2)
    fails(s, LinkAdd("veth1abcdefghijk", "veth", peer="veth9"), "Error: Attribute failed policy validation.",
          errno.ERANGE, 2)
    fails(s, LinkAdd("a:b", "bridge"), "RTNETLINK answers: Invalid argument", errno.EINVAL, 2)
    fails(s, LinkAdd("x", "frob"), "Error: Unknown device type.", errno.EOPNOTSUPP, 2)
    fails(s, LinkAdd("x", "veth", peer="y", peer_netns="nope"), 'Error: argument "nope" is wrong: Invalid "netns" value\n\n',
          errno.EINVAL, 255)
    fails(s, LinkAdd("x", "veth", mac="zz"), '"zz" is invalid lladdr.', errno.EINVAL, 1)
    fails(s, LinkAdd("x", "veth", mac="02:00:zz:00:00:01"), '"zz" is invalid lladdr.', errno.EINVAL, 1)
    fails(s, LinkAdd("x", "veth", mac="02:00"), "RTNETLINK answers: Invalid argument", errno.EINVAL, 2)
    fails(s, LinkAdd("x", "veth", peer="veth3abcdefghijk"),
          'Error: argument "veth3abcdefghijk" is wrong: "name" not a valid ifname', errno.EINVAL, 255)
    fails(s, LinkAdd("x", "veth", mac="01:00:00:00:00:01"), "RTNETLINK answers: Cannot assign requested address",
          errno.EADDRNOTAVAIL, 2)
    fails(s, LinkAdd("x", "veth", netns="nope"), 'Cannot open network namespace "nope": No such file or directory',
          errno.ENOENT, 255)


def test_link_set_errors():
    s = build(NetnsAdd("blue"), PAIR, LinkAdd("veth1", "veth", peer="veth9", netns="blue"))
    fails(s, LinkSet("x", up=True), 'Cannot find device "x"', errno.ENODEV, 1)
    fails(s, LinkSet("veth1", mtu=70000), "Error: mtu greater than device maximum.", errno.EINVAL, 2)
    fails(s, LinkSet("veth1", mtu=60), "Error: mtu less than device minimum.", errno.EINVAL, 2)
    fails(s, LinkSet("veth1", name="veth2"), "RTNETLINK answers: File exists", errno.EEXIST, 2)
    fails(s, LinkSet("veth1", name="eth0123456789abcd"),
          'Error: argument "eth0123456789abcd" is wrong: "name" not a valid ifname', errno.EINVAL, 255)
    fails(s, LinkSet("veth1", to_netns="nope"), 'Error: argument "nope" is wrong: Invalid "netns" value\n\n',
          errno.EINVAL, 255)
    fails(s, LinkSet("veth1", to_netns="blue"),
          "Error: An interface with the same name exists in the target netns.", errno.EEXIST, 2)
    fails(s, LinkSet("veth1", mac="01:00:00:00:00:01"), "RTNETLINK answers: Cannot assign requested address",
          errno.EADDRNOTAVAIL, 2)
    fails(s, LinkDel("lo"), "RTNETLINK answers: Operation not supported", errno.EOPNOTSUPP, 2)
    fails(s, LinkDel("x"), 'Cannot find device "x"', errno.ENODEV, 1)


def test_rename_while_up_is_allowed():
    s = build(PAIR, UP1, LinkSet("veth1", name="eth0"))
    assert link(s, "eth0").up and s.netns[ROOT].link("veth1") is None


# --------------------------------------------------------------- other errors
def test_address_errors():
    s = build(PAIR, AddrAdd("veth1", "10.0.0.1/24"))
    fails(s, AddrAdd("veth1", "10.0.0.1/24"), "Error: ipv4: Address already assigned.", errno.EEXIST, 2)
    fails(s, AddrAdd("veth1", "10.0.0.2/24", scope="host"), "Error: ipv4: Invalid scope value.", errno.EINVAL, 2)
    fails(s, AddrDel("veth1", "10.0.0.7/24"), "Error: ipv4: Address not found.", errno.EADDRNOTAVAIL, 2)
    fails(s, AddrAdd("veth1", "10.0.0.300/24"), 'Error: any valid prefix is expected rather than "10.0.0.300/24".',
          errno.EINVAL, 1)
    fails(s, AddrAdd("x", "10.0.0.1/24"), 'Cannot find device "x"', errno.ENODEV, 1)
    s = apply(s, AddrAdd("veth1", "2001:db8::1/64"))
    fails(s, AddrAdd("veth1", "2001:db8::1/64"), "Error: ipv6: address already assigned.", errno.EEXIST, 2)
    fails(s, AddrDel("veth1", "2001:db8::7/64"), "Error: ipv6: address not found.", errno.EADDRNOTAVAIL, 2)
    assert apply(s, AddrAdd("veth1", "10.0.0.1/16"))  # another prefix: allowed
    assert apply(s, AddrAdd("veth2", "10.0.0.1/24"))  # another link: allowed


def test_netns_errors():
    s = build(NetnsAdd("red"))
    fails(s, NetnsAdd("red"), 'Cannot create namespace file "/run/netns/red": File exists', errno.EEXIST, 1)
    fails(s, NetnsDel("blue"), 'Cannot remove namespace file "/run/netns/blue": No such file or directory',
          errno.ENOENT, 1)
    fails(s, NetnsAdd("a/b"), 'Invalid netns name "a/b"', errno.EINVAL, 255)
    fails(s, LinkSet("lo", netns="x", up=True), 'Cannot open network namespace "x": No such file or directory',
          errno.ENOENT, 255)


def test_sysctl_and_iptables():
    s = build(NetnsAdd("red"), SysctlSet("net.ipv4.ip_forward", "1", netns="red"),
              Iptables("nat", ("-N", "DOCKER"), netns="red"), Iptables("nat", ("-A", "DOCKER", "-j", "RETURN"), netns="red"))
    assert s.netns["red"].sysctls["net.ipv4.ip_forward"] == "1"
    assert s.netns["red"].iptables["nat"] == ("-N DOCKER", "-A DOCKER -j RETURN")
    fails(s, SysctlSet("kernel.foo", "1"), "sysctl: cannot stat /proc/sys/kernel/foo: No such file or directory",
          errno.ENOENT, 1)
    fails(s, Iptables("nat", ("-X", "DOCKER"), netns="red"),
          "iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain DOCKER", errno.EBUSY, 4)


def test_link_evolve_covers_every_field():
    """Link.evolve() is a hand-written replace(): it must know every field."""
    names = [f.name for f in dataclasses.fields(Link)]
    base = Link(1, "x", "veth", "02:00:00:00:00:01")
    for name in names:
        value = getattr(base, name)
        other = {bool: lambda v: not v, int: lambda v: v + 7, str: lambda v: v + "z",
                 tuple: lambda v: v + ("z",)}.get(type(value), lambda v: ("k", 3))(value)
        assert getattr(base.evolve(**{name: other}), name) == other, name
    assert base.evolve() == base
