"""``crictl`` on a containerd node: ``pods``, ``ps``, ``inspectp``.

Layout facts kept (cri-tools v1.36.0 ``cmd/crictl``):

- tables go through Go's ``tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)``
  (display.go): each column as wide as its widest cell plus 3 spaces, the
  last one unpadded; IDs are cut to 13 characters; newest first;
- ``pods``: ``POD ID  CREATED  STATE  NAME  NAMESPACE  ATTEMPT  RUNTIME``,
  STATE ``Ready``/``NotReady``, RUNTIME ``(default)`` for the empty handler;
- ``ps``: ``CONTAINER  IMAGE  CREATED  STATE  NAME  ATTEMPT  POD ID  POD  NAMESPACE``;
- CREATED is go-units ``HumanDuration`` + `` ago`` (from ``lab.k8s.clock``);
- ``inspectp`` prints ``{"status": <PodSandboxStatus>, "info": {...}}``:
  containerd's verbose ``info`` lifted to the top level, with the runtime
  spec's network namespace path and ``cniResult``.  The JSON is derived from
  the two sources (no captured dump), key order as protojson writes it.

``inspectp`` takes a pod ID, an ID prefix, or (a simlab convenience) the pod's name.
"""

from __future__ import annotations

import json
import shlex

from .kube_text import tabwrite

PAUSE_IMAGE = "registry.k8s.io/pause:3.8"  # containerd 1.7's sandbox image (containerd.PAUSE_IMAGE)

__all__ = ["crictl", "human_duration", "pods", "ps", "inspectp"]

_ID = 13


# mirrors github.com/docker/go-units duration.go: HumanDuration
def human_duration(seconds: float) -> str:
    """
    >>> [human_duration(s) for s in (0, 1, 30, 61, 600, 3600, 7200, 200000)]
    ['Less than a second', '1 second', '30 seconds', 'About a minute', '10 minutes', 'About an hour', '2 hours', '2 days']
    """
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = s // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int((seconds + 1800) // 3600)  # d.Round(time.Hour)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def _ago(created: float, now: float) -> str:
    return human_duration(now - created) + " ago"


def pods(cd, now: float) -> str:
    rows = [["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]]
    for rec in sorted(reversed(list(cd.sandboxes.values())), key=lambda r: -r.created):
        rows.append(
            [
                rec.id[:_ID],
                _ago(rec.created, now),
                "Ready" if rec.state == "SANDBOX_READY" else "NotReady",
                rec.pod.name,
                rec.pod.namespace,
                "0",
                "(default)",
            ]
        )
    return tabwrite(rows, minwidth=0, padding=3)


def ps(cd, now: float) -> str:
    rows = [["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD", "NAMESPACE"]]
    for c in sorted(reversed(list(cd.containers.values())), key=lambda c: -c.created):
        rows.append(
            [
                c.id[:_ID],
                c.image,
                _ago(c.created, now),
                "Running" if c.state == "CONTAINER_RUNNING" else "Exited",
                c.name,
                "0",
                c.sandbox.id[:_ID],
                c.sandbox.pod.name,
                c.sandbox.pod.namespace,
            ]
        )
    return tabwrite(rows, minwidth=0, padding=3)


def _find(cd, what: str):
    named = [r for r in cd.sandboxes.values() if r.pod.name == what]
    if len(named) == 1:
        return named[0]
    hits = [r for r in cd.sandboxes.values() if r.id.startswith(what)] if what else []
    if len(hits) == 1:
        return hits[0]
    raise ValueError(
        f'getting the pod sandbox status for "{what}": rpc error: code = NotFound '
        f'desc = an error occurred when try to find sandbox: not found'
    )


def inspectp(cd, what: str, now: float) -> str:
    """``crictl inspectp``: the CRI status and containerd's verbose info, as JSON."""
    rec = _find(cd, what)
    p = rec.pod
    status = {
        "id": rec.id,
        "metadata": {"attempt": 0, "name": p.name, "namespace": p.namespace, "uid": p.uid},
        "state": rec.state,
        "createdAt": f"{rec.created:.0f}",
        "network": {
            "additionalIps": [{"ip": ip} for ip in rec.additional_ips],
            "ip": rec.ip,
        },
        "linux": {
            "namespaces": {
                "options": {
                    "ipc": "POD",
                    "network": "POD",
                    "pid": "POD",
                    "targetId": "",
                    "userNamespace": None,
                }
            }
        },
        "labels": {
            "io.kubernetes.pod.name": p.name,
            "io.kubernetes.pod.namespace": p.namespace,
            "io.kubernetes.pod.uid": p.uid,
            "run": p.name,
        },
        "annotations": {},
        "runtimeHandler": "",
    }
    spec_ns = [
        {"type": "pid"},
        {"type": "ipc"},
        {"type": "uts"},
        {"type": "mount"},
        {"type": "network", "path": rec.netns_path},
    ]
    info = {
        "pid": rec.pid,
        "processStatus": "running" if rec.state == "SANDBOX_READY" else "stopped",
        "netNamespaceClosed": rec.netns not in cd.lab.snapshot().netns,
        "image": PAUSE_IMAGE,
        "runtimeHandler": "",
        "runtimeType": "io.containerd.runc.v2",
        "runtimeSpec": {"ociVersion": "1.1.0", "linux": {"namespaces": spec_ns}},
        "cniResult": rec.cni_result.to_dict() if rec.cni_result is not None else None,
    }
    return json.dumps({"status": status, "info": info}, indent=2) + "\n"


def crictl(cd, line: str, now: float) -> str:
    """One ``crictl`` command line against a node's containerd (:class:`ContainerdSandboxes`)."""
    words = shlex.split(line)
    if words and words[0] == "crictl":
        words = words[1:]
    if words == ["pods"]:
        return pods(cd, now)
    if words == ["ps"]:
        return ps(cd, now)
    if len(words) == 2 and words[0] == "inspectp":
        return inspectp(cd, words[1], now)
    raise ValueError(
        f"simlab's crictl knows `pods`, `ps` and `inspectp POD`, not {line!r}"
    )
