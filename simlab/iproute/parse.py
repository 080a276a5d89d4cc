"""``parse(line)``: an iproute2 / bridge / iptables command line -> Change or Show.

The words are read the way iproute2 6.1 reads them, keyword by keyword and in
the same order, so that abbreviations mean what they mean on a real machine
(``ip a``, ``ip r``, ``ip l sh``, ``ip link set dev X m br0`` is ``master``),
quirks included: a device called ``a`` or ``m`` must be written ``dev a``
because ``ip link`` reads ``a`` as ``address`` and ``m`` as ``master``.

Only what iproute2 checks *before* it talks to the kernel is checked here
(syntax, numbers, MACs, prefixes, name lengths given with ``name``); whether a
device or namespace exists is the backend's business.  Anything outside the
supported subset raises :class:`~simlab.model.UsageError` with iproute2's own
words where it has them, and a hint naming what simlab supports.

>>> parse("ip link add veth1 type veth peer name veth2").ops
(LinkAdd(ifname='veth1', kind='veth', netns='', peer='veth2', peer_netns=None, mac=None, peer_mac=None, mtu=None),)
>>> parse("ip -n red a").argv
('a',)
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import shlex

from ..i18n import say
from ..model import ops as o
from ..model.checks import (FAMILY_NAME, check_dev_name, check_name_arg, check_netns_name, get_prefix,
                             invarg, ll_addr, parse_mac)
from ..model.errors import NetError, UsageError
from ..model.netfilter import BUILTIN_CHAINS, RULE_WORDS, unknown_word
from ..model.rules.addr import wildcard_warning
from ..model.state import ROOT
from .command import (AddrShow, BridgeLinkShow, Change, FdbShow, IpOptions, IptablesShow, LinkShow,
                      NeighShow, NetnsList, RouteGet, RouteShow, RuleShow, Show, Shown, Version)
from .parse_iptables_list import list_command

__all__ = ["parse", "SUPPORTED"]

#: One line a hint can quote: what simlab understands.
SUPPORTED = say(
    "simlab understands: ip [-n NS] [-4|-6] [-d] [-br] [-j [-p]] "
    "{link|addr|route|neigh|netns} ..., bridge {link|fdb} ..., iptables -t TABLE -S|-L|-Z|-P|-N|-A|-I|-D|-X|-F, "
    "sysctl -w, ping -c N ADDR, and ip netns exec NS <one of those>",
    "simlab が対応しているのは ip [-n NS] [-4|-6] [-d] [-br] [-j [-p]] "
    "{link|addr|route|neigh|netns} ...、bridge {link|fdb} ...、iptables -t TABLE -S|-L|-Z|-P|-N|-A|-I|-D|-X|-F、"
    "sysctl -w、ping -c N ADDR、および ip netns exec NS <これらのいずれか> です",
)

INCOMPLETE = 'Command line is not complete. Try option "help"'


def parse(line: str) -> Change | Show:
    """Parse one command line; raise :class:`~simlab.model.UsageError` when simlab cannot run it."""
    try:
        if "\0" in line:  # no shell can pass one to a program: say so, not a ValueError
            raise UsageError(say("simlab: a command line cannot contain a NUL character (\\0)",
                                 "simlab: コマンドラインに NUL 文字 (\\0) は書けません"), exit=2,
                             hint=say("remove the \\0 from the line",
                                      "行から \\0 を取り除いてください"))
        try:
            words = shlex.split(line)
        except ValueError as err:
            raise UsageError(f"simlab: cannot split the command line: {err}", exit=2,
                             hint=say("close your quotes", "引用符 (クォート) を閉じてください")) from None
        return _command(words, ROOT, line)
    except NetError:
        raise
    except Exception as err:  # noqa: BLE001 - the parser must only ever raise NetError
        raise UsageError(f"simlab could not read this command ({type(err).__name__}: {err})",
                         hint=SUPPORTED) from None


# ----------------------------------------------------------------- helpers
def _m(word: str, keyword: str) -> bool:
    """iproute2's ``matches()``: ``word`` is a non-empty prefix of ``keyword``."""
    return bool(word) and keyword.startswith(word)


class _Args:
    """The words still to read, with iproute2's NEXT_ARG()."""

    def __init__(self, words: list[str]):
        self.words = list(words)
        self.i = 0

    def __bool__(self) -> bool:
        return self.i < len(self.words)

    def peek(self) -> str:
        return self.words[self.i]

    def take(self) -> str:
        word = self.words[self.i]
        self.i += 1
        return word

    def next_arg(self) -> str:
        if self.i >= len(self.words):
            raise UsageError(INCOMPLETE, hint=say("this keyword needs a value after it",
                                                  "このキーワードの後には値が必要です"))
        return self.take()

    def rest(self) -> list[str]:
        return self.words[self.i:]


def _as_dev(word: str) -> str:
    """The hint for a device whose name ip reads as a keyword."""
    return say(f'to name a device "{word}", write `dev {word}`',
               f'"{word}" という名前のデバイスを指定するには `dev {word}` と書いてください')


def _unsupported(what: str, hint: str = "") -> UsageError:
    # simlab's own words, not ip's: a Japanese notebook shows them in Japanese too
    return UsageError(say(f"simlab does not model {what}", f"simlab は {what} を扱いません"),
                      hint=hint or SUPPORTED)


def _duparg(key: str, arg: str) -> UsageError:
    return UsageError(f'Error: duplicate "{key}": "{arg}" is the second value.',
                      hint=say(f'"{key}" was given twice', f'"{key}" が 2 回指定されています'))


def _duparg2(key: str, arg: str) -> UsageError:
    return UsageError(f'Error: either "{key}" is duplicate, or "{arg}" is a garbage.',
                      hint=say(f'one "{key}" only; check the words around "{arg}"',
                               f'"{key}" は 1 つだけにしてください。"{arg}" の前後の単語を確認してください'))


def _on_off(key: str, arg: str) -> bool:
    if arg == "on":
        return True
    if arg == "off":
        return False
    raise UsageError(f'Error: argument of "{key}" must be "on" or "off", not "{arg}"', exit=1,
                     hint=say(f"write `{key} on` or `{key} off`",
                              f"`{key} on` または `{key} off` と書いてください"))


def _prefix(text: str, family: int | None) -> str:
    """get_prefix(): an address with an optional /LEN, or ``default``; exits 1 when bad."""
    if text in ("default", "all", "any"):
        return "default"
    get_prefix(text, family)
    return text


def _address(text: str, family: int | None) -> str:
    """get_addr(): one address of the family; exits 1 when bad."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = None
    if ip is None or (family is not None and ip.version != family):
        raise UsageError(f'Error: {FAMILY_NAME[family]} address is expected rather than "{text}".',
                         exit=1, hint=say("write an address such as 10.0.0.1",
                                          "10.0.0.1 のようなアドレスを書いてください"))
    return text


def _family_of(text: str) -> int | None:
    if text in ("default", "all", "any"):
        return None
    return 6 if ":" in text else 4


def _u32(text: str) -> int | None:
    try:
        value = int(text, 0)
    except ValueError:
        return None
    return value if 0 <= value <= 0xFFFFFFFF else None


# ---------------------------------------------------------------- dispatch
def _command(words: list[str], netns: str, line: str) -> Change | Show:
    if not words:
        raise UsageError("simlab: no command given", exit=2, hint=SUPPORTED)
    tool = words[0].rsplit("/", 1)[-1]
    if tool == "ip":
        return _ip(words[1:], netns, line)
    if tool == "bridge":
        return _bridge(words[1:], netns, line)
    if tool in ("iptables", "iptables-nft", "iptables-legacy"):
        return _iptables(words[1:], netns, line)
    if tool == "sysctl":
        return _sysctl(words[1:], netns, line)
    if tool == "ping":
        return _ping(words[1:], netns, line)
    raise UsageError(f"{words[0]}: command not found", exit=127, hint=SUPPORTED)


_IP_OBJECTS = (
    "address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable", "ntbl",
    "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tunl", "tuntap", "tap", "token", "tcpmetrics",
    "tcp_metrics", "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop",
    "mptcp", "ioam", "stats", "help",
)


def _ip(words: list[str], netns: str, line: str) -> Change | Show:
    args = _Args(words)
    opts: dict = {}  # IpOptions fields
    kept: list[str] = []  # the options the real tool needs, without -n NS
    while args and args.peek().startswith("-") and len(args.peek()) > 1:
        raw = args.take()
        if raw == "--":
            break
        opt = raw[1:] if raw.startswith("--") else raw
        if _m(opt, "-loops"):
            raise _unsupported(f'the ip option "{raw}"')
        if _m(opt, "-family"):
            fam = args.next_arg() if args else None
            families = {"inet": 4, "inet6": 6}
            if fam not in families:
                raise _unsupported(f'"-family {fam}"',
                                   say("simlab supports -4 (inet) and -6 (inet6)",
                                       "simlab が対応しているのは -4 (inet) と -6 (inet6) です"))
            opts["family"] = families[fam]
            kept += [raw, fam]
            continue
        if opt in ("-4", "-6"):
            opts["family"] = int(opt[1])
        elif opt in ("-0", "-M", "-B"):
            raise _unsupported(f'the ip option "{raw}"', say("simlab supports -4 and -6",
                                                             "simlab が対応しているのは -4 と -6 です"))
        elif _m(opt, "-human") or _m(opt, "-human-readable") or _m(opt, "-iec"):
            pass
        elif _m(opt, "-stats") or _m(opt, "-statistics"):
            if opts.get("stats"):
                raise _unsupported('"-s -s" (error counters)', say("use one -s", "-s は 1 つにしてください"))
            opts["stats"] = True
        elif _m(opt, "-details"):
            opts["details"] = True
        elif _m(opt, "-resolve") or _m(opt, "-Numeric") or _m(opt, "-force"):
            pass
        elif _m(opt, "-oneline"):
            opts["oneline"] = True
        elif _m(opt, "-timestamp") or _m(opt, "-tshort"):
            raise _unsupported(f'the ip option "{raw}"', say("timestamps belong to `ip monitor`",
                                                             "タイムスタンプは `ip monitor` の機能です"))
        elif _m(opt, "-Version"):
            return Show("ip", Version("ip"), tuple(words), netns, IpOptions(**opts), line)
        elif _m(opt, "-batch"):
            raise _unsupported('batch files ("-b")', say("run the commands one by one",
                                                         "コマンドを 1 つずつ実行してください"))
        elif _m(opt, "-rcvbuf"):
            args.next_arg()
            continue
        elif _m(opt, "-color") or opt.startswith("-color=") or opt.startswith("-c="):
            raise _unsupported('colours ("-c")', say("drop -c", "-c を外してください"))
        elif _m(opt, "-help"):
            raise _unsupported('"ip -help"', SUPPORTED)
        elif _m(opt, "-netns"):
            if not args:
                raise NetError('Cannot open network namespace "(null)": No such file or directory', errno=errno.ENOENT,
                               exit=255, hint=say("-n takes a namespace name: ip -n red a",
                                                  "-n には名前空間の名前を指定します: ip -n red a"))
            netns = args.take()
            if "/" in netns:
                raise NetError(f'Cannot open network namespace "{netns}": No such file or directory', errno=errno.ENOENT,
                               exit=255, hint=say("a namespace name is a plain word such as red",
                                                  "名前空間の名前は red のような単純な単語にしてください"))
            continue
        elif _m(opt, "-all"):
            raise _unsupported('"-all"', say("name one namespace with -n NS",
                                             "-n NS で名前空間を 1 つ指定してください"))
        elif _m(opt, "-echo"):
            raise _unsupported('"-echo"')
        elif _m(opt, "-brief"):
            opts["brief"] = True
        elif _m(opt, "-json"):
            opts["json"] = True
        elif _m(opt, "-pretty"):
            opts["pretty"] = True
        else:
            raise UsageError(f'Option "{raw}" is unknown, try "ip -help".', hint=SUPPORTED)
        kept.append(raw)
    if not args:
        raise UsageError("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }", hint=SUPPORTED)
    word = args.take()
    obj = next((c for c in _IP_OBJECTS if _m(word, c)), None)
    if obj is None:
        raise UsageError(f'Object "{word}" is unknown, try "ip help".', exit=1, hint=SUPPORTED)
    rest = args.rest()
    argv = tuple(kept + [word] + rest)
    if opts.get("stats") and obj not in ("link", "address"):
        raise _unsupported(f'"-s" with ip {obj}', say("-s shows link counters: ip -s link",
                                                       "-s はリンクのカウンターを表示します: ip -s link"))
    ctx = _Ctx(netns, line, IpOptions(**opts), argv)
    if obj == "address":
        return _ip_addr(_Args(rest), ctx)
    if obj == "route":
        return _ip_route(_Args(rest), ctx)
    if obj in ("neighbor", "neighbour"):
        return _ip_neigh(_Args(rest), ctx)
    if obj == "link":
        return _ip_link(_Args(rest), ctx)
    if obj == "netns":
        return _ip_netns(_Args(rest), ctx)
    if obj == "rule":
        return _ip_rule(_Args(rest), ctx)
    raise _unsupported(f'"ip {obj}"')


class _Ctx:
    """What every object parser needs: the namespace, the line and the global options."""

    def __init__(self, netns: str, line: str, opts: IpOptions, argv: tuple[str, ...]):
        self.netns = netns
        self.line = line
        self.opts = opts
        self.argv = argv

    def show(self, tool: str, what: Shown) -> Show:
        return Show(tool, what, self.argv, self.netns, self.opts, self.line)

    def change(self, *ops: o.Op) -> Change:
        return Change(tuple(ops), self.line)


def _unknown_command(word: str, help_name: str, tool: str = "ip") -> UsageError:
    return UsageError(f'Command "{word}" is unknown, try "{tool} {help_name} help".', hint=SUPPORTED)


# ------------------------------------------------------------------ ip link
def _ip_link(args: _Args, ctx: _Ctx) -> Change | Show:
    if not args:
        return _link_show(args, ctx)
    verb = args.take()
    if _m(verb, "add"):
        return _link_add(args, ctx)
    if _m(verb, "set") or _m(verb, "change"):
        return _link_set(args, ctx)
    if _m(verb, "replace"):
        raise _unsupported('"ip link replace"', say("use ip link add, or ip link set",
                                                    "ip link add か ip link set を使ってください"))
    if _m(verb, "delete"):
        return _link_del(args, ctx)
    if _m(verb, "show") or _m(verb, "lst") or _m(verb, "list"):
        return _link_show(args, ctx)
    if _m(verb, "xstats") or _m(verb, "afstats") or _m(verb, "property"):
        raise _unsupported(f'"ip link {verb}"')
    if _m(verb, "help"):
        raise _unsupported('"ip link help"', SUPPORTED)
    raise _unknown_command(verb, "link")


class _LinkArgs:
    """What iplink_parse() collected."""

    def __init__(self):
        self.dev: str | None = None
        self.name: str | None = None
        self.up: bool | None = None
        self.mac: str | None = None
        self.mac_len = 0
        self.mtu: int | None = None
        self.netns: str | None = None
        self.master: str | None = None  # "" is nomaster
        self.promisc: bool | None = None
        self.arp: bool | None = None
        self.multicast: bool | None = None
        self.allmulticast: bool | None = None
        self.kind: str | None = None


def _iplink_parse(args: _Args, out: _LinkArgs) -> None:
    """iplink_parse(): keywords in iproute2's order (``matches`` means a prefix is enough)."""
    while args:
        word = args.take()
        if word == "up":
            out.up = True
        elif word == "down":
            out.up = False
        elif word == "name":
            value = args.next_arg()
            if out.name is not None:
                raise _duparg("name", value)
            out.name = check_name_arg(value)
            if out.dev is None:
                out.dev = out.name
        elif word == "index":
            raise _unsupported('"index"', say("the kernel picks the ifindex", "ifindex はカーネルが決めます"))
        elif _m(word, "link"):
            raise _unsupported(f'"{word}" (read as "link", for macvlan/vlan)', _as_dev(word))
        elif _m(word, "address"):
            value = args.next_arg()
            out.mac = value
            out.mac_len = len(ll_addr(value))
        elif _m(word, "broadcast") or word == "brd":
            raise _unsupported(f'"{word}" (read as "broadcast")', _as_dev(word))
        elif _m(word, "txqueuelen") or word == "qlen" or _m(word, "txqlen"):
            raise _unsupported(f'"{word}" (read as "txqueuelen")', _as_dev(word))
        elif word == "mtu":
            value = args.next_arg()
            if out.mtu is not None:
                raise _duparg("mtu", value)
            try:
                out.mtu = int(value, 0)
            except ValueError:
                raise invarg(value, 'Invalid "mtu" value\n',
                              hint=say("mtu takes a number, e.g. mtu 1400",
                                       "mtu には数値を指定します (例: mtu 1400)")) from None
        elif word in ("xdpgeneric", "xdpdrv", "xdpoffload", "xdp"):
            raise _unsupported("XDP programs")
        elif word == "netns":
            value = args.next_arg()
            if out.netns is not None:
                raise _duparg("netns", value)
            # `netns PID` names the namespace of a process; in a lab, pid 1 lives in the node.
            out.netns = ROOT if value == "1" else value
        elif word in ("multicast", "arp", "allmulticast"):
            setattr(out, word, _on_off(word, args.next_arg()))
        elif word in ("trailers", "carrier"):
            value = args.next_arg()
            _on_off(word, value)
            raise _unsupported(f'"{word} {value}"', say("simlab sets up, promisc, arp, multicast and allmulticast",
                                                        "simlab が設定できるのは up、promisc、arp、multicast、allmulticast です"))
        elif word == "promisc":
            out.promisc = _on_off("promisc", args.next_arg())
        elif word == "vf":
            raise _unsupported("SR-IOV virtual functions")
        elif _m(word, "master"):
            out.master = args.next_arg()
        elif word == "vrf":
            raise _unsupported("VRFs")
        elif _m(word, "nomaster"):
            out.master = o.NOMASTER
        elif _m(word, "dynamic"):
            _on_off("dynamic", args.next_arg())
            raise _unsupported(f'"{word}" (read as "dynamic")', _as_dev(word))
        elif _m(word, "type"):
            out.kind = args.next_arg()
            return
        elif _m(word, "alias"):
            raise _unsupported(f'"{word}" (read as "alias")', _as_dev(word))
        elif word in ("group", "mode", "state", "numtxqueues", "numrxqueues", "link-netns", "link-netnsid",
                      "protodown", "protodown_reason", "gso_max_size", "gso_max_segs", "gro_max_size",
                      "parentdev") or _m(word, "addrgenmode"):
            raise _unsupported(f'"ip link ... {word}"')
        else:
            if _m(word, "help"):
                raise _unsupported('"help"', SUPPORTED)
            if word == "dev":
                word = args.next_arg()
            if out.dev != out.name:
                raise _duparg2("dev", word)
            out.dev = check_dev_name(word)


def _link_add(args: _Args, ctx: _Ctx) -> Change:
    main = _LinkArgs()
    _iplink_parse(args, main)
    if main.name is not None and main.dev is not None and main.dev != main.name:
        raise UsageError('both "name" and "dev" cannot be used when creating devices.',
                         hint=say("write either `ip link add NAME type ...` "
                                  "or `ip link add name NAME type ...`",
                                  "`ip link add NAME type ...` か `ip link add name NAME type ...` "
                                  "のどちらかで書いてください"))
    if main.kind is None:
        raise UsageError('Not enough information: "type" argument is required', exit=1,
                         hint=say("say which kind of link: type veth or type bridge",
                                  "リンクの種類を指定してください: type veth または type bridge"))
    if main.master is not None or main.promisc is not None or main.arp is not None or main.multicast is not None:
        raise _unsupported('"master"/"promisc" in ip link add',
                           say("add the link first, then `ip link set`",
                               "まずリンクを追加し、その後で `ip link set` を使ってください"))
    if main.netns is not None:
        raise _unsupported('"netns" for the link itself in ip link add',
                           say("use ip -n NS link add ..., or move it afterwards with ip link set X netns NS",
                               "ip -n NS link add ... を使うか、後から ip link set X netns NS で移してください"))
    kind = main.kind
    peer = _LinkArgs()
    if kind == "veth":
        if args:
            if args.peek() != "peer":
                raise UsageError("Usage: ip link <options> type veth [peer <options>]\n"
                                 "To get <options> type 'ip link add help'", exit=1,
                                 hint=say("write: ip link add veth1 type veth peer name veth2",
                                          "次のように書いてください: ip link add veth1 type veth peer name veth2"))
            args.take()
            _iplink_parse(args, peer)
            if peer.kind is not None:
                raise _duparg("type", peer.kind)
            if peer.name is not None and peer.dev is not None and peer.dev != peer.name:
                raise UsageError('both "name" and "dev" cannot be used when creating devices.',
                                 hint=say("write: peer name veth2",
                                          "次のように書いてください: peer name veth2"))
            if peer.up is not None or peer.master is not None or peer.promisc is not None \
                    or peer.arp is not None or peer.multicast is not None:
                raise _unsupported('"up"/"master"/"promisc" for the peer in ip link add',
                                   say("create the pair first, then `ip link set`",
                                       "まずペアを作成し、その後で `ip link set` を使ってください"))
    elif kind == "bridge":
        if args:
            word = args.take()
            raise _unsupported(f'the bridge option "{word}"',
                               say("simlab's bridges use the kernel defaults (STP off)",
                                   "simlab のブリッジはカーネルの既定値 (STP オフ) を使います"))
    elif args:
        raise _unsupported(f'options of link type "{kind}"')
    if peer.mtu is not None:
        raise _unsupported('"mtu" for the peer in ip link add',
                           say("set it afterwards: ip link set PEER mtu N",
                               "後から設定してください: ip link set PEER mtu N"))
    # Without a device to ask its address length, the kernel judges it (EINVAL).
    main.mac = parse_mac(main.mac) if main.mac is not None else None
    peer.mac = parse_mac(peer.mac) if peer.mac is not None else None
    op = o.LinkAdd(ifname=main.dev or "", kind=kind, netns=ctx.netns,
                   peer=peer.dev if kind == "veth" else None,
                   peer_netns=peer.netns if kind == "veth" else None,
                   mac=main.mac, peer_mac=peer.mac if kind == "veth" else None, mtu=main.mtu)
    if main.up and kind in ("veth", "bridge"):
        if not main.dev:
            raise _unsupported('"up" in ip link add without a name',
                               say("name the link, or set it up afterwards",
                                   "リンクに名前を付けるか、後から up にしてください"))
        return ctx.change(op, o.LinkSet(main.dev, netns=ctx.netns, up=True))
    return ctx.change(op)


def _link_set(args: _Args, ctx: _Ctx) -> Change:
    la = _LinkArgs()
    _iplink_parse(args, la)
    if la.kind is not None:
        raise _unsupported('"type" in ip link set')
    if la.dev is None:
        raise UsageError('Not enough information: "dev" argument is required.',
                         hint=say("name the link: ip link set dev veth1 up",
                                  "リンクを指定してください: ip link set dev veth1 up"))
    name = None if la.name == la.dev else la.name
    if la.mac is not None:
        if la.mac_len != 6:  # iplink_modify() knows the device's address length
            raise NetError(f"Invalid address length {la.mac_len} - must be 6 bytes", errno=errno.EINVAL, exit=1,
                           hint=say("a MAC is six bytes, e.g. 02:42:ac:11:00:02",
                                    "MAC アドレスは 6 バイトです (例: 02:42:ac:11:00:02)"))
        la.mac = parse_mac(la.mac)
    op = o.LinkSet(la.dev, netns=ctx.netns, up=la.up, mtu=la.mtu, mac=la.mac, name=name,
                   master=la.master, to_netns=la.netns, promisc=la.promisc, arp=la.arp,
                   multicast=la.multicast, allmulticast=la.allmulticast)
    return ctx.change(op)


def _link_del(args: _Args, ctx: _Ctx) -> Change:
    la = _LinkArgs()
    _iplink_parse(args, la)
    if la.dev is None:
        raise UsageError('Not enough information: "dev" argument is required.',
                         hint=say("name the link: ip link del veth1",
                                  "リンクを指定してください: ip link del veth1"))
    if la.kind is not None or la.up is not None or la.mtu is not None or la.mac is not None \
            or la.master is not None or la.netns is not None or la.promisc is not None \
            or la.arp is not None or la.multicast is not None:
        raise _unsupported("options in ip link del", say("write: ip link del NAME",
                                                         "次のように書いてください: ip link del NAME"))
    return ctx.change(o.LinkDel(la.dev, netns=ctx.netns))


_ADDR_FILTERS = ("permanent", "dynamic", "secondary", "primary", "tentative", "-tentative",
                 "deprecated", "-deprecated", "dadfailed", "-dadfailed", "temporary", "home",
                 "nodad", "mngtmpaddr", "noprefixroute", "autojoin")


def _list_filter(args: _Args, ctx: _Ctx, what: str) -> dict:
    """The selectors of ``ip link show`` / ``ip addr show`` (ipaddr_list_flush_or_save())."""
    flt: dict = {}
    while args:
        word = args.take()
        if word == "to":
            if what == "link":
                raise _unsupported('"to" in ip link show')
            flt["to"] = _prefix(args.next_arg(), ctx.opts.family)
        elif word == "scope":
            value = args.next_arg()
            if value not in ("global", "link", "host", "site", "all", "universe"):
                raise invarg(value, "invalid \"scope\"\n")
            flt["scope"] = value
        elif word == "up":
            flt["up"] = True
        elif word in _ADDR_FILTERS:
            if word in ("primary", "secondary"):
                flt[word] = True
            else:
                raise _unsupported(f'the address filter "{word}"')
        elif word == "label":
            flt["label"] = args.next_arg()
        elif word == "group":
            value = args.next_arg()
            if value not in ("default", "0"):
                raise _unsupported(f'"group {value}"', say("every link is in group default",
                                                           "すべてのリンクは group default に属しています"))
            flt["group"] = value
        elif word == "master":
            flt["master"] = args.next_arg()
        elif word == "vrf":
            raise _unsupported("VRFs")
        elif word == "nomaster":
            flt["nomaster"] = True
        elif word == "type":
            kind = args.next_arg()
            if kind.endswith("_slave") and len(kind) > len("_slave"):
                flt["slave_kind"] = kind[: -len("_slave")]
            else:
                flt["kind"] = kind
        elif word == "proto":
            raise _unsupported('"proto" in ip addr show')
        else:
            if word == "dev":
                word = args.next_arg()
            elif _m(word, "help"):
                raise _unsupported('"help"', SUPPORTED)
            if "dev" in flt:
                raise _duparg2("dev", word)
            flt["dev"] = word
    return flt


def _link_show(args: _Args, ctx: _Ctx) -> Show:
    flt = _list_filter(args, ctx, "link")
    return ctx.show("ip", LinkShow(**flt))


# ------------------------------------------------------------------ ip addr
def _ip_addr(args: _Args, ctx: _Ctx) -> Change | Show:
    if not args:
        return ctx.show("ip", AddrShow())
    verb = args.take()
    if _m(verb, "add"):
        return _addr_modify(args, ctx, add=True)
    if _m(verb, "change") or verb == "chg" or _m(verb, "replace"):
        raise _unsupported(f'"ip addr {verb}"', say("delete the address and add it again",
                                                    "アドレスを削除してから、もう一度追加してください"))
    if _m(verb, "delete"):
        return _addr_modify(args, ctx, add=False)
    if _m(verb, "list") or _m(verb, "show") or _m(verb, "lst"):
        return ctx.show("ip", AddrShow(**_list_filter(args, ctx, "addr")))
    if _m(verb, "flush"):
        if not args:
            raise UsageError("Flush requires arguments.", exit=1,
                             hint=say("write: ip addr flush dev veth1",
                                      "次のように書いてください: ip addr flush dev veth1"))
        flt = _list_filter(args, ctx, "addr")
        if set(flt) != {"dev"}:
            raise _unsupported("ip addr flush with selectors other than dev",
                               say("write: ip addr flush dev veth1",
                                   "次のように書いてください: ip addr flush dev veth1"))
        return ctx.change(o.AddrFlush(flt["dev"], netns=ctx.netns, family=ctx.opts.family))
    if _m(verb, "save") or _m(verb, "showdump") or _m(verb, "restore"):
        raise _unsupported(f'"ip addr {verb}"')
    if _m(verb, "help"):
        raise _unsupported('"ip addr help"', SUPPORTED)
    raise _unknown_command(verb, "address")


def _addr_modify(args: _Args, ctx: _Ctx, add: bool) -> Change:
    family = ctx.opts.family
    local = None
    dev = None
    brd = None
    scope = None
    label = None
    while args:
        word = args.take()
        if word in ("peer", "remote"):
            raise _unsupported('point-to-point addresses ("peer")')
        elif _m(word, "broadcast") or word == "brd":
            value = args.next_arg()
            if brd is not None:
                raise _duparg("broadcast", value)
            brd = value if value in ("+", "-") else _address(value, family or 4)
        elif word == "anycast":
            raise _unsupported("anycast addresses")
        elif word == "scope":
            value = args.next_arg()
            if value not in ("global", "link", "host", "site", "universe") and _u32(value) is None:
                raise invarg(value, "invalid scope value.",
                              hint=say("scope is global, link or host",
                                       "scope は global、link、host のいずれかです"))
            if value.isdigit():
                raise _unsupported(f'"scope {value}"',
                                   say("write scope global, link or host",
                                       "scope global、scope link、scope host のいずれかで書いてください"))
            scope = "global" if value == "universe" else value
        elif word == "dev":
            dev = args.next_arg()
        elif word == "label":
            value = args.next_arg()
            if label is not None:
                raise _duparg("label", value)
            label = value
        elif _m(word, "metric") or _m(word, "priority") or word == "preference":
            raise _unsupported('"metric" on an address')
        elif _m(word, "valid_lft") or _m(word, "preferred_lft"):
            raise _unsupported("address lifetimes", say("addresses live forever in the lab",
                                                        "ラボのアドレスは無期限に有効です"))
        elif word in ("home", "nodad", "mngtmpaddr", "noprefixroute", "autojoin"):
            raise _unsupported(f'the address flag "{word}"')
        else:
            if word == "local":
                word = args.next_arg()
            if _m(word, "help"):
                raise _unsupported('"help"', SUPPORTED)
            if local is not None:
                raise _duparg2("local", word)
            local = _prefix(word, family)
            if local == "default":
                raise UsageError(f'Error: {FAMILY_NAME[family]} prefix is expected rather than "{word}".',
                                 exit=1, hint=say("write an address with its prefix length",
                                                  "アドレスはプレフィックス長を付けて書いてください"))
            family = _family_of(local)
    if dev is None:
        raise UsageError('Not enough information: "dev" argument is required.', exit=1,
                         hint=say("say which link: ip addr add 10.0.0.1/24 dev veth1",
                                  "リンクを指定してください: ip addr add 10.0.0.1/24 dev veth1"))
    if local is None:
        raise UsageError("Not enough information: \"local\" argument is required.", exit=1,
                         hint=say("say which address: ip addr add 10.0.0.1/24 dev veth1",
                                  "アドレスを指定してください: ip addr add 10.0.0.1/24 dev veth1"))
    if add:
        return ctx.change(o.AddrAdd(dev, local, netns=ctx.netns, broadcast=brd, scope=scope, label=label))
    change = ctx.change(o.AddrDel(dev, local, netns=ctx.netns))
    if family == 4 and "/" not in local:  # printed before ip talks to the kernel
        change = dataclasses.replace(change, stderr=wildcard_warning(local))
    return change


# ----------------------------------------------------------------- ip route
def _ip_route(args: _Args, ctx: _Ctx) -> Change | Show:
    if not args:
        return ctx.show("ip", RouteShow())
    verb = args.take()
    if _m(verb, "add"):
        return _route_modify(args, ctx, add=True)
    if _m(verb, "change") or verb == "chg":
        return _route_modify(args, ctx, add=True, mode="change")
    if _m(verb, "replace"):
        return _route_modify(args, ctx, add=True, mode="replace")
    if _m(verb, "prepend") or _m(verb, "append") or _m(verb, "test"):
        raise _unsupported(f'"ip route {verb}"', say("use ip route add, or ip route replace",
                                                     "ip route add か ip route replace を使ってください"))
    if _m(verb, "delete"):
        return _route_modify(args, ctx, add=False)
    if _m(verb, "list") or _m(verb, "show") or _m(verb, "lst"):
        return ctx.show("ip", RouteShow(**_route_filter(args, ctx)))
    if _m(verb, "get"):
        return _route_get(args, ctx)
    if _m(verb, "flush"):
        return _route_flush(args, ctx)
    if _m(verb, "save") or _m(verb, "restore") or _m(verb, "showdump"):
        raise _unsupported(f'"ip route {verb}"', say("delete routes one by one with ip route del",
                                                     "ip route del でルートを 1 つずつ削除してください"))
    if _m(verb, "help"):
        raise _unsupported('"ip route help"', SUPPORTED)
    raise _unknown_command(verb, "route")


_ROUTE_METRICS = ("mtu", "hoplimit", "advmss", "reordering", "rtt", "rttvar", "rto_min", "window",
                  "cwnd", "initcwnd", "initrwnd", "ssthresh", "realms", "features", "quickack",
                  "congctl", "expires", "as", "from", "tos", "encap", "ttl-propagate")


#: rtnl_rtprot_a2n(): iproute2 6.1's /usr/share/iproute2/rt_protos names.
_PROTOS = {"unspec": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
           "mrt": 10, "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
           "keepalived": 18, "babel": 42, "openr": 99, "bgp": 186, "isis": 187, "ospf": 188,
           "rip": 189, "eigrp": 192}
_SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
_TABLES = {"main": 254, "local": 255, "default": 253}


def _proto(value: str) -> str:
    """A protocol as ``ip route`` prints it back: its rt_protos name, else the number."""
    if value in _PROTOS:
        return value
    number = _u32(value)
    if number is None or number > 255:
        raise invarg(value, '"protocol" value is invalid\n',
                     hint=say("proto takes a name (static, boot...) or a number 0-255",
                              "proto には名前 (static、boot など) か 0-255 の数値を指定します"))
    return next((name for name, n in _PROTOS.items() if n == number), str(number))


def _scope(value: str) -> str:
    if value in _SCOPES:
        return "global" if value == "universe" else value
    number = _u32(value)
    if number is None or number > 255:
        raise invarg(value, 'invalid "scope" value\n',
                     hint=say("scope is global, link or host", "scope は global、link、host のいずれかです"))
    return {n: k for k, n in _SCOPES.items() if k != "universe"}.get(number, str(number))


def _table(value: str) -> int:
    """rtnl_rttable_a2n(): main, local, default or a number."""
    number = _TABLES.get(value, _u32(value))
    if number is None or number == 0:
        raise invarg(value, '"table" value is invalid\n',
                     hint=say("table takes main or a number, e.g. table 100",
                              "table には main か数値を指定します (例: table 100)"))
    if number in (253, 255):
        raise _unsupported(f'routes in table "{value}"',
                           say("simlab keeps routes in table main and in numbered tables",
                               "simlab が扱うのは main と番号付きのテーブルのルートです"))
    return number


def _route_modify(args: _Args, ctx: _Ctx, add: bool, mode: str = "add") -> Change:
    family = ctx.opts.family
    dst = via = dev = src = None
    metric = None
    onlink = False
    proto = scope = None
    kind = None
    table = 254
    while args:
        word = args.take()
        if word == "src":
            src = _address(args.next_arg(), family)
        elif word == "via":
            value = args.next_arg()
            if value in ("inet", "inet6"):
                value = args.next_arg()
            via = _address(value, family)
            family = family or _family_of(via)
        elif _m(word, "metric") or _m(word, "priority") or word == "preference":
            value = args.next_arg()
            metric = _u32(value)
            if metric is None:
                raise invarg(value, '"metric" value is invalid\n',
                              hint=say("metric takes a number, e.g. metric 100",
                                       "metric には数値を指定します (例: metric 100)"))
        elif word == "scope":
            scope = _scope(args.next_arg())
        elif word in _ROUTE_METRICS or _m(word, "dsfield"):
            raise _unsupported(f'the route attribute "{word}"')
        elif _m(word, "onlink"):
            onlink = True
        elif _m(word, "nexthop") or _m(word, "nhid"):
            raise _unsupported("multipath routes and nexthop objects")
        elif _m(word, "protocol"):
            proto = _proto(args.next_arg())
        elif _m(word, "table"):
            table = _table(args.next_arg())
        elif _m(word, "vrf"):
            raise _unsupported("VRFs")
        elif word in ("dev", "oif"):
            dev = args.next_arg()
        elif _m(word, "pref"):
            raise _unsupported('"pref"')
        elif _m(word, "fastopen_no_cookie"):
            raise _unsupported('"fastopen_no_cookie"')
        else:
            if word == "to":
                word = args.next_arg()
            if word in ("local", "broadcast", "multicast", "nat", "anycast"):
                raise _unsupported(f'routes of type "{word}"',
                                   say("simlab models unicast, blackhole, unreachable, prohibit and throw routes",
                                       "simlab が扱うのは unicast、blackhole、unreachable、prohibit、throw のルートです"))
            if word in ("unicast", "throw", "unreachable", "prohibit", "blackhole"):
                kind = word
                word = args.next_arg()
            if _m(word, "help"):
                raise _unsupported('"help"', SUPPORTED)
            if dst is not None:
                raise _duparg2("to", word)
            dst = _prefix(word, family)
            family = family or _family_of(dst)
    if dst is None:
        raise UsageError("Usage: ip route { add | del | change | append | replace } ROUTE",
                         hint=say("write: ip route add 10.1.0.0/16 via 10.0.0.1",
                                  "次のように書いてください: ip route add 10.1.0.0/16 via 10.0.0.1"))
    if add:
        return ctx.change(o.RouteAdd(dst, netns=ctx.netns, via=via, dev=dev, src=src, metric=metric,
                                     onlink=onlink, family=ctx.opts.family, proto=proto, scope=scope,
                                     type=kind or "unicast", table=table, mode=mode))
    if src is not None or onlink or scope is not None:
        raise _unsupported('"src"/"onlink"/"scope" in ip route del',
                           say("write: ip route del DST [via GW] [dev X] [metric N]",
                               "次のように書いてください: ip route del DST [via GW] [dev X] [metric N]"))
    return ctx.change(o.RouteDel(dst, netns=ctx.netns, via=via, dev=dev, family=ctx.opts.family,
                                 metric=metric, type=kind, proto=proto, table=table))


def _route_flush(args: _Args, ctx: _Ctx) -> Change:
    if not args:
        raise UsageError('"ip route flush" requires arguments.', exit=1,
                         hint=say("say what to flush: ip route flush dev veth1, or ip route flush table main",
                                  "何を消すか指定してください: ip route flush dev veth1 または ip route flush table main"))
    if ctx.opts.family == 6:
        raise _unsupported("ip -6 route flush", say("delete IPv6 routes one by one with ip -6 route del",
                                                     "IPv6 のルートは ip -6 route del で 1 つずつ削除してください"))
    flt = _route_filter(args, ctx)
    table = flt.pop("table", "main")
    if table in ("local", "all"):
        raise _unsupported(f"ip route flush table {table}",
                           say("flush table main or a numbered table", "main か番号付きのテーブルを指定してください"))
    prefix, match = None, "exact"
    for key in ("exact", "root", "match"):
        if key in flt:
            prefix, match = flt.pop(key), key
    return ctx.change(o.RouteFlush(ctx.netns, table=254 if table == "main" else int(table), prefix=prefix,
                                   match=match, **flt))


def _route_filter(args: _Args, ctx: _Ctx) -> dict:
    family = ctx.opts.family
    flt: dict = {}
    while args:
        word = args.take()
        if _m(word, "table"):
            value = args.next_arg()
            if value in ("all", "0"):
                flt["table"] = "all"
            elif value in ("local", "255"):
                flt["table"] = "local"
            else:
                number = _TABLES.get(value, _u32(value))
                if number is None:
                    raise invarg(value, '"table" id value is invalid\n')
                flt["table"] = "main" if number == 254 else str(number)
        elif word == "dev" or word == "oif":
            flt["dev"] = args.next_arg()
        elif _m(word, "protocol"):
            flt["proto"] = args.next_arg()
        elif word == "scope":
            flt["scope"] = args.next_arg()
        elif word == "type":
            flt["type"] = args.next_arg()
        elif word == "via":
            flt["via"] = _address(args.next_arg(), family)
        elif word == "src":
            flt["src"] = _address(args.next_arg(), family)
        elif _m(word, "metric") or _m(word, "priority") or word == "preference":
            value = args.next_arg()
            if _u32(value) is None:
                raise invarg(value, '"metric" value is invalid\n')
            flt["metric"] = _u32(value)
        elif word in ("cached", "cloned", "vrf", "iif", "mark", "realms", "realm", "from", "tos") \
                or _m(word, "dsfield"):
            raise _unsupported(f'the route selector "{word}"')
        else:
            if word == "to":
                word = args.next_arg()
            if _m(word, "root"):
                flt["root"] = _prefix(args.next_arg(), family)
            elif _m(word, "match"):
                flt["match"] = _prefix(args.next_arg(), family)
            else:
                if _m(word, "exact"):
                    word = args.next_arg()
                elif _m(word, "help"):
                    raise _unsupported('"help"', SUPPORTED)
                flt["exact"] = _prefix(word, family)
    return flt


def _route_get(args: _Args, ctx: _Ctx) -> Show:
    family = ctx.opts.family
    dst = src = None
    while args:
        word = args.take()
        if word == "from":
            src = _address(args.next_arg(), family)
            continue
        if word in ("iif", "oif", "tos", "mark", "vrf", "uid", "ipproto", "sport", "dport",
                    "fibmatch", "connected") or _m(word, "dsfield"):
            raise _unsupported(f'"{word}" in ip route get',
                               say("write: ip route get ADDRESS [from ADDRESS]",
                                   "次のように書いてください: ip route get ADDRESS [from ADDRESS]"))
        if word == "to":
            word = args.next_arg()
        if dst is not None:
            raise _duparg2("to", word)
        dst = _prefix(word, family)
    if dst is None:
        raise UsageError("need at least a destination address", exit=1,
                         hint=say("write: ip route get 10.0.0.2",
                                  "次のように書いてください: ip route get 10.0.0.2"))
    return ctx.show("ip", RouteGet(dst, src))


# ----------------------------------------------------------------- ip neigh
_NUD = ("permanent", "reachable", "stale", "noarp", "none", "incomplete", "delay", "probe", "failed")


def _nud(value: str) -> str:
    """nud_state_a2n(): a state name (any case) or a number."""
    if value.lower() in _NUD:
        return value.upper()
    if value == "all":
        return "all"
    raise invarg(value, "nud state is bad",
                 hint=say("nud takes permanent, reachable or stale", "nud には permanent、reachable、stale を指定します"))


def _ip_neigh(args: _Args, ctx: _Ctx) -> Change | Show:
    if not args:
        return ctx.show("ip", NeighShow())
    verb = args.take()
    if _m(verb, "show") or _m(verb, "list") or _m(verb, "lst"):
        return ctx.show("ip", NeighShow(**_neigh_filter(args, ctx)))
    if _m(verb, "flush"):
        if not args:
            raise UsageError("Flush requires arguments.", exit=1,
                             hint=say("write: ip neigh flush dev veth1", "次のように書いてください: ip neigh flush dev veth1"))
        flt = _neigh_filter(args, ctx, flush=True)
        if set(flt) - {"dev"}:
            raise _unsupported("ip neigh flush with selectors other than dev / all",
                               say("write: ip neigh flush dev veth1", "次のように書いてください: ip neigh flush dev veth1"))
        return ctx.change(o.NeighFlush(ctx.netns, flt.get("dev"), ctx.opts.family))
    if _m(verb, "add"):
        return _neigh_modify(args, ctx, "add")
    if _m(verb, "change") or verb == "chg":
        return _neigh_modify(args, ctx, "change")
    if _m(verb, "replace"):
        return _neigh_modify(args, ctx, "replace")
    if _m(verb, "delete"):
        return _neigh_modify(args, ctx, "del")
    if _m(verb, "get"):
        raise _unsupported('"ip neigh get"', say("write: ip neigh show ADDR", "次のように書いてください: ip neigh show ADDR"))
    if _m(verb, "help"):
        raise _unsupported('"ip neigh help"', SUPPORTED)
    raise _unknown_command(verb, "neigh")


def _neigh_filter(args: _Args, ctx: _Ctx, flush: bool = False) -> dict:
    flt: dict = {}
    while args:
        word = args.take()
        if word == "dev":
            flt["dev"] = args.next_arg()
        elif word == "nud":
            flt["nud"] = _nud(args.next_arg())
        elif flush and word == "all":
            continue
        elif word in ("proxy", "vrf", "master", "nomaster", "unused") or _m(word, "protocol"):
            raise _unsupported(f'"{word}" in ip neigh show',
                               say("write: ip neigh [show [dev X] [nud STATE] [ADDR]]",
                                   "次のように書いてください: ip neigh [show [dev X] [nud STATE] [ADDR]]"))
        else:
            if word == "to":
                word = args.next_arg()
            if "to" in flt:
                raise _duparg2("to", word)
            flt["to"] = _prefix(word, ctx.opts.family)
    return flt


def _neigh_modify(args: _Args, ctx: _Ctx, mode: str) -> Change:
    """ipneigh_modify(): keywords in iproute2's order; its checks before the kernel's."""
    lladdr = dev = dst = None
    state = "PERMANENT"
    while args:
        word = args.take()
        if _m(word, "lladdr"):
            value = args.next_arg()
            if lladdr is not None:
                raise _duparg("lladdr", value)
            lladdr = value
        elif word == "nud":
            state = _nud(args.next_arg())
        elif word == "dev":
            dev = args.next_arg()
        elif _m(word, "proxy") or _m(word, "router") or _m(word, "extern_learn") or _m(word, "protocol"):
            raise _unsupported(f'"{word}" in ip neigh {mode}')
        else:
            if word == "to":
                word = args.next_arg()
            if dst is not None:
                raise _duparg2("to", word)
            dst = _address(word, ctx.opts.family)
    if dev is None or dst is None:
        raise UsageError("Device and destination are required arguments.", exit=255,
                         hint=say("write: ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth1",
                                  "次のように書いてください: ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth1"))
    if mode == "del":
        return ctx.change(o.NeighDel(dst, dev, ctx.netns))
    if lladdr is not None:
        try:
            lladdr = parse_mac(lladdr)
        except NetError:
            raise UsageError(f'"{lladdr}" is invalid lladdr.', exit=1,
                             hint=say("a MAC is six hex bytes: 02:00:00:00:00:01",
                                      "MAC は 16 進 6 バイトです: 02:00:00:00:00:01")) from None
    if state not in ("PERMANENT", "REACHABLE", "STALE"):
        raise _unsupported(f'"nud {state.lower()}"', say("simlab writes entries with nud permanent, reachable or stale",
                                                         "simlab が書けるのは nud permanent、reachable、stale のエントリです"))
    return ctx.change(o.NeighAdd(dst, dev, ctx.netns, lladdr, state, mode))


# ----------------------------------------------------------------- ip rule
_RULE_TYPES = ("unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable",
               "prohibit", "throw", "nat", "xresolve")
_RULE_HINT = say("simlab's rules: ip rule add [not] [from P] [to P] [fwmark M] [iif D] [oif D] [pref N] "
                 "[lookup TABLE | blackhole | unreachable | prohibit]",
                 "simlab のルール: ip rule add [not] [from P] [to P] [fwmark M] [iif D] [oif D] [pref N] "
                 "[lookup TABLE | blackhole | unreachable | prohibit]")


def _rule_table(value: str, what: str) -> int:
    """rtnl_rttable_a2n(): local, main, default or a number (table 0 means "none")."""
    named = {"local": 255, "main": 254, "default": 253}
    if value in named:
        return named[value]
    number = _u32(value)
    if number is None:
        raise invarg(value, what, hint=say("a table is local, main, default or a number",
                                           "テーブルは local、main、default か数値です"))
    if number == 0:
        raise _unsupported('"table 0" (the kernel picks a free table)', say("name a table: lookup 100",
                                                                           "テーブルを指定してください: lookup 100"))
    return number


def _rule_prefix(value: str, family: int | None) -> tuple[str | None, int | None]:
    """get_prefix() of a rule selector, of the -4/-6 family: (prefix as given or None for
    all, the family it gives the rule)."""
    if value in ("all", "any", "default"):
        return None, None
    ip, _ = get_prefix(value, family)
    return str(ip), ip.version


def _rule_dev(value: str, key: str) -> str:
    """check_ifname(): a rule names a device that may not exist yet, below IFNAMSIZ."""
    if not value or len(value) >= 16 or "/" in value or any(c.isspace() for c in value):
        what = '"iif"/"dev"' if key == "iif" else '"oif"'
        raise invarg(value, f"{what} not a valid ifname",
                     hint=say("a device name: 1 to 15 characters, no / or space",
                              "デバイス名は 1〜15 文字で、/ や空白を含みません"))
    return value


def _ip_rule(args: _Args, ctx: _Ctx) -> Change | Show:
    family = ctx.opts.family
    if not args:
        return ctx.show("ip", RuleShow())
    verb = args.take()
    if _m(verb, "list") or _m(verb, "show") or verb == "lst":
        return ctx.show("ip", RuleShow(**_rule_words(args, family, show=True)[0]))
    if _m(verb, "flush"):
        if args:
            raise _unsupported("ip rule flush with selectors", say("delete rules one by one: ip rule del pref N",
                                                                  "ルールを 1 つずつ削除してください: ip rule del pref N"))
        return ctx.change(o.RuleFlush(family or 4, ctx.netns))
    if _m(verb, "add") or _m(verb, "delete"):
        adding = _m(verb, "add")
        if not adding and not args:
            raise UsageError('"ip rule del" requires arguments.', exit=1,
                             hint=say("say which rule: ip rule del pref 100", "どのルールか指定してください: ip rule del pref 100"))
        words, family = _rule_words(args, family, show=False)
        if adding:
            return ctx.change(o.RuleAdd(family or 4, netns=ctx.netns, **words))
        return ctx.change(o.RuleDel(family or 4, netns=ctx.netns, **words))
    if _m(verb, "help"):
        raise _unsupported('"ip rule help"', _RULE_HINT)
    if _m(verb, "save") or _m(verb, "restore"):
        raise _unsupported(f'"ip rule {verb}"', _RULE_HINT)
    raise _unknown_command(verb, "rule")


def _rule_words(args: _Args, family: int | None, show: bool) -> tuple[dict, int | None]:
    """iprule_modify()'s (or the list filter's) words, in its order of tests."""
    out: dict = {}
    preferred = family  # -4/-6: what the addresses are parsed as
    while args:
        word = args.take()
        if word == "not":
            out["invert"] = True
        elif word in ("from", "to"):
            prefix, implied = _rule_prefix(args.next_arg(), preferred)
            family = family or implied
            out["src" if word == "from" else "dst"] = prefix
        elif _m(word, "preference") or _m(word, "order") or _m(word, "priority"):
            value = args.next_arg()
            pref = _u32(value)
            if pref is None:
                raise invarg(value, "preference value is invalid\n",
                             hint=say("pref takes a number: pref 100", "pref には数値を指定します: pref 100"))
            out["pref"] = pref
        elif word == "fwmark" and not show:
            value = args.next_arg()
            mark, _, mask = value.partition("/")
            out["fwmark"] = _u32(mark)
            if out["fwmark"] is None:
                raise invarg(mark, "fwmark value is invalid\n", hint=say("fwmark takes a number: fwmark 0x1",
                                                                          "fwmark には数値を指定します: fwmark 0x1"))
            if mask:
                out["fwmask"] = _u32(mask)
                if out["fwmask"] is None:
                    raise invarg(mask, "fwmask value is invalid\n", hint=say("write: fwmark 0x1/0xff",
                                                                              "次のように書いてください: fwmark 0x1/0xff"))
        elif _m(word, "table") or word == "lookup":
            value = args.next_arg()
            out["table"] = _rule_table(value, "table id value is invalid\n" if show else "invalid table ID\n")
        elif word in ("dev", "iif"):
            out["iif"] = _rule_dev(args.next_arg(), "iif")
        elif word == "oif":
            out["oif"] = _rule_dev(args.next_arg(), "oif")
        elif show:
            raise _unsupported(f'"{word}" in ip rule show', say("filter by from, to, iif, oif, pref or table",
                                                               "from、to、iif、oif、pref、table で絞り込めます"))
        elif word in ("tos", "tun_id", "l3mdev", "uidrange", "ipproto", "sport", "dport", "sup_pl", "sup_group") \
                or _m(word, "dsfield") or _m(word, "realms") or _m(word, "protocol") or _m(word, "nat") \
                or _m(word, "map-to") or _m(word, "suppress_prefixlength") or _m(word, "suppress_ifgroup"):
            raise _unsupported(f'"{word}" in ip rule', _RULE_HINT)
        else:
            if word == "type":
                word = args.next_arg()
            if _m(word, "help") or _m(word, "goto") or _m(word, "nop"):
                raise _unsupported(f'"{word}" in ip rule', _RULE_HINT)
            if word not in _RULE_TYPES and _u32(word) is None:
                raise invarg(word, "Failed to parse rule type", hint=_RULE_HINT)
            if word not in ("blackhole", "unreachable", "prohibit"):
                raise _unsupported(f'rules of type "{word}"', _RULE_HINT)
            out["action"] = word
    return out, family


# ----------------------------------------------------------------- ip netns
def _ip_netns(args: _Args, ctx: _Ctx) -> Change | Show:
    if not args:
        return ctx.show("ip", NetnsList())
    verb = args.take()
    name = args.peek() if args else None
    if name:  # an empty one is for the backend to refuse
        check_netns_name(name)
    if _m(verb, "list") or _m(verb, "show") or _m(verb, "lst"):
        return ctx.show("ip", NetnsList())
    if _m(verb, "list-id"):
        raise _unsupported('"ip netns list-id"', say("ip netns list shows the ids",
                                                     "id は ip netns list で表示されます"))
    if _m(verb, "help"):
        raise _unsupported('"ip netns help"', SUPPORTED)
    if _m(verb, "add"):
        if not args:
            raise UsageError("No netns name specified", exit=1,
                             hint=say("write: ip netns add red",
                                      "次のように書いてください: ip netns add red"))
        ns = args.take()
        if args:
            raise _unsupported("more than one name in ip netns add", say("add them one by one",
                                                                         "1 つずつ追加してください"))
        return ctx.change(o.NetnsAdd(ns))
    if _m(verb, "set"):
        raise _unsupported('"ip netns set"', say("nsids are given out as links need them",
                                                 "nsid はリンクが必要とするときに割り当てられます"))
    if _m(verb, "delete"):
        if not args:
            raise UsageError("No netns name specified", exit=1,
                             hint=say("write: ip netns del red",
                                      "次のように書いてください: ip netns del red"))
        ns = args.take()
        if args:
            raise _unsupported("more than one name in ip netns del", say("delete them one by one",
                                                                         "1 つずつ削除してください"))
        return ctx.change(o.NetnsDel(ns))
    if _m(verb, "identify") or _m(verb, "pids") or _m(verb, "monitor") or _m(verb, "attach"):
        raise _unsupported(f'"ip netns {verb}"', say("the lab has no processes in its namespaces",
                                                     "ラボの名前空間にはプロセスがありません"))
    if _m(verb, "exec"):
        if not args:
            raise UsageError("No netns name specified", exit=1,
                             hint=say("write: ip netns exec red ip a",
                                      "次のように書いてください: ip netns exec red ip a"))
        ns = args.take()
        if not args:
            raise UsageError("No command specified", exit=1,
                             hint=say("write: ip netns exec red ip a",
                                      "次のように書いてください: ip netns exec red ip a"))
        return _command(args.rest(), ns, ctx.line)
    raise _unknown_command(verb, "netns")


# ------------------------------------------------------------------- bridge
_BRIDGE_OBJECTS = ("link", "fdb", "mdb", "vlan", "vni", "monitor")


def _bridge(words: list[str], netns: str, line: str) -> Change | Show:
    args = _Args(words)
    opts: dict = {}  # IpOptions fields
    kept: list[str] = []
    while args and args.peek().startswith("-") and len(args.peek()) > 1:
        raw = args.take()
        opt = raw[1:] if raw.startswith("--") else raw
        if _m(opt, "-help"):
            raise _unsupported('"bridge -help"', SUPPORTED)
        if _m(opt, "-Version"):
            return Show("bridge", Version("bridge"), tuple(words), netns, IpOptions(**opts), line)
        if _m(opt, "-stats") or _m(opt, "-statistics"):
            raise _unsupported('statistics ("-s")', say("drop -s", "-s を外してください"))
        if _m(opt, "-details"):
            opts["details"] = True
        elif _m(opt, "-oneline") or _m(opt, "-timestamp"):
            raise _unsupported(f'the bridge option "{raw}"')
        elif _m(opt, "-family"):
            raise _unsupported('"-family"')
        elif opt in ("-4", "-6"):
            opts["family"] = int(opt[1])
        elif _m(opt, "-netns"):
            if not args:
                raise NetError('Cannot open network namespace "(null)": No such file or directory', errno=errno.ENOENT,
                               exit=255, hint=say("-n takes a namespace name: bridge -n red link",
                                                  "-n には名前空間の名前を指定します: bridge -n red link"))
            netns = args.take()
            continue
        elif _m(opt, "-color") or _m(opt, "-compressvlans") or _m(opt, "-batch"):
            raise _unsupported(f'the bridge option "{raw}"')
        elif _m(opt, "-force"):
            pass
        elif _m(opt, "-json"):
            opts["json"] = True
        elif _m(opt, "-pretty"):
            opts["pretty"] = True
        else:
            raise UsageError(f'Option "{raw}" is unknown, try "bridge help".', hint=SUPPORTED)
        kept.append(raw)
    if not args:
        raise UsageError("Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }", hint=SUPPORTED)
    word = args.take()
    obj = next((c for c in _BRIDGE_OBJECTS if _m(word, c)), None)
    if obj is None:
        raise UsageError(f'Object "{word}" is unknown, try "bridge help".', hint=SUPPORTED)
    rest = args.rest()
    ctx = _Ctx(netns, line, IpOptions(**opts), tuple(kept + [word] + rest))
    args = _Args(rest)
    if obj == "link":
        return _bridge_link(args, ctx)
    if obj == "fdb":
        return _bridge_fdb(args, ctx)
    raise _unsupported(f'"bridge {obj}"', say("simlab supports bridge link and bridge fdb",
                                              "simlab が対応しているのは bridge link と bridge fdb です"))


_BRIDGE_LINK_OPTIONS = ("cost", "priority", "state", "guard", "fastleave", "root_block", "learning_sync",
                        "mcast_router", "mcast_flood", "bcast_flood", "mcast_to_unicast", "neigh_suppress",
                        "vlan_tunnel", "isolated", "locked", "hwmode", "backup_port", "nobackup_port",
                        "self", "master")
#: bridge(8)'s usage text (what it prints for a word it does not know, e.g. stp_state).
_BRIDGE_LINK_USAGE = """Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
                               [ guard {on | off} ]
                               [ hairpin {on | off} ]
                               [ fastleave {on | off} ]
                               [ root_block {on | off} ]
                               [ learning {on | off} ]
                               [ learning_sync {on | off} ]
                               [ flood {on | off} ]
                               [ mcast_router MULTICAST_ROUTER ]
                               [ mcast_flood {on | off} ]
                               [ bcast_flood {on | off} ]
                               [ mcast_to_unicast {on | off} ]
                               [ neigh_suppress {on | off} ]
                               [ vlan_tunnel {on | off} ]
                               [ isolated {on | off} ]
                               [ locked {on | off} ]
                               [ hwmode {vepa | veb} ]
                               [ backup_port DEVICE ] [ nobackup_port ]
                               [ self ] [ master ]
       bridge link show [dev DEV]"""


def _bridge_link(args: _Args, ctx: _Ctx) -> Change | Show:
    verb = args.take() if args else "show"
    if _m(verb, "set") or _m(verb, "change"):
        dev = None
        options: dict = {}
        while args:
            word = args.take()
            if word == "dev":
                dev = args.next_arg()
            elif word in ("hairpin", "mode", "learning", "flood"):
                value = args.next_arg()
                if value not in ("on", "off"):
                    raise UsageError(f'Error: argument of "{word}" must be one of "off", "on", not "{value}"',
                                     exit=234, hint=say(f"write `{word} on` or `{word} off`",
                                                        f"`{word} on` または `{word} off` と書いてください"))
                options["hairpin" if word == "mode" else word] = value == "on"
            elif word in _BRIDGE_LINK_OPTIONS:
                raise _unsupported(f'"bridge link set ... {word}"',
                                   say("simlab supports: bridge link set dev X hairpin|learning|flood on|off",
                                       "simlab が対応しているのは bridge link set dev X hairpin|learning|flood on|off です"))
            else:
                raise UsageError(_BRIDGE_LINK_USAGE, exit=255,
                                 hint=say(f'"{word}" is not a bridge port option; STP is the bridge\'s own: '
                                          "simlab's bridges run without it",
                                          f'"{word}" はブリッジポートのオプションではありません。STP はブリッジ自体の設定で、'
                                          "simlab のブリッジは STP なしで動きます"))
        if dev is None:
            raise UsageError("Device is a required argument.",
                             hint=say("write: bridge link set dev veth1 hairpin on",
                                      "次のように書いてください: bridge link set dev veth1 hairpin on"))
        if not options:
            raise _unsupported("bridge link set without hairpin, learning or flood",
                               say("write: bridge link set dev X hairpin|learning|flood on|off",
                                   "次のように書いてください: bridge link set dev X hairpin|learning|flood on|off"))
        return ctx.change(o.LinkSet(dev, netns=ctx.netns, **options))
    if _m(verb, "show") or _m(verb, "lst") or _m(verb, "list"):
        flt: dict = {}
        while args:
            word = args.take()
            if word == "dev":
                value = args.next_arg()
                if "dev" in flt:
                    raise _duparg("dev", value)
                flt["dev"] = value
            elif word == "master":
                flt["master"] = args.next_arg()
            else:
                raise UsageError(f'Unknown argument "{word}"' if False else
                                 f'Error: either "dev" is duplicate, or "{word}" is a garbage.',
                                 hint=say("write: bridge link show [dev X]",
                                          "次のように書いてください: bridge link show [dev X]"))
        return ctx.show("bridge", BridgeLinkShow(**flt))
    if _m(verb, "help"):
        raise _unsupported('"bridge link help"', SUPPORTED)
    raise _unknown_command(verb, "link", tool="bridge")


def _bridge_fdb(args: _Args, ctx: _Ctx) -> Show:
    verb = args.take() if args else "show"
    if _m(verb, "show") or _m(verb, "lst") or _m(verb, "list"):
        flt: dict = {}
        while args:
            word = args.take()
            if word == "dev":
                flt["dev"] = args.next_arg()
            elif word in ("br", "brport"):
                value = args.next_arg()
                flt["br" if word == "br" else "dev"] = value
            elif word in ("vlan", "state", "dynamic", "self", "master"):
                raise _unsupported(f'the fdb selector "{word}"',
                                   say("simlab supports: bridge fdb show [br BR] [dev X]",
                                       "simlab が対応しているのは bridge fdb show [br BR] [dev X] です"))
            else:
                if "dev" in flt:
                    raise _duparg2("dev", word)
                flt["dev"] = word
        return ctx.show("bridge", FdbShow(**flt))
    if _m(verb, "add") or _m(verb, "append") or _m(verb, "delete") or _m(verb, "replace") \
            or _m(verb, "get") or _m(verb, "flush"):
        raise _unsupported(f'"bridge fdb {verb}"',
                           say("the bridges learn and forget by themselves in the model",
                               "モデルのブリッジは MAC アドレスを自分で学習し、自分で忘れます"))
    if _m(verb, "help"):
        raise _unsupported('"bridge fdb help"', SUPPORTED)
    raise _unknown_command(verb, "fdb", tool="bridge")


# ------------------------------------------------------------------ iptables
def _iptables(words: list[str], netns: str, line: str) -> Change | Show:
    listed = list_command(words, netns, line)  # -L, -Z, -S -v
    if listed is not None:
        return listed
    table = "filter"
    rest: list[str] = []
    args = _Args(words)
    while args:
        word = args.take()
        if word in ("-t", "--table"):
            table = args.next_arg() if args else ""
            if not table:
                raise UsageError("iptables v1.8.9 (nf_tables): option \"-t\" requires an argument",
                                 exit=2, hint=say("write: iptables -t nat -S",
                                                  "次のように書いてください: iptables -t nat -S"))
        elif word.startswith("-t") and len(word) > 2 and not word.startswith("--"):
            table = word[2:]
        else:
            rest.append(word)
    if not rest:
        raise UsageError("iptables v1.8.9 (nf_tables): no command specified", exit=2,
                         hint=say("write: iptables -t nat -S",
                                  "次のように書いてください: iptables -t nat -S"))
    verb = rest[0]
    if verb in ("-S", "--list-rules"):
        if len(rest) > 2:
            raise _unsupported("options after iptables -S",
                               say("write: iptables -t TABLE -S [CHAIN]",
                                   "次のように書いてください: iptables -t TABLE -S [CHAIN]"))
        return Show("iptables", IptablesShow(table, rest[1] if len(rest) > 1 else None), tuple(words), netns,
                    text=line)
    if verb in ("-P", "-N", "-A", "-I", "-D", "-X", "-F", "--policy", "--new-chain", "--append",
                "--insert", "--delete", "--delete-chain", "--flush"):
        long = {"--policy": "-P", "--new-chain": "-N", "--append": "-A", "--insert": "-I",
                "--delete": "-D", "--delete-chain": "-X", "--flush": "-F"}
        op_args = (long.get(verb, verb), *rest[1:])
        if table not in BUILTIN_CHAINS:
            raise _unsupported(f'the iptables table "{table}"',
                               say("the tables are filter, nat and mangle",
                                   "テーブルは filter、nat、mangle です"))
        word = unknown_word(op_args)  # the kernel backend hands these to the real iptables
        if word is not None:
            raise _unsupported(f'"{word}" in an iptables rule', RULE_HINT)
        return Change((o.Iptables(table, op_args, netns=netns),), line)
    raise _unsupported(f'"iptables {verb}"',
                       say("simlab supports iptables -S, -L, -Z, -P, -N, -A, -I, -D, -X and -F",
                           "simlab が対応しているのは iptables の -S、-L、-Z、-P、-N、-A、-I、-D、-X、-F です"))


RULE_HINT = say(
    "simlab understands rules made of -s, -d, -i, -o, -p, --sport, --dport, -m "
    f"{'|'.join(RULE_WORDS['module'])} (--ctstate, --dst-type, --comment), ! and -j "
    f"{'|'.join(RULE_WORDS['target'])}|CHAIN (--to-destination, --to-source)",
    "simlab が対応しているルールは -s、-d、-i、-o、-p、--sport、--dport、-m "
    f"{'|'.join(RULE_WORDS['module'])} (--ctstate、--dst-type、--comment)、! と -j "
    f"{'|'.join(RULE_WORDS['target'])}|CHAIN (--to-destination、--to-source) です",
)


def _ping(words: list[str], netns: str, line: str) -> Change:
    """`ping [-c COUNT] DST` (iputils' wording for what it refuses)."""
    count, targets, args = 1, [], list(words)
    while args:
        word = args.pop(0)
        if word.startswith("-c"):
            value = word[2:] or (args.pop(0) if args else "")
            if not value:
                raise UsageError("ping: option requires an argument -- 'c'", exit=2,
                                 hint=say("write: ping -c 1 10.0.0.2",
                                          "次のように書いてください: ping -c 1 10.0.0.2"))
            try:
                count = int(value)
            except ValueError:
                raise UsageError(f"ping: invalid argument: '{value}'", exit=1,
                                 hint=say("-c takes the number of echoes, e.g. -c 1",
                                          "-c には echo の回数を指定します (例: -c 1)")) from None
        elif word.startswith("-") and len(word) > 1:
            raise _unsupported(f'the ping option "{word}"',
                               say("simlab's ping takes -c COUNT and an address: ping -c 1 10.0.0.2",
                                   "simlab の ping が受け付けるのは -c COUNT とアドレスです: "
                                   "ping -c 1 10.0.0.2"))
        else:
            targets.append(word)
    if not targets:
        raise UsageError("ping: usage error: Destination address required", exit=1,
                         hint=say("write: ping -c 1 10.0.0.2",
                                  "次のように書いてください: ping -c 1 10.0.0.2"))
    if len(targets) > 1:
        raise _unsupported("ping with several destinations",
                           say("ping one address at a time", "アドレスは 1 つずつ ping してください"))
    return Change((o.Ping(targets[0], netns=netns, count=count),), line)


def _sysctl(words: list[str], netns: str, line: str) -> Change:
    args = [w for w in words if w not in ("-w", "-q")]
    if not args or "=" not in args[0] or len(args) > 1:
        raise _unsupported("this sysctl form",
                           say("write: sysctl -w net.ipv4.ip_forward=1",
                               "次のように書いてください: sysctl -w net.ipv4.ip_forward=1"))
    key, _, value = args[0].partition("=")
    key = key.replace("/", ".")
    echo = "" if "-q" in words else f"{key} = {value}\n"  # procps echoes what it wrote
    return Change((o.SysctlSet(key, value, netns=netns),), line, stdout=echo)
