"""A namespace's iptables rules, kept as the lines `iptables -S` prints.

Only the rule *text* is modelled (enough for docker's and CNI's rules to be
shown and compared); matching packets against rules lives in the forwarding
walk.  Errors use iptables' own words (iptables-nft 1.8.9, Debian's).

A built-in chain's policy is kept as its ``-P CHAIN DROP`` line only when it is
not ACCEPT (the default), so a table the kernel backend reads back and the
model's hold the same lines.  ``iptables -S`` lists user chains sorted by name,
as iptables-nft does, whatever order they were made in.
"""

from __future__ import annotations

import errno
import ipaddress

from .errors import NetError, say
from .xt_match import MODULE_OF as _XT_MODULE_OF, canonical_value, mark_target, port_option, save_string

__all__ = ["BUILTIN_CHAINS", "POLICIES", "RULE_WORDS", "apply_iptables", "policy_of", "render_rules",
           "unknown_word"]

BUILTIN_CHAINS = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
}

#: The policies a built-in chain may have (``iptables -P CHAIN POLICY``).
POLICIES = ("ACCEPT", "DROP")


#: What a learner may write in a rule: what the forwarding walk evaluates (the rest would
#: go to the real iptables, as root, unmodelled).  Options take one value.
RULE_WORDS = {
    "match": ("-s", "--source", "-d", "--destination", "-i", "--in-interface", "-o",
              "--out-interface", "-p", "--protocol", "--dport", "--destination-port", "--sport",
              "--source-port", "--dst-type", "--src-type", "--ctstate", "--state", "--comment",
              "--icmp-type", "--mark", "--dports", "--sports", "--ports"),
    "module": ("tcp", "udp", "icmp", "comment", "addrtype", "conntrack", "state", "mark", "multiport"),
    "target": ("ACCEPT", "DROP", "RETURN", "REJECT", "MASQUERADE", "DNAT", "SNAT", "MARK"),
    "target option": ("--to-destination", "--to-source", "--to-ports", "--reject-with", "--set-xmark",
                      "--set-mark", "--and-mark", "--or-mark", "--xor-mark"),
    "target flag": ("--random", "--random-fully", "--persistent"),
}
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _plain(word: str) -> bool:
    """A chain name or an option's value: no option of its own, nothing a shell would read."""
    return bool(word) and not word.startswith("-") and len(word) <= 64 and all(
        c.isprintable() and c not in "\\'\"`$;|&<>" for c in word)


def unknown_word(args: tuple[str, ...]) -> str | None:
    """The first word of an iptables command (``-A CHAIN ...``) outside :data:`RULE_WORDS`."""
    if not args:
        return None
    verb, rest = args[0], list(args[1:])
    if rest and not (set(rest[0]) <= _NAME_CHARS and _plain(rest[0])):
        return rest[0]
    if verb == "-P":  # a chain and a policy (iptables itself says which policy is bad)
        return next((w for w in rest[1:2] if not _plain(w)), None) or next(iter(rest[2:]), None)
    if verb not in ("-A", "-I", "-D"):
        return next(iter(rest[1:]), None)  # -N, -X, -F, -S: a chain at most
    words, i = rest[1:], 0
    if verb in ("-I", "-D") and words and words[0].isdigit():
        i = 1  # a rule number: -I CHAIN 1 RULE, -D CHAIN 2
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        if word == "!" or word in RULE_WORDS["target flag"]:
            i += 1
            continue
        if word == "-m":
            if value not in RULE_WORDS["module"]:
                return f"-m {value}".strip()
        elif word in ("-j", "-g"):
            if not (value in RULE_WORDS["target"] or set(value) <= _NAME_CHARS and _plain(value)):
                return value or word
        elif word in RULE_WORDS["match"] or word in RULE_WORDS["target option"]:
            if not _plain(value) and value != "!":
                return value or word
        else:
            return word
        i += 2
    return None


_BASIC = ("-s", "-d", "-i", "-o", "-p")  # iptables -S prints these first, in this order
_ALIASES = {"--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d",
            "--in-interface": "-i", "--out-interface": "-o", "--protocol": "-p",
            "--destination-port": "--dport", "--source-port": "--sport"}
_MODULE_OF = {"--dport": None, "--sport": None, "--icmp-type": "icmp", "--ctstate": "conntrack",
              "--state": "state", "--comment": "comment", "--dst-type": "addrtype",
              "--src-type": "addrtype", **_XT_MODULE_OF}  # None: the -p protocol's own (tcp or udp)
_ICMP_TYPES = {"echo-reply": "0", "destination-unreachable": "3", "network-unreachable": "3/0",
               "host-unreachable": "3/1", "port-unreachable": "3/3", "echo-request": "8",
               "time-exceeded": "11", "any": "any"}


def canonical(words: tuple[str, ...]) -> tuple[str, ...]:
    """A rule's words (after the chain) as ``iptables -S`` prints them back.

    Long options become short ones, a host address gets its ``/32`` and a network its
    masked address, ``--dport``/``--sport``/``--icmp-type`` load the protocol's match
    (``-m tcp``) as iptables does, ICMP type names become numbers, ``-j REJECT`` names its
    default, and the parts go in iptables' order: -s -d -i -o -p, the matches, the target.
    """
    basic: dict[str, tuple[str, ...]] = {}
    matches: list[list[str]] = []
    target: list[str] = []
    proto, negate, i = "", False, 0
    while i < len(words):
        word = port_option(_ALIASES.get(words[i], words[i]))
        value = words[i + 1] if i + 1 < len(words) else ""
        if word == "!":
            negate = True
            i += 1
            continue
        bang = ("!",) if negate else ()
        negate = False
        if word in _BASIC:
            if word == "-p":
                proto = value = value.lower()
            basic[word] = (*bang, word, _address(value) if word in ("-s", "-d") else value)
        elif word == "-m":
            matches.append(["-m", value])
        elif word in ("-j", "-g"):
            target = [word, value]
        elif target and word.startswith("--") and word not in _MODULE_OF:
            flag = word in RULE_WORDS["target flag"]  # --random takes no value
            target += [word] if flag else [word, value]
            i += 1 if flag else 2
            continue
        else:
            module = _MODULE_OF.get(word, "") or proto
            if word == "--icmp-type":
                value = _ICMP_TYPES.get(value, value)
            if not any(m[1] == module for m in matches):
                if module not in ("tcp", "udp", "icmp"):
                    raise NetError(f'iptables v1.8.9 (nf_tables): unknown option "{word}"',
                                   errno=errno.EINVAL, exit=2,
                                   hint=say(f"load its match first: -m {_MODULE_OF.get(word)}",
                                            f"先にマッチを読み込んでください: -m {_MODULE_OF.get(word)}"))
                matches.append(["-m", module])
            if word in _XT_MODULE_OF:
                value = canonical_value(word, value, proto)
            next(m for m in matches if m[1] == module).extend((*bang, word, value))
        i += 2
    if target[:2] == ["-j", "MARK"]:
        target = target[:2] + mark_target(target[2:])
    if target[:2] == ["-j", "REJECT"] and "--reject-with" not in target:
        target += ["--reject-with", "icmp-port-unreachable"]
    out = [w for opt in _BASIC if opt in basic for w in basic[opt]]
    return (*out, *(w for m in matches for w in m), *target)


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return value  # a name: iptables resolves it, simlab leaves it as typed


def _chains(table: str, lines: tuple[str, ...]) -> list[str]:
    """Built-in chains in iptables' order, then user chains by name (iptables-nft's order)."""
    return list(BUILTIN_CHAINS[table]) + sorted(l.split()[1] for l in lines if l.startswith("-N "))


def policy_of(lines: tuple[str, ...], chain: str) -> str:
    """A built-in chain's policy in a table's lines (ACCEPT unless a ``-P`` line says else)."""
    return next((l.split()[2] for l in lines if l.startswith(f"-P {chain} ")), "ACCEPT")


def _policy(table: str, lines: tuple[str, ...], rest: list[str]) -> tuple[str, ...]:
    """``iptables -P CHAIN POLICY``, with iptables' checks in its order."""
    if not rest:
        raise NetError("iptables v1.8.9 (nf_tables): option \"-P\" requires an argument\n"
                       "Try `iptables -h' or 'iptables --help' for more information.",
                       errno=errno.EINVAL, exit=2, hint=say("write: iptables -P FORWARD DROP",
                                                            "次のように書いてください: iptables -P FORWARD DROP"))
    if len(rest) < 2:
        raise NetError("iptables v1.8.9 (nf_tables): -P requires a chain and a policy\n"
                       "Try `iptables -h' or 'iptables --help' for more information.",
                       errno=errno.EINVAL, exit=2, hint=say("write: iptables -P FORWARD DROP",
                                                            "次のように書いてください: iptables -P FORWARD DROP"))
    if len(rest) > 2:
        raise NetError(f"Bad argument `{rest[2]}'\nTry `iptables -h' or 'iptables --help' for more "
                       "information.", errno=errno.EINVAL, exit=2,
                       hint=say("-P takes a chain and a policy, nothing more",
                                "-P に渡すのはチェインとポリシーだけです"))
    chain, policy = rest
    if table == "nat" and policy == "DROP":
        raise _nat_drop()
    if chain not in BUILTIN_CHAINS[table]:
        raise _fail("Bad built-in chain name.",
                    say(f"only built-in chains have a policy ({', '.join(BUILTIN_CHAINS[table])}); a user "
                        "chain's end returns to the rule that jumped to it",
                        f"ポリシーを持つのは組み込みチェイン（{'、'.join(BUILTIN_CHAINS[table])}）だけです。"
                        "ユーザーチェインの末尾では、ジャンプ元のルールに戻ります"))
    if policy not in POLICIES:
        raise _fail("Bad policy name. Run `dmesg' for more information.",
                    say("a policy is ACCEPT or DROP", "ポリシーは ACCEPT か DROP です"))
    kept = tuple(l for l in lines if not l.startswith(f"-P {chain} "))
    return kept if policy == "ACCEPT" else (f"-P {chain} {policy}",) + kept


def _nat_drop() -> NetError:
    return NetError('iptables v1.8.9 (nf_tables): \nThe "nat" table is not intended for filtering, '
                    "the use of DROP is therefore inhibited.\n\n\nTry `iptables -h' or "
                    "'iptables --help' for more information.", errno=errno.EINVAL, exit=2,
                    hint=say("filter in the filter table: iptables -P FORWARD DROP",
                             "破棄は filter テーブルで行います: iptables -P FORWARD DROP"))


def _fail(text: str, hint: str = "") -> NetError:
    return NetError(f"iptables: {text}", errno=errno.ENOENT, exit=1, hint=hint)


def apply_iptables(table: str, lines: tuple[str, ...], args: tuple[str, ...]) -> tuple[str, ...]:
    """Apply one iptables command (``-P/-N/-X/-A/-I/-D/-F``) to a table's lines."""
    if table not in BUILTIN_CHAINS:
        raise NetError(f"iptables v1.8.9 (nf_tables): table '{table}' does not exist", errno=errno.ENOENT, exit=3,
                       hint=say("tables are filter, nat and mangle",
                                "テーブルは filter、nat、mangle の 3 つです"))
    if not args:
        raise NetError("iptables v1.8.9 (nf_tables): no command specified", errno=errno.EINVAL, exit=2,
                       hint=say("give a command: -P, -N, -A, -I, -D, -X or -F",
                                "コマンド (-P、-N、-A、-I、-D、-X、-F のいずれか) を指定してください"))
    verb, rest = args[0], list(args[1:])
    if verb == "-P":
        return _policy(table, lines, rest)
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
        number, words = _rule_number(verb, rest[1:])
        if verb == "-D" and number is not None and not words:
            return _delete_number(lines, chain, number)
        rule = "-A " + " ".join([chain] + _shown(canonical(words)))
        target = rule.split(" -j ")[-1].split()[0] if " -j " in rule else None
        if table == "nat" and target == "DROP":
            raise _nat_drop()
        if target and target not in chains and target not in ("ACCEPT", "DROP", "RETURN", "MASQUERADE", "DNAT", "SNAT", "REJECT", "MARK"):
            raise _fail("No chain/target/match by that name.")
        if verb == "-A":
            return lines + (rule,)
        if verb == "-I":
            return _insert_at(lines, chain, rule, number or 1)
        if rule not in lines:
            raise _fail("Bad rule (does a matching rule exist in that chain?).")
        i = lines.index(rule)
        return lines[:i] + lines[i + 1:]
    raise NetError(f"iptables v1.8.9 (nf_tables): unknown option \"{verb}\"", errno=errno.EINVAL, exit=2,
                   hint=say("simlab supports -P, -N, -X, -A, -I, -D and -F",
                            "simlab が対応しているのは -P、-N、-X、-A、-I、-D、-F です"))


def _q(word: str) -> str:
    return f'"{word}"' if " " in word else word


def _shown(words: tuple[str, ...]) -> list[str]:
    """A rule's words as ``iptables -S`` prints them: a comment quoted and escaped as iptables does."""
    return [save_string(w) if i and words[i - 1] == "--comment" else _q(w) for i, w in enumerate(words)]


def _rule_number(verb: str, words: list[str]) -> tuple[int | None, tuple[str, ...]]:
    """``-I CHAIN [N] RULE`` and ``-D CHAIN N``: the rule number (1 is the first), and the rest."""
    if verb in ("-I", "-D") and words and words[0].isdigit():
        return int(words[0]), tuple(words[1:])
    return None, tuple(words)


def _insert_at(lines: tuple[str, ...], chain: str, rule: str, number: int) -> tuple[str, ...]:
    """``-I CHAIN N``: before the chain's N-th rule (N one past its last rule appends)."""
    places = [i for i, l in enumerate(lines) if l.startswith(f"-A {chain} ")]
    if not 1 <= number <= len(places) + 1:
        raise _fail("Index of insertion too big.")
    at = places[number - 1] if number <= len(places) else (places[-1] + 1 if places else len(lines))
    return lines[:at] + (rule,) + lines[at:]


def _delete_number(lines: tuple[str, ...], chain: str, number: int) -> tuple[str, ...]:
    """``-D CHAIN N``: the chain's N-th rule."""
    places = [i for i, l in enumerate(lines) if l.startswith(f"-A {chain} ")]
    if not 1 <= number <= len(places):
        raise _fail("Index of deletion too big.")
    return lines[:places[number - 1]] + lines[places[number - 1] + 1:]


def render_rules(table: str, lines: tuple[str, ...]) -> str:
    """`iptables -t TABLE -S`: policies, user chains, then rules chain by chain."""
    chains = _chains(table, lines)
    out = [f"-P {c} {policy_of(lines, c)}" for c in BUILTIN_CHAINS[table]]
    out += [f"-N {c}" for c in chains[len(BUILTIN_CHAINS[table]):]]
    for chain in chains:
        out += [l for l in lines if l.startswith(f"-A {chain} ")]
    return "\n".join(out) + "\n"
