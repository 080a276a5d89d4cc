"""What a show command prints for one namespace of a snapshot (never asks a backend).

The text comes from :mod:`simlab.iproute` (``parse`` + ``render``, the pair ``Lab`` uses on
the model), so a view shows exactly the golden-tested iproute2 text.
"""

from __future__ import annotations

from ..iproute import parse, render
from ..model import ROOT, NetState

__all__ = ["SHOWS", "ip_a", "command_for", "show_text"]

#: What a view can show of a namespace: key -> (tool, object), as `ip -n NS a` is ("ip", "a").
SHOWS = {
    "a": ("ip", "a"),
    "route": ("ip", "route"),
    "neigh": ("ip", "neigh"),
    "fdb": ("bridge", "fdb"),
}


def command_for(ns: str, what: str = "a") -> str:
    """The command a learner would type: ``ip a``, ``ip -n red a``, ``bridge -n red fdb``..."""
    tool, obj = SHOWS[what]
    return f"{tool} {obj}" if ns == ROOT else f"{tool} -n {ns} {obj}"


def show_text(state: NetState, ns: str, what: str = "a") -> str:
    """What ``command_for(ns, what)`` prints for ``state``.

    >>> from simlab.model import new_state, apply, NetnsAdd
    >>> print(show_text(apply(new_state(), NetnsAdd("red")), "red").splitlines()[0])
    1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
    """
    if ns not in state.netns:
        raise KeyError(ns)
    return render(parse(command_for(ns, what)), state)


def ip_a(state: NetState, ns: str) -> str:
    """What `ip -n NS a` prints for ``state``."""
    return show_text(state, ns, "a")
