"""04_write_your_own_cni_plugin: slide 15, by doing it."""

from _build import cleanup, code, header, md, reveal, setup, solution, task

FLAWED_SH = r'''
%%writefile {plugins}/my-static
#!/bin/sh
# my-static: my first CNI plugin. It gives every pod the address 10.244.1.50.
conf=$(cat)                       # the network configuration arrives on stdin
echo "my-static: $CNI_COMMAND for $CNI_CONTAINERID"
case "$CNI_COMMAND" in
ADD)
    printf '{"cniVersion": "0.3.1", "ips": [{"address": "10.244.1.50/24", "gateway": "10.244.1.1"}]}'
    ;;
*)
    exit 1
    ;;
esac
'''

FIXED_SH = r'''
%%writefile {plugins}/my-static
#!/bin/sh
# my-static: my first CNI plugin. It gives every pod the address 10.244.1.50.
conf=$(cat)                       # the network configuration arrives on stdin
echo "my-static: $CNI_COMMAND for $CNI_CONTAINERID" >&2       # logs go to stderr
# answer in the version the configuration asks for
version=$(printf '%s' "$conf" | sed -n 's/.*"cniVersion": *"\([^"]*\)".*/\1/p')
case "$CNI_COMMAND" in
ADD)
    printf '{"cniVersion": "%s", "ips": [{"address": "10.244.1.50/24", "gateway": "10.244.1.1"}]}' "$version"
    ;;
DEL|CHECK)
    ;;                            # nothing was made, so nothing to remove: succeed, every time
VERSION)
    echo '{"cniVersion": "1.0.0", "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]}'
    ;;
*)
    printf '{"code": 4, "msg": "unknown CNI_COMMAND: %s"}' "$CNI_COMMAND"
    exit 1
    ;;
esac
'''

MY_BRIDGE = r'''
MY_BRIDGE = r"""
# my-bridge: a small bridge plugin, written like bridge.go (cmdAdd, setupBridge, setupVeth).
import errno
import json
import sys

from simlab.cni import ip, ipam, netlink as nl, ns, skel
from simlab.cni.spec import Interface
from simlab.model import ops


def setup_bridge(name):
    # bridge.go: setupBridge. Find the bridge on the node (or make it) and bring it up.
    try:
        nl.link_add(ops.LinkAdd(name, "bridge"))
    except nl.NetlinkError as err:
        if err.errno != errno.EEXIST:      # "exists" is fine: every pod after the first
            raise
    br = nl.link_by_name(name)
    nl.link_set_up(br)
    return br


def setup_veth(netns, br, ifname):
    # bridge.go: setupVeth. The pair is made inside the pod; its peer lands on the node.
    with netns.do() as host_ns:
        host, pod_end = ip.setup_veth(ifname, 1500, "", host_ns)
    nl.link_set_master(nl.link_by_name(host.ifname), br)
    return host, pod_end


def cmd_add(args):
    conf = json.loads(args.stdin_data)
    # nl.step(title, why, mirrors): what the stepper shows for the operations inside
    with nl.step("setupBridge", "the bridge on the node, up", "bridge.go: setupBridge"):
        br = setup_bridge(conf.get("bridge", "cni0"))
    netns = ns.get_ns(args.netns)
    with nl.step("setupVeth", "a veth: eth0 in the pod, its peer on the bridge", "bridge.go: setupVeth"):
        host, pod_end = setup_veth(netns, br, args.ifname)
    result = ipam.exec_add(conf["ipam"]["type"], args.stdin_data)      # host-local picks the address
    result.interfaces = [Interface(br.ifname, br.mac), Interface(host.ifname, host.mac),
                         Interface(args.ifname, pod_end.mac, args.netns)]
    for ipc in result.ips:
        ipc.interface = 2                                               # the pod's eth0
    with nl.step("ConfigureIface", "inside the pod: address, up, routes", "ipam_linux.go: ConfigureIface"):
        with netns.do():
            ipam.configure_iface(args.ifname, result)
    gateway = f"{result.ips[0].gateway}/{result.ips[0].address.split('/')[1]}"
    br = nl.link_by_name(br.ifname)
    if gateway not in [a.cidr for a in nl.addr_list(br)]:
        with nl.step("ensureAddr", "the gateway address on the bridge", "bridge.go: ensureAddr"):
            nl.addr_add(br, gateway)                                    # the pods' next hop
    skel.print_result(result, conf["cniVersion"])


def cmd_del(args):
    conf = json.loads(args.stdin_data)
    ipam.exec_del(conf["ipam"]["type"], args.stdin_data)               # give the address back
    # TODO: remove the pod's interface, as bridge.go's cmdDel does.


def cmd_check(args):
    pass


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)

if __name__ == "__main__":
    sys.exit(skel.plugin_main(FUNCS, "my-bridge: a teaching plugin", "my-bridge"))
"""
my_bridge = plugins / "my-bridge"
my_bridge.write_text(f"#!{sys.executable}\n" + MY_BRIDGE)
my_bridge.chmod(0o755)
print(f"wrote {my_bridge}")
'''

CMD_DEL_SOLUTION = r'''
def cmd_del(args):
    conf = json.loads(args.stdin_data)
    ipam.exec_del(conf["ipam"]["type"], args.stdin_data)               # give the address back
    if not args.netns:
        return                                 # no namespace given: nothing more to remove
    try:
        netns = ns.get_ns(args.netns)
    except ns.NSPathNotExistErr:
        return                                 # the pod is gone, and its veth with it
    with netns.do():
        try:
            nl.link_del(nl.link_by_name(args.ifname))   # the veth's other end goes with it
        except nl.NetlinkError:
            pass                               # already gone: DEL must still succeed
'''


def cells():
    return [
        header(
            "04 · Write your own CNI plugin", "04 · 自分の CNI プラグインを書く",
            covers_en="""
            "A CNI plugin can be anything that runs: even a shell script" (slide 15). You write one
            from a cell, call it by hand as a runtime would, and let a checker tell you what the
            spec wants when you get it wrong. Then simlab's kubelet runs your plugin for a pod,
            and you see what a plugin that only *answers* is worth. Finally you write a Python
            plugin that really builds the network, shaped like `bridge.go`, and finish its DEL.
            """,
            covers_ja="""
            「CNI は単体で実行できるものならなんでも OK（シェルスクリプトも可）」（スライド 15）。
            セルからプラグインを書き、ランタイムのように手で呼び出し、間違えたときは仕様が何を求めて
            いるかをチェッカーに教えてもらいます。次に simlab の kubelet にそのプラグインで Pod を
            作らせ、*答えるだけ*のプラグインにどれほどの価値があるかを見ます。最後に、本当に
            ネットワークを作る Python のプラグインを `bridge.go` と同じ形で書き、DEL を仕上げます。
            """,
            minutes=45),
        setup("""
              import json
              import pathlib
              import sys
              import tempfile

              plugins = pathlib.Path(tempfile.mkdtemp(prefix="simlab-plugins-"))   # your /opt/cni/bin
              """),
        md("""
           ## 1. The contract, once more

           _Route: 90 min (2 min) · optional in 60 min_

           | | what the spec says |
           |---|---|
           | the plugin | any executable; the runtime finds it by the config's `type` in `CNI_PATH` |
           | verbs | `CNI_COMMAND` = `ADD`, `DEL`, `CHECK` (≥ 0.4.0) or `VERSION` |
           | input | `CNI_CONTAINERID`, `CNI_NETNS`, `CNI_IFNAME`, `CNI_ARGS`, `CNI_PATH`; the network configuration as JSON on **stdin** |
           | success | exit 0; ADD prints a **result** on stdout, in the `cniVersion` the configuration asked for |
           | failure | exit non-zero and print `{"code": N, "msg": "..."}` on **stdout** (code 4: bad environment variables, 7: bad config, 100+: your own) |
           | DEL | removes what ADD made, and **succeeds** when it is already gone (the runtime may call it again) |
           | logs | stderr only: stdout belongs to the result |
           """,
           """
           ## 1. 約束ごとをもう一度

           _コース：90 分（2 分）・60 分では省略可_

           | | 仕様の内容 |
           |---|---|
           | プラグイン | 実行できるものなら何でも。ランタイムは設定の `type` の名前で `CNI_PATH` から探す |
           | 命令 | `CNI_COMMAND` = `ADD`、`DEL`、`CHECK`（0.4.0 以降）、`VERSION` |
           | 入力 | `CNI_CONTAINERID`、`CNI_NETNS`、`CNI_IFNAME`、`CNI_ARGS`、`CNI_PATH`。ネットワーク設定は **標準入力** に JSON で |
           | 成功 | 終了コード 0。ADD は設定が求めた `cniVersion` で **結果** を標準出力に出す |
           | 失敗 | 0 以外で終わり、**標準出力** に `{"code": N, "msg": "..."}` を出す（4: 環境変数が不正、7: 設定が不正、100 以上: 独自） |
           | DEL | ADD が作ったものを消す。もう無くても **成功** する（ランタイムは何度でも呼ぶかもしれない） |
           | ログ | 標準エラー出力だけ。標準出力は結果のためのもの |
           """),
        md("""
           ## 2. A first attempt

           _Route: 90 min (5 min) · optional in 60 min_

           Here is a plugin as many of us would write it first. `%%writefile` writes the cell into a
           file (`{plugins}` is the temporary directory made above).
           """,
           """
           ## 2. 最初の試み

           _コース：90 分（5 分）・60 分では省略可_

           多くの人が最初に書きそうなプラグインです。`%%writefile` はセルの中身をファイルに書きます
           （`{plugins}` は上で作った一時ディレクトリです）。
           """),
        code(FLAWED_SH),
        code("""
             static = plugins / "my-static"
             static.chmod(0o755)
             env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc123", "CNI_NETNS": "/run/netns/abc",
                    "CNI_IFNAME": "eth0", "CNI_PATH": str(plugins)}
             config = {"cniVersion": "1.0.0", "name": "mynet", "type": "my-static"}
             exit_code, stdout, stderr = ex.run_plugin(static, env, config)
             print("exit:", exit_code)
             print("stdout:", stdout)
             print("stderr:", stderr)
             """),
        reveal(
            "It printed an address. Would a runtime accept this answer?",
            "No, for two reasons. stdout starts with `my-static: ADD for abc123`, so it is not JSON "
            "and the runtime cannot parse it (libcni: *failed to parse plugin output*). And even "
            "without that line, the result says `cniVersion` 0.3.1 while the configuration asked "
            "for 1.0.0. The checker below finds such things one at a time.",
            "アドレスは出力されました。ランタイムはこの答えを受け取るでしょうか？",
            "受け取りません。理由は二つ。標準出力が `my-static: ADD for abc123` で始まるので JSON では"
            "なく、ランタイムは読めません（libcni: *failed to parse plugin output*）。その行が無くても、"
            "設定は 1.0.0 を求めたのに結果の `cniVersion` は 0.3.1 です。下のチェッカーはこうした問題を"
            "一つずつ見つけます。"),
        code("""
             ex.check_plugin(static, lang=LANG)
             """, tags=("check",)),
        task(
            "make `my-static` follow the spec",
            """
            Edit the script in the next cell and run it, then run the check; repeat until it says
            ✔. The checker calls your plugin the way a runtime does: ADD, DEL, DEL again, VERSION,
            and a command it does not know. Each ✘ names one rule of the table above.
            """,
            "`my-static` を仕様どおりにする",
            """
            次のセルのスクリプトを直して実行し、チェックを実行します。✔ が出るまで繰り返してください。
            チェッカーはランタイムと同じようにプラグインを呼びます。ADD、DEL、もう一度 DEL、VERSION、
            そして知らないコマンド。✘ はどれも上の表の規則の一つを指しています。
            """),
        code(FLAWED_SH, tags=("answer",)),
        code("""
             ex.check_plugin(static, lang=LANG)
             """, tags=("check",)),
        solution(FIXED_SH),
        code("""
             ex.check_plugin(static, lang=LANG)
             """, tags=("check",)),
        md("""
           ## 3. simlab's kubelet runs it

           _Route: 90 min (6 min) · optional in 60 min_

           Put the plugin in the node's `CNI_PATH` and name it in `/etc/cni/net.d`
           (`use_plugin("custom", ...)` writes that file), then ask for a pod.
           """,
           """
           ## 3. simlab の kubelet に実行させる

           _コース：90 分（6 分）・60 分では省略可_

           プラグインをノードの `CNI_PATH` に置き、`/etc/cni/net.d` にその名前を書きます
           （`use_plugin("custom", ...)` がそのファイルを書きます）。それから Pod を頼みます。
           """),
        code("""
             print(lab.k8s.use_plugin("custom", type="my-static", cni_path=[plugins]))
             lab.k8s.run("static1")
             print(lab.k8s.get_pods())
             """),
        reveal(
            "`kubectl` shows `static1` Running with IP 10.244.1.50. Can another pod ping it?",
            "No. Look inside: `ip a` shows only `lo`. The plugin **answered** (so the kubelet "
            "believed it and recorded the IP) but **did** nothing: no veth, no address, no route. "
            "The runtime trusts the result; making it true is the plugin's job. (Run a second pod "
            "and it will get the same address too: nobody keeps track.)",
            "`kubectl` では `static1` が Running で IP は 10.244.1.50 です。他の Pod から ping は届くでしょうか？",
            "届きません。中を見てください。`ip a` には `lo` しかありません。プラグインは**答えた**"
            "（だから kubelet は信じて IP を記録した）けれど、何も**しなかった**のです。veth も"
            "アドレスもルートもありません。ランタイムは結果を信じます。それを本当にするのはプラグインの"
            "仕事です。（2 つ目の Pod を作ると同じアドレスになります。誰も管理していないからです。）"),
        code("""
             print(lab.k8s.exec("static1", "ip a"))
             """),
        md("""
           ## 4. A plugin that does the work, in Python

           _Route: optional (60 min and 90 min)_

           Now a plugin that builds what `simlab-bridge` built in notebook 03, in the shape of
           `bridge.go`: `setup_bridge`, `setup_veth`, then IPAM (delegated to `simlab-host-local`,
           found in `CNI_PATH`, as `bridge.go` delegates to `host-local`) and `configure_iface`
           inside the pod. It uses simlab's netlink-shaped helpers (`simlab.cni.netlink`,
           `simlab.cni.ns`, `simlab.cni.ip`), so the same file runs in-process on the model and as
           a real executable on the kernel. Its `cmd_del` is not finished yet.
           """,
           """
           ## 4. 仕事をするプラグインを Python で

           _コース：省略可（60 分・90 分）_

           今度は、ノートブック 03 で `simlab-bridge` が作ったものを、`bridge.go` と同じ形で作る
           プラグインです。`setup_bridge`、`setup_veth`、次に IPAM（`bridge.go` が `host-local` に
           任せるように、`CNI_PATH` で見つけた `simlab-host-local` に任せる）、そして Pod の中で
           `configure_iface`。simlab の netlink 風の関数（`simlab.cni.netlink`、`simlab.cni.ns`、
           `simlab.cni.ip`）を使うので、同じファイルが model ではプロセス内で、kernel では本物の
           実行ファイルとして動きます。`cmd_del` はまだ完成していません。
           """),
        code(MY_BRIDGE),
        code("""
             conf = json.loads(lab.k8s.use_plugin("custom", type="my-bridge", cni_path=[plugins]))
             plugin_conf = {"cniVersion": conf["cniVersion"], "name": conf["name"], **conf["plugins"][0]}
             ex.check_plugin(ex.load_plugin(my_bridge), conf=plugin_conf, lang=LANG)
             """, tags=("check",)),
        task(
            "finish `cmd_del`",
            """
            The check says what DEL leaves behind. Complete `cmd_del` in the `MY_BRIDGE` cell
            above (or redefine the file below): delete the pod's interface inside its namespace,
            and succeed when the namespace or the interface is already gone. Deleting one end of a
            veth deletes the other end too.
            """,
            "`cmd_del` を仕上げる",
            """
            チェックは DEL が何を残すかを教えてくれます。上の `MY_BRIDGE` のセルの `cmd_del` を完成
            させてください（または下でファイルを書き直してください）。Pod の名前空間の中でインター
            フェースを消し、名前空間やインターフェースがもう無いときも成功させます。veth は片端を消すと
            もう片端も消えます。
            """),
        code("""
             # Your cmd_del here (then write the file again and re-run the check):
             # ここに cmd_del を書く（ファイルを書き直してチェックを再実行）:
             """, tags=("answer",)),
        solution(
            "fixed = MY_BRIDGE.replace(\n"
            "    MY_BRIDGE[MY_BRIDGE.index(\"def cmd_del\"):MY_BRIDGE.index(\"def cmd_check\")],\n"
            "    '''" + CMD_DEL_SOLUTION.strip("\n") + "\n\n\n''')\n"
            "my_bridge.write_text(f\"#!{sys.executable}\\n\" + fixed)\n"
            "ex.check_plugin(ex.load_plugin(my_bridge), conf=plugin_conf, lang=LANG)"),
        md("""
           ## 5. The kubelet runs `my-bridge`

           _Route: optional (60 min and 90 min)_

           Two pods on your plugin. `ex.use_python_plugin` does what `use_plugin("custom", ...)`
           did for the shell script; on the model it also lets the kubelet run the file in-process
           (an executable started as a process cannot reach the simulated kernel).
           """,
           """
           ## 5. kubelet が `my-bridge` を実行する

           _コース：省略可（60 分・90 分）_

           あなたのプラグインで Pod を二つ作ります。`ex.use_python_plugin` はシェルスクリプトのときの
           `use_plugin("custom", ...)` と同じことをし、model ではさらに kubelet がファイルをプロセス内で
           実行できるようにします（プロセスとして起動した実行ファイルはシミュレーションのカーネルに
           届かないからです）。
           """),
        code("""
             ex.use_python_plugin(lab, my_bridge)
             n0 = len(lab.timeline)
             a = lab.k8s.run("mine1")
             b = lab.k8s.run("mine2")
             print(lab.k8s.get_pods())
             print(lab.k8s.exec("mine1", "ip a"))
             """),
        code("""
             print(ex.check_pod_network(lab, a.netns, bridge="cni0", subnet="10.244.1.0/24", lang=LANG))
             print(ex.check_reach(lab, a.netns, b.ip, lang=LANG))
             """),
        code("""
             simlab.widgets.Stepper(lab, since=n0, live=False, ns=a.netns, lang=LANG)
             """, tags=("stepper",)),
        md("""
           `kubectl delete pod` calls your DEL: the pod's veth disappears, and host-local frees the
           address for the next pod.
           """,
           """
           `kubectl delete pod` はあなたの DEL を呼びます。Pod の veth が消え、host-local はそのアドレスを
           次の Pod のために空けます。
           """),
        code("""
             lab.k8s.delete("mine2")
             print(lab.k8s.get_pods())
             print(lab.bridge("link"))
             """),
        md("""
           Going further: wrap your DEL's work in `nl.step(...)` too, so the stepper shows it with
           its *mirrors*; implement CHECK (compare the pod's `eth0` with `prevResult`); or make it a
           routed plugin like `simlab-ptp` (`simlab/cni/plugins/ptp.py`).
           """,
           """
           さらに進むには: DEL の処理も `nl.step(...)` で囲むと、ステッパーが *対応するコード* 付きで
           表示します。CHECK を実装する（Pod の `eth0` を `prevResult` と比べる）、`simlab-ptp`
           （`simlab/cni/plugins/ptp.py`）のようなルーティング型にする、なども試してください。
           """),
        code("""
             import shutil

             shutil.rmtree(plugins, ignore_errors=True)   # your plugin directory
             """),
        *cleanup(),
    ]
