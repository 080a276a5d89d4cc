"""99_trainer_deck: the talk as a RISE slideshow, readable at 1280x720 (issue 16).

Rules of this deck:

- one idea per slide: a short heading, at most a few lines of text, a code cell of one to
  four short lines (under 60 characters), an output of a few lines with the talk's key
  token marked (:func:`simlab.deck.show`);
- ipywidgets do not render in RISE (jupyterlab-contrib/rise #119, checked in chromium): the
  pictures are the browser SVG page in an iframe (:func:`simlab.deck.picture`), labels 20 px
  and more;
- sizes come from notebooks/99_trainer_deck.css, which RISE loads next to the notebook
  (the presenter settings of ``make lab-present`` do not reach RISE);
- every slide has speaker notes (a ``notes`` cell: what to say, what to expect, the pitfall,
  minutes); each part starts from a fresh lab (``lab = deck.fresh(lab)``);
- tests/ui/test_deck.py measures the fonts and that no slide leaves the viewport.
"""

from _build import Cell, code, header, md, setup

#: minutes per part, said in the notes and on the agenda (the talk is 40 minutes)
PARTS = {"A": 10, "B": 10, "C": 12, "D": 5, "E": 3}


def slide(en: str, ja: str) -> Cell:
    return md(en, ja, slide="slide")


def live(src: str) -> Cell:
    return code(src, slide="-")


def notes(minutes: float, en: str, ja: str) -> Cell:
    """Speaker notes (RISE: press T): the minutes, what to say, the expected output, the pitfall."""
    m = f"{minutes:g}"
    return md(f"**{m} min.** " + en.strip(), f"**{m} 分。** " + ja.strip(), slide="notes")


def part(letter: str, title_en: str, title_ja: str, say_en: str, say_ja: str) -> list[Cell]:
    """A part's first slide: its title and a fresh lab, so nothing of the last demo remains."""
    m = PARTS[letter]
    return [
        slide(f"""
              ## Part {letter}: {title_en} ({m} min)

              A fresh lab: nothing from the last part is left.
              """,
              f"""
              ## パート {letter}: {title_ja}（{m} 分）

              新しいラボから始めます。前のパートの物は残りません。
              """),
        live("lab = deck.fresh(lab)\nprint(lab.why)"),
        notes(0.5, say_en, say_ja),
    ]


def cells():
    head = header(
        "99 · Trainer deck: container network interfaces",
        "99 · 講師用スライド：コンテナのネットワークインターフェース",
        covers_en="""
        The talk *コンテナのネットワークインターフェース その実装手法とその応用について*
        (Tomofumi Hayashi, July Tech Festa 2017), live on a lab.
        """,
        covers_ja="""
        講演「コンテナのネットワークインターフェース その実装手法とその応用について」
        （Tomofumi Hayashi、July Tech Festa 2017）を、ラボの上で実演します。
        """,
        minutes=40)
    head.slide = "slide"
    setup_cell = setup("import simlab.deck as deck")
    setup_cell.slide = "-"  # on its own slide, "Before the talk"
    return [
        head,
        notes(1, """
              How to present: open `/rise/notebooks/99_trainer_deck.ipynb` (or the RISE button),
              run the next slide's setup cell before people arrive. On each slide click into the
              code cell and press Ctrl+Enter (run, stay) or Shift+Enter (run, go on). T opens
              these notes. Parts: A 10, B 10, C 12, D 5, E 3 minutes. If the machine fails, open
              the fallback: `python -m simlab.deck --html deck.html` (run beforehand), or
              `simlab export docker-bridge --html docker.html` for one picture.
              """,
              """
              発表のしかた：`/rise/notebooks/ja/99_trainer_deck.ipynb`（または RISE ボタン）で開き、
              参加者が来る前に次のスライドの準備セルを実行します。各スライドではコードセルを
              クリックして Ctrl+Enter（実行してそのまま）か Shift+Enter（実行して次へ）。T で
              このノートが開きます。パート配分：A 10、B 10、C 12、D 5、E 3 分。マシンが動かない
              ときは代わりのファイルを開きます：事前に `python -m simlab.deck --html deck.html`、
              図だけなら `simlab export docker-bridge --html docker.html`。
              """),
        slide("""
              ## Before the talk: set up
              """,
              """
              ## 講演の前に：準備
              """),
        setup_cell,
        notes(1, """
              Run this before the audience arrives. Expected: one line saying which backend
              (model, or kernel when Jupyter runs as root). Pitfall: kernel not started yet; wait
              for the kernel indicator, then run again.
              """,
              """
              参加者が来る前に実行します。期待する出力：どのバックエンドかを言う 1 行（model、
              root で動く Jupyter なら kernel）。落とし穴：カーネルがまだ起動していない。起動を
              待ってから再実行します。
              """),
        # ================================================================ part A
        *part("A", "a container's interface", "コンテナのインターフェース",
              "Part A: slides 1 to 4 of the talk: what a container's eth0 is. The fresh lab "
              "cell prints the backend again.",
              "パート A: 講演のスライド 1〜4。コンテナの eth0 とは何か。新しいラボのセルは"
              "バックエンドをもう一度表示します。"),
        slide("""
              ## Which interface does a container use? (slide 1)

              `docker run -it --rm centos bash`, then `ip a` inside:
              """,
              """
              ## コンテナで使ってるネットワークインターフェイスって？（スライド 1）

              `docker run -it --rm centos bash` して、中で `ip a`:
              """),
        live("""
             web = lab.docker.run("web")
             deck.show(web.exec("ip a"), r"eth0@if\\d+", lines=[0, 6, 7, 8])
             """),
        notes(3, """
              Ask the room first: which interface will the container have? Expected: `lo` and
              `eth0@ifN` with 172.17.0.2/16; only the lines that matter are shown (… marks the
              rest). Pitfall: the numbers differ from the talk's 32/33; only their relation
              matters.
              """,
              """
              まず会場に聞きます：コンテナにはどのインターフェースがある？ 期待する出力：`lo` と
              172.17.0.2/16 の `eth0@ifN`。大事な行だけを表示します（… は省略）。落とし穴:
              番号は講演の 32/33 と違います。大事なのは番号どうしの関係です。
              """),
        slide("""
              ## `ip -d a`: add the details (slide 2)
              """,
              """
              ## `ip -d a`:「-d / -details」オプションを追加（スライド 2）
              """),
        live("""
             deck.show(web.exec("ip -d a show eth0"), "veth",
                       lines=[0, 1, 2])
             """),
        notes(2, """
              `-d` adds the kind: `veth`. Expected: the second line ends with `link-netnsid 0`,
              the third starts with `veth`. Pitfall: the details line is long; it wraps on the
              slide, that is fine.
              """,
              """
              `-d` で種類 `veth` が出ます。期待する出力：2 行目の最後が `link-netnsid 0`、3 行目が
              `veth` で始まる。落とし穴：詳細の行は長いので、スライド上で折り返します。問題ありません。
              """),
        slide("""
              ## Reading `32: eth0@if33` (slide 3)

              | part | netlink | meaning |
              |---|---|---|
              | `32:` | `ifi_index` | its index here |
              | `eth0` | `IFLA_IFNAME` | its name |
              | `@if33` | `IFLA_LINK` | the peer's index |
              | `link-netnsid 0` | `IFLA_LINK_NETNSID` | the peer's namespace |
              | `veth` | `IFLA_INFO_KIND` | the kind |
              """,
              """
              ## `32: eth0@if33` を読む（スライド 3）

              | 部分 | netlink | 意味 |
              |---|---|---|
              | `32:` | `ifi_index` | ここでのインデックス |
              | `eth0` | `IFLA_IFNAME` | 名前 |
              | `@if33` | `IFLA_LINK` | 対向のインデックス |
              | `link-netnsid 0` | `IFLA_LINK_NETNSID` | 対向のいる名前空間 |
              | `veth` | `IFLA_INFO_KIND` | 種類 |
              """),
        notes(2, """
              The peer's index is in the other namespace; if the peer were in the same
              namespace, `ip` would print its name after the @. `link-netnsid` is the number
              this namespace gives the peer's namespace (0: the first it learned, the host).
              """,
              """
              対向のインデックスは別の名前空間のものです。対向が同じ名前空間にいれば、@ の後ろに
              名前が出ます。`link-netnsid` はこの名前空間が対向の名前空間に付けた番号です
              （0: 最初に知った名前空間、つまりホスト）。
              """),
        slide("""
              ## `@ifN` is an index on the host (slide 3)

              `ip link show` on the host: the veth with that index.
              """,
              """
              ## `@ifN` はホスト側のインデックス（スライド 3）

              ホストで `ip link show`: そのインデックスの veth。
              """),
        live("""
             peer = web.exec("ip a").split("eth0@if")[1].split(":")[0]
             deck.show(lab.ip("link show"), f"^{peer}: [^@]+",
                       "link-netns .*", keep=f"^{peer}:")
             """),
        notes(2, """
              Expected: the host's line `N: vethXXXX@if4: …master docker0`, N being the number
              after `eth0@if`, and its second line ending with `link-netns` and the container's
              namespace. Pitfall: `ip -br link` would hide the index; use plain `ip link`.
              `link-netns NAME` here, `link-netnsid 0` inside: iproute2 prints the name when the
              peer's namespace is named in the viewer's /run/netns, else its id.
              """,
              """
              期待する出力：ホストの `N: vethXXXX@if4: …master docker0` の行（N は `eth0@if` の後ろの
              番号）と、その 2 行目の最後の `link-netns` とコンテナの名前空間。落とし穴:
              `ip -br link` ではインデックスが見えません。普通の `ip link` を使います。ここでは
              `link-netns 名前`、中では `link-netnsid 0`: iproute2 は、対向の名前空間に見る側の
              /run/netns で名前があれば名前を、なければ ID を表示します。
              """),
        slide("""
              ## What is a veth? (slide 4)

              * a virtual L2 interface of the kernel (`drivers/net/veth.c`, from OpenVZ);
              * point-to-point: exactly one peer.
              """,
              """
              ## veth とは？（スライド 4）

              * カーネルが提供する L2 仮想インターフェース（`drivers/net/veth.c`、OpenVZ 由来）
              * P2P（ポイントツーポイント）：対向はちょうど一つ
              """),
        live("""
             n0 = len(lab.timeline)
             lab.ip("netns add red")
             lab.ip("link add veth1 type veth peer name veth2")
             lab.ip("link set veth1 netns red");
             """),
        notes(1.5, """
              Three commands: a namespace, a pair, one end moved. Say each aloud before you run
              it. Expected: no output (ip prints nothing when it works).
              """,
              """
              コマンドは三つ：名前空間、ペア、片方の移動。実行する前に一つずつ読み上げます。
              期待する出力：なし（ip は成功すると何も表示しません）。
              """),
        slide("""
              ## The pair, on the picture (slide 4)
              """,
              """
              ## 図で見るペア（スライド 4）
              """),
        live("deck.picture(lab, since=n0, lang=LANG)"),
        notes(1.5, """
              The picture starts at this slide's first command: Back and First step through the
              three commands. Point at veth1 inside red and veth2 on the host, one wire between.
              """,
              """
              図はこのスライドの最初のコマンドから始まります。「戻る」と「最初へ」で三つのコマンドを
              たどれます。red の中の veth1 とホストの veth2、その間の 1 本の線を指します。
              """),
        # ================================================================ part B
        *part("B", "namespaces and docker's modes", "名前空間と docker のモード",
              "Part B: slides 5 to 10: NET_NS, then docker's host, bridge and none modes. The "
              "fresh lab has no red and no web: say so.",
              "パート B: スライド 5〜10。NET_NS と、docker の host・bridge・none モード。新しい"
              "ラボには red も web もありません。そう伝えます。"),
        slide("""
              ## Isolating a container's network (slides 5, 6)

              `NET_NS` (`include/net/net_namespace.h`) gives each container its own IPv4 and
              IPv6 (ARP, routing), sockets, netfilter, conntrack, …
              """,
              """
              ## コンテナのネットワークの分離（スライド 5、6）

              `NET_NS`（`include/net/net_namespace.h`）でコンテナごとに分離：IPv4・IPv6
              （ARP、ルーティング）、ソケット、netfilter、conntrack など
              """),
        live("""
             lab.ip("netns add red")
             deck.show(lab.ip("-n red -br a"), "DOWN")
             """),
        notes(2, """
              A new namespace has only `lo`, and it is DOWN; `ip -n red route` would print
              nothing. Other namespaces (PID, USER, IPC, UTS) exist too; we only look at NET.
              """,
              """
              新しい名前空間には `lo` だけがあり、DOWN です。`ip -n red route` は何も表示しません。
              ほかの名前空間（PID、USER、IPC、UTS）もありますが、ここでは NET だけを見ます。
              """),
        slide("""
              ## `docker run --net host …` (slide 7)

              No new NET_NS: the host's own (PIDs are still separate).
              """,
              """
              ## `docker run --net host …` の場合（スライド 7）

              NET_NS を作らず、ホストのものをそのまま使う（pid は分離）。
              """),
        live("""
             hosty = lab.docker.run("hosty", net="host")
             deck.show(hosty.exec("ip -br a"), "em1", "docker0")
             """),
        notes(1.5, """
              Expected: the host's `em1` and `docker0` seen from inside the container. Pitfall:
              people expect an eth0; there is none.
              """,
              """
              期待する出力：コンテナの中からホストの `em1` と `docker0` が見える。落とし穴：eth0 が
              あると思われがちですが、ありません。
              """),
        slide("""
              ## `docker run --net bridge …` (slide 8)

              A new NET_NS, joined to `docker0` by a veth pair.
              """,
              """
              ## `docker run --net bridge …` の場合（スライド 8）

              NET_NS を作り、ホストのブリッジ docker0 と veth で接続。
              """),
        live("""
             n0 = len(lab.timeline)
             db = lab.docker.run("db")
             deck.picture(lab, since=n0, lang=LANG)
             """),
        notes(2, """
              The picture opens at docker's last step; press First, then Next, to walk through
              what docker did (namespace, veth, move, address, route). The new items are
              outlined in green.
              """,
              """
              図は docker の最後のステップで開きます。「最初へ」を押してから「次へ」で docker が
              したこと（名前空間、veth、移動、アドレス、ルート）をたどります。新しい物は緑の
              枠で示されます。
              """),
        slide("""
              ## `docker run --net none …` (slide 9)

              A new NET_NS and nothing else: the kernel makes `lo` (`setup_net()`).
              """,
              """
              ## `docker run --net none …` の場合（スライド 9）

              NET_NS を作るだけ。lo はカーネルが作る（`setup_net()`）。
              """),
        live("""
             nonet = lab.docker.run("nonet", net="none")
             deck.show(nonet.exec("ip -br a"), "lo")
             """),
        notes(1.5, """
              Only `lo`. This is the mode Kubernetes used in 2017: remember it for part C.
              """,
              """
              `lo` だけです。2017 年の Kubernetes が使ったのがこのモードです。パート C のために
              覚えておいてもらいます。
              """),
        slide("""
              ## `docker inspect` (slide 10)
              """,
              """
              ## 例：`docker inspect`（スライド 10）
              """),
        live("""
             s = lab.docker.inspect("db")["NetworkSettings"]
             keys = ("SandboxKey", "IPAddress", "MacAddress")
             deck.show("\\n".join(f"{k:11} {s[k]}" for k in keys),
                       "IPAddress.*")
             """),
        notes(1.5, """
              docker knows the bridge container's address. Keep this in mind: for a
              Kubernetes pod's container (next part) these fields are empty.
              """,
              """
              docker は bridge のコンテナのアドレスを知っています。覚えておいてもらいます:
              Kubernetes の Pod のコンテナ（次のパート）ではこの欄が空です。
              """),
        # ================================================================ part C
        *part("C", "Kubernetes and CNI", "Kubernetes と CNI",
              "Part C: slides 11 to 16: a pod's container has no network for docker, yet "
              "Kubernetes shows an IP. The fresh lab starts one docker container (web) for the "
              "packet in part D.",
              "パート C: スライド 11〜16。Pod のコンテナは docker から見るとネットワークなし、"
              "なのに Kubernetes には IP がある。新しいラボで、パート D のパケット用に docker "
              "コンテナ（web）を一つ起動します。"),
        slide("""
              ## A pod's container, seen by docker (slide 11)

              `docker inspect k8s_<container>_<pod>_… | jq .[].NetworkSettings`
              """,
              """
              ## Pod のコンテナを docker から見る（スライド 11）

              `docker inspect k8s_<コンテナ>_<Pod>_… | jq .[].NetworkSettings`
              """),
        live("""
             web = lab.docker.run("web")
             pod = lab.k8s.run("centos1")
             s = lab.docker.inspect(pod.app_name)["NetworkSettings"]
             deck.show("\\n".join(f"{k:11} {s[k]!r}" for k in
                       ("IPAddress", "Networks")), "''", "None")
             """),
        notes(2, """
              Expected: an empty IPAddress and no Networks (`None`, `null` in docker's JSON).
              docker believes this container has no network.
              """,
              """
              期待する出力：空の IPAddress と、空の Networks（`None`、docker の JSON では `null`）。
              docker はこのコンテナにネットワークがないと思っています。
              """),
        slide("""
              ## …yet Kubernetes shows an IP (slide 12)
              """,
              """
              ## …なのに Kubernetes には IP がある（スライド 12）
              """),
        live("""
             print("$ kubectl get -o wide pod")
             deck.show(lab.k8s.get_pods(), r"10\\.244\\.\\S+")
             """),
        live("""
             print("$ kubectl exec centos1 -- ip -br a")
             deck.show(lab.k8s.exec("centos1", "ip -br a"), "eth0")
             """),
        notes(2, """
              Expected: the pod's IP in `kubectl get`, and the same address on `eth0` inside.
              The talk's node ran Calico (a /32 and `tunl0`); this lab's plugin is a bridge (a
              /24), which is why there is no `tunl0` here.
              """,
              """
              期待する出力：`kubectl get` の Pod の IP と、中の `eth0` の同じアドレス。講演のノードは
              Calico（/32 と `tunl0`）でした。このラボのプラグインはブリッジ（/24）なので、
              `tunl0` はありません。
              """),
        slide("""
              ## Kubernetes' case (slide 13)

              * runtime: docker; network: CNI (Calico in the talk)
              * docker says: **no network**
              * Kubernetes says: **a network**, and the container really has one
              """,
              """
              ## k8s の場合は？（スライド 13）

              * コンテナランタイム：docker、ネットワーク：CNI（講演では Calico）
              * docker から見ると：**ネットワークはない**
              * k8s から見ると：**ネットワークはある**。実際にコンテナにはネットワークが見える
              """),
        notes(1, """
              The puzzle of the talk, in three lines. Let the room guess the answer before the
              next slide.
              """,
              """
              講演の謎を 3 行で。次のスライドの前に、会場に答えを予想してもらいます。
              """),
        slide("""
              ## How Kubernetes gives a container its network (slide 14)

              1. `kubectl` asks for the pod;
              2. kubelet starts it with docker's `--net none`;
              3. so, to docker, it has no network;
              4. kubelet runs CNI, which adds the network.
              """,
              """
              ## k8s のコンテナとネットワークの関係（スライド 14）

              1. kubectl でコンテナの起動命令
              2. kubelet が docker でコンテナを `--net none` で起動
              3. なので docker から見るとネットワークはなし
              4. kubelet が CNI を起動してネットワークを追加
              """),
        live("""
             kub = [s for s in lab.timeline.steps if s.actor == "kubelet"]
             deck.show("\\n".join(s.title_in(LANG) for s in kub),
                       "--net none", "CNI ADD")
             """),
        notes(2, """
              Expected: the kubelet's steps in order: the sandbox with `--net none`, then the
              CNI ADD. This was 2017 (dockershim); the "2017 → today" slide says what runs now.
              """,
              """
              期待する出力：kubelet のステップが順に：`--net none` のサンドボックス、そして CNI ADD。
              これは 2017 年（dockershim）の流れです。今の流れは「2017 → 今」のスライドで。
              """),
        slide("""
              ## CNI: ADD, DEL, VERSION; env and stdin (slide 15)

              ```go
              func main() {
                  skel.PluginMain(cmdAdd, cmdDel, version.All)
              }
              ```
              """,
              """
              ## CNI: ADD・DEL・VERSION、環境変数と STDIN（スライド 15）

              ```go
              func main() {
                  skel.PluginMain(cmdAdd, cmdDel, version.All)
              }
              ```
              """),
        live("""
             call = next(s for s in lab.timeline
                         if s.detail.get("k8s") == "cni-add")
             env = [f"{k}={v[:40]}" for k, v in call.detail["env"].items()]
             deck.show("\\n".join(env), "CNI_COMMAND=ADD", "CNI_NETNS")
             """),
        notes(2, """
              A plugin is any program: the runtime passes the command in `CNI_COMMAND`, the
              container's namespace in `CNI_NETNS`, and the network's JSON on stdin. Expected:
              `CNI_COMMAND=ADD` first. The spec is in containernetworking/cni.
              """,
              """
              プラグインは実行できるものならなんでも OK: ランタイムは命令を `CNI_COMMAND`、
              コンテナの名前空間を `CNI_NETNS`、ネットワークの JSON を STDIN で渡します。期待する
              出力：最初が `CNI_COMMAND=ADD`。仕様書は containernetworking/cni にあります。
              """),
        slide("""
              ## `bridge.go`: cmdAdd (slide 16)

              `setupBridge` → `ns.GetNS` → `setupVeth` → `ipam` → `ConfigureIface`
              """,
              """
              ## `bridge.go`: cmdAdd（スライド 16）

              ブリッジを用意 → NET_NS を取得 → veth を作って接続 → IPAM → アドレス設定
              """),
        live("""
             steps = [s for s in lab.timeline.steps
                      if s.actor == "cni:simlab-bridge" and s.mirrors]
             deck.show("\\n".join(s.mirrors for s in steps), "setupVeth")
             """),
        notes(1, """
              Expected: the names of bridge.go's functions in the order the plugin ran them. The
              next slide shows what each did.
              """,
              """
              期待する出力：bridge.go の関数名が、プラグインが実行した順に。次のスライドで
              それぞれが何をしたかを見せます。
              """),
        slide("""
              ## cmdAdd, on the picture (slide 16)
              """,
              """
              ## 図で見る cmdAdd（スライド 16）
              """),
        live("""
             deck.picture(lab, since=lab.timeline.steps.index(steps[0]),
                          lang=LANG)
             """),
        notes(1, """
              Press First, then Next: each step is one function of bridge.go. Pitfall: GetNS and
              IPAM change nothing that is drawn; the picture says so in a badge.
              """,
              """
              「最初へ」を押してから「次へ」：一歩が bridge.go の関数一つです。落とし穴：GetNS と IPAM は
              図に描く物を変えません。図はそのことをバッジで示します。
              """),
        # ================================================================ part D
        slide("""
              ## Part D: one packet, hop by hop (5 min)

              A ping from the pod to `web` on `docker0`.
              """,
              """
              ## パート D: パケットを一つ、ホップごとに（5 分）

              Pod から `docker0` 上の `web` へ ping。
              """),
        live("""
             n0 = len(lab.timeline)
             walk = lab.ping(pod.netns, web.ip).walk
             deck.show(deck.path(walk, lab), "cni0", "docker0")
             """),
        notes(1, """
              Same lab as part C (no reset: the packet needs the pod and web). Ask first: which
              way will it go? Expected: centos1 eth0 → node cni0 → node docker0 → web eth0: the
              node routes between its two bridges, cni0 (Kubernetes) and docker0 (docker).
              """,
              """
              パート C と同じラボです（リセットなし：パケットには Pod と web が必要）。先に会場に
              聞きます：どの道を通る？ 期待する出力：centos1 eth0 → node cni0 → node docker0 →
              web eth0。ノードが二つのブリッジ、cni0（Kubernetes）と docker0（docker）の間を
              ルーティングします。
              """),
        slide("""
              ## The packet, on the picture
              """,
              """
              ## 図の上のパケット
              """),
        live("""
             deck.picture(lab, since=n0, lang=LANG, full=True,
                          packet=True, height=520)
             """),
        notes(4, """
              The picture starts at the sender, large enough for the room, and moves with the
              packet: press Next hop (or Play packet) and the request (R), then the reply (A),
              go hop by hop; scroll inside the picture for the events and headers. Fit shows
              the whole path, with labels too small for a room: use it only to say what is
              where. Pitfall: on a real docker host (docker 1.13 and later) this ping can be
              dropped by docker's FORWARD policy: see the slide near the end.
              """,
              """
              図は送信元から、会場で読める大きさで始まり、パケットと一緒に動きます。「次のホップ」
              （または「パケットを再生」）を押すと、要求（R）、続いて応答（A）がホップごとに進みます。
              イベントとヘッダは図の中をスクロールして見ます。「全体」で道のり全体が見えますが、
              会場には小さすぎるので、どこに何があるかを言うときだけ使います。落とし穴：本物の
              docker ホスト（docker 1.13 以降）では、この ping は docker の FORWARD ポリシーで
              落とされることがあります。最後の方のスライドを見てください。
              """),
        # ================================================================ part E
        slide("""
              ## Part E: 2017 → today (3 min)

              * 2017: kubelet → dockershim → docker `--net none` → kubelet runs CNI
              * Kubernetes 1.24 removed dockershim: kubelet → CRI → containerd or CRI-O
              * the runtime makes `/var/run/netns/cni-<uuid>` and calls CNI (libcni)
              * `crictl inspectp` replaces `docker inspect`
              """,
              """
              ## パート E: 2017 → 今（3 分）

              * 2017 年：kubelet → dockershim → docker `--net none` → kubelet が CNI を実行
              * Kubernetes 1.24 で dockershim は削除：kubelet → CRI → containerd か CRI-O
              * ランタイムが `/var/run/netns/cni-<uuid>` を作り、CNI を呼ぶ（libcni）
              * `docker inspect` の代わりに `crictl inspectp`
              """),
        notes(1.5, """
              The mechanism of the talk (a namespace, a veth, CNI ADD) is unchanged; who calls
              the plugin changed. Since 1.24 the pod IP comes from the CNI result that the
              runtime keeps (in 2017 dockershim read it from eth0 in the sandbox). containerd 2.x
              makes the network before the pause container.
              """,
              """
              講演の仕組み（名前空間、veth、CNI ADD）は変わっていません。変わったのはプラグインを
              呼ぶ側です。1.24 以降、Pod の IP はランタイムが保持する CNI の結果から取ります
              （2017 年の dockershim はサンドボックス内の eth0 から読んでいました）。containerd 2.x は
              pause コンテナより先にネットワークを作ります。
              """),
        slide("""
              ## docker's FORWARD DROP

              * docker 1.13+ sets `iptables -P FORWARD DROP` when it turns on `ip_forward`
              * pod traffic that crosses the node, not through `docker0`, is dropped
              * kubernetes #40182 (2017); fix: `iptables -P FORWARD ACCEPT` or rules in
                `DOCKER-USER`
              """,
              """
              ## docker の FORWARD DROP

              * docker 1.13 以降、`ip_forward` を自分で有効にすると `iptables -P FORWARD DROP`
              * ノードを通る Pod の通信（`docker0` 以外）は落とされる
              * kubernetes #40182（2017 年）。対処：`iptables -P FORWARD ACCEPT` か
                `DOCKER-USER` にルール
              """),
        notes(1.5, """
              The classic 2017 incident: upgrading docker on nodes stopped pod traffic. Docker
              only sets DROP when it enabled ip_forward itself. The diagnosis exercise in
              notebook 02 builds exactly this fault.
              """,
              """
              2017 年の有名な障害：ノードの docker を上げたら Pod の通信が止まった。docker が DROP
              にするのは、自分で ip_forward を有効にしたときだけです。ノートブック 02 の
              「壊れた所を探す」課題がまさにこの障害を作ります。
              """),
        slide("""
              ## Try it yourself

              * `01`: build slide 1's `eth0@if33` by hand
              * `02`: docker's four modes, step by step
              * `03`: the kubelet and CNI beside `bridge.go`
              * `04`: your own plugin, run by the kubelet
              """,
              """
              ## 自分でやってみる

              * `01`: スライド 1 の `eth0@if33` を手で作る
              * `02`: docker の四つのモードを一歩ずつ
              * `03`: kubelet と CNI を `bridge.go` と並べて
              * `04`: 自分のプラグインを kubelet に実行させる
              """),
        notes(1, """
              Point to 00_start_here: it lists the 60- and 90-minute routes. The HTML export
              (`simlab export SCENARIO --html FILE`) runs anywhere with no Python.
              """,
              """
              00_start_here を紹介します：60 分と 90 分のコースが載っています。HTML エクスポート
              （`simlab export シナリオ --html ファイル`）は Python なしでどこでも動きます。
              """),
        code("lab.close()", slide="skip", tags=("cleanup",)),
    ]
