"""docker's NAT: the rules dockerd writes in the node's nat table, and ``-p`` parsing.

Rules are written exactly as ``iptables -t nat -S`` prints them back (``-d``
with its /32, ``-m tcp`` before ``--dport``), so the model's text equals the
kernel's.  What docker 17.x does (libnetwork ``drivers/bridge/setup_ip_tables.go``
and ``iptables.Forward``):

- at start: a ``DOCKER`` chain, entered from PREROUTING and OUTPUT for
  packets addressed to the node itself; ``-A DOCKER -i docker0 -j RETURN``
  (containers reaching a published port go to the node, not back in);
  MASQUERADE for the bridge's subnet leaving by any other link;
- per published port: DNAT in ``DOCKER`` to the container's address and
  port, and MASQUERADE of a container reaching its own published port
  (hairpin).

The filter table's side (FORWARD policy DROP, DOCKER-USER, DOCKER-ISOLATION,
the DOCKER chain's ACCEPT per published port) is in :mod:`.docker_filter`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .docker_errors import DockerError

__all__ = ["PortBinding", "parse_publish", "daemon_rules", "publish_rules", "rule_line"]

EPHEMERAL_START = 32768  # /proc/sys/net/ipv4/ip_local_port_range: where docker picks a host port


@dataclass(frozen=True)
class PortBinding:
    """One ``-p`` mapping: ``HOST_IP:HOST_PORT -> CONTAINER_PORT/PROTO``."""

    host_ip: str  # "" when not given (docker binds 0.0.0.0)
    host_port: int | None  # None: docker picks one
    container_port: int
    proto: str = "tcp"

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"

    @property
    def bound_ip(self) -> str:
        return self.host_ip or "0.0.0.0"


def _port(text: str, spec: str, what: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise DockerError.bad_publish(spec if what == "hostPort" else text, what)
    return int(text)


def parse_publish(spec: str) -> PortBinding:
    """``-p`` syntax: ``[IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]``.

    >>> parse_publish("8080:80")
    PortBinding(host_ip='', host_port=8080, container_port=80, proto='tcp')
    >>> parse_publish("127.0.0.1:5353:53/udp").key
    '53/udp'
    """
    text, _, proto = spec.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise DockerError.bad_publish(spec, "proto")
    parts = text.split(":")
    if len(parts) > 3 or not parts[-1]:
        raise DockerError.bad_publish(spec, "containerPort")
    container = _port(parts[-1], spec, "containerPort")
    host_port = _port(parts[-2], spec, "hostPort") if len(parts) >= 2 and parts[-2] else None
    host_ip = parts[0] if len(parts) == 3 else ""
    if host_ip:
        try:
            if ipaddress.ip_address(host_ip).version != 4:
                raise ValueError
        except ValueError:
            raise DockerError.bad_publish(host_ip, "ip address") from None
    return PortBinding(host_ip, host_port, container, proto)


def daemon_rules(bridge: str, subnet: str) -> list[tuple[str, ...]]:
    """The nat-table commands dockerd runs when it starts (``-t nat`` implied)."""
    return [
        ("-N", "DOCKER"),
        ("-A", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", "DOCKER"),
        ("-A", "OUTPUT", "!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL",
         "-j", "DOCKER"),
        ("-A", "POSTROUTING", "-s", subnet, "!", "-o", bridge, "-j", "MASQUERADE"),
        ("-A", "DOCKER", "-i", bridge, "-j", "RETURN"),
    ]


def publish_rules(binding: PortBinding, bridge: str, ip: str) -> list[tuple[str, ...]]:
    """The nat-table rules for one published port (append; delete with ``-D``)."""
    p, host_port, port = binding.proto, str(binding.host_port), str(binding.container_port)
    dest = ("-d", f"{binding.host_ip}/32") if binding.host_ip else ()
    return [
        ("-A", "POSTROUTING", "-s", f"{ip}/32", "-d", f"{ip}/32", "-p", p, "-m", p, "--dport", port,
         "-j", "MASQUERADE"),
        ("-A", "DOCKER", *dest, "!", "-i", bridge, "-p", p, "-m", p, "--dport", host_port,
         "-j", "DNAT", "--to-destination", f"{ip}:{port}"),
    ]


def rule_line(args: tuple[str, ...]) -> str:
    """The line ``iptables -S`` prints for an ``-A`` command."""
    return " ".join(args)
