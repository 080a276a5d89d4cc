"""01_namespaces_and_veth: slides 1 to 6."""

from _build import cleanup, code, header, md, reveal, setup, solution, task


def cells():
    return [
        header(
            "01 · Network namespaces and veth pairs", "01 · ネットワーク名前空間と veth ペア",
            covers_en="""
            A container's `ip a` shows `32: eth0@if33: ... link-netnsid 0` (slide 1). By the end of
            this notebook you can read every part of that line, because you will have built it:
            what a network namespace isolates (slides 5 and 6), `ip netns add`, a veth pair, moving
            one end into a namespace, addresses, and a ping from one namespace to another.
            Then two tasks: connect two namespaces yourself, and explain a ping that fails.
            """,
            covers_ja="""
            コンテナの中で `ip a` を打つと `32: eth0@if33: ... link-netnsid 0` と出ます（スライド 1）。
            このノートブックを終えるころには、この行のどの部分も読めるようになります。自分で作るから
            です。ネットワーク名前空間が何を分離するか（スライド 5、6）、`ip netns add`、veth ペア、
            片端を名前空間へ移すこと、アドレス、名前空間から名前空間への ping。最後に課題が二つ:
            自分で二つの名前空間をつなぐことと、失敗する ping の理由を説明することです。
            """,
            minutes=30),
        setup(),
        md("""
           ## The line we want to understand (slide 1)

           ```
           [root@5c747e947ec9 /]# ip a
           1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1
               inet 127.0.0.1/8 scope host lo
           32: eth0@if33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP
               link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
               inet 172.17.0.2/16 scope global eth0
           ```

           Inside the container there are only `lo` and `eth0`, although the host has many more
           interfaces. `eth0` is numbered 32 and has something called `if33` after an `@`. And what
           is `link-netnsid 0`?
           """,
           """
           ## 理解したい 1 行（スライド 1）

           ```
           [root@5c747e947ec9 /]# ip a
           1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1
               inet 127.0.0.1/8 scope host lo
           32: eth0@if33: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP
               link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
               inet 172.17.0.2/16 scope global eth0
           ```

           ホストにはもっと多くのインターフェースがあるのに、コンテナの中には `lo` と `eth0` しか
           ありません。`eth0` は 32 番で、`@` の後ろに `if33` というものが付いています。そして
           `link-netnsid 0` とは何でしょう？
           """),
        md("""
           ## 1. What a network namespace isolates (slides 5 and 6)

           _Route: 60 min (4 min) · 90 min (4 min)_

           Linux separates a container from its host with **namespaces**: PID (process ids), NET
           (the network), USER (user ids and privileges), IPC (message queues, shared memory), UTS
           (the host name), and more. The network namespace (`NET_NS`,
           `include/net/net_namespace.h`) gives each container its own:

           * network devices (`ip link`) and their addresses;
           * IPv4 and IPv6, each with its ARP/neighbour table and its routing table;
           * Unix domain sockets (the abstract namespace);
           * netfilter (the `iptables` rules) and conntrack (the NAT table);
           * sysctls under `net.*`, for example `net.ipv4.ip_forward`;
           * and the rest: MPLS, SCTP, …

           `ip netns add NAME` creates one and keeps it alive by bind-mounting it on
           `/run/netns/NAME`; `ip -n NAME ...` runs an `ip` command inside it.
           """,
           """
           ## 1. ネットワーク名前空間が分離するもの（スライド 5、6）

           _コース：60 分（4 分）・90 分（4 分）_

           Linux はコンテナとホストを**名前空間**で分離します。PID（プロセス ID）、NET
           （ネットワーク）、USER（ユーザーと権限）、IPC（メッセージキュー、共有メモリ）、UTS
           （ホスト名）などです。ネットワーク名前空間（`NET_NS`、`include/net/net_namespace.h`）は
           コンテナごとに次のものを分けます。

           * ネットワークデバイス（`ip link`）とそのアドレス
           * IPv4 と IPv6（それぞれ ARP/近隣テーブルとルーティングテーブルを含む）
           * Unix ドメインソケット（抽象名前空間）
           * netfilter（`iptables` のルール）と conntrack（NAT テーブル）
           * `net.*` の sysctl（例: `net.ipv4.ip_forward`）
           * その他（MPLS、SCTP など）

           `ip netns add NAME` は名前空間を作り、`/run/netns/NAME` にバインドマウントして残します。
           `ip -n NAME ...` はその中で `ip` コマンドを実行します。
           """),
        reveal(
            "You create a brand-new namespace `red`. What will `ip -n red a` show, and in which "
            "state?",
            "Only **`lo`**, and it is **DOWN** (`<LOOPBACK>`, `state DOWN`, no `127.0.0.1` yet). "
            "The kernel creates a loopback device in every new namespace (`setup_net()` in "
            "`net/core/net_namespace.c`, slide 9), but nobody has brought it up. Some kernels also "
            "show tunnel fallback devices such as `sit0@NONE` or `ip6tnl0@NONE` (slide 1) when "
            "their modules are loaded; they stay DOWN.",
            "新しい名前空間 `red` を作ります。`ip -n red a` には何が、どんな状態で表示されるでしょう？",
            "**`lo` だけ**で、しかも **DOWN** です（`<LOOPBACK>`、`state DOWN`、`127.0.0.1` もまだ"
            "ありません）。カーネルは新しい名前空間ごとにループバックデバイスを作ります"
            "（`net/core/net_namespace.c` の `setup_net()`、スライド 9）が、UP にする人はいません。"
            "モジュールが読み込まれていれば、`sit0@NONE` や `ip6tnl0@NONE`（スライド 1）のような"
            "トンネルのフォールバックデバイスも見えますが、これも DOWN のままです。"),
        code("""
             lab.ip("netns add red")
             lab.ip("netns add blue")
             print(lab.ip("netns"))
             print(lab.ip("-n red a"))
             """),
        md("""
           The lab's **node** (the machine the containers run on) is a namespace of its own: plain
           `lab.ip("a")`, without `-n`, looks there. It does not see `red`'s `lo`, and `red` does
           not see the node's links. (On the kernel backend the node is itself a namespace the lab
           made, so your real machine is never touched.)
           """,
           """
           ラボの**ノード**（コンテナが動くマシン）もそれ自体が一つの名前空間です。`-n` なしの
           `lab.ip("a")` はそこを見ます。ノードからは `red` の `lo` は見えず、`red` からはノードの
           リンクが見えません。（kernel バックエンドではノードもラボが作った名前空間なので、
           あなたの本物のマシンには一切触れません。）
           """),
        code("""
             print(lab.ip("a"))
             """),
        md("""
           ## 2. veth: a cable with two ends (slide 4)

           _Route: 60 min (4 min) · 90 min (4 min)_

           A **veth** is a virtual L2 interface the kernel provides (`drivers/net/veth.c`, it came
           from OpenVZ). veths always come in pairs and are point-to-point: a frame sent on one
           end comes out of the other, and each end has exactly one partner. They are created
           together:

           ```
           ip link add veth1 type veth peer name veth2
           ```
           """,
           """
           ## 2. veth: 両端のあるケーブル（スライド 4）

           _コース：60 分（4 分）・90 分（4 分）_

           **veth** はカーネルが提供する L2 の仮想インターフェースです（`drivers/net/veth.c`、
           OpenVZ 由来）。veth は必ずペアで、1 対 1（P2P）で接続されます。片方の端から送った
           フレームはもう片方の端から出てきて、相手はいつも一つだけです。ペアは一度に作ります。

           ```
           ip link add veth1 type veth peer name veth2
           ```
           """),
        reveal(
            "Both ends are created by one command. Which one gets the lower interface number "
            "(ifindex), `veth1` or its peer `veth2`?",
            "**`veth2`**, the peer. The kernel registers the peer device first, then the one you "
            "named, so the peer gets the lower ifindex. In `ip link` each end shows the other after "
            "the `@`: `veth1@veth2` and `veth2@veth1`.",
            "両端は一つのコマンドで作られます。小さいインターフェース番号（ifindex）をもらうのは "
            "`veth1` と対向の `veth2` のどちらでしょう？",
            "対向の **`veth2`** です。カーネルは先に対向のデバイスを登録し、次に名前を指定した方を"
            "登録するので、対向のほうが ifindex が小さくなります。`ip link` では各端の `@` の後ろに"
            "相手が表示されます: `veth1@veth2` と `veth2@veth1`。"),
        code("""
             lab.ip("link add veth1 type veth peer name veth2")
             print(lab.ip("link"))
             """),
        md("""
           ## 3. Moving an end into a namespace

           _Route: 60 min (4 min) · 90 min (4 min)_

           `ip link set veth1 netns red` moves one end into `red`. The cable stays connected; its
           two ends now live in two namespaces. That is exactly what a container's `eth0` is: one
           end of a veth inside the container, the other end on the host.
           """,
           """
           ## 3. 端を名前空間へ移す

           _コース：60 分（4 分）・90 分（4 分）_

           `ip link set veth1 netns red` は片端を `red` に移します。ケーブルはつながったまま、
           両端が二つの名前空間に分かれます。これがまさにコンテナの `eth0` の正体です。veth の片端が
           コンテナの中に、もう片端がホストにあるのです。
           """),
        reveal(
            "After the move, what will the node's `ip link` print for `veth2`: still "
            "`veth2@veth1`?",
            "No: **`veth2@if3`** (some number), followed by **`link-netns red`**. `veth1` is no "
            "longer in this namespace, so `ip` cannot print its name; it prints the peer's ifindex "
            "in the other namespace instead (`@ifN`), and which namespace that is. Moving a link "
            "also resets it: its addresses are dropped and it is DOWN.",
            "移した後、ノードの `ip link` は `veth2` をどう表示するでしょう？ `veth2@veth1` のまま？",
            "いいえ。**`veth2@if3`**（何かの番号）と、その後ろに **`link-netns red`** が出ます。"
            "`veth1` はもうこの名前空間にないので、`ip` はその名前を表示できません。代わりに、"
            "もう一方の名前空間での対向の ifindex（`@ifN`）と、それがどの名前空間かを表示します。"
            "リンクを移すとリセットもされます。アドレスは消え、DOWN になります。"),
        code("""
             lab.ip("link set veth1 netns red")
             print(lab.ip("link"))
             """),
        md("""
           Now the other end goes to `blue`. Each end names its peer by number and namespace.
           """,
           """
           もう片端を `blue` に移します。各端は対向を番号と名前空間で示します。
           """),
        code("""
             lab.ip("link set veth2 netns blue")
             print(lab.ip("-n red link"))
             print(lab.ip("-n blue link"))
             """),
        md("""
           ## 4. Reading `eth0@if33` and `link-netnsid` (slides 2 and 3)

           _Route: 60 min (5 min) · 90 min (5 min)_

           `ip -d link` (details) adds the link's kind (`veth`) to what `ip link` shows:
           """,
           """
           ## 4. `eth0@if33` と `link-netnsid` を読む（スライド 2、3）

           _コース：60 分（5 分）・90 分（5 分）_

           `ip -d link`（詳細）は `ip link` の表示にリンクの種類（`veth`）を加えます。
           """),
        code("""
             print(lab.ip("-d -n red link show veth1"))
             """),
        md("""
           Now the slide's line reads like this:

           | part | netlink attribute | meaning |
           |---|---|---|
           | `32:` | `ifi_index` | the interface's number **in this namespace** |
           | `eth0` | `IFLA_IFNAME` | its name |
           | `@if33` | `IFLA_LINK` | the peer's ifindex; `@` + a name when the peer is in the same namespace |
           | `link-netnsid 0` | `IFLA_LINK_NETNSID` | the peer's namespace, as an id this namespace gave it |
           | `veth` (with `-d`) | `IFLA_INFO_KIND` | the kind: a virtual L2 interface from the kernel |

           So the container's `eth0` is one end of a veth whose other end is interface 33 in
           namespace 0 (the host, as the container numbers it). Why does our lab print
           `link-netns red` instead of `link-netnsid 0`? `ip` prints a **name** when it finds the
           peer's namespace mounted under `/run/netns` (as `ip netns add` does); docker keeps its
           namespaces under `/var/run/docker/netns`, so `ip` can only print the **id**.
           """,
           """
           これでスライドの行は次のように読めます。

           | 部分 | netlink 属性 | 意味 |
           |---|---|---|
           | `32:` | `ifi_index` | **この名前空間での**インターフェース番号 |
           | `eth0` | `IFLA_IFNAME` | 名前 |
           | `@if33` | `IFLA_LINK` | 対向の ifindex。対向が同じ名前空間にいれば `@` + 名前 |
           | `link-netnsid 0` | `IFLA_LINK_NETNSID` | 対向のいる名前空間を、この名前空間が付けた ID で示したもの |
           | `veth`（`-d` のとき） | `IFLA_INFO_KIND` | 種類: カーネルが提供する L2 仮想インターフェース |

           つまりコンテナの `eth0` は veth の片端で、もう片端は名前空間 0（コンテナから見たホスト）
           の 33 番のインターフェースです。このラボではなぜ `link-netnsid 0` ではなく
           `link-netns red` と表示されるのでしょう？ `ip` は対向の名前空間が `/run/netns` の下に
           マウントされていれば（`ip netns add` はそうします）**名前**を表示します。docker は名前空間を
           `/var/run/docker/netns` の下に置くので、`ip` は **ID** しか表示できません。
           """),
        md("""
           ## 5. Addresses, and bringing the ends up

           _Route: 60 min (4 min) · 90 min (4 min)_
           """,
           """
           ## 5. アドレスを付けて、両端を UP にする

           _コース：60 分（4 分）・90 分（4 分）_
           """),
        reveal(
            "We give both ends an address and bring up only `veth1` (in `red`). Will `veth1` show "
            "`LOWER_UP`?",
            "No. `veth1` shows **`NO-CARRIER`** and `state LOWERLAYERDOWN`: a veth has carrier only "
            "when **both** ends are up (the other end is its \"cable\"). As soon as `veth2` is up "
            "too, both show `UP,LOWER_UP` and `state UP`.",
            "両端にアドレスを付け、`veth1`（`red` 側）だけを UP にします。`veth1` に `LOWER_UP` は"
            "出るでしょうか？",
            "出ません。`veth1` は **`NO-CARRIER`**、`state LOWERLAYERDOWN` になります。veth は"
            "**両端**が UP のときだけキャリアがあります（対向が「ケーブル」だからです）。`veth2` も "
            "UP にすると、両方とも `UP,LOWER_UP`、`state UP` になります。"),
        code("""
             lab.ip("-n red addr add 10.0.0.1/24 dev veth1")
             lab.ip("-n blue addr add 10.0.0.2/24 dev veth2")
             lab.ip("-n red link set veth1 up")
             print(lab.ip("-n red link show veth1"))
             """),
        code("""
             lab.ip("-n blue link set veth2 up")
             lab.ip("-n red link set lo up")
             lab.ip("-n blue link set lo up")
             print(lab.ip("-n red a"))
             """),
        md("""
           ## 6. Ping from `red` to `blue`

           _Route: 60 min (4 min) · 90 min (4 min)_

           `simlab.reach(snapshot, src, dst)` walks one packet through a snapshot of
           the network, the way the kernel would: the route lookup, ARP, the veth to its peer, the
           delivery, and the reply. Each hop says what happened and why. It works on both
           backends, because it reads the state, not the machine.
           """,
           """
           ## 6. `red` から `blue` へ ping

           _コース：60 分（4 分）・90 分（4 分）_

           `simlab.reach(スナップショット, 送信元, 宛先)` は、ネットワークのスナップ
           ショットの中でパケットを一つ、カーネルと同じように歩かせます。ルート検索、ARP、veth から
           対向へ、配送、そして応答。各ホップが何が起きたか、なぜかを説明します。機械ではなく状態を
           読むので、どちらのバックエンドでも動きます。
           """),
        code("""
             walk = simlab.reach(lab.snapshot(), "red", "10.0.0.2")
             print(walk)
             """),
        md("""
           In Japanese: `print("\\n".join(walk.lines("ja")))`. On the kernel backend you can also
           check with a real ping from a terminal (as root): `ip netns` lists the lab's namespaces
           under their real, prefixed names.
           """,
           """
           日本語で読むには `print("\\n".join(walk.lines("ja")))` です。kernel バックエンドなら
           ターミナル（root）から本物の ping でも確かめられます。`ip netns` でラボの名前空間が、
           接頭辞の付いた本当の名前で表示されます。
           """),
        code("""
             print("\\n".join(walk.lines(LANG)))
             """),
        md("""
           ### Now send it: `lab.ping`

           `reach` only reads the snapshot. `lab.ping("red", "10.0.0.2")` sends the echo: on the
           kernel backend a real one from inside `red`, on the model the same walk. It prints
           what `ping` prints (simlab leaves out the times) and becomes a step of its own.

           **Predict, then reveal:** after one ping, which namespace knows the other's MAC
           address: `red`, `blue`, or both?

           <details><summary>Answer</summary>

           Both. To send, `red` asked "who has 10.0.0.2?" (ARP) and keeps the answer in its
           neighbour table as `REACHABLE`. `blue` learnt `red`'s MAC from that very question and
           keeps it as `DELAY`: it used the entry for its reply without having checked it, so the
           kernel checks it 5 seconds later and then shows `REACHABLE` (the model has no clock:
           its entries stay as the ping left them). A second ping needs no ARP at all.

           </details>
           """,
           """
           ### 実際に送る: `lab.ping`

           `reach` はスナップショットを読むだけです。`lab.ping("red", "10.0.0.2")` は echo を
           実際に送ります。kernel バックエンドでは `red` の中から本物を、モデルでは同じ道筋を
           たどります。`ping` と同じ表示（時間は省略）をし、それ自体が一つのステップになります。

           **予想してから答え合わせ:** ping を一度送ったあと、相手の MAC アドレスを知っているのは
           `red`、`blue`、それとも両方？

           <details><summary>答え</summary>

           両方です。送るために `red` は「10.0.0.2 は誰？」と ARP で尋ね、その答えを近隣テーブルに
           `REACHABLE` として残します。`blue` はその問い合わせから `red` の MAC を覚え、`DELAY`
           として残します。確かめないまま応答に使ったので、カーネルは 5 秒後に確認してから
           `REACHABLE` にします（モデルには時計がないので、ping の直後の状態のままです）。
           二回目の ping では ARP はもう要りません。

           </details>
           """),
        code("""
             print(lab.ping("red", "10.0.0.2", count=2))
             print(lab.ip("-n red neigh"), end="")
             print(lab.ip("-n blue neigh"), end="")
             """),
        md("""
           ## 7. Everything you did, step by step

           _Route: optional (60 min and 90 min)_

           The stepper replays this notebook's steps in the browser: Next, Back and the slider
           need no Python. The step each change is in lights up and the rest dims. Click a
           namespace (or an interface) to see its `ip a`, `ip route`, `ip neigh` and `bridge fdb`
           at that step. The last steps are the pings: press **Play packet** to watch the echo
           request (R) and its reply (A) travel hop by hop, with the event list and the headers
           beside the picture.
           """,
           """
           ## 7. ここまでの操作を一歩ずつ

           _コース：省略可（60 分・90 分）_

           ステッパーはこのノートブックのステップをブラウザの中で再生します。次へ・戻る・スライダーは
           Python を待ちません。各ステップで変わったものが強調され、ほかは薄くなります。名前空間
           （またはインターフェース）をクリックすると、そのステップでの `ip a`、`ip route`、
           `ip neigh`、`bridge fdb` が表示されます。最後のステップは ping です。**パケットを再生**
           を押すと、エコー要求 (R) と応答 (A) がホップごとに進み、イベントの一覧とヘッダが図の
           横で一緒に動きます。
           """),
        code("""
             stepper = simlab.widgets.Stepper(lab, ns="red", lang=LANG)
             stepper
             """, tags=("stepper",)),
        md("""
           `reach` walks you computed yourself play on the same picture: this plays section 6's
           walk at the step shown.
           """,
           """
           自分で計算した `reach` の結果も同じ図の上で再生できます。6 節の walk を、表示中の
           ステップで再生します。
           """),
        code("""
             stepper.play_walk(walk)
             """),
        task(
            "connect two namespaces",
            """
            Create two namespaces **`pink`** and **`cyan`** and connect them so that `pink` can ping
            `cyan`. Choose any names for the veth ends and any subnet. Write your commands in the
            next cell (`lab.ip("...")`), then run the check. If it says ✘, its hint names the first
            thing that is missing.
            """,
            "二つの名前空間をつなぐ",
            """
            名前空間 **`pink`** と **`cyan`** を作り、`pink` から `cyan` に ping が届くようにつない
            でください。veth の端の名前やサブネットは自由です。次のセルにコマンド（`lab.ip("...")`）
            を書いてから、チェックを実行します。✘ が出たら、ヒントが最初に足りないものを教えます。
            """),
        code("""
             # Your commands here / ここにコマンドを書く:
             # lab.ip("...")
             """, tags=("answer",)),
        code("""
             ex.check_connected(lab, "pink", "cyan", lang=LANG)
             """, tags=("check",)),
        md("""
           **Solution.** Try first! The cell below is collapsed; click `…` to open it. It removes
           what your attempt may have left in `pink` and `cyan`, then builds the answer.
           """,
           """
           **解答例。** まず自分でやってみましょう！下のセルは折りたたまれています。`…` を
           クリックすると開きます。あなたの試みが `pink` と `cyan` に残したものを消してから、
           答えを組み立てます。
           """),
        solution("""
                 for ns in ("pink", "cyan"):
                     lab.run(f"ip netns del {ns}")   # run() never raises: fine if it is not there
                 lab.ip("netns add pink")
                 lab.ip("netns add cyan")
                 lab.ip("-n pink link add pk0 type veth peer name cy0 netns cyan")
                 lab.ip("-n pink addr add 192.168.50.1/24 dev pk0")
                 lab.ip("-n cyan addr add 192.168.50.2/24 dev cy0")
                 lab.ip("-n pink link set pk0 up")
                 lab.ip("-n cyan link set cy0 up")
                 ex.check_connected(lab, "pink", "cyan", lang=LANG)
                 """),
        task(
            "why can't `green` ping itself?",
            """
            A fresh namespace `green` cannot even reach `127.0.0.1`. First predict why, then run
            the cell and read the last hop. Then fix it (one command) and run the check.
            """,
            "`green` はなぜ自分自身に ping できない？",
            """
            作ったばかりの名前空間 `green` は `127.0.0.1` にすら届きません。まず理由を予想し、セルを
            実行して最後のホップを読んでください。それから（コマンド一つで）直し、チェックを実行します。
            """),
        code("""
             lab.ip("netns add green")
             ex.check_reach(lab, "green", "127.0.0.1", lang=LANG)
             """),
        reveal(
            "Why does the packet not even leave `green`?",
            "Because `lo` is **DOWN**. A new namespace's `lo` has no `127.0.0.1/8` route until it "
            "is up, so the kernel finds no route for 127.0.0.1: *Network is unreachable*. Containers "
            "work because the runtime brings `lo` up (docker: `loopbackUp` when it makes the "
            "sandbox; Kubernetes: the `loopback` CNI plugin).",
            "パケットはなぜ `green` から出ることすらできないのでしょう？",
            "`lo` が **DOWN** だからです。新しい名前空間の `lo` は UP になるまで `127.0.0.1/8` の"
            "ルートを持たないので、カーネルは 127.0.0.1 へのルートを見つけられず、*Network is "
            "unreachable* になります。コンテナで困らないのは、ランタイムが `lo` を UP にするから"
            "です（docker はサンドボックスを作るときに `loopbackUp`、Kubernetes は `loopback` CNI "
            "プラグイン）。"),
        code("""
             # Your fix here / ここに修正を書く:
             """, tags=("answer",)),
        solution("""
                 lab.ip("-n green link set lo up")
                 ex.check_reach(lab, "green", "127.0.0.1", lang=LANG)
                 """),
        task(
            "find what is broken",
            """
            The collapsed cell below builds `left` and `right`, joined by a veth pair
            (`10.9.0.1/24` and `10.9.0.2/24`), with **one fault**: `left` cannot ping `right`.
            Do not open it: investigate as on a real machine (`ip -n left a`, `ip -n right link`,
            `ip -n left route`, `lab.ping("left", "10.9.0.2")`), find the fault, fix it with one
            command, then run the check. Its hint names the fault if you are stuck.
            """,
            "壊れた所を探す",
            """
            下の折りたたまれたセルは、veth ペア（`10.9.0.1/24` と `10.9.0.2/24`）でつながった `left` と
            `right` を作りますが、**故障が一つ**あり、`left` から `right` に ping が届きません。セルは
            開かずに、本物のマシンと同じように調べてください（`ip -n left a`、`ip -n right link`、
            `ip -n left route`、`lab.ping("left", "10.9.0.2")`）。故障を見つけたらコマンド一つで直し、
            チェックを実行します。行き詰まったら、チェックのヒントが故障を教えます。
            """),
        code("""
             # The broken lab: open it after you found the fault / 壊れたラボ（故障を見つけてから開く）
             for ns in ("left", "right"):
                 lab.run(f"ip netns del {ns}")  # run() never raises: fine if it is not there
                 lab.ip(f"netns add {ns}")
             lab.ip("-n left link add lv0 type veth peer name rv0 netns right")
             for ns, dev, address in (("left", "lv0", "10.9.0.1"), ("right", "rv0", "10.9.0.2")):
                 lab.ip(f"-n {ns} addr add {address}/24 dev {dev}")
             lab.ip("-n left link set lv0 up")
             print(lab.ping("left", "10.9.0.2"))
             """, tags=("fault",), hidden=True),
        code("""
             # Investigate and fix here / ここで調べて直す:
             print(lab.ip("-n left -br a"))
             """, tags=("answer",)),
        code("""
             ex.check_connected(lab, "left", "right", lang=LANG)
             """, tags=("check",)),
        solution("""
                 lab.ip("-n right link set rv0 up")  # the fault: right's end was never brought up
                 ex.check_connected(lab, "left", "right", lang=LANG)
                 """),
        md("""
           Next: [02_docker_network_modes](02_docker_network_modes.ipynb): what `docker run` does
           with these same pieces.
           """,
           """
           次は [02_docker_network_modes](02_docker_network_modes.ipynb)。`docker run` が同じ部品で
           何をするかを見ます。
           """),
        *cleanup(),
    ]
