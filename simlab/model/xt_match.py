"""The packet mark and the multiport match: what portmap's rules need from iptables.

Two sides, kept together so the text and the verdict cannot drift apart:

- *text*: how iptables-nft 1.8.9 (Debian 12) prints these options back with
  ``-S`` (checked by running it in ``unshare --net``): ``-m mark --mark 8192``
  shows ``0x2000`` (a mask only when it is not ``0xffffffff``); every form of
  the MARK target (``--set-mark``, ``--or-mark``, ...) shows as the one
  ``--set-xmark VALUE/MASK`` it is compiled to (libxt_MARK's parse);
  ``-m multiport`` needs ``-p tcp`` or ``udp`` before it and takes 15 ports;
  a ``--comment`` is quoted and escaped as ``xtables_save_string`` does;
- *verdict*: ``-m mark --mark V/M`` matches when ``mark & M == V``;
  ``-j MARK --set-xmark V/M`` makes the mark ``(mark & ~M) ^ V`` and the
  chain goes on (xt_MARK returns XT_CONTINUE); ``--dports`` matches any port
  or range of the list.

Written by hand: no library parses iptables' option syntax.
"""

from __future__ import annotations

import errno
import socket

from .errors import NetError, say

__all__ = ["MATCH_OPTS", "MARK_OPTS", "MODULE_OF", "canonical_value", "mark_target", "save_string",
           "hit", "set_mark"]

_ALL = 0xFFFFFFFF
#: Match options this module evaluates (module named after each).
MODULE_OF = {"--mark": "mark", "--dports": "multiport", "--sports": "multiport", "--ports": "multiport",
             "--destination-ports": "multiport", "--source-ports": "multiport"}
_PORT_ALIASES = {"--destination-ports": "--dports", "--source-ports": "--sports"}
MATCH_OPTS = frozenset({"--mark", "--dports", "--sports", "--ports"})
#: The MARK target's options (libxt_MARK, revision 2).
MARK_OPTS = ("--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark")
_MULTIPORT_PROTOS = ("tcp", "udp", "udplite", "sctp", "dccp")


def _usage(text: str, hint) -> NetError:
    return NetError(f"iptables v1.8.9 (nf_tables): {text}\nTry `iptables -h' or 'iptables --help' for more "
                    "information.", errno=errno.EINVAL, exit=2, hint=hint)


def _u32(text: str, what: str) -> int:
    """xtables_strtoui with base 0: decimal, 0x hex or 0 octal, at most 32 bits."""
    try:
        value = int(text, 8) if len(text) > 1 and text[0] == "0" and text[1] in "01234567" else int(text, 0)
    except ValueError:
        value = -1
    if not 0 <= value <= _ALL:
        raise _usage(f'Bad {what} value "{text}"', say(f"a {what} is a number such as 0x2000 or 0x2000/0x2000",
                                                         f"{what} は 0x2000 や 0x2000/0x2000 のような数です"))
    return value


def _value_mask(text: str, what: str) -> tuple[int, int]:
    value, slash, mask = text.partition("/")
    return _u32(value, what), (_u32(mask, what) if slash else _ALL)


def _port(text: str) -> int:
    if text.isdigit() and int(text) <= 65535:
        return int(text)
    try:
        return socket.getservbyname(text)
    except OSError:
        raise _usage(f'invalid port/service `{text}\' specified', say("write ports as numbers: --dports 80,443",
                     "ポートは数字で書いてください: --dports 80,443")) from None


def canonical_value(option: str, value: str, proto: str) -> str:
    """The value of a mark or multiport option as ``iptables -S`` prints it."""
    if option == "--mark":
        mark, mask = _value_mask(value, "mark")
        return f"{mark:#x}" + (f"/{mask:#x}" if mask != _ALL else "")
    if proto not in _MULTIPORT_PROTOS:
        raise _usage("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
                     say("name the protocol first: -p tcp -m multiport --dports 80,443",
                         "先にプロトコルを書いてください: -p tcp -m multiport --dports 80,443"))
    shown, count = [], 0
    for part in value.split(","):
        low, colon, high = part.partition(":")
        count += 2 if colon else 1
        shown.append(f"{_port(low)}:{_port(high)}" if colon else str(_port(low)))
    if count > 15:
        raise _usage("too many ports specified", say("multiport takes up to 15 ports (a range counts as two)",
                     "multiport に書けるのは 15 ポートまで（範囲は 2 つと数える）"))
    return ",".join(shown)


def port_option(option: str) -> str:
    """``--destination-ports`` is ``--dports``, as iptables prints it."""
    return _PORT_ALIASES.get(option, option)


def mark_target(options: list[str]) -> list[str]:
    """``-j MARK``'s options (one of :data:`MARK_OPTS` and its value) as ``--set-xmark V/M``."""
    given = [(options[i], options[i + 1] if i + 1 < len(options) else "") for i in range(0, len(options), 2)]
    if not given:
        raise _usage("MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                     say("write: -j MARK --set-xmark 0x2000/0x2000", "次のように書いてください: -j MARK --set-xmark "
                         "0x2000/0x2000"))
    if len(given) > 1:
        raise _usage(f'MARK: option "{given[0][0]}" cannot be used together with "{given[1][0]}".\n',
                     say("a MARK rule takes one of --set-xmark, --set-mark, --and-mark, --or-mark, --xor-mark",
                         "MARK に書けるのは --set-xmark、--set-mark、--and-mark、--or-mark、--xor-mark の 1 つだけです"))
    option, text = given[0]
    if option not in MARK_OPTS:
        raise _usage(f'unknown option "{option}"', say("write: -j MARK --set-xmark 0x2000/0x2000",
                     "次のように書いてください: -j MARK --set-xmark 0x2000/0x2000"))
    if option in ("--set-xmark", "--set-mark"):
        value, mask = _value_mask(text, "mark")
        if option == "--set-mark":
            mask |= value  # libxt_MARK: --set-mark V/M clears M, then sets V
    else:
        bits = _u32(text, "mark")
        value, mask = {"--and-mark": (0, ~bits & _ALL), "--or-mark": (bits, bits),
                       "--xor-mark": (bits, 0)}[option]
    return ["--set-xmark", f"{value:#x}/{mask:#x}"]


_NO_QUOTE = frozenset("_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def save_string(value: str) -> str:
    """A ``--comment`` as iptables prints it (xtables_save_string): bare if only letters,
    digits, ``_`` and ``-``; else in double quotes with ``"``, ``\\`` and ``'`` escaped."""
    if value and set(value) <= _NO_QUOTE:
        return value
    return '"' + "".join("\\" + c if c in "\"\\'" else c for c in value) + '"'


# ---------------------------------------------------------------- verdicts
def hit(option: str, value: str, mark: int, sport: int | None, dport: int | None) -> bool:
    """Does a packet with this mark and these ports match ``option value``?"""
    if option == "--mark":
        want, mask = _value_mask(value, "mark")
        return mark & mask == want
    ports = {"--dports": (dport,), "--sports": (sport,), "--ports": (sport, dport)}[option]
    for part in value.split(","):
        low, _, high = part.partition(":")
        if any(p is not None and int(low) <= p <= int(high or low) for p in ports):
            return True
    return False


def set_mark(mark: int, args) -> int:
    """The mark after ``-j MARK --set-xmark V/M`` (xt_MARK: ``(mark & ~M) ^ V``)."""
    value, mask = _value_mask(args.get("--set-xmark", "0/0"), "mark")
    return (mark & ~mask & _ALL) ^ value
