"""``ip rule add|del|flush``, as iproute2's iprule_modify() sends them (``RTM_NEWRULE`` /
``RTM_DELRULE`` with a ``fib_rule_hdr``); each returns its undo.

The kernel picks a missing priority itself; the undo of an add finds the rule it made
by comparing the dumps before and after.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_DELRULE, RTM_NEWRULE
from pyroute2.netlink.rtnl.fibmsg import fibmsg

from ..model import ops as o
from ..model.state import Rule
from . import read as rd
from .context import Kernel, Ns, Undo
from .rtnl import CREATE, REQ

__all__ = ["rule_add", "rule_del", "rule_flush"]

ACTIONS = {"lookup": 1, "blackhole": 6, "unreachable": 7, "prohibit": 8}
FIB_RULE_INVERT = 0x2
_PROTOS = {"kernel": 2, "boot": 3, "static": 4}


def _msg(r, family: int, action: str | None, table: int) -> fibmsg:
    """The request for rule (or rule op) ``r``: only what it gives, as iproute2 does."""
    msg = fibmsg()
    msg["family"] = socket.AF_INET6 if family == 6 else socket.AF_INET
    msg["action"] = ACTIONS.get(action, 0) if action else 0
    msg["flags"] = FIB_RULE_INVERT if r.invert else 0
    attrs = []
    if table:
        if table < 256:
            msg["table"] = table
        else:
            attrs.append(("FRA_TABLE", table))
    for name, key, prefix in (("FRA_SRC", "src_len", r.src), ("FRA_DST", "dst_len", r.dst)):
        if prefix:  # as given: the kernel keeps host bits
            ip = ipaddress.ip_interface(prefix)
            msg[key] = ip.network.prefixlen
            attrs.append((name, str(ip.ip)))
    if r.pref is not None:
        attrs.append(("FRA_PRIORITY", r.pref))
    if r.fwmark is not None:
        attrs.append(("FRA_FWMARK", r.fwmark))
    if r.fwmask is not None:
        attrs.append(("FRA_FWMASK", r.fwmask))
    if r.iif:
        attrs.append(("FRA_IIFNAME", r.iif))
    if r.oif:
        attrs.append(("FRA_OIFNAME", r.oif))
    if getattr(r, "proto", "unspec") in _PROTOS:  # a default rule put back by an undo
        attrs.append(("FRA_PROTOCOL", _PROTOS[r.proto]))
    msg["attrs"] = attrs
    return msg


def _put(handle: Ns, rule: Rule) -> None:
    handle.rt.request(_msg(rule, rule.family, rule.action, rule.table), RTM_NEWRULE, CREATE)


def _drop(handle: Ns, rule: Rule) -> None:
    with contextlib.suppress(NetlinkError):
        handle.rt.request(_msg(rule, rule.family, rule.action, rule.table), RTM_DELRULE, REQ)


def _changed(handle: Ns, family: int) -> None:
    if family == 4:  # the kernel's fib_has_custom_rules: set for good
        handle.custom_rules = True


def _change(k: Kernel, op, msg_type: int, flags: int, table: int) -> tuple[Ns, list[Rule], list[Rule]]:
    """Send one rule request; the namespace and its rules before and after."""
    handle = k.ns_of(op.netns)
    before = rd.dump_rules(handle.rt)
    k.talk(handle, _msg(op, op.family, op.action, table), msg_type, flags)
    _changed(handle, op.family)
    return handle, before, rd.dump_rules(handle.rt)


def _extra(more: list[Rule], fewer: list[Rule]) -> list[Rule]:
    return [r for r in more if r not in fewer or more.count(r) > fewer.count(r)][:1]


def rule_add(k: Kernel, op: o.RuleAdd) -> Undo:
    table = op.table or (254 if op.action == "lookup" else 0)
    handle, before, after = _change(k, op, RTM_NEWRULE, CREATE, table)
    made = _extra(after, before)
    return [lambda: [_drop(handle, r) for r in made]]


def rule_del(k: Kernel, op: o.RuleDel) -> Undo:
    handle, before, after = _change(k, op, RTM_DELRULE, REQ, op.table)
    gone = _extra(before, after)
    return [lambda: [_put(handle, r) for r in gone]]


def rule_flush(k: Kernel, op: o.RuleFlush) -> Undo:
    """As iproute2: dump the family's rules, delete each that has a priority (not 0)."""
    handle = k.ns_of(op.netns)
    gone = [r for r in rd.dump_rules(handle.rt) if r.family == op.family and r.pref != 0]
    for r in gone:
        _drop(handle, r)
    if gone:
        _changed(handle, op.family)
    return [lambda: [_put(handle, r) for r in gone]] if gone else []
