"""The kernel backend for a user who is not root: the lab lives in a user namespace it owns.

A Jupyter kernel has threads, and a process with threads can neither create
nor join a user namespace.  So :class:`RootlessBackend` starts one
single-threaded process inside fresh user, network and mount namespaces
(:mod:`simlab.rootless.server`, uid 0 there, this user outside) that runs the
ordinary :class:`simlab.kernel.KernelBackend`, and forwards every contract
method to it over a socket pair (pickled values: operations and snapshots are
frozen dataclasses).  About 40 µs a call, small beside netlink's own cost.

- The machine is never changed: the lab's ``/run/netns``, ``/run/simlab`` and
  ``/var/lib/cni`` are mounts in its own mount namespace.
- Another user cannot see or enter the lab (the user namespace belongs to this uid).
- Processes the lab runs (CNI plugins, ``nsenter``) enter it first with
  ``capabilities.enter_prefix`` (``nsenter --preserve-credentials -U -m -t <server>``).
- Nothing outlives it: the server exits on EOF (``close()``, or this process
  died, even by SIGKILL), and the namespaces die with their last process, so
  ``simlab clean`` has nothing to do for a rootless lab.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection

from ..kernel.names import LabNames
from ..model import NetState
from ..model.errors import NetError
from ..model.ops import Op
from ..rootless.access import UNSHARE, rootless_available
from ..system import PATH
from .base import Backend, Capabilities

__all__ = ["RootlessBackend"]


class RootlessBackend(Backend):
    """``KernelBackend`` run by a helper process in a user namespace of this user's own."""

    name = "kernel"
    capabilities = Capabilities(in_process_plugins=False, seeded=False)

    def __init__(self, seed: int = 0, tunnels: tuple[str, ...] = ()):
        ok, reason = rootless_available()
        if not ok:
            raise PermissionError(f"the rootless kernel backend cannot start: {reason}")
        self.seed = seed
        self._lock = threading.RLock()
        self._precheck = True
        self._pid = os.getpid()  # a forked child inherits the object, never the lab
        self._snaps: list[tuple[NetState, int]] = []  # what snapshot() returned, by server token
        ours, theirs = socket.socketpair()
        self._conn = Connection(ours.detach())
        try:
            self._proc = subprocess.Popen(
                [shutil.which("unshare", path=PATH) or "unshare", *UNSHARE, "--",
                 sys.executable, "-m", "simlab.rootless.server", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal stops the caller, not the lab mid-step
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
        finally:
            theirs.close()
        try:
            self.server_pid = self._answer()
            opened = self._call("open", seed, tuple(tunnels))
        except BaseException:
            self._stop()
            raise
        self.lab_id: str = opened["lab_id"]
        self.tunnels: tuple[str, ...] = opened["tunnels"]
        nsenter = shutil.which("nsenter", path=PATH) or "nsenter"
        self.capabilities = Capabilities(
            in_process_plugins=False,
            seeded=False,
            enter_prefix=(nsenter, "--preserve-credentials", "--user", "--mount",
                          f"--target={self.server_pid}", "--"),
        )

    # ------------------------------------------------------------------ wire
    def _answer(self) -> object:
        try:
            ok, value = self._conn.recv()
        except (EOFError, OSError):
            raise RuntimeError(
                f"the rootless lab's process ended (exit {self._proc.wait()}); see its stderr"
            ) from None
        if not ok:
            raise value
        return value

    def _call(self, method: str, *args: object) -> object:
        with self._lock:
            if self._conn.closed or os.getpid() != self._pid:
                raise NetError("the lab is closed", errno=errno.ESHUTDOWN, exit=1)
            self._conn.send((method, args))
            interrupted = False
            while True:  # the answer must be read, or the next call would get this one's
                try:
                    self._conn.poll(None)  # Ctrl-C / Jupyter's interrupt lands here, not mid-read
                    break
                except KeyboardInterrupt:
                    interrupted = True
                except (EOFError, OSError):
                    break  # _answer says the server is gone
            value = self._answer()
            if interrupted:
                raise KeyboardInterrupt
            return value

    # -------------------------------------------------------------- contract
    def apply_all(self, ops: Sequence[Op]) -> list[object]:
        return self._call("apply_all", list(ops))

    def preflight(self, ops: Sequence[Op]) -> None:
        self._call("preflight", list(ops))

    def snapshot(self) -> NetState:
        """The server's snapshot; the same object as last time when nothing changed."""
        with self._lock:
            have = self._snaps[-1][1] if self._snaps else 0
            token, state = self._call("snapshot", have)
            if state is None:
                return self._snaps[-1][0]
            self._snaps.append((state, token))
            del self._snaps[:-64]
            return state

    def restore(self, snapshot: NetState) -> None:
        found = [token for snap, token in self._snaps if snap is snapshot]
        if found:
            self._call("restore", found[-1])

    def show(self, tool: str, argv: list[str], netns: str) -> str:
        return self._call("show", tool, list(argv), netns)

    def netns_path(self, key: str) -> str:
        """The path inside the lab's mount namespace (enter it with ``enter_prefix`` first)."""
        return self._call("netns_path", key)

    def watch_sysctl(self, netns: str, key: str) -> None:
        self._call("watch_sysctl", netns, key)

    def netns_key(self, name: str) -> str | None:
        """Told here, as the server's KernelBackend would (it also works once the lab is closed)."""
        return LabNames(self.lab_id).key_of(name)

    @property
    def precheck(self) -> bool:
        """KernelBackend's switch: try a multi-operation batch on the model first."""
        return self._precheck

    @precheck.setter
    def precheck(self, value: bool) -> None:
        self._call("setattr", "precheck", bool(value))
        self._precheck = bool(value)

    def close(self) -> None:
        """Remove the lab: the server closes its KernelBackend and exits."""
        if os.getpid() != self._pid:
            return
        try:
            if not self._conn.closed:
                self._call("close")
        except (RuntimeError, OSError, EOFError):
            pass
        finally:
            self._stop()

    def _stop(self) -> None:
        if not self._conn.closed:
            self._conn.close()  # EOF: the server ends, and its namespaces with it
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __repr__(self) -> str:
        return f"<RootlessBackend lab {self.lab_id}, server pid {self.server_pid}>"
