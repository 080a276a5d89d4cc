"""The model backend: the kernel's rules applied to an in-memory snapshot."""

from __future__ import annotations

from collections.abc import Sequence

from ..model import NetState, apply, new_state
from ..model.ops import Op, Ping
from ..model.ping import model_report
from .base import Backend, Capabilities

__all__ = ["ModelBackend"]


class ModelBackend(Backend):
    """Holds one :class:`NetState` and replaces it on every operation.

    >>> from simlab.model import NetnsAdd
    >>> b = ModelBackend()
    >>> b.apply(NetnsAdd("red"))
    >>> sorted(b.snapshot().netns)
    ['', 'red']
    """

    name = "model"
    capabilities = Capabilities(in_process_plugins=True, seeded=True, enter_prefix=())

    def __init__(self, state: NetState | None = None, *, seed: int = 0, tunnels: tuple[str, ...] = ()):
        self.state = state if state is not None else new_state(seed=seed, tunnels=tunnels)

    def apply_all(self, ops: Sequence[Op]) -> list[object]:
        """All or nothing: the snapshot changes only if every operation succeeds."""
        state, outcomes = self.state, []
        for op in ops:
            outcomes.append(model_report(state, op) if isinstance(op, Ping) else None)
            state = apply(state, op)
        self.state = state
        return outcomes

    def restore(self, snapshot: NetState) -> None:
        self.state = snapshot

    def snapshot(self) -> NetState:
        return self.state

    def close(self) -> None:
        self.state = new_state(seed=self.state.seed, tunnels=self.state.tunnels)
