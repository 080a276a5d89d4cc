"""00_start_here: what simlab is, checking the machine, choosing a backend, the stepper."""

from _build import cleanup, code, header, md, reveal, setup


def cells():
    return [
        header(
            "simlab: start here", "simlab: はじめに",
            covers_en="""
            simlab is a lab for **Linux container networking**: network namespaces, veth pairs,
            bridges, routes and NAT, and then how Docker and a Kubernetes CNI plugin build them.
            You type the same `ip` commands as on a real machine and watch the network change, step
            by step. This notebook checks your machine, explains the two backends and shows how to
            use the stepper, the widget every other notebook uses.
            """,
            covers_ja="""
            simlab は **Linux コンテナネットワーク**の実験室です。ネットワーク名前空間、veth ペア、
            ブリッジ、ルート、NAT、そして Docker や Kubernetes の CNI プラグインがそれらをどう組み
            立てるかを扱います。本物のマシンと同じ `ip` コマンドを打ち、ネットワークが一歩ずつ変わる
            様子を見ます。このノートブックでは、マシンの確認、二つのバックエンドの説明、そして他の
            すべてのノートブックで使うステッパーの使い方を紹介します。
            """,
            minutes=10),
        md("""
           ## The story

           The notebooks follow the talk *コンテナのネットワークインターフェース その実装手法とその応用について*
           (Tomofumi Hayashi, July Tech Festa 2017), in its order:

           | notebook | what you build | slides |
           |---|---|---|
           | [01_namespaces_and_veth](01_namespaces_and_veth.ipynb) | two namespaces, a veth pair between them, a ping; reading `eth0@if33` and `link-netnsid` | 1–6 |
           | [02_docker_network_modes](02_docker_network_modes.ipynb) | `docker run --net none / host / bridge / container:X`, `docker inspect`, NAT and a published port | 7–10 |
           | [03_kubernetes_and_cni](03_kubernetes_and_cni.ipynb) | why `docker inspect` of a pod shows no network: the kubelet's `--net none`, then CNI ADD, step by step beside `bridge.go` | 11–16 |
           | [04_write_your_own_cni_plugin](04_write_your_own_cni_plugin.ipynb) | your own CNI plugin (a shell script, then Python), run by simlab's kubelet | 15 |
           | [99_trainer_deck](99_trainer_deck.ipynb) | the talk as a slideshow, every slide live | all |

           Each notebook has **predict, then reveal** questions (think first, then open the
           answer) and **tasks** with a checker that tells you what is still missing.
           """,
           """
           ## ストーリー

           ノートブックは講演「コンテナのネットワークインターフェース その実装手法とその応用について」
           （Tomofumi Hayashi、July Tech Festa 2017）の順番に沿って進みます。

           | ノートブック | 作るもの | スライド |
           |---|---|---|
           | [01_namespaces_and_veth](01_namespaces_and_veth.ipynb) | 二つの名前空間、その間の veth ペア、ping。`eth0@if33` と `link-netnsid` の読み方 | 1–6 |
           | [02_docker_network_modes](02_docker_network_modes.ipynb) | `docker run --net none / host / bridge / container:X`、`docker inspect`、NAT と公開ポート | 7–10 |
           | [03_kubernetes_and_cni](03_kubernetes_and_cni.ipynb) | Pod を `docker inspect` してもネットワークが見えない理由。kubelet の `--net none` と CNI ADD を `bridge.go` と並べて一歩ずつ | 11–16 |
           | [04_write_your_own_cni_plugin](04_write_your_own_cni_plugin.ipynb) | 自作の CNI プラグイン（シェルスクリプト、次に Python）を simlab の kubelet に実行させる | 15 |
           | [99_trainer_deck](99_trainer_deck.ipynb) | 講演そのままのスライドショー。どのスライドもその場で動く | 全部 |

           各ノートブックには **予想してから答えを見る** 質問（まず考えてから答えを開く）と、
           **課題**（何が足りないかを教えてくれるチェッカー付き）があります。
           """),
        md("""
           ## Routes: a 60- or a 90-minute workshop

           All notebooks take about 160 minutes (and the deck 40). A workshop takes a route: the
           sections below, in this order; everything else is optional (self-study, or at home).
           Each section's heading says which route takes it and for how long (`Route: …`).

           | notebook | 60 min | 90 min |
           |---|---|---|
           | `00_start_here` | §2, §3 (5 min) | §2, §3 (5 min) |
           | `01_namespaces_and_veth` | §1, §2, §3, §4, §5, §6 (25 min) | §1, §2, §3, §4, §5, §6 (25 min) |
           | `02_docker_network_modes` | §1, §2, §3 (15 min) | §1, §2, §3, §4, §5, §6 (22 min) |
           | `03_kubernetes_and_cni` | §1, §2, §3 (15 min) | §1, §2, §3, §4, §5 (25 min) |
           | `04_write_your_own_cni_plugin` | — | §1, §2, §3 (13 min) |
           | total | 60 min | 90 min |

           §N is the notebook's section "N." (its setup cell and clean-up always come along).
           The route data is `simlab.routes`; a test runs each route's cells in this order.
           """,
           """
           ## コース: 60 分または 90 分のワークショップ

           ノートブック全部で約 160 分（スライドは 40 分）かかります。ワークショップでは下の
           コースに沿って、この順に節を進めます。それ以外は省略できます（自習や持ち帰り用）。
           各節の見出しに、どのコースで何分使うかが書いてあります（`コース：…`）。

           | ノートブック | 60 分コース | 90 分コース |
           |---|---|---|
           | `00_start_here` | §2、§3（5 分） | §2、§3（5 分） |
           | `01_namespaces_and_veth` | §1、§2、§3、§4、§5、§6（25 分） | §1、§2、§3、§4、§5、§6（25 分） |
           | `02_docker_network_modes` | §1、§2、§3（15 分） | §1、§2、§3、§4、§5、§6（22 分） |
           | `03_kubernetes_and_cni` | §1、§2、§3（15 分） | §1、§2、§3、§4、§5（25 分） |
           | `04_write_your_own_cni_plugin` | — | §1、§2、§3（13 分） |
           | 合計 | 60 分 | 90 分 |

           §N はノートブックの「N.」の節です（準備のセルと後片付けは常に含みます）。
           コースのデータは `simlab.routes` にあり、テストが各コースのセルをこの順に実行します。
           """),
        md("""
           ## 1. Check your machine

           _Route: optional (60 min and 90 min)_

           `simlab doctor` says what this machine offers: simlab's and its packages' versions,
           whether you are root, whether the kernel has network namespaces, which of the
           machine's programs the kernel backend runs are there (a missing one comes with the
           `apt-get install` line that brings it), and so which backend `simlab.Lab()` will
           choose. In a terminal it is `simlab doctor`; here we call the same function.
           """,
           """
           ## 1. マシンを確認する

           _コース：省略可（60 分・90 分）_

           `simlab doctor` はこのマシンで使えるものを表示します。simlab と関連パッケージの
           バージョン、root かどうか、カーネルにネットワーク名前空間があるか、kernel バックエンドが使う
           マシンのプログラム（足りないものにはそれを入れる `apt-get install` の行が付きます）、
           そしてその結果 `simlab.Lab()` がどちらのバックエンドを選ぶか。ターミナルでは
           `simlab doctor` ですが、ここでは同じ関数を呼びます。
           """),
        code("""
             import simlab

             simlab.doctor()
             """),
        md("""
           ## 2. Choose a backend

           _Route: 60 min (2 min) · 90 min (2 min)_

           simlab runs every command on one of two **backends**:

           * **model**: a pure-Python model of the kernel's network state. It follows the kernel's
             rules (a new namespace gets a DOWN `lo`; moving a link drops its addresses; a veth is
             `LOWER_UP` only when both ends are up; …) and gives the same error messages as `ip`.
             It needs no privileges and changes nothing on your machine.
           * **kernel**: the same operations on the real Linux kernel, in namespaces the lab
             creates (its "node" is a namespace too) and removes with `lab.close()`. It needs root,
             or, as a normal user, a Linux that allows user namespaces: then the lab lives in a
             user namespace of your own and never touches the machine.

           `simlab.Lab()` (backend `"auto"`) takes the kernel when it can and tells you why in
           `lab.why`. Every notebook starts with this setup cell: it also makes errors print a
           hint (`simlab.notebook.install`) and sets simlab's language.
           """,
           """
           ## 2. バックエンドを選ぶ

           _コース：60 分（2 分）・90 分（2 分）_

           simlab はすべてのコマンドを二つの**バックエンド**のどちらかで実行します。

           * **model**: カーネルのネットワーク状態を Python で再現したモデル。カーネルの規則
             （新しい名前空間の `lo` は DOWN、リンクを移すとアドレスが消える、veth は両端が UP の
             ときだけ `LOWER_UP`、…）に従い、`ip` と同じエラーメッセージを出します。権限は不要で、
             マシンには何も変更を加えません。
           * **kernel**: 同じ操作を本物の Linux カーネルで、ラボが作る名前空間の中で行います
             （ラボの「ノード」も名前空間です）。`lab.close()` で消えます。root か、一般ユーザーなら
             ユーザー名前空間を許す Linux が必要です。後者ではラボは自分のユーザー名前空間の中に
             でき、マシンには一切触れません。

           `simlab.Lab()`（バックエンド `"auto"`）は使えるなら kernel を選び、その理由を `lab.why`
           に入れます。どのノートブックもこの準備のセルから始まります。このセルはエラーにヒントを
           付けて表示する設定（`simlab.notebook.install`）と、simlab の言語の設定もします。
           """),
        setup(),
        md("""
           You can always ask for a backend by name. A model lab is cheap: make as many as you like.
           Asking for `"kernel"` where neither is possible raises an error that says what to do.
           """,
           """
           バックエンドはいつでも名前で指定できます。model のラボは軽いので、いくつ作っても構いません。
           どちらもできない環境で `"kernel"` を指定すると、どうすればよいかを書いたエラーになります。
           """),
        code("""
             scratch = simlab.Lab(backend="model")
             print(scratch)
             """),
        md("""
           ## 3. Your first commands

           _Route: 60 min (3 min) · 90 min (3 min)_

           `lab.ip("...")` takes what you would type after `ip`. A command that changes something
           prints nothing (like `ip`); a show command returns `ip`'s text.
           """,
           """
           ## 3. 最初のコマンド

           _コース：60 分（3 分）・90 分（3 分）_

           `lab.ip("...")` には `ip` の後ろに打つものをそのまま渡します。何かを変えるコマンドは
           （`ip` と同じく）何も表示せず、表示コマンドは `ip` の出力をそのまま返します。
           """),
        code("""
             lab.ip("netns add red")
             lab.ip("link add veth1 type veth peer name veth2")
             lab.ip("link set veth1 netns red")
             print(lab.ip("netns"))
             print(lab.ip("-n red link"))
             """),
        md("""
           A mistake gives `ip`'s own message, and simlab adds a hint (in the current language).
           `simlab.notebook.expect_error()` shows an error without stopping the notebook; without
           it the cell would fail with the same two lines.
           """,
           """
           間違えると `ip` 自身のメッセージが出て、simlab がヒントを付けます（いまの言語で）。
           `simlab.notebook.expect_error()` はノートブックを止めずにエラーを表示します。
           これがなければ、セルは同じ 2 行を出して失敗します。
           """),
        code("""
             with simlab.notebook.expect_error():
                 lab.ip("link set veth9 up")
             """),
        md("""
           ## 4. The stepper

           _Route: optional (60 min and 90 min)_

           Everything you do becomes a **step** on `lab.timeline`: a title, why it happens, the
           `ip` commands it made, and the network before and after. `simlab.widgets.Stepper(lab)`
           lets you walk through them:

           * **First / Back / Next / Last** and the slider move between steps; **Play** runs them;
           * the picture shows every namespace as a box, links as dots and lines; what the step
             **added** is green, what it **changed** amber, what it **removed** a red ghost;
           * on the right: the step's title, *why*, and the commands;
           * under it, `ip a` of the namespace you pick, as it was after that step (new lines
             highlighted); the second menu shows its `ip route`, `ip neigh` (the ARP cache) or
             `bridge fdb` instead.

           Going back never re-runs anything: the stepper shows the recorded snapshots.
           """,
           """
           ## 4. ステッパー

           _コース：省略可（60 分・90 分）_

           行った操作はすべて `lab.timeline` の**ステップ**になります。タイトル、なぜそうなるか、
           実行した `ip` コマンド、前後のネットワーク状態が記録されます。
           `simlab.widgets.Stepper(lab)` でそれを順にたどれます。

           * **最初へ / 戻る / 次へ / 最後へ** とスライダーでステップを移動し、**再生** で自動で進みます。
           * 図では名前空間が箱、リンクが点と線です。そのステップで**追加**されたものは緑、
             **変更**は橙、**削除**は赤い点線で示されます。
           * 右側にはステップのタイトル、*解説*、コマンドが出ます。
           * その下には、選んだ名前空間の `ip a` が、そのステップの直後の状態で表示されます
             （新しい行は色付き）。二つ目のメニューで `ip route`、`ip neigh`（ARP キャッシュ）、
             `bridge fdb` に切り替えられます。

           戻っても何も再実行しません。ステッパーは記録したスナップショットを表示します。
           """),
        code("""
             simlab.widgets.Stepper(lab, ns="red", lang=LANG)
             """, tags=("stepper",)),
        reveal(
            "In the stepper, go to the step `ip link set veth1 netns red`. Which end of the pair "
            "changes colour, and what happens to the line between the two ends?",
            "veth1 is drawn **amber** (changed) and moves into the box `red`, with a dotted trail "
            "from where it was. The line between veth1 and veth2 stays: a veth pair stays a pair "
            "when one end moves; only its ends now live in different namespaces.",
            "ステッパーで `ip link set veth1 netns red` のステップに進んでください。ペアのどちらの端の"
            "色が変わり、両端を結ぶ線はどうなるでしょう？",
            "veth1 が**橙**（変更）になり、元の位置からの点線を残して箱 `red` の中に移ります。"
            "veth1 と veth2 を結ぶ線は残ります。片端を移しても veth ペアはペアのままで、両端が別々の"
            "名前空間にあるだけです。"),
        md("""
           ## 5. Scenarios and the terminal tour

           _Route: optional (60 min and 90 min)_

           The talk's examples are also ready-made **scenarios**. `simlab.scenarios.run(name)`
           builds one on a new model lab; the stepper shows it. In a terminal,
           `simlab tour veth-basics` (add `--lang ja`) walks through the same steps as text.
           """,
           """
           ## 5. シナリオとターミナルのツアー

           _コース：省略可（60 分・90 分）_

           講演の例は出来合いの**シナリオ**としても用意されています。`simlab.scenarios.run(name)`
           は新しい model のラボにシナリオを組み立て、ステッパーで見られます。ターミナルでは
           `simlab tour veth-basics`（日本語は `--lang ja`）で同じステップを文字で順にたどれます。
           """),
        code("""
             import simlab.scenarios

             print(simlab.scenarios.names())
             bridge_lab = simlab.scenarios.run("bridge")
             simlab.widgets.Stepper(bridge_lab, ns="ns1", lang=LANG)
             """, tags=("stepper",)),
        md("""
           ## 6. How the exercises work

           _Route: optional (60 min and 90 min)_

           A **task** has three cells after it:

           1. **your cell**: empty except for a comment; write your commands there;
           2. **the check**: a checker from `simlab.exercises` looks at the lab's state and prints
              `✔` or `✘` with a hint that points to the idea you need, not to the command;
           3. **the solution**: collapsed (click the `…` to open it). It starts by removing what
              your attempt may have left, then builds the answer and checks it. Try first!

           When the notebooks run unattended (`make test`), the solution cells make every notebook
           run from top to bottom; the first check then shows what a hint looks like.
           """,
           """
           ## 6. 演習の進め方

           _コース：省略可（60 分・90 分）_

           **課題**の後には三つのセルがあります。

           1. **あなたのセル**: コメントだけの空のセルです。ここにコマンドを書きます。
           2. **チェック**: `simlab.exercises` のチェッカーがラボの状態を調べ、`✔` か `✘` と、
              コマンドそのものではなく必要な考え方を指すヒントを表示します。
           3. **解答例**: 折りたたまれています（`…` をクリックすると開きます）。あなたの試みが
              残したものを消してから答えを組み立て、チェックします。まずは自分でやってみましょう！

           ノートブックを自動で実行するとき（`make test`）は、解答例のセルのおかげでどのノート
           ブックも最後まで実行できます。最初のチェックはヒントの見本を表示します。
           """),
        md("""
           Next: [01_namespaces_and_veth](01_namespaces_and_veth.ipynb).
           """,
           """
           次は [01_namespaces_and_veth](01_namespaces_and_veth.ipynb) です。
           """),
        *cleanup(),
    ]
