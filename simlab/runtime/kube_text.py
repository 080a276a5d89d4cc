"""What kubectl prints: ``get -o wide pod``, ``describe pod``, ages from the lab's clock.

Layout facts kept (kubectl 1.7, the talk's era):
- ``get`` writes through Go's ``tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)``:
  each column is as wide as its widest cell plus 3 spaces, but at least 10;
  the last column is not padded; a missing IP is ``<none>``;
- ``describe`` aligns ``Label:`` values (column 14 at the top level) and its
  tables use two spaces of padding;
- an age is ``duration.HumanDuration``: ``45s``, ``9m``, ``3m20s``, ``5h``, ``2d``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "Event", "human_duration", "tabwrite", "pods_table", "describe_pod"]

JST = timezone(timedelta(hours=9))
#: July Tech Festa 2017, the morning of the talk.
EPOCH = datetime(2017, 8, 27, 10, 0, 0, tzinfo=JST)


class Clock:
    """The lab's fake clock: seconds since :data:`EPOCH`; only :meth:`advance` moves it.

    >>> c = Clock()
    >>> c.advance(minutes=9)
    540.0
    """

    def __init__(self, now: float = 0.0):
        self.now = float(now)

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0) -> float:
        self.now += seconds + 60 * minutes + 3600 * hours
        return self.now

    def stamp(self, at: float) -> datetime:
        return EPOCH + timedelta(seconds=at)


@dataclass(frozen=True)
class Event:
    """One pod event (``kubectl describe`` shows them under Events)."""

    type: str  # Normal / Warning
    reason: str
    at: float
    source: str  # default-scheduler, kubelet
    message: str


# mirrors k8s.io/apimachinery/pkg/util/duration: HumanDuration
def human_duration(seconds: float) -> str:
    """kubectl's age.

    >>> [human_duration(s) for s in (0, 59, 119, 540, 200, 7200, 90000, 864000)]
    ['0s', '59s', '119s', '9m', '3m20s', '120m', '25h', '10d']
    """
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 60 * 2:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def tabwrite(
    rows: list[list[str]], *, minwidth: int = 10, padding: int = 3, indent: str = ""
) -> str:
    """Go's tabwriter with ``'\\t'`` between cells (the last cell of a row is not padded)."""
    cols = max((len(r) for r in rows), default=0)
    widths = [0] * cols
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell) + padding, minwidth)
    out = []
    for r in rows:
        line = "".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:-1])) + (
            r[-1] if r else ""
        )
        out.append(indent + line + "\n")
    return "".join(out)


def pods_table(pods, now: float) -> str:
    """``kubectl get -o wide pod``."""
    rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]]
    for p in pods:
        ready = f"{1 if p.status == 'Running' else 0}/1"
        rows.append(
            [
                p.name,
                ready,
                p.status,
                str(p.restarts),
                human_duration(now - p.created),
                p.ip or "<none>",
                p.node.name,
            ]
        )
    if len(rows) == 1:
        return "No resources found.\n"
    return tabwrite(rows)


def _field(label: str, value: str, indent: str = "", width: int = 14) -> str:
    return f"{indent}{(label + ':').ljust(width)}{value}\n"


def _when(clock: Clock, at: float) -> str:
    return clock.stamp(at).strftime("%a, %d %b %Y %H:%M:%S %z")


def describe_pod(p, clock: Clock) -> str:
    """``kubectl describe pod NAME`` (the parts this lab knows)."""
    running = p.status == "Running"
    phase = "Running" if running else ("Terminating" if p.status == "Terminating" else "Pending")
    out = [
        _field("Name", p.name),
        _field("Namespace", p.namespace),
        _field("Node", f"{p.node.name}/{p.node.address}"),
        _field("Start Time", _when(clock, p.created)),
        _field("Labels", f"run={p.name}"),
        _field("Status", phase),
        _field("IP", p.ip),
        "Containers:\n",
        f"  {p.container}:\n",
        _field("Container ID", f"docker://{p.app_id}" if p.app_id else "", "    ", 16),
        _field("Image", p.image, "    ", 16),
    ]
    if p.ports:  # kubectl's describeContainerPorts / describeContainerHostPorts
        ports = ", ".join(f"{cp}/{proto}" for _, cp, proto, _ in p.ports)
        hosts = ", ".join(f"{hp}/{proto}" for hp, _, proto, _ in p.ports)
        out.append(_field("Ports" if "," in ports else "Port", ports, "    ", 16))
        out.append(_field("Host Ports" if "," in hosts else "Host Port", hosts, "    ", 16))
    if running:
        out.append(_field("State", "Running", "    ", 16))
        out.append(_field("Started", _when(clock, p.started or p.created), "      ", 14))
    else:
        out.append(_field("State", "Waiting", "    ", 16))
        out.append(_field("Reason", "ContainerCreating", "      ", 14))
    out.append(_field("Ready", "True" if running else "False", "    ", 16))
    out.append(_field("Restart Count", str(p.restarts), "    ", 16))
    out.append("Conditions:\n")
    out.append(
        tabwrite(
            [
                ["Type", "Status"],
                ["Initialized", "True"],
                ["Ready", str(running)],
                ["PodScheduled", "True"],
            ],
            minwidth=0,
            padding=2,
            indent="  ",
        )
    )
    out.append("Events:\n")
    rows = [
        ["Type", "Reason", "Age", "From", "Message"],
        ["----", "------", "----", "----", "-------"],
    ]
    for e in p.events:
        rows.append([e.type, e.reason, human_duration(clock.now - e.at), e.source, e.message])
    out.append(tabwrite(rows, minwidth=0, padding=2, indent="  "))
    return "".join(out)
