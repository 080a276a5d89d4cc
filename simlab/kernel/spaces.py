"""The lab's namespaces: made, entered, removed, made ahead; ``ip netns add|del``.

Every namespace is made by the namespace thread (:class:`~simlab.kernel.netns.NsThread`)
with our sockets opened inside it, listed in the ledger before it exists (a crash
leaves nothing unlisted), and removed by closing our sockets and unmounting it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_DELLINK
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from ..i18n import say
from ..model import ops as o
from ..model.errors import NetError
from ..model.state import ROOT
from . import checks
from . import read as rd
from .context import Kernel, Ns, Undo
from .netns import (
    NETLINK_ADD_MEMBERSHIP,
    NETLINK_NETFILTER,
    SOL_NETLINK,
    netns_socket,
    read_sysctl,
    unmount,
    write_sysctl,
)
from .rtnl import REQ, Monitor, Rtnl

__all__ = ["HIDDEN_SYSCTLS", "create", "remove", "netns_add", "netns_del"]

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
# ... plus nsids (RTNLGRP_NSID), IPv4 netconf (ip_forward) and IPv4/IPv6 policy rules.
_RTNLGRP_EXTRA = (28, 24, 8, 19)
_NFNLGRP_NFTABLES = 7

# A batch that makes namespaces (a node with its pods) makes the next ones on the
# namespace thread while this thread wires the current one: creating a namespace is
# system calls (the other CPU), wiring it is netlink requests.
PREFETCH = 2


def open_here(key: str, path: str) -> Ns:
    """The request socket in the namespace the calling (namespace) thread is in."""
    # next_ifindex is learnt from the links at the first read.
    return Ns(key, path, Rtnl(netns_socket()))


def monitors_here(handle: Ns) -> None:
    """On the namespace thread, inside ``handle``'s namespace: its change monitors."""
    mon_sock = netns_socket(groups=_RTMGRP)
    for group in _RTNLGRP_EXTRA:
        with contextlib.suppress(OSError):
            mon_sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    handle.mon = Monitor(mon_sock)
    with contextlib.suppress(OSError):
        nf = netns_socket(NETLINK_NETFILTER, groups=1 << (_NFNLGRP_NFTABLES - 1))
        handle.nfmon = Monitor(nf)


def make_here(k: Kernel, key: str, path: str) -> Ns:
    """On the namespace thread: a new namespace at ``path``, with sockets and sysctls."""
    th = k.thread
    ledger = k.ledger  # None when attached
    th.unshare_new(path, None if ledger is None else (
        lambda dev, ino: ledger.identify(path, dev, ino)))
    try:
        if key == ROOT:
            th.make_home()
        handle = open_here(key, path)
        try:
            for name, value in HIDDEN_SYSCTLS:
                # A new namespace copies init_net's ip_forward: often 0 already.
                if name != "net.ipv4.ip_forward" or read_sysctl(name) != value:
                    write_sysctl(name, value)
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


def create(k: Kernel, key: str, path: str) -> None:
    try:
        handle = take_prefetched(k, key)
        if handle is None:
            # `ip netns add` makes /run/netns when it is missing; so does the lab.
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
            k.ledger.add("netns", path)  # before it exists: a crash leaves nothing unlisted
            handle = k.thread.call(make_here, k, key, path)
    except OSError as err:
        k.ledger.remove(path)
        raise NetError(
            f'Cannot create namespace file "{k.names.unmap(path)}": {err.strerror}',
            errno=err.errno or 0,
            exit=1,
        ) from None
    except BaseException:
        k.ledger.remove(path)
        raise
    k.ns[key] = handle
    k.nsid_maps[key] = {}
    if key != ROOT:
        k.order.append(key)


def remove(k: Kernel, key: str) -> None:
    """Close our sockets in ``key`` and unmount it (the kernel frees it asynchronously)."""
    handle = k.ns.pop(key)
    handle.close()
    if key in k.order:
        k.order.remove(key)
    k.nsid_maps.pop(key, None)
    for table in k.nsid_maps.values():
        for nsid in [n for n, v in table.items() if v == key]:
            del table[nsid]
    k.mac_set = {e for e in k.mac_set if e[0] != key}
    k.mtu_set = {e for e in k.mtu_set if e[0] != key}
    k.bridges_with_ports = {e for e in k.bridges_with_ports if e[0] != key}
    if k.attached:
        return
    unmount(handle.path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(handle.path)
    k.ledger.remove(handle.path)


def attach_all(k: Kernel, paths: dict[str, str]) -> None:
    """On the namespace thread: sockets in every attached namespace."""
    th = k.thread
    order = sorted(paths, key=lambda key: key != ROOT)
    for key in order:
        fd = os.open(paths[key], os.O_RDONLY)
        try:
            th.enter(fd)
        finally:
            os.close(fd)
        if key == ROOT or th.home_fd is None:
            th.make_home()
        k.ns[key] = open_here(key, paths[key])
        th.go_home()
        if key != ROOT:
            k.order.append(key)


def take_prefetched(k: Kernel, name: str):
    """The handle of namespace ``name`` made ahead (None if it was not)."""
    item = k.prefetched.pop(name, None)
    if item is None:
        return None
    _path, future = item
    return future.result()


def prefetchable(k: Kernel, ops: list) -> list[int]:
    """Positions of NetnsAdd operations that will surely succeed (a fresh, valid name)."""
    if k.attached or len(ops) < 2:
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
        path = k.names.netns_path(op.name)
        if op.name not in k.ns and not os.path.lexists(path):
            out.append(n)
    return out


def prefetch(k: Kernel, ops: list, ahead: list[int], current: int) -> None:
    """Keep up to PREFETCH namespaces of the batch being made ahead of ``current``."""
    window = [n for n in ahead if current <= n][:PREFETCH]
    for n in window:
        name = ops[n].name
        if name in k.prefetched:
            continue
        path = k.names.netns_path(name)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        k.ledger.add("netns", path)  # before it exists, as always
        k.prefetched[name] = (path, k.thread.submit(make_here, k, name, path))


def drop_prefetched(k: Kernel) -> None:
    """A batch failed: remove the namespaces made ahead for it."""
    for name in list(k.prefetched):
        path = k.prefetched[name][0]
        try:
            handle = take_prefetched(k, name)
        except BaseException:
            k.ledger.remove(path)
            continue
        k.ns[name] = handle
        with contextlib.suppress(Exception):
            remove(k, name)


def netns_add(k: Kernel, op: o.NetnsAdd) -> Undo:
    checks.netns_name_ok(op.name)
    if k.attached:
        raise NetError(
            "an attached kernel backend does not create namespaces", errno=errno.EPERM, exit=1
        )
    path = k.names.netns_path(op.name)
    if op.name in k.ns or (op.name not in k.prefetched and os.path.lexists(path)):
        raise NetError(
            f'Cannot create namespace file "/run/netns/{op.name}": File exists',
            errno=errno.EEXIST,
            exit=1,
            hint=say(
                f"namespace {op.name!r} already exists; pick another name or delete it first",
                f"名前空間 {op.name!r} はすでにあります。"
                "別の名前を選ぶか、先に削除してください",
            ),
        )
    create(k, op.name, path)
    return [lambda: remove(k, op.name)]


def netns_del(k: Kernel, op: o.NetnsDel) -> Undo:
    checks.netns_name_ok(op.name)
    if op.name == ROOT or op.name not in k.ns or k.attached:
        raise NetError(
            f'Cannot remove namespace file "/run/netns/{op.name}": No such file or directory',
            errno=errno.ENOENT,
            exit=1,
            hint=say("list the namespaces with `ip netns`",
                     "`ip netns` で名前空間を一覧できます"),
        )
    handle = k.ns[op.name]
    # The kernel deletes these veths when it destroys the namespace, a moment
    # after `ip netns del` returns; deleting them now makes that synchronous.
    for link in rd.dump_links(handle.rt):
        if link.kind == "veth" and link.link_netnsid is not None:
            msg = ifinfmsg()
            msg["index"] = link.ifindex
            with contextlib.suppress(NetlinkError):
                handle.rt.request(msg, RTM_DELLINK, REQ)
    waiting = [
        (key, n) for key, table in k.nsid_maps.items() for n, v in table.items() if v == op.name
    ]
    remove(k, op.name)
    # The nsids others gave it are freed when the kernel destroys it (cleanup_net).
    deadline = time.monotonic() + 3.0
    while waiting and time.monotonic() < deadline:
        waiting = [
            (key, n) for key, n in waiting if key in k.ns and n in rd.dump_nsids(k.ns[key].rt)
        ]
        if waiting:
            time.sleep(0.005)
    for handle in k.ns.values():
        handle.cache = None
    return []
