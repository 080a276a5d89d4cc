"""The kernel backend: simlab's operations on real network namespaces (pyroute2).

``from simlab.kernel import KernelBackend`` imports pyroute2; the submodules
that do not need it (:mod:`~simlab.kernel.names`, :mod:`~simlab.kernel.netns`,
used by ``simlab clean``; :mod:`~simlab.kernel.access`, asked by ``Lab()``) can be
imported without it.  The layout is in ARCHITECTURE.md ("Inside the kernel backend").
"""

from __future__ import annotations

from .names import NETNS_DIR, RUN_DIR, LabNames, new_lab_id

__all__ = ["KernelBackend", "LabNames", "new_lab_id", "NETNS_DIR", "RUN_DIR", "HIDDEN_SYSCTLS"]


def __getattr__(name: str):
    if name == "KernelBackend":
        from .backend import KernelBackend  # lazy: pyroute2

        return KernelBackend
    if name == "HIDDEN_SYSCTLS":
        from .spaces import HIDDEN_SYSCTLS  # lazy: pyroute2

        return HIDDEN_SYSCTLS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
