"""A small go-cni: the client containerd's CRI plugin calls CNI through.

containerd does not exec plugins itself: its ``netPlugin`` is a go-cni
``libcni`` object (``containerd/go-cni`` v1.1, vendored by containerd 1.7)
holding *networks*, each a conflist plus an interface name, and calls
libcni's ``AddNetworkList`` / ``DelNetworkList`` per network.  Loaded with
``WithLoNetwork, WithDefaultConf`` it holds two: the fixed ``cni-loopback``
list (ifname ``lo``) and the node's first conflist (ifname ``eth0``).

The per-plugin work (``prevResult`` chaining, the cache, CHECK, GC, STATUS)
is :class:`simlab.cni.Runtime`, simlab's libcni; this module only adds
go-cni's layer: the networks, and the result as a map interface name ->
IP configs (``Result.Interfaces``), which is what containerd reads the pod's
IP from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..cni import CNIError, Result
from ..cni.config import NetworkConfigList, load

__all__ = ["LO_NETWORK", "Network", "IPConfig", "Config", "CNIResult", "GoCNI"]

#: go-cni ``WithLoNetwork``: the loopback network every pod gets, word for word.
LO_NETWORK = {"cniVersion": "0.3.1", "name": "cni-loopback", "plugins": [{"type": "loopback"}]}


@dataclass(frozen=True)
class Network:
    """go-cni ``Network``: one conflist and the interface name it is attached as."""

    config: NetworkConfigList
    ifname: str


@dataclass(frozen=True)
class IPConfig:
    ip: str  # the address without its prefix, as go-cni keeps a net.IP
    gateway: str = ""


@dataclass
class Config:
    """go-cni ``Config``: what one interface got."""

    ip_configs: list[IPConfig] = field(default_factory=list)
    mac: str = ""
    sandbox: str = ""


@dataclass
class CNIResult:
    """go-cni ``Result``: interfaces by name, plus each network's raw result (``raw``)."""

    interfaces: dict[str, Config] = field(default_factory=dict)
    raw: list[Result] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """What ``crictl inspectp`` shows as ``info.cniResult`` (go-cni's JSON field names)."""
        return {
            "Interfaces": {
                name: {
                    "IPConfigs": [{"IP": c.ip, "Gateway": c.gateway or None} for c in cfg.ip_configs],
                    "Mac": cfg.mac,
                    "Sandbox": cfg.sandbox,
                }
                for name, cfg in self.interfaces.items()
            },
            "DNS": [{} for _ in self.raw],
            "Routes": [
                {"dst": r.dst, **({"gw": r.gw} if r.gw else {})} for res in self.raw for r in res.routes
            ],
        }


class GoCNI:
    """go-cni's ``libcni``: ``setup`` attaches every network, ``remove`` detaches them."""

    def __init__(self, runtime, conflist, *, lo: bool = True):
        #: the :class:`simlab.cni.Runtime` that execs the plugins (libcni's CNIConfig)
        self.runtime = runtime
        nets = [Network(load(LO_NETWORK), "lo")] if lo else []
        # mirrors go-cni opts.go: WithConfListFile / loadFromConfDir (ifname prefix "eth", index 0)
        self.networks = nets + [Network(load(conflist), "eth0")]

    # mirrors go-cni cni.go: Setup -> attachNetworks -> Network.Attach (AddNetworkList)
    def setup(
        self,
        container_id: str,
        netns_path: str,
        args,
        capability_args: Mapping[str, Any] | None = None,
    ) -> CNIResult:
        """ADD every network in order (go-cni runs them in parallel goroutines; simlab in order)."""
        results = []
        for net in self.networks:
            # libcni's injectRuntimeConfig gives each plugin only the capabilities it declares
            try:
                results.append(
                    self.runtime.add(
                        net.config, container_id, netns_path, net.ifname, args, capability_args
                    )
                )
            except CNIError as err:
                err.network = net.config  # go-cni wraps it with the network that failed
                raise
        return create_result(results)

    # mirrors go-cni cni.go: Remove -> Network.Remove (DelNetworkList)
    def remove(
        self,
        container_id: str,
        netns_path: str,
        args,
        capability_args: Mapping[str, Any] | None = None,
    ) -> None:
        for net in self.networks:
            self.runtime.delete(
                net.config, container_id, netns_path, net.ifname, args, capability_args
            )


# mirrors go-cni result.go: createResult
def create_result(results: list[Result]) -> CNIResult:
    """Interfaces by name, each with the IP configs whose ``interface`` index points at it."""
    out = CNIResult(raw=list(results))
    for r in results:
        for iface in r.interfaces:
            out.interfaces[iface.name] = Config(mac=iface.mac, sandbox=iface.sandbox)
        for ipc in r.ips:
            idx = ipc.interface
            if idx is not None and 0 <= idx < len(r.interfaces):
                name = r.interfaces[idx].name
                out.interfaces[name].ip_configs.append(
                    IPConfig(ipc.address.split("/")[0], ipc.gateway)
                )
    return out
