"""Messages in English and Japanese: the CLI, the widgets, and the steps simlab writes itself.

Rules of this module:

- every message has a key and a text per language in :data:`CATALOG`; a text
  may hold ``{name}`` fields that :func:`t` fills in;
- the Japanese text is never a copy of the English one, except for the keys in
  :data:`SAME_OK` (command names, which read the same in both);
- :func:`t` never fails for a missing text: it falls back to English, then to
  the key itself, so a half-translated feature still shows something;
- :func:`why_for` explains in one sentence what an operation does in the
  kernel (the "why" of a step recorded from a typed `ip` command).

The language is process-wide: :func:`set_language` (``simlab.set_language("ja")``)
or the ``SIMLAB_LANG`` environment variable; functions that take ``lang=None``
use it.

>>> t("step.counter", i=2, n=7, lang="ja")
'ステップ 2/7'
>>> from simlab.model import NetnsAdd
>>> why_for(NetnsAdd("red"), "en").startswith("A new network namespace")
True
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping

from .model.errors import Said
from .model.text import Text, say, shown_language

__all__ = [
    "LANGUAGES",
    "CATALOG",
    "SAME_OK",
    "set_language",
    "get_language",
    "t",
    "both",
    "why_for",
    "why_text",
    "why_for_ops",
    "fields_of",
    "Text",
    "Said",
    "say",
    "in_language",
]

#: Languages simlab speaks; the first is the fallback.
LANGUAGES = ("en", "ja")

# (key, English, Japanese).  Kept side by side so a reviewer reads both at once.
_ENTRIES: tuple[tuple[str, str, str], ...] = (
    # ---------------------------------------------------------------- widgets
    ("nav.first", "First", "最初へ"),
    ("nav.back", "Back", "戻る"),
    ("nav.next", "Next", "次へ"),
    ("nav.last", "Last", "最後へ"),
    ("nav.play", "Play", "再生"),
    ("nav.pause", "Pause", "一時停止"),
    ("step.counter", "step {i}/{n}", "ステップ {i}/{n}"),
    ("step.none", "no steps yet", "ステップはまだありません"),
    ("label.namespace", "namespace", "名前空間"),
    # ---------------------------------------------------------------- pictures
    ("pic.legend", "legend", "凡例"),
    ("pic.added", "added (thick outline)", "追加 (太い枠)"),
    ("pic.changed", "changed (dashed outline)", "変更 (破線の枠)"),
    ("pic.removed", "removed (dotted ghost)", "削除 (点線の跡)"),
    ("pic.moved", "moved to another namespace (dotted trail)", "別の名前空間へ移動 (点線の軌跡)"),
    ("pic.link", "interface (circle)", "インターフェース (円)"),
    ("pic.bridge", "bridge (square and bar)", "ブリッジ (四角と横棒)"),
    ("pic.uplink", "uplink to the LAN (diamond)", "LAN へのアップリンク (ひし形)"),
    ("pic.container", "container sharing a namespace (triangle)",
     "名前空間を共有するコンテナ (三角)"),
    ("pic.down", "link down (hollow mark, dashed wire)", "リンク停止 (中空の印、破線)"),
    ("pic.namespace", "network namespace (box)", "ネットワーク名前空間 (箱)"),
    ("pic.packet", "packet (arrow head; R request, A answer)",
     "パケット (矢印; R 要求、A 応答)"),
    ("pic.fit", "Fit", "全体"),
    ("pic.zoom_in", "Zoom in", "拡大"),
    ("pic.zoom_out", "Zoom out", "縮小"),
    ("pic.group", "{n} more pods like this", "同様の Pod があと {n} 個"),
    ("pic.nochange", "nothing drawn changes in this step", "このステップでは図は変わりません"),
    ("pic.badge.reserved", "{plugin} reserved {ip}", "{plugin} が {ip} を予約"),
    ("pic.request", "request", "要求"),
    ("pic.reply", "reply", "応答"),
    ("pic.hop_back", "Hop back", "前のホップ"),
    ("pic.hop_next", "Next hop", "次のホップ"),
    ("pic.play_packet", "Play packet", "パケットを再生"),
    ("pic.events", "events", "イベント"),
    ("pic.rule", "decided by", "決めたエントリ"),
    ("pic.headers", "headers", "ヘッダ"),
    ("pic.absent", "namespace {ns} does not exist at this step",
     "このステップでは名前空間 {ns} は存在しません"),
    ("pic.drop", "dropped: {error}", "破棄: {error}"),
    ("pic.inspect_hint", "click a namespace or an interface to inspect it",
     "名前空間やインターフェースをクリックすると中身を表示します"),
    ("label.node", "node", "ノード"),
    ("label.why", "why", "解説"),
    ("label.commands", "commands", "コマンド"),
    ("label.mirrors", "mirrors", "対応するコード"),
    ("label.actor", "by", "実行者"),
    ("label.before", "before", "変更前"),
    ("label.after", "after", "変更後"),
    ("label.graph", "graph", "構成図"),
    ("label.language", "language", "言語"),
    ("label.scenario", "scenario", "シナリオ"),
    ("label.backend", "backend", "バックエンド"),
    ("label.no_change", "No change to the network in this step.",
     "このステップではネットワークは変わりません。"),
    ("label.ns_deleted", "Namespace {ns} was deleted.", "名前空間 {ns} は削除されました。"),
    ("label.ns_created", "new namespace", "新しい名前空間"),
    ("label.ip_unchanged", "(`ip a` unchanged)", "(`ip a` の表示は変わりません)"),
    # -------------------------------------------------------------------- tour
    ("tour.header", "simlab tour: {title}", "simlab ツアー: {title}"),
    ("tour.backend", "backend: {backend} ({why})", "バックエンド: {backend} ({why})"),
    ("tour.replaying", "replaying {path} (recorded on the {backend} backend)",
     "{path} を再生します ({backend} バックエンドで記録)"),
    ("tour.prompt", "[Enter] next  [b] back  [q] quit  [number] go to step",
     "[Enter] 次へ  [b] 戻る  [q] 終了  [番号] そのステップへ"),
    ("tour.prompt_last", "[Enter] finish  [b] back  [q] quit",
     "[Enter] 終わる  [b] 戻る  [q] 終了"),
    ("tour.at_first", "This is the first step.", "これが最初のステップです。"),
    ("tour.bad_key", "Type Enter, b, q or a step number from 1 to {n}.",
     "Enter、b、q、または 1 から {n} までのステップ番号を入力してください。"),
    ("tour.done", "End of the tour: {n} steps.", "ツアー終了: 全 {n} ステップ。"),
    ("tour.quit", "Tour stopped at step {i}/{n}.", "ステップ {i}/{n} でツアーを中断しました。"),
    ("tour.no_steps", "This scenario recorded no steps.", "このシナリオにはステップがありません。"),
    ("tour.saved", "Timeline saved to {path}.", "タイムラインを {path} に保存しました。"),
    ("tour.build_failed", "The scenario {name} failed: {error}",
     "シナリオ {name} の実行に失敗しました: {error}"),
    # --------------------------------------------------------------------- cli
    ("cli.tour.help", "step through a scenario in the terminal",
     "シナリオをターミナルで 1 ステップずつ見る"),
    ("cli.tour.scenario", "scenario to show (default: {default}); --list shows them all",
     "表示するシナリオ (既定: {default})。--list で一覧を表示"),
    ("cli.tour.backend", "model (no root needed) or kernel (real namespaces, needs root)",
     "model (root 不要) または kernel (本物の名前空間、root が必要)"),
    ("cli.tour.lang", "language of the tour: en or ja", "ツアーの言語: en または ja"),
    ("cli.tour.no_pause", "show every step without waiting for a key (scripts, CI)",
     "キー入力を待たずに全ステップを表示 (スクリプトや CI 向け)"),
    ("cli.tour.list", "list the scenarios and exit", "シナリオの一覧を表示して終了"),
    ("cli.tour.save", "also save the timeline to FILE (JSON) for `--replay`",
     "タイムラインを FILE (JSON) にも保存 (`--replay` で再生可能)"),
    ("cli.tour.replay", "show a saved timeline instead of running a scenario (no root needed)",
     "シナリオを実行する代わりに保存済みのタイムラインを表示 (root 不要)"),
    ("cli.unknown_scenario", "unknown scenario {name}; choose one of: {names}",
     "シナリオ {name} はありません。次から選んでください: {names}"),
    ("cli.unavailable", "scenario {name} needs {needs}, which this simlab cannot import yet",
     "シナリオ {name} には {needs} が必要ですが、この simlab ではまだ import できません"),
    ("cli.list_header", "Scenarios:", "シナリオ一覧:"),
    ("cli.list_unavailable", "(not available: needs {needs})", "(利用不可: {needs} が必要)"),
    # ------------------------------------------------- why_for: one op, one sentence
    ("why.op.NetnsAdd",
     "A new network namespace is a separate copy of the network stack (links, addresses, "
     "routes, iptables), and the kernel puts only a loopback lo in it, DOWN.",
     "新しいネットワーク名前空間はネットワークスタック (リンク、アドレス、ルーティング、"
     "iptables) を丸ごと分けたもので、中にはカーネルが作った DOWN 状態の lo だけがあります。"),
    ("why.op.NetnsDel",
     "Deleting a namespace destroys every link inside it, and a veth's peer in another "
     "namespace goes with it.",
     "名前空間を削除すると中のリンクはすべて消え、別の名前空間にある veth の対向側も一緒に"
     "削除されます。"),
    ("why.op.LinkAdd.veth",
     "A veth pair is two network interfaces joined back to back: what enters one leaves "
     "the other.",
     "veth ペアは背中合わせにつながった 2 つのネットワークインターフェースで、片方に入った"
     "パケットはもう片方から出てきます。"),
    ("why.op.LinkAdd.bridge",
     "A bridge is a virtual L2 switch in the kernel: it learns which MAC address is behind "
     "which port and forwards frames between its ports.",
     "ブリッジはカーネル内の仮想 L2 スイッチで、どのポートの先にどの MAC アドレスがあるかを"
     "学習し、ポート間でフレームを転送します。"),
    ("why.op.LinkAdd",
     "This creates a virtual network interface of kind {kind} in the kernel.",
     "カーネル内に種類 {kind} の仮想ネットワークインターフェースを作ります。"),
    ("why.op.LinkDel",
     "Deleting a link removes it with its addresses and routes; deleting one end of a veth "
     "deletes its peer too.",
     "リンクを削除するとそのアドレスとルートも消え、veth の片端を削除すると対向側も削除されます。"),
    ("why.op.LinkSet.to_netns",
     "Moving a link to another namespace takes it down and drops its addresses: from now on "
     "it belongs to that namespace's network stack.",
     "リンクを別の名前空間に移すと DOWN になってアドレスも消え、以後はその名前空間の"
     "ネットワークスタックに属します。"),
    ("why.op.LinkSet.master",
     "Enslaving a link to a bridge makes it a bridge port: the frames it receives are "
     "switched by the bridge instead of going up to IP.",
     "リンクをブリッジに接続するとブリッジのポートになり、受信したフレームは IP 層へ"
     "上がらずにブリッジが転送します。"),
    ("why.op.LinkSet.nomaster",
     "Releasing a link from its bridge makes it an ordinary interface again.",
     "リンクをブリッジから外すと、普通のインターフェースに戻ります。"),
    ("why.op.LinkSet.name",
     "Renaming a link changes only its name; its ifindex stays the same.",
     "リンクの名前を変えても変わるのは名前だけで、ifindex はそのままです。"),
    ("why.op.LinkSet.mac",
     "This sets the link's MAC address, the L2 address its frames carry; a bridge with a "
     "MAC set by hand no longer follows its ports' MACs.",
     "リンクの MAC アドレス (送信フレームに載る L2 アドレス) を設定します。手動で MAC を"
     "設定したブリッジは、ポートの MAC に追従しなくなります。"),
    ("why.op.LinkSet.mtu",
     "The MTU is the largest packet the link sends in one frame; both ends of a link should "
     "use the same one.",
     "MTU はリンクが 1 フレームで送れる最大のパケットサイズで、リンクの両端でそろえておく"
     "必要があります。"),
    ("why.op.LinkSet.promisc",
     "Promiscuous mode makes the link accept frames addressed to any MAC, not only its own.",
     "プロミスキャスモードにすると、自分宛て以外の MAC アドレス宛てのフレームも受け取ります。"),
    ("why.op.LinkSet.hairpin",
     "Hairpin mode lets the bridge send a frame back out of the port it came in on, so a "
     "container can reach itself through an address on the node.",
     "ヘアピンモードにすると、ブリッジは受信したポートにフレームを送り返せるようになり、"
     "コンテナがノード上のアドレス経由で自分自身にアクセスできるようになります。"),
    ("why.op.LinkSet.up",
     "Setting a link up lets it send and receive; a veth has carrier (LOWER_UP) only when "
     "both ends are up, and then its connected routes appear.",
     "リンクを UP にすると送受信できるようになります。veth は両端が UP のときだけキャリア "
     "(LOWER_UP) が立ち、そのとき直結ルートが現れます。"),
    ("why.op.LinkSet.down",
     "Setting a link down stops it, and the kernel removes the IPv4 routes through it.",
     "リンクを DOWN にすると止まり、カーネルはそのリンクを通る IPv4 ルートを削除します。"),
    ("why.op.LinkSet",
     "This changes a setting of an existing link.",
     "既存のリンクの設定を変更します。"),
    ("why.op.AddrAdd",
     "Adding an IPv4 address to an interface also adds the connected route to its subnet "
     "(proto kernel scope link) while the link is up.",
     "インターフェースに IPv4 アドレスを付けると、リンクが UP の間はそのサブネットへの"
     "直結ルート (proto kernel scope link) も追加されます。"),
    ("why.op.AddrDel",
     "Removing an address also removes the connected route that came with it.",
     "アドレスを削除すると、一緒に作られた直結ルートも削除されます。"),
    ("why.op.AddrFlush",
     "Flushing removes every address from the interface (IPv6 link-local ones too), and "
     "the connected routes go with them.",
     "flush するとインターフェースのアドレスが (IPv6 のリンクローカルアドレスも含めて) "
     "すべて消え、直結ルートも一緒に消えます。"),
    ("why.op.RouteAdd.default",
     "The default route sends every packet with no more specific route to the gateway "
     "{via}, which must be reachable on a connected subnet.",
     "デフォルトルートは、より具体的なルートのないパケットをすべてゲートウェイ {via} に"
     "送ります。ゲートウェイは直結サブネット上にある必要があります。"),
    ("why.op.RouteAdd",
     "A route tells the kernel where to send packets for {dst}: out of which interface, "
     "and through which gateway if any.",
     "ルートは {dst} 宛てのパケットをどこへ送るか (どのインターフェースから、必要なら"
     "どのゲートウェイ経由で) をカーネルに教えます。"),
    ("why.op.RouteDel",
     "Deleting the route means packets for {dst} follow the next best route, or fail "
     "with “Network is unreachable”.",
     "ルートを削除すると、{dst} 宛てのパケットは次に合うルートに従い、なければ"
     "「Network is unreachable」で失敗します。"),
    ("why.op.RouteFlush",
     "Flushing deletes every route `ip route show` would list with the same selectors, "
     "connected routes included; they come back only with their address or link.",
     "flush すると、同じ条件の `ip route show` に出るルートがすべて (直結ルートも) 消えます。"
     "直結ルートはアドレスかリンクを設定し直すまで戻りません。"),
    ("why.op.NeighAdd",
     "A static neighbour entry tells the kernel the MAC of {dst} without asking (no ARP "
     "request); a permanent one never expires.",
     "静的な近隣エントリは、{dst} の MAC を問い合わせ (ARP リクエスト) なしでカーネルに教えます。"
     "permanent のエントリは期限切れになりません。"),
    ("why.op.NeighDel",
     "Deleting the entry makes the kernel ask for {dst}'s MAC again the next time it sends there.",
     "エントリを削除すると、次に {dst} へ送るときカーネルは MAC をもう一度問い合わせます。"),
    ("why.op.NeighFlush",
     "Flushing forgets the learned entries; permanent ones stay.",
     "flush すると学習したエントリが消えます。permanent のエントリは残ります。"),
    ("why.op.RuleAdd",
     "A policy rule decides which routing table a packet's route is looked up in: the kernel "
     "tries the rules by priority (`ip rule`), and the first table with a route wins.",
     "ポリシールールは、パケットのルートをどのルーティングテーブルで探すかを決めます。カーネルは"
     "優先度の順にルールを試し (`ip rule`)、ルートが見つかった最初のテーブルを使います。"),
    ("why.op.RuleDel",
     "Deleting a rule removes the first one matching these selectors; lookups skip its table from now on.",
     "ルールを削除すると、条件に合う最初のルールが消え、以後の検索はそのテーブルを通りません。"),
    ("why.op.RuleFlush",
     "Flushing deletes every rule but those of priority 0 (the local table's): without the "
     "main rule, no route of table main is found any more.",
     "flush すると優先度 0 (local テーブル) 以外のルールがすべて消えます。main のルールがないと、"
     "main テーブルのルートはもう見つかりません。"),
    ("why.op.SysctlSet.ip_forward",
     "net.ipv4.ip_forward=1 lets this namespace route packets between its interfaces; each "
     "namespace has its own setting.",
     "net.ipv4.ip_forward=1 にすると、この名前空間はインターフェース間でパケットを"
     "ルーティングするようになります。この設定は名前空間ごとに独立しています。"),
    ("why.op.SysctlSet",
     "This changes the kernel setting {key}; network settings are separate in each namespace.",
     "カーネルの設定 {key} を変更します。ネットワーク関連の設定は名前空間ごとに独立しています。"),
    ("why.op.Ping",
     "A ping sends ICMP echo requests to {dst} and waits for the replies; on the way the "
     "sender asks for the next hop's MAC with ARP, so neighbour tables (ip neigh) and bridge "
     "FDBs (bridge fdb) fill up.",
     "ping は {dst} に ICMP echo request を送り、応答を待ちます。その途中で送信側は次のホップの "
     "MAC アドレスを ARP で尋ねるので、近隣テーブル (ip neigh) とブリッジの FDB (bridge fdb) "
     "にエントリが増えます。"),
    ("why.op.Iptables.nat",
     "A rule in the nat table rewrites addresses as packets pass: MASQUERADE, for example, "
     "lets containers reach the outside with the node's address.",
     "nat テーブルのルールは通過するパケットのアドレスを書き換えます。たとえば MASQUERADE で、"
     "コンテナはノードのアドレスを使って外部と通信できます。"),
    ("why.op.Iptables",
     "iptables rules live in the namespace's own netfilter; the {table} table decides "
     "what happens to packets passing through.",
     "iptables のルールは名前空間ごとの netfilter にあり、{table} テーブルが通過する"
     "パケットの扱いを決めます。"),
    ("why.op.unknown",
     "This operation changes the kernel's network state.",
     "この操作はカーネルのネットワーク状態を変更します。"),
    # -------------------------------------------------------- scenario: veth-basics
    ("sc.veth-basics.title", "Two namespaces joined by a veth pair",
     "veth ペアでつないだ 2 つの名前空間"),
    ("sc.veth-basics.netns1.title", "Create namespace red", "名前空間 red を作る"),
    ("sc.veth-basics.netns1.why",
     "`ip netns add` makes a new NET_NS with its own links, addresses, routes and iptables. "
     "The kernel puts only a loopback lo in it, DOWN (setup_net()).",
     "`ip netns add` で新しい NET_NS を作ります。リンク、アドレス、ルーティング、iptables は"
     "すべてこの中だけのものです。中にはカーネルが作った lo だけがあり、DOWN のままです "
     "(setup_net())。"),
    ("sc.veth-basics.netns2.title", "Create namespace blue", "名前空間 blue を作る"),
    ("sc.veth-basics.netns2.why",
     "A second namespace, just as empty: red and blue cannot see each other's links.",
     "2 つ目の名前空間も同じく空です。red と blue は互いのリンクを見ることができません。"),
    ("sc.veth-basics.veth.title", "Create the veth pair veth1 / veth2",
     "veth ペア veth1 / veth2 を作る"),
    ("sc.veth-basics.veth.why",
     "A veth pair is two interfaces joined back to back (drivers/net/veth.c): a packet sent "
     "on veth1 comes out of veth2. Both ends start in the node's namespace, DOWN.",
     "veth ペアは背中合わせにつながった 2 つのインターフェースです (drivers/net/veth.c)。"
     "veth1 から送ったパケットは veth2 から出てきます。両端ともノードの名前空間に DOWN の"
     "状態で作られます。"),
    ("sc.veth-basics.move1.title", "Move veth1 into red", "veth1 を red に移す"),
    ("sc.veth-basics.move1.why",
     "`ip link set veth1 netns red` hands veth1 to red's network stack and the node no "
     "longer sees it; veth2 stays behind, so the pair now crosses namespaces.",
     "`ip link set veth1 netns red` で veth1 を red のネットワークスタックに渡すと、ノードからは"
     "見えなくなります。veth2 はノードに残るので、ペアが名前空間をまたぐようになります。"),
    ("sc.veth-basics.move2.title", "Move veth2 into blue", "veth2 を blue に移す"),
    ("sc.veth-basics.move2.why",
     "Now each namespace holds one end: the veth is the only path between red and blue, "
     "and `ip a` shows the peer's namespace as link-netns.",
     "これで各名前空間に片端ずつ入りました。red と blue をつなぐ道はこの veth だけで、"
     "`ip a` には対向側の名前空間が link-netns として表示されます。"),
    ("sc.veth-basics.addr.title", "Give each end an address", "両端にアドレスを付ける"),
    ("sc.veth-basics.addr.why",
     "10.0.0.1/24 in red and 10.0.0.2/24 in blue are on one subnet, so they reach each "
     "other without a router; the links are still DOWN, so no route appears yet.",
     "red の 10.0.0.1/24 と blue の 10.0.0.2/24 は同じサブネットなので、ルーターなしで"
     "互いに届きます。リンクはまだ DOWN なので、ルートはまだ現れません。"),
    ("sc.veth-basics.up.title", "Bring the links up", "リンクを UP にする"),
    ("sc.veth-basics.up.why",
     "A veth has carrier (LOWER_UP) only when both ends are up; then the kernel adds the "
     "connected route 10.0.0.0/24 on each side and `ip netns exec red ping 10.0.0.2` "
     "works (lo goes up too, for 127.0.0.1).",
     "veth は両端が UP になって初めてキャリア (LOWER_UP) が立ちます。するとカーネルが両側に"
     "直結ルート 10.0.0.0/24 を追加し、`ip netns exec red ping 10.0.0.2` が通るように"
     "なります (127.0.0.1 のために lo も UP にします)。"),
    # ------------------------------------------------------------- scenario: bridge
    ("sc.bridge.title", "A bridge joining three namespaces",
     "ブリッジで 3 つの名前空間をつなぐ"),
    ("sc.bridge.br.title", "Create the bridge br0 on the node", "ノードにブリッジ br0 を作る"),
    ("sc.bridge.br.why",
     "A bridge is a switch inside the kernel: it learns which MAC is behind which port (the "
     "FDB) and forwards frames between its ports; until a port works it has NO-CARRIER.",
     "ブリッジはカーネルの中のスイッチです。どのポートの先にどの MAC があるかを学習し (FDB)、"
     "ポート間でフレームを転送します。動いているポートができるまでは NO-CARRIER です。"),
    ("sc.bridge.netns.title", "Create namespace {ns}", "名前空間 {ns} を作る"),
    ("sc.bridge.netns.why",
     "{ns} plays a container: a NET_NS of its own holding only lo, DOWN.",
     "{ns} はコンテナ役です。専用の NET_NS で、中には DOWN の lo だけがあります。"),
    ("sc.bridge.veth.title", "Plug {ns} into br0 with a veth", "{ns} を veth で br0 につなぐ"),
    ("sc.bridge.veth.why",
     "One command makes the pair with eth0 already inside {ns}; the node's end {host} "
     "becomes a port of br0 (master br0), so frames from {ns} reach the bridge.",
     "1 つのコマンドで、eth0 を最初から {ns} に置いた veth ペアを作ります。ノード側の {host} を "
     "br0 のポートにする (master br0) と、{ns} からのフレームがブリッジに届きます。"),
    ("sc.bridge.addr.title", "Address eth0 in {ns} ({ip}) and bring it up",
     "{ns} の eth0 にアドレス ({ip}) を付けて UP にする"),
    ("sc.bridge.addr.why",
     "With eth0 up both ends of the veth are up, so the port {host} starts forwarding and "
     "{ns} gets the route 10.0.0.0/24 dev eth0: every namespace on br0 shares one L2 segment.",
     "eth0 を UP にすると veth の両端が UP になり、ポート {host} が転送を始め、{ns} には "
     "10.0.0.0/24 dev eth0 のルートができます。br0 につながった名前空間はすべて同じ L2 "
     "セグメントにいます。"),
    # ------------------------------------------------------------- scenario: docker
    ("sc.docker-none.title", "docker run --net none", "docker run --net none の場合"),
    ("sc.docker-none.run.title", "docker run --net none: a namespace and nothing else",
     "docker run --net none: 名前空間だけを作る"),
    ("sc.docker-none.run.why",
     "'--net none': docker creates a NET_NS and does nothing else; still, the kernel itself "
     "creates lo in every new NET_NS (net/core/net_namespace.c: setup_net()).",
     "'--net none': NET_NS を作成して、他には何も行いません。それでも lo などのデバイスは、"
     "NET_NS 作成時にカーネルが自動的に作ります (net/core/net_namespace.c: setup_net())。"),
    ("sc.docker-host.title", "docker run --net host", "docker run --net host の場合"),
    ("sc.docker-host.run.title", "docker run --net host: no namespace of its own",
     "docker run --net host: 自分の名前空間を持たない"),
    ("sc.docker-host.run.why",
     "'--net host': docker creates no NET_NS; the container uses the node's as it is, "
     "with the same em1 and addresses (its PIDs are still separate).",
     "'--net host': NET_NS を作成せずに、ホストのものをそのまま流用します。em1 もアドレスも"
     "ホストと同じです (pid は分離されます)。"),
    ("sc.docker-bridge.title", "docker run --net bridge", "docker run --net bridge の場合"),
    ("sc.docker-bridge.run.title", "docker run --net bridge web: a namespace wired to docker0",
     "docker run --net bridge web: 名前空間を作って docker0 につなぐ"),
    ("sc.docker-bridge.run.why",
     "'--net bridge': docker creates a NET_NS and joins it with a veth pair to the bridge "
     "docker0 in the node's NET_NS; the container's end is renamed eth0.",
     "'--net bridge': NET_NS を作成して、ホストの NET_NS にあるブリッジ (docker0) と veth で"
     "接続します。コンテナ側の端は eth0 という名前になります。"),
    ("sc.docker-bridge.second.title", "docker run --net bridge db: a second container",
     "docker run --net bridge db: 2 つ目のコンテナ"),
    ("sc.docker-bridge.second.why",
     "Each container gets its own NET_NS and veth pair; docker0 switches between the ports, "
     "so web and db reach each other on 172.17.0.0/16.",
     "コンテナごとに専用の NET_NS と veth ペアができ、docker0 がポート間を中継するので、"
     "web と db は 172.17.0.0/16 で互いに通信できます。"),
    ("sc.docker-container.title", "docker run --net container:NAME",
     "docker run --net container:NAME の場合"),
    ("sc.docker-container.first.title", "docker run --net bridge web: first, an ordinary container",
     "docker run --net bridge web: 先に 1 つ目のコンテナを起動"),
    ("sc.docker-container.first.why",
     "First an ordinary container on docker0, with its own NET_NS, veth and eth0.",
     "まず docker0 につながった普通のコンテナを起動します。専用の NET_NS、veth、eth0 を"
     "持っています。"),
    ("sc.docker-container.join.title",
     "docker run --net container:web sidecar: share web's namespace",
     "docker run --net container:web sidecar: web の名前空間を共有する"),
    ("sc.docker-container.join.why",
     "'--net container:web' creates no NET_NS: sidecar joins web's, so both see the same lo "
     "and eth0 and talk over localhost (a Kubernetes pod shares its sandbox the same way).",
     "'--net container:web' では NET_NS を作らず、sidecar は web の NET_NS に参加します。両者は"
     "同じ lo と eth0 を共有し、localhost で通信できます (k8s の Pod も同じ方法でサンドボックス"
     "を共有します)。"),
    # ---------------------------------------------------------------- scenario: k8s
    ("sc.k8s.title", "A Kubernetes pod: docker --net none, then CNI",
     "k8s の Pod: docker は --net none、ネットワークは CNI"),
    ("sc.k8s.start.title", "kubelet starts the pod with --net none, then calls CNI",
     "kubelet が --net none で Pod を起動し、CNI を呼ぶ"),
    ("sc.k8s.start.why",
     "kubelet has docker start the container with --net none (NetworkMode = \"none\" through "
     "the docker API), so docker sees no network; then kubelet runs the CNI plugin (ADD) "
     "to add eth0 to the container's NET_NS.",
     "kubelet は docker に --net none でコンテナを起動させます (実際には docker API 経由で "
     "NetworkMode = \"none\")。そのため docker から見るとネットワークはありません。その後 "
     "kubelet が CNI プラグイン (ADD) を実行し、コンテナの NET_NS に eth0 を追加します。"),
    ("sc.k8s.result.title", "docker says no network; Kubernetes says there is one",
     "docker はネットワークなし、k8s はネットワークありと言う"),
    ("sc.k8s.result.why",
     "docker inspect shows no network for the container, kubectl get pod -o wide shows its "
     "IP, and ip a inside it shows eth0: the network is real, but CNI made it, not docker.",
     "docker inspect ではネットワークなし、kubectl get pod -o wide では IP あり、コンテナ内の "
     "ip a では eth0 が見えます。ネットワークは実在しますが、作ったのは docker ではなく CNI "
     "です。"),
)

#: key -> text, per language.
CATALOG: dict[str, dict[str, str]] = {
    "en": {key: en for key, en, _ in _ENTRIES},
    "ja": {key: ja for key, _, ja in _ENTRIES},
}

#: Keys whose Japanese text may equal the English one (command names read the same).
SAME_OK: frozenset[str] = frozenset()


def _initial_language() -> str:
    lang = os.environ.get("SIMLAB_LANG", "").strip().lower()
    return lang if lang in LANGUAGES else LANGUAGES[0]


_language = _initial_language()
shown_language(_language)


def set_language(lang: str) -> None:
    """Choose the language of simlab's messages for this process ("en" or "ja").

    >>> set_language("ja"); get_language()
    'ja'
    >>> set_language("en")
    """
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    _language = lang
    shown_language(lang)  # print(walk) and other model results follow it


def get_language() -> str:
    """The current language ("en" unless set_language() or SIMLAB_LANG chose another)."""
    return _language


def _resolve(lang: str | None) -> str:
    return _language if lang is None else lang


def t(key: str, lang: str | None = None, /, **params) -> str:
    """The message ``key`` in ``lang`` (default: the current language), fields filled in.

    Falls back to English, then to the key itself.  ``lang`` may also be given by
    keyword; any other keyword fills a field (even ``key``).

    >>> t("nav.next", "ja")
    '次へ'
    """
    if lang is None and "lang" in params:
        lang = params.pop("lang")
    lang = _resolve(lang)
    template = CATALOG.get(lang, {}).get(key) or CATALOG["en"].get(key) or key
    return template.format(**params) if params else template


def both(key: str, /, **params) -> Text:
    """The catalogue's message as a :class:`Text`, e.g. a step's title or why.

    >>> both("sc.bridge.netns.title", ns="ns1")["ja"]
    '名前空間 ns1 を作る'
    """
    return Text(t(key, "en", **params), t(key, "ja", **params))


def fields_of(template: str) -> set[str]:
    """The ``{field}`` names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# ---------------------------------------------------------------- inline pairs
# Text and say live in the model (which imports nothing outside itself, and raises
# errors with bilingual hints) and are re-exported here, where simlab looks for its words.


def in_language(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` when it is a :class:`Text`, else ``text`` as it is."""
    return text.in_(_resolve(lang)) if isinstance(text, Text) else text


# ---------------------------------------------------------------- why_for
def _why_key(op) -> tuple[str, dict]:
    """Catalogue key and fields that explain ``op``; the most telling change wins."""
    name = type(op).__name__
    get = lambda attr: getattr(op, attr, None)  # noqa: E731
    if name == "LinkAdd":
        kind = get("kind")
        key = f"why.op.LinkAdd.{kind}"
        return (key if key in CATALOG["en"] else "why.op.LinkAdd"), {"kind": kind}
    if name == "LinkSet":
        if get("to_netns") is not None:
            return "why.op.LinkSet.to_netns", {}
        if get("master") is not None:
            return ("why.op.LinkSet.master" if get("master") else "why.op.LinkSet.nomaster"), {}
        for attr in ("name", "mac", "mtu", "promisc", "hairpin"):
            if get(attr) is not None:
                return f"why.op.LinkSet.{attr}", {}
        if get("up") is not None:
            return ("why.op.LinkSet.up" if get("up") else "why.op.LinkSet.down"), {}
        return "why.op.LinkSet", {}
    if name == "RouteAdd":
        if get("dst") == "default" and get("via"):
            return "why.op.RouteAdd.default", {"via": get("via")}
        return "why.op.RouteAdd", {"dst": get("dst")}
    if name == "RouteDel":
        return "why.op.RouteDel", {"dst": get("dst")}
    if name in ("NeighAdd", "NeighDel"):
        return f"why.op.{name}", {"dst": get("dst")}
    if name == "SysctlSet":
        if get("key") == "net.ipv4.ip_forward" and str(get("value")) == "1":
            return "why.op.SysctlSet.ip_forward", {}
        return "why.op.SysctlSet", {"key": get("key")}
    if name == "Ping":
        return "why.op.Ping", {"dst": get("dst")}
    if name == "Iptables":
        if get("table") == "nat":
            return "why.op.Iptables.nat", {}
        return "why.op.Iptables", {"table": get("table")}
    key = f"why.op.{name}"
    return (key if key in CATALOG["en"] else "why.op.unknown"), {}


def why_for(op, lang: str | None = None) -> str:
    """One sentence on what ``op`` does in the kernel, in ``lang``.

    >>> from simlab.model import LinkAdd
    >>> print(why_for(LinkAdd("veth1", "veth", peer="veth2"), "en"))
    A veth pair is two network interfaces joined back to back: what enters one leaves the other.
    """
    key, params = _why_key(op)
    return t(key, lang, **params)


def why_text(op) -> Text:
    """:func:`why_for` in every language, ready to be a step's ``why``."""
    key, params = _why_key(op)
    return both(key, **params)


def why_for_ops(ops: Iterable, lang: str | None = None) -> str:
    """The why of a step made of ``ops``: each distinct sentence once, in order."""
    seen: list[str] = []
    for op in ops:
        sentence = why_for(op, lang)
        if sentence not in seen:
            seen.append(sentence)
    return " ".join(seen)


def _check(catalog: Mapping[str, Mapping[str, str]] = CATALOG) -> list[str]:
    """Problems in the catalogue (used by the tests): missing, copied or mismatched texts."""
    problems = []
    for key, en in catalog["en"].items():
        for lang in LANGUAGES[1:]:
            other = catalog.get(lang, {}).get(key)
            if not other:
                problems.append(f"{key}: no {lang} text")
                continue
            if other == en and key not in SAME_OK:
                problems.append(f"{key}: the {lang} text is a copy of the English one")
            if fields_of(other) != fields_of(en):
                problems.append(f"{key}: {lang} fields {sorted(fields_of(other))} "
                                f"!= en fields {sorted(fields_of(en))}")
    for lang in LANGUAGES[1:]:
        for key in catalog.get(lang, {}):
            if key not in catalog["en"]:
                problems.append(f"{key}: {lang} text without an English one")
    return problems
