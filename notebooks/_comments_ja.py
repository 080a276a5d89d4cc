"""Japanese for the English comments in the notebooks' code cells (``_build.py`` uses it).

A code cell has one source for both languages; the Japanese notebook gets the same code with
each comment found here translated (``_build.localize_comments``), and nothing else changed.
Keys are a comment's text without its ``#``.  tests/test_notebook_meta.py fails when a
Japanese notebook keeps an English comment or when an entry here is no longer used.
Comments that are code (``# lab.ip("...")``) stay as they are.  Terms: 対向 (peer), ルート (route).
"""

COMMENTS_JA: dict[str, str] = {
    # the setup cell of every notebook
    'simlab\'s messages: "en" or "ja"': 'simlab のメッセージの言語："en" か "ja"',
    "errors print what to do (a hint), not a long traceback":
        "エラーは長いトレースバックではなく、どうすればよいか（ヒント）を表示する",
    # 01
    "run() never raises: fine if it is not there": "run() は例外を出さない：無くても問題ない",
    "the fault: right's end was never brought up": "故障：right 側の端が UP にされていなかった",
    # 02
    "leftovers of an earlier try, if any": "前に試したときの残りがあれば消す",
    "earlier tries of the same rules, if any": "前に試した同じルールがあれば消す",
    "the filter table: past FORWARD DROP": "filter テーブル：FORWARD の DROP を通す",
    "early 2017: no such rules yet": "2017 年初め：このルールはまだ無い",
    "DOCKER-USER: the chain docker keeps for the admin's rules, first in FORWARD.":
        "DOCKER-USER：docker が管理者のルールのために用意するチェイン。FORWARD の最初に来る。",
    "an earlier try, if any": "前に試したものがあれば消す",
    # 03
    "the node's container runtime, as in 2017: docker": "ノードのコンテナランタイム。2017 年と同じく docker",
    "a fresh sandbox, also when you run this again": "新しいサンドボックス（再実行しても同じ）",
    "the link route": "リンクルート",
    "the node's end answers ARP for the gateway": "ノード側の端がゲートウェイの ARP に答える",
    "the host route": "ホストルート",
    "a fresh pod, also when you run this again": "新しい Pod（再実行しても同じ）",
    "the fault: the host route is gone": "故障：ホストルートが消えている",
    "the plugin's result names the host end": "プラグインの結果にホスト側の端の名前がある",
    # 04: the setup and the shell plugin my-static
    "your /opt/cni/bin": "あなたの /opt/cni/bin",
    "my-static: my first CNI plugin. It gives every pod the address 10.244.1.50.":
        "my-static：初めての CNI プラグイン。どの Pod にもアドレス 10.244.1.50 を与える。",
    "the network configuration arrives on stdin": "ネットワーク設定は標準入力で届く",
    "logs go to stderr": "ログは標準エラー出力へ",
    "answer in the version the configuration asks for": "設定が求めるバージョンで答える",
    "nothing was made, so nothing to remove: succeed, every time":
        "何も作っていないので消すものも無い：毎回成功を返す",
    # 04: the Python plugin my-bridge
    "my-bridge: a small bridge plugin, written like bridge.go (cmdAdd, setupBridge, setupVeth).":
        "my-bridge：bridge.go（cmdAdd、setupBridge、setupVeth）にならって書いた小さな bridge プラグイン。",
    "bridge.go: setupBridge. Find the bridge on the node (or make it) and bring it up.":
        "bridge.go の setupBridge。ノードのブリッジを見つけ（無ければ作り）、UP にする。",
    '"exists" is fine: every pod after the first': "「既にある」は問題ない：2 つ目以降の Pod はみなそう",
    "bridge.go: setupVeth. The pair is made inside the pod; its peer lands on the node.":
        "bridge.go の setupVeth。ペアは Pod の中で作り、対向はノードに置く。",
    "nl.step(title, why, mirrors): what the stepper shows for the operations inside":
        "nl.step(title, why, mirrors)：中の操作についてステッパーが表示する内容",
    "host-local picks the address": "host-local がアドレスを選ぶ",
    "the pod's eth0": "Pod の eth0",
    "the pods' next hop": "Pod たちの次ホップ",
    "give the address back": "アドレスを返す",
    "TODO: remove the pod's interface, as bridge.go's cmdDel does.":
        "TODO: bridge.go の cmdDel と同じく、Pod のインターフェースを削除する。",
    "Your cmd_del here (then write the file again and re-run the check):":
        "ここにあなたの cmd_del を書く（それからファイルを書き直し、チェックを再実行する）：",
    "no namespace given: nothing more to remove": "名前空間の指定が無い：これ以上消すものは無い",
    "the pod is gone, and its veth with it": "Pod はもう無く、その veth も一緒に消えている",
    "the veth's other end goes with it": "veth の対向も一緒に消える",
    "already gone: DEL must still succeed": "既に無い：それでも DEL は成功しなければならない",
    "your plugin directory": "あなたのプラグインのディレクトリ",
}
