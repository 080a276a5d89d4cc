"""Can this process build real namespaces?  Asked by the chooser and by the backend itself.

Standard library only (pyroute2 is only looked for), so ``Lab()`` can ask on any machine.
"""

from __future__ import annotations

import os

__all__ = ["kernel_privileged"]


def kernel_privileged() -> tuple[bool, str]:
    """(ok, the reason in one sentence)."""
    if not os.path.exists("/proc/self/ns/net"):
        return False, "this system has no Linux network namespaces (not Linux?)"
    if not _has_net_admin():
        return False, "this process is not root and lacks CAP_NET_ADMIN"
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return False, "pyroute2 is not installed (pip install pyroute2)"
    return True, "root with network namespaces and pyroute2"


def _has_net_admin() -> bool:
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) & (1 << 12))
    except OSError:
        pass
    return False
