"""``ip neigh add|replace|change|del|flush``, as iproute2 sends them (``RTM_NEWNEIGH`` /
``RTM_DELNEIGH`` with the state, the address and the MAC); each returns its undo."""

from __future__ import annotations

import contextlib
import socket

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_DELNEIGH, RTM_NEWNEIGH
from pyroute2.netlink.rtnl.ndmsg import ndmsg

from ..model import ops as o
from ..model.rules.neigh import flushed
from . import read as rd
from .context import Kernel, Ns, Undo
from .rtnl import CREATE, REQ

__all__ = ["neigh_add", "neigh_del", "neigh_flush"]

NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
NUD = {"REACHABLE": 0x02, "STALE": 0x04, "PERMANENT": 0x80}
#: NLM_F_* of `ip neigh add|replace|change` (iproute2's ipneigh_modify()).
MODES = {"add": CREATE, "replace": REQ | NLM_F_CREATE | NLM_F_REPLACE, "change": REQ | NLM_F_REPLACE}


def _msg(dst: str, index: int, state: int = 0, lladdr: str | None = None) -> ndmsg:
    msg = ndmsg()
    msg["family"] = socket.AF_INET6 if ":" in dst else socket.AF_INET
    msg["ifindex"] = index
    msg["state"] = state
    attrs = [("NDA_DST", dst)]
    if lladdr is not None:
        attrs.append(("NDA_LLADDR", lladdr))
    msg["attrs"] = attrs
    return msg


def _entry(handle: Ns, index: int, dst: str):
    return next((n for n in rd.dump_neighs(handle.rt) if n.ifindex == index and n.dst == dst), None)


def _restore(handle: Ns, entry) -> None:
    state = NUD.get(entry.state, NUD["STALE"])
    handle.rt.request(_msg(entry.dst, entry.ifindex, state, entry.lladdr), RTM_NEWNEIGH,
                      REQ | NLM_F_CREATE | NLM_F_REPLACE)


def _remove(handle: Ns, index: int, dst: str) -> None:
    with contextlib.suppress(NetlinkError):
        handle.rt.request(_msg(dst, index), RTM_DELNEIGH, REQ)


def neigh_add(k: Kernel, op: o.NeighAdd) -> Undo:
    handle = k.ns_of(op.netns)
    index = k.find(handle, op.ifname).ifindex
    old = _entry(handle, index, op.dst)
    k.talk(handle, _msg(op.dst, index, NUD[op.state], op.lladdr), RTM_NEWNEIGH, MODES[op.mode])
    if old is not None:
        return [lambda: _restore(handle, old)]
    return [lambda: _remove(handle, index, op.dst)]


def neigh_del(k: Kernel, op: o.NeighDel) -> Undo:
    handle = k.ns_of(op.netns)
    index = k.find(handle, op.ifname).ifindex
    old = _entry(handle, index, op.dst)
    k.talk(handle, _msg(op.dst, index), RTM_DELNEIGH)
    return [lambda: _restore(handle, old)] if old is not None else []


def neigh_flush(k: Kernel, op: o.NeighFlush) -> Undo:
    """As iproute2: list the entries, delete each the filter selects."""
    handle = k.ns_of(op.netns)
    index = k.find(handle, op.ifname).ifindex if op.ifname else None
    gone = [n for n in rd.dump_neighs(handle.rt) if flushed(op, index, n)]
    for n in gone:
        _remove(handle, n.ifindex, n.dst)
    return [lambda: [_restore(handle, n) for n in gone if n.lladdr]] if gone else []
