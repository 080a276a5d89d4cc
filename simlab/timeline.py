"""The lab's history: every user-visible action is a :class:`Step`.

A step keeps its title and why (per language), the operations it made, the
code it mirrors (``bridge.go: setupVeth``), who acted, and the snapshots
before and after, so a view can show any step again, forward or back,
without touching a backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from .i18n import get_language, why_for_ops
from .model import NetState
from .model.ops import Op, as_command
from .model.text import Text

__all__ = ["Step", "Timeline", "Text", "text"]


def text(en: str, ja: str | None = None) -> Text:
    """A message in English and (optionally) Japanese (without it, Japanese reads English)."""
    if isinstance(en, Text) and ja is None:
        return en
    return Text(en, ja if ja is not None else en)


@dataclass(frozen=True)
class Step:
    """One step; its title and why are :class:`Text` (a ``{"en", "ja"}`` mapping is read as one)."""

    title: Text
    why: Text
    ops: tuple[Op, ...]
    before: NetState
    after: NetState
    mirrors: str = ""  # e.g. "bridge.go: setupVeth"
    actor: str = "ip"  # "ip" (typed by the learner), "docker", "kubelet", "cni:bridge", ...
    detail: Mapping = field(default_factory=dict)  # e.g. CNI env vars, stdin and result

    def __post_init__(self) -> None:
        for name in ("title", "why"):
            object.__setattr__(self, name, Text.of(getattr(self, name)))

    @property
    def commands(self) -> list[str]:
        """The operations as the `ip` commands a learner would type."""
        return [as_command(op) for op in self.ops]

    def title_in(self, lang: str | None = None) -> str:
        """The title in ``lang`` (default: :func:`simlab.i18n.get_language`), else English."""
        return self.title.in_(lang or get_language())

    def why_in(self, lang: str | None = None) -> str:
        """The why in ``lang``, else English; a step recorded without one (a typed `ip`
        command) explains its operations instead (:func:`simlab.i18n.why_for`)."""
        lang = lang or get_language()
        return self.why.in_(lang) or why_for_ops(self.ops, lang)


class Timeline:
    """An ordered list of steps with a cursor that can move forward and back."""

    def __init__(self, steps: list[Step] | None = None, *, meta: Mapping | None = None):
        self.steps: list[Step] = list(steps or [])
        self.position = len(self.steps) - 1
        #: Where the steps came from, e.g. {"backend": "kernel", "scenario": "bridge"}
        #: (kept by :mod:`simlab.timeline_io`).
        self.meta: dict = dict(meta or {})
        self._listeners: list[Callable[[Step], None]] = []

    def record(self, step: Step) -> Step:
        self.steps.append(step)
        self.position = len(self.steps) - 1
        for listener in list(self._listeners):
            listener(step)
        return step

    def subscribe(self, listener: Callable[[Step], None]) -> Callable[[], None]:
        """Call ``listener(step)`` after each step recorded from now on (an open stepper
        shows steps as they happen); returns the function that unsubscribes it.

        >>> tl = Timeline(); got = []
        >>> stop = tl.subscribe(got.append)
        >>> from simlab.model import new_state
        >>> _ = tl.record(Step("t", "", (), new_state(), new_state())); stop(); len(got)
        1
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> Step:
        return self.steps[index]

    @property
    def current(self) -> Step | None:
        return self.steps[self.position] if self.steps and self.position >= 0 else None

    def jump(self, index: int) -> Step | None:
        if not self.steps:
            return None
        self.position = max(0, min(index, len(self.steps) - 1))
        return self.current

    def forward(self) -> Step | None:
        return self.jump(self.position + 1)

    def back(self) -> Step | None:
        return self.jump(self.position - 1)
