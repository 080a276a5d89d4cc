"""Where a node's pod sandboxes come from: docker on node 1, bare namespaces on other nodes.

Node 1 is the lab's node, whose container runtime is ``lab.docker``: the
kubelet calls it as dockershim called dockerd (``docker run --net none`` for
the pause container, ``--net container:<pause>`` for each application
container), so ``lab.docker.inspect`` and ``docker ps`` show the pod's
containers with kubelet's names.

simlab has one docker engine, the lab node's; a second node's runtime is
played by :class:`NamespaceSandboxes`: the same kernel steps (a namespace
with ``lo`` up, nothing else) without docker's records.
"""

from __future__ import annotations

import hashlib
import shlex

from ..model import ROOT
from ..model import ops as o
from ..timeline import text
from .docker_errors import DockerError
from .exec_line import in_netns
from .kube_forward import accept_pod_network

__all__ = ["PAUSE_IMAGE", "Sandbox", "DockerSandboxes", "NamespaceSandboxes"]

#: Kubernetes 1.7's default infra image.
PAUSE_IMAGE = "gcr.io/google_containers/pause-amd64:3.0"


class Sandbox:
    """What the kubelet keeps of a started sandbox: its ID, namespace key and process."""

    def __init__(self, id: str, netns: str, pid: int):  # noqa: A002 (docker's word)
        self.id, self.netns, self.pid = id, netns, pid


class DockerSandboxes:
    """dockershim: sandboxes and containers through ``lab.docker``."""

    def __init__(self, lab):
        self.lab = lab

    def start(self) -> None:
        self.lab.docker.start()
        accept_pod_network(self.lab, ROOT, self.lab.k8s.node.pod_cidr)  # past docker's FORWARD DROP

    def create(self, name: str, hostname: str) -> Sandbox:
        c = self.lab.docker.run(name, net="none", image=PAUSE_IMAGE)
        # kubelet gives the pause container the pod's name as hostname (HostConfig/Config.Hostname);
        # the app containers inherit it with the UTS namespace.
        c.hostname = hostname
        return Sandbox(c.id, c.netns, c.pid)

    def start_app(self, name: str, sandbox_name: str, image: str) -> str:
        return self.lab.docker.run(name, net=f"container:{sandbox_name}", image=image).id

    def exists(self, name: str) -> bool:
        try:
            self.lab.docker.get(name)
        except DockerError:
            return False
        return True

    def remove(self, name: str) -> None:
        if self.exists(name):
            self.lab.docker.rm(name, force=True)

    def exec(self, name: str, command: str) -> str:
        return self.lab.docker.exec(name, command)


class NamespaceSandboxes:
    """Another node's runtime: a sandbox is a namespace with ``lo`` up; an app adds nothing."""

    def __init__(self, lab, node):
        self.lab = lab
        self.node = node
        self._made: dict[str, tuple[str, str, str]] = {}  # name -> (id, netns, hostname)
        self._counter = 0

    def start(self) -> None:
        pass

    def _id(self, *what) -> str:
        seed = self.lab.snapshot().seed
        return hashlib.sha256(
            ":".join(["simlab-k8s", str(seed), self.node.name, *map(str, what)]).encode()
        ).hexdigest()

    def create(self, name: str, hostname: str) -> Sandbox:
        self._counter += 1
        cid = self._id("sandbox", name, self._counter)
        key = cid[:12]
        node = self.node.name
        self.lab.apply(
            o.NetnsAdd(key),
            o.LinkSet("lo", netns=key, up=True),
            title=text(
                f"docker ({node}): create the sandbox {name} (--net none)",
                f"docker（{node}）：サンドボックス {name} を作る（--net none）",
            ),
            why=text(
                f"{node}'s container runtime makes the pause container's network namespace and "
                "brings its lo up, nothing more, as docker does for --net none. (simlab's docker "
                f"engine is the lab node's; on {node} the sandbox is this bare namespace, key "
                f"{key!r}.)",
                f"{node} のコンテナランタイムが pause コンテナのネットワーク名前空間を作り、lo を "
                "up にするだけ。docker の --net none と同じ。（simlab の docker "
                f"エンジンはラボのノードのもの。{node} のサンドボックスはこの素の名前空間で、"
                f"キーは {key!r}。）",
            ),
            mirrors="libnetwork osl: NewSandbox (createNetworkNamespace, loopbackUp)",
            actor="docker",
            detail={"container": name, "node": node},
        )
        self._made[name] = (cid, key, hostname)
        return Sandbox(cid, key, 3000 + 17 * self._counter)

    def start_app(self, name: str, sandbox_name: str, image: str) -> str:
        self._counter += 1
        cid = self._id("container", name, self._counter)
        sid, key, hostname = self._made[sandbox_name]
        node = self.node.name
        self.lab.apply(
            title=text(
                f"docker ({node}): run {name} in the sandbox's namespace",
                f"docker（{node}）：{name} をサンドボックスの名前空間で動かす",
            ),
            why=text(
                f"the application container joins the pause container's namespace "
                f"(--net container:{sandbox_name}): no new namespace, no veth; it sees the "
                "sandbox's lo and eth0.",
                "アプリケーションのコンテナは pause コンテナの名前空間に入る（--net "
                f"container:{sandbox_name}）。名前空間も veth も作らず、サンドボックスの lo と "
                "eth0 が見える。",
            ),
            mirrors="daemon: initializeNetworking (container mode)",
            actor="docker",
            detail={"container": name, "node": node},
        )
        self._made[name] = (cid, key, hostname)
        return cid

    def exists(self, name: str) -> bool:
        return name in self._made

    def remove(self, name: str) -> None:
        made = self._made.pop(name, None)
        if made is None:
            return
        cid, key, _ = made
        node = self.node.name
        sharing = any(k == key for (_, k, _) in self._made.values())
        ops = [o.NetnsDel(key)] if not sharing and key in self.lab.snapshot().netns else []
        self.lab.apply(
            *ops,
            title=text(f"docker ({node}): remove {name}", f"docker（{node}）：{name} を削除"),
            why=text(
                "the sandbox goes and its namespace with it (with whatever is still inside)."
                if ops
                else "this container had no network of its own: nothing changes.",
                "サンドボックスを消すと名前空間も（中に残っているものごと）消える。"
                if ops
                else "このコンテナは自分のネットワークを持たないので何も変わらない。",
            ),
            mirrors="libnetwork osl: (*networkNamespace).Destroy" if ops else "",
            actor="docker",
            detail={"container": name, "node": node},
        )

    def exec(self, name: str, command: str) -> str:
        _, key, hostname = self._made[name]
        words = shlex.split(command)
        if words[0].rsplit("/", 1)[-1] == "hostname":
            return hostname + "\n"
        line = in_netns(key, words)
        if line is None:
            return (
                f"OCI runtime exec failed: exec failed: container_linux.go:380: starting container "
                f'process caused: exec: "{words[0]}": executable file not found in $PATH: unknown\n'
            )
        return str(self.lab.run(line.strip()))
