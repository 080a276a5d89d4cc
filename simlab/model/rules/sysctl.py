"""``sysctl -w`` and ``iptables``: a namespace's own settings and netfilter tables."""

from __future__ import annotations

from .. import ops as o
from ..checks import check_sysctl
from ..netfilter import apply_iptables
from ..txn import Txn


def sysctl_set(t: Txn, op: o.SysctlSet) -> None:
    ns = t.ns(op.netns)
    check_sysctl(op.key)
    t.put(ns.evolve(sysctls={**ns.sysctls, op.key: op.value}))


def iptables(t: Txn, op: o.Iptables) -> None:
    ns = t.ns(op.netns)
    tables = dict(ns.iptables)
    tables[op.table] = apply_iptables(op.table, tables.get(op.table, ()), op.args)
    t.put(ns.evolve(iptables=tables))
