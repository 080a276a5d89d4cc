"""kubelet's side of a pod's life: start it (SyncPod) and stop it (KillPod).

The order is kubelet's: the sandbox (``--net none``), CNI ADD, the pod's IP,
then the application container; on delete the container, CNI DEL, then the
sandbox.  What each step means is told by :mod:`.kube_story`; the
``kubectl``-like calls are :class:`.kube.Kubelet`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cni import CNIError, Result
from ..cni.config import NetworkConfigList
from ..model import NetError
from . import kube_cni as kc
from . import kube_story as story
from .docker_errors import DockerError
from .exec_line import in_netns
from .kube_nodes import Node
from .kube_text import Clock, Event

if TYPE_CHECKING:
    from .kube import Pod

__all__ = ["PodWorker"]


class PodWorker:
    """Syncs and kills the pods of every node (kubelet's pod workers and runtime manager)."""

    def __init__(self, lab, clock: Clock, sandboxes: dict, pods: dict, state_dir: str):
        self.lab = lab
        self.clock = clock
        #: node name -> its sandboxes (docker on node 1, bare namespaces on the others)
        self._sandboxes = sandboxes
        #: (namespace, name) -> Pod, shared with the Kubelet
        self._pods = pods
        self.state_dir = state_dir

    def _event(self, p: Pod, kind: str, reason: str, message: str) -> None:
        """An event kubelet reports on the pod (``kubectl describe`` lists them)."""
        p.events.append(Event(kind, reason, self.clock.now, "kubelet", message))

    def cni_path(self, node: Node) -> list[str]:
        """The node's CNI_PATH: its own, else simlab's plugin directories."""
        return list(node.cni_path) if node.cni_path else kc.default_path(self.state_dir)

    def sync_pod(self, p: Pod) -> None:
        """kuberuntime_manager.go: SyncPod: the sandbox, CNI ADD, then the app container."""
        node, sandboxes = p.node, self._sandboxes[p.node.name]
        sandboxes.start()
        p.status = "ContainerCreating"
        # --- the network configuration (no usable one: the node's network is not ready)
        try:
            conf_path, net, problems = kc.load_network(node.cni_config_dir)
        except kc.ConfigError as err:
            self._network_not_ready(p, err)
            return
        if any(hp for hp, *_ in p.ports) and not kc.has_portmap(net):
            story.host_ports_unused(self.lab, p, conf_path)
        if getattr(sandboxes, "cri", False):  # today: containerd sets the network up itself
            if not sandboxes.run_pod(self, p, net, conf_path, problems):
                return
            p.app_id = sandboxes.start_app(p)
            self._started(p)
            return
        # --- the sandbox, with --net none
        story.sandbox(self.lab, p)
        try:
            sb = sandboxes.create(p.sandbox_name, p.name)
        except (DockerError, NetError) as err:  # the sandbox never existed (docker undid its steps)
            message = f"Failed to create pod sandbox: {err}"
            self._event(p, "Warning", "FailedCreatePodSandBox", message)
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
        p.ip = self._ip_in_sandbox(p)
        story.pod_ip(self.lab, p, result, net.cni_version)
        # --- the application container joins the sandbox's namespace
        p.app_id = sandboxes.start_app(p.app_name, p.sandbox_name, p.image)
        self._started(p)

    # mirrors kubelet 1.7 pkg/kubelet/network/plugins.go: GetPodIP (dockershim's getIP)
    def _ip_in_sandbox(self, p: Pod) -> str:
        """2017: the IP of eth0 inside the sandbox (``nsenter --net=<netns> -F -- ip -o -4
        addr show dev eth0 scope global``, field 4 of line 1; then ``-6``), not the result."""
        for family in ("-4", "-6"):
            line = in_netns(p.netns, ["ip", "-o", family, "addr", "show", "dev", "eth0", "scope", "global"])
            out = self.lab.run(line).stdout  # a failing `ip` prints nothing on stdout
            fields = out.splitlines()[0].split() if out.strip() else []
            if len(fields) > 3:
                return fields[3].split("/")[0]
        return ""  # then dockershim takes docker's IPAddress: "" for a --net none sandbox

    def _started(self, p: Pod) -> None:
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

    def _network_not_ready(self, p: Pod, err: kc.ConfigError) -> None:
        msg = (
            "network is not ready: container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:docker: network plugin is not ready: "
            f"{err.message}"
        )
        self._event(p, "Warning", "NetworkNotReady", msg)
        story.network_not_ready(self.lab, p, err, msg)

    def runtime(self, node: Node, pod: Pod | None = None):
        """The node's CNI runtime, knowing where every sandbox of the node is.

        A new runtime is told every pod's sandbox; afterwards only ``pod``'s (a pod's
        sandbox is told at its ADD and forgotten with it: no walk over every pod).
        """
        fresh = node.runtime is None
        if fresh:
            node.runtime = kc.runtime_for_node(self.lab, node, self.cni_path(node))
        rt = node.runtime
        rt.cni_path = self.cni_path(node)
        if self.lab.capabilities.in_process_plugins:
            for q in self._pods.values() if fresh else ((pod,) if pod is not None else ()):
                if q.node is node and q.netns_path:
                    rt.netns_paths[q.netns_path] = q.netns
        return rt

    def _cni_add(self, p: Pod, node: Node, net: NetworkConfigList, conf_path: str, problems):
        rt = self.runtime(node, p)
        p.cni_path = list(rt.cni_path)
        story.cni_call(self.lab, p, "ADD", net, conf_path, rt.cni_path, problems)
        args = kc.cni_args(p.namespace, p.name, p.sandbox_id)
        try:
            return rt.add(net, p.sandbox_id, p.netns_path, "eth0", args, kc.port_mappings(p.ports))
        except CNIError as err:
            message = kc.setup_error(err, net, p.sandbox_id)
        self._event(
            p,
            "Warning",
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = " + message,
        )
        story.cni_failed(self.lab, p, message)
        p.net, p.conf_path = net, conf_path
        self._cni_del(p, quiet=True)
        self._sandboxes[node.name].remove(p.sandbox_name)
        self._forget_sandbox(p)
        return None

    def _cni_del(self, p: Pod, quiet: bool = False) -> bool:
        """CNI DEL with the configuration ADD used; False (and an event) if it failed."""
        if p.net is None:
            return True
        rt = self.runtime(p.node, p)
        rt.cni_path = list(p.cni_path or rt.cni_path)
        story.cni_call(self.lab, p, "DEL", p.net, p.conf_path, rt.cni_path)
        try:
            rt.delete(
                p.net,
                p.sandbox_id,
                p.netns_path,
                "eth0",
                kc.cni_args(p.namespace, p.name, p.sandbox_id),
                kc.port_mappings(p.ports),
            )
        except CNIError as err:
            if quiet:
                return False
            message = kc.setup_error(err, p.net, p.sandbox_id, "delete")
            self._event(
                p,
                "Warning",
                "FailedKillPod",
                f'error killing pod: failed to "KillPodSandbox" for "{p.uid}" '
                "with KillPodSandboxError: "
                f'"rpc error: code = Unknown desc = {message}"',
            )
            return False
        return True

    def _forget_sandbox(self, p: Pod) -> None:
        rt = p.node.runtime
        if rt is not None:
            rt.netns_paths.pop(p.netns_path, None)
        p.sandbox_id = p.netns = p.netns_path = p.app_id = ""
        p.result, p.ip, p.net = None, "", None

    def kill_pod(self, p: Pod) -> None:
        """kuberuntime_manager.go: KillPod: the app container, CNI DEL, then the sandbox.

        If DEL fails the pod stays ``Terminating`` with its sandbox.
        """
        sandboxes = self._sandboxes[p.node.name]
        if p.sandbox_id and getattr(sandboxes, "cri", False):
            p.status = "Terminating"
            self._event(p, "Normal", "Killing", f"Stopping container {p.container}")
            if not sandboxes.kill_pod(self, p):
                return
            self._forget_sandbox(p)
            del self._pods[(p.namespace, p.name)]
            return
        if not p.sandbox_id:
            story.deleted_without_sandbox(self.lab, p)
            del self._pods[(p.namespace, p.name)]
            return
        p.status = "Terminating"
        story.kill_pod(self.lab, p)
        self._event(p, "Normal", "Killing", f"Stopping container {p.container}")
        sandboxes.remove(p.app_name)
        p.app_id = ""
        if not self._cni_del(p):
            return
        sandboxes.remove(p.sandbox_name)
        self._forget_sandbox(p)
        del self._pods[(p.namespace, p.name)]
