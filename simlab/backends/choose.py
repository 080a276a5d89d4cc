"""Pick a backend, and say why: the kernel when this process can use it (as root, or rootless
in a user namespace of its own), else the model."""

from __future__ import annotations

from ..kernel.access import kernel_privileged
from ..rootless.access import rootless_available
from ..system import missing
from .base import Backend
from .model import ModelBackend
from .rootless import RootlessBackend

__all__ = ["KernelUnavailable", "choose", "kernel_available", "kernel_privileged",
           "rootless_available", "why_in"]


class KernelUnavailable(RuntimeError):
    """``Lab(backend="kernel")`` as root on a machine that lacks a program it runs."""


def kernel_available() -> tuple[bool, str]:
    """Can a kernel lab run here: privileges (root, or user namespaces), and the machine's tools?"""
    ok, reason = kernel_privileged()
    if not ok:
        rootless, why = rootless_available()
        return rootless, (why if rootless else f"{reason}, and {why}")
    lack = missing("kernel")
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
                f"the kernel backend needs root or user namespaces: {reason}. Run as root on "
                "Linux, allow user namespaces (simlab doctor says how), or use Lab(backend='model')."
            )
        return ModelBackend(seed=seed, tunnels=tunnels), "model", f"using the model: {reason}"
    if not kernel_privileged()[0]:
        return RootlessBackend(seed=seed, tunnels=tunnels), "kernel", f"using the kernel: {reason}"
    from ..kernel import KernelBackend  # lazy: pyroute2 is imported only here

    return KernelBackend(seed=seed, tunnels=tunnels), "kernel", f"using the kernel: {reason}"


#: The reasons :func:`choose` gives, in Japanese (a reason not here stays in English).
_WHY_JA = {
    "the model was asked for": "model が指定されました",
    "root with network namespaces and pyroute2": "root で、ネットワーク名前空間と pyroute2 が使えます",
    "not root, in a user namespace of its own (rootless)":
        "root ではなく、自分のユーザー名前空間の中で動きます（rootless）",
    "this system has no Linux network namespaces (not Linux?)":
        "このシステムには Linux のネットワーク名前空間がありません（Linux ではない？）",
    "this process is not root and lacks CAP_NET_ADMIN":
        "このプロセスは root ではなく、CAP_NET_ADMIN もありません",
    "pyroute2 is not installed (pip install pyroute2)":
        "pyroute2 がインストールされていません（pip install pyroute2）",
    "this system has no Linux user namespaces (not Linux?)":
        "このシステムには Linux のユーザー名前空間がありません（Linux ではない？）",
    "unshare is missing: apt-get install util-linux":
        "unshare がありません：apt-get install util-linux",
}
_USING_JA = {"using the model: ": "model を使います：", "using the kernel: ": "kernel を使います："}


def why_in(why: str, lang: str) -> str:
    """:func:`choose`'s reason in ``lang`` ("en": as it is).

    >>> why_in("using the model: this process is not root and lacks CAP_NET_ADMIN", "ja")
    'model を使います：このプロセスは root ではなく、CAP_NET_ADMIN もありません'
    """
    if lang != "ja":
        return why
    head = next((h for h in _USING_JA if why.startswith(h)), "")
    rest = why[len(head):]
    parts = [_WHY_JA.get(p, p) for p in rest.split(", and ")]
    return (_USING_JA[head] if head else "") + "。さらに、".join(parts)
