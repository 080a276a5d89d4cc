"""The kubelet's side of CNI: /etc/cni/net.d, the plugin presets, and the call it makes.

Rules kept here (kubelet's dockershim ``network/cni/cni.go`` of Kubernetes
1.7, the talk's era; containerd's CRI does the same through libcni):

- the configuration is the *first* file of ``/etc/cni/net.d`` in name order
  ending in ``.conflist``, ``.conf`` or ``.json`` that loads; a ``.conf`` is a
  single plugin, wrapped in a list of one; a file that does not load is
  skipped with a warning; no usable file means the node's network is *not
  ready* (``cni config uninitialized``) and no pod sandbox is started;
- ADD gets ``CNI_CONTAINERID`` = the sandbox (pause) container's ID,
  ``CNI_NETNS`` = ``/proc/<pause pid>/ns/net``, ``CNI_IFNAME=eth0``,
  ``CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;
  K8S_POD_INFRA_CONTAINER_ID=..`` and ``CNI_PATH``; the network config on
  stdin (:func:`simlab.cni.config.build_one_config`);
- a failed ADD is followed by a DEL of the whole list (spec: every ADD is
  eventually followed by a DEL) and the sandbox is removed; the error reaches
  the pod's events as containerd words it (``failed to setup network for
  sandbox "<id>": plugin type="<type>" name="<net>" failed (add): <msg>``);
- DEL uses the configuration the ADD used (libcni caches it with the result),
  so editing /etc/cni/net.d never strands a running pod.

Namespace paths: on the model ``CNI_NETNS`` is dockershim's ``/proc/<pid>/ns/net``
(the lab maps it to the sandbox's namespace key); on the kernel it is the
real mount of the sandbox's namespace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import sys
from collections.abc import Mapping

from ..cni import CNIError, Runtime
from ..cni.config import NetworkConfigList, build_one_config, conf_from_bytes, conf_list_from_bytes
from ..cni.lab_adapter import LabRecorder
from ..cni.plugins import IN_PROCESS, loopback, portmap, ptp
from ..cni.runtime import default_cni_path
from ..cni.trace import StepRecord
from ..model import ROOT
from .kube_nodes import Node, NodeView, map_keys

__all__ = [
    "CNI_CONF_DIR",
    "NETWORK_NAME",
    "REFERENCE_DIR",
    "PRESETS",
    "ConfigError",
    "load_network",
    "active_file",
    "read_conflist",
    "write_conflist",
    "preset",
    "cni_args",
    "cni_env",
    "first_stdin",
    "setup_error",
    "runtime_for_node",
    "netns_path",
    "plugin_bin_dir",
    "default_path",
    "PORTMAP",
    "port_mappings",
    "has_portmap",
]

CNI_CONF_DIR = "/etc/cni/net.d"
NETWORK_NAME = "k8s-pod-network"
#: Debian's containernetworking-plugins.
REFERENCE_DIR = "/usr/lib/cni"
PRESETS = ("simlab-bridge", "reference", "ptp", "custom")
#: portmap chained after the interface plugin, as flannel's conflist has had it since late 2017
#: (flannel PR 888): the runtime passes a pod's hostPorts only to a plugin declaring this capability.
PORTMAP = {"type": "portmap", "capabilities": {"portMappings": True}}
_EXTENSIONS = (".conflist", ".conf", ".json")


class ConfigError(Exception):
    """No usable network configuration: the node's network is not ready."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.message = message
        self.problems = problems


# mirrors dockershim network/cni/cni.go: getDefaultCNINetwork (libcni.ConfFiles, ConfListFromFile,
# ConfFromFile, ConfListFromConf)
def load_network(files: Mapping[str, str]) -> tuple[str, NetworkConfigList, list[str]]:
    """The configuration the kubelet uses: (path, list, warnings about skipped files).

    >>> path, net, _ = load_network({"/etc/cni/net.d/10-a.conf":
    ...     '{"cniVersion": "1.0.0", "name": "a", "type": "simlab-bridge"}'})
    >>> path, net.name, [p.type for p in net.plugins]
    ('/etc/cni/net.d/10-a.conf', 'a', ['simlab-bridge'])
    >>> try:
    ...     load_network({"/etc/cni/net.d/10-a.conflist": "{"})
    ... except ConfigError as err:
    ...     print(err.message, "|", err.problems[0])
    ... # doctest: +ELLIPSIS
    cni config uninitialized | Error loading CNI config file /etc/cni/net.d/10-a.conflist: ...
    """
    problems: list[str] = []
    names = sorted(p for p in files if p.endswith(_EXTENSIONS))
    for path in names:
        data = files[path]
        try:
            if path.endswith(".conflist"):
                net = conf_list_from_bytes(data)
            else:
                conf = conf_from_bytes(data)
                net = NetworkConfigList(conf.name, conf.cni_version, False, [conf])
                if not conf.name:
                    raise CNIError(7, "missing network name")
        except CNIError as err:
            problems.append(f"Error loading CNI config file {path}: {err.msg}")
            continue
        return path, net, problems
    if not names:
        problems.append(f"No networks found in {CNI_CONF_DIR}")
    raise ConfigError("cni config uninitialized", problems)


def active_file(node: Node) -> str | None:
    """The file of the node's /etc/cni/net.d that kubelet reads first (name order)."""
    names = sorted(p for p in node.cni_config_dir if p.endswith(_EXTENSIONS))
    return names[0] if names else None


def read_conflist(node: Node) -> str:
    """``cat`` of :func:`active_file`."""
    path = active_file(node)
    if path is None:
        raise FileNotFoundError(f"{CNI_CONF_DIR}: no network configuration on {node.name}")
    return node.cni_config_dir[path]


def write_conflist(node: Node, conf, filename: str | None = None) -> str:
    """Write ``conf`` (text, or a dict as JSON) over the active file, or as ``filename``."""
    if not isinstance(conf, str):
        conf = json.dumps(conf, indent=2) + "\n"
    if filename is None:
        path = active_file(node) or f"{CNI_CONF_DIR}/10-{NETWORK_NAME}.conflist"
    else:
        path = filename if filename.startswith("/") else f"{CNI_CONF_DIR}/{filename}"
    node.cni_config_dir[path] = conf
    return path


# ------------------------------------------------------------------ presets
def _host_local(kind: str, subnet: str, data_dir: str, *, gateway: str | None = None) -> dict:
    rng: dict = {"subnet": subnet}
    if gateway:
        rng["gateway"] = gateway
    return {"type": kind, "ranges": [[rng]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir}


def preset(
    kind: str, node: Node, *, subnet: str | None = None, plugin_type: str = "", portmap: bool = False
) -> tuple[str, str]:
    """(file name, conflist text) of a preset for ``node``.

    - ``simlab-bridge``: simlab's teaching bridge + host-local (bridge ``cni0``,
      the gateway on the bridge, a default route in the pod);
    - ``reference``: Debian's ``bridge`` + ``host-local``, same settings (kernel only);
    - ``ptp``: simlab's routed plugin (``simlab-ptp``): a /32 per pod, a
      default route via 169.254.1.1 on the pod's own veth, as Calico does;
    - ``custom``: ``plugin_type`` with simlab-host-local as its IPAM.

    ``portmap``: chain :data:`PORTMAP` after it, so hostPorts work (and turn the bridge's
    ``hairpinMode`` on, as flannel's conflist did: a pod may reach its own hostPort).
    """
    subnet = subnet or node.pod_cidr
    ipaddress.ip_network(subnet)  # a bad subnet fails here, not in a plugin
    data_dir = node.ipam_dir
    if kind in ("simlab-bridge", "reference"):
        bridge, ipam = (
            ("simlab-bridge", "simlab-host-local")
            if kind == "simlab-bridge"
            else ("bridge", "host-local")
        )
        plugin = {
            "type": bridge,
            "bridge": "cni0",
            "isGateway": True,
            "ipMasq": False,
            "ipam": _host_local(ipam, subnet, data_dir),
        }
        name = f"10-{kind}.conflist"
    elif kind == "ptp":
        plugin = {
            "type": "simlab-ptp",
            "ipam": _host_local("simlab-host-local", subnet, data_dir, gateway="169.254.1.1"),
        }
        name = "10-simlab-ptp.conflist"
    elif kind == "custom":
        if not plugin_type:
            raise ValueError(
                "a custom plugin needs its type: use_plugin('custom', type='my-plugin', "
                "cni_path=['/dir/with/it'])"
            )
        plugin = {"type": plugin_type, "ipam": _host_local("simlab-host-local", subnet, data_dir)}
        name = f"10-{plugin_type}.conflist"
    else:
        raise ValueError(f"plugin must be one of {', '.join(PRESETS)}, not {kind!r}")
    if portmap and kind in ("simlab-bridge", "reference"):
        # flannel's conflist turned hairpin on with portmap: a pod reaching its own hostPort
        # is DNATed back out of the bridge port it came in by (bridged, with br_netfilter)
        plugin = {**plugin, "hairpinMode": True}
    conf = {"cniVersion": "1.0.0", "name": NETWORK_NAME, "plugins": [plugin, *([PORTMAP] if portmap else [])]}
    return name, json.dumps(conf, indent=2) + "\n"


def has_portmap(net: NetworkConfigList) -> bool:
    """Does a plugin of the list declare the ``portMappings`` capability (libcni passes it only there)?"""
    return any(pl.capabilities.get("portMappings") for pl in net.plugins)


# mirrors dockershim network/cni/cni.go (Kubernetes 1.7): buildCNIRuntimeConf, cniPortMapping
def port_mappings(ports) -> dict:
    """The ``portMappings`` capability of a pod's ``(hostPort, containerPort, protocol, hostIP)``:
    hostPort 0 (none) left out, the protocol in lower case; passed on ADD and DEL alike."""
    return {"portMappings": [{"hostPort": hp, "containerPort": cp, "protocol": proto.lower(), "hostIP": ip}
                             for hp, cp, proto, ip in ports if hp > 0]}


# ------------------------------------------------------------------ the call
# mirrors dockershim network/cni/cni.go: buildCNIRuntimeConf
def cni_args(namespace: str, pod: str, sandbox_id: str) -> list[tuple[str, str]]:
    return [
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", namespace),
        ("K8S_POD_NAME", pod),
        ("K8S_POD_INFRA_CONTAINER_ID", sandbox_id),
    ]


def cni_env(
    command: str, sandbox_id: str, netns: str, args, cni_path: list[str], ifname: str = "eth0"
) -> dict[str, str]:
    """The CNI_* variables libcni sets (the order of :class:`simlab.cni.Runtime`)."""
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": sandbox_id,
        "CNI_NETNS": netns,
        "CNI_ARGS": ";".join(f"{k}={v}" for k, v in args),
        "CNI_IFNAME": ifname,
        "CNI_PATH": os.pathsep.join(cni_path),
    }


def first_stdin(net: NetworkConfigList, prev=None) -> str:
    """What the first plugin of the list reads on stdin."""
    return build_one_config(net.name, net.cni_version, net.plugins[0], prev).decode()


def setup_error(err: CNIError, net: NetworkConfigList, sandbox_id: str, verb: str = "add") -> str:
    """The error as containerd's CRI reports it (``plugin type=... name=... failed (add): ...``)."""
    plugin = err.plugin or (net.plugins[0].type if net.plugins else "")
    msg = err.msg + (f"; {err.details}" if err.details else "")
    inner = f'plugin type="{plugin}" name="{net.name}" failed ({verb}): {msg}'
    what = "setup" if verb == "add" else "destroy"
    return f'failed to {what} network for sandbox "{sandbox_id}": {inner}'


# ------------------------------------------------------------ the runtime
#: executable name -> the simlab plugin module it runs (``loopback`` as a node ships it)
EXTRA_PLUGINS = {"simlab-ptp": "ptp", "loopback": "loopback", "portmap": "portmap"}


def plugin_bin_dir(state_dir: str) -> str:
    """A directory of simlab's extra plugin executables (``simlab-ptp``, ``loopback``), made once per lab."""
    path = os.path.join(state_dir, "opt", "cni", "bin")
    for name, module in EXTRA_PLUGINS.items():
        exe = os.path.join(path, name)
        if os.path.exists(exe):
            continue
        os.makedirs(path, exist_ok=True)
        with open(exe, "w", encoding="utf-8") as f:
            f.write(
                f"#!{sys.executable}\n"
                "import sys\n"
                f"from simlab.cni.plugins.{module} import main\n"
                "sys.exit(main())\n"
            )
        os.chmod(exe, 0o755)
    return path


def default_path(state_dir: str) -> list[str]:
    """CNI_PATH for simlab's plugins: the lab's extra plugins, then simlab's executables."""
    return [plugin_bin_dir(state_dir), default_cni_path()]


def netns_path(lab, key: str) -> str:
    """Where the kernel backend mounts namespace ``key`` (what a process can open)."""
    path = lab.netns_path(key)
    if path is not None:
        return path
    raise RuntimeError(
        "this lab's backend does not say where its namespaces are mounted "
        "(simlab.runtime.kube needs Backend.netns_path(key))"
    )


def sandboxed_prefix() -> list[str]:
    """How an executable plugin runs on the model: never against this machine's network.

    As root: in fresh network, mount and PID namespaces (it can neither change
    the machine's links nor open a real ``/proc/<pid>/ns/net``); otherwise as
    is (without CAP_NET_ADMIN it cannot change the network anyway).
    """
    unshare = shutil.which("unshare")
    if os.geteuid() == 0 and unshare:
        return [unshare, "--net", "--pid", "--fork", "--mount-proc", "--"]
    return []


class KernelNodeRecorder(LabRecorder):
    """Puts a plugin process's steps on the timeline under the lab's own namespace keys.

    The process saw its own namespace as ``ROOT`` (it is ``node``'s) and the
    pod's by its mount name (``sl<lab>-<key>``); the timeline shows the keys
    the learner knows (``node2``, ``<key>``).
    """

    def __init__(self, lab, host: str):
        super().__init__(lab)
        self.host = host

    def _key(self, key):
        if key is None:
            return None
        if key == ROOT:
            return self.host
        known = self.lab.netns_key(key)
        return known if known is not None else key

    def record(self, item) -> None:
        if isinstance(item, StepRecord):
            item.ops = [map_keys(op, self._key) for op in item.ops]
        super().record(item)


def runtime_for_node(lab, node: Node, cni_path: list[str]) -> Runtime:
    """A :class:`simlab.cni.Runtime` whose plugins treat ``node`` as their host.

    Model: simlab's plugins run in-process against a :class:`NodeView`; other
    executables run sandboxed.  Kernel: every plugin is a process started in
    the node's namespace (``nsenter --net=<node> --``).
    """
    rec = LabRecorder(lab)
    if lab.capabilities.in_process_plugins:
        return Runtime(
            cni_path,
            backend=NodeView(lab, node.key),
            recorder=rec,
            on_invoke=rec.invocation,
            exec_prefix=sandboxed_prefix(),
            in_process={**IN_PROCESS, ptp.PLUGIN: ptp.in_process, loopback.PLUGIN: loopback.in_process,
                        portmap.PLUGIN: portmap.in_process},
        )
    rec = KernelNodeRecorder(lab, node.key)
    nsenter = shutil.which("nsenter") or "nsenter"
    return Runtime(
        cni_path,
        recorder=rec,
        on_invoke=rec.invocation,
        # enter_prefix: rootless, the node's mount lives in the lab's user and mount namespaces
        exec_prefix=[*lab.capabilities.enter_prefix, nsenter, f"--net={netns_path(lab, node.key)}", "--"],
    )
