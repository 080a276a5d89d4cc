"""What a kernel lab created, on disk, so that ``simlab clean`` can undo a crash.

One file per lab, ``/run/simlab/ledger/<id>.json``, holds the lab's pid (for
people: it is the pid as the lab's own PID namespace sees it) and every
object the lab creates outside its own memory: namespace mounts (the links
live inside the namespaces and die with them) and its run directory.  It is
JSON lines, appended to: a header line, then ``{"add": ...}`` written
*before* an object is created, ``{"made": ...}`` with a namespace's nsfs device and
inode before it is mounted, and ``{"remove": path}`` after it is removed,
so after a SIGKILL the ledger lists at least everything that exists (an
append costs the same for the 1st namespace and the 1000th).

A live lab holds an exclusive ``flock`` on its ledger from before the file
appears under its name until the process ends (the kernel drops it at exit,
SIGKILL included).  That lock, not the pid, is what tells ``clean`` a lab is
alive: a pid means nothing in another PID namespace or once it is reused.

:func:`clean` removes, for labs whose process is gone, exactly the paths their
ledgers list, and only paths of the two shapes a lab creates
(``/run/netns/sl<id>-<key>`` and ``/run/simlab/<id>/...``): never by pattern,
never another lab's, never a live lab's.  A name of the right shape is not proof (lab
``ack`` makes ``slack-*``, a VPN may be ``slack-vpn``): a mount is detached only if it is
the namespace the ledger identified.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from dataclasses import dataclass, field

from .kernel.names import NETNS_DIR, RUN_DIR
from .kernel.netns import unmount

__all__ = [
    "LEDGER_DIR",
    "Ledger",
    "CleanReport",
    "clean",
    "held",
    "pid_alive",
    "process_start",
    "read_ledger",
]

LEDGER_DIR = "/run/simlab/ledger"


def process_start(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def pid_alive(pid: int, start: int | None) -> bool:
    now = process_start(pid)
    return now is not None and (start is None or now == start)


def held(path: str) -> bool:
    """Whether a live lab holds the ledger at ``path`` (its lock, see the module's doc)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock taken just now
    return False


class Ledger:
    """The ledger of one live lab."""

    def __init__(self, lab_id: str, directory: str = LEDGER_DIR):
        self.lab_id = lab_id
        self.directory = directory
        self.path = os.path.join(directory, f"{lab_id}.json")
        self.entries: list[dict] = []
        self.pid = os.getpid()
        self.start = process_start(self.pid)
        self._fd: int | None = None

    @classmethod
    def create(cls, lab_id: str, directory: str = LEDGER_DIR) -> Ledger:
        """Claim ``lab_id``: FileExistsError if another lab holds it."""
        ledger = cls(lab_id, directory)
        # Written and locked under a name clean does not read, then linked into place: the
        # ledger is never seen unlocked or empty (link, like O_EXCL, fails if the id is taken).
        draft = ledger.path + f".{ledger.pid}.draft"
        for attempt in range(20):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            try:
                fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                break
            except FileNotFoundError:  # another lab removed the empty directory just now
                if attempt == 19:
                    raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, (json.dumps({"id": lab_id, "pid": ledger.pid, "start": ledger.start})
                          + "\n").encode())
            os.link(draft, ledger.path)
        except BaseException:
            os.close(fd)
            raise
        finally:
            os.unlink(draft)
        ledger._fd = fd
        return ledger

    def _append(self, record: dict) -> None:
        if self._fd is None:
            raise RuntimeError("this ledger is closed")
        os.write(self._fd, (json.dumps(record) + "\n").encode())

    def add(self, kind: str, path: str) -> None:
        """Record ``path`` *before* creating it (kind: "netns" mount or "dir")."""
        self.entries.append({"kind": kind, "path": path})
        self._append({"add": {"kind": kind, "path": path}})

    def identify(self, path: str, dev: int, ino: int) -> None:
        """Record which namespace goes to ``path`` (nsfs device and inode), before it is
        mounted there: clean unmounts only the very namespace the lab made."""
        self._append({"made": {"path": path, "dev": dev, "ino": ino}})

    def remove(self, path: str) -> None:
        """Forget ``path`` after it was removed."""
        self.entries = [e for e in self.entries if e["path"] != path]
        self._append({"remove": path})

    def discard(self) -> None:
        """The lab is gone and left nothing: remove the ledger file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        _rmdir_if_empty(self.directory)
        _rmdir_if_empty(os.path.dirname(self.directory))


def read_ledger(path: str) -> dict:
    """A ledger file replayed: ``{"id", "pid", "start", "created": [entries]}``.

    Raises ValueError for anything but a ledger simlab wrote, except that a last line cut
    off (a crash while writing it) is ignored: the lines before it still list what exists.
    """
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    raw = text.split("\n")
    torn = raw.pop()  # "" when the file ends with a newline, as every complete write does
    lines = [_record(line) for line in raw if line.strip()]
    if torn.strip():
        try:
            lines.append(_record(torn))
        except ValueError:
            pass  # the torn last line: what it would have added was never created
    if not lines or not isinstance(lines[0].get("id"), str):
        raise ValueError("no header line")
    head = lines[0]
    if not isinstance(head.get("pid"), int) or not 0 < head["pid"] < 1 << 22:
        raise ValueError(f"bad pid {head.get('pid')!r}")
    if head.get("start") is not None and not isinstance(head["start"], int):
        raise ValueError(f"bad start {head['start']!r}")  # would make a live lab look dead
    data = dict(head)
    created: list[dict] = []
    for record in lines[1:]:
        if "add" in record:
            entry = record["add"]
            if not (isinstance(entry, dict) and isinstance(entry.get("kind"), str)
                    and isinstance(entry.get("path"), str)):
                raise ValueError(f"malformed entry {entry!r}")
            created.append({"kind": entry["kind"], "path": entry["path"]})
        elif "made" in record:
            made = record["made"]
            if not (isinstance(made, dict) and isinstance(made.get("path"), str)
                    and all(_small_int(made.get(k)) for k in ("dev", "ino"))):
                raise ValueError(f"malformed identity {made!r}")
            for e in created:
                if e["path"] == made["path"]:
                    e["dev"], e["ino"] = made["dev"], made["ino"]
        elif "remove" in record:
            created = [e for e in created if e["path"] != record["remove"]]
    data["created"] = created
    return data


def _small_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 64


def _record(line: str) -> dict:
    record = json.loads(line)  # json.JSONDecodeError is a ValueError
    if not isinstance(record, dict):
        raise ValueError(f"not a ledger record: {line[:40]!r}")
    return record


def _rmdir_if_empty(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


# ------------------------------------------------------------------- clean
@dataclass
class CleanReport:
    removed: list[str] = field(default_factory=list)  # paths removed
    labs: list[str] = field(default_factory=list)  # ids of dead labs cleaned
    live: list[str] = field(default_factory=list)  # ids of labs still running (left alone)
    errors: list[str] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not self.labs and not self.errors


def _allowed(lab_id: str, kind: str, path: str) -> bool:
    """Only the two shapes of path a lab creates, for that lab's id."""
    path = os.path.normpath(path)
    if kind == "netns" and os.path.dirname(path) == NETNS_DIR:
        return os.path.basename(path).startswith(f"sl{lab_id}-")
    run_dir = os.path.join(RUN_DIR, lab_id)
    return path == run_dir or path.startswith(run_dir + "/")


def _remove_path(entry: dict, path: str) -> bool:
    """Remove one recorded object; True if something was there.

    A namespace is unmounted only when the mount is the namespace the lab recorded (nsfs
    device and inode); a mount without that proof is refused (ValueError), and what is
    left of a mount point (an empty file) is unlinked.
    """
    if entry["kind"] == "dir":
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return False
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    found = False
    if os.path.ismount(path):
        if (st.st_dev, st.st_ino) != (entry.get("dev"), entry.get("ino")):
            raise ValueError("a mount that is not the namespace the lab recorded")
        found = unmount(path)
        st = os.stat(path, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode) or st.st_size:
        raise ValueError("not the empty file a namespace is mounted on")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
        found = True
    return found


def clean(directory: str = LEDGER_DIR) -> CleanReport:
    """Remove what dead labs left, exactly as their ledgers list it."""
    report = CleanReport()
    try:
        files = sorted(f for f in os.listdir(directory) if f.endswith(".json"))
    except FileNotFoundError:
        files = []
    for name in files:
        path = os.path.join(directory, name)
        try:
            data = read_ledger(path)
            lab_id = data["id"]
        except FileNotFoundError:
            continue  # that lab closed while we looked: it took its ledger along
        except (OSError, ValueError, RecursionError) as err:
            report.errors.append(f"{path}: unreadable ledger ({err}); left alone")
            continue
        if name != f"{lab_id}.json":
            report.errors.append(f"{path}: ledger names another lab ({lab_id})")
            continue
        if held(path):
            report.live.append(lab_id)
            continue
        ok = True
        # Mounts first, directories last (deepest first).
        entries = sorted(
            data.get("created", []), key=lambda e: (e.get("kind") == "dir", -len(e["path"]))
        )
        for entry in entries:
            kind, target = entry.get("kind", ""), os.path.normpath(entry.get("path", "") or ".")
            if not _allowed(lab_id, kind, target) or os.path.islink(target):
                report.errors.append(
                    f"{target}: not a path lab {lab_id} could have made; left alone"
                )
                ok = False
                continue
            try:
                if _remove_path(entry, target):
                    report.removed.append(target)
            except ValueError as err:
                report.errors.append(f"{target}: {err}; left alone")
                ok = False
            except OSError as err:
                if err.errno != errno.ENOENT:
                    report.errors.append(f"{target}: {err.strerror}")
                    ok = False
        if ok:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        report.labs.append(lab_id)
    _remove_stale_drafts(directory, report)
    _rmdir_if_empty(directory)
    _rmdir_if_empty(os.path.dirname(directory))
    return report


DRAFT_AGE = 30.0  # seconds: a draft this old and unlocked belongs to a lab killed in Ledger.create


def _remove_stale_drafts(directory: str, report: CleanReport) -> None:
    """Drafts (``<id>.json.<pid>.draft``) a SIGKILL left between their creation and their link.

    A draft is locked a moment after it is created, so an unlocked one is left only when
    it is also older than :data:`DRAFT_AGE`.
    """
    try:
        names = [f for f in os.listdir(directory) if f.endswith(".draft")]
    except FileNotFoundError:
        return
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < DRAFT_AGE or held(path):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            report.removed.append(path)
