"""The one small protocol every backend speaks.

A backend applies operations (values from :mod:`simlab.model.ops`) and
returns snapshots (:class:`simlab.model.NetState`).  Namespaces are named by
*key*: ``ROOT`` ("") is the node, other keys are the short names a learner
types (``red``, ``web``).  Where a key really lives (a prefixed name under
/run/netns, a CNI_NETNS path) is the backend's business.

A new feature adds an operation both backends understand, never a new method.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..model import NetState
from ..model.ops import Op

__all__ = ["Backend"]


@runtime_checkable
class Backend(Protocol):
    name: str  # "model" or "kernel"

    def apply(self, op: Op) -> None:
        """Carry out ``op``; raise :class:`simlab.model.NetError` and change nothing on failure."""

    def preflight(self, ops: list[Op]) -> None:
        """Raise the :class:`NetError` a tool missing for ``ops`` would cause, changing nothing.

        Lets a runtime fail before its first step rather than half-way (docker's daemon
        start needs iptables on the kernel).
        """

    def snapshot(self) -> NetState:
        """The current state of every namespace this backend manages."""

    def show(self, tool: str, argv: list[str], netns: str) -> str | None:
        """The text the real tool prints for a show command, or None to render the snapshot."""

    def close(self) -> None:
        """Remove everything this backend created."""
