"""The kernel backend's one table: which handler carries out which operation.

A handler is ``handler(k, op)`` (``k``: the :class:`~simlab.kernel.context.Kernel`
context) and returns the actions that undo it, or, for an operation that answers
something and changes nothing to undo (ping), its answer.
"""

from __future__ import annotations

from collections.abc import Callable

from ..model import ops as o
from . import addrs, fib_rules, links, neighs, spaces, tools

__all__ = ["HANDLERS"]

HANDLERS: dict[type, Callable] = {
    o.NetnsAdd: spaces.netns_add,
    o.NetnsDel: spaces.netns_del,
    o.LinkAdd: links.link_add,
    o.LinkDel: links.link_del,
    o.LinkSet: links.link_set,
    o.AddrAdd: addrs.addr_add,
    o.AddrDel: addrs.addr_del,
    o.AddrFlush: addrs.addr_flush,
    o.RouteAdd: addrs.route_add,
    o.RouteDel: addrs.route_del,
    o.RouteFlush: addrs.route_flush,
    o.NeighAdd: neighs.neigh_add,
    o.NeighDel: neighs.neigh_del,
    o.NeighFlush: neighs.neigh_flush,
    o.RuleAdd: fib_rules.rule_add,
    o.RuleDel: fib_rules.rule_del,
    o.RuleFlush: fib_rules.rule_flush,
    o.SysctlSet: tools.sysctl_set,
    o.Iptables: tools.iptables,
    o.Ping: tools.ping,
}
