"""The plugin's way to the network: netlink-shaped calls that apply simlab operations.

The Go plugin calls ``vishvananda/netlink`` (``netlink.LinkAdd(veth)``,
``netlink.AddrAdd(link, addr)``) in whatever namespace the current thread is
in.  simlab's plugin calls the functions below instead; each builds an
operation from :mod:`simlab.model.ops`, applies it through a
:class:`~simlab.backends.base.Backend` and reads state back from
``backend.snapshot()``.  The same plugin code therefore runs

- in-process on the model (the lab passes its backend; CNI_NETNS paths map to
  namespace keys, see :func:`netns_key_for_path`), and
- as a real process on the kernel (a kernel backend *attached* to the process's
  own namespace as ``ROOT`` and to ``CNI_NETNS``).

The current namespace is a context variable set by ``NetNS.do()`` (Go:
``netns.Do(func(hostNS) error {...})``), so a function that runs "inside the
container" reads like the Go code.  Every operation applied inside
:func:`step` is reported as part of that step to the session's recorder.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno as _errno
import hashlib
import ipaddress
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import ROOT, NetError
from ..model import ops as o
from ..model.derive import operstate as _operstate
from ..model.state import Addr, Link, NetState
from ..model.text import Text
from .trace import StepRecord

__all__ = [
    "Session",
    "session",
    "current",
    "current_netns",
    "in_netns",
    "step",
    "NetlinkError",
    "LinkNotFoundError",
    "errno_text",
    "netns_key_for_path",
    "kernel_attach",
    "link_by_name",
    "link_list",
    "link_add",
    "link_del",
    "link_set_up",
    "link_set_down",
    "link_set_mtu",
    "link_set_master",
    "link_set_hairpin",
    "link_set_hardware_addr",
    "set_promisc_on",
    "link_operstate",
    "addr_list",
    "addr_add",
    "addr_del",
    "route_add",
    "route_list",
    "sysctl",
    "sysctl_get",
    "iptables",
    "iptables_rules",
    "random_bytes",
    "sleep_ms",
]

FAMILY_ALL, FAMILY_V4, FAMILY_V6 = 0, 4, 6


class NetlinkError(Exception):
    """A failed netlink request, worded like Go's ``syscall.Errno`` ("file exists")."""

    def __init__(self, err: int, text: str = ""):
        super().__init__(text or errno_text(err))
        self.errno = err
        self.text = text or errno_text(err)

    def __str__(self) -> str:
        return self.text


class LinkNotFoundError(NetlinkError):
    """``netlink.LinkNotFoundError``: "Link not found"."""

    def __init__(self):
        super().__init__(_errno.ENODEV, "Link not found")


def errno_text(err: int) -> str:
    """Go's text for an errno: strerror with a lower-case first letter."""
    text = os.strerror(err) if err else "unknown error"
    return text[:1].lower() + text[1:]


def _from_net_error(err: NetError) -> NetlinkError:
    if err.errno:
        return NetlinkError(err.errno)
    return NetlinkError(0, err.message.strip())


# ------------------------------------------------------------------ session
@dataclass
class Session:
    """Everything one plugin invocation needs to reach the network and report steps.

    ``backend`` covers the namespaces the plugin may touch (model: all of
    them).  ``attach`` (kernel) builds a backend for ``{key: path}``; the
    session re-attaches when the plugin opens the container namespace.
    """

    backend: Any = None
    attach: Callable[[dict], Any] | None = None
    recorder: Any = None
    plugin: str = ""
    command: str = ""
    #: CNI_NETNS path -> namespace key, on top of the /run/netns/<key> rule (model).
    netns_paths: Mapping[str, str] = field(default_factory=dict)
    #: In-process plugins by type (the lab's model path); others are exec'd.
    in_process: Mapping[str, Callable] = field(default_factory=dict)
    #: The invocation's environment (delegated plugins inherit it).
    env: Mapping[str, str] = field(default_factory=dict)
    #: Kernel: namespace key -> path attached so far.
    attached: dict = field(default_factory=dict)
    #: What the plugin prints (skel.dispatch gives each call fresh buffers).
    stdout: Any = None
    stderr: Any = None
    _step: StepRecord | None = None
    #: The last snapshot, until the plugin changes something or waits (a kernel read is not free).
    _snap: NetState | None = None

    @property
    def in_memory(self) -> bool:
        """The plugin runs in-process on a state in memory (the model): a namespace is a key,
        not a file, and nothing settles while it waits."""
        return self.backend is not None and self.backend.capabilities.in_process_plugins

    @property
    def seeded(self) -> bool:
        """Random choices come from the lab's seed, so runs repeat."""
        return self.backend is not None and self.backend.capabilities.seeded

    def get_backend(self):
        if self.backend is None:
            if self.attach is None:
                raise NetlinkError(
                    0, "no backend: simlab's plugin needs the model or a kernel backend"
                )
            self.attached = {ROOT: f"/proc/{os.getpid()}/ns/net"}
            self.backend = self.attach(dict(self.attached))
            self._snap = None
        return self.backend

    def attach_netns(self, key: str, path: str) -> None:
        """Kernel: make ``key`` (at ``path``) reachable through the backend."""
        if self.attach is None or self.attached.get(key) == path:
            return
        old = self.backend
        self.attached = {
            ROOT: f"/proc/{os.getpid()}/ns/net",
            **({} if old is None else self.attached),
            key: path,
        }
        self.backend = self.attach(dict(self.attached))
        self._snap = None
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()

    def close(self) -> None:
        if self.attach is not None and self.backend is not None:
            with contextlib.suppress(Exception):
                self.backend.close()
            self.backend = None

    def snapshot(self) -> NetState:
        if self._snap is None:
            self._snap = self.get_backend().snapshot()
        return self._snap

    def forget_snapshot(self) -> None:
        self._snap = None

    def apply(self, op) -> None:
        self._snap = None
        try:
            self.get_backend().apply(op)
        except NetError as err:
            if isinstance(op, o.Iptables):  # go-iptables reports the command's own words
                raise NetlinkError(err.errno, err.message.strip()) from None
            raise _from_net_error(err) from None
        if self._step is not None:
            self._step.ops.append(op)


_session: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "simlab_cni_session", default=None
)
_netns: contextvars.ContextVar[str] = contextvars.ContextVar("simlab_cni_netns", default=ROOT)


@contextlib.contextmanager
def session(s: Session) -> Iterator[Session]:
    """Make ``s`` the current session (and the node the current namespace)."""
    t1 = _session.set(s)
    t2 = _netns.set(ROOT)
    try:
        yield s
    finally:
        _netns.reset(t2)
        _session.reset(t1)


def current() -> Session:
    s = _session.get()
    if s is None:
        raise RuntimeError("no CNI session: call the plugin through simlab.cni.skel")
    return s


def current_netns() -> str:
    return _netns.get()


@contextlib.contextmanager
def in_netns(key: str) -> Iterator[None]:
    """Run the block with ``key`` as the current namespace (Go: ``netns.Do``)."""
    token = _netns.set(key)
    try:
        yield
    finally:
        _netns.reset(token)


@contextlib.contextmanager
def step(
    title: str, why: Text | Mapping[str, str] | str, mirrors: str, detail: dict | None = None
) -> Iterator[StepRecord | None]:
    """Report the operations applied in the block as one step (nested steps fold into the outer)."""
    s = _session.get()
    if s is None or s.recorder is None or s._step is not None:
        yield s._step if s is not None else None
        return
    if isinstance(why, Text):
        why = why.as_dict()
    else:  # a plain string (a learner's plugin) reads the same in both languages
        why = {"en": why, "ja": why} if isinstance(why, str) else dict(why)
    rec = StepRecord(
        title, why, mirrors, plugin=s.plugin, command=s.command, detail=dict(detail or {})
    )
    if getattr(s.recorder, "wants_snapshots", False) and s.backend is not None:
        rec.before = s.backend.snapshot()
    s._step = rec
    # A recorder may wrap the step (the lab opens one of its own steps around it).
    around = getattr(s.recorder, "step_context", None)
    try:
        with around(rec) if around is not None else contextlib.nullcontext():
            yield rec
    except BaseException as err:
        rec.error = str(err)
        raise
    finally:
        s._step = None
        if rec.before is not None:
            rec.after = s.backend.snapshot()
        s.recorder.record(rec)


# ------------------------------------------------------------- namespaces
def netns_key_for_path(path: str, known: Mapping[str, str] | None = None) -> str | None:
    """The model's namespace key for a CNI_NETNS path, or None.

    ``/run/netns/<key>`` and ``/var/run/netns/<key>`` name ``<key>`` (what
    ``ip netns add <key>`` creates); a lab may add other paths (docker's
    ``/var/run/docker/netns/<id>``) through ``known``.

    >>> netns_key_for_path("/run/netns/red"), netns_key_for_path("/var/run/netns/red")
    ('red', 'red')
    """
    if known and path in known:
        return known[path]
    for prefix in ("/run/netns/", "/var/run/netns/"):
        if path.startswith(prefix):
            key = path[len(prefix) :]
            if key and "/" not in key:
                return key
    return None


#: ``module:callable`` of another attach function (tests use a stand-in built on `ip`).
KERNEL_BACKEND_ENV = "SIMLAB_CNI_KERNEL_BACKEND"


def kernel_attach(namespaces: dict) -> Any:
    """A kernel backend attached to existing namespaces ``{key: path}``; it never deletes them.

    This is ``KernelBackend.attach({ROOT: "/proc/<pid>/ns/net", "<key>": CNI_NETNS})``
    from :mod:`simlab.kernel`; ``SIMLAB_CNI_KERNEL_BACKEND=module:func``
    names another function with the same contract.
    """
    import importlib

    spec = os.environ.get(KERNEL_BACKEND_ENV, "")
    try:
        if spec:
            module, _, name = spec.partition(":")
            attach = getattr(importlib.import_module(module), name)
        else:
            from ..kernel import KernelBackend  # lazy: pyroute2

            attach = getattr(KernelBackend, "attach", None)
    except (ImportError, AttributeError) as err:
        raise NetlinkError(0, f"simlab's kernel backend is not available ({err})") from None
    if attach is None:
        raise NetlinkError(
            0, "simlab's kernel backend has no KernelBackend.attach({key: netns path})"
        )
    return attach(namespaces)


# ----------------------------------------------------------------- reading
def _ns(state: NetState, key: str):
    ns = state.netns.get(key)
    if ns is None:
        raise NetlinkError(_errno.ENOENT)
    return ns


def link_list() -> list[Link]:
    s = current()
    return list(_ns(s.snapshot(), current_netns()).links.values())


def link_by_name(name: str) -> Link:
    """``netlink.LinkByName``: the link called ``name`` in the current namespace."""
    s = current()
    link = _ns(s.snapshot(), current_netns()).link(name)
    if link is None:
        raise LinkNotFoundError()
    return link


def link_operstate(link: Link) -> str:
    """The link's operstate now ("UP", "DOWN", "LOWERLAYERDOWN", ...)."""
    s = current()
    state = s.snapshot()
    ns = _ns(state, current_netns())
    fresh = ns.links.get(link.ifindex)
    if fresh is None:
        raise LinkNotFoundError()
    return _operstate(state, ns, fresh)


def addr_list(link: Link, family: int = FAMILY_ALL) -> list[Addr]:
    s = current()
    ns = _ns(s.snapshot(), current_netns())
    return [a for a in ns.addrs_of(link.ifindex) if family == FAMILY_ALL or a.family == family]


def route_list(family: int = FAMILY_ALL) -> list:
    s = current()
    ns = _ns(s.snapshot(), current_netns())
    return [r for r in ns.routes if family == FAMILY_ALL or r.family == family]


def sysctl_get(key: str) -> str | None:
    s = current()
    return _ns(s.snapshot(), current_netns()).sysctls.get(key)


def iptables_rules(table: str) -> tuple[str, ...]:
    s = current()
    return tuple(_ns(s.snapshot(), current_netns()).iptables.get(table, ()))


# ----------------------------------------------------------------- writing
def link_add(op) -> None:
    """``netlink.LinkAdd``: apply a :class:`~simlab.model.ops.LinkAdd` in the current namespace."""
    current().apply(_in_current(op))


def _in_current(op):
    from dataclasses import replace

    return replace(op, netns=current_netns())


def link_del(link: Link) -> None:
    current().apply(o.LinkDel(link.ifname, netns=current_netns()))


def link_set_up(link: Link) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), up=True))


def link_set_down(link: Link) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), up=False))


def link_set_mtu(link: Link, mtu: int) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), mtu=mtu))


def link_set_master(link: Link, master: Link) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), master=master.ifname))


def link_set_hairpin(link: Link, on: bool) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), hairpin=on))


def link_set_hardware_addr(link: Link, mac: str) -> None:
    # A zero or multicast MAC is not a valid unicast address for a device (EINVAL).
    if mac == "00:00:00:00:00:00":
        raise NetlinkError(_errno.EINVAL)
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), mac=mac))


def set_promisc_on(link: Link) -> None:
    current().apply(o.LinkSet(link.ifname, netns=current_netns(), promisc=True))


def addr_add(link: Link, cidr: str) -> None:
    """``netlink.AddrAdd``: IPv4 addresses get their broadcast computed, as the Go library does."""
    iface = ipaddress.ip_interface(cidr)
    brd = "+" if iface.version == 4 and iface.network.prefixlen < 31 else None
    current().apply(o.AddrAdd(link.ifname, str(iface), netns=current_netns(), broadcast=brd))


def addr_del(link: Link, cidr: str) -> None:
    current().apply(o.AddrDel(link.ifname, cidr, netns=current_netns()))


def route_add(dst: str, gw: str | None, link: Link) -> None:
    """``netlink.RouteAdd``: ``dst`` via ``gw`` out of ``link`` (0.0.0.0/0 written ``default``)."""
    if dst == "0.0.0.0/0":
        dst = "default"
    current().apply(o.RouteAdd(dst, netns=current_netns(), via=gw or None, dev=link.ifname))


def sysctl(key: str, value: str) -> None:
    """Write ``net/ipv4/...`` (slash or dot form) in the current namespace."""
    current().apply(o.SysctlSet(key.strip("/").replace("/", "."), value, netns=current_netns()))


def iptables(table: str, *args: str) -> None:
    current().apply(o.Iptables(table, tuple(args), netns=current_netns()))


# ------------------------------------------------------------ randomness
def random_bytes(n: int, purpose: str) -> bytes:
    """Random bytes on the kernel; on the model a seeded function of the snapshot (runs repeat)."""
    s = current()
    if s.seeded:
        state = s.snapshot()
        digest = hashlib.blake2b(
            f"{purpose}:{state.seed}:{state.counter}:{len(_ns(state, ROOT).links)}".encode(),
            digest_size=n,
        ).digest()
        return digest
    return os.urandom(n)


def sleep_ms(ms: int) -> None:
    """Go's ``time.Sleep``; the model settles at once, so it does not wait."""
    s = current()
    s.forget_snapshot()  # the kernel settles things while we wait
    if ms and not s.in_memory:
        time.sleep(ms / 1000)
