"""Pick a backend, and say why: the kernel when this process can use it, else the model."""

from __future__ import annotations

import os

from ..system import missing

__all__ = ["KernelUnavailable", "choose", "kernel_available", "kernel_privileged"]


class KernelUnavailable(RuntimeError):
    """``Lab(backend="kernel")`` as root on a machine that lacks a program it runs."""


def kernel_privileged() -> tuple[bool, str]:
    """Can this process build real namespaces?  (ok, reason in one sentence)."""
    if not os.path.exists("/proc/self/ns/net"):
        return False, "this system has no Linux network namespaces (not Linux?)"
    if not _has_net_admin():
        return False, "this process is not root and lacks CAP_NET_ADMIN"
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return False, "pyroute2 is not installed (pip install pyroute2)"
    return True, "root with network namespaces and pyroute2"


def kernel_available() -> tuple[bool, str]:
    """Can a kernel lab run here: privileges, and the machine's tools it runs (ip, iptables...)?"""
    ok, reason = kernel_privileged()
    lack = missing("kernel") if ok else []
    if lack:
        return False, "; ".join(n.advice() for n in lack)
    return ok, reason


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


def choose(backend: str, *, seed: int = 0, tunnels: tuple[str, ...] = ()):
    """Return (backend object, name, why)."""
    from .model import ModelBackend

    if backend == "model":
        return ModelBackend(seed=seed, tunnels=tunnels), "model", "the model was asked for"
    if backend not in ("auto", "kernel"):
        raise ValueError(f"backend must be 'auto', 'model' or 'kernel', not {backend!r}")
    ok, reason = kernel_available()
    if not ok:
        if backend == "kernel" and kernel_privileged()[0]:  # root, but a tool is missing
            raise KernelUnavailable(
                f"the kernel backend cannot start: {reason}. Or use Lab(backend='model')."
            )
        if backend == "kernel":
            raise PermissionError(
                f"the kernel backend needs root: {reason}. Run as root on Linux "
                "(sudo .venv/bin/jupyter lab ...), or use Lab(backend='model')."
            )
        return ModelBackend(seed=seed, tunnels=tunnels), "model", f"using the model: {reason}"
    from .kernel import KernelBackend  # lazy: pyroute2 is imported only here

    return KernelBackend(seed=seed, tunnels=tunnels), "kernel", f"using the kernel: {reason}"
