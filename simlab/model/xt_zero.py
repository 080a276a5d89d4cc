"""``iptables [-t TABLE] -Z [CHAIN]`` on the model: counters back to zero, iptables' errors."""

from __future__ import annotations

import errno

from .errors import NetError, say
from .netfilter import BUILTIN_CHAINS
from .state import Netns
from .xt_counters import zero

__all__ = ["zero_counters"]


def zero_counters(ns: Netns, table: str, rest: tuple[str, ...]) -> dict:
    """The namespace's counters after ``-Z`` (every chain of ``table``, or ``rest[0]``)."""
    if table not in BUILTIN_CHAINS:
        raise NetError(f"iptables v1.8.9 (nf_tables): table '{table}' does not exist", errno=errno.ENOENT,
                       exit=3, hint=say("tables are filter, nat and mangle",
                                        "テーブルは filter、nat、mangle の 3 つです"))
    if len(rest) > 1:
        raise NetError(f"Bad argument `{rest[1]}'\nTry `iptables -h' or 'iptables --help' for more "
                       "information.", errno=errno.EINVAL, exit=2,
                       hint=say("-Z takes one chain at most", "-Z に渡せるチェインは 1 つまでです"))
    lines = ns.iptables.get(table, ())
    chain = rest[0] if rest else None
    user = [l.split()[1] for l in lines if l.startswith("-N ")]
    if chain is not None and chain not in BUILTIN_CHAINS[table] and chain not in user:
        raise NetError("iptables: No chain/target/match by that name.", errno=errno.ENOENT, exit=1,
                       hint=say("list the chains with iptables -L -n",
                                "チェインの一覧は iptables -L -n で確認できます"))
    return zero(ns.xt_counts, table, lines, chain)
