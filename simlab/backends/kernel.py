"""The kernel backend where :mod:`simlab.backends.choose` looks for it (:mod:`simlab.kernel`)."""

from ..kernel import KernelBackend

__all__ = ["KernelBackend"]
