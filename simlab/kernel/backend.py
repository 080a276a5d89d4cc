"""The kernel backend: the model's operations on real network namespaces.

Rules this backend keeps (and the tests check):
- It never changes the machine it runs on.  The lab's node is a namespace the
  lab creates (mounted at ``/run/simlab/<id>/node``); learner namespaces are
  ``/run/netns/sl<id>-<key>``.  Every socket is made inside its namespace by
  :class:`~simlab.kernel.netns.NsThread`, which refuses the machine's own
  namespace, and no operation names a namespace by pid.
- Every change is a netlink request built like iproute2's for the same
  command (pyroute2 encodes it), after iproute2's own client-side checks, so
  a bad command fails with the same text, errno and exit status as in a
  terminal.  Only ``iptables`` rules are changed with the ``iptables`` tool.
- ``apply_all`` is all or nothing: a batch of several operations is first
  tried on the model (``precheck``; turned off, the kernel's own errors
  decide), and what a failing batch did on the kernel is undone.
- A snapshot is the real state read back, settled (see
  :mod:`simlab.kernel.snapshot`: queued linkwatch events are run, tentative
  IPv6 addresses and bridge learning waited for), and a deleted namespace's
  veth peers are deleted before the namespace goes; a namespace is re-read
  only when its monitor sockets saw a change.
- ``close()``, interpreter exit and SIGTERM remove exactly what the lab made;
  the ledger (:mod:`simlab.ledger`) lets ``simlab clean`` do it after a crash.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pyroute2.netlink.exceptions import NetlinkError

from ..backends.base import Backend, Capabilities
from ..ledger import Ledger
from ..model import ops as o
from ..model.apply import apply_all as model_apply_all
from ..model.errors import NetError
from ..model.state import ROOT, TUNNEL_FALLBACKS, Netns
from ..system import env as system_env, require
from . import checks, cleanup
from .access import kernel_privileged
from . import read as rd
from .names import LabNames, filter_netns_list, new_lab_id
from .netns import (
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_NETFILTER,
    SOL_NETLINK,
    NsThread,
    netns_socket,
    ns_inode,
    read_sysctl,
    unmount,
    write_sysctl,
)
from .ops import HANDLERS, OpsMixin
from .rtnl import REQ, Monitor, Rtnl
from .snapshot import SnapshotMixin

__all__ = ["KernelBackend", "HIDDEN_SYSCTLS"]

#: Written in every namespace right after it is made (the golden captures did
#: the same): no DAD, so IPv6 addresses are never ``tentative``; no forwarding
#: inherited from the machine (a new namespace copies init_net's IPv4 settings).
HIDDEN_SYSCTLS = (
    ("net.ipv6.conf.all.accept_dad", "0"),
    ("net.ipv6.conf.default.accept_dad", "0"),
    ("net.ipv4.ip_forward", "0"),
)

# Groups of the change monitor: links, neighbours, IPv4/IPv6 addresses and routes ...
_RTMGRP = 0x1 | 0x4 | 0x10 | 0x40 | 0x100 | 0x400
# ... plus nsids (RTNLGRP_NSID) and IPv4 netconf (ip_forward).
_RTNLGRP_EXTRA = (28, 24)
_NFNLGRP_NFTABLES = 7


@dataclass(eq=False)
class _Ns:
    """One namespace the backend manages: where it is and our sockets in it."""

    key: str
    path: str
    rt: Rtnl
    #: Change monitors, made at the first read (not needed before it; saves set-up per pod).
    mon: Monitor | None = None
    nfmon: Monitor | None = None
    next_ifindex: int = 2
    cache: Netns | None = None
    iptables: dict = field(default_factory=dict)
    iptables_read: bool = False
    sysctl_keys: set = field(default_factory=lambda: {"net.ipv4.ip_forward"})
    #: ifindexes of links moved in that kept their index (the counter did not move).
    moved_in: set = field(default_factory=set)

    def close(self) -> None:
        for s in (self.rt, self.mon, self.nfmon):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()


class KernelBackend(OpsMixin, SnapshotMixin, Backend):
    """Operations on real namespaces through netlink (pyroute2).

    ``KernelBackend()`` needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).  It makes
    the lab's node namespace at once; ``close()`` (or ``with``) removes it all.
    ``precheck``: try a batch of several operations on the model first, so that
    a batch that would fail touches nothing (off: the kernel's own errors, and
    what a failed batch did is undone on the kernel as far as it can be).
    """

    name = "kernel"
    capabilities = Capabilities(in_process_plugins=False, seeded=False)

    def __init__(
        self,
        seed: int = 0,
        tunnels: tuple[str, ...] = (),
        *,
        precheck: bool = True,
        _attach: dict | None = None,
    ):
        ok, reason = kernel_privileged()  # a missing tool fails the op that runs it
        if not ok:
            raise PermissionError(
                f"the kernel backend needs root: {reason}. Run as root on Linux, "
                "or use the model backend (Lab(backend='model'))."
            )
        self.seed = seed
        self.precheck = precheck
        self._lock = threading.RLock()
        self._ns: dict[str, _Ns] = {}
        self._order: list[str] = []  # learner namespaces, oldest first
        self._nsid_maps: dict[str, dict[int, str]] = {}
        self._mac_set: set[tuple[str, int]] = set()
        self._mtu_set: set[tuple[str, int]] = set()
        self._bridges_with_ports: set[tuple[str, int]] = set()
        self._prefetched: dict[str, tuple] = {}
        #: Undo actions of the batches applied so far, and where each recent snapshot
        #: stands in that list: restore(snapshot) undoes what came after it.
        self._journal: list[list[Callable[[], None]]] = []
        self._marks: list[tuple[object, int]] = []
        self._closed = False
        self.attached = _attach is not None
        if self.attached:
            self.names = LabNames("attached")
            self.ledger = None
            self._thread = NsThread(forbidden=None, name="simlab-netns-attached")
            self._paths = dict(_attach)
            try:
                self._thread.call(self._attach_all)
            except BaseException:
                self._close_sockets()
                self._thread.stop()
                raise
            self.tunnels = tuple(tunnels)
            return
        self._machine = ns_inode("/proc/self/ns/net")
        self._pid = os.getpid()
        self.names, self.ledger = self._claim_id()
        self._thread = NsThread(forbidden=self._machine)
        cleanup.register(self)
        try:
            run_dir = self.names.run_dir
            self.ledger.add("dir", run_dir)
            os.makedirs(run_dir, mode=0o755)
            self._create(ROOT, self.names.node_path)
        except BaseException:
            self.close()
            raise
        node = rd.dump_links(self._ns[ROOT].rt)
        # The fallback tunnels the kernel really gives new namespaces (modules loaded or not).
        self.tunnels = tuple(
            n for n, _k, _m in TUNNEL_FALLBACKS if any(x.ifname == n for x in node)
        )

    # ------------------------------------------------------------ creation
    @staticmethod
    def _claim_id() -> tuple[LabNames, Ledger]:
        for _ in range(50):
            names = LabNames(new_lab_id())
            if os.path.lexists(names.run_dir):
                continue
            try:
                return names, Ledger.create(names.lab_id)
            except FileExistsError:
                continue
        raise RuntimeError("could not find a free lab id")

    @classmethod
    def attach(cls, namespaces: dict) -> KernelBackend:
        """A backend on namespaces that already exist, ``{key: path}``; it never deletes them.

        ``ROOT`` is usually ``/proc/<pid>/ns/net`` of a process already inside
        the lab's node (a CNI plugin run there).  ``close()`` only closes sockets.
        """
        return cls(_attach=dict(namespaces))

    def _attach_all(self) -> None:
        """On the namespace thread: sockets in every attached namespace."""
        th = self._thread
        order = sorted(self._paths, key=lambda k: k != ROOT)
        for key in order:
            fd = os.open(self._paths[key], os.O_RDONLY)
            try:
                th.enter(fd)
            finally:
                os.close(fd)
            if key == ROOT or th.home_fd is None:
                th.make_home()
            self._ns[key] = self._open_here(key, self._paths[key])
            th.go_home()
            if key != ROOT:
                self._order.append(key)

    def _open_here(self, key: str, path: str) -> _Ns:
        """The request socket in the namespace the calling (namespace) thread is in."""
        # next_ifindex is learnt from the links at the first read.
        return _Ns(key, path, Rtnl(netns_socket()))

    @staticmethod
    def _monitors_here(handle: _Ns) -> None:
        """On the namespace thread, inside ``handle``'s namespace: its change monitors."""
        mon_sock = netns_socket(groups=_RTMGRP)
        for group in _RTNLGRP_EXTRA:
            with contextlib.suppress(OSError):
                mon_sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
        handle.mon = Monitor(mon_sock)
        with contextlib.suppress(OSError):
            nf = netns_socket(NETLINK_NETFILTER, groups=1 << (_NFNLGRP_NFTABLES - 1))
            handle.nfmon = Monitor(nf)

    def _make_here(self, key: str, path: str) -> _Ns:
        """On the namespace thread: a new namespace at ``path``, with sockets and sysctls."""
        th = self._thread
        th.unshare_new(path)
        try:
            if key == ROOT:
                th.make_home()
            handle = self._open_here(key, path)
            try:
                for k, v in HIDDEN_SYSCTLS:
                    # A new namespace copies init_net's ip_forward: often 0 already.
                    if k != "net.ipv4.ip_forward" or read_sysctl(k) != v:
                        write_sysctl(k, v)
            except BaseException:
                handle.close()
                raise
            return handle
        except BaseException:
            with contextlib.suppress(OSError):
                unmount(path)
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        finally:
            if key != ROOT:
                th.go_home()

    def _create(self, key: str, path: str) -> None:
        try:
            handle = self._take_prefetched(key)
            if handle is None:
                # `ip netns add` makes /run/netns when it is missing; so does the lab.
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                self.ledger.add("netns", path)  # before it exists: a crash leaves nothing unlisted
                handle = self._thread.call(self._make_here, key, path)
        except OSError as err:
            self.ledger.remove(path)
            raise NetError(
                f'Cannot create namespace file "{self.names.unmap(path)}": {err.strerror}',
                errno=err.errno or 0,
                exit=1,
            ) from None
        except BaseException:
            self.ledger.remove(path)
            raise
        self._ns[key] = handle
        self._nsid_maps[key] = {}
        if key != ROOT:
            self._order.append(key)

    def _remove(self, key: str) -> None:
        """Close our sockets in ``key`` and unmount it (the kernel frees it asynchronously)."""
        handle = self._ns.pop(key)
        handle.close()
        if key in self._order:
            self._order.remove(key)
        self._nsid_maps.pop(key, None)
        for table in self._nsid_maps.values():
            for nsid in [n for n, k in table.items() if k == key]:
                del table[nsid]
        self._mac_set = {e for e in self._mac_set if e[0] != key}
        self._mtu_set = {e for e in self._mtu_set if e[0] != key}
        self._bridges_with_ports = {e for e in self._bridges_with_ports if e[0] != key}
        if self.attached:
            return
        unmount(handle.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.path)
        self.ledger.remove(handle.path)

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Remove every namespace the lab made (attached: just close the sockets)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.attached:
                self._close_sockets()
                self._thread.stop()
                return
            for key in [k for k in list(self._ns) if k != ROOT] + (
                [ROOT] if ROOT in self._ns else []
            ):
                with contextlib.suppress(Exception):
                    self._remove(key)
            self._thread.stop()
            with contextlib.suppress(OSError):
                os.rmdir(self.names.run_dir)
                self.ledger.remove(self.names.run_dir)
            if not self.ledger.entries:
                self.ledger.discard()
            cleanup.forget(self)

    def _close_sockets(self) -> None:
        for handle in self._ns.values():
            handle.close()
        self._ns.clear()

    def _emergency_teardown(self) -> None:
        """From a signal handler or atexit: unmount and unlink, touch no thread."""
        if self._closed or self.attached:
            return
        self._closed = True
        for key in list(self._ns):
            handle = self._ns.pop(key)
            handle.close()
            with contextlib.suppress(OSError):
                unmount(handle.path)
                os.unlink(handle.path)
            with contextlib.suppress(OSError):
                self.ledger.remove(handle.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.names.run_dir)
            self.ledger.remove(self.names.run_dir)
        if not self.ledger.entries:
            self.ledger.discard()

    def __enter__(self) -> KernelBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "attached" if self.attached else f"lab {self.names.lab_id}"
        return f"<KernelBackend {where}: {len(self._ns)} namespaces>"

    # -------------------------------------------------------------- lookups
    @property
    def lab_id(self) -> str:
        return self.names.lab_id

    def netns_path(self, key: str) -> str:
        """Where namespace ``key`` is mounted (what ``CNI_NETNS`` or ``nsenter --net=`` takes)."""
        return self._ns_of(key).path

    def netns_key(self, name: str) -> str | None:
        return self.names.key_of(name)

    def _ns_of(self, key: str) -> _Ns:
        handle = self._ns.get(key)
        if handle is None:
            raise NetError.no_netns(key)
        return handle

    def _peer_ns(self, key: str) -> _Ns:
        """A namespace named in ``netns NAME``: iproute2's ``Invalid "netns" value``."""
        handle = self._ns.get(key)
        if handle is None:
            raise checks.bad_netns(key)
        return handle

    @staticmethod
    def _find(handle: _Ns, ifname: str) -> rd.RawLink:
        link = rd.get_link(handle.rt, ifname) if ifname else None
        if link is None:
            raise checks.no_device(ifname)
        return link

    @contextlib.contextmanager
    def _fd(self, handle: _Ns):
        fd = os.open(handle.path, os.O_RDONLY)
        try:
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _talk(handle: _Ns, msg, msg_type: int, flags: int = REQ) -> list:
        try:
            return handle.rt.request(msg, msg_type, flags)
        except NetlinkError as err:
            raise checks.from_netlink(err) from None

    @staticmethod
    def _talk_raw(handle: _Ns, msg, msg_type: int, flags: int = REQ) -> list[bytes]:
        try:
            return handle.rt.request_raw(msg, msg_type, flags)
        except NetlinkError as err:
            raise checks.from_netlink(err) from None

    # ---------------------------------------------------------------- apply
    def preflight(self, ops) -> None:
        """Raise the clear error of a missing tool that ``ops`` would run, before any change."""
        for op in ops:
            for tool in _TOOLS.get(type(op), ()):
                require(tool)

    def apply_all(self, ops) -> list[object]:
        """Carry out operations in order, all or nothing; a ping's outcome is its report."""
        ops = list(ops)
        with self._lock:
            if self._closed:
                raise NetError("the lab is closed", errno=errno.ESHUTDOWN, exit=1)
            if self.precheck and len(ops) > 1:
                # The model says first whether the batch would fail: then nothing is touched.
                # (Undoing on the kernel is the second line: it cannot give back everything,
                # e.g. a bridge whose only port went keeps 00:00:00:00:00:00 as its MAC.)
                model_apply_all(self.snapshot(), ops)
            undo: list[Callable[[], None]] = []
            ahead = self._prefetchable(ops)
            done: list = []
            outcomes: list[object] = []
            try:
                for n, op in enumerate(ops):
                    self._prefetch(ops, ahead, n)
                    handler = HANDLERS.get(type(op))
                    if handler is None:
                        raise TypeError(f"not an operation: {op!r}")
                    result = handler(self, op)
                    if isinstance(result, list):
                        undo.extend(result)
                        result = None
                    outcomes.append(result)
                    done.append(op)
                self._journal.append(undo)
                return outcomes
            except BaseException as err:
                self._drop_prefetched()
                for action in reversed(undo):
                    with contextlib.suppress(Exception):
                        action()
                if isinstance(err, NetError) and not err.hint:
                    err.hint = self._hint(done, ops[len(done)], err)
                raise

    JOURNAL = 512  # batches kept for restore()

    def _mark(self, state) -> None:
        """Remember where ``state`` (a snapshot just returned) stands in the journal."""
        if len(self._journal) > self.JOURNAL:
            cut = len(self._journal) - self.JOURNAL
            del self._journal[:cut]
            self._marks = [(st, pos - cut) for st, pos in self._marks if pos >= cut]
        if not self._marks or self._marks[-1][0] is not state:
            self._marks.append((state, len(self._journal)))
            del self._marks[:-64]
        else:
            self._marks[-1] = (state, len(self._journal))

    def restore(self, state) -> None:
        """Undo what was applied since ``state`` was this backend's snapshot.

        ``Lab.step()`` calls it when a step fails half way.  The undo is the one
        ``apply_all`` uses: creations are removed and changes put back; a delete
        cannot be undone (a Lab tries multi-operation steps on the model first).
        """
        with self._lock:
            found = [pos for snap, pos in self._marks if snap is state]
            if not found:
                return  # not a snapshot of this backend, or too old
            position = found[-1]
            for batch in reversed(self._journal[position:]):
                for action in reversed(batch):
                    with contextlib.suppress(Exception):
                        action()
            del self._journal[position:]

    def _hint(self, done: list, op, err: NetError) -> str:
        """The model's advice for the same failure (the kernel gives none), if it agrees."""
        try:
            model_apply_all(self.snapshot(), [*done, op])
        except NetError as model_err:
            if model_err.message == err.message:
                return model_err.hint
        except Exception:
            pass
        return ""

    # A batch that makes namespaces (a node with its pods) makes the next ones on the
    # namespace thread while this thread wires the current one: creating a namespace is
    # system calls (the other CPU), wiring it is netlink requests.
    PREFETCH = 2

    def _prefetchable(self, ops: list) -> list[int]:
        """Positions of NetnsAdd operations that will surely succeed (a fresh, valid name)."""
        if self.attached or len(ops) < 2:
            return []
        names = [op.name for op in ops if isinstance(op, o.NetnsAdd)]
        out = []
        for n, op in enumerate(ops):
            if not isinstance(op, o.NetnsAdd) or names.count(op.name) != 1:
                continue
            if any(isinstance(x, o.NetnsDel) and x.name == op.name for x in ops):
                continue
            try:
                checks.netns_name_ok(op.name)
            except NetError:
                continue
            path = self.names.netns_path(op.name)
            if op.name not in self._ns and not os.path.lexists(path):
                out.append(n)
        return out

    def _prefetch(self, ops: list, ahead: list[int], current: int) -> None:
        """Keep up to PREFETCH namespaces of the batch being made ahead of ``current``."""
        window = [n for n in ahead if current <= n][: self.PREFETCH]
        for n in window:
            name = ops[n].name
            if name in self._prefetched:
                continue
            path = self.names.netns_path(name)
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            self.ledger.add("netns", path)  # before it exists, as always
            self._prefetched[name] = (path, self._thread.submit(self._make_here, name, path))

    def _take_prefetched(self, name: str):
        """The handle of namespace ``name`` made ahead (None if it was not)."""
        item = self._prefetched.pop(name, None)
        if item is None:
            return None
        _path, future = item
        return future.result()

    def _drop_prefetched(self) -> None:
        """A batch failed: remove the namespaces made ahead for it."""
        for name in list(self._prefetched):
            path = self._prefetched[name][0]
            try:
                handle = self._take_prefetched(name)
            except BaseException:
                self.ledger.remove(path)
                continue
            self._ns[name] = handle
            with contextlib.suppress(Exception):
                self._remove(name)

    # ----------------------------------------------------------------- show
    def show(self, tool: str, argv: list[str], netns: str) -> str:
        """Run the real ``ip``, ``bridge`` or ``iptables`` inside ``netns``; return its stdout.

        Raises :class:`NetError` with the tool's stderr and exit status when it fails.
        """
        argv = list(argv)
        handle = self._ns.get(netns)
        if handle is not None:
            self.snapshot()  # runs pending linkwatch events (see _settled_links)
        if netns == ROOT or self.attached:
            path = handle.path if handle is not None else self.names.node_path
            cmd = ["nsenter", f"--net={path}", "--", tool, *argv]
        elif tool in ("ip", "bridge"):
            cmd = [tool, "-n", self.names.netns_name(netns), *argv]
        else:
            cmd = ["ip", "netns", "exec", self.names.netns_name(netns), tool, *argv]
        for program in dict.fromkeys((cmd[0], tool)):
            require(program)
        p = subprocess.run(
            cmd, capture_output=True, text=True, env=system_env(), stdin=subprocess.DEVNULL, timeout=60
        )
        if p.returncode != 0:
            text = self.names.unmap(p.stderr)
            # The model's convention: without its last newline, unless the tool
            # printed a blank line last (then the complete stderr).
            if text.endswith("\n") and not text.endswith("\n\n"):
                text = text[:-1]
            raise NetError(text, errno=_errno_of(text), exit=p.returncode)
        if tool == "ip" and _is_netns_list(argv):
            return filter_netns_list(p.stdout, self.names, self._order)
        return self.names.unmap(p.stdout)


# ---------------------------------------------------------------- helpers
#: The machine's programs an operation runs (the rest is netlink): iptables, and its reader.
_TOOLS = {o.Iptables: ("nsenter", "iptables", "iptables-save")}


def _is_netns_list(argv: list[str]) -> bool:
    words = [w for w in argv if not w.startswith("-")]
    if not words or words[0] not in ("netns", "netn", "net"):
        return False
    return len(words) == 1 or words[1] in ("list", "show", "lst", "sh", "ls")


_ERRNO_WORDS = {
    "No such file or directory": errno.ENOENT,
    "Cannot find device": errno.ENODEV,
    "does not exist": errno.ENODEV,
    "File exists": errno.EEXIST,
}


def _errno_of(text: str) -> int:
    for words, number in _ERRNO_WORDS.items():
        if words in text:
            return number
    return 0
