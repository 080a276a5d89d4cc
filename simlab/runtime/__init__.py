"""Container runtimes on the lab's node: a small docker engine (``lab.docker``).

They turn a runtime's actions (``docker run --net bridge``) into the kernel
steps it makes, as operations applied through the lab, one recorded step each.
"""

from __future__ import annotations

from .docker import Container, DockerEngine, DockerError

__all__ = ["DockerEngine", "Container", "DockerError"]
