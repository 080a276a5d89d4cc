"""The link operations (``ip link add|del|set``, ``bridge link set``), as iproute2 sends them.

Kernel facts used here:
- a veth pair made with its peer in another namespace (``IFLA_NET_NS_FD`` in
  the peer's attributes) is one request: the peer is registered first, in
  its namespace, so it gets that namespace's next ifindex;
- ``ip link set`` sends one ``RTM_NEWLINK`` with every attribute; the kernel
  applies them one by one (namespace first), so a failure can leave part of
  the change done: :func:`revert_link` puts it back;
- a namespace assigns an nsid to another when it first describes a link whose
  peer is there; :func:`pair` makes both sides do that at once,
  as the model does.
"""

from __future__ import annotations

import contextlib
import errno
from dataclasses import replace

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_DELLINK, RTM_NEWLINK
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from ..model import ops as o
from ..model.errors import NetError
from . import checks
from . import read as rd
from .context import Kernel, Ns, Undo
from .rtnl import CREATE, REQ

__all__ = ["link_add", "link_del", "link_set", "pair"]

NLM_F_ECHO = 0x8
_IFF_UP = 0x1
_IFF_PROMISC = 0x100
_IFF_NOARP = 0x80
_IFF_MULTICAST = 0x1000
_IFF_ALLMULTI = 0x200
_BRPORT = {"hairpin": "IFLA_BRPORT_MODE", "learning": "IFLA_BRPORT_LEARNING", "flood": "IFLA_BRPORT_UNICAST_FLOOD"}


def link_add(k: Kernel, op: o.LinkAdd) -> Undo:
    handle = k.ns_of(op.netns)
    # iproute2's own checks, in the order it parses the words.
    if op.ifname:
        checks.check_dev_name(op.ifname)
    mac = checks.ll_addr(op.mac) if op.mac else None
    info: list = [("IFLA_INFO_KIND", op.kind)]
    peer_handle = None
    pattrs: list = []
    cross = op.peer_netns is not None and op.peer_netns != op.netns
    with contextlib.ExitStack() as stack:
        if op.kind == "veth" and (op.peer is not None or op.peer_mac or cross):
            if op.peer is not None:
                checks.check_name(op.peer)
                pattrs.append(("IFLA_IFNAME", op.peer))
            if op.peer_mac:
                pattrs.append(("IFLA_ADDRESS", checks.parse_mac(op.peer_mac)))
            if cross:
                peer_handle = k.peer_ns(op.peer_netns)
                pattrs.append(("IFLA_NET_NS_FD", stack.enter_context(k.fd(peer_handle))))
            info.append(("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", {"attrs": pattrs})]}))
        attrs: list = []
        if op.ifname:
            attrs.append(("IFLA_IFNAME", op.ifname))
        if mac is not None:
            if len(mac) != 6:  # veth_validate / br_validate: EINVAL
                raise NetError.rtnl(errno.EINVAL)
            attrs.append(("IFLA_ADDRESS", checks.mac_text(mac)))
        if op.mtu is not None:
            # Not remembered in k.mtu_set: an MTU given at creation is not "set by the user"
            # for a bridge (BROPT_MTU_SET_BY_USER comes from br_change_mtu only).
            attrs.append(("IFLA_MTU", op.mtu))
        msg = ifinfmsg()
        msg["attrs"] = attrs + [("IFLA_LINKINFO", {"attrs": info})]
        # NLM_F_ECHO: the kernel answers with the new link (index, peer, nsid).
        answers = k.talk_raw(handle, msg, RTM_NEWLINK, CREATE | NLM_F_ECHO)
    made = None
    for raw in answers:
        link = rd.parse_link(raw)
        if link.ifname == op.ifname or (not op.ifname and made is None):
            made = link
    if made is None and op.ifname:
        made = rd.get_link(handle.rt, op.ifname)
    if made is not None:
        if peer_handle is not None:
            pair(k, handle, made.ifindex, peer_handle, made)
        if mac is not None:
            k.mac_set.add((op.netns, made.ifindex))
        if op.peer_mac and made.link is not None:
            k.mac_set.add((op.peer_netns if cross else op.netns, made.link))
        index = made.ifindex
        return [lambda: delete_index(handle, index)]
    return []


def pair(k: Kernel, a: Ns, index: int, b: Ns | None = None, link: rd.RawLink | None = None) -> None:
    """Have both ends' namespaces assign nsids to each other now, and remember them.

    The kernel assigns an nsid when it first describes a link whose peer is
    elsewhere (a dump, a notification): for a new pair that is the creating
    side at once and the other side at its first ``ip link``.  The model
    assigns both at link time; one ``RTM_GETLINK`` of each end does the same.
    """
    if link is None or link.link_netnsid is None:
        link = rd.get_link_index(a.rt, index)
    if link is None or link.link is None or link.link_netnsid is None:
        return
    if b is not None:
        k.nsid_maps.setdefault(a.key, {})[link.link_netnsid] = b.key
        other = b.key
    else:
        other = k.nsid_key(a, link.link_netnsid)
    if other is None or other not in k.ns:
        return
    peer = rd.get_link_index(k.ns[other].rt, link.link)
    if peer is not None and peer.link_netnsid is not None:
        k.nsid_maps.setdefault(other, {})[peer.link_netnsid] = a.key


def delete_index(handle: Ns, index: int) -> None:
    msg = ifinfmsg()
    msg["index"] = index
    handle.rt.request(msg, RTM_DELLINK, REQ)


def link_del(k: Kernel, op: o.LinkDel) -> Undo:
    handle = k.ns_of(op.netns)
    link = k.find(handle, op.ifname)
    msg = ifinfmsg()
    msg["index"] = link.ifindex
    k.talk(handle, msg, RTM_DELLINK)
    return []


def link_set(k: Kernel, op: o.LinkSet) -> Undo:
    handle = k.ns_of(op.netns)
    if o.port_options(op):
        return hairpin(k, handle, op)
    # Parse-time checks, in the order `ip link set` takes the words.
    target = None
    if op.to_netns is not None and op.to_netns != op.netns:
        target = k.peer_ns(op.to_netns)
    if op.name is not None:
        checks.check_name(op.name)
    mac = checks.ll_addr(op.mac) if op.mac is not None else None
    master = None
    if op.master not in (None, o.NOMASTER):
        master = rd.get_link(handle.rt, op.master)
        if master is None:
            raise checks.no_master(op.master)
    link = k.find(handle, op.ifname)
    if mac is not None and len(mac) != 6:
        raise NetError(
            f"Invalid address length {len(mac)} - must be 6 bytes", errno=errno.EINVAL, exit=1
        )
    attrs: list = []
    flags = change = 0
    # (wanted, flag bit, set when wanted is False): `arp off` sets IFF_NOARP
    for wanted, bit, inverted in ((op.up, _IFF_UP, False), (op.promisc, _IFF_PROMISC, False),
                                  (op.arp, _IFF_NOARP, True), (op.multicast, _IFF_MULTICAST, False),
                                  (op.allmulticast, _IFF_ALLMULTI, False)):
        if wanted is not None:
            change |= bit
            flags |= bit if wanted != inverted else 0
    with contextlib.ExitStack() as stack:
        if target is not None:
            attrs.append(("IFLA_NET_NS_FD", stack.enter_context(k.fd(target))))
        if op.name is not None:
            attrs.append(("IFLA_IFNAME", op.name))
        if mac is not None:
            attrs.append(("IFLA_ADDRESS", checks.mac_text(mac)))
        if op.mtu is not None:
            attrs.append(("IFLA_MTU", op.mtu))
        if op.master is not None:
            attrs.append(("IFLA_MASTER", master.ifindex if master is not None else 0))
        msg = ifinfmsg()
        msg["index"] = link.ifindex
        msg["flags"] = flags
        msg["change"] = change
        msg["attrs"] = attrs
        new_name = op.name or link.ifname
        try:
            k.talk(handle, msg, RTM_NEWLINK)
        except NetError:
            # The kernel applies the attributes one by one: put back what it did.
            revert_link(k, link, handle, target, new_name)
            raise
        if target is not None:
            after_move(k, handle, link, target, new_name)
    where = target or handle
    now = rd.get_link(where.rt, new_name) if (mac is not None or op.mtu is not None) else None
    if now is not None:
        if mac is not None:
            k.mac_set.add((where.key, now.ifindex))
        if op.mtu is not None and now.kind == "bridge":
            k.mtu_set.add((where.key, now.ifindex))
    return [lambda: revert_link(k, link, handle, target, new_name)]


def after_move(k: Kernel, src: Ns, link: rd.RawLink, dst: Ns, name: str) -> None:
    moved = rd.get_link(dst.rt, name)
    if moved is None:
        return
    if moved.ifindex == link.ifindex:
        dst.moved_in.add(moved.ifindex)
    for table in (k.mac_set, k.mtu_set):
        if (src.key, link.ifindex) in table:
            table.discard((src.key, link.ifindex))
            table.add((dst.key, moved.ifindex))
    if moved.kind == "veth":
        pair(k, dst, moved.ifindex)


def revert_link(k: Kernel, old: rd.RawLink, src: Ns, dst: Ns | None, new_name: str) -> None:
    """Best effort: give a link back its namespace, name, MAC, MTU, flags and master."""
    where, now = src, rd.get_link_index(src.rt, old.ifindex)
    if now is not None and now.ifname not in (old.ifname, new_name):
        now = None
    if now is None and dst is not None:
        where, now = dst, rd.get_link(dst.rt, new_name) or rd.get_link(dst.rt, old.ifname)
    if now is None:
        return
    attrs: list = []
    with contextlib.ExitStack() as stack:
        if where is not src:
            attrs.append(("IFLA_NET_NS_FD", stack.enter_context(k.fd(src))))
        if now.ifname != old.ifname:
            attrs.append(("IFLA_IFNAME", old.ifname))
        if now.mac != old.mac and old.mac:
            attrs.append(("IFLA_ADDRESS", old.mac))
        if now.mtu != old.mtu:
            attrs.append(("IFLA_MTU", old.mtu))
        if where is src and now.master != old.master:
            attrs.append(("IFLA_MASTER", old.master or 0))
        msg = ifinfmsg()
        msg["index"] = now.ifindex
        mask = _IFF_UP | _IFF_PROMISC | _IFF_NOARP | _IFF_MULTICAST | _IFF_ALLMULTI
        msg["change"] = mask
        msg["flags"] = old.flags & mask
        msg["attrs"] = attrs
        with contextlib.suppress(NetlinkError):
            where.rt.request(msg, RTM_NEWLINK, REQ)
    if where is not src and old.master:
        back = rd.get_link(src.rt, old.ifname)
        if back is not None:
            msg = ifinfmsg()
            msg["index"] = back.ifindex
            msg["change"] = _IFF_UP
            msg["flags"] = old.flags & _IFF_UP
            msg["attrs"] = [("IFLA_MASTER", old.master)]
            with contextlib.suppress(NetlinkError):
                src.rt.request(msg, RTM_NEWLINK, REQ)


def hairpin(k: Kernel, handle: Ns, op: o.LinkSet) -> Undo:
    """``bridge link set dev X hairpin on|off`` (AF_BRIDGE, IFLA_PROTINFO)."""
    link = rd.get_link(handle.rt, op.ifname)
    if link is None:
        raise NetError(f'Cannot find bridge device "{op.ifname}"', errno=errno.ENODEV, exit=255)
    # The bridge tool sends IFLA_PROTINFO (AF_BRIDGE); pyroute2 cannot flag that
    # attribute nested, so this is the equivalent `ip link set dev X type
    # bridge_slave hairpin on`: both end in the bridge's port options.
    msg = ifinfmsg()
    msg["index"] = link.ifindex
    msg["attrs"] = [
        (
            "IFLA_LINKINFO",
            {
                "attrs": [
                    ("IFLA_INFO_SLAVE_KIND", "bridge"),
                    (
                        "IFLA_INFO_SLAVE_DATA",
                        {"attrs": [(_BRPORT[key], 1 if on else 0)
                                   for key, on in o.port_options(op).items()]},
                    ),
                ]
            },
        )
    ]
    try:
        handle.rt.request(msg, RTM_NEWLINK, REQ)
    except NetlinkError as err:
        failed = checks.from_netlink(err)
        failed.exit = 255  # the bridge tool exits with -1
        raise failed from None
    # The kernel announces no port option change (no RTM_NEWLINK, checked with `ip monitor
    # link` on 6.18), so the monitors cannot tell the next snapshot: it reads the namespace whole.
    handle.cache = None
    old = {key: getattr(link, key) for key in o.port_options(op)}
    return [lambda: hairpin(k, handle, replace(op, **old))]
