"""The process that owns a rootless lab: ``python -m simlab.rootless.server FD``.

Started by :class:`simlab.backends.rootless.RootlessBackend` as
``unshare --user --map-root-user --net --mount --propagation private -- python -m
simlab.rootless.server FD``: inside, it is uid 0 with every capability over its
own user, network and mount namespaces, and over nothing of the machine's.

It mounts a tmpfs on ``/run`` (``/run/netns`` and ``/run/simlab`` of this lab
only, and iptables' lock file) and an overlay on ``/var/lib`` (host-local's
default ``dataDir``, ``/var/lib/cni/networks``, writable and gone with the
lab), then runs :class:`simlab.kernel.KernelBackend` and answers its calls:
each request is a pickled ``(method, args)``, each answer ``(ok, value)``.

It exits on EOF (the backend closed, or its process died): the lab's
namespaces die with the last process in them, so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from multiprocessing.connection import Connection

from ..kernel import KernelBackend

__all__ = ["main", "private_mounts"]

_MS_NOSUID, _MS_NODEV = 2, 4
#: Snapshots a client may still hand back to restore() (as KernelBackend keeps marks).
_KEEP = 64


def _mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(source.encode(), target.encode(), fstype.encode(), flags, data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def private_mounts() -> None:
    """This lab's own ``/run`` (netns mounts, simlab's run dir, xtables lock) and ``/var/lib``."""
    _mount("tmpfs", "/run", "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=755")
    for d in ("/run/netns", "/run/simlab", "/run/simlab-var/upper", "/run/simlab-var/work"):
        os.makedirs(d, mode=0o755, exist_ok=True)
    # host-local's default dataDir: the machine's /var/lib shows through, writes stay here.
    with contextlib.suppress(OSError):  # no overlayfs in user namespaces: set dataDir yourself
        _mount(
            "overlay",
            "/var/lib",
            "overlay",
            0,
            "lowerdir=/var/lib,upperdir=/run/simlab-var/upper,workdir=/run/simlab-var/work",
        )


class _Server:
    """One KernelBackend and the snapshots its client holds, by token (identity does not pickle)."""

    def __init__(self) -> None:
        self.kb = None
        self.snaps: dict[int, object] = {}
        self.token = 0

    def open(self, seed: int, tunnels: tuple[str, ...]) -> dict:
        self.kb = KernelBackend(seed=seed, tunnels=tunnels)
        return {"lab_id": self.kb.lab_id, "tunnels": self.kb.tunnels}

    def snapshot(self, have: int) -> tuple[int, object]:
        """(token, state); state is None when the client already holds it (token ``have``)."""
        state = self.kb.snapshot()
        last = self.snaps.get(self.token)
        if last is not state:
            self.token += 1
            self.snaps[self.token] = state
            for old in [t for t in self.snaps if t <= self.token - _KEEP]:
                del self.snaps[old]
        return self.token, (None if self.token == have else state)

    def restore(self, token: int) -> None:
        state = self.snaps.get(token)
        if state is not None:
            self.kb.restore(state)

    def setattr(self, name: str, value: object) -> None:
        if name not in ("precheck",):
            raise AttributeError(f"{name} cannot be set on a rootless lab")
        setattr(self.kb, name, value)

    def call(self, method: str, args: tuple) -> object:
        own = getattr(self, method, None)
        if own is not None and method in ("open", "snapshot", "restore", "setattr"):
            return own(*args)
        if method not in ("apply_all", "preflight", "show", "netns_path", "netns_key",
                          "watch_sysctl", "close"):
            raise AttributeError(f"not a backend method: {method}")
        return getattr(self.kb, method)(*args)


def serve(conn: Connection) -> None:
    server = _Server()
    try:
        while True:
            try:
                method, args = conn.recv()
            except (EOFError, OSError):
                return
            try:
                answer = (True, server.call(method, args))
            except BaseException as err:  # the client raises it again
                answer = (False, err)
            try:
                conn.send(answer)
            except (TypeError, AttributeError, ValueError) as err:  # an unpicklable error
                conn.send((False, RuntimeError(f"{answer[1]!r} ({err})")))
            if method == "close":
                return
    finally:
        if server.kb is not None:
            server.kb.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    conn = Connection(int(argv[0]))
    try:
        private_mounts()
    except OSError as err:
        with contextlib.suppress(OSError):
            conn.send((False, err))
        return 1
    conn.send((True, os.getpid()))
    serve(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
