"""The whole contract every backend keeps: what :class:`simlab.Lab` and the runtimes may ask.

A backend applies operations (values from :mod:`simlab.model.ops`) and
returns snapshots (:class:`simlab.model.NetState`).  Namespaces are named by
*key*: ``ROOT`` ("") is the node, other keys are the short names a learner
types (``red``, ``web``).  Where a key really lives (a prefixed name under
/run/netns, a CNI_NETNS path) is the backend's business, told by
:meth:`Backend.netns_path` and :meth:`Backend.netns_key`.

A new feature adds an operation both backends understand, never a new method;
where backends really differ, they say so in :class:`Capabilities`, and
callers read a capability, never the backend's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..model import NetState
from ..model.ops import Op

__all__ = ["Backend", "Capabilities"]


@dataclass(frozen=True)
class Capabilities:
    """What a backend can or cannot do, by name (a runtime asks these, not ``name``)."""

    #: CNI plugins run in this process against the backend: a plugin process could not
    #: reach it (the model).  Otherwise plugins are executables started in real
    #: namespaces, so any CNI plugin (Debian's too) works.
    in_process_plugins: bool
    #: MACs and other random choices come from the lab's seed: the same seed, the same lab.
    seeded: bool
    #: The argv a process the lab starts (a CNI plugin, ``nsenter --net=``) runs under first
    #: to reach :meth:`Backend.netns_path`: ``()`` where those paths are the machine's, the
    #: rootless kernel's ``nsenter`` into the user and mount namespaces that hold them.
    enter_prefix: tuple[str, ...] = ()


class Backend(ABC):
    """Subclass it and fill in the abstract methods; ``apply`` comes with it."""

    name: ClassVar[str]  # "model" or "kernel": what ``Lab.backend`` prints
    capabilities: ClassVar[Capabilities]

    @abstractmethod
    def apply_all(self, ops: Sequence[Op]) -> list[object]:
        """Carry out ``ops`` in order, all or nothing; one outcome per operation.

        An outcome is None, except a :class:`~simlab.model.ops.Ping`'s: its
        :class:`~simlab.model.ping.PingReport` (the kernel's has no ``walk``).
        On failure raise :class:`simlab.model.NetError` and leave nothing changed.
        """

    def apply(self, op: Op) -> object:
        """One operation (what a CNI plugin's session sends): ``apply_all([op])[0]``."""
        return self.apply_all([op])[0]

    def preflight(self, ops: Sequence[Op]) -> None:
        """Raise the :class:`NetError` a program missing for ``ops`` would cause, changing nothing.

        Lets a runtime fail before its first step rather than half-way (docker's daemon
        start needs iptables on the kernel).  Default: nothing is run, nothing is missing.
        """

    @abstractmethod
    def snapshot(self) -> NetState:
        """The current state of every namespace this backend manages."""

    @abstractmethod
    def restore(self, snapshot: NetState) -> None:
        """Go back to ``snapshot``, an earlier result of :meth:`snapshot` (a half-done step)."""

    def show(self, tool: str, argv: list[str], netns: str) -> str | None:
        """The text the real tool prints for a show command, or None to render the snapshot."""
        return None

    def netns_path(self, key: str) -> str | None:
        """Where a process can open namespace ``key`` (``CNI_NETNS``, ``nsenter --net=``);
        None when namespaces are not files (the model)."""
        return None

    def netns_key(self, name: str) -> str | None:
        """The key of a namespace as the machine names it (``/run/netns/NAME``), else None."""
        return None

    def watch_sysctl(self, netns: str, key: str) -> None:
        """A plugin process set sysctl ``key`` of ``netns``: read it back from now on.  Only a
        backend that reads the kernel from outside needs this (it reads the sysctls its own
        operations set); the model sees every change the in-process plugins make."""

    @abstractmethod
    def close(self) -> None:
        """Remove everything this backend created."""
