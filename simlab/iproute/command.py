"""What a parsed `ip`/`bridge` command line is: a change or a show.

:func:`simlab.iproute.parse` turns a command line into one of these;
a :class:`Change` is applied by the lab's backend, a :class:`Show` is rendered
from a snapshot (model) or run as the real tool (kernel).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.ops import Op
from ..model.state import ROOT

__all__ = ["Change", "Show"]


@dataclass(frozen=True)
class Change:
    """Operations to apply, in order, as one command."""

    ops: tuple[Op, ...]
    text: str = ""  # the command line as typed


@dataclass(frozen=True)
class Show:
    """A read-only command.

    ``argv`` is the command as the real tool takes it, after the tool's name
    and *without* any ``-n NS`` / ``ip netns exec NS`` (the backend adds its own
    way into ``netns``): ``ip -n red -br a`` gives ``tool="ip"``,
    ``argv=("-br", "a")``, ``netns="red"``, so ``[tool, *argv]`` is what to run
    there.  ``obj`` names what is shown ("link", "addr", "route", "netns",
    "neigh", "fdb", "brlink", "iptables", "version"); ``options`` holds the
    global options (``family``, ``details``, ``brief``, ``json``, ``pretty``)
    and the parsed selectors (``filter``; ``get`` for `ip route get`;
    ``table``/``chain`` for iptables).
    """

    tool: str  # "ip", "bridge" or "iptables"
    obj: str
    argv: tuple[str, ...]
    netns: str = ROOT
    options: dict = field(default_factory=dict)
    text: str = ""
