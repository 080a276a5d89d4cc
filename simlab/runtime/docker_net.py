"""docker's default network on the lab's node, as one frozen value.

What the daemon settles at start (``bip`` and the bridge, the node's uplink
and the LAN beyond it, the lab's seed for stable IDs) is read by the kernel
steps (:mod:`.docker_steps`) and by ``docker inspect`` (:mod:`.docker_inspect`);
they get this value instead of the whole engine.

>>> net = DockerNetwork(seed=0)
>>> net.gateway, net.subnet, net.prefixlen
('172.17.0.1', '172.17.0.0/16', 16)
>>> net.network_id("bridge") == DockerNetwork(seed=0).network_id("bridge")
True
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["DockerNetwork", "stamp"]

_EPOCH = datetime(2017, 8, 27, 1, 0, 0, tzinfo=timezone.utc)  # the talk's day


@dataclass(frozen=True)
class DockerNetwork:
    """``bip`` on ``bridge``; the node's ``uplink`` (``uplink_cidr``) to the namespace ``lan``."""

    bip: str = "172.17.0.1/16"
    bridge: str = "docker0"
    uplink: str = "em1"
    uplink_cidr: str = "192.168.1.1/24"
    lan: str = "lan"
    lan_cidr: str = "192.168.1.254/24"
    #: The lab's seed (IDs, names and MACs derive from it); None until the lab is asked.
    seed: int | None = None

    def __post_init__(self) -> None:
        iface = ipaddress.ip_interface(self.bip)
        net = iface.network
        if iface.version != 4 or net.prefixlen > 30 or iface.ip == net.network_address:
            raise ValueError("bip must be an IPv4 host address with a prefix of /30 or shorter, "
                             f"not {self.bip!r}")

    @property
    def gateway(self) -> str:
        return str(ipaddress.ip_interface(self.bip).ip)

    @property
    def subnet(self) -> str:
        return str(ipaddress.ip_interface(self.bip).network)

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_interface(self.bip).network.prefixlen

    def hex_id(self, *what) -> str:
        """A stable 64-hex ID: sha256 of the lab's seed and ``what``."""
        seed = ":".join(["simlab-docker", str(self.seed), *map(str, what)])
        return hashlib.sha256(seed.encode()).hexdigest()

    def network_id(self, name: str) -> str:
        return self.hex_id("network", name)

    def image_id(self, image: str) -> str:
        return self.hex_id("image", image)

    @property
    def created(self) -> str:
        """When dockerd made its networks (``docker network inspect``'s ``Created``)."""
        return stamp(0, self.hex_id("started"))


def stamp(n: int, salt: str) -> str:
    """A stable RFC 3339 time, n minutes after the talk began."""
    nanos = int(hashlib.sha256(salt.encode()).hexdigest()[:8], 16) % 1_000_000_000
    return (_EPOCH + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"
