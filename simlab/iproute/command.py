"""What a parsed `ip`/`bridge` command line is: a change or a show.

:func:`simlab.iproute.parse` turns a command line into one of these;
a :class:`Change` is applied by the lab's backend, a :class:`Show` is rendered
from a snapshot (model) or run as the real tool (kernel).

What a show shows is one small frozen class per command (``LinkShow``,
``RouteGet``...), holding that command's parsed selectors; ``render`` maps each
class to its renderer, so a new show command is a new class and one entry there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ..model.ops import Op
from ..model.state import ROOT

__all__ = ["Change", "Show", "IpOptions", "Shown", "LinkShow", "AddrShow", "RouteShow", "RouteGet", "RuleShow",
           "NeighShow", "NetnsList", "BridgeLinkShow", "FdbShow", "IptablesShow", "IptablesList", "Version"]


@dataclass(frozen=True)
class Change:
    """Operations to apply, in order, as one command."""

    ops: tuple[Op, ...]
    text: str = ""  # the command line as typed
    #: What the tool itself prints when the change succeeds (``sysctl -w`` echoes
    #: ``key = value``; ``ip addr del A`` without a prefix length warns on stderr).
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class IpOptions:
    """The global options of `ip`/`bridge` that change what a show prints."""

    family: int | None = None  # -4 / -6 (None: both)
    details: bool = False  # -d
    brief: bool = False  # -br
    stats: bool = False  # -s (once): link counters
    oneline: bool = False  # -o: a record per line, its inner newlines written as "\\"
    json: bool = False  # -j
    pretty: bool = False  # -p


@dataclass(frozen=True)
class LinkShow:
    """`ip link [show] [SELECTORS]` (None/False: not given)."""

    dev: str | None = None
    up: bool = False
    master: str | None = None
    nomaster: bool = False
    kind: str | None = None  # type KIND
    slave_kind: str | None = None  # type KIND_slave
    group: str | None = None
    # iproute2 parses the address selectors for `ip link show` too; only `ip addr` uses them.
    to: str | None = None
    scope: str | None = None
    label: str | None = None
    primary: bool = False
    secondary: bool = False


@dataclass(frozen=True)
class AddrShow(LinkShow):
    """`ip addr [show] [SELECTORS]`: the links of `ip link`, each with its addresses."""


@dataclass(frozen=True)
class RouteShow:
    """`ip route [show] [SELECTORS]`; ``root``/``match``/``exact`` are the prefix selectors."""

    table: str = "main"  # "main", "local" or "all"
    dev: str | None = None
    proto: str | None = None
    scope: str | None = None
    type: str | None = None
    via: str | None = None
    src: str | None = None
    metric: int | None = None
    root: str | None = None
    match: str | None = None
    exact: str | None = None


@dataclass(frozen=True)
class RouteGet:
    """`ip route get DST [from SRC]`."""

    dst: str
    src: str | None = None


@dataclass(frozen=True)
class NeighShow:
    """`ip neigh [show] [dev X] [nud STATE] [[to] PREFIX]`."""

    dev: str | None = None
    nud: str | None = None  # "PERMANENT", ..., "all"; None: everything but NOARP
    to: str | None = None


@dataclass(frozen=True)
class RuleShow:
    """`ip [-6] rule [show] [not] [from P] [to P] [iif D] [oif D] [pref N] [table T]`."""

    invert: bool = False
    src: str | None = None
    dst: str | None = None
    iif: str | None = None
    oif: str | None = None
    pref: int | None = None
    table: int | None = None


@dataclass(frozen=True)
class NetnsList:
    """`ip netns [list]`."""


@dataclass(frozen=True)
class BridgeLinkShow:
    """`bridge link [show] [dev X] [master BR]`."""

    dev: str | None = None
    master: str | None = None


@dataclass(frozen=True)
class FdbShow:
    """`bridge fdb [show] [br BR] [dev X]`."""

    br: str | None = None
    dev: str | None = None


@dataclass(frozen=True)
class IptablesShow:
    """`iptables [-t TABLE] -S [CHAIN] [-v]` (-v: each rule's counters as ``-c PACKETS BYTES``)."""

    table: str = "filter"
    chain: str | None = None
    verbose: bool = False


@dataclass(frozen=True)
class IptablesList:
    """`iptables [-t TABLE] -L [CHAIN] [-n] [-v] [-x] [--line-numbers]`."""

    table: str = "filter"
    chain: str | None = None
    numeric: bool = False
    verbose: bool = False
    exact: bool = False
    line_numbers: bool = False


@dataclass(frozen=True)
class Version:
    """`ip -V` / `bridge -V`."""

    tool: str  # "ip" or "bridge"


#: Everything a :class:`Show` can show.
Shown = Union[LinkShow, AddrShow, RouteShow, RouteGet, RuleShow, NeighShow, NetnsList, BridgeLinkShow, FdbShow,
              IptablesShow, IptablesList, Version]


@dataclass(frozen=True)
class Show:
    """A read-only command.

    ``argv`` is the command as the real tool takes it, after the tool's name
    and *without* any ``-n NS`` / ``ip netns exec NS`` (the backend adds its own
    way into ``netns``): ``ip -n red -br a`` gives ``tool="ip"``,
    ``argv=("-br", "a")``, ``netns="red"``, so ``[tool, *argv]`` is what to run
    there.  ``what`` is what is shown with its selectors (``AddrShow()``);
    ``options`` the global options (``IpOptions(brief=True)``).
    """

    tool: str  # "ip", "bridge" or "iptables"
    what: Shown
    argv: tuple[str, ...]
    netns: str = ROOT
    options: IpOptions = field(default_factory=IpOptions)
    text: str = ""
