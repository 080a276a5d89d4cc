"""A timeline as a list of frames: each step's before and after graph and its diff.

Views read a timeline only through here, so link ids (see :mod:`simlab.views.graph`)
are carried across the whole history once, in order: the first step's ``before``
starts from :func:`~simlab.views.graph.initial_ids`, every later snapshot follows
from the one before it with :func:`~simlab.views.graph.follow`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .diff import Diff, diff
from .graph import build, follow, initial_ids
from .snap import Snap, snap_diff

__all__ = ["Frame", "frames", "whole_frames", "timeline_of", "docker_shares", "Shares"]

#: Containers without their own namespace: a mapping for every step, or a function of the step.
Shares = Mapping[str, str] | Callable[[object], Mapping[str, str]] | None


@dataclass(frozen=True)
class Frame:
    """One step as the views see it.

    ``before_view``/``after_view`` are :class:`~simlab.views.snap.Snap` s (cheap, read like
    networkx); ``before``/``after`` are the same graphs as :class:`networkx.Graph`, made
    on first use.  ``changed``: the namespace keys whose fragments the step recomputed.
    """

    index: int
    step: object  # simlab.timeline.Step
    before_view: Snap
    after_view: Snap
    diff: Diff
    changed: frozenset = frozenset()

    @property
    def before(self):
        return self.before_view.graph()

    @property
    def after(self):
        return self.after_view.graph()


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


def frames(source, *, shares: Shares = None, since: int = 0) -> list[Frame]:
    """Graphs for every step of a timeline, with stable node ids and each step's diff.

    ``shares`` (containers without a namespace of their own) defaults to what a step's
    ``detail["shares_netns"]`` says, carried forward to later steps.  ``since``: the frames
    of the steps from that index on (numbered from 0), the earlier ones read only for the
    names and ids they give (a docker container's namespace made before stays ``web``).

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
    prev_state, prev_ids, prev_snap = None, None, None
    carried: dict[str, str] = {}
    for i, step in enumerate(steps):
        before, after = step.before, step.after
        sh_b = {n: k for n, k in carried.items() if k in before.netns}
        if prev_state is None:
            ids_b = initial_ids(before)
            snap_b = Snap.of(before, ids_b, sh_b, names, memo)
        elif before is prev_state:
            ids_b = prev_ids
            snap_b = prev_snap if sh_b == prev_snap.shares else Snap(prev_snap.frags, sh_b)
        else:  # a step that does not start where the last one ended
            moved = _changed(prev_state, before)
            ids_b = follow(prev_state, before, prev_ids, changed=moved)
            snap_b = prev_snap.advance(prev_state, before, ids_b, moved, sh_b, names, memo)[0]
        changed = _changed(before, after)
        ids_a = follow(before, after, ids_b, step.ops, changed=changed)
        carried.update(_shares_for(shares, step, after))
        sh_a = {n: k for n, k in carried.items() if k in after.netns}
        named = _names_in(step)
        if named:
            names = {**names, **named}
        snap_a, redo = snap_b.advance(before, after, ids_a, changed, sh_a, names, memo)
        out.append(Frame(i, step, snap_b, snap_a, snap_diff(snap_b, snap_a, redo),
                         frozenset(redo)))
        prev_state, prev_ids, prev_snap = after, ids_a, snap_a
    if since:
        out = [dataclasses.replace(f, index=f.index - since) for f in out[max(since, 0):]]
    return out


def _changed(before, after) -> set[str]:
    """Namespace keys whose ``Netns`` differs between two snapshots (by identity)."""
    b, a = before.netns, after.netns
    out = {k for k, ns in a.items() if b.get(k) is not ns}
    out.update(k for k in b if k not in a)
    return out


def whole_frames(source, *, shares: Shares = None, memo: bool = False) -> list[tuple]:
    """``(before, after, diff)`` per step the plain way: every step's two graphs built whole
    with :func:`~simlab.views.graph.build` and diffed whole (``memo``: reusing unchanged
    namespaces' nodes, as :func:`frames` did before it worked from changes).  Kept as the
    reference its tests and ``benchmarks/bench_open.py`` compare against."""
    if shares is None:
        shares = docker_shares(source)
    out, prev, ids, carried, names = [], None, None, {}, {}
    kept: dict | None = {} if memo else None
    for step in timeline_of(source):
        b, a = step.before, step.after
        ids_b = initial_ids(b) if prev is None else ids if b is prev else follow(prev, b, ids)
        ids_a = follow(b, a, ids_b, step.ops)
        sh_b = {n: k for n, k in carried.items() if k in b.netns}
        carried.update(_shares_for(shares, step, a))
        sh_a = {n: k for n, k in carried.items() if k in a.netns}
        names_b = dict(names)
        names.update(_names_in(step))
        g_b = build(b, ids=ids_b, shares=sh_b, names=names_b, memo=kept)
        g_a = build(a, ids=ids_a, shares=sh_a, names=names, memo=kept)
        out.append((g_b, g_a, diff(g_b, g_a)))
        prev, ids = a, ids_a
    return out
