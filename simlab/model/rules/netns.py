"""``ip netns add|del``: a new namespace holds only ``lo``; deleting one takes its links' peers."""

from __future__ import annotations

import errno
from dataclasses import replace

from .. import ops as o
from ..checks import check_netns_name
from ..errors import NetError, say
from ..state import ROOT, new_netns
from ..txn import Txn
from .link import remove_link


def netns_add(t: Txn, op: o.NetnsAdd) -> None:
    check_netns_name(op.name)
    if op.name in t.state.netns:
        raise NetError(
            f'Cannot create namespace file "/run/netns/{op.name}": File exists',
            errno=errno.EEXIST, exit=1,
            hint=say(f"namespace {op.name!r} already exists; pick another name or delete it first",
                     f"名前空間 {op.name!r} はすでにあります。別の名前にするか、先に削除してください"),
        )
    t.put(new_netns(op.name, t.state.tunnels))


def netns_del(t: Txn, op: o.NetnsDel) -> None:
    check_netns_name(op.name)
    if op.name not in t.state.netns or op.name == ROOT:
        raise NetError(
            f'Cannot remove namespace file "/run/netns/{op.name}": No such file or directory',
            errno=errno.ENOENT, exit=1,
            hint=say("list the namespaces with `ip netns`", "名前空間の一覧は `ip netns` で見られます"),
        )
    for link in list(t.ns(op.name).links.values()):
        if link.peer is not None and link.peer[0] != op.name:
            pkey, pindex = link.peer
            if pkey in t.state.netns and pindex in t.ns(pkey).links:
                remove_link(t, pkey, pindex)
    table = {}
    for k, v in t.state.netns.items():
        if k != op.name:  # the others forget the nsid they gave it
            forgot = {n: i for n, i in v.nsids.items() if n != op.name}
            table[k] = v.evolve(nsids=forgot) if op.name in v.nsids else v
    t.state = replace(t.state, netns=table)
