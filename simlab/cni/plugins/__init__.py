"""simlab's teaching plugins: ``simlab-bridge`` and ``simlab-host-local``.

Both are real executables (console scripts, or ``python -m
simlab.cni.plugins.bridge`` / ``python -m simlab.cni.plugins.host_local``)
and can also run in-process on the lab's model.  :data:`IN_PROCESS` maps a
config ``type`` to the in-process runner used by :class:`simlab.cni.Runtime`
and by the bridge when it delegates to its IPAM plugin on the model.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["IN_PROCESS", "run_in_process"]


def _bridge(env, stdin, parent):
    from . import bridge

    return bridge.run(
        env,
        stdin,
        backend=parent.backend,
        recorder=parent.recorder,
        netns_paths=parent.netns_paths,
        in_process=parent.in_process,
    )


def _host_local(env, stdin, parent):
    from . import host_local

    return host_local.run(
        env,
        stdin,
        backend=parent.backend,
        recorder=parent.recorder,
        netns_paths=parent.netns_paths,
        in_process=parent.in_process,
    )


#: type -> runner(env, stdin, parent session) -> (exit, stdout, stderr)
IN_PROCESS: dict[str, Callable] = {"simlab-bridge": _bridge, "simlab-host-local": _host_local}


def run_in_process(
    plugin_type: str, env, stdin, *, backend=None, recorder=None, netns_paths=None, in_process=None
) -> tuple[int, str, str]:
    """Run one of simlab's plugins in-process: ``(exit, stdout, stderr)``."""
    from ..netlink import Session

    parent = Session(
        backend=backend,
        recorder=recorder,
        netns_paths=dict(netns_paths or {}),
        in_process=IN_PROCESS if in_process is None else in_process,
    )
    return IN_PROCESS[plugin_type](env, stdin, parent)
