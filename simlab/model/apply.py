"""``apply(state, op)``: the kernel's rules, as one pure function.

Rules enforced here (each one seen on a real kernel, see tests/golden):
- a new netns holds only ``lo``, DOWN, ifindex 1 (plus tunnel fallbacks when
  their modules are loaded); ifindexes are allocated per namespace and never
  reused (the counter only grows);
- a veth pair registers its *peer* first, so the peer gets the lower ifindex;
  a name left out is the first free ``veth%d`` / ``bridge%d`` (peer first);
- deleting either end of a veth deletes the pair; deleting a netns deletes its
  links and the veth peers they had elsewhere;
- moving a link to another netns sets it down, drops its addresses and routes,
  removes it from its bridge, resets its qdisc and keeps its ifindex unless
  that is taken there; ``lo`` and bridges cannot move;
- a link's first ``up`` attaches its qdisc (``noqueue`` stays after ``down``);
  ``up`` joins the IPv4 (and a bridge's snooping) multicast groups ``bridge
  fdb`` lists as ``self permanent``, the IPv6 ones (ff02::1, solicited-node)
  follow IPv6 (registration, then carrier); ``down`` leaves them, the IPv6
  ones only if IPv6 had come up;
- addrconf: the first time a link is up *with carrier* it gets its IPv6
  link-local address (EUI-64 of the MAC of that moment; ``lo`` gets ``::1``);
  ``down`` removes every IPv6 address of the link; losing carrier keeps them;
- IPv4: a second address in the subnet of a primary is ``secondary`` and goes
  to the end of the list; deleting a primary deletes its secondaries; a primary
  on an up link adds its connected route (``proto kernel scope link src A``);
  ``down`` removes every route through the link and ``up`` restores only the
  connected ones; deleting the last IPv4 address removes every route through it;
- a gateway must be reachable through a connected route (unless ``onlink``);
  a route without gateway needs its device up;
- a bridge takes the lowest MAC of its ports until one is set by hand, and
  falls back to 00:00:00:00:00:00 when the last port leaves; its MTU follows
  the smallest port until set by hand; before its first port an up bridge
  has carrier, afterwards only while a port forwards (STP off: a port forwards
  while it and the bridge are up and it has carrier);
- a forwarding port learns the MAC of its veth peer once that peer has IPv6
  up (it sends MLD reports and router solicitations for ~10 s; a port that
  starts forwarding later than that learns nothing on a real kernel, the
  model still does); a port that stops forwarding forgets what it learnt;
- operstate is recomputed only when a link's carrier changes (linkwatch, once
  the command is done), by derive.oper_on_carrier_change(); it goes stale
  otherwise, as on the kernel.
Failures raise :class:`NetError` with the kernel's errno and iproute2's text
(a message ending in a newline is iproute2's complete stderr).  ``apply``
never mutates its input and a failing operation changes nothing (the kernel
may burn an ifindex on a failed veth add; the model does not).

Where each rule lives: :mod:`.rules.netns`, :mod:`.rules.link` (add, del,
names, MACs, MTUs), :mod:`.rules.link_set` (set, moves), :mod:`.rules.bridge`
(ports, the bridge's MAC and MTU), :mod:`.rules.carrier` (up/down, carrier,
addrconf, learning, linkwatch), :mod:`.rules.addr`, :mod:`.rules.route`, :mod:`.rules.neigh`,
:mod:`.rules.sysctl` (and iptables), :mod:`.ping`; ip's own checks are in
:mod:`.checks`, copy-on-write in :mod:`.txn`.
"""

from __future__ import annotations

from typing import Callable, Iterable

from . import ops as o
from .ping import ping
from .rules.addr import addr_add, addr_del, addr_flush
from .rules.carrier import linkwatch
from .rules.link import link_add, link_del
from .rules.link_set import link_set
from .rules.fib_rules import rule_add, rule_del, rule_flush
from .rules.neigh import neigh_add, neigh_del, neigh_flush
from .rules.netns import netns_add, netns_del
from .rules.route import route_add, route_del, route_flush
from .rules.sysctl import iptables, sysctl_set
from .state import NetState
from .txn import Txn

__all__ = ["apply", "apply_all"]


def apply(state: NetState, op: o.Op) -> NetState:
    """Carry out one operation on a snapshot; return the new snapshot.

    >>> from simlab.model.state import new_state
    >>> s = apply(new_state(), o.NetnsAdd("red"))
    >>> sorted(s.netns)
    ['', 'red']
    """
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise TypeError(f"not an operation: {op!r}")
    t = Txn(state)
    handler(t, op)
    linkwatch(t)
    return t.state


def apply_all(state: NetState, ops: Iterable[o.Op]) -> NetState:
    """Apply several operations in order; all or nothing."""
    for op in ops:
        state = apply(state, op)
    return state


def _ping(t: Txn, op: o.Ping) -> None:
    t.state = ping(t.state, op)


_HANDLERS: dict[type, Callable[[Txn, o.Op], None]] = {
    o.NetnsAdd: netns_add,
    o.NetnsDel: netns_del,
    o.LinkAdd: link_add,
    o.LinkDel: link_del,
    o.LinkSet: link_set,
    o.AddrAdd: addr_add,
    o.AddrDel: addr_del,
    o.AddrFlush: addr_flush,
    o.RouteAdd: route_add,
    o.RouteDel: route_del,
    o.RouteFlush: route_flush,
    o.NeighAdd: neigh_add,
    o.NeighDel: neigh_del,
    o.NeighFlush: neigh_flush,
    o.RuleAdd: rule_add,
    o.RuleDel: rule_del,
    o.RuleFlush: rule_flush,
    o.SysctlSet: sysctl_set,
    o.Ping: _ping,
    o.Iptables: iptables,
}
