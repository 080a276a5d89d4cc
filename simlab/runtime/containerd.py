"""Today's node: the kubelet speaks CRI to containerd, and containerd calls CNI.

Kubernetes 1.24 removed dockershim (the 2017 flow of :mod:`.kube_sandbox`,
where the kubelet asked docker for a ``--net none`` sandbox and then ran the
plugins itself).  On a containerd node the kubelet only sends the CRI call
``RunPodSandbox``; containerd's CRI plugin does the rest.  The steps mirror
**containerd 1.7** (v1.7.34 ``pkg/cri/server/sandbox_run.go``), in its order:

1. reserve the sandbox name, ensure the pause image (``registry.k8s.io/pause:3.8``),
   ``client.NewContainer`` (a record only: no process, no namespace yet);
2. ``netns.NewNetNS``: a new namespace bind-mounted at
   ``/var/run/netns/cni-<uuid>`` (16 random bytes; ``lo`` stays DOWN);
3. ``setupPodNetwork``: go-cni (:mod:`.libcni`) runs libcni's ``AddNetworkList``
   for the ``cni-loopback`` network (ifname ``lo``) and for the node's
   conflist (ifname ``eth0``); containerd keeps the result;
4. the pod IP: ``result.Interfaces["eth0"].IPConfigs`` through ``selectPodIPs``;
5. ``container.NewTask`` + ``task.Start``: the pause process starts, in a
   namespace that already has its ``eth0``.

Failure: the teardown (CNI DEL of every network) is registered *before*
``setupPodNetwork``, because a failed ADD may already hold resources; then
the namespace is removed and the container record deleted.

simlab derives the 16 "random" bytes from the lab's seed (runs repeat, and a
model run names its namespaces as the kernel run does); containerd reads
``crypto/rand``.  Docker is not involved: ``docker ps`` shows nothing of these
pods; ``lab.k8s.crictl(...)`` (:mod:`.crictl`) shows them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..cni import CNIError
from ..model import ops as o
from ..timeline import text
from . import kube_cni as kc
from .crictl import PAUSE_IMAGE
from .exec_line import in_netns
from .kube_sandbox import Sandbox
from .libcni import CNIResult, GoCNI

if TYPE_CHECKING:
    from .kube import Pod

__all__ = [
    "VERSION",
    "PAUSE_IMAGE",
    "RUNTIMES",
    "netns_name",
    "select_pod_ips",
    "SandboxRecord",
    "ContainerRecord",
    "ContainerdSandboxes",
]

VERSION = "1.7.34"
#: the runtimes a node can have: the 2017 flow (default) and today's
RUNTIMES = ("dockershim", "containerd")
_MIRRORS = "containerd v1.7 pkg/cri/server/sandbox_run.go: "


# mirrors containerd pkg/netns/netns_linux.go: newNS (the name)
def netns_name(random16: bytes) -> str:
    """``cni-%x-%x-%x-%x-%x`` of 16 bytes, split 4-2-2-2-6 like a UUID.

    >>> netns_name(bytes(range(16)))
    'cni-00010203-0405-0607-0809-0a0b0c0d0e0f'
    """
    b = random16
    return f"cni-{b[:4].hex()}-{b[4:6].hex()}-{b[6:8].hex()}-{b[8:10].hex()}-{b[10:].hex()}"


# mirrors containerd pkg/cri/server/sandbox_run.go: selectPodIPs (1.7)
def select_pod_ips(ips: list[str], preference: str = "") -> tuple[str, list[str]]:
    """(the pod IP, the additional IPs) from eth0's addresses, by ``ip_pref``.

    ``""``/``"ipv4"``: the first IPv4 address, the others after it; ``"cni"``:
    the plugin's order.  ``"ipv6"`` mirrors 1.7's test ``To16() != nil``, which
    every address passes (2.x tests ``To4() == nil``).

    >>> select_pod_ips(["fd00::5", "10.88.0.5", "fd00::6"])
    ('10.88.0.5', ['fd00::5', 'fd00::6'])
    >>> select_pod_ips(["fd00::5", "10.88.0.5"], "cni")
    ('fd00::5', ['10.88.0.5'])
    """
    if len(ips) == 1:
        return ips[0], []
    if preference in ("", "ipv4") or preference not in ("ipv6", "cni"):
        extra: list[str] = []
        for i, ip in enumerate(ips):
            if ipaddress.ip_address(ip).version == 4:
                return ip, extra + ips[i + 1 :]
            extra.append(ip)
    elif preference == "ipv6":
        return ips[0], ips[1:]  # 1.7: To16() != nil holds for IPv4 too
    return ips[0], ips[1:]


@dataclass
class SandboxRecord:
    """What containerd keeps of a pod sandbox (``sandboxstore.Sandbox``)."""

    id: str
    pod: Pod
    created: float
    netns: str  # the lab's key: cni-<uuid>
    netns_path: str  # what the plugins got as CNI_NETNS
    pid: int = 0
    state: str = "SANDBOX_NOTREADY"
    ip: str = ""
    additional_ips: list[str] = field(default_factory=list)
    cni_result: CNIResult | None = None


@dataclass
class ContainerRecord:
    id: str
    name: str
    image: str
    created: float
    sandbox: SandboxRecord
    state: str = "CONTAINER_RUNNING"


class ContainerdSandboxes:
    """A node's containerd: CRI ``RunPodSandbox`` / ``StopPodSandbox`` and the app containers."""

    #: the pod worker hands a CRI runtime the whole pod (it sets the network up itself)
    cri = True

    def __init__(self, lab, node, clock):
        self.lab = lab
        self.node = node
        self.clock = clock
        self.sandboxes: dict[str, SandboxRecord] = {}  # id -> record
        self.containers: dict[str, ContainerRecord] = {}  # id -> record
        self._counter = 0

    def start(self) -> None:
        pass  # containerd runs from boot; it makes nothing in the network until a pod comes

    def _hex(self, *what) -> str:
        seed = self.lab.snapshot().seed
        self._counter += 1
        return hashlib.sha256(
            ":".join(["simlab-containerd", str(seed), self.node.name, str(self._counter), *map(str, what)]).encode()
        ).hexdigest()

    def _tell(self, title, why, mirrors: str, detail: dict, *ops) -> None:
        self.lab.apply(*ops, title=title, why=why, mirrors=mirrors, actor="containerd", detail=detail)

    def _title(self, en: str, ja: str) -> dict:
        n = self.node.name
        return text(f"containerd ({n}): {en}", f"containerd（{n}）：{ja}")

    # ------------------------------------------------------------ RunPodSandbox
    def run_pod(self, worker, p: Pod, net, conf_path: str, problems) -> bool:
        """kubelet → CRI ``RunPodSandbox`` → containerd; True once the sandbox is READY."""
        self._kubelet_calls(p)
        sid = self._hex("sandbox", p.namespace, p.name)
        self._tell(
            self._title(
                f"RunPodSandbox {p.name}: NewContainer (no task, no namespace yet)",
                f"RunPodSandbox {p.name}: NewContainer（タスクも名前空間もまだ無い）",
            ),
            text(
                f"containerd {VERSION} reserves the name {_cri_name(p)}, makes sure the pause "
                f"image {PAUSE_IMAGE} is there and creates the container record. Nothing runs "
                "yet: unlike docker in 2017, the pause process will start only after the "
                "network is ready.",
                f"containerd {VERSION} は名前 {_cri_name(p)} を予約し、pause イメージ "
                f"{PAUSE_IMAGE} を確かめてコンテナの記録を作る。まだ何も動いていない。2017 年の "
                "docker と違い、pause プロセスはネットワークができてから起動する。",
            ),
            _MIRRORS + "RunPodSandbox (reserve name, ensureImageExists, client.NewContainer)",
            {"k8s": "cri-sandbox", "pod": p.name, "sandbox": sid},
        )
        key = netns_name(bytes.fromhex(self._hex("netns", sid)[:32]))
        rec = SandboxRecord(sid, p, self.clock.now, key, "")
        self._tell(
            self._title(f"NewNetNS {key}", f"NewNetNS {key}"),
            text(
                f"containerd itself creates the pod's network namespace and bind-mounts it at "
                f"/var/run/netns/{key}. Its lo is DOWN: nobody has touched it yet.",
                f"containerd 自身が Pod のネットワーク名前空間を作り /var/run/netns/{key} に "
                "bind mount する。lo は DOWN のまま（まだ誰も触っていない）。",
            ),
            "containerd v1.7 pkg/netns/netns_linux.go: NewNetNS (newNS, cni-%x-%x-%x-%x-%x)",
            {"k8s": "netns", "pod": p.name, "netns": key},
            o.NetnsAdd(key),
        )
        rec.netns_path = (
            f"/var/run/netns/{key}"
            if self.lab.capabilities.in_process_plugins
            else kc.netns_path(self.lab, key)
        )
        p.sandbox_id, p.netns, p.netns_path = sid, key, rec.netns_path
        self.sandboxes[sid] = rec
        rt = worker.runtime(self.node, p)
        if self.lab.capabilities.in_process_plugins:
            rt.netns_paths[rec.netns_path] = key
        p.cni_path = list(rt.cni_path)
        cni = GoCNI(rt, net)
        args = _labels(p, sid)
        # teardownPodNetwork is deferred before setupPodNetwork: a failed ADD may hold resources
        self._tell(
            self._title(
                "setupPodNetwork: libcni AddNetworkList (cni-loopback, then " + net.name + ")",
                "setupPodNetwork: libcni AddNetworkList（cni-loopback、次に " + net.name + "）",
            ),
            text(
                f"containerd (not the kubelet) calls the CNI plugins, through go-cni/libcni: "
                f"first the built-in cni-loopback network (ifname lo), then {conf_path} "
                f"(ifname eth0), with CNI_NETNS={rec.netns_path} and CNI_PATH="
                f"{':'.join(rt.cni_path)}. A DEL of both is registered first, in case ADD "
                "fails half way.",
                "CNI プラグインを呼ぶのは kubelet ではなく containerd（go-cni/libcni 経由）。"
                "まず組み込みの cni-loopback ネットワーク（ifname lo）、次に "
                f"{conf_path}（ifname eth0）。CNI_NETNS={rec.netns_path}、CNI_PATH="
                f"{':'.join(rt.cni_path)}。ADD が途中で失敗したときのため、先に両方の DEL "
                "を登録しておく。",
            ),
            _MIRRORS + "setupPodNetwork (netPlugin.Setup → go-cni attachNetworks → AddNetworkList)",
            {
                "k8s": "cni-add",
                "pod": p.name,
                "env": kc.cni_env("ADD", sid, rec.netns_path, args, rt.cni_path),
                "conf": conf_path,
                "plugins": ["loopback", *(pl.type for pl in net.plugins)],
                "warnings": list(problems),
            },
        )
        try:
            result = cni.setup(sid, rec.netns_path, args, _capabilities(p))
            iface = result.interfaces.get("eth0")
            if iface is None or not iface.ip_configs:
                raise CNIError(999, f'failed to find network info for sandbox "{sid}"')
        except CNIError as err:
            message = (
                err.msg
                if err.msg.startswith("failed to find network info")
                else kc.setup_error(err, getattr(err, "network", net), sid)
            )
            self._failed(worker, p, rec, cni, args, message)
            return False
        rec.cni_result = result
        rec.ip, rec.additional_ips = select_pod_ips([c.ip for c in iface.ip_configs])
        p.net, p.conf_path, p.result = net, conf_path, result.raw[-1]
        p.ip = rec.ip
        self._tell(
            self._title(
                f"{p.namespace}/{p.name} has IP {p.ip} (from the CNI result)",
                f"{p.namespace}/{p.name} の IP は {p.ip}（CNI の結果から）",
            ),
            text(
                f"containerd takes result.Interfaces[\"eth0\"].IPConfigs and picks {p.ip} "
                "(selectPodIPs: the first IPv4 address). It keeps the whole result; the "
                "kubelet reads the IP from PodSandboxStatus.network.ip (crictl inspectp "
                "shows it). Nobody looks inside the namespace.",
                "containerd は result.Interfaces[\"eth0\"].IPConfigs から "
                f"{p.ip} を選ぶ（selectPodIPs: 最初の IPv4 アドレス）。結果全体も保存する。"
                "kubelet は PodSandboxStatus.network.ip から IP を読む（crictl inspectp "
                "で見える）。名前空間の中は誰も見ない。",
            ),
            _MIRRORS + "RunPodSandbox (selectPodIPs on result.Interfaces[defaultIfName])",
            {"k8s": "pod-ip", "pod": p.name, "ip": p.ip, "result": p.result.to_json(net.cni_version)},
        )
        rec.pid = 4000 + 17 * self._counter
        rec.state = "SANDBOX_READY"
        self._tell(
            self._title(
                f"NewTask + Start: the pause process runs in {key}",
                f"NewTask + Start: pause プロセスが {key} で動き出す",
            ),
            text(
                "Only now does the pause process start, inside the namespace that already has "
                "its eth0. The sandbox is READY and RunPodSandbox returns its ID to the kubelet.",
                "ここで初めて pause プロセスが、eth0 の揃った名前空間の中で起動する。"
                "サンドボックスは READY になり、RunPodSandbox は kubelet に ID を返す。",
            ),
            _MIRRORS + "RunPodSandbox (container.NewTask, task.Start)",
            {"k8s": "cri-ready", "pod": p.name, "sandbox": sid},
        )
        return True

    def _kubelet_calls(self, p: Pod) -> None:
        n = self.node.name
        self.lab.apply(
            title=text(
                f"kubelet ({n}): CRI RunPodSandbox for {p.namespace}/{p.name}",
                f"kubelet（{n}）：{p.namespace}/{p.name} の CRI RunPodSandbox",
            ),
            why=text(
                "Since Kubernetes 1.24 (dockershim removed) the kubelet runs no CNI plugin and "
                "creates no namespace: it sends one gRPC call, RunPodSandbox, to the container "
                "runtime (containerd here) and waits for a sandbox ID.",
                "Kubernetes 1.24 で dockershim が削除されて以来、kubelet は CNI "
                "プラグインを実行せず名前空間も作らない。コンテナランタイム（ここでは "
                "containerd）に gRPC 呼び出し RunPodSandbox を 1 つ送り、サンドボックス ID "
                "を待つだけ。",
            ),
            mirrors="kubelet kuberuntime_sandbox.go: createPodSandbox (runtimeService.RunPodSandbox)",
            actor="kubelet",
            detail={"k8s": "sandbox", "pod": p.name, "runtime": "containerd"},
        )

    def _failed(self, worker, p: Pod, rec: SandboxRecord, cni: GoCNI, args, message: str) -> None:
        worker._event(
            p,
            "Warning",
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = " + message,
        )
        self._tell(
            self._title("setupPodNetwork failed: teardown", "setupPodNetwork 失敗: 後始末"),
            text(
                f"{message}. The deferred teardownPodNetwork runs CNI DEL for every network, "
                "then containerd removes the namespace and deletes the container record: "
                "nothing is left, and the kubelet retries later (the pod stays "
                "ContainerCreating).",
                f"{message}。先に登録しておいた teardownPodNetwork が全ネットワークに CNI DEL "
                "を送り、containerd は名前空間を消してコンテナの記録を削除する。何も残らず、"
                "kubelet は後で再試行する（Pod は ContainerCreating のまま）。",
            ),
            _MIRRORS + "RunPodSandbox (deferred teardownPodNetwork, netns.Remove)",
            {"k8s": "cni-failed", "pod": p.name, "message": message},
        )
        try:
            cni.remove(rec.id, rec.netns_path, args, _capabilities(p))
        except CNIError:
            pass  # containerd logs it; the namespace goes below anyway
        self._remove_netns(rec)
        worker._forget_sandbox(p)

    def _remove_netns(self, rec: SandboxRecord) -> None:
        self.sandboxes.pop(rec.id, None)
        if rec.netns in self.lab.snapshot().netns:
            self._tell(
                self._title(f"remove the namespace {rec.netns}", f"名前空間 {rec.netns} を削除"),
                text(
                    "containerd unmounts and removes the pod's namespace (with whatever a "
                    "plugin left in it).",
                    "containerd が Pod の名前空間をアンマウントして消す（プラグインの残したものごと）。",
                ),
                "containerd v1.7 pkg/netns/netns_linux.go: (*NetNS).Remove",
                {"k8s": "netns-remove", "netns": rec.netns},
                o.NetnsDel(rec.netns),
            )

    # ----------------------------------------------------- containers, exec, stop
    def start_app(self, p: Pod) -> str:
        rec = self.sandboxes[p.sandbox_id]
        cid = self._hex("container", p.container)
        self.containers[cid] = ContainerRecord(cid, p.container, p.image, self.clock.now, rec)
        self._tell(
            self._title(
                f"CreateContainer + StartContainer {p.container} in the pod's namespace",
                f"CreateContainer + StartContainer {p.container}（Pod の名前空間で）",
            ),
            text(
                f"The container's runtime spec names the sandbox's namespace ({rec.netns_path}) "
                "as its network namespace: no new namespace, no veth.",
                f"コンテナの runtime spec はサンドボックスの名前空間（{rec.netns_path}）を"
                "ネットワーク名前空間に指定する。名前空間も veth も新しく作らない。",
            ),
            "containerd v1.7 pkg/cri/server/container_create.go: CreateContainer (WithPodNamespaces)",
            {"k8s": "container", "pod": p.name, "container": cid},
        )
        return cid

    def exists(self, p: Pod) -> bool:
        return p.app_id in self.containers

    def exec(self, p: Pod, command: str) -> str:
        rec = self.sandboxes[p.sandbox_id]
        words = shlex.split(command)
        if words[0].rsplit("/", 1)[-1] == "hostname":
            return p.name + "\n"
        line = in_netns(rec.netns, words)
        if line is None:
            return (
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{words[0]}": executable file not found in $PATH: unknown\n'
            )
        return str(self.lab.run(line.strip()))

    def kill_pod(self, worker, p: Pod) -> bool:
        """StopContainer, then StopPodSandbox (teardownPodNetwork, netns remove); False: DEL failed."""
        for cid in [c.id for c in self.containers.values() if c.sandbox.pod is p]:
            del self.containers[cid]
        rec = self.sandboxes.get(p.sandbox_id)
        if rec is None:
            return True
        rt = worker.runtime(self.node, p)
        rt.cni_path = list(p.cni_path or rt.cni_path)
        cni = GoCNI(rt, p.net)
        args = _labels(p, rec.id)
        self._tell(
            self._title(
                f"StopPodSandbox {p.name}: teardownPodNetwork (CNI DEL)",
                f"StopPodSandbox {p.name}: teardownPodNetwork（CNI DEL）",
            ),
            text(
                "containerd sends CNI DEL for both networks with the configuration the ADD "
                "used, then removes the namespace.",
                "containerd は ADD と同じ設定で両方のネットワークに CNI DEL を送り、"
                "それから名前空間を消す。",
            ),
            "containerd v1.7 pkg/cri/server/sandbox_stop.go: stopPodSandbox (teardownPodNetwork)",
            {"k8s": "cni-del", "pod": p.name},
        )
        try:
            cni.remove(rec.id, rec.netns_path, args, _capabilities(p))
        except CNIError as err:
            message = kc.setup_error(err, p.net, rec.id, "delete")
            worker._event(
                p,
                "Warning",
                "FailedKillPod",
                f'error killing pod: failed to "KillPodSandbox" for "{p.uid}" with '
                f'KillPodSandboxError: "rpc error: code = Unknown desc = {message}"',
            )
            return False
        rec.state = "SANDBOX_NOTREADY"
        self._remove_netns(rec)
        return True

    def sandbox(self, p: Pod) -> Sandbox:
        rec = self.sandboxes[p.sandbox_id]
        return Sandbox(rec.id, rec.netns, rec.pid)


def _cri_name(p: Pod) -> str:
    # mirrors containerd pkg/cri/util: makeSandboxName
    return f"{p.name}_{p.namespace}_{p.uid}_0"


def _labels(p: Pod, sid: str) -> list[tuple[str, str]]:
    # mirrors containerd sandbox_run.go: cniNamespaceOpts (labels)
    return [
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", p.namespace),
        ("K8S_POD_NAME", p.name),
        ("K8S_POD_INFRA_CONTAINER_ID", sid),
        ("K8S_POD_UID", p.uid),
    ]


def _capabilities(p: Pod) -> dict | None:
    # mirrors containerd sandbox_run.go: cniNamespaceOpts (WithCapabilityPortMap, HostPort > 0 only)
    ports = [
        {"hostPort": hp, "containerPort": cp, "protocol": proto.lower(), "hostIP": ip}
        for hp, cp, proto, ip in p.ports
        if hp > 0
    ]
    return {"portMappings": ports} if ports else None

