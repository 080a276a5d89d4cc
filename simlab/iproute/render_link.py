"""`ip link` and `ip addr` as iproute2 6.1 prints them (text, ``-br``, ``-d``, ``-j``).

Everything here is a pure function of a snapshot.  The formats follow this
machine's `ip` (see tests/golden); where the talk's slides show an older
iproute2 (``qlen 1`` on ``lo``, no ``group default``, ``promiscuity 0`` alone
in ``-d``), the modern text is printed.  The tunnel fallback devices
(``tunl0@NONE``, ``sit0@NONE``, ``ip6tnl0@NONE``) use the slides' ``-d`` detail
words inside the modern frame; their MTU limits are not captured on this
machine (its kernel lacks the tunnel modules).
"""

from __future__ import annotations

import dataclasses
import errno
import fnmatch
import ipaddress

from ..i18n import say
from ..model import derive
from ..model.checks import mtu_range
from ..model.errors import NetError, UsageError
from ..model.state import ROOT, Addr, Link, NetState, Netns
from .command import AddrShow, IpOptions, LinkShow
from .jsonw import Fixed, dumps

__all__ = ["render_links", "select_links", "named_link", "at_name", "VETH_QUEUES"]

#: num_possible_cpus() of the machine the goldens were captured on: a veth
#: gets one tx/rx queue per possible CPU (tests/golden/README.md).
VETH_QUEUES = 2
_TAIL = ("gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 "
         "tso_max_segs 65535 gro_max_size 65536 ")
_TAIL_JSON = {"gso_max_size": 65536, "gso_max_segs": 65535, "tso_max_size": 524280,
              "tso_max_segs": 65535, "gro_max_size": 65536}
_LINK_TYPE = {"loopback": "loopback", "veth": "ether", "bridge": "ether",
              "ipip": "ipip", "sit": "sit", "ip6tnl": "tunnel6"}
_TUNNEL_ADDR = {"ipip": "0.0.0.0", "sit": "0.0.0.0", "ip6tnl": "::"}
#: The slides' `ip -d` words for the fallback tunnels.
_TUNNEL_DETAIL = {
    "ipip": "ipip any remote any local any ttl inherit nopmtudisc ",
    "sit": "sit remote any local any ttl 64 nopmtudisc 6rd-prefix 2002::/16 ",
    "ip6tnl": ("ip6tnl ip6ip6 remote :: local :: encaplimit 0 hoplimit 0 tclass 0x00 "
               "flowlabel 0x00000 (flowinfo 0x00000000) "),
}
_TUNNELS = ("ipip", "sit", "ip6tnl")


# ------------------------------------------------------------------ selection
def select_links(state: NetState, ns: Netns, flt: LinkShow) -> list[Link]:
    """The links `ip link show` / `ip addr show` list with these selectors, by ifindex."""
    links = sorted(ns.links.values(), key=lambda l: l.ifindex)
    if flt.dev is not None:
        link = ns.link(flt.dev)
        if link is None:
            raise NetError(f'Device "{flt.dev}" does not exist.', errno=errno.ENODEV, exit=1,
                           hint=say(f"there is no link called {flt.dev!r} here; list them with `ip link`",
                                    f"ここには {flt.dev!r} というリンクはありません。`ip link` で一覧できます"))
        links = [link]
    if flt.master is not None:
        master = named_link(ns, flt.master, f'Error: argument "{flt.master}" is wrong: Device does not exist\n\n')
        links = [l for l in links if l.master == master.ifindex]
    if flt.nomaster:
        links = [l for l in links if l.master is None]
    if flt.up:
        links = [l for l in links if l.up]
    if flt.kind is not None:
        links = [l for l in links if _info_kind(l) == flt.kind]
    if flt.slave_kind is not None:
        links = [l for l in links if flt.slave_kind == "bridge" and l.master is not None]
    return links


def named_link(ns: Netns, name: str, message: str) -> Link:
    """The link called ``name``; without one, the tool's ``message`` (exit 255)."""
    link = ns.link(name)
    if link is None:
        raise NetError(message, errno=errno.ENODEV, exit=255,
                       hint=say(f"there is no link called {name!r} here", f"ここには {name!r} というリンクはありません"))
    return link


def _info_kind(link: Link) -> str | None:
    return None if link.kind == "loopback" else link.kind


# ------------------------------------------------------------------ pieces
def at_name(state: NetState, ns: Netns, link: Link, local_lookup: bool = False) -> tuple[str | None, bool, dict]:
    """What follows the name: ("@veth2" or "@if2" or "@NONE" or None, M-DOWN, JSON keys).

    ``local_lookup``: resolve the peer's ifindex among the links of *this*
    namespace whatever namespace the peer is in, as `bridge link` and
    `ip -6 addr` do (they get no IFLA_LINK_NETNSID).
    """
    if link.kind in _TUNNELS:
        return "@NONE", False, {"link": None}
    if link.peer is None:
        return None, False, {}
    pkey, pindex = link.peer
    if local_lookup or pkey == ns.name:
        if local_lookup and pindex == link.ifindex:
            return None, False, {}
        local = ns.links.get(pindex)
        if local is None:
            return f"@if{pindex}", False, {"link_index": pindex}
        return f"@{local.ifname}", not local.up, {"link": local.ifname}
    return f"@if{pindex}", False, {"link_index": pindex}


def _netns_suffix(state: NetState, ns: Netns, link: Link) -> tuple[str, dict]:
    """`` link-netns red`` for a named namespace, `` link-netnsid N`` for the node."""
    if link.peer is None or link.peer[0] == ns.name:
        return "", {}
    pkey = link.peer[0]
    nsid = ns.nsids.get(pkey)
    json_part = {"link_netnsid": nsid if nsid is not None else -1}
    if pkey != ROOT:
        return f" link-netns {pkey}", json_part
    if nsid is None:
        return " link-netnsid unassigned", json_part
    return f" link-netnsid {nsid}", json_part


def _flags(state: NetState, ns: Netns, link: Link, mdown: bool) -> list[str]:
    return derive.flags(state, ns, link, mdown=mdown)


def _address_words(link: Link) -> tuple[str, str]:
    if link.kind == "loopback":
        return "00:00:00:00:00:00", "00:00:00:00:00:00"
    if link.kind in _TUNNELS:
        return _TUNNEL_ADDR[link.kind], _TUNNEL_ADDR[link.kind]
    return link.mac, "ff:ff:ff:ff:ff:ff"


def _promiscuity(link: Link) -> tuple[int, int]:
    port = 1 if link.master is not None else 0
    return port + (1 if link.promisc else 0), port + (1 if link.allmulti else 0)


def _hex_mac(mac: str) -> str:
    """A MAC as the bridge id prints it: each byte with %x, no zero padding."""
    return ":".join(f"{int(b, 16):x}" for b in mac.split(":"))


def _timer(value: float) -> str:
    return f"{value:7.2f}"


def _tso_max(link: Link) -> int:
    """A bridge starts at GSO_LEGACY_MAX_SIZE and inherits its ports' limit (a veth's)."""
    return 65536 if link.kind == "bridge" and not link.had_ports else 524280


def _bridge_fields(link: Link) -> list[tuple[str, object, str]]:
    """(json key, json value, text) of a bridge's IFLA_INFO_DATA, in print order."""
    # The bridge id follows the MAC taken from a port or set by hand; a new bridge's is zero.
    bid = "8000." + _hex_mac(link.mac if link.had_ports or link.mac_set else "00:00:00:00:00:00")
    gc = 300.0 if link.up else 0.0
    rows = [("forward_delay", 1500, None), ("hello_time", 200, None), ("max_age", 2000, None),
            ("ageing_time", 30000, None), ("stp_state", 0, None), ("priority", 32768, None),
            ("vlan_filtering", 0, None), ("bridge_id", bid, None), ("root_id", bid, "designated_root"),
            ("root_port", 0, None), ("root_path_cost", 0, None), ("topology_change", 0, None),
            ("topology_change_detected", 0, None), ("hello_timer", Fixed(0), None),
            ("tcn_timer", Fixed(0), None), ("topology_change_timer", Fixed(0), None),
            ("gc_timer", Fixed(gc), None), ("group_fwd_mask", "0", None),
            ("group_addr", "01:80:c2:00:00:00", "group_address"), ("mcast_snooping", 1, None),
            ("no_linklocal_learn", 0, None), ("mcast_vlan_snooping", 0, None), ("mcast_router", 1, None),
            ("mcast_query_use_ifaddr", 0, None), ("mcast_querier", 0, None),
            ("mcast_hash_elasticity", 16, None), ("mcast_hash_max", 4096, None),
            ("mcast_last_member_cnt", 2, "mcast_last_member_count"),
            ("mcast_startup_query_cnt", 2, "mcast_startup_query_count"),
            ("mcast_last_member_intvl", 100, "mcast_last_member_interval"),
            ("mcast_membership_intvl", 26000, "mcast_membership_interval"),
            ("mcast_querier_intvl", 25500, "mcast_querier_interval"),
            ("mcast_query_intvl", 12500, "mcast_query_interval"),
            ("mcast_query_response_intvl", 1000, "mcast_query_response_interval"),
            ("mcast_startup_query_intvl", 3124, "mcast_startup_query_interval"),
            ("mcast_stats_enabled", 0, None), ("mcast_igmp_version", 2, None),
            ("mcast_mld_version", 1, None), ("nf_call_iptables", 0, None),
            ("nf_call_ip6tables", 0, None), ("nf_call_arptables", 0, None)]
    out = []
    for key, value, text in rows:
        word = text or key
        shown = _timer(value) if isinstance(value, Fixed) else value
        out.append((key, value, f"{word} {shown}"))
    return out


def _slave_fields(state: NetState, ns: Netns, link: Link) -> list[tuple[str, object, str]]:
    """(json key, json value, text) of a bridge port's IFLA_INFO_SLAVE_DATA."""
    bridge = ns.links.get(link.master)
    bid = "8000." + _hex_mac(bridge.mac if bridge else "00:00:00:00:00:00")
    pstate = derive.port_state(state, ns, link)
    fwd = 15.0 if pstate == "forwarding" else 0.0
    onoff = {True: "on", False: "off"}
    rows = [("state", pstate, f"state {pstate}"), ("priority", 32, "priority 32"), ("cost", 2, "cost 2"),
            ("hairpin", link.hairpin, f"hairpin {onoff[link.hairpin]}"), ("guard", False, "guard off"),
            ("root_block", False, "root_block off"), ("fastleave", False, "fastleave off"),
            ("learning", link.learning, f"learning {onoff[link.learning]}"),
            ("flood", link.flood, f"flood {onoff[link.flood]}"),
            ("id", f"0x{0x8000 + link.port_no:x}", f"port_id 0x{0x8000 + link.port_no:x}"),
            ("no", f"0x{link.port_no:x}", f"port_no 0x{link.port_no:x}"),
            ("designated_port", 0x8000 + link.port_no, f"designated_port {0x8000 + link.port_no}"),
            ("designated_cost", 0, "designated_cost 0"),
            ("bridge_id", bid, f"designated_bridge {bid}"), ("root_id", bid, f"designated_root {bid}"),
            ("hold_timer", Fixed(0), f"hold_timer {_timer(0)}"),
            ("message_age_timer", Fixed(0), f"message_age_timer {_timer(0)}"),
            ("forward_delay_timer", Fixed(fwd), f"forward_delay_timer {_timer(fwd)}"),
            ("topology_change_ack", 0, "topology_change_ack 0"), ("config_pending", 0, "config_pending 0"),
            ("proxy_arp", False, "proxy_arp off"), ("proxy_arp_wifi", False, "proxy_arp_wifi off"),
            ("multicast_router", 1, "mcast_router 1"), (None, None, "mcast_fast_leave off"),
            ("mcast_flood", True, "mcast_flood on"), ("bcast_flood", True, "bcast_flood on"),
            ("mcast_to_unicast", False, "mcast_to_unicast off"), ("neigh_suppress", False, "neigh_suppress off"),
            ("group_fwd_mask", "0", "group_fwd_mask 0"), ("group_fwd_mask_str", "0x0", "group_fwd_mask_str 0x0"),
            ("vlan_tunnel", False, "vlan_tunnel off"), ("isolated", False, "isolated off"),
            ("locked", False, "locked off")]
    return rows


def _details_text(state: NetState, ns: Netns, link: Link, link_mode: bool) -> str:
    """What `-d` adds after the link/ line (its leading part stays on that line)."""
    promisc, allmulti = _promiscuity(link)
    low, high = mtu_range(link.kind)
    text = f" promiscuity {promisc}  allmulti {allmulti} minmtu {low} maxmtu {high} "
    queues = VETH_QUEUES if link.kind == "veth" else 1
    tail = ("addrgenmode eui64 " if link_mode else "") + f"numtxqueues {queues} numrxqueues {queues} " \
        + _TAIL.replace("tso_max_size 524280", f"tso_max_size {_tso_max(link)}")
    if link.kind == "loopback":
        return text + tail
    if link.kind == "bridge":
        kind = "bridge " + "".join(t + " " for _, _, t in _bridge_fields(link))
    elif link.kind in _TUNNELS:
        kind = _TUNNEL_DETAIL[link.kind]
    else:
        kind = f"{link.kind} "
    text += "\n    " + kind
    if link.master is not None:
        text += "\n    bridge_slave " + "".join(t + " " for _, _, t in _slave_fields(state, ns, link))
    return text + tail


def _details_json(state: NetState, ns: Netns, link: Link, link_mode: bool) -> dict:
    promisc, allmulti = _promiscuity(link)
    low, high = mtu_range(link.kind)
    out: dict = {"promiscuity": promisc, "allmulti": allmulti, "min_mtu": low, "max_mtu": high}
    if link.kind != "loopback":
        info: dict = {"info_kind": link.kind}
        if link.kind == "bridge":
            info["info_data"] = {k: v for k, v, _ in _bridge_fields(link)}
        if link.master is not None:
            info["info_slave_kind"] = "bridge"
            info["info_slave_data"] = {k: v for k, v, _ in _slave_fields(state, ns, link) if k}
        out["linkinfo"] = info
    if link_mode:
        out["inet6_addr_gen_mode"] = "eui64"
    queues = VETH_QUEUES if link.kind == "veth" else 1
    out.update({"num_tx_queues": queues, "num_rx_queues": queues, **_TAIL_JSON,
                "tso_max_size": _tso_max(link)})
    return out


# ----------------------------------------------------------------- addresses
def link_addrs(state: NetState, ns: Netns, link: Link, family: int | None, flt: LinkShow) -> list[tuple[Addr, bool]]:
    """(address, secondary) pairs `ip addr` shows for a link, with the filters applied."""
    secondary = derive.secondary_flags(ns, link.ifindex)
    out = []
    for a in derive.all_addrs(state, ns, link):
        if family is not None and a.family != family:
            continue
        sec = secondary.get(id(a), False)
        if flt.primary and sec:
            continue
        if flt.secondary and not sec:
            continue
        if flt.scope not in (None, "all") and a.scope != {"universe": "global"}.get(flt.scope, flt.scope):
            continue
        if flt.to not in (None, "default"):
            want = ipaddress.ip_interface(flt.to)
            if a.family != want.version or ipaddress.ip_address(a.address) not in want.network:
                continue
        if flt.label is not None and (a.family != 4 or not fnmatch.fnmatchcase(a.label or link.ifname, flt.label)):
            continue
        out.append((a, sec))
    return out


def _addr_text(link: Link, addr: Addr, secondary: bool) -> str:
    if addr.family == 4:
        brd = f" brd {addr.broadcast}" if addr.broadcast else ""
        sec = " secondary" if secondary else ""
        line = f"    inet {addr.cidr}{brd} scope {addr.scope}{sec} {addr.label or link.ifname}"
    else:
        line = f"    inet6 {addr.cidr} scope {addr.scope} "
    return line + "\n       valid_lft forever preferred_lft forever\n"


def _addr_json(link: Link, addr: Addr, secondary: bool) -> dict:
    out: dict = {"family": "inet" if addr.family == 4 else "inet6", "local": addr.address,
                 "prefixlen": addr.prefixlen}
    if addr.family == 4 and addr.broadcast:
        out["broadcast"] = addr.broadcast
    out["scope"] = addr.scope
    if secondary:
        out["secondary"] = True
    if addr.family == 4:
        out["label"] = addr.label or link.ifname
    out["valid_life_time"] = 4294967295
    out["preferred_life_time"] = 4294967295
    return out


# ------------------------------------------------------------------ render
def render_links(state: NetState, ns: Netns, flt: LinkShow, opts: IpOptions) -> str:
    """`ip link` (a :class:`LinkShow`) or `ip addr` (an :class:`AddrShow`) for one namespace."""
    mode = "addr" if isinstance(flt, AddrShow) else "link"
    links = select_links(state, ns, flt)
    if mode == "addr" and opts.family is None and flt.to not in (None, "default"):
        # `to PREFIX` sets the family when none was given (as -4/-6 would).
        opts = dataclasses.replace(opts, family=6 if ":" in flt.to else 4)
    family = opts.family if mode == "addr" else None
    # A link without a matching address is left out for a family, `to`, `scope` or
    # `label`; `primary` / `secondary` keep every link's header (goldens 59, 74).
    selects_addrs = family is not None or flt.to is not None or flt.scope is not None or flt.label is not None
    rows = []
    for link in links:
        addrs = link_addrs(state, ns, link, opts.family, flt) if mode == "addr" else []
        if mode == "addr" and selects_addrs and not addrs:
            continue
        rows.append((link, addrs))
    # `ip -6 a` reads the links from an AF_INET6 dump (a short header); with a
    # device named, iproute2 asks for that one link in full.
    short = family == 6 and flt.dev is None
    if opts.stats and not opts.brief:
        _check_counters([link for link, _ in rows])
    if opts.json:
        return dumps([_json_row(state, ns, link, addrs, opts, mode, short) for link, addrs in rows],
                     pretty=opts.pretty)
    if opts.brief:
        return "".join(_brief_row(state, ns, link, addrs, mode) for link, addrs in rows)
    if opts.oneline:
        return "".join(_oneline_rows(state, ns, link, addrs, opts, mode, short) for link, addrs in rows)
    label = mode == "addr" and flt.label is not None
    return "".join(_text_row(state, ns, link, addrs, opts, mode, short, label) for link, addrs in rows)


def _oneline_rows(state, ns, link, addrs, opts, mode, short) -> str:
    """`ip -o`: a link on one line; in `ip -o addr`, each address on its own line after
    ``IDX: NAME`` (no link header); the inner newlines become a backslash."""
    if mode == "link":
        text = _text_row(state, ns, link, addrs, opts, mode, short)
        return text[:-1].replace("\n", "\\") + "\n"
    out = ""
    for addr, secondary in addrs:
        text = _addr_text(link, addr, secondary)
        out += f"{link.ifindex}: {link.ifname}" + text[:-1].replace("\n", "\\") + "\n"
    return out


def _text_row(state, ns, link, addrs, opts, mode, short=False, label=False) -> str:
    if label:  # `ip addr show label L` prints the matching addresses alone, no link lines
        return "".join(_addr_text(link, addr, secondary) for addr, secondary in addrs)
    family = opts.family if mode == "addr" else None
    six = short
    at, mdown, _ = at_name(state, ns, link, local_lookup=six)
    flags = ",".join(_flags(state, ns, link, mdown))
    oper = derive.operstate(state, ns, link)
    if six:
        head = f"{link.ifindex}: {link.ifname}{at or ''}: <{flags}> mtu {link.mtu} state {oper} qlen {link.txqlen}\n"
    else:
        master = ""
        if link.master is not None and link.master in ns.links:
            master = f" master {ns.links[link.master].ifname}"
        mode_word = " mode DEFAULT" if mode == "link" else ""
        # Without the link/ line (-4, -6 with a device), its link-netns ends the header.
        tail = _netns_suffix(state, ns, link)[0] if family is not None else ""
        head = (f"{link.ifindex}: {link.ifname}{at or ''}: <{flags}> mtu {link.mtu} qdisc {derive.qdisc(link)}"
                f"{master} state {oper}{mode_word} group default qlen {link.txqlen}{tail}\n")
    out = head
    if family is None:
        addr, brd = _address_words(link)
        suffix, _ = _netns_suffix(state, ns, link)
        out += f"    link/{_LINK_TYPE[link.kind]} {addr} brd {brd}{suffix}"
        if opts.details:
            out += _details_text(state, ns, link, mode == "link")
        out += "\n"
    for addr, secondary in addrs:
        out += _addr_text(link, addr, secondary)
    if opts.stats and not short:
        out += _STATS
    return out


#: `ip -s link` of a link that never carried a packet.
_STATS = ("    RX:  bytes packets errors dropped  missed   mcast           \n"
          "             0       0      0       0       0       0 \n"
          "    TX:  bytes packets errors dropped carrier collsns           \n"
          "             0       0      0       0       0       0 \n")
_STATS_JSON = {"rx": {"bytes": 0, "packets": 0, "errors": 0, "dropped": 0, "over_errors": 0, "multicast": 0},
               "tx": {"bytes": 0, "packets": 0, "errors": 0, "dropped": 0, "carrier_errors": 0, "collisions": 0}}


def _check_counters(links: list[Link]) -> None:
    """The model counts no packets: it shows counters only of links that never were up
    (all zero on the kernel too) and says so for the others."""
    busy = [l.ifname for l in links if l.activated]
    if busy:
        raise UsageError(say(f"simlab does not count packets: {', '.join(busy)} has been up, so the "
                             "kernel's counters there are not zero",
                             f"simlab はパケットを数えません: {', '.join(busy)} は UP になったことがあるので、"
                             "カーネルのカウンターは 0 ではありません"),
                         hint=say("drop -s, or look at a link that was never up; traffic is shown by lab.ping",
                                  "-s を外すか、UP になったことのないリンクを指定してください。"
                                  "通信の様子は lab.ping で見られます"))


def _brief_row(state, ns, link, addrs, mode) -> str:
    at, mdown, _ = at_name(state, ns, link)
    name = f"{link.ifname}{at or ''}"
    out = f"{name:<16} {derive.operstate(state, ns, link):<14} "
    if mode == "link":
        addr, _ = _address_words(link)
        flags = ",".join(_flags(state, ns, link, mdown))
        out += f"{addr} <{flags}> "
    else:
        out += "".join(f"{a.cidr} " for a, _ in addrs)
    return out + "\n"


def _json_row(state, ns, link, addrs, opts, mode, short=False) -> dict:
    family = opts.family if mode == "addr" else None
    at, mdown, at_json = at_name(state, ns, link, local_lookup=short)
    flags = _flags(state, ns, link, mdown)
    oper = derive.operstate(state, ns, link)
    if opts.brief:
        row = {**at_json, "ifname": link.ifname, "operstate": oper}
        if mode == "link":
            row["address"] = _address_words(link)[0]
            row["flags"] = flags
        else:
            row["addr_info"] = [{"local": a.address, "prefixlen": a.prefixlen} for a, _ in addrs]
        return row
    row = {"ifindex": link.ifindex, **at_json, "ifname": link.ifname, "flags": flags, "mtu": link.mtu}
    if short:  # the AF_INET6 link dump carries no qdisc, master, group or address
        row.update({"operstate": oper, "txqlen": link.txqlen})
        row["addr_info"] = [_addr_json(link, a, s) for a, s in addrs]
        return row
    row["qdisc"] = derive.qdisc(link)
    if link.master is not None and link.master in ns.links:
        row["master"] = ns.links[link.master].ifname
    row["operstate"] = oper
    if mode == "link":
        row["linkmode"] = "DEFAULT"
    row["group"] = "default"
    row["txqlen"] = link.txqlen
    if family is None:
        addr, brd = _address_words(link)
        row.update({"link_type": _LINK_TYPE[link.kind], "address": addr, "broadcast": brd})
        row.update(_netns_suffix(state, ns, link)[1])
        if opts.details:
            row.update(_details_json(state, ns, link, mode == "link"))
    if mode == "addr":
        row["addr_info"] = [_addr_json(link, a, s) for a, s in addrs]
    if opts.stats:
        row["stats64"] = _STATS_JSON
    return row
