"""02_docker_network_modes: slides 7 to 10."""

from _build import cleanup, code, header, md, reveal, setup, solution, task


def cells():
    return [
        header(
            "02 · Docker's network modes", "02 · Docker のネットワークモード",
            covers_en="""
            What `docker run` does to the kernel in each network mode: `--net none`, `--net host`,
            `--net bridge` (the default) and `--net container:X`, one at a time with the stepper,
            then side by side. Then `docker inspect` (slide 10), the NAT and filter rules docker
            writes (docker 17.06, the talk's era), and a published port. Tasks: explain why the
            `none` container cannot ping, give it a network by hand, publish a port by hand, and
            find why a Kubernetes pod cannot reach a container on `docker0` (the 2017 incident).
            """,
            covers_ja="""
            `docker run` が各ネットワークモードでカーネルに何をするか。`--net none`、`--net host`、
            `--net bridge`（既定）、`--net container:X` を一つずつステッパーで見てから、並べて比べます。
            続いて `docker inspect`（スライド 10）、docker が書く NAT と filter のルール（トークと
            同じ時代の docker 17.06）、公開ポート。課題は、`none` のコンテナが ping できない理由の
            説明、手作業でネットワークを与えること、手作業でポートを公開すること、そして
            Kubernetes の Pod が `docker0` 上のコンテナに届かない理由を突き止めること（2017 年の
            障害）です。
            """,
            minutes=45),
        setup(),
        md("""
           ## The host, and dockerd starting

           The slides' host has an uplink `em1` with `192.168.1.1` on a LAN. simlab's docker engine
           builds that when it starts: `em1` in the node, and a namespace `lan` at the other end
           (`192.168.1.254`) standing for the rest of the network. Then dockerd does its own
           start-up: the bridge `docker0` (`172.17.0.1/16`), `net.ipv4.ip_forward=1` with the
           `FORWARD` policy `DROP`, NAT rules, and filter rules.
           """,
           """
           ## ホストと dockerd の起動

           スライドのホストには LAN につながるアップリンク `em1`（`192.168.1.1`）があります。simlab
           の docker エンジンは起動時にそれを作ります。ノードに `em1`、その向こう側に残りの
           ネットワークを表す名前空間 `lan`（`192.168.1.254`）です。それから dockerd 自身の起動処理:
           ブリッジ `docker0`（`172.17.0.1/16`）、`net.ipv4.ip_forward=1` と `FORWARD` のポリシー
           `DROP`、NAT ルール、filter ルールです。
           """),
        code("""
             lab.docker.start()
             for step in lab.timeline:
                 print(f"[{step.actor}] {step.title_in(LANG)}")
             print(lab.ip("-br a"))
             """),
        md("""
           ## 1. `--net none` (slide 9)

           _Route: 60 min (4 min) · 90 min (4 min)_

           docker creates a network namespace for the container and does nothing else.
           """,
           """
           ## 1. `--net none`（スライド 9）

           _コース：60 分（4 分）・90 分（4 分）_

           docker はコンテナ用にネットワーク名前空間を作り、それ以外は何もしません。
           """),
        reveal(
            "What will `docker exec nonet ip a` show?",
            "Only **`lo`**. docker made a namespace and nothing more; the kernel made `lo` when "
            "it created the namespace (`setup_net()`). docker brings `lo` up, so it is `UP` with "
            "`127.0.0.1/8`.",
            "`docker exec nonet ip a` には何が表示されるでしょう？",
            "**`lo` だけ**です。docker は名前空間を作っただけで、`lo` は名前空間を作ったときに"
            "カーネルが作りました（`setup_net()`）。docker は `lo` を UP にするので、`127.0.0.1/8` "
            "付きの `UP` です。"),
        code("""
             n0 = len(lab.timeline)
             nonet = lab.docker.run("nonet", net="none")
             print(nonet)
             print(nonet.exec("ip a"))
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=nonet.netns, lang=LANG)
             """, tags=("stepper",)),
        md("""
           ## 2. `--net host` (slide 7)

           _Route: 60 min (3 min) · 90 min (3 min)_

           No new network namespace: the container's processes use the host's. (Its PID namespace
           is still its own.)
           """,
           """
           ## 2. `--net host`（スライド 7）

           _コース：60 分（3 分）・90 分（3 分）_

           新しいネットワーク名前空間は作りません。コンテナのプロセスはホストのものをそのまま使い
           ます（PID 名前空間は別です）。
           """),
        code("""
             n0 = len(lab.timeline)
             hosty = lab.docker.run("hosty", net="host")
             print(hosty.exec("ip -br a"))
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=simlab.ROOT, lang=LANG)
             """, tags=("stepper",)),
        md("""
           ## 3. `--net bridge`, the default (slide 8)

           _Route: 60 min (8 min) · 90 min (8 min)_

           A namespace, a veth pair created in the node, the host end plugged into `docker0`, the
           other end moved into the container and renamed `eth0`, an address from `172.17.0.0/16`,
           and a default route via `docker0`'s address. Step through it, and look for the line of
           slide 1 in `ip a`.
           """,
           """
           ## 3. 既定の `--net bridge`（スライド 8）

           _コース：60 分（8 分）・90 分（8 分）_

           名前空間を作り、ノードに veth ペアを作り、ホスト側の端を `docker0` につなぎ、もう片端を
           コンテナへ移して `eth0` に改名し、`172.17.0.0/16` からアドレスを付け、`docker0` の
           アドレスを経由するデフォルトルートを足します。一歩ずつ見て、`ip a` の中にスライド 1 の
           行を探してください。
           """),
        code("""
             n0 = len(lab.timeline)
             web = lab.docker.run("web")
             print(web.exec("ip a"))
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=web.netns, lang=LANG)
             """, tags=("stepper",)),
        reveal(
            "`web`'s `eth0` shows `link-netnsid 0`, not `link-netns <name>` as in notebook 01. Why?",
            "docker keeps its namespaces under `/var/run/docker/netns/`, not under `/run/netns/`, so "
            "`ip` cannot find a **name** for the peer's namespace and prints the **id** the "
            "container's namespace gave the node's namespace: 0.",
            "`web` の `eth0` には、ノートブック 01 のような `link-netns <名前>` ではなく "
            "`link-netnsid 0` と出ます。なぜでしょう？",
            "docker は名前空間を `/run/netns/` ではなく `/var/run/docker/netns/` の下に置くので、"
            "`ip` は対向の名前空間の**名前**を見つけられず、コンテナの名前空間がノードの名前空間に"
            "付けた **ID**（0）を表示するからです。"),
        md("""
           The node now has a new `veth…` port on `docker0` (`bridge link` lists the ports), and
           `web` reaches the LAN through the node. Read the hops: the node forwards the packet and
           `MASQUERADE` rewrites its source to `em1`'s address; the reply is translated back by
           conntrack.
           """,
           """
           ノードの `docker0` には新しい `veth…` ポートができました（`bridge link` がポートを一覧
           します）。`web` はノードを通って LAN に届きます。ホップを読んでください。ノードがパケットを
           転送し、`MASQUERADE` が送信元を `em1` のアドレスに書き換え、応答は conntrack が元に戻します。
           """),
        code("""
             print(lab.bridge("link"))
             walk = lab.docker.reach("web", "lan")
             print("\\n".join(walk.lines(LANG)))
             """),
        md("""
           ## 4. `--net container:web`

           _Route: 90 min (3 min) · optional in 60 min_

           No namespace and no veth: the new container joins `web`'s network namespace. Both
           containers see the same `eth0`, the same address and the same ports. This is how the
           containers of a Kubernetes pod share the network (notebook 03).
           """,
           """
           ## 4. `--net container:web`

           _コース：90 分（3 分）・60 分では省略可_

           名前空間も veth も作りません。新しいコンテナは `web` のネットワーク名前空間に入ります。
           二つのコンテナは同じ `eth0`、同じアドレス、同じポートを見ます。Kubernetes の Pod の
           コンテナがネットワークを共有するのもこの仕組みです（ノートブック 03）。
           """),
        code("""
             n0 = len(lab.timeline)
             side = lab.docker.run("side", net="container:web")
             print(side.netns == web.netns)
             print(side.exec("ip -br a"))
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=web.netns, lang=LANG)
             """, tags=("stepper",)),
        md("""
           ## 5. Side by side

           _Route: 90 min (2 min) · optional in 60 min_

           Each mode on a fresh lab: the picture (what `docker run` made is highlighted) and
           `docker exec … ip a` as the container sees it.
           """,
           """
           ## 5. 並べて比べる

           _コース：90 分（2 分）・60 分では省略可_

           各モードを新しいラボで実行したものです。図（`docker run` が作ったものを強調）と、
           コンテナから見た `docker exec … ip a` です。
           """),
        code("""
             simlab.widgets.compare_modes(lang=LANG)
             """, tags=("widget",)),
        md("""
           ## 6. `docker inspect` (slide 10)

           _Route: 90 min (2 min) · optional in 60 min_

           `docker inspect` shows what docker recorded about the container's network:
           `SandboxKey` (the namespace's path), `IPAddress`, `Gateway`, `MacAddress`, and the
           endpoint on the network `bridge`. Compare with the namespace you saw above.
           """,
           """
           ## 6. `docker inspect`（スライド 10）

           _コース：90 分（2 分）・60 分では省略可_

           `docker inspect` は docker がコンテナのネットワークについて記録したものを表示します。
           `SandboxKey`（名前空間のパス）、`IPAddress`、`Gateway`、`MacAddress`、そして
           ネットワーク `bridge` 上のエンドポイントです。上で見た名前空間と比べてください。
           """),
        code("""
             print(lab.docker.inspect_json("web", ".[].NetworkSettings"))
             """),
        reveal(
            "What will `SandboxKey` and `IPAddress` be for `nonet`, for `hosty` and for `side`?",
            "* `nonet`: a `SandboxKey` (`/var/run/docker/netns/<id>`: it has a namespace) but an "
            "empty `IPAddress`, and its network is `none`;\n"
            "* `hosty`: `SandboxKey` `/var/run/docker/netns/default` (the host's namespace), no "
            "address of its own;\n"
            "* `side`: everything **empty** and `Networks: null`: docker gave it no network at all, "
            "it only joined `web`'s. Remember this one for notebook 03 (slide 12).",
            "`nonet`、`hosty`、`side` の `SandboxKey` と `IPAddress` はどうなるでしょう？",
            "* `nonet`: `SandboxKey` はあります（`/var/run/docker/netns/<id>`、名前空間はあるので）が "
            "`IPAddress` は空で、ネットワークは `none` です。\n"
            "* `hosty`: `SandboxKey` は `/var/run/docker/netns/default`（ホストの名前空間）で、自分の"
            "アドレスはありません。\n"
            "* `side`: すべて**空**で `Networks: null`。docker はネットワークを何も与えておらず、"
            "`web` のものに入っただけです。ノートブック 03（スライド 12）のために覚えておいてください。"),
        code("""
             for name in ("nonet", "hosty", "side"):
                 settings = lab.docker.inspect(name)["NetworkSettings"]
                 print(f"{name:6} SandboxKey={settings['SandboxKey']!r:40} IPAddress={settings['IPAddress']!r}")
             """),
        md("""
           ## 7. NAT, the filter table and a published port

           _Route: optional (60 min and 90 min)_

           At start-up dockerd wrote NAT rules in the node's `nat` table: `MASQUERADE` for what
           leaves `172.17.0.0/16` through another interface, and a `DOCKER` chain that
           `PREROUTING` and `OUTPUT` jump to for local addresses. Publishing a port (`-p 8080:80`)
           adds a `DNAT` rule to that chain.

           It also wrote the `filter` table, as docker 17.06 does. Turning on `ip_forward` makes
           the node a router for anything, so since docker 1.13 dockerd sets the `FORWARD` policy
           to **`DROP`** and accepts only what it knows: answers to connections going to
           `docker0` (conntrack `RELATED,ESTABLISHED`), anything leaving `docker0`, container to
           container, and, in its own `DOCKER` chain, one `ACCEPT` per published port.
           `DOCKER-USER` comes first and is left to you; `DOCKER-ISOLATION` keeps docker networks
           apart.
           """,
           """
           ## 7. NAT と公開ポート

           _コース：省略可（60 分・90 分）_

           dockerd は起動時にノードの `nat` テーブルへ NAT ルールを書きました。別のインターフェースから
           `172.17.0.0/16` の外へ出るものを `MASQUERADE` し、ローカルアドレス宛てなら `PREROUTING` と
           `OUTPUT` から `DOCKER` チェインへ飛ぶルールです。ポートを公開する（`-p 8080:80`）と、
           そのチェインに `DNAT` ルールが加わります。

           docker 17.06 は `filter` テーブルも書きます。`ip_forward` を有効にするとノードは何でも
           転送するルーターになるので、docker 1.13 以降の dockerd は `FORWARD` のポリシーを
           **`DROP`** にし、自分が知っているものだけを受け入れます。`docker0` へ戻る接続の応答
           （conntrack の `RELATED,ESTABLISHED`）、`docker0` から出ていくもの、コンテナ同士、
           そして自分の `DOCKER` チェインに公開ポートごとの `ACCEPT` です。先頭の `DOCKER-USER` は
           利用者のためのチェインで、`DOCKER-ISOLATION` は docker のネットワーク同士を分けます。
           """),
        code("""
             nginx = lab.docker.run("nginx", image="nginx", publish=["8080:80"])
             print(lab.docker.ps())
             print(lab.iptables("-t nat -S"))
             print(lab.iptables("-S"))
             """),
        code("""
             walk = lab.docker.reach("lan", "node", "tcp", 8080)
             print("\\n".join(walk.lines(LANG)))
             """),
        task(
            "why can't the `none` container ping?",
            """
            Run the check below: `nonet` cannot reach the LAN. Before you read the hint, say why in
            one sentence. Then open the answer.
            """,
            "`none` のコンテナはなぜ ping できない？",
            """
            下のチェックを実行してください。`nonet` は LAN に届きません。ヒントを読む前に、理由を
            一文で言ってみてください。それから答えを開きます。
            """),
        code("""
             ex.check_container_online(lab, "nonet", "lan", lang=LANG)
             """, tags=("check",)),
        reveal(
            "Why can't `nonet` ping?",
            "Its namespace has **only `lo`**: no interface that leads anywhere, no address on one, "
            "and no route. The kernel looks up a route for `192.168.1.254`, finds none, and the "
            "send fails at once with *Network is unreachable*; no packet ever leaves. That is "
            "what `--net none` is for: the network is left to someone else (notebook 03: CNI).",
            "`nonet` はなぜ ping できないのでしょう？",
            "名前空間に **`lo` しかない**からです。どこかへつながるインターフェースも、そこに付く"
            "アドレスも、ルートもありません。カーネルは `192.168.1.254` へのルートを探し、見つからない"
            "ので、送信はその場で *Network is unreachable* で失敗します。パケットは一つも出ません。"
            "`--net none` はそのためのものです。ネットワークは他の誰かに任されます（ノートブック 03: CNI）。"),
        task(
            "give `nonet` a network by hand",
            """
            Do for `nonet` what docker does for `--net bridge`: a veth pair, one end on `docker0`,
            the other inside `nonet`'s namespace (`nonet.netns`) as `eth0`, a free address from
            `172.17.0.0/16`, everything up, and a way out. Use `lab.ip(...)` with
            `f"... {nonet.netns} ..."`. The check passes when `nonet` reaches the LAN.
            """,
            "`nonet` に手作業でネットワークを与える",
            """
            `--net bridge` で docker がすることを `nonet` に対して行ってください。veth ペアを作り、
            片端を `docker0` に、もう片端を `nonet` の名前空間（`nonet.netns`）に `eth0` として入れ、
            `172.17.0.0/16` の空いているアドレスを付け、すべて UP にし、外への出口を作ります。
            `lab.ip(...)` に `f"... {nonet.netns} ..."` の形で書きます。`nonet` が LAN に届けば
            チェックは通ります。
            """),
        code("""
             # Your commands here / ここにコマンドを書く:
             # lab.ip(f"link set ... netns {nonet.netns}")
             """, tags=("answer",)),
        code("""
             ex.check_container_online(lab, "nonet", "lan", lang=LANG)
             """, tags=("check",)),
        solution("""
                 ns = nonet.netns
                 lab.run("ip link del vnonet")          # leftovers of an earlier try, if any
                 lab.run(f"ip -n {ns} link del eth0")
                 lab.ip("link add vnonet type veth peer name vnonet-c")
                 lab.ip("link set vnonet master docker0")
                 lab.ip("link set vnonet up")
                 lab.ip(f"link set vnonet-c netns {ns}")
                 lab.ip(f"-n {ns} link set vnonet-c name eth0")
                 lab.ip(f"-n {ns} addr add 172.17.0.100/16 dev eth0")
                 lab.ip(f"-n {ns} link set eth0 up")
                 lab.ip(f"-n {ns} route add default via 172.17.0.1")
                 ex.check_container_online(lab, "nonet", "lan", lang=LANG)
                 """),
        task(
            "publish a port by hand",
            """
            Make a connection from the LAN to the node's port **8081** arrive at **`web`'s port
            80**, as docker does it: one rule in the node's `nat` table that rewrites the
            destination, and one in the `filter` table that lets the rewritten packet through the
            `FORWARD` policy `DROP` (look at the two rules docker wrote for `nginx` above).
            `lab.iptables("-t nat ...")` runs `iptables` in the node; without `-t` it is the
            `filter` table. The check says which of the two is missing.
            """,
            "手作業でポートを公開する",
            """
            LAN からノードのポート **8081** への接続が **`web` のポート 80** に届くように、docker と
            同じやり方で書いてください。宛先を書き換えるルールをノードの `nat` テーブルに一つ、
            書き換えたパケットを `FORWARD` のポリシー `DROP` から通すルールを `filter` テーブルに
            一つです（上で docker が `nginx` のために書いた二つのルールを参考に）。
            `lab.iptables("-t nat ...")` はノードで `iptables` を実行します。`-t` を付けなければ
            `filter` テーブルです。チェックは二つのうちどちらが足りないかを教えます。
            """),
        code("""
             # Your rules here / ここにルールを書く:
             # lab.iptables("-t nat -A DOCKER ...")
             # lab.iptables("-A DOCKER ...")
             """, tags=("answer",)),
        code("""
             ex.check_published(lab, 8081, "web", 80, lang=LANG)
             """, tags=("check",)),
        solution("""
                 dnat = f"DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination {web.ip}:80"
                 accept = f"DOCKER -d {web.ip}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"
                 lab.run(f"iptables -t nat -D {dnat}")   # earlier tries of the same rules, if any
                 lab.run(f"iptables -D {accept}")
                 lab.iptables(f"-t nat -A {dnat}")
                 lab.iptables(f"-A {accept}")           # the filter table: past FORWARD DROP
                 ex.check_published(lab, 8081, "web", 80, lang=LANG)
                 """),
        md("""
           ## 8. A pod next to docker: the 2017 incident

           _Route: optional (60 min and 90 min)_

           In 2017 a Kubernetes node ran its pods through docker (dockershim), but on its own
           bridge `cni0` (`10.244.1.0/24`), not on `docker0`. A pod's packet to a container on
           `docker0`, to the LAN or to another node is **routed** by the node, so it meets the
           `FORWARD` chain. When nodes moved to docker 1.13, pod traffic stopped
           ([kubernetes#40182](https://github.com/kubernetes/kubernetes/issues/40182)); the
           network agents then added their own `FORWARD` rules (flannel v0.9.1,
           [flannel#872](https://github.com/flannel-io/flannel/pull/872)). simlab's node has them;
           the cell below takes them away, to put the node back in early 2017.
           """,
           """
           ## 8. docker の隣の Pod: 2017 年の障害

           _コース：省略可（60 分・90 分）_

           2017 年の Kubernetes ノードは Pod を docker（dockershim）で動かしていましたが、Pod は
           `docker0` ではなく自分のブリッジ `cni0`（`10.244.1.0/24`）にいました。Pod から
           `docker0` 上のコンテナ、LAN、別のノードへのパケットはノードが**ルーティング**するので、
           `FORWARD` チェインを通ります。ノードを docker 1.13 に上げると Pod の通信が止まりました
           （[kubernetes#40182](https://github.com/kubernetes/kubernetes/issues/40182)）。その後、
           ネットワークエージェントが自分の `FORWARD` ルールを足すようになりました（flannel
           v0.9.1、[flannel#872](https://github.com/flannel-io/flannel/pull/872)）。simlab のノード
           にはそのルールがあります。下のセルはそれを消して、ノードを 2017 年初めの状態に戻します。
           """),
        code("""
             pod = lab.k8s.run("centos1")
             for rule in ("-s 10.244.0.0/16 -j ACCEPT", "-d 10.244.0.0/16 -j ACCEPT"):
                 lab.run(f"iptables -D FORWARD {rule}")   # early 2017: no such rules yet
             print(f"pod centos1: {pod.ip} on cni0, container web: {web.ip} on docker0")
             print(lab.ping(pod.netns, web.ip).text)
             """),
        task(
            "the pod cannot reach the container on the docker bridge: find why",
            """
            `centos1`'s ping to `web` gets no answer. Find where the packet stops and why, then
            fix it with one or two `iptables` rules in the node, without opening the node to
            everything: the `FORWARD` policy stays `DROP`. Start with the check and the packet's
            hops (`lab.k8s.reach("centos1", web.ip)`), then read the node's `iptables -S`.
            """,
            "Pod が docker ブリッジ上のコンテナに届かない: 理由を突き止める",
            """
            `centos1` から `web` への ping に応答がありません。パケットがどこで、なぜ止まるかを
            突き止め、ノードの `iptables` ルール一つか二つで直してください。ノードを何にでも開放
            してはいけません。`FORWARD` のポリシーは `DROP` のままにします。まずチェックとパケット
            のホップ（`lab.k8s.reach("centos1", web.ip)`）を見て、次にノードの `iptables -S` を
            読みます。
            """),
        code("""
             ex.check_pod_reaches_container(lab, "centos1", "web", lang=LANG)
             """, tags=("check",)),
        reveal(
            "Which rule of the node decides the pod's packet?",
            "**None of them**: the packet comes in on `cni0` and goes out on `docker0`. "
            "`DOCKER-USER` and `DOCKER-ISOLATION` return, the conntrack rule wants an answer "
            "(this is a new flow), the `DOCKER` chain accepts only published ports, and the last "
            "two rules want packets coming *from* `docker0`. So the chain ends and its policy, "
            "`DROP`, decides: no answer, no error. The answer from `web` would pass (`-i docker0 "
            "! -o docker0 -j ACCEPT`); it is never sent.",
            "ノードのどのルールが Pod のパケットを決めるでしょう？",
            "**どれでもありません**。パケットは `cni0` から入り `docker0` から出ます。"
            "`DOCKER-USER` と `DOCKER-ISOLATION` は RETURN し、conntrack のルールは応答を待ち"
            "（これは新しい通信です）、`DOCKER` チェインは公開ポートだけを受け入れ、最後の二つは "
            "`docker0` *から*来るパケット用です。チェインの終わりまで来て、ポリシーの `DROP` が"
            "決めます。応答もエラーもありません。`web` からの応答なら通りますが"
            "（`-i docker0 ! -o docker0 -j ACCEPT`）、送られることがありません。"),
        code("""
             # Your rules here / ここにルールを書く:
             # lab.iptables("-I DOCKER-USER ...")
             """, tags=("answer",)),
        code("""
             ex.check_pod_reaches_container(lab, "centos1", "web", lang=LANG)
             """, tags=("check",)),
        solution("""
                 # DOCKER-USER: the chain docker keeps for the admin's rules, first in FORWARD.
                 for rule in ("-s 10.244.0.0/16 -j ACCEPT", "-d 10.244.0.0/16 -j ACCEPT"):
                     lab.run(f"iptables -D DOCKER-USER {rule}")   # an earlier try, if any
                     lab.iptables(f"-I DOCKER-USER {rule}")
                 print(lab.ping(pod.netns, web.ip).text)
                 ex.check_pod_reaches_container(lab, "centos1", "web", lang=LANG)
                 """),
        md("""
           Next: [03_kubernetes_and_cni](03_kubernetes_and_cni.ipynb): a pod's container looks like
           `side` to docker, and yet it has a network.
           """,
           """
           次は [03_kubernetes_and_cni](03_kubernetes_and_cni.ipynb)。Pod のコンテナは docker から
           見ると `side` と同じなのに、ネットワークを持っています。
           """),
        *cleanup(),
    ]
