"""``docker inspect`` and ``docker network inspect``: docker's JSON, key for key.

Shapes are those of docker 17.03-17.06 (the talk's era, API 1.26-1.30), in
the order docker prints them (Go struct field order).  ``NetworkSettings``
per network mode, as the daemon fills it (``daemon/container_operations.go``,
``container.BuildEndpointInfo``, ``getEndpointPortMapInfo``):

==============  ==========================  ===============================  =================
mode            SandboxID / SandboxKey      top-level EndpointID ... Mac     Ports / Networks
==============  ==========================  ===============================  =================
bridge          sandbox / netns/<12 hex>    the bridge endpoint's values     {} or map / bridge
none            sandbox / netns/<12 hex>    "" and 0                         {} / none (IDs only)
host            sandbox / netns/default     "" and 0                         {} / host (IDs only)
container:X     "" / ""                     "" and 0                         null / null
==============  ==========================  ===============================  =================

Slide 11 (the app container of a kubelet pod) is the ``container:X`` shape:
kubelet starts the pod's *pause* container with ``--net none`` (which has a
sandbox and ``Networks.none``) and each app container with
``container:<pause>``, which gets no sandbox and no network of its own
(``updateContainerNetworkSettings`` returns early for container mode, so
``Networks`` stays nil and ``Ports`` is never filled).  The top-level
``EndpointID``..``MacAddress`` fields are the deprecated copy of the
``bridge`` network's entry only (``getDefaultNetworkSettings``), hence empty
for every other mode.  ``DriverOpts`` (API 1.32, docker 17.09) is not shown.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .docker import Container
    from .docker_net import DockerNetwork

__all__ = ["container_json", "network_settings", "network_json", "render", "jq"]


def _endpoint(network_id: str, endpoint_id: str, gateway: str = "", ip: str = "",
              prefixlen: int = 0,
              mac: str = "") -> dict[str, Any]:
    """``network.EndpointSettings`` (api/types/network)."""
    return {
        "IPAMConfig": None,
        "Links": None,
        "Aliases": None,
        "NetworkID": network_id,
        "EndpointID": endpoint_id,
        "Gateway": gateway,
        "IPAddress": ip,
        "IPPrefixLen": prefixlen,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": mac,
    }


def _ports(c: Container) -> dict[str, Any]:
    ports: dict[str, Any] = {}
    for b in c.ports:
        ports.setdefault(b.key, []).append({"HostIp": b.bound_ip, "HostPort": str(b.host_port)})
    return ports


def network_settings(net: DockerNetwork, c: Container) -> dict[str, Any]:
    """``.NetworkSettings`` of a container, as `docker inspect` prints it."""
    shared = c.mode == "container"
    bridge = c.mode == "bridge" and c.running
    if shared:
        sandbox_key = ""
    elif c.mode == "host":
        sandbox_key = "/var/run/docker/netns/default"
    else:
        sandbox_key = f"/var/run/docker/netns/{c.sandbox_id[:12]}"
    out: dict[str, Any] = {
        "Bridge": "",
        "SandboxID": "" if shared else c.sandbox_id,
        "HairpinMode": False,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": None if shared or not c.running else _ports(c),
        "SandboxKey": sandbox_key,
        "SecondaryIPAddresses": None,
        "SecondaryIPv6Addresses": None,
        "EndpointID": c.endpoint_id if bridge else "",
        "Gateway": net.gateway if bridge else "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": c.ip if bridge else "",
        "IPPrefixLen": net.prefixlen if bridge else 0,
        "IPv6Gateway": "",
        "MacAddress": c.mac if bridge else "",
        "Networks": None,
    }
    if not shared:
        net_id = net.network_id(c.mode)
        if bridge:
            entry = _endpoint(net_id, c.endpoint_id, net.gateway, c.ip, net.prefixlen, c.mac)
        else:  # none, host, or a stopped container (cleanOperationalData keeps only the network)
            entry = _endpoint(net_id, c.endpoint_id if c.running else "")
        out["Networks"] = {c.mode: entry}
    return out


def container_json(net: DockerNetwork, c: Container) -> dict[str, Any]:
    """One element of `docker inspect NAME` (the parts simlab knows)."""
    port_bindings = {}
    for b in c.ports:
        binding = {"HostIp": b.host_ip, "HostPort": str(b.host_port)}
        port_bindings.setdefault(b.key, []).append(binding)
    config: dict[str, Any] = {
        "Hostname": c.hostname,
        "Domainname": "",
        "User": "",
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
    }
    if c.ports:
        config["ExposedPorts"] = {b.key: {} for b in c.ports}
    config.update({
        "Tty": False,
        "OpenStdin": False,
        "StdinOnce": False,
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": list(c.command),
        "Image": c.image,
        "Volumes": None,
        "WorkingDir": "",
        "Entrypoint": None,
        "OnBuild": None,
        "Labels": {},
    })
    return {
        "Id": c.id,
        "Created": c.created,
        "Path": c.command[0] if c.command else "",
        "Args": list(c.command[1:]),
        "State": {
            "Status": "running" if c.running else "exited",
            "Running": c.running,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": c.pid if c.running else 0,
            "ExitCode": 0,
            "Error": "",
            "StartedAt": c.created,
            "FinishedAt": c.finished or "0001-01-01T00:00:00Z",
        },
        "Image": "sha256:" + net.image_id(c.image),
        "ResolvConfPath": f"/var/lib/docker/containers/{c.id}/resolv.conf",
        "HostnamePath": f"/var/lib/docker/containers/{c.id}/hostname",
        "HostsPath": f"/var/lib/docker/containers/{c.id}/hosts",
        "LogPath": f"/var/lib/docker/containers/{c.id}/{c.id}-json.log",
        "Name": "/" + c.name,
        "RestartCount": 0,
        "Driver": "overlay",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": {
            "NetworkMode": c.network_mode,
            "PortBindings": port_bindings,
            "AutoRemove": False,
        },
        "Mounts": [],
        "Config": config,
        "NetworkSettings": network_settings(net, c),
    }


def network_json(net: DockerNetwork, name: str, running: list[Container]) -> dict[str, Any]:
    """One element of `docker network inspect NAME` (bridge, host or none)."""
    members = {}
    for c in running:
        if c.mode != name:
            continue
        if name == "bridge":
            members[c.id] = {"Name": c.name, "EndpointID": c.endpoint_id, "MacAddress": c.mac,
                             "IPv4Address": f"{c.ip}/{net.prefixlen}", "IPv6Address": ""}
        else:
            members[c.id] = {"Name": c.name, "EndpointID": c.endpoint_id, "MacAddress": "",
                             "IPv4Address": "", "IPv6Address": ""}
    bridge = name == "bridge"
    return {
        "Name": name,
        "Id": net.network_id(name),
        "Created": net.created,
        "Scope": "local",
        "Driver": {"bridge": "bridge", "host": "host", "none": "null"}[name],
        "EnableIPv6": False,
        "IPAM": {
            "Driver": "default",
            "Options": None,
            "Config": [{"Subnet": net.subnet, "Gateway": net.gateway}] if bridge else [],
        },
        "Internal": False,
        "Attachable": False,
        "Containers": members,
        "Options": {
            "com.docker.network.bridge.default_bridge": "true",
            "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.bridge.name": net.bridge,
            "com.docker.network.driver.mtu": "1500",
        } if bridge else {},
        "Labels": {},
    }


def render(value: Any, indent: int = 4) -> str:
    """JSON as docker prints it (4 spaces; jq uses 2)."""
    return json.dumps(value, indent=indent, ensure_ascii=False) + "\n"


def jq(value: Any, path: str) -> Any:
    """A tiny `jq` for paths like ``.[].NetworkSettings`` or ``.[0]."NetworkSettings".Networks``.

    >>> jq([{"A": {"B": 1}}], '.[]."A".B')
    1
    """
    rest = path.strip()
    if not rest.startswith("."):
        raise ValueError(f"jq path must start with '.': {path!r}")
    rest = rest[1:]
    while rest:
        if rest.startswith("[]") or rest.startswith("[0]"):
            value = value[0] if isinstance(value, list) else value
            rest = rest[2:] if rest.startswith("[]") else rest[3:]
        elif rest.startswith('"'):
            end = rest.index('"', 1)
            value = value.get(rest[1:end]) if isinstance(value, dict) else None
            rest = rest[end + 1:]
        else:
            key = rest.split(".", 1)[0].split("[", 1)[0]
            value = value.get(key) if isinstance(value, dict) else None
            rest = rest[len(key):]
        rest = rest[1:] if rest.startswith(".") else rest
    return value
