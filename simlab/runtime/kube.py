"""``lab.k8s``: a kubelet on the lab's node that wires pods through CNI (slides 11 to 16).

The story of the talk: ``docker inspect`` of a pod's container shows no
network, ``kubectl get -o wide pod`` shows an IP, and inside the container
``ip a`` shows ``eth0`` with that IP.  The kubelet explains it:

1. it asks docker for the pod's sandbox (the pause container) with
   ``NetworkMode=none``: docker makes a namespace with ``lo`` and no more;
2. it reads ``/etc/cni/net.d`` and execs the CNI plugin with ``CNI_*``
   environment variables and the network configuration on stdin (ADD);
3. the plugin builds ``eth0`` inside the sandbox's namespace; its result's IP
   becomes the pod's IP;
4. the application container joins the sandbox's namespace
   (``--net container:<pause>``) and sees that ``eth0``.

>>> import simlab
>>> lab = simlab.Lab(backend="model")
>>> pod = lab.k8s.run("web")
>>> pod.ip, pod.status
('10.244.1.2', 'Running')
>>> print(lab.k8s.get_pods(), end="")
NAME      READY     STATUS    RESTARTS   AGE       IP           NODE
web       1/1       Running   0          0s        10.244.1.2   k8s-node01
>>> lab.docker.inspect(pod.app_name)["NetworkSettings"]["Networks"] is None
True
>>> lab.k8s.delete("web")
>>> lab.close()

Docker names follow kubelet's: ``k8s_POD_<pod>_<namespace>_<uid>_0`` for the
sandbox, ``k8s_<container>_<pod>_<namespace>_<uid>_0`` for the application.
A second node (:meth:`Kubelet.add_node`) is a namespace of its own on the
same LAN (see :mod:`.kube_nodes`); plugins are chosen per node
(:meth:`Kubelet.use_plugin`, see :mod:`.kube_cni`).

Order note: kubelet sets the sandbox's network up *before* it starts any
application container (dockershim ``RunPodSandbox`` calls ``SetUpPod``;
``SyncPod`` starts containers afterwards), so a pod whose CNI ADD fails never
gets its containers: it stays ``ContainerCreating``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field

from ..cni import CNIError, Result
from ..cni.config import NetworkConfigList
from ..model import ROOT, NetError
from ..timeline import text
from . import kube_cni as kc
from .docker_errors import DockerError
from .kube_nodes import Node, ensure_lan_switch, join_node, route_pod_cidrs
from .kube_sandbox import DockerSandboxes, NamespaceSandboxes
from .kube_text import Clock, Event, describe_pod, pods_table

__all__ = ["Kubelet", "Pod", "KubeError"]

_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class KubeError(Exception):
    """What kubectl prints on failure (and its exit status)."""

    def __init__(self, message: str, exit: int = 1):  # noqa: A002 (a process' word)
        super().__init__(message)
        self.message = message
        self.exit = exit

    def __str__(self) -> str:
        return self.message


@dataclass(eq=False)
class Pod:
    """One pod as the API server and the kubelet know it."""

    name: str
    namespace: str
    uid: str
    node: Node
    image: str
    container: str
    created: float
    status: str = "Pending"  # ContainerCreating, Running, Terminating (kubectl's STATUS column)
    ip: str = ""
    restarts: int = 0
    started: float | None = None
    sandbox_id: str = ""
    netns: str = ""  # the sandbox's namespace key
    netns_path: str = ""  # CNI_NETNS
    app_id: str = ""
    net: NetworkConfigList | None = None  # the configuration ADD used (DEL uses it too)
    cni_path: list[str] = field(default_factory=list)  # CNI_PATH of that ADD (DEL uses it too)
    conf_path: str = ""
    result: Result | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def sandbox_name(self) -> str:
        return f"k8s_POD_{self.name}_{self.namespace}_{self.uid}_0"

    @property
    def app_name(self) -> str:
        return f"k8s_{self.container}_{self.name}_{self.namespace}_{self.uid}_0"

    def __repr__(self) -> str:
        ip = self.ip or "<none>"
        return f"<Pod {self.namespace}/{self.name} {self.status} {ip} on {self.node.name}>"


class Kubelet:
    """A kubelet per node, with ``kubectl``-like calls for the learner.

    Nothing changes until the first pod (or :meth:`add_node`): constructing it is free.
    """

    def __init__(self, lab, *, node_name: str = "k8s-node01", pod_cidr: str = "10.244.1.0/24"):
        self.lab = lab
        #: The clock kubectl's AGE column reads; only ``clock.advance(...)`` moves it.
        self.clock = Clock()
        #: Files the nodes keep on disk (host-local's store, simlab-ptp's executable).
        self.state_dir = os.path.join(
            tempfile.gettempdir(), f"simlab-k8s-{os.getpid()}-{secrets.token_hex(3)}"
        )
        docker = lab.docker
        address = docker.uplink_cidr.split("/")[0]
        self.node = self._new_node(node_name, ROOT, address, pod_cidr)
        self.nodes: dict[str, Node] = {node_name: self.node}
        self._sandboxes = {node_name: DockerSandboxes(lab)}
        self._pods: dict[tuple[str, str], Pod] = {}
        self._counter = 0

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Forget the nodes' files (the lab's backend removes the namespaces)."""
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<Kubelet nodes={list(self.nodes)} pods={len(self._pods)}>"

    def reservations(self) -> list[str]:
        """Addresses host-local still reserves on every node (none once every pod is gone)."""
        out = []
        for node in self.nodes.values():
            for _root, _dirs, files in os.walk(node.ipam_dir):
                out += [f for f in files if f != "lock" and not f.startswith("last_reserved_ip")]
        return out

    # ---------------------------------------------------------------- nodes
    def _new_node(self, name: str, key: str, address: str, pod_cidr: str) -> Node:
        node = Node(
            name,
            key,
            address,
            pod_cidr,
            ipam_dir=os.path.join(self.state_dir, name, "var", "lib", "cni", "networks"),
        )
        filename, conf = kc.preset("simlab-bridge", node)
        node.cni_config_dir[f"{kc.CNI_CONF_DIR}/{filename}"] = conf
        return node

    def _node(self, node: str | Node | None) -> Node:
        if node is None:
            return self.node
        if isinstance(node, Node):
            return node
        if node not in self.nodes:
            raise KubeError(f'Error from server (NotFound): nodes "{node}" not found')
        return self.nodes[node]

    def add_node(
        self,
        name: str = "k8s-node02",
        *,
        key: str | None = None,
        pod_cidr: str | None = None,
        address: str | None = None,
        plugin: str = "simlab-bridge",
    ) -> Node:
        """Join another machine to the cluster: a namespace on the same LAN with its own pod CIDR.

        Linux: `kubeadm join` on a second machine, plus the routes a flannel
        host-gw backend installs.  ``key`` is its namespace (default ``node<N>``).
        """
        if name in self.nodes:
            raise KubeError(f'Error from server (AlreadyExists): nodes "{name}" already exists')
        n = len(self.nodes) + 1
        key = key or f"node{n}"
        if key in self.lab.snapshot().netns:
            raise KubeError(f"the lab already has a namespace {key!r}: choose another key")
        docker = self.lab.docker
        base = docker.uplink_cidr.split("/")[0].rsplit(".", 1)[0]
        node = self._new_node(name, key, address or f"{base}.{n}", pod_cidr or f"10.244.{n}.0/24")
        self._sandboxes[self.node.name].start()
        ensure_lan_switch(self.lab, docker.lan, docker.lan_cidr)
        join_node(self.lab, node, docker.lan, docker.lan_cidr, docker.uplink)
        self.nodes[name] = node
        self._sandboxes[name] = NamespaceSandboxes(self.lab, node)
        if plugin != "simlab-bridge":
            self.use_plugin(plugin, node=name)
        route_pod_cidrs(self.lab, list(self.nodes.values()), docker.uplink)
        return node

    # ------------------------------------------------------- /etc/cni/net.d
    @property
    def cni_config_dir(self) -> dict[str, str]:
        """Node 1's ``/etc/cni/net.d``: file path -> text (edit it freely)."""
        return self.node.cni_config_dir

    @property
    def cni_path(self) -> list[str]:
        """Node 1's CNI_PATH (set it to a list of directories to use your own plugins)."""
        return self._cni_path(self.node)

    @cni_path.setter
    def cni_path(self, dirs) -> None:
        self.node.cni_path = [str(d) for d in ([dirs] if isinstance(dirs, str) else dirs)]

    def _cni_path(self, node: Node) -> list[str]:
        return list(node.cni_path) if node.cni_path else kc.default_path(self.state_dir)

    def _active_file(self, node: Node) -> str | None:
        names = sorted(
            p for p in node.cni_config_dir if p.endswith((".conflist", ".conf", ".json"))
        )
        return names[0] if names else None

    def read_conflist(self, node: str | None = None) -> str:
        """The text of the configuration file kubelet reads first (``cat /etc/cni/net.d/...``)."""
        n = self._node(node)
        path = self._active_file(n)
        if path is None:
            raise FileNotFoundError(f"{kc.CNI_CONF_DIR}: no network configuration on {n.name}")
        return n.cni_config_dir[path]

    def write_conflist(self, conf, filename: str | None = None, node: str | None = None) -> str:
        """Write a network configuration (text, or a dict written as JSON); returns its path.

        Without ``filename`` the file kubelet reads first is replaced (or
        ``10-k8s-pod-network.conflist`` created).  Nothing is checked here:
        kubelet reads it when it next starts a pod.
        """
        n = self._node(node)
        if not isinstance(conf, str):
            conf = json.dumps(conf, indent=2) + "\n"
        if filename is None:
            path = self._active_file(n) or f"{kc.CNI_CONF_DIR}/10-{kc.NETWORK_NAME}.conflist"
        else:
            path = filename if filename.startswith("/") else f"{kc.CNI_CONF_DIR}/{filename}"
        n.cni_config_dir[path] = conf
        return path

    def use_plugin(
        self,
        kind: str,
        *,
        node: str | None = None,
        subnet: str | None = None,
        type: str = "",
        cni_path=None,
    ) -> str:  # noqa: A002 (CNI's key)
        """Make ``kind`` the node's only network configuration; returns the conflist text.

        ``simlab-bridge`` (default), ``reference`` (Debian's ``bridge`` +
        ``host-local`` from /usr/lib/cni; kernel backend only), ``ptp``
        (simlab-ptp: routed /32 pods, like Calico) or ``custom`` (your own
        executable ``type``, found in ``cni_path``).  ``subnet`` changes the
        node's pod CIDR.
        """
        n = self._node(node)
        if kind == "reference":
            if self.lab.capabilities.in_process_plugins:
                raise KubeError(
                    "Debian's reference plugins change the real kernel, so they run only on the "
                    "kernel backend (simlab.Lab(backend='kernel'), as root); on the model use "
                    "'simlab-bridge', the same plugin function for function"
                )
            if not os.path.exists(os.path.join(kc.REFERENCE_DIR, "bridge")):
                raise KubeError(
                    f"{kc.REFERENCE_DIR}/bridge is not installed "
                    "(apt-get install containernetworking-plugins)"
                )
        if subnet is not None:
            n.pod_cidr = subnet
        filename, conf = kc.preset(kind, n, subnet=subnet, plugin_type=type)
        n.cni_config_dir.clear()
        n.cni_config_dir[f"{kc.CNI_CONF_DIR}/{filename}"] = conf
        n.plugin = kind
        if kind == "reference":
            n.cni_path = [kc.REFERENCE_DIR]
        elif kind == "custom":
            if not cni_path:
                raise KubeError(
                    "a custom plugin needs cni_path=[directory holding your executable]"
                )
            dirs = [cni_path] if isinstance(cni_path, str) else list(cni_path)
            # simlab's own directory last, so the custom plugin can delegate to simlab-host-local
            n.cni_path = [str(d) for d in dirs] + kc.default_path(self.state_dir)
        else:
            n.cni_path = None if cni_path is None else [str(d) for d in cni_path]
        if len(self.nodes) > 1 and n.key in self.lab.snapshot().netns:
            route_pod_cidrs(self.lab, list(self.nodes.values()), self.lab.docker.uplink)
        return conf

    def add_in_process_plugin(self, plugin_type: str, runner, *, node: str | None = None) -> None:
        """Model only: run ``plugin_type`` in-process as ``runner(env, stdin, parent_session)``.

        An executable started as a process cannot reach the model, so a Python
        plugin written against :mod:`simlab.cni.netlink` is called this way
        (see :func:`simlab.cni.plugins.run_in_process` for the runner's shape).
        """
        if not self.lab.capabilities.in_process_plugins:
            raise KubeError(
                "only the model runs plugins in-process; on the kernel put an executable "
                "on the node's CNI_PATH (use_plugin('custom', type=..., cni_path=[...]))"
            )
        self._runtime(self._node(node)).in_process[plugin_type] = runner

    # ---------------------------------------------------------------- pods
    @property
    def pods(self) -> list[Pod]:
        return list(self._pods.values())

    def pod(self, name: str, namespace: str = "default") -> Pod:
        p = self._pods.get((namespace, name))
        if p is None:
            raise KubeError(f'Error from server (NotFound): pods "{name}" not found')
        return p

    def _uid(self, namespace: str, name: str) -> str:
        seed = self.lab.snapshot().seed
        h = hashlib.sha256(
            f"simlab-k8s:{seed}:{namespace}:{name}:{self._counter}".encode()
        ).hexdigest()
        # shaped like the slide's UID, a version-1 UUID of 2017 on a QEMU NIC:
        # 018173b3-8247-11e7-b2d6-525400075920
        return f"{h[:8]}-{h[8:12]}-11e7-{h[12:16]}-525400{h[16:22]}"

    def run(
        self,
        pod: str,
        image: str = "centos",
        *,
        node: str | None = None,
        namespace: str = "default",
        container: str | None = None,
    ) -> Pod:
        """Linux: `kubectl run POD --image=IMAGE --restart=Never` (on ``node``, default node 1).

        Returns the pod; a CNI failure does not raise: the pod stays
        ``ContainerCreating`` and :meth:`describe` shows why.
        """
        if not _DNS1123.match(pod) or len(pod) > 253:
            raise KubeError(
                f'The Pod "{pod}" is invalid: metadata.name: Invalid value: "{pod}": a lowercase '
                "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                "'.', "
                "and must start and end with an alphanumeric character"
            )
        if (namespace, pod) in self._pods:
            raise KubeError(f'Error from server (AlreadyExists): pods "{pod}" already exists')
        n = self._node(node)
        self._counter += 1
        p = Pod(
            pod,
            namespace,
            self._uid(namespace, pod),
            n,
            image,
            container or pod,
            created=self.clock.now,
        )
        p.events.append(
            Event(
                "Normal",
                "Scheduled",
                self.clock.now,
                "default-scheduler",
                f"Successfully assigned {namespace}/{pod} to {n.name}",
            )
        )
        self._pods[(namespace, pod)] = p
        self._sync_pod(p)
        return p

    def sync(self) -> list[Pod]:
        """kubelet's periodic sync: try again for every pod still ``ContainerCreating``."""
        again = [p for p in self._pods.values() if p.status in ("ContainerCreating", "Pending")]
        for p in again:
            self._sync_pod(p)
        return again

    def _title(self, p: Pod, en: str, ja: str) -> dict:
        return text(f"kubelet ({p.node.name}): {en}", f"kubelet（{p.node.name}）: {ja}")

    def _sync_pod(self, p: Pod) -> None:
        node, sandboxes = p.node, self._sandboxes[p.node.name]
        sandboxes.start()
        p.status = "ContainerCreating"
        # --- the network configuration (no usable one: the node's network is not ready)
        try:
            conf_path, net, problems = kc.load_network(node.cni_config_dir)
        except kc.ConfigError as err:
            self._network_not_ready(p, err)
            return
        # --- the sandbox, with --net none
        self.lab.apply(
            title=self._title(
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
                "it through CNI next.",
                "Pod のコンテナは 1 つのネットワーク名前空間を共有し、それを小さな pause "
                "コンテナ（サンドボックス）が保持する。kubelet は docker にこれを "
                "NetworkMode=none（docker run --net none）で作らせる。docker は lo "
                "だけの名前空間を作って仕事を終える。だから docker inspect では Pod "
                "のコンテナにネットワークが無いように見える（スライド 11）。ここでネットワークは "
                "docker の担当ではなく、次に kubelet が CNI を通して追加する。",
            ),
            mirrors='dockershim docker_sandbox.go: RunPodSandbox (HostConfig.NetworkMode = "none")',
            actor="kubelet",
            detail={"k8s": "sandbox", "pod": p.name, "container": p.sandbox_name},
        )
        try:
            sb = sandboxes.create(p.sandbox_name, p.name)
        except (DockerError, NetError) as err:  # the sandbox never existed (docker undid its steps)
            p.events.append(
                Event(
                    "Warning",
                    "FailedCreatePodSandBox",
                    self.clock.now,
                    "kubelet",
                    f"Failed to create pod sandbox: {err}",
                )
            )
            return
        p.sandbox_id, p.netns = sb.id, sb.netns
        if self.lab.capabilities.in_process_plugins:
            p.netns_path = f"/proc/{sb.pid}/ns/net"
        else:
            p.netns_path = kc.netns_path(self.lab, sb.netns)
        # --- CNI ADD
        result = self._cni_add(p, node, net, conf_path, problems)
        if result is None:
            return
        p.net, p.conf_path, p.result = net, conf_path, result
        p.ip = _pod_ip(result)
        self._pod_ip_step(p, result, net.cni_version)
        # --- the application container joins the sandbox's namespace
        p.app_id = sandboxes.start_app(p.app_name, p.sandbox_name, p.image)
        now = self.clock.now
        p.events += [
            Event(
                "Normal",
                "Pulled",
                now,
                "kubelet",
                f'Container image "{p.image}" already present on machine',
            ),
            Event("Normal", "Created", now, "kubelet", f"Created container {p.container}"),
            Event("Normal", "Started", now, "kubelet", f"Started container {p.container}"),
        ]
        p.status, p.started = "Running", now

    def _pod_ip_step(self, p: Pod, result: Result, cni_version: str) -> None:
        first = result.ips[0] if result.ips else None
        shown = (
            f"{first.address} on eth0" + (f", gateway {first.gateway}" if first.gateway else "")
            if first
            else "no address"
        )
        self.lab.apply(
            title=self._title(
                p,
                f"{p.namespace}/{p.name} has IP {p.ip or '<none>'}",
                f"{p.namespace}/{p.name} の IP は {p.ip or '<none>'}",
            ),
            why=text(
                f"The plugin answered with a result ({shown}). kubelet records {p.ip or 'nothing'} "
                "as the pod's IP: kubectl get -o wide pod shows it, while docker inspect still "
                "says the containers have no network (slides 12 and 13).",
                f"プラグインは結果（{shown}）を返した。kubelet は {p.ip or '何も'} を Pod の IP "
                "として記録する。kubectl get -o wide pod にはこの IP が出るが、docker inspect "
                "では相変わらずコンテナにネットワークが無いことになっている（スライド 12・13）。",
            ),
            mirrors="kuberuntime_manager.go: SyncPod (podIP from the sandbox's network status)",
            actor="kubelet",
            detail={
                "k8s": "pod-ip",
                "pod": p.name,
                "ip": p.ip,
                "result": result.to_json(cni_version or "1.0.0"),
            },
        )

    def _network_not_ready(self, p: Pod, err: kc.ConfigError) -> None:
        msg = (
            "network is not ready: container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:docker: network plugin is not ready: "
            f"{err.message}"
        )
        p.events.append(Event("Warning", "NetworkNotReady", self.clock.now, "kubelet", msg))
        problems = "; ".join(err.problems)
        self.lab.apply(
            title=self._title(
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
            actor="kubelet",
            detail={
                "k8s": "network-not-ready",
                "pod": p.name,
                "error": msg,
                "problems": list(err.problems),
            },
        )

    def _cni_call_step(
        self,
        p: Pod,
        command: str,
        net: NetworkConfigList,
        conf_path: str,
        cni_path: list[str],
        problems=(),
    ) -> None:
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
            title = self._title(
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
            title = self._title(
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
        self.lab.apply(
            title=title,
            why=why,
            mirrors=mirrors,
            actor="kubelet",
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

    def _runtime(self, node: Node):
        if node.runtime is None:
            node.runtime = kc.runtime_for_node(self.lab, node, self._cni_path(node))
        rt = node.runtime
        rt.cni_path = self._cni_path(node)
        if self.lab.capabilities.in_process_plugins:
            for q in self._pods.values():
                if q.node is node and q.netns_path:
                    rt.netns_paths[q.netns_path] = q.netns
        return rt

    def _cni_add(self, p: Pod, node: Node, net: NetworkConfigList, conf_path: str, problems):
        rt = self._runtime(node)
        p.cni_path = list(rt.cni_path)
        self._cni_call_step(p, "ADD", net, conf_path, rt.cni_path, problems)
        args = kc.cni_args(p.namespace, p.name, p.sandbox_id)
        try:
            return rt.add(net, p.sandbox_id, p.netns_path, "eth0", args)
        except CNIError as err:
            message = kc.setup_error(err, net, p.sandbox_id)
        p.events.append(
            Event(
                "Warning",
                "FailedCreatePodSandBox",
                self.clock.now,
                "kubelet",
                "Failed to create pod sandbox: rpc error: code = Unknown desc = " + message,
            )
        )
        self.lab.apply(
            title=self._title(
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
            actor="kubelet",
            detail={"k8s": "cni-failed", "pod": p.name, "error": message},
        )
        p.net, p.conf_path = net, conf_path
        self._cni_del(p, quiet=True)
        self._sandboxes[node.name].remove(p.sandbox_name)
        self._forget_sandbox(p)
        return None

    def _cni_del(self, p: Pod, quiet: bool = False) -> bool:
        """CNI DEL with the configuration ADD used; False (and an event) if it failed."""
        if p.net is None:
            return True
        rt = self._runtime(p.node)
        rt.cni_path = list(p.cni_path or rt.cni_path)
        self._cni_call_step(p, "DEL", p.net, p.conf_path, rt.cni_path)
        try:
            rt.delete(
                p.net,
                p.sandbox_id,
                p.netns_path,
                "eth0",
                kc.cni_args(p.namespace, p.name, p.sandbox_id),
            )
        except CNIError as err:
            if quiet:
                return False
            message = kc.setup_error(err, p.net, p.sandbox_id, "delete")
            p.events.append(
                Event(
                    "Warning",
                    "FailedKillPod",
                    self.clock.now,
                    "kubelet",
                    f'error killing pod: failed to "KillPodSandbox" for "{p.uid}" '
                    "with KillPodSandboxError: "
                    f'"rpc error: code = Unknown desc = {message}"',
                )
            )
            return False
        return True

    def _forget_sandbox(self, p: Pod) -> None:
        rt = p.node.runtime
        if rt is not None:
            rt.netns_paths.pop(p.netns_path, None)
        p.sandbox_id = p.netns = p.netns_path = p.app_id = ""
        p.result, p.ip, p.net = None, "", None

    def delete(self, pod: str, namespace: str = "default") -> None:
        """Linux: `kubectl delete pod POD`: containers stopped, CNI DEL, sandbox removed.

        If DEL fails the pod stays ``Terminating`` with its sandbox (kubelet
        retries); call ``delete`` again once the cause is fixed.
        """
        p = self.pod(pod, namespace)
        sandboxes = self._sandboxes[p.node.name]
        if not p.sandbox_id:
            self.lab.apply(
                title=self._title(
                    p,
                    f"delete {p.namespace}/{p.name} (it had no sandbox)",
                    f"{p.namespace}/{p.name} を削除（サンドボックスは無かった）",
                ),
                why=text(
                    "the pod never got a sandbox, so there is nothing to tear down in the kernel.",
                    "この Pod はサンドボックスを持たなかったので、カーネル側に片付けるものは無い。",
                ),
                actor="kubelet",
                detail={"k8s": "delete", "pod": p.name},
            )
            del self._pods[(p.namespace, p.name)]
            return
        p.status = "Terminating"
        self.lab.apply(
            title=self._title(
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
            actor="kubelet",
            detail={"k8s": "delete", "pod": p.name},
        )
        p.events.append(
            Event(
                "Normal", "Killing", self.clock.now, "kubelet", f"Stopping container {p.container}"
            )
        )
        sandboxes.remove(p.app_name)
        p.app_id = ""
        if not self._cni_del(p):
            return
        sandboxes.remove(p.sandbox_name)
        self._forget_sandbox(p)
        del self._pods[(p.namespace, p.name)]

    # ---------------------------------------------------------------- views
    def get_pods(self) -> str:
        """Linux: `kubectl get -o wide pod` (AGE from ``lab.k8s.clock``)."""
        return pods_table(sorted(self.pods, key=lambda p: (p.namespace, p.name)), self.clock.now)

    def describe(self, pod: str, namespace: str = "default") -> str:
        """Linux: `kubectl describe pod POD`, with its Events."""
        return describe_pod(self.pod(pod, namespace), self.clock)

    def exec(self, pod: str, command: str, namespace: str = "default") -> str:
        """Linux: `kubectl exec POD -- COMMAND` (``ip``, ``bridge``, ``iptables``, ``ping``, ``hostname``)."""
        p = self.pod(pod, namespace)
        sandboxes = self._sandboxes[p.node.name]
        if p.status != "Running" or not sandboxes.exists(p.app_name):
            raise KubeError(
                f'error: unable to upgrade connection: container not found ("{p.container}")'
            )
        return sandboxes.exec(p.app_name, command)

    def reach(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None):
        """Walk a packet from pod ``src`` to a pod name or an address (the model's answer).

        Linux: `kubectl exec SRC -- ping -c1 DST`.
        """
        from ..model.forward import reach

        p = self.pod(src)
        if not p.netns:
            raise KubeError(
                f'error: unable to upgrade connection: container not found ("{p.container}")'
            )
        target = self._pods.get(("default", dst))
        address = target.ip if target is not None else dst
        if not address:
            raise KubeError(f'pod "{dst}" has no IP yet')
        return reach(self.lab.snapshot(), p.netns, address, proto, dport)


def _pod_ip(result: Result) -> str:
    """The first address on an interface inside the sandbox, else the first address."""
    for ipc in result.ips:
        idx = ipc.interface
        if idx is not None and 0 <= idx < len(result.interfaces) and result.interfaces[idx].sandbox:
            return ipc.address.split("/")[0]
    return result.ips[0].address.split("/")[0] if result.ips else ""
