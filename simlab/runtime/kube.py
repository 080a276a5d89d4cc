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
(:meth:`Kubelet.use_plugin`, see :mod:`.kube_cni`, which also keeps the
conflist files).  A pod's life (sync and kill) is :mod:`.kube_pods`; what
each step means, in English and Japanese, is :mod:`.kube_story`.

Order note: kubelet sets the sandbox's network up *before* it starts any
application container (dockershim ``RunPodSandbox`` calls ``SetUpPod``;
``SyncPod`` starts containers afterwards), so a pod whose CNI ADD fails never
gets its containers: it stays ``ContainerCreating``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field

from ..cni import Result
from ..cni.config import NetworkConfigList
from ..model import ROOT, forward
from . import cni_gc
from . import kube_cni as kc
from .kube_nodes import Node, ensure_lan_switch, join_node, route_pod_cidrs
from .kube_pods import PodWorker
from .containerd import RUNTIMES, ContainerdSandboxes
from .crictl import crictl as _crictl
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
    #: the container's ports: (hostPort, containerPort, protocol, hostIP); hostPort 0: none
    ports: tuple[tuple[int, int, str, str], ...] = ()

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
        here = f"simlab-k8s-{os.getpid()}-{secrets.token_hex(3)}"
        self.state_dir = os.path.join(tempfile.gettempdir(), here)
        #: host-local's stores: in memory where the machine has it (/dev/shm), as they are
        #: scratch; on a disk's journal every reservation cost milliseconds.
        self.ipam_root = os.path.join(_memory_dir() or tempfile.gettempdir(), here + "-ipam")
        docker = lab.docker
        address = docker.uplink_cidr.split("/")[0]
        self.node = self._new_node(node_name, ROOT, address, pod_cidr)
        self.nodes: dict[str, Node] = {node_name: self.node}
        self._sandboxes = {node_name: DockerSandboxes(lab)}
        self._pods: dict[tuple[str, str], Pod] = {}
        self._counter = 0
        self._worker = PodWorker(lab, self.clock, self._sandboxes, self._pods, self.state_dir)

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Forget the nodes' files (the lab's backend removes the namespaces)."""
        shutil.rmtree(self.state_dir, ignore_errors=True)
        shutil.rmtree(self.ipam_root, ignore_errors=True)

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
            ipam_dir=os.path.join(self.ipam_root, name, "var", "lib", "cni", "networks"),
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
        runtime: str = "dockershim",
    ) -> Node:
        """Join another machine to the cluster: a namespace on the same LAN with its own pod CIDR.

        Linux: `kubeadm join` on a second machine, plus the routes a flannel
        host-gw backend installs.  ``key`` is its namespace (default ``node<N>``).
        ``runtime``: ``dockershim`` (2017) or ``containerd`` (today, see :meth:`use_runtime`).
        """
        _check_runtime(runtime)
        if name in self.nodes:
            raise KubeError(f'Error from server (AlreadyExists): nodes "{name}" already exists')
        n = len(self.nodes) + 1
        key = key or f"node{n}"
        if key in self.lab.snapshot().netns:
            raise KubeError(f"the lab already has a namespace {key!r}: choose another key")
        docker = self.lab.docker
        base = docker.uplink_cidr.split("/")[0].rsplit(".", 1)[0]
        node = self._new_node(name, key, address or f"{base}.{n}", pod_cidr or f"10.244.{n}.0/24")
        docker.start()  # simlab's docker engine holds node 1's uplink, whatever its runtime
        ensure_lan_switch(self.lab, docker.lan, docker.lan_cidr)
        join_node(self.lab, node, docker.lan, docker.lan_cidr, docker.uplink)
        self.nodes[name] = node
        self._sandboxes[name] = (
            NamespaceSandboxes(self.lab, node)
            if runtime == "dockershim"
            else ContainerdSandboxes(self.lab, node, self.clock)
        )
        _era_conflist(node, runtime)
        if plugin != "simlab-bridge":
            self.use_plugin(plugin, node=name)
        route_pod_cidrs(self.lab, list(self.nodes.values()), docker.uplink)
        return node

    # ------------------------------------------------------------ runtimes
    def use_runtime(self, runtime: str, *, node: str | None = None) -> None:
        """Choose the node's container runtime before its first pod.

        ``dockershim`` (the default): the talk's 2017 flow, kubelet asks docker
        for a ``--net none`` sandbox and runs the CNI plugins itself (removed in
        Kubernetes 1.24).  ``containerd``: today's, kubelet sends CRI
        ``RunPodSandbox`` and containerd 1.7 creates the namespace and calls the
        plugins (:mod:`simlab.runtime.containerd`); see it with :meth:`crictl`.
        """
        _check_runtime(runtime)
        n = self._node(node)
        if any(p.node is n for p in self._pods.values()):
            raise KubeError(
                f"{n.name} already runs pods: choose its runtime before its first pod "
                "(delete them first, or add_node(..., runtime=...) for another node)"
            )
        if runtime == self.runtime_of(n.name):
            return
        _era_conflist(n, runtime)
        if runtime == "containerd":
            self._sandboxes[n.name] = ContainerdSandboxes(self.lab, n, self.clock)
        elif n.key == self.node.key:
            self._sandboxes[n.name] = DockerSandboxes(self.lab)
        else:
            self._sandboxes[n.name] = NamespaceSandboxes(self.lab, n)

    def runtime_of(self, node: str | None = None) -> str:
        """``dockershim`` or ``containerd``: the node's container runtime."""
        n = self._node(node)
        return "containerd" if getattr(self._sandboxes[n.name], "cri", False) else "dockershim"

    def _containerd(self, node: str | None, because: str):
        """The node and its containerd; a dockershim node raises ``because``."""
        n = self._node(node)
        sandboxes = self._sandboxes[n.name]
        if not getattr(sandboxes, "cri", False):
            raise KubeError(f"{n.name} runs dockershim (2017): {because}")
        return n, sandboxes

    def crictl(self, line: str, *, node: str | None = None) -> str:
        """Linux: `crictl LINE` on a containerd node: ``pods``, ``ps``, ``inspectp POD``."""
        _, sandboxes = self._containerd(
            node,
            "crictl talks to a CRI runtime's socket, which this node does not have; use "
            "lab.docker.inspect, or lab.k8s.use_runtime('containerd') before the node's first pod",
        )
        return _crictl(sandboxes, line, self.clock.now)

    # ------------------------------------------------- CNI spec 1.1.0: STATUS, GC
    @staticmethod
    def _since_1_1(what: str) -> str:
        return (
            f"{what} came with CNI spec 1.1.0 (2024) and today's runtimes; "
            "lab.k8s.use_runtime('containerd') before the node's first pod"
        )

    def cni_status(self, node: str | None = None) -> dict:
        """The node's NetworkReady condition after CNI STATUS, as containerd 2.x reports it.

        Linux: the ``NetworkReady`` entry of `crictl info`.  Only plugins of a
        list whose ``cniVersion`` is 1.1.0 or more are asked (:mod:`.cni_gc`).
        """
        n, _ = self._containerd(node, self._since_1_1("CNI STATUS"))
        return cni_gc.cni_status(self.lab, n, self._worker)

    def gc(self, node: str | None = None) -> cni_gc.GCReport:
        """CNI GC on a containerd node: the sandboxes it knows are the valid attachments.

        What CRI-O does through libcni's GCNetworkList (no containerd release
        calls GC): stale cached attachments get a DEL, then (lists of version
        >= 1.1.0) every plugin gets GC and drops leases and chains of the rest.
        """
        n, sandboxes = self._containerd(node, self._since_1_1("CNI GC"))
        return cni_gc.gc(self.lab, n, sandboxes, self._worker)

    def crash(self, pod: str, namespace: str = "default", *, cache: bool = True) -> None:
        """Lose a pod as a crash nobody cleaned up after: its namespace goes, no CNI DEL runs.

        The lease and the masquerade chain stay behind, for :meth:`gc` to find.
        ``cache=False``: libcni's result cache loses the attachment too (only
        the plugins' own GC can find the leak then).
        """
        p = self.pod(pod, namespace)
        n, sandboxes = self._containerd(
            p.node.name,
            "crash() loses a pod of a containerd node, for gc() to collect (CNI spec 1.1.0); "
            "lab.k8s.use_runtime('containerd') before the node's first pod",
        )
        if p.sandbox_id not in sandboxes.sandboxes:
            raise KubeError(f'pod "{pod}" has no sandbox to lose (status {p.status})')
        cni_gc.crash(self.lab, n, sandboxes, self._worker, p, cache=cache)

    # ------------------------------------------------------- /etc/cni/net.d
    @property
    def cni_config_dir(self) -> dict[str, str]:
        """Node 1's ``/etc/cni/net.d``: file path -> text (edit it freely)."""
        return self.node.cni_config_dir

    @property
    def cni_path(self) -> list[str]:
        """Node 1's CNI_PATH (set it to a list of directories to use your own plugins)."""
        return self._worker.cni_path(self.node)

    @cni_path.setter
    def cni_path(self, dirs) -> None:
        self.node.cni_path = [str(d) for d in ([dirs] if isinstance(dirs, str) else dirs)]

    def read_conflist(self, node: str | None = None) -> str:
        """The text of the configuration file kubelet reads first (``cat /etc/cni/net.d/...``)."""
        return kc.read_conflist(self._node(node))

    def write_conflist(self, conf, filename: str | None = None, node: str | None = None) -> str:
        """Write a network configuration (text, or a dict written as JSON); returns its path.

        Without ``filename`` the file kubelet reads first is replaced (or
        ``10-k8s-pod-network.conflist`` created).  Nothing is checked here:
        kubelet reads it when it next starts a pod.
        """
        return kc.write_conflist(self._node(node), conf, filename)

    def use_plugin(
        self,
        kind: str,
        *,
        node: str | None = None,
        subnet: str | None = None,
        type: str = "",
        cni_path=None,
        portmap: bool | None = None,
    ) -> str:  # noqa: A002 (CNI's key)
        """Make ``kind`` the node's only network configuration; returns the conflist text.

        ``simlab-bridge`` (default), ``reference`` (Debian's ``bridge`` +
        ``host-local`` from /usr/lib/cni; kernel backend only), ``ptp``
        (simlab-ptp: routed /32 pods, like Calico) or ``custom`` (your own
        executable ``type``, found in ``cni_path``).  ``subnet`` changes the
        node's pod CIDR.  ``portmap=True`` chains the ``portmap`` plugin after it,
        so pods' ``hostPort`` work (Debian's with ``reference``, simlab's otherwise);
        by default a containerd node's list chains it and a dockershim node's does not
        (each era's conflist).
        """
        n = self._node(node)
        if portmap is None:
            portmap = self.runtime_of(n.name) == "containerd"
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
        filename, conf = kc.preset(kind, n, subnet=subnet, plugin_type=type, portmap=portmap)
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
        (:func:`simlab.cni.plugins.runner` makes one from a plugin's ``skel.Funcs``).
        """
        if not self.lab.capabilities.in_process_plugins:
            raise KubeError(
                "only the model runs plugins in-process; on the kernel put an executable "
                "on the node's CNI_PATH (use_plugin('custom', type=..., cni_path=[...]))"
            )
        self._worker.runtime(self._node(node)).in_process[plugin_type] = runner

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
        ports=None,
    ) -> Pod:
        """Linux: `kubectl run POD --image=IMAGE --restart=Never` (on ``node``, default node 1).

        ``ports``: the container's ports as a pod spec writes them, e.g.
        ``[{"containerPort": 80, "hostPort": 8080}]`` (``protocol`` TCP or UDP,
        ``hostIP``): a ``hostPort`` reaches the CNI plugins as the ``portMappings``
        capability, which only a chained ``portmap`` takes (see :meth:`use_plugin`).

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
        mapped = container_ports(pod, ports)
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
            ports=mapped,
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
        self._worker.sync_pod(p)
        return p

    def sync(self) -> list[Pod]:
        """kubelet's periodic sync: try again for every pod still ``ContainerCreating``."""
        again = [p for p in self._pods.values() if p.status in ("ContainerCreating", "Pending")]
        for p in again:
            self._worker.sync_pod(p)
        return again

    def delete(self, pod: str, namespace: str = "default") -> None:
        """Linux: `kubectl delete pod POD`: containers stopped, CNI DEL, sandbox removed.

        If DEL fails the pod stays ``Terminating`` with its sandbox (kubelet
        retries); call ``delete`` again once the cause is fixed.
        """
        p = self.pod(pod, namespace)
        self._worker.kill_pod(p)

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
        cri = getattr(sandboxes, "cri", False)
        if p.status != "Running" or not sandboxes.exists(p if cri else p.app_name):
            raise KubeError(
                f'error: unable to upgrade connection: container not found ("{p.container}")'
            )
        return sandboxes.exec(p, command) if cri else sandboxes.exec(p.app_name, command)

    def reach(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None):
        """Walk a packet from pod ``src`` to a pod name or an address (the model's answer).

        Linux: `kubectl exec SRC -- ping -c1 DST`.
        """
        p = self.pod(src)
        if not p.netns:
            raise KubeError(
                f'error: unable to upgrade connection: container not found ("{p.container}")'
            )
        target = self._pods.get(("default", dst))
        address = target.ip if target is not None else dst
        if not address:
            raise KubeError(f'pod "{dst}" has no IP yet')
        return forward.reach(self.lab.snapshot(), p.netns, address, proto, dport)



def _era_conflist(node: Node, runtime: str) -> None:
    """The untouched default conflist of the runtime's era: today's (containerd) chains portmap, as
    flannel's has since late 2017; the talk's (dockershim, Kubernetes 1.7) does not, so a hostPort
    did nothing there.  A conflist the learner wrote or chose stays as it is."""
    path = kc.active_file(node)
    if path is None or node.plugin != "simlab-bridge":
        return
    for had, wants in ((False, True), (True, False)):
        name, text = kc.preset("simlab-bridge", node, portmap=had)
        if node.cni_config_dir.get(path) == text and path.endswith(name) and wants == (runtime == "containerd"):
            node.cni_config_dir[path] = kc.preset("simlab-bridge", node, portmap=wants)[1]


def _check_runtime(runtime: str) -> None:
    if runtime not in RUNTIMES:
        raise KubeError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")


def _memory_dir() -> str | None:
    """/dev/shm when it is a directory this process may write, else None."""
    path = "/dev/shm"
    return path if os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK) else None


_PORT_KEYS = ("containerPort", "hostPort", "protocol", "hostIP", "name")


# mirrors Kubernetes pkg/apis/core/validation: validateContainerPorts, AccumulateUniqueHostPorts
def container_ports(pod: str, ports) -> tuple[tuple[int, int, str, str], ...]:
    """A pod spec's ``ports`` list as (hostPort, containerPort, protocol, hostIP), checked as the
    API server checks them (its words: ``The Pod "web" is invalid: spec.containers[0]...``)."""
    if ports is None:
        return ()
    if isinstance(ports, dict) or not isinstance(ports, (list, tuple)):
        raise KubeError('error: ports is a list of ports, e.g. ports=[{"containerPort": 80, "hostPort": 8080}]')
    out, seen = [], set()
    for i, port in enumerate(ports):
        where = f"spec.containers[0].ports[{i}]"
        if not isinstance(port, dict):
            raise KubeError(f'error: {where} is a mapping, e.g. {{"containerPort": 80, "hostPort": 8080}}')
        unknown = next((k for k in port if k not in _PORT_KEYS), None)
        if unknown is not None:
            raise KubeError(f"error: error validating data: ValidationError(Pod.spec.containers[0].ports[{i}]): "
                            f'unknown field "{unknown}" in io.k8s.api.core.v1.ContainerPort')
        cp, hp = port.get("containerPort", 0), port.get("hostPort", 0)
        proto, ip = port.get("protocol", "TCP"), port.get("hostIP", "")
        problem = ""
        if not isinstance(cp, int) or isinstance(cp, bool) or not cp:
            problem = f"{where}.containerPort: Required value" if not cp else \
                f"{where}.containerPort: Invalid value: {cp!r}: must be an integer"
        elif not 1 <= cp <= 65535:
            problem = f"{where}.containerPort: Invalid value: {cp}: must be between 1 and 65535, inclusive"
        elif not isinstance(hp, int) or isinstance(hp, bool) or not 0 <= hp <= 65535:
            problem = f"{where}.hostPort: Invalid value: {hp!r}: must be between 1 and 65535, inclusive"
        elif proto not in ("TCP", "UDP"):
            problem = f'{where}.protocol: Unsupported value: "{proto}": supported values: "TCP", "UDP"'
        elif ip and not _ipv4(ip):
            problem = f'{where}.hostIP: Invalid value: "{ip}": must be a valid IP address'
        elif hp and (hp, proto, ip) in seen:
            problem = f'{where}.hostPort: Duplicate value: "{ip + ":" if ip else ""}{hp}/{proto}"'
        if problem:
            raise KubeError(f'The Pod "{pod}" is invalid: {problem}')
        seen.add((hp, proto, ip))
        out.append((hp, cp, proto, ip))
    return tuple(out)


def _ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False
