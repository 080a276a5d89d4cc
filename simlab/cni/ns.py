"""Network namespaces by path, as ``pkg/ns`` opens them (plugins ``pkg/ns/ns_linux.go``).

``get_ns(path)`` checks that ``path`` is a namespace (Go: ``statfs`` must report
nsfs or procfs) and returns a :class:`NetNS` whose ``do()`` makes it the
current namespace for the netlink calls in the block.

On the model a path names a namespace key: ``/run/netns/<key>`` or
``/var/run/netns/<key>`` (plus any path the lab registered in the session); a
path that names no namespace of the snapshot does "not exist".  On the kernel
the path is checked with the real ``statfs`` and the session's backend is
attached to it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno as _errno
import os
from collections.abc import Callable, Iterator

from . import netlink as nl

__all__ = [
    "NetNS",
    "get_current_ns",
    "NSPathNotExistErr",
    "NSPathNotNSErr",
    "get_ns",
    "with_net_ns_path",
    "is_ns_or_err",
    "NSFS_MAGIC",
    "PROCFS_MAGIC",
]

NSFS_MAGIC = 0x6E736673
PROCFS_MAGIC = 0x9FA0


class NSPathNotExistErr(Exception):
    """The path does not exist (DEL then treats the attachment as gone)."""


class NSPathNotNSErr(Exception):
    """The path exists but is not a namespace."""


class NetNS:
    """An open namespace: its ``path()`` and the namespace ``key`` the backend knows it by."""

    def __init__(self, path: str, key: str):
        self._path = path
        self.key = key

    def path(self) -> str:
        return self._path

    @contextlib.contextmanager
    def do(self) -> Iterator[NetNS]:
        """Run the block inside this namespace; yields the namespace we came from.

        Go: ``netns.Do(func(hostNS ns.NetNS) error {...})``.
        """
        host = get_current_ns()
        with nl.in_netns(self.key):
            yield host

    def close(self) -> None:
        pass


# mirrors ns_linux.go: GetCurrentNS
def get_current_ns() -> NetNS:
    """The namespace the calling code is in now (Go: ``ns.GetCurrentNS``)."""
    key = nl.current_netns()
    s = nl.current()
    path = s.attached.get(key) or ("/proc/self/ns/net" if key == "" else f"/run/netns/{key}")
    return NetNS(path, key)


def _statfs_type(path: str) -> int:
    """f_type of statfs(2); raises OSError like the syscall."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    buf = ctypes.create_string_buffer(
        256
    )  # struct statfs is 120 bytes on x86_64; f_type comes first
    if libc.statfs(os.fsencode(path), buf) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)
    return ctypes.c_long.from_buffer(buf).value


# mirrors ns_linux.go: IsNSorErr
def is_ns_or_err(nspath: str) -> None:
    s = nl.current()
    if s.in_memory:
        key = nl.netns_key_for_path(nspath, s.netns_paths)
        if key is None or key not in s.snapshot().netns:
            raise NSPathNotExistErr(f'failed to Statfs "{nspath}": no such file or directory')
        return
    try:
        fstype = _statfs_type(nspath)
    except OSError as err:
        text = nl.errno_text(err.errno or _errno.EIO)
        if err.errno == _errno.ENOENT:
            raise NSPathNotExistErr(f'failed to Statfs "{nspath}": {text}') from None
        raise OSError(f'failed to Statfs "{nspath}": {text}') from None
    if fstype not in (PROCFS_MAGIC, NSFS_MAGIC):
        raise NSPathNotNSErr(f'unknown FS magic on "{nspath}": {fstype:x}')


def _kernel_key(nspath: str) -> str:
    key = nl.netns_key_for_path(nspath)
    return key if key is not None else "cni-netns"


# mirrors ns_linux.go: GetNS
def get_ns(nspath: str) -> NetNS:
    is_ns_or_err(nspath)
    s = nl.current()
    if s.in_memory:
        return NetNS(nspath, nl.netns_key_for_path(nspath, s.netns_paths) or "")
    key = _kernel_key(nspath)
    s.attach_netns(key, nspath)
    return NetNS(nspath, key)


# mirrors ns_linux.go: WithNetNSPath
def with_net_ns_path(nspath: str, to_run: Callable[[NetNS], None]) -> None:
    netns = get_ns(nspath)
    try:
        with netns.do():
            to_run(netns)
    finally:
        netns.close()
