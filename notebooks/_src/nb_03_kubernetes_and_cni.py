"""03_kubernetes_and_cni: slides 11 to 16."""

from _build import cleanup, code, header, md, reveal, setup, solution, task


def cells():
    return [
        header(
            "03 · Kubernetes and CNI", "03 · Kubernetes と CNI",
            covers_en="""
            The talk's puzzle: `docker inspect` of a Kubernetes pod's container shows **no network**
            (slide 12), `kubectl get -o wide pod` shows an IP (slide 13), and inside the container
            `ip a` shows `eth0` with that IP. The kubelet explains it (slide 14): it starts the pod's
            sandbox with `--net none`, then runs a **CNI** plugin that builds the network. You will
            look at what the kubelet hands the plugin (environment variables and stdin, slide 15),
            step through the bridge plugin's `cmdAdd` beside `bridge.go` (slide 16), compare a bridge
            plugin with a routed one and add more nodes; then you give a pod a routed /32 network by
            hand (Calico-style: a link route and a host route) and find what is broken in another.
            """,
            covers_ja="""
            講演の謎：Kubernetes の Pod のコンテナを `docker inspect` すると**ネットワークが無い**
            （スライド 12）のに、`kubectl get -o wide pod` には IP が出て（スライド 13）、コンテナの中の
            `ip a` にはその IP の `eth0` があります。kubelet がその答えです（スライド 14）。kubelet は
            Pod のサンドボックスを `--net none` で起動し、それから **CNI** プラグインを実行して
            ネットワークを作らせます。kubelet がプラグインに何を渡すか（環境変数と標準入力、スライド 15）を
            見て、bridge プラグインの `cmdAdd` を `bridge.go` と並べて一歩ずつたどり（スライド 16）、
            bridge 型とルーティング型のプラグインを比べ、ノードを増やします。それから Pod に
            ルーティング型の /32 のネットワークを手で作り（Calico 流：リンクルートとホストルート）、
            別の Pod の壊れた所を探します。
            """,
            minutes=40),
        setup(),
        md("""
           ## 1. The puzzle (slides 11 to 13)

           _Route: 60 min (5 min) · 90 min (5 min)_

           We ask the cluster (one node, `k8s-node01`, the lab's node) for a pod, as
           `kubectl run centos1 --image=centos` would. Then we look at it three ways: as Kubernetes
           sees it, as docker sees its container, and from inside.
           """,
           """
           ## 1. 謎（スライド 11〜13）

           _コース：60 分（5 分）・90 分（5 分）_

           `kubectl run centos1 --image=centos` のように、クラスタ（ノードは 1 台、ラボのノードである
           `k8s-node01`）に Pod を一つ頼みます。それから三つの方向から見ます。Kubernetes から、
           docker から見たそのコンテナ、そして中から。
           """),
        code("""
             lab.docker.start()          # the node's container runtime, as in 2017: docker
             n0 = len(lab.timeline)
             pod = lab.k8s.run("centos1")
             print(lab.k8s.get_pods())
             """),
        code("""
             print(f"$ docker inspect {pod.app_name} | jq '.[].NetworkSettings'")
             print(lab.docker.inspect_json(pod.app_name, ".[].NetworkSettings"))
             """),
        code("""
             print(lab.k8s.exec("centos1", "ip a"))
             """),
        reveal(
            "docker says the container has no network (`Networks: null`, no `IPAddress`), yet "
            "Kubernetes shows an IP and `ip a` inside shows `eth0` with it. How can both be true?",
            "docker is telling the truth about **its own** work: it never configured a network "
            "for this container. The container runs with `--net container:<pause>` (it joins the "
            "pod's **sandbox**, the pause container), and the sandbox was started with "
            "`--net none`: a namespace with `lo` only. Then the kubelet, not docker, ran a **CNI "
            "plugin** that put `eth0` into that namespace. docker does not know about it; "
            "Kubernetes does: in 2017 the kubelet's docker part (*dockershim*) read the IP from "
            "`eth0` inside the sandbox (`nsenter … ip -o -4 addr show dev eth0`). Today's runtimes "
            "take it from the plugin's answer instead (section 8).",
            "docker はこのコンテナにネットワークが無い（`Networks: null`、`IPAddress` も無い）と言い、"
            "Kubernetes には IP があり、中の `ip a` にもその `eth0` があります。なぜ両方とも正しいのでしょう？",
            "docker は**自分の**仕事については正しいことを言っています。このコンテナのネットワークを"
            "docker は一度も設定していません。コンテナは `--net container:<pause>` で動いていて（Pod の"
            "**サンドボックス**、つまり pause コンテナに入る）、サンドボックスは `--net none`（`lo` だけの"
            "名前空間）で起動されました。その後、docker ではなく kubelet が **CNI プラグイン**を実行し、"
            "その名前空間に `eth0` を入れました。docker はそれを知りません。Kubernetes が知っているのは、"
            "2017 年の kubelet の docker 担当部分（*dockershim*）がサンドボックスの中の `eth0` から "
            "IP を読んだからです（`nsenter … ip -o -4 addr show dev eth0`）。今のランタイムは"
            "プラグインの答え（結果）から受け取ります（8 節）。"),
        md("""
           ## 2. What the kubelet did (slide 14)

           _Route: 60 min (5 min) · 90 min (5 min)_

           This is the talk's flow, **2017**: the kubelet drove docker through *dockershim*, its
           built-in docker adapter. Kubernetes 1.24 (2022) removed dockershim; section 8 runs the
           same pod the way a node does it today.

           1. `kubectl` asks for the pod; the scheduler puts it on `k8s-node01`;
           2. the kubelet asks docker for the pod's sandbox (the *pause* container) with
              `NetworkMode = "none"`: docker makes a namespace with `lo` and nothing more;
           3. the kubelet runs the CNI plugin named in `/etc/cni/net.d`: `CNI_COMMAND=ADD`, the
              sandbox's namespace, the configuration on stdin; the plugin builds `eth0`;
           4. the application container starts with `--net container:<pause>`, so it sees that `eth0`.

           The stepper shows each of these, and the plugin's own steps in between.
           """,
           """
           ## 2. kubelet がしたこと（スライド 14）

           _コース：60 分（5 分）・90 分（5 分）_

           これは講演当時、**2017 年**の流れです。kubelet は組み込みの docker 用アダプター
           *dockershim* を通して docker を動かしていました。Kubernetes 1.24（2022 年）で dockershim は
           削除されました。8 節で、同じ Pod を今のノードのやり方で動かします。

           1. `kubectl` が Pod を要求し、スケジューラーが `k8s-node01` に割り当てます。
           2. kubelet は docker に Pod のサンドボックス（*pause* コンテナ）を `NetworkMode = "none"` で
              頼みます。docker は `lo` だけの名前空間を作ります。
           3. kubelet は `/etc/cni/net.d` に書かれた CNI プラグインを実行します。`CNI_COMMAND=ADD`、
              サンドボックスの名前空間、標準入力に設定。プラグインが `eth0` を作ります。
           4. アプリケーションのコンテナが `--net container:<pause>` で起動し、その `eth0` を見ます。

           ステッパーでそれぞれの段階と、その間のプラグイン自身のステップを見られます。
           """),
        code("""
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=pod.netns, lang=LANG)
             """, tags=("stepper",)),
        code("""
             for name in (pod.sandbox_name, pod.app_name):
                 mode = lab.docker.inspect(name)["HostConfig"]["NetworkMode"]
                 print(f"{name[:40]:42} NetworkMode={mode}")
             """),
        md("""
           ## 3. What the plugin gets (slide 15)

           _Route: 60 min (5 min) · 90 min (5 min)_

           A CNI plugin is **any executable**. It implements ADD, DEL, CHECK (since 0.4.0) and
           VERSION, and everything it needs arrives in two places:

           * **environment variables**: `CNI_COMMAND` (the verb), `CNI_CONTAINERID`, `CNI_NETNS`
             (the namespace to work in), `CNI_IFNAME` (what to call the interface inside),
             `CNI_ARGS` (extra `K=V;…`, here the pod's name) and `CNI_PATH` (where to find other
             plugins, such as its IPAM);
           * **stdin**: the network configuration from `/etc/cni/net.d`, as JSON.

           It answers with a **result** on stdout: the interfaces it made, the IPs, the routes.
           """,
           """
           ## 3. プラグインが受け取るもの（スライド 15）

           _コース：60 分（5 分）・90 分（5 分）_

           CNI プラグインは**単体で実行できるものなら何でも**かまいません。ADD、DEL、CHECK（0.4.0
           から）、VERSION を実装し、必要な情報は二か所から届きます。

           * **環境変数**: `CNI_COMMAND`（命令）、`CNI_CONTAINERID`、`CNI_NETNS`（作業する名前空間）、
             `CNI_IFNAME`（中に作るインターフェースの名前）、`CNI_ARGS`（追加の `K=V;…`、ここでは Pod 名）、
             `CNI_PATH`（IPAM など他のプラグインを探す場所）
           * **標準入力**: `/etc/cni/net.d` のネットワーク設定（JSON）

           答えは標準出力の**結果**です。作ったインターフェース、IP、ルートが入ります。
           """),
        code("""
             print("$ cat /etc/cni/net.d/*")
             print(lab.k8s.read_conflist())
             call = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
             for key, value in call.detail["env"].items():
                 print(f"{key}={value}")
             print("stdin:", call.detail["stdin"])
             """),
        code("""
             print(pod.result.to_json())
             """),
        reveal(
            "In which network namespace does the kubelet start the plugin: the pod's or the node's?",
            "The **node's** (the runtime's own). `CNI_NETNS` only *names* the pod's namespace; the "
            "plugin creates the bridge and the host end of the veth where it runs (the node) and "
            "enters the pod's namespace itself for the inside work (`netns.Do(...)` in `bridge.go`).",
            "kubelet はプラグインをどのネットワーク名前空間で起動するでしょう？ Pod の？ノードの？",
            "**ノード**（ランタイム自身）の名前空間です。`CNI_NETNS` は Pod の名前空間を*指す*だけです。"
            "プラグインはブリッジと veth のホスト側を自分の動いている場所（ノード）に作り、中の作業の"
            "ためには自分で Pod の名前空間に入ります（`bridge.go` の `netns.Do(...)`）。"),
        md("""
           ## 4. `cmdAdd`, step by step beside `bridge.go` (slide 16)

           _Route: 90 min (7 min) · optional in 60 min_

           ```go
           310 func cmdAdd(args *skel.CmdArgs) error {
           324     br, brInterface, err := setupBridge(n)                  // find (or make) the bridge
           329     netns, err := ns.GetNS(args.Netns)                      // open the container's NET_NS
           335     hostInterface, containerInterface, err := setupVeth(netns, br, args.IfName, n.MTU, n.HairpinMode)
                                                                           // make the veth, plug it into the bridge
           365     if err := netns.Do(func(_ ns.NetNS) error {             // inside the container's NET_NS
           375         if err := ipam.ConfigureIface(args.IfName, result); err != nil {   // address it
           ```

           simlab's `simlab-bridge` is a Python twin of the reference plugin, function for function
           (`cmd_add`, `setup_bridge`, `setup_veth`, `configure_iface`, …). Each of its steps is a
           step on the timeline whose *mirrors* names the Go function. Here they are, then in the
           stepper.
           """,
           """
           ## 4. `cmdAdd` を `bridge.go` と並べて一歩ずつ（スライド 16）

           _コース：90 分（7 分）・60 分では省略可_

           ```go
           310 func cmdAdd(args *skel.CmdArgs) error {
           324     br, brInterface, err := setupBridge(n)                  // ブリッジを見つける（無ければ作る）
           329     netns, err := ns.GetNS(args.Netns)                      // コンテナの NET_NS を取得
           335     hostInterface, containerInterface, err := setupVeth(netns, br, args.IfName, n.MTU, n.HairpinMode)
                                                                           // veth を作ってブリッジへ接続
           365     if err := netns.Do(func(_ ns.NetNS) error {             // コンテナの NET_NS に移動して
           375         if err := ipam.ConfigureIface(args.IfName, result); err != nil {   // IP アドレスを設定
           ```

           simlab の `simlab-bridge` はリファレンスプラグインの Python 版で、関数ごとに対応しています
           （`cmd_add`、`setup_bridge`、`setup_veth`、`configure_iface` …）。各ステップはタイムラインの
           ステップになり、*対応するコード* に Go の関数名が入ります。まず一覧、次にステッパーで。
           """),
        code("""
             plugin_steps = [s for s in lab.timeline.steps[n0:] if s.actor.startswith("cni:")]
             for s in plugin_steps:
                 print(f"{s.mirrors:45} {s.title_in(LANG)}")
                 for command in s.commands:
                     print(f"{'':45}   $ {command}")
             """),
        code("""
             simlab.widgets.Stepper(plugin_steps, ns=pod.netns, lang=LANG)
             """, tags=("stepper",)),
        md("""
           The whole table of Go functions and their simlab twins is
           `python -m simlab.cni.mirror_table`; here are `bridge.go`'s rows:
           """,
           """
           Go の関数と simlab の対応表の全体は `python -m simlab.cni.mirror_table` で見られます。
           ここでは `bridge.go` の行だけ:
           """),
        code("""
             from IPython.display import Markdown
             from simlab.cni import mirror_table

             rows = mirror_table.markdown().splitlines()
             Markdown("\\n".join(rows[:2] + [r for r in rows if "bridge/bridge.go" in r]))
             """),
        md("""
           ## 5. A second pod on the same bridge

           _Route: 90 min (3 min) · optional in 60 min_

           Every pod of this node gets a veth on the same bridge `cni0`, so two pods talk over one
           L2 segment: ARP, and the bridge forwards the frame from port to port. The node is not
           even asked to route.
           """,
           """
           ## 5. 同じブリッジにもう一つの Pod

           _コース：90 分（3 分）・60 分では省略可_

           このノードの Pod はみな同じブリッジ `cni0` に veth でつながるので、二つの Pod は一つの L2
           セグメントで話します。ARP をして、ブリッジがフレームをポートからポートへ転送します。
           ノードにルーティングを頼むことすらありません。
           """),
        code("""
             lab.k8s.run("centos2")
             walk = lab.k8s.reach("centos1", "centos2")
             print("\\n".join(walk.lines(LANG)))
             """),
        code("""
             print(lab.bridge("link"))
             """),
        md("""
           `bridge link` prints the pods' ports as `veth…@em1`, which is what iproute2 prints: it
           does not follow `link-netnsid` as `ip` does, but looks the peer's index (2: `eth0` in
           the pod) up in the node's own namespace, where 2 is `em1`; `ip link` shows the same
           port as `veth…@if2`.
           """,
           """
           `bridge link` は Pod のポートを `veth…@em1` と表示します。これは iproute2 そのままの表示です。
           `ip` と違って `link-netnsid` を見ずに、対向のインデックス（2: Pod の中の `eth0`）をノード
           自身の名前空間で引くので、そこで 2 番の `em1` の名前が出ます。`ip link` では同じポートが
           `veth…@if2` と表示されます。
           """),
        md("""
           ## 6. Two nodes

           _Route: optional (60 min and 90 min)_

           A second machine joins the cluster (`kubeadm join`): a namespace `node2` on the same LAN
           (`192.168.1.2`) with its own pod CIDR `10.244.2.0/24`. Each node gets a route to the other
           node's pod CIDR through that node's address (what flannel's *host-gw* backend installs),
           so a pod on node 1 reaches a pod on node 2 with no tunnel.
           """,
           """
           ## 6. ノードを 2 台に

           _コース：省略可（60 分・90 分）_

           2 台目のマシンがクラスタに参加します（`kubeadm join`）。同じ LAN（`192.168.1.2`）にある
           名前空間 `node2` で、自分の Pod CIDR `10.244.2.0/24` を持ちます。各ノードには相手ノードの
           Pod CIDR へのルート（相手ノードのアドレス経由）が入ります（flannel の *host-gw* バックエンドが
           入れるもの）。だから node 1 の Pod はトンネル無しで node 2 の Pod に届きます。
           """),
        code("""
             lab.k8s.add_node("k8s-node02")
             lab.k8s.run("far", node="k8s-node02")
             print(lab.k8s.get_pods())
             walk = lab.k8s.reach("centos1", "far")
             print("\\n".join(walk.lines(LANG)))
             """),
        md("""
           ## 7. Bridge versus routed plugins

           _Route: optional (60 min and 90 min)_

           Slide 13's pod looks different from ours: `inet 192.168.58.193/32`, a **/32**, no subnet
           at all. That is a **routed** plugin (Calico): no bridge; the pod sends everything to the
           node through a route, and the node has one host route per pod. simlab has one too,
           `simlab-ptp`. A third node runs it (the kubelet uses whatever its `/etc/cni/net.d` says).
           """,
           """
           ## 7. bridge 型とルーティング型のプラグイン

           _コース：省略可（60 分・90 分）_

           スライド 13 の Pod は私たちのものと違って見えます。`inet 192.168.58.193/32`、つまり
           **/32** で、サブネットがまったくありません。これは**ルーティング型**のプラグイン（Calico）
           です。ブリッジは無く、Pod はすべてをルートでノードに送り、ノードは Pod ごとにホストルートを
           持ちます。simlab にも `simlab-ptp` があります。3 台目のノードでそれを使います（kubelet は
           そのノードの `/etc/cni/net.d` に書かれたものを使います）。
           """),
        code("""
             lab.k8s.add_node("k8s-node03", plugin="ptp")
             print(lab.k8s.read_conflist(node="k8s-node03"))
             lab.k8s.run("calico1", node="k8s-node03")
             print(lab.k8s.exec("calico1", "ip a"))
             print(lab.k8s.exec("calico1", "ip route"))
             """),
        md("""
           `calico1`'s `eth0` ends in `link-netns node3`, where slide 12's pod shows
           `link-netnsid 0`: iproute2 prints `link-netns NAME` when the peer's namespace has a
           name in the viewer's `/run/netns` (here `ip -n` runs from the machine, where `node3` is
           named) and `link-netnsid N` otherwise, as inside a real pod, whose `/run/netns` is empty.
           """,
           """
           `calico1` の `eth0` の最後は `link-netns node3` ですが、スライド 12 の Pod では
           `link-netnsid 0` です。iproute2 は、対向の名前空間に見る側の `/run/netns` で名前があれば
           `link-netns 名前` を、なければ `link-netnsid 番号` を表示します（ここでは `ip -n` を
           `node3` という名前のあるマシン側から実行しています。本物の Pod の中の `/run/netns` は空です）。
           """),
        md("""
           Slide 12's `ip a` also lists `tunl0@NONE` (`link/ipip 0.0.0.0`): the kernel's IPIP
           tunnel device. Calico can carry pod traffic between nodes inside IP-in-IP packets;
           loading the `ipip` module makes a `tunl0` appear in **every** namespace, the pod's
           included, where it stays down and unused. Calico uses the node's `tunl0` only. Our
           nodes route pods directly (like flannel's host-gw), so the lab has no `tunl0`.
           """,
           """
           スライド 12 の `ip a` には `tunl0@NONE`（`link/ipip 0.0.0.0`）も出ています。カーネルの
           IPIP トンネルデバイスです。Calico はノード間の Pod の通信を IP-in-IP パケットで運べます。
           `ipip` モジュールを読み込むと、Pod のものも含め**すべての**名前空間に `tunl0` が現れますが、
           Pod の中では down のまま使われません。Calico が使うのはノードの `tunl0` だけです。
           このラボのノードは Pod を直接ルーティングする（flannel の host-gw と同じ）ので、
           `tunl0` はありません。
           """),
        reveal(
            "`calico1` has a /32 address: no other address is \"on its link\". How does it reach "
            "its gateway `169.254.1.1`?",
            "Through a **link route**: `169.254.1.1 dev eth0 scope link` says \"this address is "
            "directly on eth0\", so the kernel ARPs for it there; the node's end of the veth answers "
            "(Calico uses proxy ARP; simlab-ptp puts `169.254.1.1` on the host end). Then "
            "`default via 169.254.1.1` sends everything to the node, which routes it with a host "
            "route `<pod>/32 dev cali…` per pod. No bridge, no shared L2 segment.",
            "`calico1` のアドレスは /32 なので、「同じリンク上」のアドレスは他にありません。どうやって"
            "ゲートウェイ `169.254.1.1` に届くのでしょう？",
            "**リンクルート**を使います。`169.254.1.1 dev eth0 scope link` は「このアドレスは eth0 の"
            "直接の先にある」という意味なので、カーネルは eth0 で ARP します。veth のノード側の端が"
            "答えます（Calico は proxy ARP、simlab-ptp はホスト側の端に `169.254.1.1` を付けます）。"
            "そして `default via 169.254.1.1` がすべてをノードに送り、ノードは Pod ごとのホストルート "
            "`<pod>/32 dev cali…` で転送します。ブリッジも共有の L2 セグメントもありません。"),
        code("""
             print(lab.ip("-n node3 route"))
             walk = lab.k8s.reach("calico1", "centos1")
             print("\\n".join(walk.lines(LANG)))
             """),
        reveal(
            "Why a third node? What would go wrong if node 1 switched to `simlab-ptp` for its next "
            "pods, in the same `10.244.1.0/24`?",
            "The old bridge pods believe all of `10.244.1.0/24` is on their own link (their "
            "`/24` makes a connected route). To answer a ptp pod at `10.244.1.4` they would ARP on "
            "`cni0`, where nobody has that address: the reply is lost (*Destination Host "
            "Unreachable*). One subnet, one design: that is why a cluster runs one network plugin.",
            "なぜ 3 台目のノードにしたのでしょう？ node 1 が同じ `10.244.1.0/24` のまま、次の Pod から "
            "`simlab-ptp` に切り替えたら何がまずいでしょう？",
            "古い bridge の Pod は `10.244.1.0/24` 全体が自分のリンク上にあると思っています（`/24` が"
            "接続ルートを作るから）。`10.244.1.4` の ptp の Pod に応答するとき、`cni0` で ARP しますが、"
            "そこにはそのアドレスを持つ者がいないので応答は失われます（*Destination Host "
            "Unreachable*）。一つのサブネットには一つの設計。だからクラスタはネットワークプラグインを"
            "一つに揃えるのです。"),
        task(
            "give a pod a routed /32 address, the Calico way",
            """
            Node 3's kubelet has started a sandbox with `--net none` (here the namespace
            `handmade`, made in the cell below), and this time **you** are the routed plugin.
            Do for it what `simlab-ptp` did for `calico1` (compare `ip -n node3 addr`,
            `ip -n node3 route` and `calico1`'s `ip route` above):

            1. a veth pair: `eth0` in `handmade`, the other end in `node3`;
            2. a free address of node 3's range `10.244.3.0/24` on `eth0`, as a **/32**;
            3. in the pod, a **link route** to the gateway `169.254.1.1` and a default route
               through it; on the node's end, something that answers for `169.254.1.1`;
            4. on the node, a **host route** to the pod's address through the node's end.

            Every `lab.ip` command takes `-n NAMESPACE` like `ip`. The check pings from the pod
            to the node and to `centos1` on node 1.
            """,
            "ルーティング型の /32 アドレスを Calico 流に Pod に与える",
            """
            ノード 3 の kubelet がサンドボックスを `--net none` で起動しました（ここでは下のセルで
            作る名前空間 `handmade`）。今回は**あなた**がルーティング型のプラグインです。
            `simlab-ptp` が `calico1` にしたことを、この Pod にしてください（`ip -n node3 addr`、
            `ip -n node3 route`、上の `calico1` の `ip route` と比べてください）。

            1. veth ペア：`handmade` に `eth0`、もう片端は `node3` に置きます。
            2. ノード 3 の範囲 `10.244.3.0/24` の空いているアドレスを、**/32** で `eth0` に付けます。
            3. Pod には、ゲートウェイ `169.254.1.1` への**リンクルート**と、そこを経由するデフォルト
               ルート。ノード側の端には、`169.254.1.1` に答えるもの。
            4. ノードには、ノード側の端を通って Pod のアドレスへ向かう**ホストルート**。

            `lab.ip` のコマンドは `ip` と同じく `-n 名前空間` を取ります。チェックは Pod から
            ノードと、ノード 1 の `centos1` へ ping します。
            """),
        code("""
             lab.run("ip netns del handmade")   # a fresh sandbox, also when you run this again
             lab.ip("netns add handmade")
             centos1_ip = lab.k8s.pod("centos1").ip
             ex.check_routed_pod(lab, "handmade", node="node3", target=centos1_ip, lang=LANG)
             """, tags=("check",)),
        code("""
             # Your commands here / ここにコマンドを書く:
             # lab.ip("-n node3 link add ...")
             """, tags=("answer",)),
        code("""
             ex.check_routed_pod(lab, "handmade", node="node3", target=centos1_ip, lang=LANG)
             """, tags=("check",)),
        solution("""
                 lab.run("ip -n node3 link del calihand")   # an earlier try, if any
                 lab.run("ip -n handmade link del eth0")
                 lab.ip("-n node3 link add calihand type veth peer name eth0 netns handmade")
                 lab.ip("-n handmade addr add 10.244.3.200/32 dev eth0")
                 lab.ip("-n handmade link set eth0 up")
                 lab.ip("-n node3 link set calihand up")
                 lab.ip("-n handmade route add 169.254.1.1 dev eth0 scope link")   # the link route
                 lab.ip("-n handmade route add default via 169.254.1.1 dev eth0")
                 # the node's end answers ARP for the gateway
                 lab.ip("-n node3 addr add 169.254.1.1/32 dev calihand")
                 lab.ip("-n node3 route add 10.244.3.200/32 dev calihand")   # the host route
                 ex.check_routed_pod(lab, "handmade", node="node3", target=centos1_ip, lang=LANG)
                 """),
        reveal(
            "Your hand-made pod works, but `kubectl get pods` will never show `10.244.3.200`, and "
            "host-local may one day give the same address to another pod. Why?",
            "Because Kubernetes knows only the sandboxes it asked for (dockershim reads their "
            "`eth0`; containerd keeps the plugin's **result**), and host-local "
            "knows which addresses are taken only from its own store "
            "(`/var/lib/cni/networks/<network>/<ip>` files). You changed the kernel, but you told "
            "neither of them. That is why a plugin must both do the work *and* report it.",
            "手作りの Pod は動きますが、`kubectl get pods` に `10.244.3.200` が出ることはなく、"
            "host-local がいつか同じアドレスを別の Pod に渡すかもしれません。なぜでしょう？",
            "Kubernetes は自分が頼んだサンドボックスしか知らず（dockershim はその `eth0` を読み、"
            "containerd はプラグインの**結果**を保存します）、host-local は使用中の"
            "アドレスを自分の記録（`/var/lib/cni/networks/<ネットワーク>/<ip>` のファイル）からしか"
            "知らないからです。あなたはカーネルを変えましたが、どちらにも伝えていません。プラグインは"
            "作業をして、*かつ*それを報告しなければならないのです。"),
        task(
            "find what is broken",
            """
            The collapsed cell below runs a pod `calico2` on node 3 with **one fault**: its pings
            to `centos1` on node 1 get no answer, while `calico1` on the same node works. Do not
            open it: investigate as on a real machine (`lab.k8s.exec("calico2", "ip route")`,
            `lab.ip("-n node3 route")`, `lab.ping(lab.k8s.pod("calico2").netns, centos1_ip)`
            and its `.walk`: where does the **reply** go?), fix it with one command, then run the
            check. Its hint names the fault if you are stuck.
            """,
            "壊れた所を探す",
            """
            下の折りたたまれたセルはノード 3 で Pod `calico2` を動かしますが、**故障が一つ**あり、
            ノード 1 の `centos1` への ping に応答が返りません。同じノードの `calico1` は動きます。
            セルは開かずに、本物のマシンと同じように調べてください（`lab.k8s.exec("calico2", "ip route")`、
            `lab.ip("-n node3 route")`、`lab.ping(lab.k8s.pod("calico2").netns, centos1_ip)` とその
            `.walk`。**応答**はどこへ行くでしょう？）。故障を見つけたらコマンド一つで直し、チェックを
            実行します。行き詰まったら、チェックのヒントが故障を教えます。
            """),
        code("""
             # The broken lab: open it after you found the fault / 壊れたラボ（故障を見つけてから開く）
             if any(p.name == "calico2" for p in lab.k8s.pods):
                 lab.k8s.delete("calico2")   # a fresh pod, also when you run this again
             calico2 = lab.k8s.run("calico2", node="k8s-node03")
             lab.ip(f"-n node3 route del {calico2.ip}")   # the fault: the host route is gone
             print(lab.ping(calico2.netns, centos1_ip))
             """, tags=("fault",), hidden=True),
        code("""
             # Investigate and fix here / ここで調べて直す:
             print(lab.ip("-n node3 route"))
             """, tags=("answer",)),
        code("""
             ex.check_routed_pod(lab, "calico2", node="node3", target=centos1_ip, lang=LANG)
             """, tags=("check",)),
        solution("""
                 calico2 = lab.k8s.pod("calico2")
                 end = calico2.result.interfaces[0].name   # the plugin's result names the host end
                 lab.ip(f"-n node3 route add {calico2.ip}/32 dev {end}")
                 ex.check_routed_pod(lab, "calico2", node="node3", target=centos1_ip, lang=LANG)
                 """),
        md("""
           ## 8. 2017 → today: the same pod on containerd

           _Route: optional (60 min and 90 min)_

           Since Kubernetes 1.24 the kubelet talks to no docker: it speaks **CRI** (a gRPC API) to
           a container runtime, containerd or CRI-O. For a pod it sends `RunPodSandbox`;
           **containerd** (simlab mirrors 1.7's `sandbox_run.go`) creates the network namespace
           itself, as a file `/var/run/netns/cni-<uuid>`, calls the CNI plugins through *libcni*
           (`AddNetworkList`: the `loopback` plugin for `lo`, then the configured list for `eth0`),
           keeps their result, and only then starts the pause process. Here a fourth node runs
           containerd, beside node 1's dockershim.
           """,
           """
           ## 8. 2017 年 → 今：同じ Pod を containerd で

           _コース：省略可（60 分・90 分）_

           Kubernetes 1.24 以降、kubelet は docker と話しません。コンテナランタイム（containerd か
           CRI-O）と **CRI**（gRPC の API）で話します。Pod のために `RunPodSandbox` を送ると、
           **containerd**（simlab は 1.7 の `sandbox_run.go` をなぞります）が自分でネットワーク
           名前空間を `/var/run/netns/cni-<uuid>` というファイルとして作り、*libcni* を通して CNI
           プラグインを呼び（`AddNetworkList`：`lo` には `loopback` プラグイン、`eth0` には設定された
           リスト）、その結果を保存してから pause プロセスを起動します。ここでは 4 台目のノードが
           containerd を使い、1 台目の dockershim と並べます。
           """),
        code("""
             lab.k8s.add_node("k8s-node04", runtime="containerd")
             print({n: lab.k8s.runtime_of(n) for n in ("k8s-node01", "k8s-node04")})
             n1 = len(lab.timeline)
             today = lab.k8s.run("today1", node="k8s-node04")
             print(lab.k8s.get_pods())
             """),
        reveal(
            "Predict: does `docker ps` list `today1`'s containers? Which tool does?",
            "No: containerd is not docker, and docker on node 1 never heard of this pod. The "
            "runtime's own client does: `crictl pods` lists sandboxes, `crictl inspectp` replaces "
            "`docker inspect`.",
            "予想してください：`docker ps` に `today1` のコンテナは出るでしょうか？どのツールなら見えますか？",
            "出ません。containerd は docker ではなく、ノード 1 の docker はこの Pod を知りません。"
            "ランタイム自身のクライアントが見せます。`crictl pods` がサンドボックスを一覧し、"
            "`crictl inspectp` が `docker inspect` の代わりです。"),
        code("""
             print(lab.docker.ps())
             print(lab.k8s.crictl("pods", node="k8s-node04"))
             """),
        code("""
             import json
             info = json.loads(lab.k8s.crictl("inspectp today1", node="k8s-node04"))
             print("status.network:", info["status"]["network"])
             spec_ns = info["info"]["runtimeSpec"]["linux"]["namespaces"]
             print("netns:", [n.get("path") for n in spec_ns if n["type"] == "network"])
             """),
        code("""
             for step in lab.timeline.steps[n1:]:
                 print(f"[{step.actor}] {step.title_in(LANG)}")
             """),
        md("""
           | | 2017: kubelet + dockershim + docker | today: kubelet → CRI → containerd |
           | --- | --- | --- |
           | who makes the pod's namespace | docker, for the pause container (`--net none`) | containerd: `/var/run/netns/cni-<uuid>` |
           | who calls the CNI plugin | the kubelet | containerd, through libcni |
           | where the pod IP comes from | `eth0` inside the sandbox (`nsenter … ip addr`) | the plugin's result (`eth0`'s IPs) |
           | how you look at the sandbox | `docker inspect` | `crictl inspectp` |
           """,
           """
           | | 2017 年：kubelet + dockershim + docker | 今：kubelet → CRI → containerd |
           | --- | --- | --- |
           | Pod の名前空間を作るのは | docker（pause コンテナ用、`--net none`） | containerd：`/var/run/netns/cni-<uuid>` |
           | CNI プラグインを呼ぶのは | kubelet | containerd（libcni 経由） |
           | Pod の IP の出どころ | サンドボックスの中の `eth0`（`nsenter … ip addr`） | プラグインの結果（`eth0` の IP） |
           | サンドボックスを見るには | `docker inspect` | `crictl inspectp` |
           """),
        reveal(
            "A plugin that builds `eth0` with `10.244.2.7` but reports `10.244.2.99` in its result: "
            "which IP does each era show in `kubectl get pods`?",
            "2017 (dockershim) shows `10.244.2.7`: it reads the kernel. Today (containerd) shows "
            "`10.244.2.99`: it believes the result. That is why today a plugin's result must be "
            "exactly what it built.",
            "`eth0` に `10.244.2.7` を付けたのに結果では `10.244.2.99` と答えるプラグインがあったら、"
            "`kubectl get pods` にはそれぞれの時代でどちらの IP が出るでしょう？",
            "2017 年（dockershim）は `10.244.2.7`：カーネルを読むからです。今（containerd）は "
            "`10.244.2.99`：結果を信じるからです。だから今のプラグインの結果は、作ったものと正確に"
            "一致していなければなりません。"),
        md("""
           Next: [04_write_your_own_cni_plugin](04_write_your_own_cni_plugin.ipynb): be that plugin
           for real.
           """,
           """
           次は [04_write_your_own_cni_plugin](04_write_your_own_cni_plugin.ipynb)。本当にその
           プラグインになります。
           """),
        *cleanup(),
    ]
