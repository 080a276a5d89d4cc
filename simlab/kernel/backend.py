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
from collections.abc import Callable, Sequence

from ..backends.base import Backend, Capabilities
from ..ledger import Ledger
from ..model import ops as o
from ..model.apply import apply_all as model_apply_all
from ..model.errors import NetError
from ..model.state import ROOT, TUNNEL_FALLBACKS, NetState
from ..system import env as system_env, require
from . import cleanup, spaces
from . import read as rd
from .access import kernel_privileged
from .context import Kernel
from .names import LabNames, filter_netns_list, new_lab_id
from .netns import NsThread, ns_inode, unmount
from .ops import HANDLERS
from .snapshot import read_all
from .tools import TOOLS

__all__ = ["KernelBackend"]


class KernelBackend(Backend):
    """Operations on real namespaces through netlink (pyroute2).

    ``KernelBackend()`` needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN).  It makes
    the lab's node namespace at once; ``close()`` (or ``with``) removes it all.
    ``precheck``: try a batch of several operations on the model first, so that
    a batch that would fail touches nothing (off: the kernel's own errors, and
    what a failed batch did is undone on the kernel as far as it can be).

    The shell: lifecycle, the batch and its journal, snapshots and show commands.
    The shared state is one :class:`~simlab.kernel.context.Kernel` (``self.k``);
    the operations are the handlers of :data:`~simlab.kernel.ops.HANDLERS`.
    """

    name = "kernel"
    capabilities = Capabilities(in_process_plugins=False, seeded=False)
    JOURNAL = 512  # batches kept for restore()

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
        #: Undo actions of the batches applied so far, and where each recent snapshot
        #: stands in that list: restore(snapshot) undoes what came after it.
        self._journal: list[list[Callable[[], None]]] = []
        self._marks: list[tuple[object, int]] = []
        self._last_state: NetState | None = None
        self._closed = False
        if _attach is not None:
            thread = NsThread(forbidden=None, name="simlab-netns-attached")
            self.k = Kernel(LabNames("attached"), None, thread, attached=True)
            self.names, self.ledger = self.k.names, None
            try:
                thread.call(spaces.attach_all, self.k, dict(_attach))
            except BaseException:
                self._close_sockets()
                thread.stop()
                raise
            self.tunnels = tuple(tunnels)
            return
        #: The process that made the lab: a forked child inherits the object, never the lab.
        self.pid = os.getpid()
        self.names, self.ledger = names, ledger = self._claim_id()
        thread = NsThread(forbidden=ns_inode("/proc/self/ns/net"))
        self.k = Kernel(names, ledger, thread, attached=False)
        cleanup.register(self)
        try:
            ledger.add("dir", names.run_dir)
            os.makedirs(names.run_dir, mode=0o755)
            spaces.create(self.k, ROOT, names.node_path)
        except BaseException:
            self.close()
            raise
        node = rd.dump_links(self.k.ns[ROOT].rt)
        # The fallback tunnels the kernel really gives new namespaces (modules loaded or not).
        self.tunnels = tuple(
            n for n, _k, _m in TUNNEL_FALLBACKS if any(x.ifname == n for x in node)
        )

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

    # ------------------------------------------------------------ lifecycle
    @property
    def lab_id(self) -> str:
        return self.names.lab_id

    def close(self) -> None:
        """Remove every namespace the lab made (attached: just close the sockets)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            k = self.k
            if k.attached:
                self._close_sockets()
                k.thread.stop()
                return
            for key in [x for x in list(k.ns) if x != ROOT] + ([ROOT] if ROOT in k.ns else []):
                with contextlib.suppress(Exception):
                    spaces.remove(k, key)
            k.thread.stop()
            with contextlib.suppress(OSError):
                os.rmdir(k.names.run_dir)
                k.ledger.remove(k.names.run_dir)
            if not k.ledger.entries:
                k.ledger.discard()
            cleanup.forget(self)

    def _close_sockets(self) -> None:
        for handle in self.k.ns.values():
            handle.close()
        self.k.ns.clear()

    def _emergency_teardown(self) -> None:
        """From a signal handler or atexit: unmount and unlink, touch no thread."""
        k = self.k
        if self._closed or k.attached:
            return
        self._closed = True
        for key in list(k.ns):
            handle = k.ns.pop(key)
            handle.close()
            with contextlib.suppress(OSError):
                unmount(handle.path)
                os.unlink(handle.path)
            with contextlib.suppress(OSError):
                k.ledger.remove(handle.path)
        with contextlib.suppress(OSError):
            os.rmdir(k.names.run_dir)
            k.ledger.remove(k.names.run_dir)
        if not k.ledger.entries:
            k.ledger.discard()

    def __enter__(self) -> KernelBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "attached" if self.k.attached else f"lab {self.k.names.lab_id}"
        return f"<KernelBackend {where}: {len(self.k.ns)} namespaces>"

    # -------------------------------------------------------------- lookups
    def netns_path(self, key: str) -> str:
        """Where namespace ``key`` is mounted (what ``CNI_NETNS`` or ``nsenter --net=`` takes)."""
        return self.k.ns_of(key).path

    def netns_key(self, name: str) -> str | None:
        return self.k.names.key_of(name)

    def watch_sysctl(self, key: str, sysctl: str) -> None:
        """Read ``sysctl`` of namespace ``key`` back from now on: a plugin process wrote it
        (portmap's route_localnet), so no operation of this backend registered it."""
        handle = self.k.ns_of(key)
        if sysctl not in handle.sysctl_keys:
            handle.sysctl_keys.add(sysctl)
            handle.cache = None

    # ---------------------------------------------------------------- apply
    def preflight(self, ops: Sequence[o.Op]) -> None:
        """Raise the clear error of a missing tool that ``ops`` would run, before any change."""
        for op in ops:
            for tool in TOOLS.get(type(op), ()):
                require(tool)

    def apply_all(self, ops: Sequence[o.Op]) -> list[object]:
        """Carry out operations in order, all or nothing; a ping's outcome is its report."""
        ops = list(ops)
        k = self.k
        with self._lock:
            if self._closed:
                raise NetError("the lab is closed", errno=errno.ESHUTDOWN, exit=1)
            if self.precheck and len(ops) > 1:
                # The model says first whether the batch would fail: then nothing is touched.
                # (Undoing on the kernel is the second line: it cannot give back everything,
                # e.g. a bridge whose only port went keeps 00:00:00:00:00:00 as its MAC.)
                model_apply_all(self.snapshot(), ops)
            undo: list[Callable[[], None]] = []
            ahead = spaces.prefetchable(k, ops)
            outcomes: list[object] = []
            try:
                for n, op in enumerate(ops):
                    spaces.prefetch(k, ops, ahead, n)
                    handler = HANDLERS.get(type(op))
                    if handler is None:
                        raise TypeError(f"not an operation: {op!r}")
                    result = handler(k, op)
                    if isinstance(result, list):  # undo actions; else the op's answer
                        undo.extend(result)
                        result = None
                    outcomes.append(result)
                self._journal.append(undo)
                return outcomes
            except BaseException as err:
                spaces.drop_prefetched(k)
                for action in reversed(undo):
                    with contextlib.suppress(Exception):
                        action()
                if isinstance(err, NetError) and not err.hint:
                    done = ops[: len(outcomes)]
                    err.hint = self._hint(done, ops[len(done)], err)
                raise

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

    # -------------------------------------------------------------- journal
    def snapshot(self) -> NetState:
        """The real state of every namespace of the lab, as model values."""
        with self._lock:
            table, changed = read_all(self.k)
            if changed or self._last_state is None:
                state = NetState(netns=table, seed=self.seed, tunnels=self.tunnels)
            else:
                state = self._last_state  # nothing changed: the same object (and journal mark)
            self._last_state = state
            self._mark(state)
            return state

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

    def restore(self, snapshot: NetState) -> None:
        """Undo what was applied since ``snapshot`` was this backend's snapshot.

        ``Lab.step()`` calls it when a step fails half way.  The undo is the one
        ``apply_all`` uses: creations are removed and changes put back; a delete
        cannot be undone (a Lab tries multi-operation steps on the model first).
        """
        with self._lock:
            found = [pos for snap, pos in self._marks if snap is snapshot]
            if not found:
                return  # not a snapshot of this backend, or too old
            position = found[-1]
            for batch in reversed(self._journal[position:]):
                for action in reversed(batch):
                    with contextlib.suppress(Exception):
                        action()
            del self._journal[position:]

    # ----------------------------------------------------------------- show
    def show(self, tool: str, argv: list[str], netns: str) -> str:
        """Run the real ``ip``, ``bridge`` or ``iptables`` inside ``netns``; return its stdout.

        Raises :class:`NetError` with the tool's stderr and exit status when it fails.
        """
        argv = list(argv)
        handle = self.k.ns.get(netns)
        if handle is not None:
            self.snapshot()  # runs pending linkwatch events (see snapshot.settled_links)
        if netns == ROOT or self.k.attached:
            path = handle.path if handle is not None else self.k.names.node_path
            cmd = ["nsenter", f"--net={path}", "--", tool, *argv]
        elif tool in ("ip", "bridge"):
            cmd = [tool, "-n", self.k.names.netns_name(netns), *argv]
        else:
            cmd = ["ip", "netns", "exec", self.k.names.netns_name(netns), tool, *argv]
        for program in dict.fromkeys((cmd[0], tool)):
            require(program)
        p = subprocess.run(
            cmd, capture_output=True, text=True, env=system_env(), stdin=subprocess.DEVNULL, timeout=60
        )
        if p.returncode != 0:
            text = self.k.names.unmap(p.stderr)
            # The model's convention: without its last newline, unless the tool
            # printed a blank line last (then the complete stderr).
            if text.endswith("\n") and not text.endswith("\n\n"):
                text = text[:-1]
            raise NetError(text, errno=_errno_of(text), exit=p.returncode)
        if tool == "ip" and _is_netns_list(argv):
            return filter_netns_list(p.stdout, self.k.names, self.k.order)
        return self.k.names.unmap(p.stdout)


# ---------------------------------------------------------------- helpers
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
