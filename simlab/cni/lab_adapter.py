"""Putting CNI calls on a lab's timeline (the lab is duck-typed: ``apply``, ``step``,
``snapshot``, ``backend``, ``capabilities``; nothing here imports :mod:`simlab.lab`).

:func:`runtime_for_lab` gives a :class:`~simlab.cni.Runtime` whose plugin
steps become steps of ``lab.timeline`` (title ``simlab-bridge ADD:
setupVeth``, the why in English and Japanese, ``mirrors="bridge.go:
setupVeth"``, the operations as `ip` commands, snapshots before and after),
followed by one step per plugin call carrying its env, stdin, stdout and exit
status in ``detail``.

- Model lab: simlab's plugins run in-process; their operations go through
  ``lab.apply`` inside ``lab.step``, so every step has its own before/after.
- Kernel lab: plugins run as processes in the node namespace
  (``exec_prefix``); their steps arrive afterwards through the trace file, so
  they are recorded with their operations but share one before/after pair.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from .runtime import Runtime
from .trace import Invocation, StepRecord

__all__ = ["runtime_for_lab", "LabRecorder"]


class _LabBackend:
    """The lab's backend as the plugin sees it: every operation goes through ``lab.apply``."""

    def __init__(self, lab):
        self.lab = lab
        self.name = lab.backend
        self.capabilities = lab.capabilities

    def apply(self, op) -> None:
        self.lab.apply(op)

    def snapshot(self):
        return self.lab.snapshot()

    def show(self, tool, argv, netns):
        return None

    def close(self) -> None:
        pass


class LabRecorder:
    """Opens a lab step around each in-process plugin step; replays steps of plugin processes."""

    wants_snapshots = False

    def __init__(self, lab):
        self.lab = lab
        self._live: set[int] = set()

    @contextlib.contextmanager
    def step_context(self, rec: StepRecord):
        self._live.add(id(rec))
        title = {k: f"{rec.plugin} {rec.command}: {rec.title}" for k in ("en", "ja")}
        with self.lab.step(
            title, dict(rec.why), mirrors=rec.mirrors, actor=f"cni:{rec.plugin}", detail=rec.detail
        ):
            yield

    def record(self, item) -> None:
        if isinstance(item, StepRecord) and id(item) not in self._live:
            # From a plugin process: the operations already happened.
            _watch_sysctls(self.lab, item.ops)
            title = {k: f"{item.plugin} {item.command}: {item.title}" for k in ("en", "ja")}
            with self.lab.step(
                title,
                dict(item.why),
                mirrors=item.mirrors,
                actor=f"cni:{item.plugin}",
                detail=item.detail,
            ) as group:
                group.extend(item.ops)
        self._live.discard(id(item))

    def invocation(self, inv: Invocation) -> None:
        detail = inv.to_dict()
        detail.pop("steps", None)
        title = {
            "en": f"CNI {inv.command} {inv.plugin}: exit {inv.exit}",
            "ja": f"CNI {inv.command} {inv.plugin}: 終了コード {inv.exit}",
        }
        why = {
            "en": "What the runtime gave the plugin (env, stdin) and what it answered "
            "(stdout, exit status).",
            "ja": "ランタイムがプラグインに渡したもの(環境変数・stdin)と、"
            "その答え(stdout・終了コード)。",
        }
        with self.lab.step(
            title,
            why,
            mirrors="libcni/api.go: AddNetworkList" if inv.command == "ADD" else "",
            actor=f"cni:{inv.plugin}",
            detail=detail,
        ):
            pass


def _watch_sysctls(lab, ops) -> None:
    """Have the lab read back the sysctls a plugin process set (a kernel backend reads only
    those its own operations set, and ip_forward)."""
    for op in ops:
        if type(op).__name__ == "SysctlSet":
            lab.watch_sysctl(op.netns, op.key)


def runtime_for_lab(
    lab, cni_path: Sequence[str] = (), *, exec_prefix: Sequence[str] = (), **kw
) -> Runtime:
    """A runtime whose plugin calls and steps land on ``lab.timeline``."""
    rec = LabRecorder(lab)
    backend = _LabBackend(lab) if lab.capabilities.in_process_plugins else None
    return Runtime(
        cni_path,
        backend=backend,
        recorder=rec,
        on_invoke=rec.invocation,
        exec_prefix=exec_prefix,
        **kw,
    )
