"""`iptables -L` (and `iptables -S -v`) from a namespace's rules and counters, as
iptables-nft 1.8.9 prints them (Debian 12's iptables).

The rules are kept as the lines ``iptables -S`` prints (:mod:`simlab.model.netfilter`);
this module reads those words back into the columns of ``-L``: ``target prot opt
[in out] source destination`` and the matches and target options in iptables' own
words (``tcp dpt:80``, ``ctstate RELATED,ESTABLISHED``, ``ADDRTYPE match dst-type
LOCAL``, ``/* comment */``, ``to:172.17.0.2:80``).  Widths and the K/M/G/T counters
follow iptables' ``print_header``, ``print_rule_details`` and ``xtables_print_num``;
the expected texts were recorded from the real tool (tests/test_iptables_list.py).

Without ``-n`` iptables names what it can: ``anywhere``, protocols, services (from
the machine's /etc/services, as iptables reads it), ICMP types, and addresses through
the resolver.  simlab names the addresses only from the entries Debian's /etc/hosts
and /etc/networks ship (localhost, default, loopback, link-local) and prints every
other address as a number, which is what iptables prints in a lab's namespace (it has
no route to a DNS server, so the reverse lookups find nothing).
"""

from __future__ import annotations

import errno
import ipaddress
import shlex
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from ..i18n import say
from ..model.errors import NetError
from ..model.netfilter import BUILTIN_CHAINS, policy_of
from ..model.xt_counters import counts_of, rule_keys

__all__ = ["ListOptions", "check_table", "render_list", "render_iptables_list", "render_rules_verbose",
           "fmt_num"]


@dataclass(frozen=True)
class ListOptions:
    numeric: bool = False  # -n
    verbose: bool = False  # -v
    exact: bool = False  # -x
    line_numbers: bool = False  # --line-numbers


#: iptables' own protocol names (xtables_chain_protos), then /etc/protocols' usual ones.
_PROTOS = {"all": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47,
           "esp": 50, "ah": 51, "icmpv6": 58, "sctp": 132, "udplite": 136}
_PROTO_NAMES = {v: k for k, v in _PROTOS.items()}
#: Debian's /etc/networks and /etc/hosts (the names iptables finds without DNS).
_NETWORKS = {"0.0.0.0": "default", "127.0.0.0": "loopback", "169.254.0.0": "link-local"}
_HOSTS = {"127.0.0.1": "localhost"}
#: ICMP types iptables names (libxt_icmp's table): (type, code_min, code_max) -> name.
_ICMP_NAMES = {
    (255, 0, 255): "any", (0, 0, 255): "echo-reply", (3, 0, 255): "destination-unreachable",
    (3, 0, 0): "network-unreachable", (3, 1, 1): "host-unreachable", (3, 2, 2): "protocol-unreachable",
    (3, 3, 3): "port-unreachable", (3, 4, 4): "fragmentation-needed", (3, 5, 5): "source-route-failed",
    (3, 6, 6): "network-unknown", (3, 7, 7): "host-unknown", (3, 9, 9): "network-prohibited",
    (3, 10, 10): "host-prohibited", (3, 11, 11): "TOS-network-unreachable",
    (3, 12, 12): "TOS-host-unreachable", (3, 13, 13): "communication-prohibited",
    (3, 14, 14): "host-precedence-violation", (3, 15, 15): "precedence-cutoff",
    (4, 0, 255): "source-quench", (5, 0, 255): "redirect", (5, 0, 0): "network-redirect",
    (5, 1, 1): "host-redirect", (5, 2, 2): "TOS-network-redirect", (5, 3, 3): "TOS-host-redirect",
    (8, 0, 255): "echo-request", (9, 0, 255): "router-advertisement", (10, 0, 255): "router-solicitation",
    (11, 0, 255): "time-exceeded", (11, 0, 0): "ttl-zero-during-transit",
    (11, 1, 1): "ttl-zero-during-reassembly", (12, 0, 255): "parameter-problem",
    (12, 0, 0): "ip-header-bad", (12, 1, 1): "required-option-missing", (13, 0, 255): "timestamp-request",
    (14, 0, 255): "timestamp-reply", (17, 0, 255): "address-mask-request",
    (18, 0, 255): "address-mask-reply",
}
_ICMP_BY_NAME = {name: key for key, name in _ICMP_NAMES.items()}


def fmt_num(number: int, exact: bool, table: bool = True) -> str:
    """xtables_print_num(): ``%5llu``, or rounded to K/M/G/T; exact (-x): ``%8llu``.
    Outside the table (the policy line) without padding."""
    if exact:
        return f"{number:8d} " if table else f"{number} "
    if number <= 99999:
        return f"{number:5d} " if table else f"{number} "
    for unit in "KMGT":
        number = (number + 500) // 1000
        if number <= 9999 or unit == "T":
            return f"{number:4d}{unit} " if table else f"{number}{unit} "
    raise AssertionError("unreachable")


@dataclass
class _Rule:
    """One ``-A`` line read back into what ``-L`` shows."""

    chain: str
    src: tuple[bool, str] = (False, "0.0.0.0/0")
    dst: tuple[bool, str] = (False, "0.0.0.0/0")
    iif: tuple[bool, str] = (False, "")
    oif: tuple[bool, str] = (False, "")
    proto: tuple[bool, str] = (False, "all")
    matches: list[tuple[str, list[tuple[bool, str, str]]]] | None = None  # module, options
    target: str = ""
    goto: bool = False
    target_opts: list[tuple[str, str]] | None = None


_FLAGS = ("--random", "--random-fully", "--persistent", "--limit-iface-in", "--limit-iface-out",
          "--syn")


def _read(line: str) -> _Rule:
    words = shlex.split(line)
    rule = _Rule(words[1], matches=[], target_opts=[])
    i, neg = 2, False
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        if word == "!":
            neg, i = True, i + 1
            continue
        if word in ("-s", "-d", "-i", "-o", "-p"):
            field = {"-s": "src", "-d": "dst", "-i": "iif", "-o": "oif", "-p": "proto"}[word]
            setattr(rule, field, (neg, value))
        elif word == "-m":
            rule.matches.append((value, []))
        elif word in ("-j", "-g"):
            rule.target, rule.goto = value, word == "-g"
        elif rule.target:
            if word in _FLAGS:
                rule.target_opts.append((word, ""))
                i += 1
                continue
            rule.target_opts.append((word, value))
        elif rule.matches:
            if word in _FLAGS:
                rule.matches[-1][1].append((neg, word, ""))
                neg, i = False, i + 1
                continue
            rule.matches[-1][1].append((neg, word, value))
        neg = False
        i += 2
    return rule


def _proto_number(name: str) -> int | None:
    if name.isdigit():
        return int(name)
    return _PROTOS.get(name)


def _port(port: str, proto: str, numeric: bool) -> str:
    if numeric or not port.isdigit():
        return port
    try:
        return socket.getservbyport(int(port), proto)
    except (OSError, OverflowError):
        return port


def _ports(name: str, spec: str, neg: bool, proto: str, numeric: bool) -> str:
    low, sep, high = spec.partition(":")
    inv = "!" if neg else ""
    if not sep:
        return f" {name}:{inv}{_port(low, proto, numeric)}"
    low, high = low or "0", high or "65535"
    if (low, high) == ("0", "65535") and not neg:
        return ""
    return f" {name}s:{inv}{_port(low, proto, numeric)}:{_port(high, proto, numeric)}"


_TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20,
              "ALL": 0x3F, "NONE": 0}


def _tcp_flags(words: str) -> int:
    return sum(_TCP_FLAGS.get(w, 0) for w in words.split(","))


def _match_text(module: str, opts: list[tuple[bool, str, str]], proto: str, numeric: bool) -> str:
    """One match as ``iptables -L`` prints it (with its leading space)."""
    get = {opt: (neg, value) for neg, opt, value in opts}
    if module in ("tcp", "udp"):
        out = f" {module}"
        for opt, name in (("--sport", "spt"), ("--dport", "dpt")):
            if opt in get:
                out += _ports(name, get[opt][1], get[opt][0], module, numeric)
        if "--tcp-flags" in get:
            mask, _, comp = get["--tcp-flags"][1].partition(" ")
            neg = "!" if get["--tcp-flags"][0] else ""
            out += f" flags:{neg}0x{_tcp_flags(mask):02X}/0x{_tcp_flags(comp):02X}"
        return out
    if module == "icmp":
        neg, value = get.get("--icmp-type", (False, "any"))
        kind, _, code = value.partition("/")
        if kind in _ICMP_BY_NAME:
            t, lo, hi = _ICMP_BY_NAME[kind]
        else:
            t = int(kind)
            lo, hi = (int(code), int(code)) if code else (0, 255)
        if not numeric and (t, lo, hi) in _ICMP_NAMES:
            return f" icmp {'!' if neg else ''}{_ICMP_NAMES[(t, lo, hi)]}"
        out = " icmp" + (" !" if neg else "") + f"type {t}"
        if lo == hi:
            out += f" code {lo}"
        elif (lo, hi) != (0, 255):
            out += f" codes {lo}-{hi}"
        return out
    if module in ("conntrack", "state"):
        opt = "--ctstate" if module == "conntrack" else "--state"
        neg, value = get.get(opt, (False, ""))
        word = "ctstate" if module == "conntrack" else "state"
        return f"{' !' if neg else ''} {word} {value}"
    if module == "addrtype":
        out = " ADDRTYPE match"
        for opt, word in (("--src-type", "src-type"), ("--dst-type", "dst-type")):
            if opt in get:
                out += f" {word} {'!' if get[opt][0] else ''}{get[opt][1]}"
        if "--limit-iface-in" in get:
            out += " limit-in"
        if "--limit-iface-out" in get:
            out += " limit-out"
        return out
    if module == "comment":
        return f" /* {get.get('--comment', (False, ''))[1]} */"
    if module == "multiport":
        for opt in ("--dports", "--sports", "--ports", "--destination-ports", "--source-ports"):
            if opt in get:
                neg, value = get[opt]
                which = {"--destination-ports": "dports", "--source-ports": "sports"}.get(opt, opt[2:])
                ports = ",".join(":".join(_port(p, proto, numeric) for p in part.split(":"))
                                 for part in value.split(","))
                return f" multiport {which} {'!' if neg else ''}{ports}"
        return " multiport"
    if module == "mark":
        neg, value = get.get("--mark", (False, ""))
        mark, _, mask = value.partition("/")
        shown = f"0x{int(mark, 0):x}" + (f"/0x{int(mask, 0):x}" if mask and int(mask, 0) != 0xFFFFFFFF else "")
        return f" mark match{' !' if neg else ''} {shown}"
    # A match simlab does not model: its -S words, as a reminder of what is there.
    return " " + " ".join(w for neg, opt, value in opts for w in (("!",) if neg else ()) + (opt, value) if w)


def _target_text(rule: _Rule) -> str:
    opts = dict(rule.target_opts or [])
    flags = "".join(f" {w[2:]}" for w in ("--random", "--random-fully", "--persistent") if w in opts)
    if rule.target in ("DNAT", "SNAT"):
        to = opts.get("--to-destination" if rule.target == "DNAT" else "--to-source", "")
        return f" to:{to}" + flags
    if rule.target == "MASQUERADE":
        ports = f" masq ports: {opts['--to-ports']}" if "--to-ports" in opts else ""
        return ports + flags
    if rule.target == "REDIRECT":
        return f" redir ports {opts['--to-ports']}" if "--to-ports" in opts else ""
    if rule.target == "REJECT":
        return f" reject-with {opts.get('--reject-with', 'icmp-port-unreachable')}"
    if rule.target == "MARK":
        value = opts.get("--set-xmark") or opts.get("--set-mark") or "0"
        mark, _, mask = value.partition("/")
        m, k = int(mark, 0), int(mask, 0) if mask else 0xFFFFFFFF
        if m == 0:
            return f" MARK and 0x{~k & 0xFFFFFFFF:x}"
        if m == k:
            return f" MARK or 0x{m:x}"
        if k == 0:
            return f" MARK xor 0x{m:x}"
        if k == 0xFFFFFFFF:
            return f" MARK set 0x{m:x}"
        return f" MARK xset 0x{m:x}/0x{k:x}"
    return ""


def _address(value: str, numeric: bool) -> str:
    net = ipaddress.ip_network(value, strict=False)
    if net.prefixlen == 0 and not numeric:
        return "anywhere"
    host = str(net.network_address)
    if not numeric:
        host = _NETWORKS.get(host) or _HOSTS.get(host) or host
    return host if net.prefixlen == 32 else f"{host}/{net.prefixlen}"


def _iface(value: tuple[bool, str], numeric: bool) -> str:
    neg, name = value
    return ("!" if neg else "") + (name or ("*" if numeric else "any"))


def _row(rule: _Rule, opts: ListOptions, num: int, counters: tuple[int, int]) -> str:
    out = f"{num:<4d} " if opts.line_numbers else ""
    if opts.verbose:
        out += fmt_num(counters[0], opts.exact) + fmt_num(counters[1], opts.exact)
    out += f"{rule.target:<9s} "
    neg, proto = rule.proto
    number = _proto_number(proto)
    out += "!" if neg else " "
    if opts.numeric:
        out += f"{number if number is not None else proto:<4} "
    else:
        name = _PROTO_NAMES.get(number, proto) if number is not None else proto
        out += f"{name:<4s} "
    out += "-- "
    if opts.verbose:
        out += f" {_iface(rule.iif, opts.numeric):<6s} {_iface(rule.oif, opts.numeric):<6s} "
    out += ("!" if rule.src[0] else " ") + f"{_address(rule.src[1], opts.numeric):<19s} "
    out += ("!" if rule.dst[0] else " ") + f"{_address(rule.dst[1], opts.numeric):<19s} "
    if rule.goto:
        out += "[goto] "
    pname = _PROTO_NAMES.get(number, proto) if number is not None else proto
    for module, mopts in rule.matches or []:
        out += _match_text(module, mopts, pname, opts.numeric)
    return out + _target_text(rule)


def _header(chain: str, builtin: bool, policy: str, refs: int, opts: ListOptions,
            counters: tuple[int, int]) -> list[str]:
    if builtin:
        head = f"Chain {chain} (policy {policy}"
        if opts.verbose:
            head += (" " + fmt_num(counters[0], opts.exact, table=False) + "packets, "
                     + fmt_num(counters[1], opts.exact, table=False) + "bytes")
        head += ")"
    else:
        head = f"Chain {chain} ({refs} references)"
    cols = "num  " if opts.line_numbers else ""
    if opts.verbose:
        cols += (f"{'pkts':>8s} {'bytes':>10s} " if opts.exact else f"{'pkts':>5s} {'bytes':>5s} ")
    cols += f"{'target':<9s}  prot opt"
    if opts.verbose:
        cols += f" {'in':<6s} {'out':<6s} "
    cols += f" {'source':<19s}  {'destination':<19s} "
    return [head, cols]


def _chains(table: str, lines: tuple[str, ...]) -> list[str]:
    return list(BUILTIN_CHAINS[table]) + sorted(l.split()[1] for l in lines if l.startswith("-N "))


def render_list(table: str, lines: tuple[str, ...], counts: Mapping[str, Mapping[str, tuple[int, int]]],
                opts: ListOptions, chain: str | None = None) -> str:
    """``iptables -t TABLE -L [CHAIN] [-n] [-v] [-x] [--line-numbers]`` (``chain`` checked by
    the caller)."""
    keys = dict(zip(range(len(lines)), rule_keys(lines)))
    targets = [w for l in lines if l.startswith("-A ") for w in [_jump(l)] if w]
    blocks = []
    for name in _chains(table, lines):
        if chain is not None and name != chain:
            continue
        builtin = name in BUILTIN_CHAINS[table]
        out = _header(name, builtin, policy_of(lines, name), targets.count(name), opts,
                      counts_of(counts, table, f"-P {name}"))
        num = 0
        for i, line in enumerate(lines):
            if line.startswith(f"-A {name} "):
                num += 1
                out.append(_row(_read(line), opts, num, counts_of(counts, table, keys[i])))
        blocks.append("\n".join(out) + "\n")
    return "\n".join(blocks)


def check_table(table: str) -> None:
    """iptables' error for a table simlab does not model (the kernel has raw and security too)."""
    if table not in BUILTIN_CHAINS:
        raise NetError(f"iptables v1.8.9 (nf_tables): table '{table}' does not exist\n"
                       "Perhaps iptables or your kernel needs to be upgraded.", errno=errno.ENOENT, exit=3,
                       hint=say("tables are filter, nat and mangle",
                                "テーブルは filter、nat、mangle のいずれかです"))


def render_iptables_list(state, ns, sel, opts) -> str:
    """The renderer of :class:`~simlab.iproute.command.IptablesList` (a show's snapshot)."""
    table = sel.table
    check_table(table)
    lines = ns.iptables.get(table, ())
    if sel.chain is not None and sel.chain not in _chains(table, lines):
        # iptables-nft 1.8.9's words for a chain it cannot find (exit 1).
        raise NetError(f"iptables v1.8.9 (nf_tables): chain `{sel.chain}' in table `{table}' is "
                       "incompatible, use 'nft' tool.", errno=errno.ENOENT, exit=1,
                       hint=say("list the chains with iptables -L -n (chain names are case-sensitive)",
                                "チェインの一覧は iptables -L -n で確認できます（大文字と小文字は区別されます）"))
    return render_list(table, lines, ns.xt_counts,
                       ListOptions(sel.numeric, sel.verbose, sel.exact, sel.line_numbers), sel.chain)


def _jump(line: str) -> str:
    words = shlex.split(line)
    for flag in ("-j", "-g"):
        if flag in words:
            at = words.index(flag)
            return words[at + 1] if at + 1 < len(words) else ""
    return ""


def render_rules_verbose(table: str, text: str, lines: tuple[str, ...],
                         counts: Mapping[str, Mapping[str, tuple[int, int]]]) -> str:
    """``iptables -S -v``: the ``-S`` text (``text``) with ``-c PACKETS BYTES`` on each
    policy and rule, before the rule's target, as iptables-nft 1.8.9 prints it."""
    seen: dict[str, int] = {}
    out = []
    for line in text.splitlines():
        if line.startswith("-P "):
            p, b = counts_of(counts, table, "-P " + line.split()[1])
            out.append(f"{line} -c {p} {b}")
            continue
        if not line.startswith("-A "):
            out.append(line)
            continue
        n = seen.get(line, 0)
        seen[line] = n + 1
        p, b = counts_of(counts, table, f"{n} {line}")
        words = line.split(" ")
        cut = max((i for i, w in enumerate(words) if w in ("-j", "-g") and i > 1), default=len(words))
        out.append(" ".join(words[:cut] + ["-c", str(p), str(b)] + words[cut:]))
    return "\n".join(out) + "\n"
