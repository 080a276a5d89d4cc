"""Backends: the model (pure Python) and the kernel (pyroute2, imported lazily)."""

from .base import Backend
from .model import ModelBackend

__all__ = ["Backend", "ModelBackend"]
