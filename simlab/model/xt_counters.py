"""iptables' packet and byte counters on the model: which rules and policies a packet meets.

The kernel counts, per rule, the packets that matched it (a jump counts even when its
chain returns; RETURN counts too) and, per built-in chain, the packets its policy
decided (the chain's end or a RETURN in it).  Bytes are the IP packet's length (an
echo of ``ping``: 84).  The nat table sees a connection's first packet only.

Where counters live: ``Netns.xt_counts`` (table -> key -> (packets, bytes)), a layer
beside the rules and not part of a snapshot's value (``compare=False``): the kernel's
snapshot reads rules without counters (traffic simlab does not send could move them,
and a kernel lab cannot put counters back when it restores an earlier snapshot), so
snapshots compare as before and ``iptables -L -v`` compares the counted text.

A built-in chain counts what its policy decided only once ``iptables -P`` was given for
it (:func:`policy_set`): iptables-nft 1.8.9 makes the chains without a counter.

A rule's key is its ``iptables -S`` line with its occurrence among equal lines
(``0 -A FORWARD -j DOCKER-USER``); a policy's is ``-P FORWARD``.  A rule made again
starts from zero, as a new kernel rule does.

The packet walk (:mod:`.forward`) reports what it met through :func:`entered` and
:func:`matched` while :func:`recording` listens; :func:`tallies` turns that into
counted keys, and :func:`add` puts a ping's packets in the state.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
from collections.abc import Iterable, Iterator, Mapping

from .netfilter import BUILTIN_CHAINS

__all__ = ["Tally", "recording", "entered", "matched", "tallies", "add", "zero", "realign",
           "counts_of", "rule_keys", "packet_bytes", "count_walk", "policy_set"]

#: One counted thing: (namespace key, table, counter key).
Tally = tuple[str, str, str]

#: The events of the packet being walked: ("enter", netns, table, chain) and
#: ("match", netns, line).  None: nobody listens.
_EVENTS: contextvars.ContextVar[list | None] = contextvars.ContextVar("xt_events", default=None)

#: Targets that end a chain's walk with a verdict (the policy is then not counted).
_VERDICTS = frozenset({"ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT"})


@contextlib.contextmanager
def recording() -> Iterator[list]:
    """Collect the chains and rules one packet meets (see :func:`tallies`)."""
    events: list = []
    token = _EVENTS.set(events)
    try:
        yield events
    finally:
        _EVENTS.reset(token)


def entered(netns: str, table: str, chain: str) -> None:
    """The walk reads ``chain`` (a built-in chain: a new traversal)."""
    events = _EVENTS.get()
    if events is not None:
        events.append(("enter", netns, table, chain))


def matched(netns: str, line: str) -> bool:
    """The walk found ``line`` matching, in the table it entered last (a jump stays in its
    table); returns True (so it can end a match test)."""
    events = _EVENTS.get()
    if events is not None:
        events.append(("match", netns, line))
    return True


def _target(line: str) -> str:
    words = line.split()
    for flag in ("-j", "-g"):
        if flag in words[2:]:
            at = len(words) - 1 - words[::-1].index(flag)
            return words[at + 1] if at + 1 < len(words) else ""
    return ""


def tallies(events: Iterable[tuple], bound: Iterable[str] | None = ()) -> list[Tally]:
    """The counters one packet moves, from its events.

    A built-in chain's policy counts when no rule of its traversal gave a verdict.  In the
    namespaces ``bound`` the packet's connection already has its conntrack entry: the nat
    table is not read again there (the walk still reads it for the rewrite).
    Of equal lines in a table, the first one counts (simlab's tables do not repeat a rule).
    """
    out: list[Tally] = []
    open_: tuple[str, str, str] | None = None  # the built-in chain being walked
    decided = False
    table = ""
    skip = set(bound or ())

    def close() -> None:
        if open_ is not None and not decided:
            out.append((open_[0], open_[1], f"-P {open_[2]}"))

    for event in events:
        if (event[2] if event[0] == "enter" else table) == "nat" and event[1] in skip:
            if event[0] == "enter":
                close()
                open_, table = None, "nat"
            continue
        if event[0] == "enter":
            _, netns, table, chain = event
            if chain in BUILTIN_CHAINS.get(table, ()):
                close()
                open_, decided = (netns, table, chain), False
        else:
            _, netns, line = event
            out.append((netns, table, f"0 {line}"))
            decided = _target(line) in _VERDICTS
    close()
    return out


def rule_keys(lines: tuple[str, ...]) -> list[str]:
    """Each line's counter key, in order (``-N``/``-P`` lines too; only ``-A`` ones count)."""
    seen: dict[str, int] = {}
    keys = []
    for line in lines:
        n = seen.get(line, 0)
        seen[line] = n + 1
        keys.append(f"{n} {line}")
    return keys


def counts_of(counts: Mapping[str, Mapping[str, tuple[int, int]]], table: str,
              key: str) -> tuple[int, int]:
    return counts.get(table, {}).get(key, (0, 0))


def add(counts: Mapping[str, Mapping[str, tuple[int, int]]], keys: Iterable[tuple[str, str]],
        size: int) -> dict[str, dict[str, tuple[int, int]]]:
    """``counts`` with one packet of ``size`` bytes more on each (table, key)."""
    out = {table: dict(per) for table, per in counts.items()}
    for table, key in keys:
        per = out.setdefault(table, {})
        if key.startswith("-P ") and key not in per:
            continue  # a policy nobody set has no counter (see policy_set)
        pkts, octets = per.get(key, (0, 0))
        per[key] = (pkts + 1, octets + size)
    return out


def policy_set(counts: Mapping[str, Mapping[str, tuple[int, int]]], table: str,
               chain: str) -> dict[str, dict[str, tuple[int, int]]]:
    """``iptables -P CHAIN POLICY`` gives the built-in chain a counter of its own.

    iptables-nft 1.8.9 makes its built-in chains without counters and sends a chain with
    them only for ``-P``, at zero: until then the policy line says ``0 packets, 0 bytes``
    whatever the policy decided (seen with Debian 12's iptables on Linux 6.18; ``-Z`` does
    not start it, a later ``-P`` zeroes it).
    """
    out = {t: dict(per) for t, per in counts.items()}
    per = out.setdefault(table, {})
    per[f"-P {chain}"] = (0, 0)  # and every -P starts it again from zero
    return out


def zero(counts: Mapping[str, Mapping[str, tuple[int, int]]], table: str, lines: tuple[str, ...],
         chain: str | None) -> dict[str, dict[str, tuple[int, int]]]:
    """``iptables -Z [CHAIN]``: the chain's rules (and policy) back to zero, or the table's."""
    out = {t: dict(per) for t, per in counts.items()}
    per = out.get(table, {})
    for key in list(per):
        if key.startswith("-P "):
            if chain is None or key == f"-P {chain}":
                per[key] = (0, 0)  # still counting, from zero
        elif chain is None or key.split(" ", 3)[1:3] == ["-A", chain]:
            del per[key]
    return out


def realign(counts: Mapping[str, tuple[int, int]], old: tuple[str, ...],
            new: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """A table's counters after its lines changed: kept rules keep theirs, new ones start at 0."""
    old_keys, new_keys = rule_keys(old), rule_keys(new)
    out = {k: v for k, v in counts.items() if k.startswith("-P ")}
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for block in matcher.get_matching_blocks():
        for i in range(block.size):
            value = counts.get(old_keys[block.a + i])
            if value is not None:
                out[new_keys[block.b + i]] = value
    return out


def packet_bytes(proto: str) -> int:
    """The IP length of the packets simlab sends: an echo of ping (20 + 8 + 56), or a
    connection's first segment as Linux sends it (SYN with its 20 option bytes: 60)."""
    return {"icmp": 84, "tcp": 60, "udp": 28}.get(proto, 84)


def count_walk(state, walk):
    """The state with the counters ``walk``'s request and answer moved (a ping's echo)."""
    if not walk.tallied:
        return state
    size = packet_bytes(walk.proto)
    by_ns: dict[str, list[tuple[str, str]]] = {}
    for netns, table, key in walk.tallied:
        by_ns.setdefault(netns, []).append((table, key))
    spaces = dict(state.netns)
    for netns, keys in by_ns.items():
        ns = spaces.get(netns)
        if ns is not None:
            spaces[netns] = ns.evolve(xt_counts=add(ns.xt_counts, keys, size))
    return dataclasses.replace(state, netns=spaces)
