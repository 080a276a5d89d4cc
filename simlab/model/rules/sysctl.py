"""``sysctl -w`` and ``iptables``: a namespace's own settings and netfilter tables."""

from __future__ import annotations

from .. import ops as o
from .. import xt_counters
from ..checks import check_sysctl
from ..netfilter import apply_iptables
from ..txn import Txn
from ..xt_zero import zero_counters


def sysctl_set(t: Txn, op: o.SysctlSet) -> None:
    ns = t.ns(op.netns)
    check_sysctl(op.key)
    t.put(ns.evolve(sysctls={**ns.sysctls, op.key: op.value}))


def iptables(t: Txn, op: o.Iptables) -> None:
    ns = t.ns(op.netns)
    if op.args[:1] == ("-Z",):
        t.put(ns.evolve(xt_counts=zero_counters(ns, op.table, op.args[1:])))
        return
    tables = dict(ns.iptables)
    old = tables.get(op.table, ())
    tables[op.table] = apply_iptables(op.table, old, op.args)
    counts = dict(ns.xt_counts)
    if op.table in counts:  # rules that stay keep their counters; new ones start at zero
        counts[op.table] = xt_counters.realign(counts[op.table], old, tables[op.table])
    if op.args[0] == "-P":
        counts = xt_counters.policy_set(counts, op.table, op.args[1])
    t.put(ns.evolve(iptables=tables, xt_counts=counts))
