"""99_trainer_deck: the talk as a RISE slideshow, every slide live (text and static figures).

ipywidgets do not render in RISE (jupyterlab-contrib/rise #119), so this deck uses no widget:
each slide's cell prints text or draws a static matplotlib figure.  For the stepper, switch to
the notebooks 01 to 03 in JupyterLab itself.
"""

from _build import Cell, code, header, md, setup

DECK_SETUP = """
import matplotlib.pyplot as plt

import simlab.scenarios


def picture(since=None, title=""):
    '''The lab as it is now; what changed since step `since` (default: the last step) highlighted.'''
    steps = lab.timeline.steps
    first = steps[-1 if since is None else since]
    changed = simlab.Step(title={"en": title}, why={"en": ""},
                          ops=tuple(op for s in steps[steps.index(first):] for op in s.ops),
                          before=first.before, after=steps[-1].after)
    ax = simlab.draw(changed.after, highlight=changed, lang=LANG)
    if title:
        ax.set_title(title, loc="left")
    plt.show()
"""


def slide(en: str, ja: str) -> Cell:
    return md(en, ja, slide="slide")


def live(src: str) -> Cell:
    return code(src, slide="-")


def cells():
    head = header(
        "99 · Trainer deck: container network interfaces", "99 · 講師用スライド: コンテナのネットワークインターフェース",
        covers_en="""
        The talk *コンテナのネットワークインターフェース その実装手法とその応用について* (Tomofumi
        Hayashi, July Tech Festa 2017) as a live slideshow: each slide runs on a lab.
        **Present:** open it with jupyterlab-rise (`/rise/notebooks/99_trainer_deck.ipynb`, the
        RISE toolbar button, or `Alt+R` for a side preview). Start with the setup cell below this
        text; on each slide, click into its code cell and press Ctrl+Enter (run, stay) or
        Shift+Enter (run, go on). ipywidgets do not render in RISE: the slides show static figures
        and, for the packet, the self-contained picture page (`simlab.widgets.page_frame`); for
        the stepper itself switch to notebooks 01–03 in JupyterLab (`make lab-present` gives big
        fonts).
        """,
        covers_ja="""
        講演「コンテナのネットワークインターフェース その実装手法とその応用について」（Tomofumi Hayashi、
        July Tech Festa 2017）を、その場で動くスライドショーにしたものです。各スライドはラボの上で
        実行されます。**発表のしかた:** jupyterlab-rise で開きます（`/rise/notebooks/ja/99_trainer_deck.ipynb`、
        RISE のツールバーボタン、または `Alt+R` で横にプレビュー）。まずこの文の下の準備のセルを
        実行し、各スライドではコードセルをクリックして Ctrl+Enter（実行してそのまま）か Shift+Enter
        （実行して次へ）を押します。RISE では ipywidgets が表示されないので、スライドには静的な図と、
        パケットには自己完結した図のページ（`simlab.widgets.page_frame`）を出します。ステッパーを
        見せるときは JupyterLab でノートブック 01〜03 に切り替えてください（`make lab-present` で
        大きな文字になります）。
        """,
        minutes=40)
    head.slide = "slide"
    setup_cell = setup(DECK_SETUP)
    setup_cell.slide = "-"  # on the title slide: Shift+Enter there runs it
    return [
        head,
        setup_cell,
        # ------------------------------------------------------------ slide 1
        slide("""
              ## What network interface does a container use? (slide 1)

              `docker run -it --rm centos bash`, then `ip a` inside:
              """,
              """
              ## コンテナで使ってるネットワークインターフェイスって？（スライド 1）

              `docker run -it --rm centos bash` して、中で `ip a`:
              """),
        live("""
             web = lab.docker.run("web")
             print(f"[root@{web.short_id} /]# ip a")
             print(web.exec("ip a"))
             """),
        # ------------------------------------------------------------ slide 2
        slide("""
              ## `ip -d a`: add the details (slide 2)
              """,
              """
              ## `ip -d a`: 「-d / -details」オプションを追加（スライド 2）
              """),
        live("""
             print(web.exec("ip -d a show eth0"))
             """),
        # ------------------------------------------------------------ slide 3
        slide("""
              ## Reading `32: eth0@if33` (slide 3)

              | part | netlink | meaning |
              |---|---|---|
              | `32:` | `ifi_index` | the interface's index in this namespace |
              | `eth0` | `IFLA_IFNAME` | its name |
              | `@if33` | `IFLA_LINK` | the peer's index (or name, if it is in the same namespace) |
              | `link-netnsid 0` | `IFLA_LINK_NETNSID` | the peer's namespace, as this namespace numbers it |
              | `veth` | `IFLA_INFO_KIND` | a virtual L2 interface the kernel provides |
              """,
              """
              ## `32: eth0@if33` を読む（スライド 3）

              | 部分 | netlink | 意味 |
              |---|---|---|
              | `32:` | `ifi_index` | この名前空間での IF インデックス |
              | `eth0` | `IFLA_IFNAME` | 名前 |
              | `@if33` | `IFLA_LINK` | 対面のインターフェースの ifi_index（同じ名前空間なら対面の名前） |
              | `link-netnsid 0` | `IFLA_LINK_NETNSID` | 対面のいる名前空間（この名前空間から見た ID） |
              | `veth` | `IFLA_INFO_KIND` | カーネルが提供する仮想 L2 インターフェース |
              """),
        live("""
             peer = web.exec("ip a").split("eth0@if")[1].split(":")[0]
             print(f"$ ip -d link    # on the host: index {peer} is the other end")
             print("\\n".join(l for l in lab.ip("-br link").splitlines() if l.split()[0].startswith("veth")))
             """),
        # ------------------------------------------------------------ slide 4
        slide("""
              ## What is a veth? (slide 4)

              * a virtual L2 interface the kernel provides (`drivers/net/veth.c`, from OpenVZ);
              * point-to-point: exactly one partner, found with `IFLA_LINK_NETNSID`;
              * `ip link add veth1 type veth peer name veth2`
              """,
              """
              ## veth とは？（スライド 4）

              * カーネルが提供する L2 仮想インターフェース（`drivers/net/veth.c`、OpenVZ 由来）
              * P2P（Point-to-point）での接続形態。相手（接続先）は一つで、`IFLA_LINK_NETNSID` で確認
              * `ip link add veth1 type veth peer name veth2`
              """),
        live("""
             lab.ip("netns add red")
             lab.ip("link add veth1 type veth peer name veth2")
             lab.ip("link set veth1 netns red")
             print(lab.ip("-n red link show veth1"))
             picture(title="ip link set veth1 netns red")
             """),
        # ------------------------------------------------------------ slides 5, 6
        slide("""
              ## Isolating a container's network (slides 5 and 6)

              Namespaces: PID, **NET**, USER, IPC, UTS, … `NET_NS`
              (`include/net/net_namespace.h`) gives each container its own:

              IPv4 (ARP, routing) · IPv6 (neighbours, routing) · Unix domain sockets ·
              netfilter (iptables) · conntrack (the NAT table) · MPLS, SCTP, …
              """,
              """
              ## コンテナのネットワークの分離（スライド 5、6）

              名前空間: PID、**NET**、USER、IPC、UTS … `NET_NS`（`include/net/net_namespace.h`）で
              コンテナ毎に分離されるもの:

              IPv4（arp/ルーティング含む）・IPv6（neighbor/ルーティング含む）・Unix ドメインソケット・
              netfilter（iptables）・conntrack（NAT テーブル）・その他（MPLS、sctp 等）
              """),
        live("""
             print("$ ip -n red route        # a new namespace: no routes, lo DOWN")
             print(lab.ip("-n red route") or "(nothing)")
             print(lab.ip("-n red -br a"))
             """),
        # ------------------------------------------------------------ slide 7
        slide("""
              ## `docker run --net host … bash` (slide 7)

              No new NET_NS: the container uses the host's (its PIDs are still separate).
              """,
              """
              ## `docker run --net host … bash` の場合（スライド 7）

              NET_NS を作成せずにホストのものをそのまま流用（pid は分離）。
              """),
        live("""
             hosty = lab.docker.run("hosty", net="host")
             print(hosty.exec("ip -br a"))
             """),
        # ------------------------------------------------------------ slide 8
        slide("""
              ## `docker run --net bridge … bash` (slide 8)

              A new NET_NS, joined to the host's bridge `docker0` by a veth pair.
              """,
              """
              ## `docker run --net bridge … bash` の場合（スライド 8）

              NET_NS を作成して、ホストの NET_NS にあるブリッジ（docker0）と veth で接続。
              """),
        live("""
             n0 = len(lab.timeline)
             db = lab.docker.run("db")
             for step in lab.timeline.steps[n0:]:
                 print(f"- {step.title_in(LANG)}")
             picture(since=n0, title="docker run --net bridge db")
             """),
        # ------------------------------------------------------------ slide 9
        slide("""
              ## `docker run --net none … bash` (slide 9)

              A new NET_NS and nothing else; `lo` is made by the kernel when the namespace is created
              (`net/core/net_namespace.c: setup_net()`).
              """,
              """
              ## `docker run --net none … bash` の場合（スライド 9）

              NET_NS を作成して、他に何も行なわない。lo 等のデバイスは NET_NS 作成時にカーネルが
              自動的に作成（`net/core/net_namespace.c: setup_net()`）。
              """),
        live("""
             nonet = lab.docker.run("nonet", net="none")
             print(nonet.exec("ip a"))
             print(lab.docker.reach("nonet", "lan").error)
             """),
        # ------------------------------------------------------------ slide 10
        slide("""
              ## `docker inspect` (slide 10)
              """,
              """
              ## 例: `docker inspect`（スライド 10）
              """),
        live("""
             settings = lab.docker.inspect("web")["NetworkSettings"]
             for key in ("SandboxKey", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress"):
                 print(f"{key:12} {settings[key]}")
             print("Networks:", list(settings["Networks"]))
             """),
        # ------------------------------------------------------------ slides 11, 12
        slide("""
              ## A Kubernetes pod's container (slides 11 and 12)

              `docker inspect k8s_<container>_<pod>_… | jq .[].NetworkSettings`
              """,
              """
              ## Kubernetes の Pod のコンテナ（スライド 11、12）

              `docker inspect k8s_<コンテナ>_<Pod>_… | jq .[].NetworkSettings`
              """),
        live("""
             pod = lab.k8s.run("centos1")
             settings = lab.docker.inspect(pod.app_name)["NetworkSettings"]
             for key in ("SandboxKey", "IPAddress", "MacAddress", "Networks"):
                 print(f"{key:12} {settings[key]!r}")
             """),
        # ------------------------------------------------------------ slide 13
        slide("""
              ## …yet Kubernetes shows an IP (slide 13)
              """,
              """
              ## …なのに Kubernetes には IP がある（スライド 13）
              """),
        live("""
             print("$ kubectl get -o wide pod")
             print(lab.k8s.get_pods())
             print(f"$ docker exec -it {pod.app_name[:30]}… ip a")
             print(lab.k8s.exec("centos1", "ip -br a"))
             """),
        # ------------------------------------------------------------ slide 14
        slide("""
              ## How Kubernetes gives a container its network (slide 14)

              1. `kubectl` asks for the pod;
              2. kubelet starts the container with docker's `--net none` (`NetworkMode = "none"`);
              3. so, to docker, it has no network;
              4. kubelet runs CNI, which adds the network: Kubernetes knows it, and it is really there.
              """,
              """
              ## k8s のコンテナとネットワークの関係（スライド 14）

              1. kubectl でコンテナの起動命令
              2. kubelet が docker でコンテナを `--net none` で起動（実際には docker API 経由なので `NetworkMode = "none"`）
              3. コンテナはネットワーク無しで起動 → docker から見るとネットワークはなし
              4. kubelet が CNI を起動してコンテナにネットワークを追加 → k8s はネットワークを認識し、実際に存在する
              """),
        live("""
             start = next(i for i, s in enumerate(lab.timeline.steps) if s.actor == "kubelet")
             for step in lab.timeline.steps[start:]:
                 print(f"[{step.actor:18}] {step.title_in(LANG)}")
             """),
        # ------------------------------------------------------------ slide 15
        slide("""
              ## CNI: ADD, DEL and VERSION; env vars and stdin (slide 15)

              ```go
              489 func main() {
              490     skel.PluginMain(cmdAdd, cmdDel, version.All)
              491 }
              ```
              Anything that runs (even a shell script); the spec is in containernetworking/cni.
              """,
              """
              ## CNI: ADD・DEL・VERSION の 3 命令、STDIN と環境変数（スライド 15）

              ```go
              489 func main() {
              490     skel.PluginMain(cmdAdd, cmdDel, version.All)
              491 }
              ```
              単体で実行できるものならなんでも OK（shell script も可）。仕様書は containernetworking/cni に。
              """),
        live("""
             call = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
             for key, value in call.detail["env"].items():
                 print(f"{key}={value[:70]}")
             print("stdin:", call.detail["stdin"][:110], "…")
             """),
        # ------------------------------------------------------------ slide 16
        slide("""
              ## `bridge.go`: cmdAdd (slide 16)

              `setupBridge` → `ns.GetNS` → `setupVeth` → `netns.Do(… ipam.ConfigureIface …)`
              """,
              """
              ## `bridge.go`: cmdAdd（スライド 16）

              ブリッジを見つけて → コンテナの NET_NS を取得 → veth の作成とブリッジへの接続 →
              コンテナの NET_NS に移動して IP アドレスを設定
              """),
        live("""
             steps = [s for s in lab.timeline.steps if s.actor == "cni:simlab-bridge" and s.mirrors]
             for s in steps:
                 print(f"{s.mirrors:32} {'; '.join(s.commands)[:90]}")
             picture(since=lab.timeline.steps.index(steps[0]), title="CNI ADD: simlab-bridge")
             """),
        # ------------------------------------------------------------ packet walk
        slide("""
              ## One packet, hop by hop

              From the pod to a container on `docker0`: the pod's route, ARP, veth, the bridge, the
              node's routing, and back.
              """,
              """
              ## パケットを一つ、ホップごとに

              Pod から `docker0` 上のコンテナへ: Pod のルート、ARP、veth、ブリッジ、ノードの
              ルーティング、そして応答。
              """),
        live("""
             walk = lab.k8s.reach("centos1", web.ip)
             print("\\n".join(walk.lines(LANG)[:9]))
             """),
        slide("""
              ## The same packet, on the picture

              A real ping from the pod. **Play packet**: the request (R) and the reply (A) move hop
              by hop; the event list and the headers follow. This picture is a self-contained page
              (`simlab.export_html`), so it also runs in this slideshow and with no network.
              """,
              """
              ## 同じパケットを図の上で

              Pod から本物の ping を送ります。**パケットを再生** で要求 (R) と応答 (A) がホップ
              ごとに進み、イベント一覧とヘッダも一緒に動きます。この図は自己完結した HTML
              （`simlab.export_html`）なので、このスライドショーでもネットワークなしでも動きます。
              """),
        live("""
             lab.ping(pod.netns, web.ip)
             simlab.widgets.page_frame(lab.timeline.steps[-12:], lang=LANG, presenter=True)
             """),
        # ------------------------------------------------------------ end
        slide("""
              ## Try it yourself

              * `01_namespaces_and_veth`: build slide 1's `eth0@if33` by hand;
              * `02_docker_network_modes`: the four modes with the stepper;
              * `03_kubernetes_and_cni`: the kubelet and CNI, step by step beside `bridge.go`;
              * `04_write_your_own_cni_plugin`: your plugin, run by the kubelet.
              """,
              """
              ## 自分でやってみる

              * `01_namespaces_and_veth`: スライド 1 の `eth0@if33` を手で作る
              * `02_docker_network_modes`: 四つのモードをステッパーで
              * `03_kubernetes_and_cni`: kubelet と CNI を `bridge.go` と並べて一歩ずつ
              * `04_write_your_own_cni_plugin`: 自分のプラグインを kubelet に実行させる
              """),
        code("lab.close()", slide="skip", tags=("cleanup",)),
    ]
