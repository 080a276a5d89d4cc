"""The packet walk (simlab.model.forward.reach): a pure function of one snapshot."""

from __future__ import annotations

import copy

import pytest

from simlab.model import (
    ROOT,
    AddrAdd,
    Iptables,
    LinkAdd,
    LinkSet,
    NetnsAdd,
    RouteAdd,
    SysctlSet,
    apply_all,
    new_state,
)
from simlab.model.forward import reach, route_lookup


def pair():
    """Two namespaces joined by a veth: a 10.0.0.1/24 <-> b 10.0.0.2/24."""
    return apply_all(new_state(), [
        NetnsAdd("a"), NetnsAdd("b"),
        LinkAdd("va", "veth", netns="a", peer="vb", peer_netns="b"),
        AddrAdd("va", "10.0.0.1/24", netns="a"), AddrAdd("vb", "10.0.0.2/24", netns="b"),
        LinkSet("va", netns="a", up=True), LinkSet("vb", netns="b", up=True),
    ])


ENDS = (("r", "ra"), ("r", "rb"), ("a", "eth0"), ("b", "eth0"))


def router(forward: str = "1"):
    """a (10.0.1.2) -- r -- b (10.0.2.2), each end with a default route via r."""
    return apply_all(new_state(), [
        NetnsAdd("a"), NetnsAdd("r"), NetnsAdd("b"),
        LinkAdd("ra", "veth", netns="r", peer="eth0", peer_netns="a"),
        LinkAdd("rb", "veth", netns="r", peer="eth0", peer_netns="b"),
        AddrAdd("ra", "10.0.1.1/24", netns="r"), AddrAdd("rb", "10.0.2.1/24", netns="r"),
        AddrAdd("eth0", "10.0.1.2/24", netns="a"), AddrAdd("eth0", "10.0.2.2/24", netns="b"),
        *[LinkSet(d, netns=n, up=True) for n, d in ENDS],
        RouteAdd("default", netns="a", via="10.0.1.1"),
        RouteAdd("default", netns="b", via="10.0.2.1"),
        SysctlSet("net.ipv4.ip_forward", forward, netns="r"),
    ])


def bridged():
    """Three namespaces on one bridge br0 in the node (10.1.0.0/24, br0 is .1)."""
    ops = [LinkAdd("br0", "bridge"), AddrAdd("br0", "10.1.0.1/24"), LinkSet("br0", up=True)]
    for i, name in enumerate(("c1", "c2", "c3"), start=2):
        ops += [NetnsAdd(name), LinkAdd(f"h{name}", "veth", peer="eth0", peer_netns=name),
                LinkSet(f"h{name}", master="br0"), LinkSet(f"h{name}", up=True),
                AddrAdd("eth0", f"10.1.0.{i}/24", netns=name), LinkSet("eth0", netns=name, up=True)]
    return apply_all(new_state(), ops)


def actions(walk):
    return [h.action for h in walk.hops]


def test_pure_function_does_not_change_the_snapshot():
    s = router()
    before = copy.deepcopy(s)
    reach(s, "a", "10.0.2.2")
    reach(s, "a", "192.0.2.9")
    assert s == before


def test_veth_pair_both_ways():
    w = reach(pair(), "a", "10.0.0.2")
    assert w.ok and w.reply_ok and not w.error
    assert w.src == "10.0.0.1" and w.seen_src == "10.0.0.1"
    assert w.delivered == ("b", "vb")
    assert actions(w) == ["route", "arp", "veth", "deliver"]
    assert "comes out of its peer vb" in w.hops[2].en
    assert w.hops[2].ja and w.hops[2].ja != w.hops[2].en


def test_no_route_is_network_unreachable():
    w = reach(pair(), "a", "192.0.2.1")
    assert not w.ok and w.error == "Network is unreachable"
    assert w.hops[-1].action == "drop" and "ENETUNREACH" in w.hops[-1].en


def test_a_namespace_with_only_lo_reaches_nothing_but_itself():
    s = apply_all(new_state(), [NetnsAdd("none"), LinkSet("lo", netns="none", up=True)])
    assert reach(s, "none", "172.17.0.1").error == "Network is unreachable"
    assert reach(s, "none", "127.0.0.1").ok


def test_own_address_loops_back_through_lo():
    s = apply_all(pair(), [LinkSet("lo", netns="a", up=True)])
    w = reach(s, "a", "10.0.0.1")
    assert w.ok and w.reply_ok and w.delivered == ("a", "lo")
    # with lo down the kernel drops it silently (tests/test_ping.py checks this on the kernel)
    w = reach(pair(), "a", "10.0.0.1")
    assert not w.ok and w.error == "dropped: lo is down"


def test_arp_without_answer_is_host_unreachable():
    w = reach(pair(), "a", "10.0.0.99")
    assert not w.ok and w.error == "Destination Host Unreachable"


def test_peer_down_means_no_carrier():
    s = apply_all(pair(), [LinkSet("vb", netns="b", up=False)])
    w = reach(s, "a", "10.0.0.2")
    assert not w.ok and w.error == "no carrier"


def test_routing_through_a_namespace_needs_ip_forward():
    w = reach(router("1"), "a", "10.0.2.2")
    assert w.ok and w.reply_ok
    assert "forward" in actions(w)
    off = reach(router("0"), "a", "10.0.2.2")
    assert not off.ok and off.error == "dropped: ip_forward is 0 in r"


def test_transit_without_route_answers_net_unreachable():
    w = reach(router(), "a", "192.0.2.7")  # a's default goes to r, r has no route for it
    assert not w.ok and w.error == "Destination Net Unreachable"
    assert w.hops[-1].netns == "r"


def test_bridge_forwards_between_ports_and_learns():
    w = reach(bridged(), "c1", "10.1.0.3")
    assert w.ok and w.reply_ok and w.delivered == ("c2", "eth0")
    bridge_hops = [h for h in w.hops if h.action == "bridge"]
    assert len(bridge_hops) == 1
    assert "learns" in bridge_hops[0].en and "hc2" in bridge_hops[0].en
    assert bridge_hops[0].netns == ROOT and bridge_hops[0].dev == "br0"


def test_bridge_passes_its_own_address_up():
    w = reach(bridged(), "c3", "10.1.0.1")
    assert w.ok and w.delivered == (ROOT, "br0")
    assert "bridge's own MAC" in [h for h in w.hops if h.action == "bridge"][0].en


def test_masquerade_rewrites_the_source_and_conntrack_brings_the_answer_back():
    s = apply_all(router(), [Iptables("nat", ("-A", "POSTROUTING", "-s", "10.0.1.0/24", "-o", "rb",
                                              "-j", "MASQUERADE"), netns="r")])
    w = reach(s, "a", "10.0.2.2")
    assert w.ok and w.reply_ok
    assert w.src == "10.0.1.2" and w.seen_src == "10.0.2.1"
    assert any(h.action == "conntrack" for h in w.reply_hops)


def test_without_masquerade_the_answer_has_no_way_back():
    # b knows no route to a's subnet: only the rewritten source makes the answer possible.
    s = apply_all(new_state(), [
        NetnsAdd("a"), NetnsAdd("r"), NetnsAdd("b"),
        LinkAdd("ra", "veth", netns="r", peer="eth0", peer_netns="a"),
        LinkAdd("rb", "veth", netns="r", peer="eth0", peer_netns="b"),
        AddrAdd("ra", "10.0.1.1/24", netns="r"), AddrAdd("rb", "10.0.2.1/24", netns="r"),
        AddrAdd("eth0", "10.0.1.2/24", netns="a"), AddrAdd("eth0", "10.0.2.2/24", netns="b"),
        *[LinkSet(d, netns=n, up=True) for n, d in ENDS],
        RouteAdd("default", netns="a", via="10.0.1.1"),
        SysctlSet("net.ipv4.ip_forward", "1", netns="r"),
    ])
    w = reach(s, "a", "10.0.2.2")
    assert w.ok and not w.reply_ok and w.reply_error == "Network is unreachable"
    rule = ("-A", "POSTROUTING", "-o", "rb", "-j", "MASQUERADE")
    masq = apply_all(s, [Iptables("nat", rule, netns="r")])
    assert reach(masq, "a", "10.0.2.2").reply_ok


def test_dnat_in_prerouting_rewrites_the_destination_and_the_answer_source():
    rule = ("-A", "PREROUTING", "-p", "tcp", "-m", "tcp", "--dport", "8080",
            "-j", "DNAT", "--to-destination", "10.0.2.2:80")
    s = apply_all(router(), [Iptables("nat", rule, netns="r")])
    w = reach(s, "a", "10.0.1.1", "tcp", 8080)
    assert w.ok and w.reply_ok
    assert (w.seen_dst, w.seen_dport) == ("10.0.2.2", 80)
    assert w.delivered == ("b", "eth0")
    # ICMP does not match a tcp rule: the router itself answers.
    assert reach(s, "a", "10.0.1.1").delivered == ("r", "ra")


def test_filter_drop_in_forward():
    rule = ("-A", "FORWARD", "-d", "10.0.2.2/32", "-j", "DROP")
    s = apply_all(router(), [Iptables("filter", rule, netns="r")])
    w = reach(s, "a", "10.0.2.2")
    assert not w.ok and w.error == "dropped by filter FORWARD"


def test_longest_prefix_wins():
    s = apply_all(router(), [RouteAdd("10.0.2.0/25", netns="a", via="10.0.1.1", metric=5)])
    ns = s.netns["a"]
    assert route_lookup(ns, "10.0.2.2").dst == "10.0.2.0/25"
    assert route_lookup(ns, "10.0.2.200").dst == "default"


def test_bad_arguments():
    with pytest.raises(ValueError):
        reach(pair(), "a", "10.0.0.2", proto="sctp")
    with pytest.raises(ValueError):
        reach(pair(), "a", "10.0.0.2", proto="tcp")
    with pytest.raises(ValueError):
        reach(pair(), "a", "not-an-ip")


def test_walk_text_has_every_hop():
    w = reach(router(), "a", "10.0.2.2")
    text = str(w)
    assert text.splitlines()[0] == "10.0.1.2 -> 10.0.2.2 (icmp): ok, and the reply comes back"
    assert len(text.splitlines()) == 1 + len(w.hops) + len(w.reply_hops)
    assert all(line for line in w.lines("ja"))


# ------------------------------------------------------------ the packet view
def wire(walk, leg=None):
    """(netns, dev, way, src IP, dst IP, TTL) of each record (of one leg)."""
    return [(s.netns, s.dev, s.way, s.src_ip, s.dst_ip, s.ttl) for s in walk.seen
            if leg is None or s.leg == leg]


def mac(state, key, ifname):
    return state.netns[key].link(ifname).mac


def test_seen_on_a_veth_pair_out_on_one_end_in_on_the_other():
    s = pair()
    w = reach(s, "a", "10.0.0.2")
    assert wire(w) == [("a", "va", "out", "10.0.0.1", "10.0.0.2", 64),
                       ("b", "vb", "in", "10.0.0.1", "10.0.0.2", 64),
                       ("b", "vb", "out", "10.0.0.2", "10.0.0.1", 64),
                       ("a", "va", "in", "10.0.0.2", "10.0.0.1", 64)]
    va, vb = mac(s, "a", "va"), mac(s, "b", "vb")
    assert [(x.src_mac, x.dst_mac) for x in w.seen] == [(va, vb)] * 2 + [(vb, va)] * 2
    assert [x.leg for x in w.seen] == ["request"] * 2 + ["reply"] * 2
    out, arrived = w.seen[0], w.seen[1]
    assert out.rule == "10.0.0.0/24 dev va proto kernel scope link src 10.0.0.1"
    assert w.hops[out.hop].action == "route"
    assert arrived.rule == f"10.0.0.2 dev va lladdr {vb} REACHABLE"
    assert w.hops[arrived.hop].action == "veth"
    assert w.reply_hops[w.seen[2].hop].action == "route"


def test_seen_through_a_router_loses_one_ttl_and_changes_macs():
    s = router()
    w = reach(s, "a", "10.0.2.2")
    assert wire(w, "request") == [("a", "eth0", "out", "10.0.1.2", "10.0.2.2", 64),
                                  ("r", "ra", "in", "10.0.1.2", "10.0.2.2", 64),
                                  ("r", "rb", "out", "10.0.1.2", "10.0.2.2", 63),
                                  ("b", "eth0", "in", "10.0.1.2", "10.0.2.2", 63)]
    assert [x.ttl for x in w.seen if x.leg == "reply"] == [64, 64, 63, 63]
    routed = w.seen[2]
    assert (routed.src_mac, routed.dst_mac) == (mac(s, "r", "rb"), mac(s, "b", "eth0"))
    assert w.hops[routed.hop].action == "forward"
    assert routed.rule == "10.0.2.0/24 dev rb proto kernel scope link src 10.0.2.1"
    assert w.seen[0].rule == "default via 10.0.1.1 dev eth0"


def test_seen_on_a_bridge_port_to_port_and_up_to_the_bridge():
    s = bridged()
    across = reach(s, "c1", "10.1.0.3")
    assert [(x.netns, x.dev, x.way) for x in across.seen if x.leg == "request"] == [
        ("c1", "eth0", "out"), (ROOT, "hc1", "in"), (ROOT, "hc2", "out"), ("c2", "eth0", "in")]
    fwd = across.seen[2]
    assert fwd.rule == f"{mac(s, 'c2', 'eth0')} dev hc2 master br0"
    assert across.hops[fwd.hop].action == "bridge"
    up = reach(s, "c1", "10.1.0.1")
    assert [(x.netns, x.dev, x.way, x.leg) for x in up.seen] == [
        ("c1", "eth0", "out", "request"), (ROOT, "hc1", "in", "request"),
        (ROOT, "br0", "in", "request"),
        (ROOT, "br0", "out", "reply"), (ROOT, "hc1", "out", "reply"), ("c1", "eth0", "in", "reply")]
    br0 = s.netns[ROOT].link("br0")
    owner = next(p for p in s.netns[ROOT].links.values() if p.master == br0.ifindex
                 and p.mac == br0.mac)  # the bridge took its lowest port's MAC
    assert up.seen[2].rule == f"{br0.mac} dev {owner.ifname} master br0 permanent"


def test_seen_to_the_own_address_loops_through_lo():
    s = apply_all(pair(), [LinkSet("lo", netns="b", up=True)])
    w = reach(s, "b", "10.0.0.2")
    assert wire(w) == [("b", "lo", way, "10.0.0.2", "10.0.0.2", 64)
                       for way in ("out", "in") * 2]
    assert {x.src_mac for x in w.seen} == {"00:00:00:00:00:00"}
    assert w.seen[0].rule == "local 10.0.0.2 dev vb proto kernel scope host src 10.0.0.2"


def test_seen_shows_masquerade_on_the_way_out_and_conntrack_on_the_way_back():
    rule = ("-A", "POSTROUTING", "-s", "10.0.1.0/24", "-o", "rb", "-j", "MASQUERADE")
    s = apply_all(router(), [Iptables("nat", rule, netns="r")])
    w = reach(s, "a", "10.0.2.2")
    assert wire(w) == [("a", "eth0", "out", "10.0.1.2", "10.0.2.2", 64),
                       ("r", "ra", "in", "10.0.1.2", "10.0.2.2", 64),
                       ("r", "rb", "out", "10.0.2.1", "10.0.2.2", 63),  # after POSTROUTING
                       ("b", "eth0", "in", "10.0.2.1", "10.0.2.2", 63),
                       ("b", "eth0", "out", "10.0.2.2", "10.0.2.1", 64),
                       ("r", "rb", "in", "10.0.2.2", "10.0.2.1", 64),  # before conntrack
                       ("r", "ra", "out", "10.0.2.2", "10.0.1.2", 63),
                       ("a", "eth0", "in", "10.0.2.2", "10.0.1.2", 63)]
    masq, back = w.seen[2], w.seen[6]
    assert masq.rule == "-A POSTROUTING -s 10.0.1.0/24 -o rb -j MASQUERADE"
    assert w.hops[masq.hop].action == "nat"
    assert back.rule == "icmp src=10.0.1.2 dst=10.0.2.2 src=10.0.2.2 dst=10.0.2.1"
    assert w.reply_hops[back.hop].action == "conntrack"


def test_seen_shows_dnat_after_the_router_and_its_reversal():
    rule = ("-A", "PREROUTING", "-p", "tcp", "-m", "tcp", "--dport", "8080",
            "-j", "DNAT", "--to-destination", "10.0.2.2:80")
    s = apply_all(router(), [Iptables("nat", rule, netns="r")])
    w = reach(s, "a", "10.0.1.1", "tcp", 8080)
    assert wire(w) == [("a", "eth0", "out", "10.0.1.2", "10.0.1.1", 64),
                       ("r", "ra", "in", "10.0.1.2", "10.0.1.1", 64),  # before PREROUTING
                       ("r", "rb", "out", "10.0.1.2", "10.0.2.2", 63),
                       ("b", "eth0", "in", "10.0.1.2", "10.0.2.2", 63),
                       ("b", "eth0", "out", "10.0.2.2", "10.0.1.2", 64),
                       ("r", "rb", "in", "10.0.2.2", "10.0.1.2", 64),
                       ("r", "ra", "out", "10.0.1.1", "10.0.1.2", 63),  # the answer from .1
                       ("a", "eth0", "in", "10.0.1.1", "10.0.1.2", 63)]
    assert {x.proto for x in w.seen} == {"tcp"}
    assert w.seen[2].rule == " ".join(("-A", "PREROUTING", "-p", "tcp", "-m", "tcp", "--dport",
                                      "8080", "-j", "DNAT", "--to-destination", "10.0.2.2:80"))
    assert w.seen[6].rule == ("tcp src=10.0.1.2 dst=10.0.1.1 sport=40000 dport=8080 "
                              "src=10.0.2.2 dst=10.0.1.2 sport=80 dport=40000")


@pytest.mark.parametrize("state, dst", [
    (router("0"), "10.0.2.2"),  # not forwarded
    (apply_all(router(), [Iptables("filter", ("-A", "FORWARD", "-j", "DROP"), netns="r")]),
     "10.0.2.2"),  # filter FORWARD drops it
    (router(), "10.0.2.9"),  # r's ARP is not answered: never sent on rb
], ids=["ip_forward-0", "filter-drop", "arp-unanswered"])
def test_seen_stops_where_the_packet_is_dropped(state, dst):
    w = reach(state, "a", dst)
    assert not w.ok
    assert wire(w) == [("a", "eth0", "out", "10.0.1.2", dst, 64),
                       ("r", "ra", "in", "10.0.1.2", dst, 64)]


def test_nothing_is_seen_when_nothing_is_sent():
    assert reach(router(), "a", "10.0.1.9").seen == ()  # ARP unanswered: the packet waits, dropped
    assert reach(pair(), "a", "192.0.2.1").seen == ()  # no route
