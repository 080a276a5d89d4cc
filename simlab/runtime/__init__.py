"""Container runtimes on the lab's node: a small docker engine (``lab.docker``).

They turn a runtime's actions (``docker run --net bridge``) into the kernel
steps it makes, as operations applied through the lab, one recorded step each.
Submodules are imported when used, so ``import simlab`` stays light.
"""

from __future__ import annotations

__all__ = ["DockerEngine", "Container", "DockerError"]


def __getattr__(name: str):
    if name in __all__:
        from . import docker

        return getattr(docker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
