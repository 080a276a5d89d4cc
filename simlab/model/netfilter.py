"""A namespace's iptables rules, kept as the lines `iptables -S` prints.

Only the rule *text* is modelled (enough for docker's and CNI's NAT rules to be
shown and compared); matching packets against rules lives in the forwarding
walk.  Errors use iptables' own words.
"""

from __future__ import annotations

import errno

from .errors import NetError, say

__all__ = ["BUILTIN_CHAINS", "apply_iptables", "render_rules"]

BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
}


def _chains(table: str, lines: tuple[str, ...]) -> list[str]:
    return list(BUILTIN_CHAINS[table]) + [l.split()[1] for l in lines if l.startswith("-N ")]


def _fail(text: str, hint: str = "") -> NetError:
    return NetError(f"iptables: {text}", errno=errno.ENOENT, exit=1, hint=hint)


def apply_iptables(table: str, lines: tuple[str, ...], args: tuple[str, ...]) -> tuple[str, ...]:
    """Apply one iptables command (``-N/-X/-A/-I/-D/-F``) to a table's lines."""
    if table not in BUILTIN_CHAINS:
        raise NetError(f"iptables v1.8.9 (nf_tables): table '{table}' does not exist", errno=errno.ENOENT, exit=3,
                       hint=say("tables are filter, nat and mangle",
                                "テーブルは filter、nat、mangle の 3 つです"))
    if not args:
        raise NetError("iptables v1.8.9 (nf_tables): no command specified", errno=errno.EINVAL, exit=2,
                       hint=say("give a command: -N, -A, -I, -D, -X or -F",
                                "コマンド (-N、-A、-I、-D、-X、-F のいずれか) を指定してください"))
    verb, rest = args[0], list(args[1:])
    chain = rest[0] if rest else ""
    chains = _chains(table, lines)
    if verb == "-N":
        if chain in chains:
            raise _fail("Chain already exists.")
        return lines + (f"-N {chain}",)
    if verb == "-X":
        if chain not in chains or chain in BUILTIN_CHAINS[table]:
            raise _fail("No chain/target/match by that name.")
        if any(l.startswith(f"-A {chain} ") for l in lines) or any(l.endswith(f"-j {chain}") for l in lines):
            # iptables-nft 1.8.9 (Debian's iptables) words it this way, exit 4.
            raise NetError(f"iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): "
                           f"chain {chain}", errno=errno.EBUSY, exit=4,
                           hint=say("flush the chain and remove the rules jumping to it first",
                                    "先にチェインを flush し、"
                                    "そのチェインへジャンプするルールを削除してください"))
        return tuple(l for l in lines if l != f"-N {chain}")
    if verb == "-F":
        return tuple(l for l in lines if not (l.startswith(f"-A {chain} ") or (not chain and l.startswith("-A "))))
    if verb in ("-A", "-I", "-D"):
        if chain not in chains:
            raise _fail("No chain/target/match by that name.",
                        say(f"create the chain first with -N {chain}",
                            f"先に -N {chain} でチェインを作成してください"))
        rule = "-A " + " ".join([chain] + [_q(w) for w in rest[1:]])
        target = rule.split(" -j ")[-1].split()[0] if " -j " in rule else None
        if target and target not in chains and target not in ("ACCEPT", "DROP", "RETURN", "MASQUERADE", "DNAT", "SNAT", "REJECT"):
            raise _fail("No chain/target/match by that name.")
        if verb == "-A":
            return lines + (rule,)
        if verb == "-I":
            at = next((i for i, l in enumerate(lines) if l.startswith(f"-A {chain} ")), len(lines))
            return lines[:at] + (rule,) + lines[at:]
        if rule not in lines:
            raise _fail("Bad rule (does a matching rule exist in that chain?).")
        i = lines.index(rule)
        return lines[:i] + lines[i + 1:]
    raise NetError(f"iptables v1.8.9 (nf_tables): unknown option \"{verb}\"", errno=errno.EINVAL, exit=2,
                   hint=say("simlab supports -N, -X, -A, -I, -D and -F",
                            "simlab が対応しているのは -N、-X、-A、-I、-D、-F です"))


def _q(word: str) -> str:
    return f'"{word}"' if " " in word else word


def render_rules(table: str, lines: tuple[str, ...]) -> str:
    """`iptables -t TABLE -S`: policies, user chains, then rules chain by chain."""
    out = [f"-P {c} ACCEPT" for c in BUILTIN_CHAINS[table]]
    out += [l for l in lines if l.startswith("-N ")]
    for chain in _chains(table, lines):
        out += [l for l in lines if l.startswith(f"-A {chain} ")]
    return "\n".join(out) + "\n"
