"""Checkers for the notebooks' tasks: they read the lab's snapshot and say what is missing.

A checker never changes the lab.  It looks at one snapshot (``lab.snapshot()``), walks a
packet with :func:`simlab.model.forward.reach` where that is the real question, and returns a
:class:`Check`: true when the task is done, else false with *one* hint, the first thing that
is wrong, in the order a learner builds it.  A hint names the concept and where to look
(``ip -n red link``), never the command that solves the task.

Rules kept here:

- every hint exists in English and Japanese (``lang=None`` follows
  :func:`simlab.i18n.get_language`);
- a checker accepts any correct answer, not only the notebook's solution (other names,
  other addresses, a bridge instead of a direct veth);
- the notebook shows a check by leaving it as the cell's last expression: :class:`Check`
  prints itself (``✔`` or ``✘`` and the hint).

>>> import simlab
>>> lab = simlab.Lab(backend="model")
>>> c = check_connected(lab, "red", "blue", lang="en")
>>> c.ok, c.problem
(False, 'no-netns')
>>> print(str(c).splitlines()[0])
✘ red and blue are not connected yet.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .backends.model import ModelBackend
from .cni import skel
from .cni.netlink import Session
from .cni.plugins import IN_PROCESS
from .cni.spec import parse_result
from .i18n import get_language
from .model import ROOT, NetnsAdd, NetState
from .model.derive import peer_link
from .model.forward import reach
from .model.netfilter import policy_of
from .model.state import Link, Netns
from .model.text import Text, say
from .runtime.kube_cni import runtime_for_node

__all__ = [
    "Check",
    "check_connected",
    "check_reach",
    "check_container_online",
    "check_published",
    "check_pod_reaches_container",
    "check_pod_network",
    "check_routed_pod",
    "check_plugin",
    "run_plugin",
    "load_plugin",
    "use_python_plugin",
]


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class Check:
    """The answer of a checker: ``ok``, a one-line verdict, and the hint (if not ok)."""

    ok: bool
    verdict: str
    hint: str = ""
    #: Extra lines shown under the verdict (e.g. the packet's path), and machine-readable
    #: facts for tests (``{"problem": "no-veth"}``).
    notes: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def problem(self) -> str:
        """A short key for what was wrong ("" when ok), for tests and for the notebook's code."""
        return str(self.facts.get("problem", ""))

    def __str__(self) -> str:
        head = ("✔ " if self.ok else "✘ ") + self.verdict
        lines = [head]
        if self.hint:
            word = "ヒント：" if _is_ja(self.hint) else "hint: "
            lines.append(f"  {word}{self.hint}")
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle) -> None:  # IPython shows the text, not a dataclass repr
        p.text(str(self))


def _is_ja(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)


def _lang(lang: str | None) -> str:
    if lang:
        return lang
    return get_language()


def _fail(lang: str, verdict: Text, hint: Text, problem: str, notes: tuple[str, ...] = (),
          **facts) -> Check:
    return Check(False, verdict.in_(lang), hint.in_(lang), notes, {"problem": problem, **facts})


def _pass(lang: str, verdict: Text, notes: tuple[str, ...] = (), **facts) -> Check:
    return Check(True, verdict.in_(lang), "", notes, {"problem": "", **facts})


# ------------------------------------------------------------- snapshot reading
def _snapshot(lab_or_state) -> NetState:
    if isinstance(lab_or_state, NetState):
        return lab_or_state
    return lab_or_state.snapshot()


def _label(key: str) -> str:
    return "node" if key == ROOT else key


def _ns_flag(key: str) -> str:
    return f"-n {key} " if key != ROOT else ""


def _v4_addrs(ns: Netns, link: Link) -> list[ipaddress.IPv4Interface]:
    return [ipaddress.IPv4Interface(a.cidr) for a in ns.addrs_of(link.ifindex) if a.family == 4]


def _veths_between(state: NetState, a: str, b: str) -> list[tuple[Link, Link]]:
    """veth pairs with one end in ``a`` and the other in ``b``: [(end in a, end in b)]."""
    out = []
    for link in state.netns[a].links.values():
        if link.kind == "veth" and link.peer is not None and link.peer[0] == b:
            other = state.netns[b].links.get(link.peer[1])
            if other is not None:
                out.append((link, other))
    return out


def _veths_in(ns: Netns) -> list[Link]:
    return [l for l in ns.links.values() if l.kind == "veth"]


def _netns_of(lab, name: str, state: NetState) -> str:
    """The namespace key for ``name``: a namespace, else a container's or a pod's (by name)."""
    if name in state.netns or isinstance(lab, NetState):
        return name
    for lookup in (lambda: lab.docker.get(name).netns, lambda: lab.k8s.pod(name).netns):
        try:
            key = lookup()
        except Exception:  # noqa: BLE001 - not a container / not a pod: try the next
            continue
        if key is not None:
            return key
    return name


def _walk_notes(walk, lang: str, limit: int = 12) -> tuple[str, ...]:
    lines = walk.lines(lang)
    if len(lines) > limit:
        lines = lines[:limit] + ["…"]
    return tuple(lines)


# =====================================================================
# 01: namespaces and veth
def check_connected(lab, a: str, b: str, *, lang: str | None = None) -> Check:
    """Are namespaces ``a`` and ``b`` joined by a veth pair, addressed, up, and can they ping?

    Any answer counts: any names for the ends, any subnet, as long as ``a`` reaches ``b``'s
    address and the reply comes back.  The hint names the first missing piece.
    """
    lang = _lang(lang)
    state = _snapshot(lab)
    verdict_no = say(f"{a} and {b} are not connected yet.", f"{a} と {b} はまだつながっていません。")
    for key in (a, b):
        if key not in state.netns:
            return _fail(lang, verdict_no, say(
                f"there is no namespace called {key!r} yet. A namespace must exist before a link "
                "can be put in it: see `ip netns help`.",
                f"名前空間 {key!r} がまだありません。リンクを入れる前に名前空間が必要です"
                "（`ip netns help` を参照）。"), "no-netns", netns=key)
    # Any topology that works is right (a direct pair, a bridge in the node, a router...).
    targets = [str(x.ip) for link in state.netns[b].links.values() if link.kind != "loopback"
               for x in _v4_addrs(state.netns[b], link)]
    for dst in targets:
        walk = reach(state, a, dst)
        if walk.ok and walk.reply_ok and walk.delivered and walk.delivered[0] == b:
            return _pass(lang, say(f"{a} reaches {b} ({dst}), and the reply comes back.",
                                f"{a} から {b}（{dst}）に届き、応答も戻ります。"),
                         _walk_notes(walk, lang, 6), dst=dst)
    pairs = _veths_between(state, a, b)
    if not pairs and targets and _veths_in(state.netns[a]):
        walk = reach(state, a, targets[0])
        return _fail(lang, verdict_no, _hint_for_walk(walk, lang), "no-reach",
                     _walk_notes(walk, lang))
    if not pairs:
        stray = [(k, l) for k in (a, b, ROOT) for l in _veths_in(state.netns[k])]
        if stray:
            where = ", ".join(f"{l.ifname} ({_label(k)})" for k, l in stray[:4])
            return _fail(lang, verdict_no, say(
                f"there are veth ends ({where}), but no pair has one end in {a} and the other in "
                f"{b}. A veth is one cable with two ends: create the pair, then move each end into "
                "its namespace (`ip link set ... netns ...`).",
                f"veth の端はあります（{where}）が、片方が {a}、もう片方が {b} にあるペアがありません。"
                "veth は両端のある 1 本のケーブルです。ペアを作り、それぞれの端を名前空間へ移します"
                "（`ip link set ... netns ...`）。"), "no-veth")
        return _fail(lang, verdict_no, say(
            f"nothing joins {a} and {b}: there is no veth pair yet. Two namespaces share no "
            "links; a veth pair is the cable between them (see slide 4: "
            "`ip link add ... type veth peer ...`).",
            f"{a} と {b} をつなぐものがありません。名前空間どうしはリンクを共有しないので、"
            "間をつなぐケーブルとして veth ペアが必要です（スライド 4 を参照）。"), "no-veth")
    problems = []
    for end_a, end_b in pairs:
        ns_a, ns_b = state.netns[a], state.netns[b]
        addrs_a, addrs_b = _v4_addrs(ns_a, end_a), _v4_addrs(ns_b, end_b)
        if not addrs_a or not addrs_b:
            key, end = (a, end_a) if not addrs_a else (b, end_b)
            problems.append(_fail(lang, verdict_no, say(
                f"{end.ifname} in {key} has no IPv4 address. A packet needs an address to come "
                f"from and one to go to (look at `ip {_ns_flag(key)}addr`).",
                f"{key} の {end.ifname} に IPv4 アドレスがありません。パケットには送信元と宛先の"
                f"アドレスが要ります（`ip {_ns_flag(key)}addr` を見てください）。"),
                "no-address", netns=key, ifname=end.ifname))
            continue
        if not any(x.network == y.network or y.ip in x.network or x.ip in y.network
                   for x in addrs_a for y in addrs_b):
            problems.append(_fail(lang, verdict_no, say(
                f"{end_a.ifname} has {addrs_a[0]} and {end_b.ifname} has {addrs_b[0]}: different "
                "subnets. Without a route, a namespace only talks directly to addresses inside the "
                "prefix of its own address (the /24 part).",
                f"{end_a.ifname} は {addrs_a[0]}、{end_b.ifname} は {addrs_b[0]} で、サブネットが"
                "違います。ルートがなければ、自分のアドレスのプレフィックス（/24 の部分）の中の相手と"
                "しか直接通信できません。"), "subnet", a=str(addrs_a[0]), b=str(addrs_b[0])))
            continue
        down = [(k, l) for k, l in ((a, end_a), (b, end_b)) if not l.up]
        if down:
            names = " and ".join(f"{l.ifname} in {k}" for k, l in down)
            names_ja = "、".join(f"{k} の {l.ifname}" for k, l in down)
            problems.append(_fail(lang, verdict_no, say(
                f"{names} is DOWN. A veth carries frames only when both ends are UP; then "
                "`ip link` shows LOWER_UP on each end.",
                f"{names_ja} が DOWN です。veth は両端が UP のときだけフレームを運びます。"
                "そのとき `ip link` の両端に LOWER_UP が出ます。"), "down",
                down=[l.ifname for _, l in down]))
            continue
        dst = str(addrs_b[0].ip)
        walk = reach(state, a, dst)
        problems.append(_fail(lang, verdict_no, say(
            f"the ping from {a} to {dst} fails: {walk.error or walk.reply_error}. Read the "
            "packet's path below to see where it stops.",
            f"{a} から {dst} への ping が失敗します: {walk.error or walk.reply_error}。"
            "下のパケットの通り道を読んで、どこで止まるか確かめてください。"),
            "no-reach", _walk_notes(walk, lang)))
    return problems[0]


def check_reach(lab, src: str, dst_ip: str, *, proto: str = "icmp", dport: int | None = None,
                lang: str | None = None) -> Check:
    """Can ``src`` (a namespace, container or pod name) reach ``dst_ip``, and the reply come
    back?  Shows the path."""
    lang = _lang(lang)
    state = _snapshot(lab)
    src = _netns_of(lab, src, state)
    if src not in state.netns:
        return _fail(lang, say(f"there is no namespace {src!r}.", f"名前空間 {src!r} がありません。"),
                     say(f"check the name with `ip netns`: {sorted(k for k in state.netns if k)}",
                      f"`ip netns` で名前を確かめてください: {sorted(k for k in state.netns if k)}"),
                     "no-netns", netns=src)
    walk = reach(state, src, dst_ip, proto, dport)
    what = f"{dst_ip}" + (f":{dport}/{proto}" if dport else "")
    if walk.ok and walk.reply_ok:
        return _pass(lang, say(f"{_label(src)} reaches {what}, and the reply comes back.",
                            f"{_label(src)} から {what} に届き、応答も戻ります。"),
                     _walk_notes(walk, lang), walk=walk)
    why = walk.error if not walk.ok else walk.reply_error
    hint = _hint_for_walk(walk, lang)
    return _fail(lang, say(f"{_label(src)} cannot reach {what}: {why}.",
                        f"{_label(src)} から {what} に届きません: {why}。"),
                 hint, "no-reach", _walk_notes(walk, lang), walk=walk)


def _hint_for_walk(walk, lang: str) -> Text:
    """A hint from the error of a failed walk (its last hop says where it stopped)."""
    error = walk.error if not walk.ok else walk.reply_error
    where = "the reply" if walk.ok else "the packet"
    where_ja = "応答" if walk.ok else "パケット"
    if error == "Network is unreachable":
        if walk.dst.startswith("127."):
            return say("the sender has no route even for 127.0.0.1: loopback addresses exist only "
                    "while `lo` is UP (compare `ip -n NS a` of a fresh namespace and of a "
                    "container).",
                    "送信側には 127.0.0.1 へのルートすらありません。ループバックのアドレスは `lo` が"
                    " UP のときだけ存在します（作ったばかりの名前空間とコンテナの `ip -n NS a` を"
                    "比べてください）。")
        return say("the sender has no route that matches the destination: look at `ip route` in "
                "that namespace (a namespace with only lo has none at all).",
                "送信側に宛先に合うルートがありません。その名前空間の `ip route` を見てください"
                "（lo しかない名前空間にはルートが一つもありません）。")
    if error == "Destination Net Unreachable":
        return say(f"{where} reaches a namespace that has no route onwards: read the last hop and "
                "that namespace's `ip route`.",
                f"{where_ja}は先へのルートを持たない名前空間に着きます。最後のホップとその名前空間の"
                " `ip route` を読んでください。")
    if error == "no carrier":
        return say("a link on the way has no carrier (NO-CARRIER): a veth needs both ends UP, a "
                "bridge needs a port that is up.",
                "途中のリンクにキャリアがありません（NO-CARRIER）。veth は両端が UP、ブリッジは UP の"
                "ポートが必要です。")
    if error == "Destination Host Unreachable":
        return say("nobody answered ARP for the next hop: no interface on that L2 segment (the veth's "
                "other end, or the bridge's ports) has that address.",
                "次のホップへの ARP に誰も答えません。その L2 セグメント（veth の対向やブリッジの"
                "ポート）に、そのアドレスを持つインターフェースがありません。")
    if error.startswith("dropped: ip_forward"):
        return say("a namespace in the middle does not forward: routing between its interfaces is "
                "off until `net.ipv4.ip_forward` is 1 there.",
                "途中の名前空間が転送しません。`net.ipv4.ip_forward` が 1 になるまで、インター"
                "フェース間のルーティングは止まっています。")
    if error.startswith("dropped by filter"):
        return say("a filter rule drops it: look at `iptables -S` in the namespace of the last hop.",
                "フィルターのルールが破棄しています。最後のホップの名前空間で `iptables -S` を"
                "見てください。")
    return say("read the hops below: the last one says where the packet stopped and why.",
            "下のホップを読んでください。最後の行がパケットの止まった場所と理由です。")


# =====================================================================
# 02: docker
def _container(lab, name: str):
    return lab.docker.get(name)


def check_container_online(lab, name: str, target: str = "lan", *,
                           lang: str | None = None) -> Check:
    """Can container ``name`` reach ``target`` ("lan", "node", another container or an address)?

    Meant for the task "give the ``--net none`` container a network by hand": the hint walks
    through what docker does for ``--net bridge`` (veth, docker0, address, default route).
    """
    lang = _lang(lang)
    engine = lab.docker
    c = _container(lab, name)
    state = _snapshot(lab)
    key = c.netns
    no = say(f"{name} is not online yet.", f"{name} はまだネットワークにつながっていません。")
    if key == ROOT:
        return _pass(lang, say(f"{name} runs in the node's namespace (--net host): it has the node's "
                            "network.", f"{name} はノードの名前空間で動きます（--net host）。"
                            "ノードのネットワークをそのまま使います。"))
    ns = state.netns.get(key)
    if ns is None:
        return _fail(lang, no, say(f"{name}'s namespace {key} is gone: is the container running?",
                                f"{name} の名前空間 {key} がありません。コンテナは動いていますか？"),
                     "no-netns")
    links = [l for l in ns.links.values() if l.kind == "veth"]
    if not links:
        return _fail(lang, no, say(
            f"{name}'s namespace ({key}) has only lo. Like `--net bridge`, it needs one end of a "
            f"veth pair inside it and the other end in the node (see `ip -n {key} link`).",
            f"{name} の名前空間（{key}）には lo しかありません。`--net bridge` と同じように、"
            f"veth ペアの片端を中に、もう片端をノードに置きます（`ip -n {key} link` を参照）。"),
            "no-veth")
    inner = links[0]
    other = peer_link(state, inner)
    if other is None or other[0] != ROOT:
        where = _label(other[0]) if other else "?"
        return _fail(lang, no, say(
            f"{inner.ifname} is in {key}, but its other end is in {where}, not in the node. The "
            "node is where docker0 lives.", f"{inner.ifname} は {key} にありますが、もう片端は"
            f"ノードではなく {where} にあります。docker0 があるのはノードです。"), "peer-not-in-node")
    node = state.netns[ROOT]
    host_end = other[1]
    bridge = node.link(engine.bridge)
    if bridge is None or host_end.master != bridge.ifindex:
        return _fail(lang, no, say(
            f"the node's end {host_end.ifname} is not a port of {engine.bridge}. A veth end "
            f"plugged into the bridge has `master {engine.bridge}` in `ip link` (and shows in "
            "`bridge link`).",
            f"ノード側の端 {host_end.ifname} が {engine.bridge} のポートになっていません。ブリッジに"
            f"つないだ端は `ip link` に `master {engine.bridge}` と出ます（`bridge link` にも出ます）。"),
            "not-on-bridge", host=host_end.ifname)
    subnet = ipaddress.ip_network(engine.subnet)
    addrs = _v4_addrs(ns, inner)
    if not addrs:
        return _fail(lang, no, say(
            f"{inner.ifname} has no IPv4 address. Containers on docker0 take one from "
            f"{engine.subnet} (the gateway {engine.gateway} is docker0's own).",
            f"{inner.ifname} に IPv4 アドレスがありません。docker0 上のコンテナは {engine.subnet} "
            f"から一つ使います（ゲートウェイ {engine.gateway} は docker0 自身のもの）。"), "no-address")
    mine = next((a for a in addrs if a.ip in subnet), None)
    if mine is None:
        return _fail(lang, no, say(
            f"{addrs[0]} is not in docker0's subnet {engine.subnet}: on the bridge, only addresses "
            "of that subnet are reachable directly.", f"{addrs[0]} は docker0 のサブネット "
            f"{engine.subnet} の外です。ブリッジ上で直接届くのはそのサブネットのアドレスだけです。"),
            "subnet")
    clash = [o.name for o in engine.containers(all=False)
             if o.name != name and o.ip == str(mine.ip)]
    if clash or str(mine.ip) == engine.gateway:
        owner = clash[0] if clash else engine.bridge
        return _fail(lang, no, say(
            f"{mine.ip} is already {owner}'s address. Two hosts on one bridge must not share an "
            "address: pick a free one.", f"{mine.ip} はすでに {owner} のアドレスです。一つの"
            "ブリッジ上で同じアドレスを二つのホストが使うことはできません。空いているものを選んでください。"),
            "duplicate", owner=owner)
    down = [(k, l) for k, l in ((key, inner), ("node", host_end)) if not l.up]
    if down:
        what = " and ".join(f"{l.ifname} ({k})" for k, l in down)
        return _fail(lang, no, say(f"{what} is DOWN: both ends of a veth must be UP.",
                                f"{what} が DOWN です。veth は両端とも UP にします。"), "down")
    dst = engine.address_of(target)
    walk = reach(state, key, dst)
    if walk.ok and walk.reply_ok:
        return _pass(lang, say(f"{name} ({mine.ip}) reaches {target} ({dst}) and gets the reply.",
                            f"{name}（{mine.ip}）から {target}（{dst}）に届き、応答も戻ります。"),
                     _walk_notes(walk, lang, 6))
    has_default = any(r.dst == "default" for r in ns.routes)
    if not has_default and not ipaddress.ip_address(dst) in mine.network:
        return _fail(lang, no, say(
            f"{name} can reach its neighbours on docker0, but {dst} is outside {mine.network} and "
            f"{key} has no route for it. Containers send everything else to a gateway: look at "
            f"`ip -n {key} route` and at what `--net bridge` containers have there.",
            f"{name} は docker0 上の隣には届きますが、{dst} は {mine.network} の外で、{key} には"
            f"そのルートがありません。コンテナはそれ以外の宛先をゲートウェイに送ります。"
            f"`ip -n {key} route` と、`--net bridge` のコンテナのルートを比べてください。"),
            "no-route", _walk_notes(walk, lang))
    return _fail(lang, no, _hint_for_walk(walk, lang), "no-reach", _walk_notes(walk, lang))


def _nat_only(state: NetState, key: str = ROOT) -> NetState:
    """``state`` with namespace ``key``'s filter table empty (every policy ACCEPT): what the nat
    table alone would do, to tell a missing DNAT from a missing ACCEPT."""
    ns = state.netns[key]
    tables = {t: lines for t, lines in ns.iptables.items() if t != "filter"}
    return replace(state, netns={**state.netns, key: ns.evolve(iptables=tables)})


def _dropped_in(walk, chain: str = "FORWARD") -> bool:
    return (walk.error if not walk.ok else walk.reply_error) == f"dropped by filter {chain}"


def check_published(lab, host_port: int, name: str, container_port: int, *, proto: str = "tcp",
                    lang: str | None = None) -> Check:
    """Does a connection from the LAN to the node's ``host_port`` reach ``name:container_port``?

    A published port is two rules, as docker writes them: a DNAT in the nat table's DOCKER
    chain, and an ACCEPT in the filter table's DOCKER chain (docker set the FORWARD policy
    to DROP).  The hint says which one is missing: the walk is also made with the node's
    filter table set aside, so a DNAT that is right is told from one that is not.
    """
    lang = _lang(lang)
    engine = lab.docker
    c = _container(lab, name)
    state = _snapshot(lab)
    node_ip = engine.address_of("node")
    lan = engine.netns_of(engine.lan)
    walk = reach(state, lan, node_ip, proto, host_port)
    what = f"{node_ip}:{host_port}/{proto}"
    arrived = walk.delivered is not None and walk.delivered[0] == c.netns
    if walk.ok and arrived and walk.seen_dport == container_port and walk.reply_ok:
        return _pass(lang, say(f"a client on the LAN connects to {what} and lands in {name} on port "
                            f"{container_port}; the reply comes back through conntrack.",
                            f"LAN のクライアントが {what} に接続すると {name} のポート "
                            f"{container_port} に届き、応答は conntrack を通って戻ります。"),
                     _walk_notes(walk, lang, 8))
    no = say(f"{what} does not lead to {name}:{container_port} yet.",
          f"{what} はまだ {name}:{container_port} につながっていません。")
    nat = reach(_nat_only(state), lan, node_ip, proto, host_port)  # the nat table's part alone
    nat_arrived = nat.delivered is not None and nat.delivered[0] == c.netns
    if nat.ok and not nat_arrived:
        where = _label(nat.delivered[0]) if nat.delivered else "?"
        return _fail(lang, no, say(
            f"the packet is delivered to {where} itself: nothing rewrote its destination to "
            f"{name}. A published port is a DNAT rule in the node's nat table (the DOCKER chain, "
            "from PREROUTING).",
            f"パケットは {where} 自身に配送されます。宛先を {name} に書き換えるものがありません。"
            "公開ポートはノードの nat テーブルにある DNAT ルールです（PREROUTING から DOCKER "
            "チェイン）。"),
            "no-dnat", _walk_notes(walk, lang))
    if nat.ok and nat.seen_dport != container_port:
        return _fail(lang, no, say(
            f"the packet reaches {name} but on port {nat.seen_dport}: the DNAT target must name "
            f"the container's port ({container_port}).", f"パケットは {name} に届きますが、"
            f"ポートが {nat.seen_dport} です。DNAT の宛先にはコンテナのポート（{container_port}）を"
            "書きます。"), "wrong-port", _walk_notes(nat, lang))
    if nat.ok and nat.reply_ok and _dropped_in(walk):
        return _fail(lang, no, say(
            f"the DNAT is right: the destination becomes {c.ip}:{container_port}. But the node "
            "now forwards the packet, and the filter table's FORWARD chain drops it: docker set "
            "its policy to DROP, and no rule accepts a new connection to this container and "
            "port. Look at the filter table's DOCKER chain (`iptables -S DOCKER`): docker wrote "
            "one ACCEPT per published port there.",
            f"DNAT は正しく、宛先は {c.ip}:{container_port} になります。しかしノードはこの"
            "パケットを転送し、filter テーブルの FORWARD チェインが破棄します。docker が"
            "ポリシーを DROP にしていて、このコンテナとポートへの新しい接続を受け入れるルールが"
            "ありません。filter テーブルの DOCKER チェイン（`iptables -S DOCKER`）を見てください。"
            "docker は公開ポートごとに ACCEPT を一つ書いています。"),
            "no-accept", _walk_notes(walk, lang))
    return _fail(lang, no, _hint_for_walk(walk, lang), "no-reach", _walk_notes(walk, lang))


def check_pod_reaches_container(lab, pod: str, container: str, *,
                                lang: str | None = None) -> Check:
    """Diagnosis task: can pod ``pod`` ping docker container ``container`` on the same node?

    The pod is on ``cni0``, the container on ``docker0``: the node routes between them, so
    the packet meets the node's filter FORWARD chain, whose policy docker set to DROP.  The
    check accepts any fix that lets the pod's traffic through and keeps the policy DROP
    (an ACCEPT for the pod network, in FORWARD or DOCKER-USER); setting the policy back to
    ACCEPT works too, but the check says why that opens more than it should.
    """
    lang = _lang(lang)
    state = _snapshot(lab)
    src = _netns_of(lab, pod, state)
    dst = lab.docker.get(container).ip
    walk = reach(state, src, dst)
    policy = policy_of(state.netns[ROOT].iptables.get("filter", ()), "FORWARD")
    if walk.ok and walk.reply_ok:
        if policy != "DROP":
            return _fail(lang, say(
                f"{pod} reaches {container} ({dst}), but the node's FORWARD policy is ACCEPT now.",
                f"{pod} から {container}（{dst}）に届きますが、ノードの FORWARD のポリシーが "
                "ACCEPT になっています。"), say(
                "that forwards anything for anyone, which docker's DROP was there to stop (and "
                "dockerd may set it again when it restarts). Keep the policy DROP and accept only "
                "the pod network (in FORWARD, or in DOCKER-USER, the chain docker keeps for "
                "you).",
                "これでは誰の何でも転送してしまいます。docker の DROP はそれを防ぐためのものです"
                "（dockerd が再起動すればまた DROP に戻すこともあります）。ポリシーは DROP のまま"
                "にして、Pod ネットワークだけを受け入れてください（FORWARD か、docker が利用者の"
                "ために用意した DOCKER-USER に）。"),
                "policy-accept", _walk_notes(walk, lang), walk=walk)
        return _pass(lang, say(f"{pod} reaches {container} ({dst}) and the reply comes back; the "
                               "FORWARD policy is still DROP.",
                               f"{pod} から {container}（{dst}）に届き、応答も戻ります。FORWARD "
                               "のポリシーは DROP のままです。"), _walk_notes(walk, lang), walk=walk)
    no = say(f"{pod} cannot reach {container} ({dst}).",
             f"{pod} から {container}（{dst}）に届きません。")
    if _dropped_in(walk) and walk.ok:
        return _fail(lang, no, say(
            f"the request arrives, but the answer from {container} is dropped in the node's "
            "FORWARD chain on its way back to the pod: a rule that accepts only one direction "
            "is not enough (think of -d as well as -s, or conntrack's ESTABLISHED).",
            f"要求は届きますが、{container} からの応答が Pod へ戻る途中でノードの FORWARD "
            "チェインに破棄されます。片方向だけを受け入れるルールでは足りません（-s だけでなく "
            "-d、あるいは conntrack の ESTABLISHED を考えてください）。"),
            "reply-dropped", _walk_notes(walk, lang), walk=walk)
    if _dropped_in(walk):
        return _fail(lang, no, say(
            "the packet leaves the pod, crosses cni0 and reaches the node, which routes it to "
            "docker0, and there it stops: read the last hop. Compare `iptables -S` in the node "
            "with what a docker host has, and ask which rule would accept a packet coming in on "
            "cni0.",
            "パケットは Pod を出て cni0 を通りノードに着き、ノードが docker0 へルーティング"
            "しますが、そこで止まります。最後のホップを読んでください。ノードの `iptables -S` を"
            "読み、cni0 から入ってくるパケットを受け入れるルールがどれかを考えてください。"),
            "forward-drop", _walk_notes(walk, lang), walk=walk)
    return _fail(lang, no, _hint_for_walk(walk, lang), "no-reach", _walk_notes(walk, lang),
                 walk=walk)


# =====================================================================
# 03: a pod's network by hand
def check_pod_network(lab, netns: str, *, bridge: str = "cni0", subnet: str = "10.244.1.0/24",
                      ifname: str = "eth0", lang: str | None = None) -> Check:
    """Does the pod in ``netns`` (a namespace, a pod's or a container's name) have what a
    bridge CNI plugin gives it?

    ``ifname`` inside, its peer on ``bridge`` in the node, an address in ``subnet``, a default
    route through the bridge's address, and a working ping both ways.
    """
    lang = _lang(lang)
    state = _snapshot(lab)
    netns = _netns_of(lab, netns, state)  # a pod's or a sandbox container's name works too
    net = ipaddress.ip_network(subnet)
    no = say(f"the pod in {netns} has no working network yet.",
          f"{netns} の Pod のネットワークはまだ動いていません。")
    ns = state.netns.get(netns)
    if ns is None:
        return _fail(lang, no, say(f"there is no namespace {netns!r}: the kubelet's sandbox must "
                                "exist before CNI ADD (CNI_NETNS names it).",
                                f"名前空間 {netns!r} がありません。CNI ADD の前に kubelet のサンドボックス"
                                "が必要です（CNI_NETNS がそれを指します）。"), "no-netns")
    node = state.netns[ROOT]
    br = node.link(bridge)
    if br is None or br.kind != "bridge":
        return _fail(lang, no, say(
            f"the node has no bridge {bridge}. The bridge plugin first makes sure the bridge "
            "exists (setupBridge, slide 16).", f"ノードにブリッジ {bridge} がありません。bridge プラグインは"
            "まずブリッジがあることを確かめます（setupBridge、スライド 16）。"), "no-bridge")
    inner = ns.link(ifname)
    if inner is None:
        return _fail(lang, no, say(
            f"there is no {ifname} in {netns}. CNI_IFNAME tells the plugin what to call the pod's "
            f"end of the veth (look at `ip -n {netns} link`).", f"{netns} に {ifname} がありません。"
            "CNI_IFNAME が Pod 側の veth の端の名前です（`ip -n "
            f"{netns} link` を参照）。"), "no-ifname")
    other = peer_link(state, inner)
    if inner.kind != "veth" or other is None or other[0] != ROOT:
        return _fail(lang, no, say(
            f"{ifname} must be one end of a veth whose other end is in the node (setupVeth).",
            f"{ifname} は、もう片端がノードにある veth の端でなければなりません（setupVeth）。"),
            "peer-not-in-node")
    host = other[1]
    if host.master != br.ifindex:
        return _fail(lang, no, say(
            f"the node's end {host.ifname} is not a port of {bridge}: see `bridge link`.",
            f"ノード側の端 {host.ifname} が {bridge} のポートになっていません（`bridge link` を参照）。"),
            "not-on-bridge", host=host.ifname)
    gw_addrs = [a for a in _v4_addrs(node, br) if a.ip in net]
    if not gw_addrs:
        return _fail(lang, no, say(
            f"{bridge} has no address in {subnet}. With isGateway the plugin gives the bridge the "
            "gateway address (calcGateways, ensureAddr), so pods have a next hop.",
            f"{bridge} に {subnet} のアドレスがありません。isGateway のとき、プラグインはブリッジに"
            "ゲートウェイのアドレスを付けます（calcGateways、ensureAddr）。これが Pod の次ホップです。"),
            "no-gateway")
    pod_addrs = [a for a in _v4_addrs(ns, inner) if a.ip in net]
    if not pod_addrs:
        return _fail(lang, no, say(
            f"{ifname} has no address in {subnet}. IPAM (host-local) picks one and the plugin puts "
            "it on the interface inside the pod (ConfigureIface).",
            f"{ifname} に {subnet} のアドレスがありません。IPAM（host-local）が一つ選び、プラグインが"
            "Pod 内のインターフェースに付けます（ConfigureIface）。"), "no-address")
    gw = gw_addrs[0].ip
    if pod_addrs[0].ip == gw:
        return _fail(lang, no, say(f"{gw} is the gateway's (the bridge's) address; the pod needs "
                                "another one.", f"{gw} はゲートウェイ（ブリッジ）のアドレスです。"
                                "Pod には別のアドレスが要ります。"), "duplicate")
    # the same hint as check_container_online's: two hosts on one bridge, one address
    twins = sorted(k for k, o in state.netns.items() if k not in (netns, ROOT)
                   for l in o.links.values() for a in _v4_addrs(o, l) if a.ip == pod_addrs[0].ip)
    if twins:
        who = _who(lab, twins[0])
        return _fail(lang, no, say(
            f"{pod_addrs[0].ip} is already {who}'s address. Two hosts on one bridge must not "
            "share an address: pick a free one (host-local IPAM never hands out one twice).",
            f"{pod_addrs[0].ip} はすでに {who} のアドレスです。一つのブリッジ上で同じアドレスを"
            "二つのホストが使うことはできません。空いているものを選んでください（host-local IPAM は"
            "同じアドレスを二度渡しません）。"), "duplicate", owner=twins[0])
    down = [n for n, l in ((f"{bridge}", br), (host.ifname, host), (f"{ifname} ({netns})", inner))
            if not l.up]
    if down:
        return _fail(lang, no, say(f"{', '.join(down)} is DOWN: everything on the path must be UP.",
                                f"{'、'.join(down)} が DOWN です。通り道のものはすべて UP にします。"),
                     "down", down=down)
    default = [r for r in ns.routes if r.dst == "default" and r.family == 4]
    if not default:
        return _fail(lang, no, say(
            f"the pod has no default route. The result's routes (0.0.0.0/0 via {gw}) become "
            f"`ip -n {netns} route` entries.", f"Pod にデフォルトルートがありません。結果の routes"
            f"（0.0.0.0/0 via {gw}）が `ip -n {netns} route` のエントリになります。"), "no-route")
    walk = reach(state, netns, str(gw))
    back = reach(state, ROOT, str(pod_addrs[0].ip))
    if walk.ok and walk.reply_ok and back.ok and back.reply_ok:
        return _pass(lang, say(f"the pod ({pod_addrs[0]}) and the node ({gw}) reach each other over "
                            f"{bridge}.", f"Pod（{pod_addrs[0]}）とノード（{gw}）が {bridge} を通じて"
                            "互いに届きます。"), _walk_notes(walk, lang, 6))
    bad = walk if not (walk.ok and walk.reply_ok) else back
    return _fail(lang, no, _hint_for_walk(bad, lang), "no-reach", _walk_notes(bad, lang))


def _who(lab, key: str) -> str:
    """A namespace as the learner knows it: the pod's or the container's name, else its key."""
    if not isinstance(lab, NetState):
        for owners in (lambda: [(p.netns, p.name) for p in lab.k8s.pods],
                       lambda: [(c.netns, c.name) for c in lab.docker.containers()]):
            try:
                found = dict(owners()).get(key)
            except Exception:  # noqa: BLE001 - no kubelet / no docker in this lab: next
                continue
            if found:
                return found
    return _label(key)


def check_routed_pod(lab, pod: str, *, node: str = "node3", gateway: str = "169.254.1.1",
                     target: str | None = None, ifname: str = "eth0",
                     lang: str | None = None) -> Check:
    """Does ``pod`` have what a routed (Calico-style, ``ptp``) plugin gives it?

    ``ifname`` inside, a veth whose other end is in ``node``; a /32 address nobody else has;
    a link route to ``gateway`` and a default route through it; the node's end answering
    for ``gateway``; on the node a host route ``<pod>/32 dev <its end>``; and a working ping
    from the pod to the node's end and to ``target`` (an address elsewhere, e.g. a pod on
    another node), with the replies coming back.
    """
    lang = _lang(lang)
    state = _snapshot(lab)
    key = _netns_of(lab, pod, state)
    no = say(f"{pod} has no working routed network yet.",
             f"{pod} のルーティング型のネットワークはまだ動いていません。")
    ns = state.netns.get(key)
    if ns is None:
        return _fail(lang, no, say(f"there is no namespace {pod!r}: the sandbox must exist first.",
                                   f"名前空間 {pod!r} がありません。先にサンドボックスが必要です。"),
                     "no-netns")
    host_ns = state.netns.get(node)
    if host_ns is None:
        return _fail(lang, no, say(f"there is no node namespace {node!r} (see `ip netns`).",
                                   f"ノードの名前空間 {node!r} がありません（`ip netns` を参照）。"),
                     "no-node")
    inner = ns.link(ifname)
    if inner is None:
        return _fail(lang, no, say(
            f"there is no {ifname} in {pod}: the pod's end of a veth, called {ifname} "
            f"(look at `ip -n {key} link`).",
            f"{pod} に {ifname} がありません。veth の Pod 側の端を {ifname} という名前で置きます"
            f"（`ip -n {key} link` を参照）。"), "no-ifname")
    other = peer_link(state, inner)
    if inner.kind != "veth" or other is None or other[0] != node:
        return _fail(lang, no, say(
            f"{ifname} must be one end of a veth whose other end is in {node} (the node runs "
            "the plugin and keeps the host end, `cali…` in Calico).",
            f"{ifname} は、もう片端が {node} にある veth の端でなければなりません（プラグインは"
            "ノードで動き、ホスト側の端を持ちます。Calico では `cali…`）。"), "peer-not-in-node")
    host = other[1]
    addrs = _v4_addrs(ns, inner)
    if not addrs:
        return _fail(lang, no, say(
            f"{ifname} has no IPv4 address. A routed pod gets one address with a /32 prefix.",
            f"{ifname} に IPv4 アドレスがありません。ルーティング型の Pod のアドレスは /32 の"
            "一つだけです。"), "no-address")
    mine = addrs[0]
    if mine.network.prefixlen != 32:
        return _fail(lang, no, say(
            f"{mine} is not a /32. A /{mine.network.prefixlen} says all of {mine.network} is on "
            f"{ifname}'s link, so the pod would ARP for its neighbours there, and nobody is on "
            "the other end but the node. A routed pod has a /32 and sends everything to the node.",
            f"{mine} は /32 ではありません。/{mine.network.prefixlen} だと {mine.network} 全体が "
            f"{ifname} のリンク上にあることになり、Pod は隣の相手をそこで ARP しますが、対向には"
            "ノードしかいません。ルーティング型の Pod は /32 を持ち、すべてをノードに送ります。"),
            "not-32", address=str(mine))
    twins = sorted(k for k, o in state.netns.items() if k != key
                   for l in o.links.values() for a in _v4_addrs(o, l) if a.ip == mine.ip)
    if twins:
        owner = _who(lab, twins[0])
        return _fail(lang, no, say(
            f"{mine.ip} is already {owner}'s address. Two pods must not share an address, even "
            "without a bridge: the node's host routes and the other pods' ARP caches can point to "
            "only one of them. Pick a free one (host-local IPAM never hands out one twice).",
            f"{mine.ip} はすでに {owner} のアドレスです。ブリッジが無くても、二つの Pod が同じ"
            "アドレスを使うことはできません。ノードのホストルートも他の Pod の ARP キャッシュも、"
            "どちらか一方しか指せないからです。空いているものを選んでください（host-local IPAM は"
            "同じアドレスを二度渡しません）。"), "duplicate", owner=owner)
    down = [f"{l.ifname} ({where})" for where, l in ((pod, inner), (node, host)) if not l.up]
    if down:
        return _fail(lang, no, say(f"{', '.join(down)} is DOWN: both ends of a veth must be UP.",
                                   f"{'、'.join(down)} が DOWN です。veth は両端とも UP にします。"),
                     "down", down=down)
    gw = ipaddress.ip_address(gateway)

    def to(route, ip) -> bool:
        return (route.family == 4 and route.dst != "default"
                and ipaddress.ip_network(route.dst, strict=False) == ipaddress.ip_network(ip))

    if not any(to(r, gw) and r.via is None and r.dev == inner.ifindex for r in ns.routes):
        return _fail(lang, no, say(
            f"the pod has no link route to its gateway {gateway}. A /32 makes no connected route, "
            f"so nothing says {gateway} is on {ifname}: a link route does (scope link, no via; "
            "without it the kernel refuses a default route through the gateway). Compare "
            "calico1's `ip route`.",
            f"Pod にゲートウェイ {gateway} へのリンクルートがありません。/32 は接続ルートを作らない"
            f"ので、{gateway} が {ifname} の先にあることを示すものがありません。それを示すのが"
            "リンクルートです（scope link、via なし。これが無いと、カーネルはゲートウェイ経由の"
            "デフォルトルートを受け付けません）。calico1 の `ip route` と比べてください。"),
            "no-link-route")
    if not any(r.dst == "default" and r.family == 4 and r.via == gateway for r in ns.routes):
        return _fail(lang, no, say(
            f"the pod has no default route through {gateway}: everything it sends goes to the "
            f"node that way (`ip -n {key} route`).",
            f"Pod に {gateway} 経由のデフォルトルートがありません。Pod はすべてをそのルートで"
            f"ノードに送ります（`ip -n {key} route`）。"), "no-route")
    if not any(a.ip == gw for a in _v4_addrs(host_ns, host)):
        return _fail(lang, no, say(
            f"the pod ARPs for {gateway} on {ifname}, and nobody answers: the node's end "
            f"{host.ifname} must. Calico answers with proxy ARP; simlab-ptp puts {gateway}/32 "
            "on the host end (compare calico1's host end in `ip -n "
            f"{node} addr`).",
            f"Pod は {ifname} で {gateway} を ARP しますが、誰も答えません。答えるのはノード側の端 "
            f"{host.ifname} です。Calico は proxy ARP で、simlab-ptp はホスト側の端に {gateway}/32 "
            f"を付けて答えます（`ip -n {node} addr` の calico1 のホスト側の端と比べてください）。"),
            "no-gateway", host=host.ifname)
    back = [r for r in host_ns.routes if to(r, mine.ip)]
    if not any(r.dev == host.ifindex and r.via is None for r in back):
        wrong = [host_ns.links[r.dev].ifname for r in back if r.dev in host_ns.links]
        if wrong:
            return _fail(lang, no, say(
                f"{node}'s route to {mine.ip} leads to {wrong[0]}, not to the pod's end "
                f"{host.ifname}: the node sends the pod's replies to another pod's veth.",
                f"{node} の {mine.ip} へのルートは Pod の端 {host.ifname} ではなく {wrong[0]} に"
                "向いています。ノードは Pod への応答を別の Pod の veth に送ってしまいます。"),
                "host-route-elsewhere", host=host.ifname)
        return _fail(lang, no, say(
            f"{node} has no route back to {mine.ip}. The pod's packets leave through its default "
            "route, but the answers come back to a node with no bridge and no subnet on the "
            "pod's side: only a host route, one /32 per pod through that pod's own end "
            f"({host.ifname}), tells the node where the pod is. Compare the other pods' routes in "
            f"`ip -n {node} route`.",
            f"{node} に {mine.ip} へ戻るルートがありません。Pod のパケットはデフォルトルートで"
            "出ていきますが、応答が戻るノードには Pod 側のブリッジもサブネットもありません。Pod の"
            f"居場所をノードに教えるのは、Pod ごとに一つ、その Pod の端（{host.ifname}）を指す /32 の"
            f"ホストルートだけです。`ip -n {node} route` で他の Pod のルートと比べてください。"),
            "no-host-route", host=host.ifname)
    walks = [reach(state, key, gateway), reach(state, node, str(mine.ip))]
    if target:
        walks.append(reach(state, key, target))
    bad = next((w for w in walks if not (w.ok and w.reply_ok)), None)
    if bad is not None:
        return _fail(lang, no, _hint_for_walk(bad, lang), "no-reach", _walk_notes(bad, lang))
    also = f" and {target}" if target else ""
    also_ja = f"と {target} " if target else ""
    return _pass(lang, say(f"{pod} ({mine}) reaches the node{also}, and the replies come back.",
                           f"{pod}（{mine}）からノード{also_ja}に届き、応答も戻ります。"),
                 _walk_notes(walks[-1], lang, 8))


# =====================================================================
# 04: the learner's CNI plugin
#: A plugin: an executable's path, or an in-process callable ``(env, stdin) -> (exit, out, err)``.
Plugin = str | os.PathLike | Callable[[Mapping[str, str], bytes], tuple[int, str, str]]


def load_plugin(path: str | os.PathLike, funcs: str = "FUNCS"):
    """Load a Python plugin module from a file; return its ``FUNCS`` (a ``skel.Funcs``).

    The module is the learner's: a file with ``cmd_add``, ``cmd_del``, ``cmd_check`` and
    ``FUNCS = Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)``.  Loaded afresh each
    time, so an edited file is picked up.
    """
    import importlib.machinery
    import importlib.util

    path = os.fspath(path)
    name = "simlab_learner_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    # An executable plugin has no .py suffix: name the loader explicitly.
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a Python module from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = getattr(module, funcs, None)
    if found is None:
        raise AttributeError(
            f"{path} defines no {funcs}: end the file with "
            f"`{funcs} = Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)`")
    return found


def use_python_plugin(lab, path: str | os.PathLike, plugin_type: str | None = None, *,
                      node: str | None = None) -> str:
    """Make the lab's kubelet run a Python plugin file for new pods; returns its conflist.

    The file is the learner's executable (``#!python`` with ``FUNCS`` and
    ``skel.plugin_main``).  On the kernel backend the kubelet execs it like any plugin; on
    the model it runs in-process (an exec'd process cannot reach the model), reloaded at
    every call so an edited file is picked up.  ``plugin_type`` defaults to the file name.

    Linux: copy the file to ``/opt/cni/bin`` and name it in ``/etc/cni/net.d``.
    """
    path = os.fspath(path)
    plugin_type = plugin_type or os.path.basename(path)
    conf = lab.k8s.use_plugin("custom", type=plugin_type, cni_path=[os.path.dirname(path)],
                              node=node)
    if lab.capabilities.in_process_plugins:
        target = lab.k8s.node if node is None else lab.k8s.nodes[node]
        if target.runtime is None:
            target.runtime = runtime_for_node(lab, target, list(target.cni_path or []))

        def runner(env, stdin, parent):
            session = Session(backend=parent.backend, recorder=parent.recorder,
                              netns_paths=parent.netns_paths, in_process=parent.in_process,
                              plugin=plugin_type)
            return skel.dispatch(env, stdin, load_plugin(path), session=session)

        target.runtime.in_process[plugin_type] = runner
    return conf


def run_plugin(plugin: Plugin, env: Mapping[str, str], stdin: bytes | str | Mapping,
               *, backend=None, timeout: float = 30) -> tuple[int, str, str]:
    """Call a plugin once as a runtime would: ``(exit status, stdout, stderr)``.

    ``plugin`` is an executable's path (run with exactly ``env`` plus PATH), a ``skel.Funcs``
    (run in-process with :func:`simlab.cni.skel.dispatch`, on ``backend`` if given), or a
    callable ``(env, stdin) -> (exit, stdout, stderr)``.
    """
    if isinstance(stdin, Mapping):
        stdin = json.dumps(stdin)
    data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
    if isinstance(plugin, (str, os.PathLike)):
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        try:
            proc = subprocess.run([os.fspath(plugin)], input=data, env=full, capture_output=True,
                                  timeout=timeout, check=False)
        except PermissionError:
            return 126, "", f"{plugin}: permission denied (is it executable? chmod +x)\n"
        except OSError as err:
            return 126, "", f"{plugin}: {err.strerror or err}\n"
        except subprocess.TimeoutExpired:
            return 124, "", (f"{plugin}: no answer after {timeout}s "
                             "(does it read stdin to the end?)\n")
        return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode(
            "utf-8", "replace")
    if isinstance(plugin, skel.Funcs):
        # simlab's own plugins (host-local for IPAM) run in-process beside it.
        session = Session(backend=backend, in_process=IN_PROCESS) if backend is not None else None
        return skel.dispatch(env, data, plugin, session=session)
    return plugin(env, data)


def _cni_env(command: str, netns: str = "/run/netns/checkpod", **extra) -> dict[str, str]:
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "check-0001", "CNI_NETNS": netns,
           "CNI_IFNAME": "eth0", "CNI_ARGS": "", "CNI_PATH": "/opt/cni/bin"}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def check_plugin(plugin: Plugin, *, conf: Mapping | None = None, lang: str | None = None,
                 backend=None) -> Check:
    """Call a plugin with what the spec says a runtime sends, and check what it answers.

    In order: ADD (exit 0, a JSON result on stdout in the request's ``cniVersion``, with
    ``ips``), DEL (exit 0), DEL again (still 0: DEL must be idempotent), VERSION (JSON with
    ``supportedVersions`` that includes the request's version), an unknown command (non-zero
    exit and an error JSON ``{"code": ..., "msg": ...}`` on stdout).  The first failure is
    the hint.  Works for a script (a path) and for a Python ``Funcs`` (in-process).
    """
    lang = _lang(lang)
    conf = dict(conf or {"cniVersion": "1.0.0", "name": "checknet", "type": "learner"})
    version = conf.get("cniVersion", "")
    stdin = json.dumps(conf)
    no = say("the plugin does not follow the CNI spec yet.", "プラグインはまだ CNI の仕様どおりではありません。")
    in_process = not isinstance(plugin, (str, os.PathLike))
    if in_process and backend is None:
        # A Python plugin really builds its interface: on a throw-away model with a pod
        # namespace, never on the learner's lab.
        backend = ModelBackend()
        backend.apply(NetnsAdd(_CHECK_POD))
    with tempfile.TemporaryDirectory(prefix="simlab-check-") as tmp:
        if isinstance(conf.get("ipam"), Mapping):
            # IPAM keeps its reservations here, never in the lab's own store.
            conf["ipam"] = {**conf["ipam"], "dataDir": os.path.join(tmp, "ipam")}
            stdin = json.dumps(conf)
        # A script that only answers never opens CNI_NETNS; a Python plugin on the model
        # finds the namespace behind /run/netns/<key>.
        netns = f"/run/netns/{_CHECK_POD}" if in_process else os.path.join(tmp, "netns")
        facts: dict[str, Any] = {}

        code, out, err = run_plugin(plugin, _cni_env("ADD", netns), stdin, backend=backend)
        facts["add"] = (code, out, err)
        if code != 0:
            return _fail(lang, no, say(
                f"ADD exited with status {code}. A successful ADD exits 0 and prints the result."
                + (f" Its stderr: {err.strip()[:200]}" if err.strip() else ""),
                f"ADD が終了コード {code} で終わりました。成功した ADD は 0 で終わり、結果を出力します。"
                + (f" stderr: {err.strip()[:200]}" if err.strip() else "")), "add-exit", **facts)
        try:
            result = json.loads(out)
        except ValueError:
            shown = out.strip()[:120] or "(nothing)"
            return _fail(lang, no, say(
                f"ADD printed {shown!r} on stdout, which is not JSON. stdout is for the result "
                "only; write logs to stderr (`>&2`).",
                f"ADD が stdout に {shown!r} を出力しましたが、JSON ではありません。stdout は結果"
                "だけに使い、ログは stderr（`>&2`）に書きます。"), "add-json", **facts)
        if not isinstance(result, dict):
            return _fail(lang, no, say("the ADD result must be a JSON object ({...}).",
                                    "ADD の結果は JSON オブジェクト（{...}）でなければなりません。"),
                         "add-json", **facts)
        if result.get("cniVersion") != version:
            return _fail(lang, no, say(
                f"the result says cniVersion {result.get('cniVersion')!r}, the request said "
                f"{version!r}. A plugin answers in the version the config on stdin asked for.",
                f"結果の cniVersion は {result.get('cniVersion')!r} ですが、要求は {version!r} です。"
                "プラグインは stdin の設定が求めたバージョンで答えます。"), "add-version", **facts)
        ips = result.get("ips")
        if not isinstance(ips, list) or not ips or not all(
                isinstance(ip, dict) and _is_cidr(ip.get("address")) for ip in ips):
            return _fail(lang, no, say(
                "the result has no usable `ips`: a list of objects whose `address` is in CIDR "
                "form (\"10.244.1.5/24\"). That is how the runtime learns the pod's address.",
                "結果に使える `ips` がありません。`address` が CIDR 形式（\"10.244.1.5/24\"）の"
                "オブジェクトのリストです。ランタイムはこれで Pod のアドレスを知ります。"),
                "add-ips", **facts)
        try:
            parse_result(out)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the learner's to see
            return _fail(lang, no, say(f"the result does not parse as a CNI result: {exc}",
                                    f"結果を CNI の結果として読めません: {exc}"), "add-parse", **facts)
        missing = _missing_interfaces(result, netns, backend) if in_process else []
        if missing:
            return _fail(lang, no, say(
                f"the result lists {', '.join(missing)} in the pod's namespace, but there is no "
                "such link there. `interfaces` reports what the plugin really made (sandbox = "
                "CNI_NETNS for the pod's side).",
                f"結果には Pod の名前空間に {', '.join(missing)} があるとありますが、そのリンクは"
                "ありません。`interfaces` にはプラグインが実際に作ったものを書きます（Pod 側は "
                "sandbox = CNI_NETNS）。"), "add-interfaces", **facts)

        code, out, err = run_plugin(plugin, _cni_env("DEL", netns), stdin, backend=backend)
        facts["del"] = (code, out, err)
        if code != 0:
            return _fail(lang, no, say(
                f"DEL exited with status {code}. DEL removes what ADD made and exits 0, printing "
                "nothing.", f"DEL が終了コード {code} で終わりました。DEL は ADD が作ったものを消し、"
                "何も出力せずに 0 で終わります。"), "del-exit", **facts)
        left = _left_after_del(result, netns, backend) if in_process else []
        if left:
            return _fail(lang, no, say(
                f"after DEL, {', '.join(left)} is still in the pod's namespace. DEL removes what "
                "ADD made (deleting one end of a veth removes its peer too).",
                f"DEL の後も Pod の名前空間に {', '.join(left)} が残っています。DEL は ADD が作った"
                "ものを消します（veth は片端を消せば対向も消えます）。"), "del-left", **facts)
        code, out, err = run_plugin(plugin, _cni_env("DEL", netns), stdin, backend=backend)
        facts["del2"] = (code, out, err)
        if code != 0:
            return _fail(lang, no, say(
                f"a second DEL exited with status {code}. The spec says DEL may come again (or "
                "after a failed ADD) and must succeed when there is nothing left to remove.",
                f"2 回目の DEL が終了コード {code} で終わりました。仕様では DEL は何度来てもよく"
                "（ADD の失敗後にも来ます）、消すものがなくても成功しなければなりません。"),
                "del-idempotent", **facts)

        code, out, err = run_plugin(plugin, {"CNI_COMMAND": "VERSION"},
                                    json.dumps({"cniVersion": version}), backend=backend)
        facts["version"] = (code, out, err)
        try:
            info = json.loads(out) if code == 0 else None
        except ValueError:
            info = None
        if not isinstance(info, dict) or version not in (info.get("supportedVersions") or []):
            return _fail(lang, no, say(
                "VERSION must exit 0 and print {\"cniVersion\": ..., \"supportedVersions\": [...]} "
                f"listing the versions the plugin speaks (here {version!r} is missing).",
                "VERSION は 0 で終わり、{\"cniVersion\": ..., \"supportedVersions\": [...]} を出力"
                f"して話せるバージョンを並べます（ここでは {version!r} がありません）。"),
                "version", **facts)

        code, out, err = run_plugin(plugin, _cni_env("FROB", netns), stdin, backend=backend)
        facts["unknown"] = (code, out, err)
        try:
            error = json.loads(out) if out.strip() else None
        except ValueError:
            error = None
        if code == 0 or not isinstance(error, dict) or not isinstance(error.get("code"), int) \
                or not isinstance(error.get("msg"), str):
            return _fail(lang, no, say(
                "an unknown CNI_COMMAND must fail: exit non-zero and print an error object on "
                "stdout, {\"code\": 4, \"msg\": \"...\"} (code 4: invalid environment variables).",
                "知らない CNI_COMMAND には失敗で答えます。0 以外で終わり、stdout にエラーオブジェクト"
                " {\"code\": 4, \"msg\": \"...\"} を出力します（コード 4: 環境変数が不正）。"),
                "unknown-command", **facts)
    return _pass(lang, say("the plugin answers ADD, DEL (twice), VERSION and an unknown command as "
                        "the CNI spec says.", "プラグインは ADD、DEL（2 回）、VERSION、未知のコマンドに"
                        "CNI の仕様どおり答えます。"), result=result, **facts)


_CHECK_POD = "checkpod"


def _sandbox_links(result: Mapping, netns: str) -> list[str]:
    return [i.get("name", "") for i in result.get("interfaces") or []
            if isinstance(i, dict) and i.get("sandbox") == netns and i.get("name")]


def _missing_interfaces(result: Mapping, netns: str, backend) -> list[str]:
    ns = backend.snapshot().netns.get(_CHECK_POD)
    return [n for n in _sandbox_links(result, netns) if ns is None or ns.link(n) is None]


def _left_after_del(result: Mapping, netns: str, backend) -> list[str]:
    ns = backend.snapshot().netns.get(_CHECK_POD)
    return [n for n in _sandbox_links(result, netns) if ns is not None and ns.link(n) is not None]


def _is_cidr(text) -> bool:
    if not isinstance(text, str) or "/" not in text:
        return False
    try:
        ipaddress.ip_interface(text)
    except ValueError:
        return False
    return True
