"""Names first: what a picture calls a namespace and an interface (pure).

A namespace is shown by its name (a docker container's, a pod's for a ``k8s_POD_...``
sandbox) with its key in small print; an interface as `ip link` prints it (``eth0@if5``).
Both the browser scene and the matplotlib pictures use these, so they agree.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import ROOT

__all__ = ["display_name", "container_name", "ip_name"]


def display_name(label: str, key: str) -> tuple[str, str]:
    """(name, small print) of a namespace: ``web`` / ``3f2a9c...``; a k8s sandbox
    ``k8s_POD_centos1_default_<uid>_0`` reads ``centos1`` / ``default/centos1``.

    >>> display_name("k8s_POD_centos1_default_e36cc301_0", "cfa09f538960")
    ('centos1', 'default/centos1 cfa09f538960')
    >>> display_name("red", "red")
    ('red', '')
    """
    if key == ROOT:
        return ("", "")
    small = "" if label == key else key[:12]
    if label.startswith("k8s_POD_"):
        parts = label[len("k8s_POD_"):].split("_")
        if len(parts) >= 2:
            return parts[0], f"{parts[1]}/{parts[0]} {small}".strip()
    return label, small


def container_name(name: str) -> str:
    """What a picture calls a container: a kubelet-made one, ``k8s_<container>_<pod>_<ns>_<uid>_<n>``
    as `docker ps` lists it, by its container's name (the whole is 60 characters wide).

    >>> container_name("k8s_centos1_centos1_default_e36cc301-e4d7-11e7-884d-525400a1b2c3_0")
    'centos1'
    >>> container_name("web")
    'web'
    """
    if name.startswith("k8s_"):
        parts = name[len("k8s_"):].split("_")
        if len(parts) >= 5 and parts[0]:
            return parts[0]
    return name


def ip_name(G, node: str, d: Mapping) -> str:
    """The name `ip link` prints: ``eth0@if5`` (peer elsewhere), ``veth1@veth2`` (same ns)."""
    name = d.get("ifname", "?")
    if d.get("kind") != "veth":
        return name  # only a veth has a peer to name
    for other, e in G.adj[node].items():
        if e.get("kind") != "veth":
            continue
        o = G.nodes[other]
        if o.get("netns") == d.get("netns"):
            return f"{name}@{o.get('ifname')}"
        return f"{name}@if{o.get('ifindex')}"
    return f"{name}@NONE"
