"""Pick a backend, and say why: the kernel when this process can use it, else the model."""

from __future__ import annotations

from ..kernel.access import kernel_privileged
from ..system import missing
from .base import Backend
from .model import ModelBackend

__all__ = ["KernelUnavailable", "choose", "kernel_available", "kernel_privileged"]


class KernelUnavailable(RuntimeError):
    """``Lab(backend="kernel")`` as root on a machine that lacks a program it runs."""


def kernel_available() -> tuple[bool, str]:
    """Can a kernel lab run here: privileges, and the machine's tools it runs (ip, iptables...)?"""
    ok, reason = kernel_privileged()
    lack = missing("kernel") if ok else []
    if lack:
        return False, "; ".join(n.advice() for n in lack)
    return ok, reason


def choose(
    backend: str, *, seed: int = 0, tunnels: tuple[str, ...] = ()
) -> tuple[Backend, str, str]:
    """Return (backend object, name, why)."""
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
    from ..kernel import KernelBackend  # lazy: pyroute2 is imported only here

    return KernelBackend(seed=seed, tunnels=tunnels), "kernel", f"using the kernel: {reason}"
