"""The packet walk: can A reach B, and how?  A pure function of one snapshot.

:func:`reach` sends one packet (ICMP echo, or the first TCP/UDP segment of a
connection) from a namespace to an address and follows it hop by hop, then
sends the answer back.  Every hop says where it is, what happened and why,
in English and Japanese, so a view can narrate it.

Rules followed here (the kernel's, in the order it applies them):
- a locally sent packet first meets the ``nat OUTPUT`` chain, then the route
  lookup: the longest matching prefix wins, ties go to the lowest metric; no
  route means ``connect()`` fails with *Network is unreachable* (ENETUNREACH);
- an address of the namespace itself (on an up link, or 127/8 while ``lo`` is
  up) is delivered locally through ``lo``, so with ``lo`` down the packet is
  dropped without an error;
- the source address is the route's ``src``, else the out link's address in
  the next hop's subnet, else its first address;
- the next hop (the gateway, or the destination on a connected route) is
  resolved by ARP on the out link's L2 segment; Linux answers ARP for any of
  its addresses (arp_ignore=0);
- a frame sent on a veth comes out of its peer, if both ends are up; a bridge
  port that receives a frame learns the sender's MAC, then the bridge passes
  the frame up (for its own MAC) or forwards it to the port its FDB names
  (learned from the ARP reply), flooding broadcasts such as ARP requests;
- a received packet meets ``nat PREROUTING`` (docker's DNAT), then the route
  lookup: local addresses are delivered (``filter INPUT``); anything else is
  forwarded only when ``net.ipv4.ip_forward`` is 1 (``filter FORWARD``); a
  transit namespace without a route answers *Destination Net Unreachable*;
- a filter chain's rules are read in order, user chains entered by ``-j`` and
  left by ``RETURN`` or their end; a packet no rule decides meets the built-in
  chain's policy (``-P FORWARD DROP``: dropped, no answer); a connection's
  answer is ``ESTABLISHED`` to ``-m conntrack --ctstate`` (its first packet
  ``NEW``), so ``--ctstate RELATED,ESTABLISHED -j ACCEPT`` lets replies back;
- on the way out ``nat POSTROUTING`` may rewrite the source (MASQUERADE: the
  out link's address; SNAT: the given one);
- the nat table sees only a connection's first packet: the answer is
  translated back by conntrack (the reverse of each rewrite) in the namespace
  that made it, and no nat rule runs for it.
- the packet carries a mark (skb->mark): ``-j MARK`` sets it and the chain
  goes on, ``-m mark`` reads it, and it is cleared when the packet enters
  another namespace (portmap marks hairpin and localhost connections in nat
  PREROUTING/OUTPUT and masquerades what carries the mark in POSTROUTING);
  an answer's destination is given back on the way in, its source only on the
  way out, so filter FORWARD sees the pod's own address;
- a 127.x address crosses a device other than lo only where
  ``route_localnet`` is 1 (:mod:`simlab.model.localnet`).

Policy routing: the rules (``ip rule``) pick the table by source, destination and input
device (an ``ip rule fwmark`` does not see the nat table's marks here).

Counters: every chain walked and rule matched is reported to :mod:`.xt_counters`, so a
ping moves ``iptables -L -v``'s counters as the kernel's (a ping's echoes are one
conntrack connection: ``flows``).

Not modelled: the raw and mangle tables, rp_filter, ICMP
redirects, the verdict of br_netfilter (a bridged frame meeting ``filter FORWARD``: on a
machine that loaded it, a kernel lab's namespaces have
``net.bridge.bridge-nf-call-iptables=1``, so frames bridged inside a namespace
whose FORWARD policy is DROP need an ACCEPT, as docker's ``-i docker0 -o
docker0 -j ACCEPT`` and the pod network's ``-s 10.244.0.0/16 -j ACCEPT`` are; the model
walks those hooks for their counters only; nor br_netfilter's bridged DNAT: a pod reaching
its own hostPort is sent back out of its own bridge port, which needs ``hairpinMode``,
while the model routes it and delivers it either way, so portmap's presets turn hairpin
on), the ICMP errors' own way back (not counted),
IPv6, and sockets (a TCP packet delivered to a
namespace counts as reaching it, whether or not something listens there).
Learning (ARP cache, bridge FDB) is reported in the hops and as events
(``Walk.learned``); :func:`reach` never changes the snapshot, but the answer
is walked in the snapshot the request left (the destination learnt the sender
from its ARP request), and :func:`simlab.model.learn.learn` turns the events into the
state after a ping (the ``Ping`` operation).

Each transmission also gives the packet view: the packet on every interface it
crosses, as a capture there shows it (``Walk.seen``, built by
:mod:`simlab.model.wire`).
"""

from __future__ import annotations

import functools
import ipaddress
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from . import xt_counters
from .derive import carrier, peer_link, port_state, ports_of
from .learn import Heard, Resolved, learn
from .netfilter import policy_of
from .rules.fib_rules import matching
from .state import ROOT, Link, Netns, NetState, Route
from .text import shown_language
from .wire import Seen, Sent, conntrack_text, local_route_text, looped, neigh_text, route_text, sent
from . import localnet, xt_match

__all__ = ["Hop", "Seen", "Walk", "reach", "route_lookup", "is_local", "source_for"]

_MAX_HOPS = 64  # IP TTL of Linux (net.ipv4.ip_default_ttl)
_EPHEMERAL = 40000  # a source port from the ephemeral range, for the story only


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class Hop:
    """One thing that happened to the packet, in one namespace."""

    netns: str  # namespace key (ROOT is the node)
    dev: str | None  # the device it happened on, if any
    action: str  # route, no-route, local, arp, veth, bridge, nat, conntrack, forward, drop, deliver
    en: str
    ja: str

    def text(self, lang: str = "en") -> str:
        return self.ja if lang == "ja" else self.en

    def __str__(self) -> str:
        return f"[{_label(self.netns)}{' ' + self.dev if self.dev else ''}] {self.en}"


@dataclass(frozen=True)
class Walk:
    """The answer of :func:`reach`: did the packet arrive, did the answer come back, and how."""

    ok: bool
    hops: tuple[Hop, ...]
    error: str  # "" when ok, else what the sender sees ("Network is unreachable", ...)
    src: str | None  # the source address the sender used (None: it never chose one)
    src_netns: str  # the namespace it was sent from
    dst: str  # the address asked for
    proto: str
    dport: int | None
    delivered: tuple[str, str] | None = None  # (namespace key, device) where it arrived
    seen_src: str | None = None  # the source as the destination saw it (after SNAT/MASQUERADE)
    seen_dst: str | None = None  # the destination after DNAT
    seen_dport: int | None = None
    reply_ok: bool = False
    reply_hops: tuple[Hop, ...] = ()
    reply_error: str = ""
    #: What the packets taught the machines on the way, in order (see simlab.model.learn).
    learned: tuple[Resolved | Heard, ...] = ()
    #: The packets on each interface crossed, request then reply (see :class:`Seen`).
    seen: tuple[Seen, ...] = ()
    #: The iptables counters the request and the reply moved: (namespace, table, counter
    #: key), see :mod:`simlab.model.xt_counters`.
    tallied: tuple[xt_counters.Tally, ...] = ()
    #: This connection's conntrack state per namespace after the walk ("NEW": confirmed
    #: there, no answer seen yet; "ESTABLISHED"): what a next echo of the same ping meets.
    flows: Mapping[str, str] = field(default_factory=dict)

    def lines(self, lang: str = "en") -> list[str]:
        """The story, one hop per line."""
        out = [f"{i}. [{_label(h.netns)}{' ' + h.dev if h.dev else ''}] {h.text(lang)}"
               for i, h in enumerate(self.hops, 1)]
        if self.ok:
            head = "reply" if lang == "en" else "応答"
            out += [f"{head} {i}. [{_label(h.netns)}{' ' + h.dev if h.dev else ''}] {h.text(lang)}"
                    for i, h in enumerate(self.reply_hops, 1)]
        return out

    def __str__(self) -> str:
        return self.text()

    def text(self, lang: str | None = None) -> str:
        """The verdict and the story; ``lang`` defaults to simlab's language (``print(walk)``
        follows ``LANG`` once :func:`simlab.notebook.install` set it)."""
        ja = (lang or shown_language()) == "ja"
        what = f"{self.proto}{'/' + str(self.dport) if self.dport else ''}"
        if not self.ok:
            verdict = f"{'失敗：' if ja else 'FAILED: '}{self.error}"
        elif self.reply_ok:
            verdict = "届き、応答も戻る" if ja else "ok, and the reply comes back"
        else:
            verdict = (f"届くが、応答が失われる：{self.reply_error}" if ja
                       else f"arrives, but the reply is lost: {self.reply_error}")
        start = self.src or ((_label(self.src_netns) + " から") if ja
                             else "from " + _label(self.src_netns))
        return "\n".join([f"{start} -> {self.dst} ({what}): {verdict}",
                          *self.lines("ja" if ja else "en")])


@dataclass(frozen=True)
class _Pkt:
    src: str | None
    dst: str
    proto: str
    sport: int | None
    dport: int | None
    mark: int = 0  # skb->mark: set by -j MARK, read by -m mark; a namespace crossing clears it

    def tuple_text(self) -> str:
        if self.dport is None:
            return f"{self.src} -> {self.dst}"
        return f"{self.src}:{self.sport} -> {self.dst}:{self.dport}"


@dataclass(frozen=True)
class _Ct:
    """One conntrack entry: the packet as it entered a namespace and as it left it."""

    netns: str
    before: _Pkt
    after: _Pkt


@dataclass
class _Trip:
    hops: list[Hop] = field(default_factory=list)
    ct: list[_Ct] = field(default_factory=list)
    error: str = ""
    delivered: tuple[str, str] | None = None
    pkt: _Pkt | None = None
    src: str | None = None  # the source the sender chose
    learned: list = field(default_factory=list)  # Resolved / Heard events
    seen: list[Seen] = field(default_factory=list)  # the packet on each interface crossed
    #: (hop index, rule) of the nat rule or conntrack entry that rewrote the packet in the
    #: namespace it is in now (None: nothing did); what its next transmission shows.
    decided: tuple[int, str] | None = None

    def add(self, netns: str, dev: str | None, action: str, en: str, ja: str) -> None:
        self.hops.append(Hop(netns, dev, action, en, ja))

    def fail(self, netns: str, dev: str | None, error: str, en: str, ja: str) -> _Trip:
        self.add(netns, dev, "drop", en, ja)
        self.error = error
        return self


def _label(key: str) -> str:
    return "node" if key == ROOT else key


# ------------------------------------------------------------ route and addresses
def _v4(text: str) -> ipaddress.IPv4Address | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip if ip.version == 4 else None


def is_local(ns: Netns, ip: str) -> tuple[bool, Link | None]:
    """Is ``ip`` one of this namespace's own addresses?  (True, the link holding it)."""
    addr = _v4(ip)
    if addr is None:
        return False, None
    lo = ns.link("lo")
    if addr.is_loopback:
        return (lo is not None and lo.up), lo
    for a in ns.addrs:
        link = ns.links.get(a.ifindex)
        if a.family == 4 and a.address == ip and link is not None and link.up:
            return True, link
    return False, None


def route_lookup(ns: Netns, ip: str, src: str | None = None, iif: int = 1) -> Route | None:
    """The routing decision for ``ip``: the policy rules in order (``ip rule``), and in each
    rule's table the longest prefix, then the lowest metric; a table without a route (or
    with a ``throw``) passes to the next rule.  A packet this namespace sends comes in by
    ``lo`` (``iif`` 1) and has no source yet; table local is the caller's (:func:`is_local`).

    A rule's ``blackhole``/``prohibit`` answers like a route of that type; its
    ``unreachable`` like no route at all (both are ENETUNREACH)."""
    addr = _v4(ip)
    if addr is None:
        return None
    saddr = _v4(src) if src else ipaddress.ip_address("0.0.0.0")
    for rule in matching(ns, 4, saddr, addr, iif=iif):
        if rule.action == "unreachable":
            return None
        if rule.action != "lookup":
            return Route(dst=f"(ip rule {rule.pref})", dev=0, type=rule.action)
        if rule.table == LOCAL_TABLE:
            continue
        best: tuple[int, int, Route] | None = None
        for r in ns.routes:
            if r.family != 4 or r.table != rule.table:
                continue
            net = ipaddress.ip_network("0.0.0.0/0" if r.dst == "default" else r.dst)
            if addr not in net:
                continue
            key = (net.prefixlen, -(r.metric or 0))
            if best is None or key > best[:2]:
                best = (*key, r)
        if best is not None and best[2].type != "throw":
            return best[2]
    return None


def _select_src(ns: Netns, link: Link, nexthop: str, route: Route | None = None) -> str | None:
    """inet_select_addr(): the route's src, the address in the next hop's subnet, the first one."""
    if route is not None and route.src:
        return route.src
    mine = [a for a in ns.addrs_of(link.ifindex) if a.family == 4 and a.scope != "host"]
    hop = ipaddress.ip_address(nexthop)
    for a in mine:
        if hop in ipaddress.ip_interface(a.cidr).network:
            return a.address
    if mine:
        return mine[0].address
    others = [a for a in ns.addrs if a.family == 4 and a.scope == "global"]
    return others[0].address if others else None


# ------------------------------------------------------------------ netfilter
_TERMINAL = ("ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "RETURN")
_FLAGS = {"--random", "--random-fully", "--persistent"}


@dataclass(frozen=True)
class _Rule:
    chain: str
    matches: tuple[tuple[bool, str, str], ...]  # (negated, option, value)
    target: str
    args: Mapping[str, str]  # read only: parsed rules are shared (see _parse_rule)
    line: str
    unknown: str = ""  # an option simlab does not evaluate: the rule never matches


_OPT_ALIASES = {"--source": "-s", "--src": "-s", "--destination": "-d", "--dst": "-d",
                "--in-interface": "-i", "--out-interface": "-o", "--protocol": "-p",
                "--destination-port": "--dport", "--source-port": "--sport", "--state": "--ctstate"}
_MATCH_OPTS = {"-s", "-d", "-i", "-o", "-p", "--dport", "--sport", "--dst-type", "--src-type",
               "--ctstate", *xt_match.MATCH_OPTS}


@functools.lru_cache(maxsize=4096)
def _parse_rule(line: str) -> _Rule | None:
    """One ``iptables -S`` line as a rule, parsed once per distinct line.

    Rules stay stored as the text ``iptables -S`` prints (what the kernel backend reads
    back and what a learner compares); a walk reads them through this cache.
    """
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    if len(words) < 2 or words[0] != "-A":
        return None
    chain, rest = words[1], words[2:]
    matches: list[tuple[bool, str, str]] = []
    target, args, unknown = "", {}, ""
    negate = False
    i = 0
    while i < len(rest):
        word = _OPT_ALIASES.get(rest[i], rest[i])
        value = rest[i + 1] if i + 1 < len(rest) else ""
        if word == "!":
            negate = True
            i += 1
            continue
        if word in ("-m", "--comment", "--icmp-type"):
            # Match modules are named before their options; comments never change a verdict.
            i += 2
        elif word in _MATCH_OPTS:
            matches.append((negate, word, value))
            i += 2
        elif word in ("-j", "-g"):
            target = value
            i += 2
            while i < len(rest) and rest[i].startswith("--"):
                if rest[i] in _FLAGS:
                    i += 1
                else:
                    args[rest[i]] = rest[i + 1] if i + 1 < len(rest) else ""
                    i += 2
        else:
            unknown = unknown or rest[i]
            i += 1
        negate = False
    return _Rule(chain, tuple(matches), target, args, line, unknown)


def _rules(ns: Netns, table: str, chain: str) -> list[_Rule]:
    xt_counters.entered(ns.name, table, chain)
    out = []
    for line in ns.iptables.get(table, ()):
        if line.startswith(f"-A {chain} "):
            rule = _parse_rule(line)
            if rule is not None:
                out.append(rule)
    return out


def _iface_match(pattern: str, name: str | None) -> bool:
    if name is None:
        return False
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _port_match(spec: str, port: int | None) -> bool:
    if port is None:
        return False
    low, _, high = spec.partition(":")
    return int(low or 0) <= port <= int(high or low or 65535)


def _matches(rule: _Rule, ns: Netns, pkt: _Pkt, in_if: str | None, out_if: str | None,
             ctstate: str) -> bool:
    if rule.unknown:
        return False
    for negated, opt, value in rule.matches:
        if opt in ("-s", "-d"):
            addr = _v4(pkt.src if opt == "-s" else pkt.dst or "")
            hit = addr is not None and addr in ipaddress.ip_network(value, strict=False)
        elif opt == "-i":
            hit = _iface_match(value, in_if)
        elif opt == "-o":
            hit = _iface_match(value, out_if)
        elif opt == "-p":
            hit = value in ("all", pkt.proto)
        elif opt == "--dport":
            hit = _port_match(value, pkt.dport)
        elif opt == "--sport":
            hit = _port_match(value, pkt.sport)
        elif opt in ("--dst-type", "--src-type"):
            addr = pkt.dst if opt == "--dst-type" else pkt.src
            local = addr is not None and is_local(ns, addr)[0]
            hit = (value == "LOCAL" and local) or (value == "UNICAST" and not local)
        elif opt == "--ctstate":
            hit = ctstate in value.split(",")
        elif opt in xt_match.MATCH_OPTS:
            hit = xt_match.hit(opt, value, pkt.mark, pkt.sport, pkt.dport)
        else:
            return False
        if hit == negated:
            return False
    return xt_counters.matched(ns.name, rule.line)


def _run_chain(ns: Netns, table: str, chain: str, pkt: _Pkt, in_if: str | None,
               out_if: str | None, ctstate: str, depth: int = 0) -> tuple[_Rule | None, _Pkt]:
    """The rule that decides the packet in ``chain`` (None: the chain's end, policy ACCEPT),
    and the packet as the chain leaves it (``-j MARK`` changes its mark and goes on)."""
    if depth > 16:
        return None, pkt
    for rule in _rules(ns, table, chain):
        if not _matches(rule, ns, pkt, in_if, out_if, ctstate):
            continue
        if rule.target == "MARK":
            pkt = replace(pkt, mark=xt_match.set_mark(pkt.mark, rule.args))
            continue
        if rule.target in _TERMINAL:
            if rule.target == "RETURN":
                return None, pkt
            return rule, pkt
        if rule.target:  # a jump to a user chain
            verdict, pkt = _run_chain(ns, table, rule.target, pkt, in_if, out_if, ctstate, depth + 1)
            if verdict is not None:
                return verdict, pkt
    return None, pkt


def _nat(trip: _Trip, key: str, ns: Netns, chain: str, pkt: _Pkt, in_if: str | None,
         out_if: str | None, out_link: Link | None = None, nexthop: str | None = None) -> _Pkt:
    """Apply the nat table's verdict for a connection's first packet."""
    rule, marked = _run_chain(ns, "nat", chain, pkt, in_if, out_if, "NEW")
    if marked.mark != pkt.mark:
        _tell_mark(trip, key, chain, in_if or out_if, marked.mark)
        pkt = marked
    if rule is None or rule.target not in ("DNAT", "SNAT", "MASQUERADE"):
        return pkt
    if rule.target == "DNAT":
        to = rule.args.get("--to-destination", "")
        host, _, port = to.partition(":")
        new = replace(pkt, dst=host or pkt.dst, dport=int(port) if port else pkt.dport)
        trip.add(key, in_if or out_if, "nat",
                 f"nat {chain}: `{rule.line}` rewrites the destination {pkt.dst}"
                 f"{':' + str(pkt.dport) if pkt.dport else ''} to {to} (DNAT)",
                 f"nat {chain}：`{rule.line}` が宛先 {pkt.dst}"
                 f"{':' + str(pkt.dport) if pkt.dport else ''} を {to} に書き換える (DNAT)")
        trip.decided = (len(trip.hops) - 1, rule.line)
        return new
    if rule.target == "SNAT":
        to = rule.args.get("--to-source", "").split(":")[0]
        how_en, how_ja = "SNAT", "SNAT"
    else:
        to = _select_src(ns, out_link, nexthop or pkt.dst) if out_link is not None else None
        how_en = f"MASQUERADE: the address of {out_if}, the link it leaves by"
        how_ja = f"MASQUERADE：出ていくリンク {out_if} のアドレス"
    if not to:
        return pkt
    trip.add(key, out_if, "nat",
             f"nat {chain}: `{rule.line}` rewrites the source {pkt.src} to {to} ({how_en})",
             f"nat {chain}：`{rule.line}` が送信元 {pkt.src} を {to} に書き換える（{how_ja}）")
    trip.decided = (len(trip.hops) - 1, rule.line)
    return replace(pkt, src=to)


def _martian(trip: _Trip, key: str, ns: Netns, dev: Link, pkt: _Pkt) -> bool:
    """A received packet with a 127.x address (not allowed by route_localnet): dropped."""
    which = localnet.martian(ns, dev, pkt.src, pkt.dst)
    if not which:
        return False
    addr = pkt.dst if which == "destination" else pkt.src
    trip.fail(key, dev.ifname, f"dropped: martian {which} {addr}",
              f"{dev.ifname} received a packet with the loopback {which} {addr}: a martian, "
              f"dropped (net.ipv4.conf.{dev.ifname}.route_localnet is 0)",
              f"{dev.ifname} が{'宛先' if which == 'destination' else '送信元'}がループバック"
              f"アドレス {addr} のパケットを受け取った：martian として破棄"
              f"（net.ipv4.conf.{dev.ifname}.route_localnet が 0）")
    return True


def _tell_mark(trip: _Trip, key: str, chain: str, dev: str | None, mark: int) -> None:
    trip.add(key, dev, "nat",
             f"nat {chain}: a `-j MARK` rule sets the packet's mark to {mark:#x}; rules later on "
             "its way (`-m mark --mark`) can match it",
             f"nat {chain}: `-j MARK` のルールがパケットのマークを {mark:#x} にする。この先の"
             "ルール（`-m mark --mark`）がそれに一致できる")


def _filter(trip: _Trip, key: str, ns: Netns, chain: str, pkt: _Pkt, in_if: str | None,
            out_if: str | None, ctstate: str) -> bool:
    rule, _ = _run_chain(ns, "filter", chain, pkt, in_if, out_if, ctstate)
    if rule is None:
        # No rule decided: the built-in chain's policy does (`iptables -P FORWARD DROP`).
        if policy_of(ns.iptables.get("filter", ()), chain) != "DROP":
            return True
        trip.fail(key, in_if or out_if, f"dropped by filter {chain}",
                  f"filter {chain}: no rule accepts the packet, and the chain's policy is DROP "
                  f"(`-P {chain} DROP` in `iptables -S`): it is dropped",
                  f"filter {chain}：パケットを受け入れるルールがなく、チェインのポリシーが DROP"
                  f"（`iptables -S` の `-P {chain} DROP`）：破棄される")
        return False
    if rule.target not in ("DROP", "REJECT"):
        return True
    if rule.target == "REJECT":
        # ipt_REJECT answers with the ICMP error it names; ping prints iputils' words.
        kind = rule.args.get("--reject-with", "icmp-port-unreachable")
        error = REJECT_ERRORS.get(kind, "Destination Port Unreachable")
        trip.fail(key, in_if or out_if, error,
                  f"filter {chain}: `{rule.line}` rejects the packet: ICMP {error} goes back",
                  f"filter {chain}：`{rule.line}` がパケットを拒否する：ICMP {error} を返す")
        return False
    trip.fail(key, in_if or out_if, f"dropped by filter {chain}",
              f"filter {chain}: `{rule.line}` drops the packet",
              f"filter {chain}：`{rule.line}` がパケットを破棄する")
    return False


#: ``-j REJECT --reject-with TYPE``: what ping prints for the ICMP error it sends.
REJECT_ERRORS = {
    "icmp-port-unreachable": "Destination Port Unreachable",
    "icmp-host-unreachable": "Destination Host Unreachable",
    "icmp-net-unreachable": "Destination Net Unreachable",
    "icmp-proto-unreachable": "Destination Protocol Unreachable",
    "icmp-host-prohibited": "Destination Host Prohibited",
    "icmp-net-prohibited": "Destination Net Prohibited",
    "icmp-admin-prohibited": "Packet filtered",
}


# --------------------------------------------------------------------- layer 2
@dataclass(frozen=True)
class _L2:
    """A piece of the way a frame takes: veth crossing or bridge decision."""

    kind: str  # "veth", "bridge-up", "bridge-fwd", "bridge-out"
    netns: str
    a: Link  # veth: the sending end; bridge: the bridge
    b: Link  # veth: the receiving end; bridge: the port in (up, fwd) or out (out)
    c: Link | None = None  # bridge-fwd: the port out
    c_netns: str | None = None  # veth: the receiving end's namespace


def _endpoints(state: NetState, key: str, link: Link) -> list[tuple[str, Link, tuple[_L2, ...]]]:
    """Every L3 interface that a frame sent on ``link`` can reach, with the way to it."""
    found: list[tuple[str, Link, tuple[_L2, ...]]] = []
    seen: set[tuple[str, int]] = set()

    def transmit(k: str, dev: Link, path: tuple[_L2, ...]) -> None:
        ns = state.netns[k]
        if dev.kind == "veth":
            other = peer_link(state, dev)
            if other is not None and carrier(state, ns, dev):
                crossing = _L2("veth", k, dev, other[1], c_netns=other[0])
                arrive(other[0], other[1], path + (crossing,))
        elif dev.kind == "bridge":
            for port in ports_of(ns, dev):
                if port_state(state, ns, port) == "forwarding":
                    transmit(k, port, path + (_L2("bridge-out", k, dev, port),))

    def arrive(k: str, dev: Link, path: tuple[_L2, ...]) -> None:
        if (k, dev.ifindex) in seen:
            return
        seen.add((k, dev.ifindex))
        ns = state.netns[k]
        if dev.master is not None:
            bridge = ns.links.get(dev.master)
            if (bridge is None or port_state(state, ns, dev) != "forwarding"
                    or (k, bridge.ifindex) in seen):
                return
            seen.add((k, bridge.ifindex))
            found.append((k, bridge, path + (_L2("bridge-up", k, bridge, dev),)))
            for port in ports_of(ns, bridge):
                if port.ifindex != dev.ifindex and port_state(state, ns, port) == "forwarding":
                    transmit(k, port, path + (_L2("bridge-fwd", k, bridge, dev, port),))
        elif dev.up:
            found.append((k, dev, path))

    seen.add((key, link.ifindex))
    transmit(key, link, ())
    return found


def _l2_hops(trip: _Trip, path: tuple[_L2, ...], src_mac: str, dst_mac: str, fdb_known) -> None:
    for step in path:
        if step.kind == "veth":
            trip.add(step.netns, step.a.ifname, "veth",
                     f"veth: the frame sent on {step.a.ifname} comes out of its peer "
                     f"{step.b.ifname} in {_label(step.c_netns)}",
                     f"veth：{step.a.ifname} に送ったフレームは対向の {step.b.ifname}"
                     f"（{_label(step.c_netns)}）から出てくる")
        elif step.kind == "bridge-up":
            trip.add(step.netns, step.a.ifname, "bridge",
                     f"bridge {step.a.ifname}: learns {src_mac} on port {step.b.ifname}; {dst_mac} "
                     f"is the bridge's own MAC, so the frame goes up to {step.a.ifname} (IP layer)",
                     f"ブリッジ {step.a.ifname}：ポート {step.b.ifname} で {src_mac} を学習。"
                     f"{dst_mac} はブリッジ自身の MAC なので、フレームは {step.a.ifname} の IP 層へ"
                     "上がる")
        elif step.kind in ("bridge-fwd", "bridge-out"):
            out = step.c if step.kind == "bridge-fwd" else step.b
            known = fdb_known(step.netns, out, dst_mac)
            how_en = "is in its FDB (bridge fdb)" if known else "was learned from the ARP reply"
            how_ja = "は FDB にある（bridge fdb）" if known else "は ARP 応答から学習済み"
            if step.kind == "bridge-fwd":
                en = (f"bridge {step.a.ifname}: learns {src_mac} on port {step.b.ifname}; "
                      f"{dst_mac} {how_en} on port {out.ifname}: forwarded there")
                ja = (f"ブリッジ {step.a.ifname}：ポート {step.b.ifname} で {src_mac} を学習。"
                      f"{dst_mac} {how_ja}（ポート {out.ifname}）：そこへ転送")
            else:
                en = (f"bridge {step.a.ifname} sends the frame: {dst_mac} {how_en} "
                      f"on port {out.ifname}")
                ja = (f"ブリッジ {step.a.ifname} がフレームを送信：{dst_mac} "
                      f"{how_ja}（ポート {out.ifname}）")
            trip.add(step.netns, step.a.ifname, "bridge", en, ja)


def _resolve(trip: _Trip, state: NetState, key: str, out: Link, src: str | None, nexthop: str):
    """ARP for ``nexthop`` on ``out``: (namespace key, link that answers, way there) or None."""
    ns = state.netns[key]
    if not carrier(state, ns, out):
        trip.learned.append(Resolved(key, out.ifindex, out.mac, src, nexthop, None))
        trip.fail(key, out.ifname, "no carrier",
                  f"{out.ifname} has no carrier (NO-CARRIER: its peer or every bridge port is "
                  "down): the frame is lost",
                  f"{out.ifname} にキャリアがない（NO-CARRIER：対向かブリッジのポートが down）：フ"
                  "レームは失われる")
        return None
    candidates = _endpoints(state, key, out)
    hop = ipaddress.ip_address(nexthop)
    answer = None
    for k, link, path in candidates:  # the link holding the address answers first
        held = state.netns[k].addrs_of(link.ifindex)
        if any(a.family == 4 and a.address == nexthop for a in held):
            answer = (k, link, path)
            break
    if answer is None:  # arp_ignore=0: any interface answers for any address of its namespace
        for k, link, path in candidates:
            if is_local(state.netns[k], nexthop)[0] and not hop.is_loopback:
                answer = (k, link, path)
                break
    cached = next((n for n in ns.neighs
                   if n.ifindex == out.ifindex and n.dst == nexthop and n.lladdr), None)
    if cached is not None:
        # A cached entry decides where the frame goes: its MAC, not whoever holds the address.
        # They differ when two hosts share an address (the last ARP heard wins the cache).
        by_mac = next((c for c in candidates if c[1].mac == cached.lladdr), None)
        if by_mac is not None:
            answer = by_mac
    if cached is None:  # the ARP request is flooded: every bridge on the segment hears the asker
        trip.learned += [Heard(step.netns, step.b.ifindex, out.mac) for _, _, path in candidates
                         for step in path if step.kind in ("bridge-up", "bridge-fwd")]
    trip.learned.append(Resolved(key, out.ifindex, out.mac, src, nexthop,
                                 None if answer is None else (answer[0], answer[1].ifindex,
                                                              answer[1].mac)))
    if answer is None:
        trip.fail(key, out.ifname, "Destination Host Unreachable",
                  f"ARP: who-has {nexthop} tell {src} is broadcast on {out.ifname}; nobody on this "
                  "segment has that address, so there is no reply (Destination Host Unreachable)",
                  f"ARP：{out.ifname} に「{nexthop} は誰？{src} に教えて」をブロードキャストしても"
                  "、このセグメントにそのアドレスを持つ者はおらず応答がない（Destination Host "
                  "Unreachable）")
        return None
    k, link, path = answer
    if cached is None:  # the ARP reply comes back the way the request went
        trip.learned += [Heard(step.netns, (step.c if step.kind == "bridge-fwd" else step.b).ifindex,
                               link.mac) for step in path if step.kind in ("bridge-fwd", "bridge-out")]
    # the packet itself follows the answer's path: bridges hear the sender on the way in
    trip.learned += [Heard(step.netns, step.b.ifindex, out.mac) for step in path
                     if step.kind in ("bridge-up", "bridge-fwd")]
    if cached is not None:
        trip.add(key, out.ifname, "arp",
                 f"neighbour: {nexthop} is already in the ARP cache as {cached.lladdr} "
                 f"({cached.state})",
                 f"近隣：{nexthop} は ARP キャッシュに {cached.lladdr} として既にある"
                 f"（{cached.state}）")
    else:
        trip.add(key, out.ifname, "arp",
                 f"ARP: who-has {nexthop} tell {src}, broadcast on {out.ifname} (bridges flood it);"
                 f" {_label(k)} answers from {link.ifname}: {nexthop} is at {link.mac}",
                 f"ARP：{out.ifname} に「{nexthop} は誰？{src} に教えて」をブロードキャスト（ブリッ"
                 f"ジはフラッド）。{_label(k)} の {link.ifname}"
                 f" が「{nexthop} は {link.mac}」と応答")
    return answer


# ------------------------------------------------------------------- the walk
def _trip(state: NetState, key: str, pkt: _Pkt, *, reply_to: list[_Ct] | None = None,
          flows: Mapping[str, str] | None = None) -> _Trip:
    """Carry ``pkt`` from namespace ``key``; ``reply_to`` makes it an answer (conntrack, no nat).

    ``flows``: where earlier packets of the same connection left a conntrack entry (a
    ping's later echoes): there its state is the entry's, and the nat table is not read
    again (the entry's rewrite still applies)."""
    trip = _Trip()
    replying = reply_to is not None
    flows = flows or {}
    undone: set[int] = set()
    in_link: Link | None = None
    leg = "reply" if replying else "request"
    ttl = _MAX_HOPS
    for _ in range(_MAX_HOPS):
        trip.decided = None
        ctstate = "ESTABLISHED" if replying else flows.get(key, "NEW")
        ns = state.netns.get(key)
        if ns is None:
            return trip.fail(key, None, "no such namespace", f"there is no namespace {key!r}",
                             f"名前空間 {key!r} はない")
        in_if = in_link.ifname if in_link is not None else None
        entered = pkt
        if replying:
            pkt = _untranslate(trip, key, pkt, reply_to, undone)
        elif in_link is not None:
            pkt = _nat(trip, key, ns, "PREROUTING", pkt, in_if, None)
        else:
            if pkt.src is None:  # connect() picks the source for the address asked, before DNAT
                pkt = entered = replace(pkt, src=source_for(ns, pkt.dst))
                trip.src = pkt.src
            pkt = _nat(trip, key, ns, "OUTPUT", pkt, None, None)
        if in_link is not None and _martian(trip, key, ns, in_link, _in_flight(pkt, entered, replying)):
            return trip
        local, holder = is_local(ns, pkt.dst)
        if local:
            if pkt.src is None:  # a packet to oneself leaves from the address it is sent to
                pkt = replace(pkt, src=pkt.dst)
                entered = replace(entered, src=pkt.src)
                trip.src = pkt.src
            lo = ns.link("lo")
            if in_link is None and (lo is None or not lo.up):
                return trip.fail(key, "lo", "dropped: lo is down",
                                 f"{pkt.dst} is an address of this namespace, so the packet goes "
                                 "through lo; lo is DOWN, so it is dropped (no error, no answer)",
                                 f"{pkt.dst} はこの名前空間自身のアドレスなので、パケットは lo を"
                                 "通る。lo が DOWN なので破棄される（エラーも応答もない）")
            if in_link is None:
                if not _looped_out(trip, key, ns, pkt, ctstate, replying):
                    return trip
                trip.add(key, "lo", "local",
                         f"{pkt.dst} is an address of this namespace: the packet loops back "
                         "through lo",
                         f"{pkt.dst} はこの名前空間自身のアドレス：パケットは "
                         "lo を通って戻ってくる")
                trip.seen += looped(leg, key, pkt.src, pkt.dst, pkt.proto, len(trip.hops) - 1,
                                    local_route_text(ns, pkt.dst, holder))
            if not _filter(trip, key, ns, "INPUT", _in_flight(pkt, entered, replying), in_if or "lo", None,
                           ctstate):
                return trip
            where = holder.ifname if holder is not None else (in_if or "lo")
            what = f"{pkt.proto}{'/' + str(pkt.dport) if pkt.dport else ''}"
            trip.add(key, in_if or "lo", "deliver",
                     f"{pkt.dst} is local here ({where}): delivered to {_label(key)} ({what}, from "
                     f"{pkt.src})",
                     f"{pkt.dst} はここ（{where}）のアドレス：{_label(key)} に届く（{what}、送信元 "
                     f"{pkt.src}）")
            if in_link is not None and not replying:  # nat INPUT: walked for its counters only
                _run_chain(ns, "nat", "INPUT", pkt, in_if, None, ctstate)
            trip.delivered = (key, in_if or "lo")
            if not replying:
                _remember(trip, key, entered, pkt)
            trip.pkt = pkt
            return trip
        if in_link is not None:
            forwarding = ns.sysctls.get("net.ipv4.ip_forward", "0") == "1"
            if not forwarding:
                return trip.fail(key, in_if, f"dropped: ip_forward is 0 in {_label(key)}",
                                 f"{pkt.dst} is not an address of {_label(key)} and "
                                 "net.ipv4.ip_forward is 0 here: the packet is not forwarded but "
                                 "dropped",
                                 f"{pkt.dst} は {_label(key)} のアドレスではなく、ここでは "
                                 "net.ipv4.ip_forward が 0：パケットは転送されず破棄される")
        route = route_lookup(ns, pkt.dst, _in_flight(pkt, entered, replying).src,
                             in_link.ifindex if in_link is not None else 1)
        if route is None:
            if in_link is None:
                return trip.fail(key, None, "Network is unreachable",
                                 f"route lookup for {pkt.dst}: no route matches (see `ip route`): "
                                 "the send fails with Network is unreachable (ENETUNREACH)",
                                 f"{pkt.dst} のルート検索：一致するルートがない（`ip route` 参照）："
                                 "送信は Network is unreachable（ENETUNREACH）で失敗する")
            return trip.fail(key, in_if, "Destination Net Unreachable",
                             f"{_label(key)} has no route to {pkt.dst}: it drops the packet and "
                             "answers ICMP Destination Net Unreachable",
                             f"{_label(key)} には {pkt.dst} へのルートがない：パケットを破棄し "
                             "ICMP Destination Net Unreachable を返す")
        if route.type != "unicast":
            return _no_way(trip, key, in_if, route, pkt.dst)
        out = ns.links[route.dev]
        nexthop = route.via or pkt.dst
        if pkt.src is None:
            pkt = replace(pkt, src=_select_src(ns, out, nexthop, route))
            entered = replace(entered, src=pkt.src)
        if in_link is None and trip.src is None:
            trip.src = pkt.src
        shown = _route_text(route, out)
        gw_en = f"via {route.via}" if route.via else "directly (connected route)"
        gw_ja = f"ゲートウェイ {route.via} 経由" if route.via else "直結（connected route）"
        if in_link is not None:
            ttl -= 1  # ip_forward(): a router lowers the TTL of what it passes on
            trip.add(key, in_if, "forward",
                     f"{pkt.dst} is not local and net.ipv4.ip_forward is 1: {_label(key)} routes "
                     f"it (route `{shown}`), {gw_en}",
                     f"{pkt.dst} はローカルではなく net.ipv4.ip_forward が 1：{_label(key)} が転送"
                     f"する（ルート `{shown}`、{gw_ja}）")
            if not _filter(trip, key, ns, "FORWARD", _in_flight(pkt, entered, replying), in_if, out.ifname,
                           ctstate):
                return trip
        else:
            trip.add(key, out.ifname, "route",
                     f"route lookup for {pkt.dst}: `{shown}` matches; out {out.ifname} "
                     f"{gw_en}, source {pkt.src}",
                     f"{pkt.dst} のルート検索：`{shown}` が一致。{out.ifname} から{gw_ja}で送信、"
                     f"送信元 {pkt.src}")
            if localnet.leaving(ns, out, pkt.src):
                return trip.fail(key, out.ifname, f"dropped: route_localnet is 0 on {out.ifname}",
                                 f"the source {pkt.src} is a loopback address, which may leave only by"
                                 f" lo unless net.ipv4.conf.{out.ifname}.route_localnet is 1: the "
                                 "packet is dropped (connect() waits, then times out)",
                                 f"送信元 {pkt.src} はループバックアドレスで、"
                                 f"net.ipv4.conf.{out.ifname}.route_localnet が 1 でなければ lo "
                                 "からしか出られない：パケットは破棄される（connect() は待ち続けて"
                                 "タイムアウトする）")
            if not _filter(trip, key, ns, "OUTPUT", pkt, None, out.ifname, ctstate):
                return trip
        decided = trip.decided or (len(trip.hops) - 1, route_text(ns, route))
        if not replying:
            pkt = _nat(trip, key, ns, "POSTROUTING", pkt, in_if, out.ifname, out, nexthop)
            _remember(trip, key, entered, pkt)
        decided = trip.decided or decided
        answer = _resolve(trip, state, key, out, _select_src(ns, out, nexthop) or pkt.src, nexthop)
        if answer is None:
            return trip
        next_key, next_link, path = answer
        _bridged(state, path, pkt, replying, flows)
        sending = Sent(leg, key, out, next_link.mac, pkt.src or "", pkt.dst, ttl, pkt.proto,
                       *decided, len(trip.hops) - 1, neigh_text(ns, out, nexthop, next_link.mac))
        trip.seen += sent(state, sending, path, len(trip.hops))
        _l2_hops(trip, path, out.mac, next_link.mac, _fdb_lookup(state))
        if next_key != key:  # skb_scrub_packet(): the mark stays in the namespace that set it
            pkt = replace(pkt, mark=0)
        key, in_link = next_key, next_link
    return trip.fail(key, None, "Time to live exceeded",
                     "the packet went round in circles until its TTL ran out",
                     "パケットは TTL が尽きるまで循環した")


def _bridged(state: NetState, path: tuple[_L2, ...], pkt: _Pkt, replying: bool,
             flows: Mapping[str, str]) -> None:
    """br_netfilter: a frame a bridge forwards meets the IP hooks of the bridge's namespace,
    with the bridge as in and out device (``-i docker0 -o docker0``).

    Walked for the counters only (the verdict of such a frame is not modelled, see the
    module docstring); docker and kubeadm load br_netfilter, so simlab counts as a node
    with it does.
    """
    for step in path:
        if step.kind != "bridge-fwd":
            continue
        ns, dev = state.netns[step.netns], step.a.ifname
        ctstate = "ESTABLISHED" if replying else flows.get(step.netns, "NEW")
        if not replying:  # (counted only for a connection's first packet there, see tallies)
            _run_chain(ns, "nat", "PREROUTING", pkt, dev, None, ctstate)
        _run_chain(ns, "filter", "FORWARD", pkt, dev, dev, ctstate)
        if not replying:
            _run_chain(ns, "nat", "POSTROUTING", pkt, dev, dev, ctstate)


def _looped_out(trip: _Trip, key: str, ns: Netns, pkt: _Pkt, ctstate: str, replying: bool) -> bool:
    """A packet a namespace sends to itself leaves through filter OUTPUT and nat POSTROUTING
    (on ``lo``) before it comes back in (False: dropped).  The nat chain is walked for its
    counters only (simlab models no SNAT on ``lo``)."""
    if not _filter(trip, key, ns, "OUTPUT", pkt, None, "lo", ctstate):
        return False
    if not replying:
        _run_chain(ns, "nat", "POSTROUTING", pkt, None, "lo", ctstate)
    return True


MAIN_TABLE, LOCAL_TABLE = 254, 255
#: A route without a device, by type: the error a local sender's connect() gets, and the
#: ICMP error a router answers (ip_error(); None: dropped silently).
_NO_WAY = {
    "blackhole": ("Invalid argument", None),
    "unreachable": ("No route to host", "Destination Host Unreachable"),
    "prohibit": ("Permission denied", "Packet filtered"),
    "throw": ("Network is unreachable", "Destination Net Unreachable"),
}


def _no_way(trip: _Trip, key: str, in_if: str | None, route: Route, dst: str) -> _Trip:
    local, icmp = _NO_WAY.get(route.type, _NO_WAY["blackhole"])
    what = f"`{route.type} {route.dst}`"
    if in_if is None:
        return trip.fail(key, None, local,
                         f"route lookup for {dst}: {what} matches: the send fails with {local}",
                         f"{dst} のルート検索：{what} に一致：送信は {local} で失敗する")
    if icmp is None:
        return trip.fail(key, in_if, f"dropped by {what}",
                         f"{_label(key)} routes {dst} to {what}: the packet is dropped",
                         f"{_label(key)} は {dst} を {what} に送る：パケットは破棄される")
    return trip.fail(key, in_if, icmp,
                     f"{_label(key)} routes {dst} to {what}: it answers ICMP {icmp}",
                     f"{_label(key)} は {dst} を {what} に送る：ICMP {icmp} を返す")


def source_for(ns: Netns, dst: str) -> str | None:
    """The source address a socket in ``ns`` gets for ``dst`` (None: no route)."""
    if is_local(ns, dst)[0]:
        return dst
    route = route_lookup(ns, dst)
    if route is None or route.dev not in ns.links:
        return None
    return _select_src(ns, ns.links[route.dev], route.via or dst, route)


def _route_text(route: Route, out: Link) -> str:
    """The route as `ip route` prints it (its first words)."""
    words = [route.dst]
    if route.via:
        words.append(f"via {route.via}")
    words.append(f"dev {out.ifname}")
    if route.src:
        words.append(f"src {route.src}")
    return " ".join(words)


def _fdb_lookup(state: NetState):
    def known(key: str, port: Link, mac: str) -> bool:
        ns = state.netns[key]
        return any(f.ifindex == port.ifindex and f.mac == mac for f in ns.fdb)
    return known


def _remember(trip: _Trip, key: str, before: _Pkt, after: _Pkt) -> None:
    if replace(before, mark=0) != replace(after, mark=0):  # a mark alone is no rewrite
        trip.ct.append(_Ct(key, before, after))


def _in_flight(pkt: _Pkt, entered: _Pkt, replying: bool) -> _Pkt:
    """An answer as routing and the filter table see it: conntrack gave back its destination on
    the way in (PREROUTING), its source only on the way out (POSTROUTING, or INPUT after filter)."""
    return replace(pkt, src=entered.src, sport=entered.sport) if replying else pkt


def _untranslate(trip: _Trip, key: str, pkt: _Pkt, entries: list[_Ct], undone: set[int]) -> _Pkt:
    """conntrack: an answer to a rewritten packet gets the reverse rewrite, where it was made."""
    for i, ct in enumerate(entries):
        if i in undone or ct.netns != key:
            continue
        if pkt.src == ct.after.dst and pkt.dst == ct.after.src and pkt.sport == ct.after.dport:
            undone.add(i)
            new = replace(pkt, src=ct.before.dst, dst=ct.before.src, sport=ct.before.dport,
                          dport=ct.before.sport)
            trip.add(key, None, "conntrack",
                     f"conntrack: this answers a rewritten connection: {pkt.tuple_text()} becomes "
                     f"{new.tuple_text()} (the nat table is not consulted again)",
                     f"conntrack：書き換えた接続への応答なので {pkt.tuple_text()} を "
                     f"{new.tuple_text()} に戻す（nat テーブルは再び参照されない）")
            trip.decided = (len(trip.hops) - 1, conntrack_text(pkt.proto, ct.before, ct.after))
            return new
    return pkt


def reach(state: NetState, src_netns: str, dst_ip: str, proto: str = "icmp",
          dport: int | None = None,
          *, src_ip: str | None = None, flows: Mapping[str, str] | None = None) -> Walk:
    """Walk one packet from ``src_netns`` to ``dst_ip`` and its answer back.

    Linux: `ip netns exec SRC ping -c1 DST` (proto "icmp"), or a TCP/UDP
    connection to ``DST:dport``.  ``flows``: the connection's conntrack entries left by
    earlier packets (``Walk.flows`` of the echo before, for a ping's next echo).

    >>> from simlab.model import apply_all, new_state, NetnsAdd, LinkAdd, LinkSet, AddrAdd
    >>> s = apply_all(new_state(), [NetnsAdd("a"), NetnsAdd("b"),
    ...     LinkAdd("va", "veth", netns="a", peer="vb", peer_netns="b"),
    ...     AddrAdd("va", "10.0.0.1/24", netns="a"), AddrAdd("vb", "10.0.0.2/24", netns="b"),
    ...     LinkSet("va", netns="a", up=True), LinkSet("vb", netns="b", up=True)])
    >>> w = reach(s, "a", "10.0.0.2")
    >>> w.ok, w.reply_ok, w.delivered
    (True, True, ('b', 'vb'))
    >>> reach(s, "a", "192.0.2.1").error
    'Network is unreachable'
    """
    if proto not in ("icmp", "tcp", "udp"):
        raise ValueError(f"proto must be icmp, tcp or udp, not {proto!r}")
    if proto != "icmp" and dport is None:
        raise ValueError(f"a {proto} packet needs a destination port (dport=...)")
    sport = _EPHEMERAL if proto != "icmp" else None
    first = _Pkt(src_ip, dst_ip, proto, sport, dport if proto != "icmp" else None)
    if _v4(dst_ip) is None:
        raise ValueError(f"not an IPv4 address: {dst_ip!r}")
    with xt_counters.recording() as events:
        out = _trip(state, src_netns, first, flows=flows)
    back_events: list = []
    src = out.src or src_ip
    walk = Walk(ok=out.delivered is not None, hops=tuple(out.hops), error=out.error, src=src,
                src_netns=src_netns, dst=dst_ip, proto=proto, dport=first.dport,
                delivered=out.delivered)
    if out.delivered is None or out.pkt is None:
        return replace(walk, learned=tuple(out.learned), seen=tuple(out.seen),
                       tallied=tuple(xt_counters.tallies(events, bound=flows)),
                       flows=_flows_after(flows, out, events, back_events))
    seen = out.pkt
    answer = _Pkt(seen.dst, seen.src, proto, seen.dport, seen.sport)
    # The answer meets the caches the request filled (the destination learnt the sender).
    with xt_counters.recording() as back_events:
        back = _trip(learn(state, out.learned), out.delivered[0], answer, reply_to=out.ct)
    came_home = (back.delivered is not None and back.delivered[0] == src_netns
                 and back.pkt is not None and back.pkt.dst == src)
    error = back.error
    if back.delivered is not None and not came_home:
        error = f"the answer went to {_label(back.delivered[0])}, not back to {_label(src_netns)}"
    return replace(walk, seen_src=seen.src, seen_dst=seen.dst, seen_dport=seen.dport,
                   reply_ok=came_home, reply_hops=tuple(back.hops),
                   reply_error="" if came_home else error,
                   learned=tuple(out.learned + back.learned), seen=tuple(out.seen + back.seen),
                   tallied=tuple(xt_counters.tallies(events, bound=flows) + xt_counters.tallies(back_events)),
                   flows=_flows_after(flows, out, events, back_events))


def _flows_after(flows: Mapping[str, str] | None, out: _Trip, events: list,
                 back_events: list) -> dict[str, str]:
    """Where the connection has a conntrack entry after a request (and its answer).

    Conntrack sees a packet in each namespace whose netfilter hooks it met (``events``).
    The request confirms an entry where it left or was delivered (a filter's drop
    discards the unconfirmed one); the answer makes it ESTABLISHED where it passes.
    """
    now = dict(flows or {})
    keys = list(dict.fromkeys(e[1] for e in events))
    last = out.hops[-1] if out.hops else None
    if out.delivered is None and last is not None and last.action == "drop" \
            and last.en.startswith("filter "):  # _filter's words: dropped or rejected there
        keys = [k for k in keys if k != last.netns]
    for key in keys:
        now.setdefault(key, "NEW")
    for event in back_events:
        now[event[1]] = "ESTABLISHED"
    return now
