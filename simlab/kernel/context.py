"""What every handler of the kernel backend shares: one :class:`Kernel` context (``k``).

The handlers (:mod:`.spaces`, :mod:`.links`, :mod:`.addrs`, :mod:`.tools`) are
free functions ``handler(k, op) -> undo actions``; the state reader
(:mod:`.snapshot`) reads through the same context.  All the shared state is
declared here, and made once, by :class:`~simlab.kernel.backend.KernelBackend`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pyroute2.netlink.exceptions import NetlinkError

from ..ledger import Ledger
from ..model.errors import NetError
from ..model.state import Netns
from ..system import env as system_env, require
from . import checks
from . import read as rd
from .names import LabNames
from .netns import NsThread
from .rtnl import REQ, Monitor, Rtnl

__all__ = ["Kernel", "Ns", "Undo"]

#: What a handler returns: the actions that undo what it did, in order.
Undo = list[Callable[[], None]]


@dataclass(eq=False)
class Ns:
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
    #: The last read, part by part (links, addresses, fdb...): a read redoes only the
    #: parts the notifications were about (see :mod:`.snapshot`).
    parts: dict = field(default_factory=dict)
    #: An IPv4 rule was added or deleted here (the kernel's fib_has_custom_rules, which no
    #: dump shows; only the lab changes rules in its namespaces).
    custom_rules: bool = False

    def close(self) -> None:
        for s in (self.rt, self.mon, self.nfmon):
            if s is not None:
                with contextlib.suppress(OSError):
                    s.close()


@dataclass(eq=False)
class Kernel:
    """The namespaces of one lab, the thread that enters them, and what netlink does not tell."""

    names: LabNames
    ledger: Ledger | None  # None when attached: nothing is ours to remove
    thread: NsThread
    attached: bool
    #: Every namespace by key, and the learner ones in creation order (``ip netns`` order).
    ns: dict[str, Ns] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    #: Per namespace: nsid -> the key it stands for there.
    nsid_maps: dict[str, dict[int, str]] = field(default_factory=dict)
    #: (key, ifindex) of links whose MAC the user set, of bridges whose MTU the user set,
    #: of bridges seen with a port (the kernel reports none of the three).
    mac_set: set[tuple[str, int]] = field(default_factory=set)
    mtu_set: set[tuple[str, int]] = field(default_factory=set)
    bridges_with_ports: set[tuple[str, int]] = field(default_factory=set)
    #: Namespaces of the running batch made ahead on the thread: name -> (path, future).
    prefetched: dict[str, tuple] = field(default_factory=dict)
    #: The state reader's: the namespaces last read (key -> handle, and key -> Netns, in
    #: ``ns`` order), the monitors' sockets in one epoll (fd -> key), and the keys read at
    #: every snapshot whatever the monitors say (neighbours on timers, sysctls).
    read_handles: dict = field(default_factory=dict)
    table: dict = field(default_factory=dict)
    poller: object = None
    polled: dict = field(default_factory=dict)
    every_time: set = field(default_factory=set)

    # -------------------------------------------------------------- lookups
    def ns_of(self, key: str) -> Ns:
        handle = self.ns.get(key)
        if handle is None:
            raise NetError.no_netns(key)
        return handle

    def peer_ns(self, key: str) -> Ns:
        """A namespace named in ``netns NAME``: iproute2's ``Invalid "netns" value``."""
        handle = self.ns.get(key)
        if handle is None:
            raise checks.bad_netns(key)
        return handle

    @staticmethod
    def find(handle: Ns, ifname: str) -> rd.RawLink:
        link = rd.get_link(handle.rt, ifname) if ifname else None
        if link is None:
            raise checks.no_device(ifname)
        return link

    @contextlib.contextmanager
    def fd(self, handle: Ns) -> Iterator[int]:
        fd = os.open(handle.path, os.O_RDONLY)
        try:
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def talk(handle: Ns, msg, msg_type: int, flags: int = REQ) -> list:
        try:
            return handle.rt.request(msg, msg_type, flags)
        except NetlinkError as err:
            raise checks.from_netlink(err) from None

    @staticmethod
    def talk_raw(handle: Ns, msg, msg_type: int, flags: int = REQ) -> list[bytes]:
        try:
            return handle.rt.request_raw(msg, msg_type, flags)
        except NetlinkError as err:
            raise checks.from_netlink(err) from None

    @staticmethod
    def run_in(handle: Ns, argv: list[str]) -> subprocess.CompletedProcess:
        """A machine's tool (iptables) inside the namespace."""
        require("nsenter")
        require(argv[0])
        return subprocess.run(
            ["nsenter", f"--net={handle.path}", "--", *argv],
            capture_output=True,
            text=True,
            env=system_env(),
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    def nsid_key(self, handle: Ns, nsid: int) -> str | None:
        """The key of the namespace ``nsid`` stands for in ``handle`` (asked once, then kept)."""
        table = self.nsid_maps.setdefault(handle.key, {})
        if nsid in table:
            return table[nsid]
        known = set(table.values())
        for other in self.ns.values():
            if other is handle or other.key in known:
                continue
            with self.fd(other) as fd:
                found = rd.get_nsid(handle.rt, fd)
            if found is not None:
                table[found] = other.key
                if found == nsid:
                    return other.key
        return None
