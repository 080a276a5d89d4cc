"""The model backend: the kernel's rules applied to an in-memory snapshot."""

from __future__ import annotations

from ..model import NetState, apply, new_state
from ..model.ops import Op

__all__ = ["ModelBackend"]


class ModelBackend:
    """Holds one :class:`NetState` and replaces it on every operation.

    >>> from simlab.model import NetnsAdd
    >>> b = ModelBackend()
    >>> b.apply(NetnsAdd("red"))
    >>> sorted(b.snapshot().netns)
    ['', 'red']
    """

    name = "model"

    def __init__(self, state: NetState | None = None, *, seed: int = 0, tunnels: tuple[str, ...] = ()):
        self.state = state if state is not None else new_state(seed=seed, tunnels=tunnels)

    def apply(self, op: Op) -> None:
        self.state = apply(self.state, op)

    def apply_all(self, ops: list[Op]) -> None:
        """All or nothing: the snapshot changes only if every operation succeeds."""
        before = self.state
        try:
            for op in ops:
                self.apply(op)
        except BaseException:
            self.state = before
            raise

    def preflight(self, ops: list[Op]) -> None:
        """Nothing to check: the model runs no program of the machine."""

    def restore(self, state: NetState) -> None:
        """Go back to an earlier snapshot (undo of a half-done step)."""
        self.state = state

    def snapshot(self) -> NetState:
        return self.state

    def show(self, tool: str, argv: list[str], netns: str) -> str | None:
        return None

    def close(self) -> None:
        self.state = new_state(seed=self.state.seed, tunnels=self.state.tunnels)
