"""The listing commands of iptables: ``-L``, ``-Z`` and ``-S -v``, read as iptables reads them.

iptables parses with getopt: short options bundle (``-nvL``), ``-L``, ``-S`` and ``-Z``
take their chain in the same word (``-LINPUT``; so ``-Ln`` lists a chain called ``n``)
or as the next word unless it starts with ``-`` or ``!``, and then a rule number the
same way; a word left over is a ``Bad argument``.  The errors are iptables-nft 1.8.9's.

:func:`list_command` answers only for these commands; anything else (``-A``, ``-P``,
``-N``) is left to the rest of :mod:`.parse`.
"""

from __future__ import annotations

from ..i18n import say
from ..model import ops as o
from ..model.errors import UsageError
from ..model.netfilter import BUILTIN_CHAINS
from .command import Change, IptablesList, IptablesShow, Show

__all__ = ["list_command"]

_TRY = "\nTry `iptables -h' or 'iptables --help' for more information."
_LONG = {"--list": "L", "--list-rules": "S", "--zero": "Z", "--numeric": "n", "--verbose": "v",
         "--exact": "x", "--line-numbers": "0", "--table": "t", "--wait": "w"}
_COMMANDS = "LSZ"
#: The options each listing command allows (commands_v_options in iptables' xshared.c);
#: ``0`` is --line-numbers, which iptables names so in its error.
_LEGAL = {"L": "nvx0", "S": "v", "Z": "v"}


def _error(text: str, hint: str = "") -> UsageError:
    return UsageError(f"iptables v1.8.9 (nf_tables): {text}{_TRY}", exit=2,
                      hint=hint or say("write: iptables -L -n -v (or -t nat -L -n -v)",
                                       "次のように書いてください: iptables -L -n -v（nat なら -t nat -L -n -v）"))


def _has_arg(words: list[str], i: int) -> bool:
    return i < len(words) and not words[i].startswith(("-", "!"))


def list_command(words: list[str], netns: str, line: str) -> Show | Change | None:
    """``-L``/``-Z``/``-S`` as a Show or Change; None when the command is another one."""
    if not any(w in ("-L", "--list", "-Z", "--zero", "-S", "--list-rules") or _bundle_has(w, "LZS")
               for w in words):
        return None
    table, commands, chain, rulenum, flags = "filter", [], None, None, set()
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            found = [k for k in _LONG if k.startswith(name)]
            if name not in _LONG and len(found) != 1:
                return None  # an option of another command: the rest of the parser speaks
            letter = _LONG[name if name in _LONG else found[0]]
            bundle = [(letter, value if eq else "")]
        elif word.startswith("-") and len(word) > 1:
            bundle, j = [], 1
            while j < len(word):
                letter = word[j]
                j += 1
                if letter in "t" + _COMMANDS + "w":
                    bundle.append((letter, word[j:]))
                    break
                bundle.append((letter, ""))
        else:
            raise UsageError(f"Bad argument `{word}'{_TRY}", exit=2,
                             hint=say("the chain comes right after -L: iptables -L FORWARD -n -v",
                                      "チェインは -L の直後に書きます: iptables -L FORWARD -n -v"))
        for letter, value in bundle:
            if letter == "t":
                if not value:
                    if i >= len(words):
                        raise _error('option "-t" requires an argument')
                    value, i = words[i], i + 1
                table = value
            elif letter in _COMMANDS:
                if commands and {letter, commands[0]} in ({"L", "Z"}, {"S", "Z"}):
                    raise UsageError(say("simlab does not list and zero the counters in one command",
                                         "simlab では一覧とカウンターのゼロ化を 1 つのコマンドでは行いません"),
                                     hint=say("run iptables -L -n -v, then iptables -Z",
                                              "iptables -L -n -v の後で iptables -Z を実行してください"))
                if commands:
                    raise _error(f"Cannot use -{letter} with -{commands[0]}")
                commands.append(letter)
                chain = value or None
                if chain is None and _has_arg(words, i):
                    chain, i = words[i], i + 1
                if _has_arg(words, i):
                    rulenum, i = words[i], i + 1
            elif letter in "nvx0":
                flags.add(letter)
            elif letter == "w":
                if not value and _has_arg(words, i):
                    i += 1
            else:
                return None
    if not commands:
        return None
    command = commands[0]
    for flag in sorted(flags):
        if flag not in _LEGAL[command]:
            raise _error(f"Illegal option `-{flag}' with this command")
    if rulenum is not None:
        if not rulenum.isdigit() or int(rulenum) < 1:
            raise _error(f"Invalid rule number `{rulenum}'")
        raise UsageError(say("simlab lists whole chains: leave out the rule number",
                             "simlab はチェイン全体を表示します。ルール番号は外してください"),
                         hint=say(f"write: iptables -L {chain} -n -v --line-numbers",
                                  f"次のように書いてください: iptables -L {chain} -n -v --line-numbers"))
    if command == "Z":
        if table not in BUILTIN_CHAINS:
            raise UsageError(say(f'simlab does not model the iptables table "{table}"',
                                 f'simlab は iptables のテーブル "{table}" を扱いません'),
                             hint=say("the tables are filter, nat and mangle",
                                      "テーブルは filter、nat、mangle です"))
        args = ("-Z", chain) if chain else ("-Z",)
        return Change((o.Iptables(table, args, netns=netns),), line)
    if command == "S":
        return Show("iptables", IptablesShow(table, chain, verbose="v" in flags), tuple(words), netns,
                    text=line)
    return Show("iptables", IptablesList(table, chain, numeric="n" in flags, verbose="v" in flags,
                                         exact="x" in flags, line_numbers="0" in flags),
                tuple(words), netns, text=line)


def _bundle_has(word: str, letters: str) -> bool:
    """A bundle of short options (``-nvL``) holding one of ``letters`` before any argument."""
    if not word.startswith("-") or word.startswith("--") or len(word) < 2:
        return False
    for letter in word[1:]:
        if letter in letters:
            return True
        if letter not in "nvx":
            return False
    return False

