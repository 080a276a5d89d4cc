"""The pod network's FORWARD rules: what let pod traffic through docker's FORWARD DROP.

docker 1.13 and later set the node's filter FORWARD policy to DROP when dockerd turns
``ip_forward`` on (:mod:`.docker_filter`).  On a Kubernetes node whose pods sit on
another bridge (``cni0``), every routed pod packet then met the DROP: pods could not
reach other nodes, the LAN, or docker's own containers (kubernetes/kubernetes#40182,
2017).  The fix that shipped with the network agent was flannel v0.9.1's
``ForwardRules`` (flannel-io/flannel#872, ``network/iptables.go``): two rules appended
to FORWARD accepting the whole pod network both ways::

    -A FORWARD -s 10.244.0.0/16 -j ACCEPT
    -A FORWARD -d 10.244.0.0/16 -j ACCEPT

simlab's nodes route pod CIDRs the way flannel's host-gw backend does
(:mod:`.kube_nodes`), so the lab's node gets these rules too, right after docker
starts.  Removing them shows the 2017 incident.
"""

from __future__ import annotations

import ipaddress

from ..model import ops as o
from ..timeline import text

__all__ = ["CLUSTER_PREFIX", "cluster_cidr", "pod_forward_rules", "accept_pod_network"]

#: flannel's ``Network`` (the cluster's pod network) holds every node's /24: 10.244.0.0/16.
CLUSTER_PREFIX = 16


def cluster_cidr(pod_cidr: str) -> str:
    """The pod network a node's pod CIDR belongs to: ``10.244.1.0/24`` -> ``10.244.0.0/16``."""
    net = ipaddress.ip_network(pod_cidr, strict=False)
    return str(net.supernet(new_prefix=min(CLUSTER_PREFIX, net.prefixlen)))


def pod_forward_rules(cidr: str) -> list[tuple[str, ...]]:
    """flannel's ``ForwardRules(network)``: the filter FORWARD ACCEPTs for the pod network."""
    return [("-A", "FORWARD", "-s", cidr, "-j", "ACCEPT"),
            ("-A", "FORWARD", "-d", cidr, "-j", "ACCEPT")]


def accept_pod_network(lab, key: str, pod_cidr: str) -> None:
    """Append flannel's FORWARD rules in namespace ``key`` (the missing ones; one step)."""
    cidr = cluster_cidr(pod_cidr)
    have = lab.snapshot().netns[key].iptables.get("filter", ())
    missing = [r for r in pod_forward_rules(cidr) if " ".join(r) not in have]
    if not missing:
        return
    lab.apply(
        *[o.Iptables("filter", r, netns=key) for r in missing],
        title=text(f"FORWARD ACCEPT for the pod network {cidr}",
                   f"Pod ネットワーク {cidr} の FORWARD ACCEPT"),
        why=text(f"docker set the FORWARD policy to DROP, and pods are on cni0, not docker0: none "
                 "of docker's rules accepts their routed packets. flannel (v0.9.1, after the 2017 "
                 f"incident kubernetes#40182) appends two rules accepting {cidr} both ways.",
                 "docker が FORWARD のポリシーを DROP にしたが、Pod は docker0 ではなく cni0 に"
                 "いるので、docker のルールはどれも Pod の転送パケットを受け入れない。flannel"
                 f"（v0.9.1、2017 年の障害 kubernetes#40182 の後）が {cidr} を双方向に受け入れる"
                 "ルールを二つ追加する。"),
        actor="host",
        mirrors="flannel network/iptables.go: ForwardRules (flannel#872)",
        detail={"k8s": "forward"},
    )
