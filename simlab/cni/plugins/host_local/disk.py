"""host-local's on-disk store (``backend/disk/backend.go``, ``lock.go``).

Directory ``<dataDir>/<network name>/`` (mode 0755) holding

- one file per reserved address, named by the address, containing
  ``<containerID>\\r\\n<ifname>`` (no trailing newline), created with
  ``O_CREAT|O_EXCL`` so two callers can never both get it (mode 0644);
- ``last_reserved_ip.<i>`` per range set: the last address handed out;
- ``lock``: an empty file held with ``flock(LOCK_EX)`` around every
  allocation and release, so concurrent ADDs (processes *or* threads: flock
  locks belong to the open file, not the process) never race.
"""

from __future__ import annotations

import bisect
import fcntl
import ipaddress
import os

__all__ = ["Store", "FileLock", "LINE_BREAK", "DEFAULT_DATA_DIR", "get_escaped_path"]

LAST_IP_FILE_PREFIX = "last_reserved_ip."
LINE_BREAK = "\r\n"
DEFAULT_DATA_DIR = "/var/lib/cni/networks"


class FileLock:
    """An flock(2) lock on ``<dir>/lock``."""

    # mirrors lock.go: NewFileLock
    def __init__(self, path: str):
        if os.path.isdir(path):
            path = os.path.join(path, "lock")
        # mode 0750, as Debian's build leaves it
        self.fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o750)

    # mirrors lock.go: Close
    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # mirrors lock.go: Lock
    def lock(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    # mirrors lock.go: Unlock
    def unlock(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)


class Store:
    """The per-network directory of reservations."""

    # mirrors backend.go: New
    def __init__(self, network: str, data_dir: str = ""):
        self.data_dir = os.path.join(data_dir or DEFAULT_DATA_DIR, network)
        os.makedirs(self.data_dir, mode=0o755, exist_ok=True)
        self.lk = FileLock(self.data_dir)

    def lock(self) -> None:
        self.lk.lock()

    def unlock(self) -> None:
        self.lk.unlock()

    def close(self) -> None:
        self.lk.close()

    # mirrors backend.go: Reserve
    def reserve(self, id: str, ifname: str, ip, range_id: str) -> bool:
        fname = get_escaped_path(self.data_dir, str(ip))
        before = _version(self.data_dir)
        try:
            fd = os.open(fname, os.O_RDWR | os.O_EXCL | os.O_CREAT, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, (id.strip() + LINE_BREAK + ifname).encode())
        except OSError:
            os.close(fd)
            os.remove(fname)
            raise
        os.close(fd)
        data = id.strip() + LINE_BREAK + ifname
        _LISTINGS.created(self.data_dir, before, os.path.basename(fname), data)
        # store the reserved ip in lastIPFile
        ipfile = get_escaped_path(self.data_dir, LAST_IP_FILE_PREFIX + range_id)
        with open(ipfile, "w", encoding="ascii") as f:
            f.write(str(ip))
        return True

    # mirrors backend.go: LastReservedIP
    def last_reserved_ip(self, range_id: str) -> str:
        ipfile = get_escaped_path(self.data_dir, LAST_IP_FILE_PREFIX + range_id)
        with open(ipfile, encoding="ascii", errors="replace") as f:
            return f.read()

    def _walk(self):
        """filepath.Walk order: names sorted; unreadable files skipped."""
        for name, data in _LISTINGS.files(self.data_dir):
            path = os.path.join(self.data_dir, name)
            if data is None:  # rewritten in place (last_reserved_ip.*): read it every time
                try:
                    with open(path, "rb") as f:
                        data = f.read().decode("utf-8", "replace")
                except OSError:
                    continue
            yield name, path, data

    # mirrors backend.go: FindByKey
    def find_by_key(self, id: str, ifname: str, match: str) -> bool:
        return any(data.strip() == match for _, _, data in self._walk())

    # mirrors backend.go: FindByID
    def find_by_id(self, id: str, ifname: str) -> bool:
        self.lock()
        try:
            match = id.strip() + LINE_BREAK + ifname
            found = self.find_by_key(id, ifname, match)
            # Match anything created by this id
            if not found:
                found = self.find_by_key(id, ifname, id.strip())
            return found
        finally:
            self.unlock()

    # mirrors backend.go: ReleaseByKey
    def release_by_key(self, id: str, ifname: str, match: str) -> bool:
        found = False
        for _, path, data in list(self._walk()):
            if data.strip() == match:
                try:
                    os.remove(path)
                except OSError:
                    continue
                found = True
        return found

    # mirrors backend.go: ReleaseByID
    def release_by_id(self, id: str, ifname: str) -> None:
        """Delete every reservation of (id, ifname); never fails on what is already gone."""
        match = id.strip() + LINE_BREAK + ifname
        found = self.release_by_key(id, ifname, match)
        # For backwards compatibility, look for files written by a previous version
        if not found:
            self.release_by_key(id, ifname, id.strip())

    # simlab: the store GC proposed upstream for plugins issue #1047 (in no release yet)
    def gc(self, valid: set[tuple[str, str]]) -> list[str]:
        """Release every reservation whose (container id, ifname) is not in ``valid``.

        A reservation written before ifname was recorded (just the id) is kept
        if any valid attachment has that id, as ``ReleaseByID`` matches it.
        ``lock`` and ``last_reserved_ip.*`` are bookkeeping, not reservations.
        Returns the addresses released.
        """
        valid_ids = {cid.strip() for cid, _ in valid}
        keep = {cid.strip() + LINE_BREAK + ifname for cid, ifname in valid}
        released = []
        self.lock()
        try:
            for name, path, data in list(self._walk()):
                try:
                    ipaddress.ip_address(name)
                except ValueError:
                    continue
                owner = data.strip()
                if owner in keep or (LINE_BREAK not in owner and owner in valid_ids):
                    continue
                try:
                    os.remove(path)
                except FileNotFoundError:
                    continue
                released.append(name)
        finally:
            self.unlock()
        return released

    # mirrors backend.go: GetByID
    def get_by_id(self, id: str, ifname: str) -> list[str]:
        match = id.strip() + LINE_BREAK + ifname
        match_old = id.strip()
        out = []
        # The walk, through the index of the files' contents (an ADD must not cost
        # a read of every reservation: that made a node's n-th pod cost O(n)).
        for name in _LISTINGS.named(self.data_dir, (match, match_old)):
            try:
                ipaddress.ip_address(name)
            except ValueError:
                continue
            out.append(name)
        return out


# mirrors backend.go: GetEscapedPath
def get_escaped_path(data_dir: str, fname: str) -> str:
    return os.path.join(data_dir, fname)


class _Listing:
    __slots__ = ("mtime", "files", "index", "fresh")

    def __init__(self, mtime: tuple, files: list, fresh: list[str]):
        self.mtime = mtime
        self.files = files  # sorted [(name, data, or None: read it afresh)]
        self.index: dict[str, list[str]] | None = None  # stripped data -> sorted names
        self.fresh = fresh  # the names read afresh


class _Listings:
    """What the store's directories hold, read once per directory version.

    A reservation file is written once (``O_EXCL``) and only ever removed, so its
    content is kept while the directory's mtime says no file came or went; files
    rewritten in place (``last_reserved_ip.*``) are read afresh every time.  A
    reservation this process makes updates the kept listing, when the directory
    had not changed since it was read (an ADD must not read every reservation:
    that made a node's n-th pod cost O(n) on the model).
    """

    def __init__(self) -> None:
        self._dirs: dict[str, _Listing] = {}

    def _current(self, data_dir: str) -> _Listing:
        mtime = _version(data_dir)
        kept = self._dirs.get(data_dir)
        if kept is not None and kept.mtime == mtime:
            return kept
        files, fresh = [], []
        for name in sorted(os.listdir(data_dir)):
            path = os.path.join(data_dir, name)
            if os.path.isdir(path):
                continue
            if name.startswith(LAST_IP_FILE_PREFIX):
                files.append((name, None))
                fresh.append(name)
                continue
            try:
                with open(path, "rb") as f:
                    files.append((name, f.read().decode("utf-8", "replace")))
            except OSError:
                continue
        kept = self._dirs[data_dir] = _Listing(mtime, files, fresh)
        return kept

    def files(self, data_dir: str) -> list[tuple[str, str | None]]:
        return self._current(data_dir).files

    def named(self, data_dir: str, matches: tuple[str, ...]) -> list[str]:
        """The names of the files whose stripped content is one of ``matches``, in walk order."""
        kept = self._current(data_dir)
        if kept.index is None:
            kept.index = {}
            for name, data in kept.files:
                if data is not None:
                    kept.index.setdefault(data.strip(), []).append(name)
        found: list[str] = []
        for match in dict.fromkeys(matches):
            found += kept.index.get(match, ())
        for name in kept.fresh:
            try:
                with open(os.path.join(data_dir, name), "rb") as f:
                    if f.read().decode("utf-8", "replace").strip() in matches:
                        found.append(name)
            except OSError:
                continue
        return sorted(found)

    def created(self, data_dir: str, before: tuple, name: str, data: str) -> None:
        """This process made ``name`` in a directory whose mtime was ``before``."""
        kept = self._dirs.get(data_dir)
        if kept is None:
            return
        if kept.mtime != before:
            del self._dirs[data_dir]  # changed since it was read: read it again when asked
            return
        kept.mtime = _version(data_dir)
        bisect.insort(kept.files, (name, data))
        if kept.index is not None:
            bisect.insort(kept.index.setdefault(data.strip(), []), name)


def _version(data_dir: str) -> tuple:
    """What changes when a file comes or goes (mtime; size too, as timestamps are coarse)."""
    st = os.stat(data_dir)
    return st.st_mtime_ns, st.st_size, st.st_ino


_LISTINGS = _Listings()
