"""simlab's teaching plugins: ``simlab-bridge``, ``simlab-host-local`` and ``simlab-ptp``.

All are real executables (console scripts, or ``python -m
simlab.cni.plugins.bridge`` / ``python -m simlab.cni.plugins.host_local``)
and can also run in-process on the lab's model.  :data:`IN_PROCESS` maps a
config ``type`` to the in-process runner used by :class:`simlab.cni.Runtime`
and by the bridge when it delegates to its IPAM plugin on the model;
:func:`runner` makes one for any plugin's functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

from .. import skel
from ..netlink import Session

__all__ = ["IN_PROCESS", "Runner", "dispatch", "caller", "runner", "run_in_process"]

#: ``runner(env, stdin, parent_session) -> (exit, stdout, stderr)``: one in-process plugin call.
Runner = Callable[[Mapping[str, str], bytes, object], tuple[int, str, str]]


def dispatch(
    funcs,
    env,
    stdin,
    *,
    plugin: str = "",
    about: str = "",
    backend=None,
    recorder=None,
    netns_paths=None,
    in_process=None,
) -> tuple[int, str, str]:
    """One call of a plugin's ``skel.Funcs`` in-process against ``backend``.

    ``env`` and ``stdin`` are exactly what the executable would get; the
    result is what it would print: ``(exit, stdout, stderr)``.
    """
    session = Session(
        backend=backend,
        recorder=recorder,
        plugin=plugin,
        netns_paths=dict(netns_paths or {}),
        in_process=IN_PROCESS if in_process is None else in_process,
    )
    return skel.dispatch(env, stdin, funcs, about=about, session=session)


def caller(funcs, *, plugin: str, about: str) -> Callable[..., tuple[int, str, str]]:
    """A plugin module's ``run(env, stdin, **session)``: :func:`dispatch` of its functions.

    ``session`` is ``backend`` (the lab's model), ``recorder``, ``netns_paths``
    and ``in_process``.
    """

    def run(env, stdin, **session) -> tuple[int, str, str]:
        return dispatch(funcs, env, stdin, plugin=plugin, about=about, **session)

    return run


def runner(funcs, *, plugin: str = "", about: str = "") -> Runner:
    """The in-process runner of ``funcs`` (a ``skel.Funcs``, or a module holding ``FUNCS``).

    A module is imported on the first call, so the table below costs nothing
    until a plugin runs.  The runner inherits the caller's backend, recorder,
    namespace paths and in-process table (a delegated IPAM plugin runs like its caller).
    """

    def run(env, stdin, parent) -> tuple[int, str, str]:
        found, name, text = funcs, plugin, about
        if isinstance(found, str):
            module = importlib.import_module(found)
            found, name, text = module.FUNCS, name or module.PLUGIN, text or module.ABOUT
        return dispatch(
            found,
            env,
            stdin,
            plugin=name,
            about=text,
            backend=parent.backend,
            recorder=parent.recorder,
            netns_paths=parent.netns_paths,
            in_process=parent.in_process,
        )

    return run


#: type -> runner(env, stdin, parent session) -> (exit, stdout, stderr)
IN_PROCESS: dict[str, Runner] = {
    "simlab-bridge": runner(f"{__name__}.bridge"),
    "simlab-host-local": runner(f"{__name__}.host_local"),
}


def run_in_process(
    plugin_type: str, env, stdin, *, backend=None, recorder=None, netns_paths=None, in_process=None
) -> tuple[int, str, str]:
    """Run one of simlab's plugins in-process: ``(exit, stdout, stderr)``."""
    parent = Session(
        backend=backend,
        recorder=recorder,
        netns_paths=dict(netns_paths or {}),
        in_process=IN_PROCESS if in_process is None else in_process,
    )
    return IN_PROCESS[plugin_type](env, stdin, parent)
