"""Network namespaces made, entered and removed without forking.

Kernel facts and the pitfall this module is built around:
- ``setns(2)``/``unshare(CLONE_NEWNET)`` change the namespace of the calling
  *thread* only, and a socket belongs for life to the namespace its creator was
  in.  pyroute2 0.9 opens its sockets in its own event loop, so switching a
  thread and then calling ``IPRoute()`` does not bind anything.  Here every
  socket is created by one dedicated thread (:class:`NsThread`) right after it
  entered the target namespace, and that thread checks the namespace it is in
  (inode of ``/proc/thread-self/ns/net``) before it creates anything.
- The thread's *home* is the lab's node, never the machine's namespace: if
  anything ever ran there by mistake, it would land in the lab's node.
- A namespace lives while something references it: a bind mount of its nsfs
  file, an open fd, a socket, a process.  Removing a namespace means closing
  our sockets in it and unmounting its file; the kernel then frees it
  asynchronously (``cleanup_net``).
- ``/proc/sys/net`` shows the namespace of the *thread* that opens the file,
  so per-namespace sysctls are read and written from :class:`NsThread` too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import queue
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["CLONE_NEWNET", "NsThread", "bind_mount", "unmount", "ns_inode", "netns_socket"]

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_EXT_ACK = 11
NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

T = TypeVar("T")


def _check(ret: int, what: str, path: str | None = None) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", path)


def bind_mount(source: str, target: str) -> None:
    _check(
        _libc.mount(source.encode(), target.encode(), b"none", MS_BIND, None),
        "mount --bind",
        target,
    )


def unmount(path: str) -> bool:
    """Lazily unmount ``path``; False if it was not mounted (or is gone)."""
    if _libc.umount2(path.encode(), MNT_DETACH) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return False
    raise OSError(err, f"umount {path}: {os.strerror(err)}", path)


def ns_inode(path: str = "/proc/thread-self/ns/net") -> int:
    return os.stat(path).st_ino


def netns_socket(proto: int = NETLINK_ROUTE, groups: int = 0) -> socket.socket:
    """A netlink socket in the calling thread's namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        sock.bind((0, groups))
    except OSError:
        sock.close()
        raise
    return sock


class NsThread:
    """One thread that enters namespaces for the lab: creation, sockets, sysctls.

    ``call(fn, ...)`` runs ``fn`` on the thread and returns its result (or
    raises its exception).  ``forbidden`` is the inode of the machine's own
    namespace: :meth:`enter` refuses to land there.
    """

    def __init__(self, forbidden: int | None, name: str = "simlab-netns"):
        self.forbidden = forbidden
        self.home_fd: int | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ----------------------------------------------------------- plumbing
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            fn, args, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as err:  # handed to the caller
                future.set_exception(err)
        if self.home_fd is not None:
            os.close(self.home_fd)
            self.home_fd = None

    def submit(self, fn: Callable[..., T], *args) -> Future:
        """Run ``fn`` on the thread; its result (or exception) comes in the Future."""
        if not self._thread.is_alive():
            raise RuntimeError("the lab's namespace thread has stopped")
        future: Future = Future()
        self._queue.put((fn, args, future))
        return future

    def call(self, fn: Callable[..., T], *args) -> T:
        if threading.current_thread() is self._thread:
            return fn(*args)
        return self.submit(fn, *args).result()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            if threading.current_thread() is not self._thread:
                self._thread.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # ------------------------------------------------ on the thread only
    def _assert_safe(self) -> None:
        if self.forbidden is not None and ns_inode() == self.forbidden:
            raise RuntimeError("refusing to act in the machine's own network namespace")

    def enter(self, fd: int) -> None:
        _check(_libc.setns(fd, CLONE_NEWNET), "setns")
        self._assert_safe()

    def go_home(self) -> None:
        if self.home_fd is not None:
            _check(_libc.setns(self.home_fd, CLONE_NEWNET), "setns home")

    def unshare_new(self, path: str, before_mount: Callable[[int, int], None] | None = None) -> None:
        """Enter a brand-new namespace and bind-mount it at ``path`` (which must not exist).

        ``before_mount(dev, ino)`` learns the namespace's identity before the mount exists.
        """
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        self._assert_safe()
        if before_mount is not None:
            st = os.stat("/proc/thread-self/ns/net")
            before_mount(st.st_dev, st.st_ino)
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.close(fd)
        try:
            bind_mount("/proc/thread-self/ns/net", path)
        except OSError:
            os.unlink(path)
            raise

    def make_home(self) -> None:
        """Make the namespace the thread is in now its home (the lab's node)."""
        if self.home_fd is not None:
            os.close(self.home_fd)
        self.home_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)

    def inside(self, path: str, fn: Callable[..., T], *args) -> T:
        """Run ``fn`` inside the namespace mounted at ``path``, then go home."""

        def body():
            fd = os.open(path, os.O_RDONLY)
            try:
                self.enter(fd)
            finally:
                os.close(fd)
            try:
                return fn(*args)
            finally:
                self.go_home()

        return self.call(body)


def write_sysctl(key: str, value: str) -> None:
    """Write ``/proc/sys/<key>`` in the calling thread's namespace (``sysctl -w``)."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(value)


def read_sysctl(key: str) -> str:
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return f.read().strip()
