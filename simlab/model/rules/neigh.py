"""``ip neigh add|replace|change|del|flush``: neighbour entries a user writes by hand."""

from __future__ import annotations

import errno

from .. import ops as o
from ..errors import NetError, say
from ..state import Neigh
from ..txn import Txn
from .find import find_link

#: What a flush leaves (iproute2's default filter: not PERMANENT, not NOARP).
KEPT_BY_FLUSH = ("PERMANENT", "NOARP")


def neigh_add(t: Txn, op: o.NeighAdd) -> None:
    ns = t.ns(op.netns)
    link = find_link(ns, op.ifname)
    if op.lladdr is None:
        raise NetError.extack("No link layer address given", errno.EINVAL,
                              hint=say("give the MAC: ip neigh add ADDR lladdr MAC dev X",
                                       "MAC を指定してください: ip neigh add ADDR lladdr MAC dev X"))
    old = next((n for n in ns.neighs if n.ifindex == link.ifindex and n.dst == op.dst), None)
    if old is not None and op.mode == "add":
        raise NetError.rtnl(errno.EEXIST, hint=say(f"{op.dst} already has an entry; use ip neigh replace",
                                                   f"{op.dst} のエントリはすでにあります。ip neigh replace を使ってください"))
    if old is None and op.mode == "change":
        raise NetError.rtnl(errno.ENOENT, hint=say(f"there is no entry for {op.dst} to change; add it",
                                                   f"変更する {op.dst} のエントリはありません。追加してください"))
    entry = Neigh(link.ifindex, op.dst, op.lladdr.lower(), op.state)
    if old is not None:  # neigh_update() keeps the entry where it is
        neighs = tuple(entry if n is old else n for n in ns.neighs)
    else:
        neighs = ns.neighs + (entry,)
    t.put(ns.evolve(neighs=neighs))


def neigh_del(t: Txn, op: o.NeighDel) -> None:
    ns = t.ns(op.netns)
    link = find_link(ns, op.ifname)
    old = next((n for n in ns.neighs if n.ifindex == link.ifindex and n.dst == op.dst), None)
    if old is None:
        raise NetError.rtnl(errno.ENOENT, hint=say(f"{op.ifname} has no entry for {op.dst}; see `ip neigh`",
                                                   f"{op.ifname} に {op.dst} のエントリはありません。`ip neigh` で確認してください"))
    t.put(ns.evolve(neighs=tuple(n for n in ns.neighs if n is not old)))


def flushed(op: o.NeighFlush, index: int | None, n: Neigh) -> bool:
    return ((index is None or n.ifindex == index) and n.state not in KEPT_BY_FLUSH
            and (op.family is None or (":" in n.dst) == (op.family == 6)))


def neigh_flush(t: Txn, op: o.NeighFlush) -> None:
    ns = t.ns(op.netns)
    index = find_link(ns, op.ifname).ifindex if op.ifname else None
    t.put(ns.evolve(neighs=tuple(n for n in ns.neighs if not flushed(op, index, n))))
