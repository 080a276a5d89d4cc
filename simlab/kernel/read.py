"""Read one namespace back from the kernel into the model's values.

What is read, and what is left out on purpose:
- links (``RTM_GETLINK`` dump): kind, MAC, MTU, IFF_UP, IFF_PROMISC (the
  user-set flag: bridge ports' own promiscuity is not reported as PROMISC),
  txqlen, veth peer (``IFLA_LINK`` + ``IFLA_LINK_NETNSID``), master, bridge
  port number and hairpin (``IFLA_INFO_SLAVE_DATA``), whether a qdisc was
  attached (``IFLA_QDISC`` is ``noop`` until the first up), addrconf's
  IF_READY (``IFLA_INET6_FLAGS``), and for a bridge whether it ever had ports
  (the bridge keeps its carrier until its first port; afterwards it has carrier
  only while a port forwards);
- addresses, all of them (the model keeps the IPv6 link-local and ``::1``
  addresses addrconf makes, too), in the kernel's order;
- routes of table main and numbered tables (unicast, blackhole, unreachable,
  prohibit, throw): IPv4 all, IPv6 only those not made by the kernel
  (the model does not keep ``fe80::/64`` and prefix routes);
- the device multicast lists (``bridge fdb show``'s ``self permanent`` lines)
  and the FDB entries the bridges learned;
- the neighbour (ARP/NDP) entries ``ip neigh`` lists (:func:`dump_neighs`).
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETNSID, RTM_GETROUTE, RTM_GETRULE
from pyroute2.netlink.rtnl.fibmsg import fibmsg
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from ..model.state import Addr, FdbEntry, Neigh, Route, Rule
from .netns import NETLINK_NETFILTER
from .rtnl import DUMP, REQ, Rtnl, attrs

__all__ = [
    "RawLink",
    "dump_links",
    "get_link_index",
    "dump_addr_msgs",
    "link_local_indexes",
    "dump_addrs",
    "dump_routes",
    "dump_nsids",
    "dump_fdb",
    "dump_neighs",
    "get_link",
]

IFF_UP = 0x1
IFF_PROMISC = 0x100
IFF_LOWER_UP = 0x10000
IF_READY = 0x80000000
ARPHRD_LOOPBACK = 772
RTN_UNICAST = 1
RT_TABLE_MAIN = 254
NTF_SELF = 0x02
NTF_EXT_LEARNED = 0x10
NUD_NOARP = 0x40
NUD_PERMANENT = 0x80
AF_BRIDGE = 7

SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
#: iproute2 6.1's rt_protos names (what `ip route` prints for each number).
PROTOS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated", 9: "ra",
          10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp", 15: "ntk", 16: "dhcp",
          18: "keepalived", 42: "babel", 99: "openr", 186: "bgp", 187: "isis", 188: "ospf",
          189: "rip", 192: "eigrp"}
#: The route types simlab keeps (rtm_type): unicast and the ones without a next hop.
RTN_NAMES = {1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw"}


@dataclass
class RawLink:
    """One link as the kernel reports it (before peers are mapped to keys)."""

    ifindex: int
    ifname: str
    kind: str
    mac: str
    mtu: int
    flags: int
    txqlen: int
    operstate: str
    carrier: int
    link: int | None  # IFLA_LINK: a veth's peer ifindex
    link_netnsid: int | None
    master: int | None
    port_no: int
    hairpin: bool
    learning: bool
    flood: bool
    qdisc: str
    v6_flags: int

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)


_OPERSTATES = ("UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP")
_IFINFO = struct.Struct("=BxHiII")
_U32 = struct.Struct("=I")
(
    IFLA_ADDRESS,
    IFLA_IFNAME,
    IFLA_MTU,
    IFLA_LINK,
    IFLA_QDISC,
    IFLA_MASTER,
    IFLA_TXQLEN,
    IFLA_OPERSTATE,
    IFLA_LINKINFO,
    IFLA_AF_SPEC,
    IFLA_EXT_MASK,
    IFLA_CARRIER,
    IFLA_LINK_NETNSID,
) = (1, 3, 4, 5, 6, 10, 13, 16, 18, 26, 29, 33, 37)
IFLA_INFO_KIND, IFLA_INFO_SLAVE_DATA = 1, 5
IFLA_BRPORT_MODE, IFLA_BRPORT_NO = 4, 18
IFLA_INET6_FLAGS = 1
RTEXT_FILTER_SKIP_STATS = 1 << 3


def _u32(value) -> int:
    return _U32.unpack_from(value)[0]


def _text(value) -> str:
    return bytes(value).split(b"\0", 1)[0].decode()


def parse_link(raw: bytes) -> RawLink:
    """An RTM_NEWLINK message (with its netlink header) as a :class:`RawLink`.

    Only the attributes simlab reads are decoded; struct reads, no pyroute2.
    """
    _family, ifi_type, index, flags, _change = _IFINFO.unpack_from(raw, 16)
    top = attrs(raw, 32, len(raw))
    kind, port_no, hairpin, learning, flood = None, 0, False, True, True
    info = top.get(IFLA_LINKINFO)
    if info is not None:
        nested = attrs(info, 0, len(info))
        if IFLA_INFO_KIND in nested:
            kind = _text(nested[IFLA_INFO_KIND])
        slave = nested.get(IFLA_INFO_SLAVE_DATA)
        if slave is not None:
            port = attrs(slave, 0, len(slave))
            if IFLA_BRPORT_NO in port:
                port_no = struct.unpack_from("=H", port[IFLA_BRPORT_NO])[0]
            if IFLA_BRPORT_MODE in port:
                hairpin = bool(port[IFLA_BRPORT_MODE][0])
            learning = bool(port[8][0]) if 8 in port else True  # IFLA_BRPORT_LEARNING
            flood = bool(port[9][0]) if 9 in port else True  # IFLA_BRPORT_UNICAST_FLOOD
    if kind is None:
        kind = "loopback" if ifi_type == ARPHRD_LOOPBACK else "unknown"
    v6_flags = 0
    spec = top.get(IFLA_AF_SPEC)
    if spec is not None:
        inet6 = attrs(spec, 0, len(spec)).get(socket.AF_INET6)
        if inet6 is not None:
            found = attrs(inet6, 0, len(inet6)).get(IFLA_INET6_FLAGS)
            v6_flags = _u32(found) if found is not None else 0
    mac = ""
    if IFLA_ADDRESS in top and kind not in ("ipip", "sit", "ip6tnl"):
        mac = ":".join(f"{b:02x}" for b in bytes(top[IFLA_ADDRESS]))
    netnsid = (
        struct.unpack_from("=i", top[IFLA_LINK_NETNSID])[0] if IFLA_LINK_NETNSID in top else None
    )
    link = _u32(top[IFLA_LINK]) if IFLA_LINK in top else None
    operstate = top[IFLA_OPERSTATE][0] if IFLA_OPERSTATE in top else 0
    return RawLink(
        ifindex=index,
        ifname=_text(top[IFLA_IFNAME]) if IFLA_IFNAME in top else "",
        kind=kind,
        mac=mac,
        mtu=_u32(top[IFLA_MTU]) if IFLA_MTU in top else 0,
        flags=flags,
        txqlen=_u32(top[IFLA_TXQLEN]) if IFLA_TXQLEN in top else 0,
        operstate=_OPERSTATES[operstate] if operstate < len(_OPERSTATES) else str(operstate),
        carrier=top[IFLA_CARRIER][0] if IFLA_CARRIER in top else 0,
        link=link if link and (link != index or netnsid is not None) else None,
        link_netnsid=netnsid,
        master=(_u32(top[IFLA_MASTER]) or None) if IFLA_MASTER in top else None,
        port_no=port_no,
        hairpin=hairpin,
        learning=learning,
        flood=flood,
        qdisc=_text(top[IFLA_QDISC]) if IFLA_QDISC in top else "noop",
        v6_flags=v6_flags,
    )


def _link_request(**fields) -> ifinfmsg:
    msg = ifinfmsg()
    for k, v in fields.items():
        msg[k] = v
    msg["attrs"] = [("IFLA_EXT_MASK", RTEXT_FILTER_SKIP_STATS)]
    return msg


def dump_links(rt: Rtnl) -> list[RawLink]:
    msg = _link_request(family=socket.AF_UNSPEC)
    return [parse_link(raw) for raw in rt.request_raw(msg, RTM_GETLINK, DUMP)]


def get_link(rt: Rtnl, ifname: str) -> RawLink | None:
    """One link by name (``ll_name_to_index``), or None if there is none."""
    msg = _link_request()
    msg["attrs"].append(("IFLA_IFNAME", ifname))
    try:
        found = rt.request_raw(msg, RTM_GETLINK, REQ)
    except NetlinkError:
        return None
    return parse_link(found[0]) if found else None


def get_link_index(rt: Rtnl, ifindex: int) -> RawLink | None:
    """One link by ifindex, or None."""
    msg = _link_request(index=ifindex)
    try:
        found = rt.request_raw(msg, RTM_GETLINK, REQ)
    except NetlinkError:
        return None
    return parse_link(found[0]) if found else None


def dump_addr_msgs(rt: Rtnl, family: int = socket.AF_UNSPEC) -> list:
    msg = ifaddrmsg()
    msg["family"] = family
    return rt.request(msg, RTM_GETADDR, DUMP)


def link_local_indexes(rt: Rtnl) -> set[int]:
    """Links that have an IPv6 link-local address now."""
    return {m["index"] for m in dump_addr_msgs(rt, socket.AF_INET6) if m["scope"] == 253}


IFA_F_TENTATIVE = 0x40
IFA_F_DADFAILED = 0x08


def has_tentative(rt: Rtnl) -> bool:
    """An IPv6 address is waiting for addrconf's DAD work (flags in the ifaddrmsg header)."""
    for raw in rt.request_raw(_addr_request(socket.AF_INET6), RTM_GETADDR, DUMP):
        flags = raw[16 + 2]
        if flags & IFA_F_TENTATIVE and not flags & IFA_F_DADFAILED:
            return True
    return False


def _addr_request(family: int) -> ifaddrmsg:
    msg = ifaddrmsg()
    msg["family"] = family
    return msg


_IFADDR = struct.Struct("=BBBBI")
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST = 1, 2, 3, 4
_RTMSG = struct.Struct("=BBBBBBBBI")
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_TABLE = 1, 4, 5, 6, 7, 15
NDA_VLAN, NDA_MASTER = 5, 9
NETNSA_NSID = 1
_FAMILIES = {4: socket.AF_INET, 16: socket.AF_INET6}


def _ip(value) -> str:
    """An address attribute as text (what pyroute2 gives: inet_ntop's)."""
    return socket.inet_ntop(_FAMILIES[len(value)], bytes(value))


def dump_addrs(rt: Rtnl, links: dict[int, RawLink]) -> list[Addr]:
    """Every address, in the kernel's order (struct reads: read on every change)."""
    out = []
    for raw in rt.request_raw(_addr_request(socket.AF_UNSPEC), RTM_GETADDR, DUMP):
        family, prefixlen, _flags, scope, index = _IFADDR.unpack_from(raw, 16)
        found = attrs(raw, 16 + _IFADDR.size, len(raw))
        value = found.get(IFA_LOCAL) if family == socket.AF_INET else None
        if value is None:
            value = found.get(IFA_ADDRESS)
        label = _text(found[IFA_LABEL]) if IFA_LABEL in found else None
        link = links.get(index)
        if link is not None and label == link.ifname:
            label = None
        out.append(
            Addr(
                index,
                4 if family == socket.AF_INET else 6,
                _ip(value) if value is not None else None,
                prefixlen,
                scope=SCOPES.get(scope, str(scope)),
                broadcast=_ip(found[IFA_BROADCAST]) if IFA_BROADCAST in found else None,
                label=label,
            )
        )
    return out


def dump_routes(rt: Rtnl) -> list[Route]:
    """The main table's unicast routes (IPv6: not those addrconf made)."""
    out = []
    for family in (socket.AF_INET, socket.AF_INET6):
        msg = rtmsg()
        msg["family"] = family
        for raw in rt.request_raw(msg, RTM_GETROUTE, DUMP):
            head = _RTMSG.unpack_from(raw, 16)
            _f, dst_len, _src_len, _tos, table, proto, scope, kind, flags = head
            found = attrs(raw, 16 + _RTMSG.size, len(raw))
            if RTA_TABLE in found:
                table = _u32(found[RTA_TABLE]) or table
            # table local (255) and default (253) are the kernel's own; other tables are the user's
            if table in (253, 255) or kind not in RTN_NAMES:
                continue
            if family == socket.AF_INET6 and proto == 2:  # made by the kernel (addrconf)
                continue
            dst = _ip(found[RTA_DST]) if RTA_DST in found else None
            if dst_len == 0 and dst is None:
                dst_text = "default"
            else:
                dst_text = str(ipaddress.ip_network(f"{dst}/{dst_len}", strict=False))
            metric = _u32(found[RTA_PRIORITY]) if RTA_PRIORITY in found else None
            out.append(
                Route(
                    dst=dst_text,
                    dev=_u32(found[RTA_OIF]) if RTA_OIF in found else 0,
                    family=4 if family == socket.AF_INET else 6,
                    via=_ip(found[RTA_GATEWAY]) if RTA_GATEWAY in found else None,
                    proto=PROTOS.get(proto, str(proto)),
                    scope=SCOPES.get(scope, str(scope)),
                    src=_ip(found[RTA_PREFSRC]) if RTA_PREFSRC in found else None,
                    metric=metric or None,
                    onlink=bool(flags & 4),
                    type=RTN_NAMES[kind],
                    table=table,
                )
            )
    return out


_FIB_RULE_HDR = struct.Struct("=BBBBBBBBI")
_RULE_ACTIONS = {1: "lookup", 6: "blackhole", 7: "unreachable", 8: "prohibit"}
(FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_PRIORITY, FRA_FWMARK, FRA_TABLE, FRA_FWMASK,
 FRA_OIFNAME, FRA_PROTOCOL) = 1, 2, 3, 6, 10, 15, 16, 17, 21
_RULE_PROTOS = {0: "unspec", 2: "kernel", 3: "boot", 4: "static"}


def _prefix(found: dict, kind: int, plen: int) -> str | None:
    """A rule's address as `ip rule` prints it (host bits kept, a host without /32)."""
    if not plen or kind not in found:
        return None
    ip = ipaddress.ip_interface(f"{_ip(found[kind])}/{plen}")
    return str(ip.ip) if plen == ip.max_prefixlen else str(ip)


def dump_rules(rt: Rtnl) -> list[Rule]:
    """``ip rule`` then ``ip -6 rule``: the policy rules in the kernel's order."""
    out = []
    for family in (socket.AF_INET, socket.AF_INET6):
        msg = fibmsg()
        msg["family"] = family
        for raw in rt.request_raw(msg, RTM_GETRULE, DUMP):
            _f, dst_len, src_len, _tos, table, _r1, _r2, action, flags = _FIB_RULE_HDR.unpack_from(raw, 16)
            found = attrs(raw, 16 + _FIB_RULE_HDR.size, len(raw))
            mark = _u32(found[FRA_FWMARK]) if FRA_FWMARK in found else None
            mask = _u32(found[FRA_FWMASK]) if FRA_FWMASK in found else None
            out.append(Rule(
                pref=_u32(found[FRA_PRIORITY]) if FRA_PRIORITY in found else 0,
                family=4 if family == socket.AF_INET else 6,
                table=_u32(found[FRA_TABLE]) if FRA_TABLE in found else table,
                action=_RULE_ACTIONS.get(action, str(action)),
                src=_prefix(found, FRA_SRC, src_len),
                dst=_prefix(found, FRA_DST, dst_len),
                iif=_text(found[FRA_IIFNAME]) if FRA_IIFNAME in found else None,
                oif=_text(found[FRA_OIFNAME]) if FRA_OIFNAME in found else None,
                fwmark=mark if (mark or mask) else None,
                fwmask=None if not (mark or mask) or mask == 0xFFFFFFFF else mask,
                invert=bool(flags & 0x2),
                proto=_RULE_PROTOS.get(found[FRA_PROTOCOL][0], "unspec") if FRA_PROTOCOL in found else "unspec",
            ))
    return out


def dump_nsids(rt: Rtnl) -> list[int]:
    """The nsids this namespace has assigned (``ip netns list-id``)."""
    out = []
    for raw in rt.request_raw(nsidmsg(), RTM_GETNSID, DUMP):
        found = attrs(raw, 20, len(raw)).get(NETNSA_NSID)
        if found is not None and _u32(found) < 0x80000000:
            out.append(_u32(found))
    return out


def get_nsid(rt: Rtnl, fd: int) -> int | None:
    """The nsid this namespace gives the namespace open at ``fd`` (never assigns one)."""
    msg = nsidmsg()
    msg["attrs"] = [("NETNSA_FD", fd)]
    found = rt.request(msg, RTM_GETNSID, REQ)
    if not found:
        return None
    nsid = found[0].get_attr("NETNSA_NSID")
    # NETNSA_NSID_NOT_ASSIGNED is -1, which pyroute2 decodes as an unsigned 32-bit value.
    return None if nsid is None or nsid < 0 or nsid >= 0x80000000 else nsid


def dump_fdb(rt: Rtnl) -> tuple[dict[int, tuple[str, ...]], list[FdbEntry]]:
    """``bridge fdb show``: each device's own multicast list (``self permanent``, in
    the kernel's order) and the entries the bridges learned (``master``, not permanent).
    """
    msg = ndmsg()
    msg["family"] = AF_BRIDGE
    mc: dict[int, list[str]] = {}
    learned: list[FdbEntry] = []
    for raw in rt.request_raw(msg, RTM_GETNEIGH, DUMP):
        _family, ifindex, state, flags, _type = _NDMSG.unpack_from(raw, 16)
        found = attrs(raw, 16 + _NDMSG.size, len(raw))
        lladdr = found.get(NDA_LLADDR)
        if not lladdr:
            continue
        if flags & NTF_SELF:
            if lladdr[0] & 1:
                mc.setdefault(ifindex, []).append(":".join(f"{b:02x}" for b in bytes(lladdr)))
        elif (
            NDA_MASTER in found and _u32(found[NDA_MASTER])
            and not state & NUD_PERMANENT
            and not (NDA_VLAN in found and struct.unpack_from("=H", found[NDA_VLAN])[0])
        ):
            learned.append(FdbEntry(ifindex, ":".join(f"{b:02x}" for b in bytes(lladdr))))
    return {k: tuple(v) for k, v in mc.items()}, learned


#: NUD state bits, in the order iproute2 prints them (``print_neigh_state``).
NUD_NAMES = ("INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT")
#: ``ip neigh show``'s default state filter (ipneigh.c: ``0xFF & ~NUD_NOARP``).
SHOWN_STATES = 0xFF & ~NUD_NOARP
_NDMSG = struct.Struct("=BxxxiHBB")
NDA_DST, NDA_LLADDR = 1, 2


def nud_name(state: int) -> str:
    """The words iproute2 prints for NUD ``state`` ("" for NUD_NONE)."""
    return " ".join(name for bit, name in enumerate(NUD_NAMES) if state & (1 << bit))


def parse_neigh(raw: bytes) -> Neigh | None:
    """An RTM_NEWNEIGH message as a :class:`Neigh`, or None when ``ip neigh`` hides it.

    iproute2's ``print_neigh`` hides an entry none of whose state bits is in
    its filter (so NUD_NOARP alone, and NUD_NONE, which has no bit), unless it
    was externally learned (proxy entries come only in a dump asked with NTF_PROXY).
    """
    family, ifindex, state, flags, _type = _NDMSG.unpack_from(raw, 16)
    if not state & SHOWN_STATES and not flags & NTF_EXT_LEARNED:
        return None
    found = attrs(raw, 16 + _NDMSG.size, len(raw))
    lladdr = found.get(NDA_LLADDR)  # the kernel sends one only in a NUD_VALID state
    return Neigh(
        ifindex=ifindex,
        dst=socket.inet_ntop(family, bytes(found[NDA_DST])),
        lladdr=":".join(f"{b:02x}" for b in bytes(lladdr)) if lladdr is not None else None,
        state=nud_name(state),
    )


def dump_neighs(rt: Rtnl) -> list[Neigh]:
    """``ip neigh show``: the entries it lists, in the kernel's order.

    One dump with family AF_UNSPEC walks the ARP table, then the NDP table;
    within a table the kernel goes bucket by bucket of a hash with a random
    seed per table, so that order is the kernel's and nothing else's.
    """
    msg = ndmsg()
    msg["family"] = socket.AF_UNSPEC
    found = (parse_neigh(raw) for raw in rt.request_raw(msg, RTM_GETNEIGH, DUMP))
    return [n for n in found if n is not None]


def has_nft_tables() -> bool:
    """Whether the calling thread's namespace has an nftables table (``nft list tables``).

    iptables-nft keeps its rules in nftables tables; a namespace without any
    has no rules, and asking costs one request instead of running iptables-save.
    """
    NFT_MSG_GETTABLE = (10 << 8) | 1  # NFNL_SUBSYS_NFTABLES, NFT_MSG_GETTABLE
    NFT_MSG_NEWTABLE = (10 << 8) | 0
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        sock.bind((0, 0))
        sock.send(
            struct.pack("=IHHIIBBH", 20, NFT_MSG_GETTABLE, 0x301, 1, 0, socket.AF_UNSPEC, 0, 0)
        )
        while True:
            data = sock.recv(1 << 16)
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == NFT_MSG_NEWTABLE:
                    return True
                if kind in (2, 3) or length < 16:  # NLMSG_ERROR, NLMSG_DONE
                    return False
                offset += (length + 3) & ~3
    finally:
        sock.close()
