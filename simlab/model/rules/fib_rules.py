"""``ip rule add|del|flush``: policy routing rules, as net/core/fib_rules.c keeps them.

Facts the rules follow (checked on Linux 6.18 with iproute2 6.1, tests/golden/cases/78, 79):

- a rule without ``pref`` gets one less than the *second* rule's of its family, or 0
  (fib_default_rule_pref()); a rule goes after every rule of the same or a lower pref;
- adding a rule that exists gives EEXIST: action, table, pref, devices and mark must be
  equal, and an address the new rule does not give matches any (``not`` is not compared);
- ``del`` removes the first rule that every selector given matches (rule_find()): table,
  action and addresses match anything when not given, pref only when given;
- ``flush`` is iproute2's: it deletes every rule the kernel dumps with a priority, so the
  rules of priority 0 stay;
- any IPv4 add or delete splits the merged local/main tables for good
  (fib_has_custom_rules): `ip route get` names table local from then on.
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Iterator

from .. import ops as o
from ..errors import NetError, say
from ..state import Netns, Rule
from ..txn import Txn

__all__ = ["rule_add", "rule_del", "rule_flush", "matching", "ACTION_ERRNO"]

#: What a lookup that reaches a rule with this action fails with (fib_rules' actions).
ACTION_ERRNO = {"blackhole": errno.EINVAL, "unreachable": errno.ENETUNREACH, "prohibit": errno.EACCES}
_ALL_BITS = 0xFFFFFFFF


def _mask(r) -> int:
    """The fwmark mask the kernel keeps: all bits for a mark given without one."""
    if r.fwmask is not None:
        return r.fwmask
    return _ALL_BITS if r.fwmark else 0


def _same_prefix(want: str | None, have: str | None) -> bool:
    """fib4/6_rule_compare(): an address not given matches any; else the same address
    (host bits included: the kernel keeps them) and length."""
    if want is None:
        return True
    return have is not None and ipaddress.ip_interface(want) == ipaddress.ip_interface(have)


def _exists(ns: Netns, new: Rule) -> bool:
    for r in ns.rules:
        if r.family != new.family or (r.action, r.table, r.pref, r.iif, r.oif) != \
                (new.action, new.table, new.pref, new.iif, new.oif):
            continue
        if (r.fwmark or 0) != (new.fwmark or 0) or _mask(r) != _mask(new):
            continue
        if _same_prefix(new.src, r.src) and _same_prefix(new.dst, r.dst):
            return True
    return False


def _network(text: str | None) -> str | None:
    """A selector's prefix as `ip rule` prints it: as given, host bits kept (a host
    without its /32 or /128; a /0 is no selector)."""
    if text is None:
        return None
    ip = ipaddress.ip_interface(text)
    if ip.network.prefixlen == 0:
        return None
    return str(ip.ip) if ip.network.prefixlen == ip.max_prefixlen else str(ip)


def rule_add(t: Txn, op: o.RuleAdd) -> None:
    ns = t.ns(op.netns)
    mine = [r for r in ns.rules if r.family == op.family]
    pref = op.pref
    if pref is None:  # fib_default_rule_pref(): below the second rule, if that is above 0
        pref = mine[1].pref - 1 if len(mine) > 1 and mine[1].pref else 0
    table = op.table or (254 if op.action == "lookup" else 0)
    mark = op.fwmark if (op.fwmark or op.fwmask) else None  # a zero mark without a mask is none
    mask = None if mark is None or op.fwmask == _ALL_BITS else op.fwmask
    rule = Rule(pref, op.family, table, op.action, _network(op.src), _network(op.dst), op.iif, op.oif,
                mark, mask, op.invert)
    if _exists(ns, rule):
        raise NetError.rtnl(errno.EEXIST, hint=say(
            f"a rule with these selectors and priority {pref} exists: see ip rule, or give another pref",
            f"この条件と優先度 {pref} のルールはすでにあります。ip rule で確認するか、別の pref を指定してください"))
    # after every rule of its family with the same or a lower pref
    at = 0
    for i, r in enumerate(ns.rules):
        if r.family == op.family and r.pref <= pref:
            at = i + 1
        elif r.family < op.family:
            at = i + 1
    t.put(ns.evolve(rules=ns.rules[:at] + (rule,) + ns.rules[at:],
                    custom_rules=ns.custom_rules or op.family == 4))


def _selected(op: o.RuleDel, r: Rule) -> bool:
    """rule_find(): every selector given matches."""
    if r.family != op.family:
        return False
    if op.action is not None and r.action != op.action:
        return False
    if op.table and r.table != op.table:
        return False
    if op.pref is not None and r.pref != op.pref:
        return False
    if (op.iif and r.iif != op.iif) or (op.oif and r.oif != op.oif):
        return False
    if op.fwmark and r.fwmark != op.fwmark:
        return False
    if _mask(op) and _mask(r) != _mask(op):
        return False
    return _same_prefix(op.src, r.src) and _same_prefix(op.dst, r.dst)


def rule_del(t: Txn, op: o.RuleDel) -> None:
    ns = t.ns(op.netns)
    found = next((r for r in ns.rules if _selected(op, r)), None)
    if found is None:
        raise NetError.rtnl(errno.ENOENT, hint=say(
            "no rule matches these selectors: ip rule lists them (delete one by its pref: ip rule del pref N)",
            "この条件に合うルールはありません。ip rule で一覧を見てください (pref で消せます: ip rule del pref N)"))
    t.put(ns.evolve(rules=tuple(r for r in ns.rules if r is not found),
                    custom_rules=ns.custom_rules or op.family == 4))


def rule_flush(t: Txn, op: o.RuleFlush) -> None:
    ns = t.ns(op.netns)
    kept = tuple(r for r in ns.rules if r.family != op.family or r.pref == 0)
    if kept != ns.rules:
        t.put(ns.evolve(rules=kept, custom_rules=ns.custom_rules or op.family == 4))


def _inside(prefix: str | None, addr) -> bool:
    return prefix is None or addr in ipaddress.ip_interface(prefix).network


def matching(ns: Netns, family: int, saddr, daddr, iif: int = 1, oif: int = 0, mark: int = 0) -> Iterator[Rule]:
    """The rules a lookup tries, in order (fib_rule_match(); a packet this namespace
    sends comes in by ``lo``, ifindex 1, and has no output device nor mark yet)."""
    for r in ns.rules:
        if r.family != family:
            continue
        ok = True
        if r.iif:
            link = ns.link(r.iif)
            ok = link is not None and link.ifindex == iif
        if ok and r.oif:
            link = ns.link(r.oif)
            ok = link is not None and link.ifindex == oif
        if ok and ((r.fwmark or 0) ^ mark) & _mask(r):
            ok = False
        if ok:
            ok = _inside(r.src, saddr) and _inside(r.dst, daddr)
        if ok != r.invert:
            yield r
