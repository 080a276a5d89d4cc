"""What kubelet's steps mean: the narration of ``lab.k8s``, one function per step.

:mod:`.kube` does what kubelet does; each of its steps is told here, with
the title, the why in English and Japanese, and the kubelet or dockershim code
it mirrors.  The ``k8s`` value of a step's detail names it on the timeline
(``sandbox``, ``cni-add``, ``cni-del``, ``pod-ip``, ``cni-failed``,
``network-not-ready``, ``delete``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cni import Result
from ..cni.config import NetworkConfigList
from ..timeline import text
from . import kube_cni as kc

if TYPE_CHECKING:
    from .kube import Pod
    from .kube_cni import ConfigError

__all__ = [
    "sandbox",
    "cni_call",
    "pod_ip",
    "network_not_ready",
    "cni_failed",
    "deleted_without_sandbox",
    "kill_pod",
    "host_ports_unused",
]


def _title(p: Pod, en: str, ja: str) -> dict:
    return text(f"kubelet ({p.node.name}): {en}", f"kubelet（{p.node.name}）：{ja}")


def _tell(lab, title, why, mirrors: str = "", detail=None) -> None:
    """One kubelet step on the timeline (it changes nothing in the kernel itself)."""
    lab.apply(title=title, why=why, mirrors=mirrors, actor="kubelet", detail=detail)


def sandbox(lab, p: Pod) -> None:
    """The pod's sandbox starts with ``--net none``: a namespace with lo only."""
    _tell(
        lab,
        title=_title(
            p,
            f"start the sandbox of {p.namespace}/{p.name} with --net none",
            f"{p.namespace}/{p.name} のサンドボックスを --net none で起動",
        ),
        why=text(
            "A pod's containers share one network namespace, held by a small 'pause' "
            "container: the sandbox. kubelet asks docker for it with NetworkMode=none "
            "(docker run --net none): docker creates a namespace with only lo and considers "
            "its job done. That is why docker inspect shows no network for the pod's "
            "containers (slide 11): here the network is not docker's business; kubelet adds "
            "it through CNI next. (This is the 2017 flow, dockershim, removed in Kubernetes "
            "1.24; lab.k8s.use_runtime('containerd') shows today's.)",
            "Pod のコンテナは 1 つのネットワーク名前空間を共有し、それを小さな pause "
            "コンテナ（サンドボックス）が保持する。kubelet は docker にこれを "
            "NetworkMode=none（docker run --net none）で作らせる。docker は lo "
            "だけの名前空間を作って仕事を終える。だから docker inspect では Pod "
            "のコンテナにネットワークが無いように見える（スライド 11）。ここでネットワークは "
            "docker の担当ではなく、次に kubelet が CNI を通して追加する。（これは 2017 "
            "年の流れ dockershim で、Kubernetes 1.24 で削除された。今の流れは "
            "lab.k8s.use_runtime('containerd') で見られる。）",
        ),
        mirrors='dockershim docker_sandbox.go: RunPodSandbox (HostConfig.NetworkMode = "none")',
        detail={"k8s": "sandbox", "pod": p.name, "container": p.sandbox_name},
    )


def cni_call(
    lab,
    p: Pod,
    command: str,
    net: NetworkConfigList,
    conf_path: str,
    cni_path: list[str],
    problems=(),
) -> None:
    """kubelet execs the plugin chain: CNI ADD or DEL, its env and stdin in the detail."""
    env = kc.cni_env(
        command,
        p.sandbox_id,
        p.netns_path,
        kc.cni_args(p.namespace, p.name, p.sandbox_id),
        cni_path,
    )
    plugins = [c.type for c in net.plugins]
    stdin = kc.first_stdin(net, p.result if command == "DEL" else None)
    chain = " -> ".join(plugins)
    if command == "ADD":
        title = _title(
            p,
            f"call CNI ADD for {p.namespace}/{p.name} ({chain})",
            f"{p.namespace}/{p.name} のために CNI ADD を呼ぶ（{chain}）",
        )
        why = text(
            f"kubelet reads {conf_path} (network {net.name}, plugins {chain}) and execs the "
            f"first plugin found in CNI_PATH. What the plugin needs arrives in environment "
            f"variables (CNI_COMMAND=ADD, the sandbox's ID, its namespace {p.netns_path}, the "
            "interface name eth0, the pod's name in CNI_ARGS) and the network configuration "
            "arrives as JSON on stdin (slide 15).",
            f"kubelet は {conf_path} を読み（ネットワーク {net.name}、プラグイン {chain}）、"
            "CNI_PATH で見つけた最初のプラグインを実行する。"
            "プラグインに必要な情報は環境変数（CNI_COMMAND=ADD、サンドボックスの ID、"
            f"その名前空間 {p.netns_path}、インターフェース名 eth0、CNI_ARGS に Pod 名）"
            "で渡され、ネットワーク設定は JSON で標準入力から渡される（スライド 15）。",
        )
        mirrors = (
            "dockershim network/cni/cni.go: addToNetwork (buildCNIRuntimeConf, AddNetworkList)"
        )
    else:
        title = _title(
            p,
            f"call CNI DEL for {p.namespace}/{p.name} ({chain})",
            f"{p.namespace}/{p.name} のために CNI DEL を呼ぶ（{chain}）",
        )
        why = text(
            "DEL runs the list's plugins in reverse order with the same variables "
            "(CNI_COMMAND=DEL) and the configuration ADD used; from spec 0.4.0 on, the "
            "cached ADD result comes along as prevResult. Plugins must succeed even when "
            "things are already gone, so kubelet may repeat it.",
            "DEL はリストのプラグインを逆順に、同じ環境変数（CNI_COMMAND=DEL）と ADD "
            "のときの設定で実行する。spec 0.4.0 以降は ADD の結果（キャッシュ）も prevResult "
            "として渡す。既に消えているものがあってもプラグインは成功しなければならないので、"
            "kubelet は何度でも繰り返せる。",
        )
        mirrors = "dockershim network/cni/cni.go: deleteFromNetwork (DelNetworkList)"
    _tell(
        lab,
        title=title,
        why=why,
        mirrors=mirrors,
        detail={
            "k8s": f"cni-{command.lower()}",
            "pod": p.name,
            "env": env,
            "stdin": stdin,
            "conf_path": conf_path,
            "plugins": plugins,
            "warnings": list(problems),
        },
    )


def pod_ip(lab, p: Pod, result: Result, cni_version: str) -> None:
    """The plugin's result gives the pod its IP (kubectl shows it, docker inspect does not)."""
    first = result.ips[0] if result.ips else None
    shown = (
        f"{first.address} on eth0" + (f", gateway {first.gateway}" if first.gateway else "")
        if first
        else "no address"
    )
    _tell(
        lab,
        title=_title(
            p,
            f"{p.namespace}/{p.name} has IP {p.ip or '<none>'}",
            f"{p.namespace}/{p.name} の IP は {p.ip or '<none>'}",
        ),
        why=text(
            f"The plugin answered with a result ({shown}), but dockershim (2017) does not "
            "take the IP from it: it looks inside the sandbox, nsenter --net=<netns> -F -- "
            "ip -o -4 addr show dev eth0 scope global, and reads field 4 of the first line. "
            f"kubelet records {p.ip or 'nothing'} as the pod's IP: kubectl get -o wide pod "
            "shows it, while docker inspect still says the containers have no network "
            "(slides 12 and 13). Today the runtime (containerd) takes it from the result.",
            f"プラグインは結果（{shown}）を返したが、dockershim（2017 年）は IP "
            "をそこから取らない。サンドボックスの中を覗き（nsenter --net=<netns> -F -- ip -o -4 "
            "addr show dev eth0 scope global）、1 行目の 4 番目の欄を読む。kubelet は "
            f"{p.ip or '何も'} を Pod の IP として記録する。kubectl get -o wide pod "
            "にはこの IP が出るが、docker inspect では相変わらずコンテナにネットワークが無い"
            "ことになっている（スライド 12・13）。今はランタイム（containerd）が結果から取る。",
        ),
        mirrors="kubelet 1.7 network/plugins.go: GetPodIP (dockershim getIP: nsenter ip -o -4 addr show dev eth0)",
        detail={
            "k8s": "pod-ip",
            "pod": p.name,
            "ip": p.ip,
            "result": result.to_json(cni_version or "1.0.0"),
        },
    )


def network_not_ready(lab, p: Pod, err: ConfigError, msg: str) -> None:
    """No usable conflist: the node's network is not ready and no sandbox starts."""
    problems = "; ".join(err.problems)
    _tell(
        lab,
        title=_title(
            p,
            f"network not ready, no sandbox for {p.namespace}/{p.name}",
            f"ネットワークが準備未完了、{p.namespace}/{p.name} のサンドボックスは作らない",
        ),
        why=text(
            f"kubelet found no usable network configuration in {kc.CNI_CONF_DIR} ({problems}). "
            "Without one the node's network is not ready, so kubelet does not even start the "
            "pod's sandbox: the pod waits in ContainerCreating. Fix the configuration "
            "(lab.k8s.write_conflist(...)) and call lab.k8s.sync().",
            f"kubelet は {kc.CNI_CONF_DIR} "
            f"に使えるネットワーク設定を見つけられなかった（{problems}）。"
            "設定が無いとノードのネットワークは準備未完了（not ready）で、kubelet は Pod "
            "のサンドボックスすら起動しない。Pod は ContainerCreating のまま待つ。"
            "設定を直して（lab.k8s.write_conflist(...)）lab.k8s.sync() を呼ぶこと。",
        ),
        mirrors="kubelet.go: syncPod (runtimeState.networkErrors); "
        "cni.go: getDefaultCNINetwork",
        detail={
            "k8s": "network-not-ready",
            "pod": p.name,
            "error": msg,
            "problems": list(err.problems),
        },
    )


def cni_failed(lab, p: Pod, message: str) -> None:
    """ADD failed: kubelet takes the attempt back (DEL, sandbox removed) and retries later."""
    _tell(
        lab,
        title=_title(
            p,
            "CNI ADD failed: the sandbox is taken down",
            "CNI ADD が失敗: サンドボックスを片付ける",
        ),
        why=text(
            f"{message}. kubelet takes the attempt back: CNI DEL for the whole list (every "
            "ADD must be followed by a DEL, even a failed one), then the sandbox is removed "
            "with its namespace. The pod stays ContainerCreating; kubelet tries again at its "
            "next sync (lab.k8s.sync()).",
            f"{message}。kubelet はこの試みを片付ける。リスト全体に CNI DEL "
            "を実行し（失敗した ADD にも必ず DEL が続く）、"
            "サンドボックスを名前空間ごと削除する。Pod は ContainerCreating のまま残り、"
            "kubelet は次の同期で再試行する（lab.k8s.sync()）。",
        ),
        mirrors="dockershim docker_sandbox.go: RunPodSandbox (on SetUpPod error: TearDownPod, "
        "StopContainer)",
        detail={"k8s": "cni-failed", "pod": p.name, "error": message},
    )


def deleted_without_sandbox(lab, p: Pod) -> None:
    """``kubectl delete`` of a pod that never got a sandbox: nothing in the kernel."""
    _tell(
        lab,
        title=_title(
            p,
            f"delete {p.namespace}/{p.name} (it had no sandbox)",
            f"{p.namespace}/{p.name} を削除（サンドボックスは無かった）",
        ),
        why=text(
            "the pod never got a sandbox, so there is nothing to tear down in the kernel.",
            "この Pod はサンドボックスを持たなかったので、カーネル側に片付けるものは無い。",
        ),
        detail={"k8s": "delete", "pod": p.name},
    )


def kill_pod(lab, p: Pod) -> None:
    """``kubectl delete``: containers stopped, CNI DEL, then the sandbox removed."""
    _tell(
        lab,
        title=_title(
            p,
            f"kubectl delete pod {p.name}: stop it",
            f"kubectl delete pod {p.name}: Pod を止める",
        ),
        why=text(
            "kubelet kills the application containers, tears the pod's network down with CNI "
            "DEL (the same configuration as ADD, the cached result as prevResult), and "
            "finally removes the sandbox: its namespace, and the lo inside, disappear with it.",
            "kubelet はアプリケーションのコンテナを止め、CNI DEL で Pod "
            "のネットワークを片付け（ADD と同じ設定、キャッシュした結果を prevResult "
            "として渡す）、最後にサンドボックスを削除する。名前空間も中の lo も一緒に消える。",
        ),
        mirrors="kuberuntime_manager.go: KillPod (killContainersWithSyncResult, "
        "StopPodSandbox)",
        detail={"k8s": "delete", "pod": p.name},
    )


def host_ports_unused(lab, p: Pod, conf_path: str) -> None:
    """The pod asks for hostPorts, but no plugin of the conflist takes them: nothing forwards."""
    ports = ", ".join(f"{hp}/{proto}" for hp, _, proto, _ in p.ports if hp > 0)
    _tell(
        lab,
        title=_title(
            p,
            f"hostPort {ports}: no plugin of the network takes portMappings",
            f"hostPort {ports}: portMappings を受け取るプラグインがネットワークに無い",
        ),
        why=text(
            f"The pod asks for hostPort {ports}. The runtime hands the mappings to CNI as the "
            "portMappings capability, and libcni passes a capability only to a plugin that declares "
            f'it ("capabilities": {{"portMappings": true}}). No plugin in {conf_path} does, so no '
            "rule is written: the pod runs, but nothing answers on the node's port. This was "
            "2017's trap (flannel's conflist chained portmap only from late 2017). Chain it: "
            "lab.k8s.use_plugin('simlab-bridge', portmap=True) before the pod.",
            f"Pod は hostPort {ports} を求めている。ランタイムはこの対応を portMappings "
            "ケイパビリティとして CNI に渡すが、libcni がそれを渡すのは宣言したプラグイン"
            '（"capabilities": {"portMappings": true}）だけ。'
            f"{conf_path} にはそれが無いので、ルールは書かれない。Pod は動くが、ノードのポートには"
            "誰も応えない。2017 年の落とし穴（flannel の conflist が portmap を連結したのは 2017 "
            "年末から）。Pod の前に lab.k8s.use_plugin('simlab-bridge', portmap=True) で連結する。",
        ),
        mirrors="libcni api.go: injectRuntimeConfig (only the capabilities a plugin declares)",
        detail={"k8s": "host-ports-unused", "pod": p.name, "ports": ports},
    )
