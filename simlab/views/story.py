"""A timeline as a list of frames: each step's before and after graph and its diff.

Views read a timeline only through here, so link ids (see :mod:`simlab.views.graph`)
are carried across the whole history once, in order: the first step's ``before``
starts from :func:`~simlab.views.graph.initial_ids`, every later snapshot follows
from the one before it with :func:`~simlab.views.graph.follow`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .diff import Diff, diff
from .graph import build, follow, initial_ids

__all__ = ["Frame", "frames", "timeline_of", "docker_shares", "Shares"]

#: Containers without their own namespace: a mapping for every step, or a function of the step.
Shares = Mapping[str, str] | Callable[[object], Mapping[str, str]] | None


@dataclass(frozen=True)
class Frame:
    """One step as the views see it."""

    index: int
    step: object  # simlab.timeline.Step
    before: object  # networkx.Graph
    after: object
    diff: Diff


def timeline_of(source) -> Sequence:
    """The steps of a Lab, a Timeline or a list of steps."""
    if hasattr(source, "timeline"):
        source = source.timeline
    if hasattr(source, "steps"):
        return list(source.steps)
    return list(source)


def _shares_for(shares: Shares, step, state) -> Mapping[str, str]:
    if shares is None:
        found = (getattr(step, "detail", None) or {}).get("shares_netns")
        return dict(found or {})
    if callable(shares):
        return dict(shares(step) or {})
    return {n: k for n, k in shares.items() if k in state.netns}


def docker_shares(source) -> Callable[[object], Mapping[str, str]] | None:
    """Containers of ``source``'s docker engine that use another's namespace, by step.

    A host or ``container:X`` container has no namespace of its own; its step (a note with
    ``detail["container"]``) is where it starts sharing.  None when the lab has no docker.
    """
    engine = getattr(source, "_docker", None)
    if engine is None:
        return None
    sharing = {c.name: c.netns for c in engine.containers() if c.mode in ("host", "container")}

    def by_step(step) -> Mapping[str, str]:
        name = (getattr(step, "detail", None) or {}).get("container")
        return {name: sharing[name]} if name in sharing and not step.ops else {}

    return by_step


def _names_in(step) -> dict[str, str]:
    """A step that made a namespace for a container names it (docker sandbox keys are hex)."""
    name = (getattr(step, "detail", None) or {}).get("container")
    if not name:
        return {}
    return {op.name: name for op in step.ops if type(op).__name__ == "NetnsAdd"}


def frames(source, *, shares: Shares = None) -> list[Frame]:
    """Graphs for every step of a timeline, with stable node ids and each step's diff.

    ``shares`` (containers without a namespace of their own) defaults to what a step's
    ``detail["shares_netns"]`` says, carried forward to later steps.

    >>> from simlab.views._samples import veth_pair
    >>> fs = frames(veth_pair())
    >>> fs[3].step.commands, sorted(fs[3].diff.moved)
    (['ip link set veth1 netns red'], ['if:/veth1'])
    """
    if shares is None:
        shares = docker_shares(source)
    steps = timeline_of(source)
    names: dict[str, str] = {}
    memo: dict = {}
    out: list[Frame] = []
    prev_state, prev_ids, prev_graph, prev_shares = None, None, None, None
    carried: dict[str, str] = {}
    for i, step in enumerate(steps):
        before, after = step.before, step.after
        if prev_state is None:
            ids_b = initial_ids(before)
        elif before is prev_state or before == prev_state:
            ids_b = prev_ids
        else:
            ids_b = follow(prev_state, before, prev_ids)
        ids_a = follow(before, after, ids_b, step.ops)
        sh_b = {n: k for n, k in carried.items() if k in before.netns}
        carried.update(_shares_for(shares, step, after))
        sh_a = {n: k for n, k in carried.items() if k in after.netns}
        names_b = dict(names)
        names.update(_names_in(step))
        if prev_graph is not None and before is prev_state and sh_b == prev_shares:
            g_b = prev_graph  # the usual case: this step starts where the last one ended
        else:
            g_b = build(before, ids=ids_b, shares=sh_b, names=names_b, memo=memo)
        g_a = build(after, ids=ids_a, shares=sh_a, names=names, memo=memo)
        out.append(Frame(i, step, g_b, g_a, diff(g_b, g_a)))
        prev_state, prev_ids, prev_graph, prev_shares = after, ids_a, g_a, sh_a
    return out
