"""docker's filter table: the FORWARD policy and chains dockerd writes, as docker 17.06 does.

Mirrored version: docker 17.06 (docker/libnetwork branch ``bump_17.06``:
``drivers/bridge/setup_ip_forwarding.go``, ``drivers/bridge/setup_ip_tables.go``,
``firewall_linux.go``; the same era as :mod:`.docker_nat`).  For the default
bridge ``docker0`` with inter-container communication on (``--icc=true``),
dockerd leaves ``-P FORWARD DROP``; the chains ``DOCKER``, ``DOCKER-ISOLATION``
and ``DOCKER-USER``; in FORWARD, in this order, the jumps to DOCKER-USER and
DOCKER-ISOLATION, conntrack ``RELATED,ESTABLISHED`` ACCEPT for ``-o docker0``,
the jump to DOCKER for ``-o docker0``, ACCEPT for ``-i docker0 ! -o docker0``
and for ``-i docker0 -o docker0``; a RETURN ending each of DOCKER-ISOLATION and
DOCKER-USER (the full ``iptables -S`` text is ``DOCKER_HOST`` in
``tests/test_docker_filter.py``), and one ACCEPT per published port in
``DOCKER`` (``-p 8080:80`` to
172.17.0.2)::

    -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT

- ``-P FORWARD DROP`` (since docker 1.13, libnetwork a493ddb4, moby #28257):
  ``setupIPForwarding`` sets it only when dockerd itself turns
  ``net.ipv4.ip_forward`` on; a node that already forwarded keeps its policy.
  That is what broke pod traffic on Kubernetes nodes in 2017
  (kubernetes/kubernetes#40182): pods on another bridge (``cni0``) met the DROP.
- ``DOCKER-USER`` (added 2017-03-13, first in FORWARD) is for the admin's own
  rules; ``DOCKER-ISOLATION`` holds a DROP per pair of docker bridges (one
  bridge here: only its RETURN).

Later versions differ (18.x split isolation into ``DOCKER-ISOLATION-STAGE-1/2``;
28.x adds ``DOCKER-FORWARD``, ``DOCKER-CT``, ``DOCKER-BRIDGE``); simlab keeps
to 17.06 like the rest of its docker.
"""

from __future__ import annotations

from .docker_nat import PortBinding

__all__ = ["DOCKER_VERSION", "FORWARD_DROP", "daemon_filter_rules", "publish_filter_rules"]

#: The docker release whose filter table is mirrored.
DOCKER_VERSION = "17.06"

#: ``iptables.SetDefaultPolicy(iptables.Filter, "FORWARD", iptables.Drop)``.
FORWARD_DROP = ("-P", "FORWARD", "DROP")


def daemon_filter_rules(bridge: str) -> list[tuple[str, ...]]:
    """The filter-table commands dockerd 17.06 leaves for ``bridge`` (in ``iptables -S`` order).

    docker inserts (``-I``) the DOCKER-USER and DOCKER-ISOLATION jumps to keep them first;
    appending them first leaves the same table.
    """
    return [
        ("-N", "DOCKER"),
        ("-N", "DOCKER-ISOLATION"),
        ("-N", "DOCKER-USER"),
        ("-A", "FORWARD", "-j", "DOCKER-USER"),
        ("-A", "FORWARD", "-j", "DOCKER-ISOLATION"),
        ("-A", "FORWARD", "-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
         "-j", "ACCEPT"),
        ("-A", "FORWARD", "-o", bridge, "-j", "DOCKER"),
        ("-A", "FORWARD", "-i", bridge, "!", "-o", bridge, "-j", "ACCEPT"),
        ("-A", "FORWARD", "-i", bridge, "-o", bridge, "-j", "ACCEPT"),
        ("-A", "DOCKER-ISOLATION", "-j", "RETURN"),
        ("-A", "DOCKER-USER", "-j", "RETURN"),
    ]


def publish_filter_rules(binding: PortBinding, bridge: str, ip: str) -> list[tuple[str, ...]]:
    """The filter-table ACCEPT for one published port (``iptables.Forward``; delete with ``-D``)."""
    p, port = binding.proto, str(binding.container_port)
    return [("-A", "DOCKER", "-d", f"{ip}/32", "!", "-i", bridge, "-o", bridge, "-p", p, "-m", p,
             "--dport", port, "-j", "ACCEPT")]
