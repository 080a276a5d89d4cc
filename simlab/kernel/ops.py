"""The operations, one handler each, as iproute2 would send them.

Each handler first makes iproute2's own client-side checks (so a bad command
fails with ``ip``'s words and exit status), then sends the netlink request
``ip`` would send, and returns the actions that undo what it did (used by
``apply_all`` when a later operation of the batch fails).  Deletes return no
undo action (a batch is tried on the model first, see ``precheck``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_NEWADDR,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from ..i18n import say
from ..model import ops as o
from ..model.errors import NetError
from ..model.state import ROOT
from ..system import env as system_env, require
from . import checks
from . import read as rd
from .links import LinkOpsMixin
from .netns import read_sysctl, write_sysctl
from .rtnl import CREATE, REQ

if TYPE_CHECKING:
    from .backend import _Ns

__all__ = ["OpsMixin", "HANDLERS"]

#: Keys a namespace has its own copy of; nothing outside net.* is ever written.
_SYSCTL_PREFIXES = (
    "net.ipv4.",
    "net.ipv6.",
    "net.bridge.",
    "net.core.",
    "net.netfilter.",
    "net.unix.",
)


class OpsMixin(LinkOpsMixin):
    """Handlers of :class:`~simlab.kernel.backend.KernelBackend`, one per operation."""

    # --------------------------------------------------------------- netns
    def _netns_add(self, op: o.NetnsAdd):
        checks.netns_name_ok(op.name)
        if self.attached:
            raise NetError(
                "an attached kernel backend does not create namespaces", errno=errno.EPERM, exit=1
            )
        path = self.names.netns_path(op.name)
        if op.name in self._ns or (op.name not in self._prefetched and os.path.lexists(path)):
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
        self._create(op.name, path)
        return [lambda: self._remove(op.name)]

    def _netns_del(self, op: o.NetnsDel):
        checks.netns_name_ok(op.name)
        if op.name == ROOT or op.name not in self._ns or self.attached:
            raise NetError(
                f'Cannot remove namespace file "/run/netns/{op.name}": No such file or directory',
                errno=errno.ENOENT,
                exit=1,
                hint=say("list the namespaces with `ip netns`",
                         "`ip netns` で名前空間を一覧できます"),
            )
        handle = self._ns[op.name]
        # The kernel deletes these veths when it destroys the namespace, a moment
        # after `ip netns del` returns; deleting them now makes that synchronous.
        for link in rd.dump_links(handle.rt):
            if link.kind == "veth" and link.link_netnsid is not None:
                msg = ifinfmsg()
                msg["index"] = link.ifindex
                with contextlib.suppress(NetlinkError):
                    handle.rt.request(msg, RTM_DELLINK, REQ)
        waiting = [
            (k, n) for k, table in self._nsid_maps.items() for n, v in table.items() if v == op.name
        ]
        self._remove(op.name)
        # The nsids others gave it are freed when the kernel destroys it (cleanup_net).
        deadline = time.monotonic() + 3.0
        while waiting and time.monotonic() < deadline:
            waiting = [
                (k, n) for k, n in waiting if k in self._ns and n in rd.dump_nsids(self._ns[k].rt)
            ]
            if waiting:
                time.sleep(0.005)
        for handle in self._ns.values():
            handle.cache = None
        return []

    # ------------------------------------------------------------ addresses
    def _addr_add(self, op: o.AddrAdd):
        handle = self._ns_of(op.netns)
        iface, _given = checks.parse_prefix(op.cidr)
        link = self._find(handle, op.ifname)
        msg = ifaddrmsg()
        family = socket.AF_INET if iface.version == 4 else socket.AF_INET6
        msg["family"] = family
        msg["prefixlen"] = iface.network.prefixlen
        msg["index"] = link.ifindex
        scope = _scope_number(op.scope)
        if scope is None:
            # iproute2's default_scope(): host for 127/8, else universe.
            scope = 254 if iface.version == 4 and iface.ip.is_loopback else 0
        msg["scope"] = scope
        attrs = [("IFA_LOCAL", str(iface.ip)), ("IFA_ADDRESS", str(iface.ip))]
        if op.broadcast and iface.version == 4:
            brd = str(iface.network.broadcast_address) if op.broadcast == "+" else op.broadcast
            if op.broadcast == "-":
                brd = str(iface.network.network_address)
            attrs.append(("IFA_BROADCAST", brd))
        msg["attrs"] = attrs
        self._talk(handle, msg, RTM_NEWADDR, CREATE)
        return [
            lambda: self._addr_delete(
                handle, family, str(iface.ip), iface.network.prefixlen, link.ifindex
            )
        ]

    @staticmethod
    def _addr_delete(handle: _Ns, family: int, address: str, prefixlen: int, index: int) -> None:
        msg = ifaddrmsg()
        msg["family"] = family
        msg["prefixlen"] = prefixlen
        msg["index"] = index
        msg["attrs"] = (
            [("IFA_LOCAL", address)] if family == socket.AF_INET else [("IFA_ADDRESS", address)]
        )
        handle.rt.request(msg, RTM_DELADDR, REQ)

    def _addr_del(self, op: o.AddrDel):
        handle = self._ns_of(op.netns)
        iface, given = checks.parse_prefix(op.cidr)
        link = self._find(handle, op.ifname)
        family = socket.AF_INET if iface.version == 4 else socket.AF_INET6
        prefixlen = iface.network.prefixlen
        links = {link.ifindex: link}
        current = [a for a in rd.dump_addrs(handle.rt, links) if a.ifindex == link.ifindex]
        if not given:
            # iproute2's "wildcard deletion": the first address with that IP, whatever its prefix.
            match = [a for a in current if a.address == str(iface.ip)]
            if match:
                prefixlen = match[0].prefixlen
        found = [a for a in current if a.address == str(iface.ip) and a.prefixlen == prefixlen]
        msg = ifaddrmsg()
        msg["family"] = family
        msg["prefixlen"] = prefixlen
        msg["index"] = link.ifindex
        msg["attrs"] = (
            [("IFA_LOCAL", str(iface.ip))]
            if family == socket.AF_INET
            else [("IFA_ADDRESS", str(iface.ip))]
        )
        self._talk(handle, msg, RTM_DELADDR)
        if not found:
            return []
        gone = found[0]
        return [lambda: self._addr_add(_readd(op, gone))]

    def _addr_flush(self, op: o.AddrFlush):
        handle = self._ns_of(op.netns)
        link = rd.get_link(handle.rt, op.ifname)
        if link is None:
            raise NetError(f'Device "{op.ifname}" does not exist.', errno=errno.ENODEV, exit=1)
        rows = [
            m
            for m in rd.dump_addr_msgs(handle.rt)
            if m["index"] == link.ifindex
            and (op.family is None or (m["family"] == socket.AF_INET) == (op.family == 4))
        ]
        # Secondaries first, as `ip addr flush` does (a primary takes its secondaries with it).
        rows.sort(key=lambda m: not (m["flags"] & 0x1))
        for m in rows:
            address = m.get_attr("IFA_LOCAL") or m.get_attr("IFA_ADDRESS")
            with contextlib.suppress(NetlinkError):
                self._addr_delete(handle, m["family"], address, m["prefixlen"], link.ifindex)
        return []

    # --------------------------------------------------------------- routes
    def _route_msg(self, handle: _Ns, dst: str, via: str | None, dev: str | None):
        if dst == "default":
            net = None
            family = None
        else:
            iface, given = checks.parse_prefix(dst)
            net = iface
            family = iface.version
        gw = checks.parse_addr(via) if via is not None else None
        if family is None:
            family = gw.version if gw is not None else 4
        link = self._find(handle, dev) if dev else None
        msg = rtmsg()
        msg["family"] = socket.AF_INET if family == 4 else socket.AF_INET6
        msg["table"] = 254
        attrs: list = []
        if net is not None:
            msg["dst_len"] = net.network.prefixlen
            attrs.append(("RTA_DST", str(net.ip)))
        if gw is not None:
            attrs.append(("RTA_GATEWAY", str(gw)))
        if link is not None:
            attrs.append(("RTA_OIF", link.ifindex))
        msg["attrs"] = attrs
        return msg, gw, link

    def _route_add(self, op: o.RouteAdd):
        handle = self._ns_of(op.netns)
        msg, gw, link = self._route_msg(handle, op.dst, op.via, op.dev)
        msg["proto"] = 3  # RTPROT_BOOT, as `ip route add`
        msg["type"] = 1  # RTN_UNICAST
        # iproute2: scope link for a route without a gateway, universe with one.
        msg["scope"] = 0 if gw is not None else 253
        if op.src is not None:
            msg["attrs"].append(("RTA_PREFSRC", str(checks.parse_addr(op.src))))
        if op.metric is not None:
            msg["attrs"].append(("RTA_PRIORITY", op.metric))
        if op.onlink:
            msg["flags"] = 4  # RTNH_F_ONLINK
        self._talk(handle, msg, RTM_NEWROUTE, CREATE)
        return [lambda: self._route_del(o.RouteDel(op.dst, op.netns, op.via, op.dev), undo=True)]

    def _route_del(self, op: o.RouteDel, undo: bool = False):
        handle = self._ns_of(op.netns)
        msg, _gw, _link = self._route_msg(handle, op.dst, op.via, op.dev)
        msg["scope"] = 255  # RT_SCOPE_NOWHERE: any scope matches, as `ip route del` sends
        msg["proto"] = 0
        before = [r for r in rd.dump_routes(handle.rt)]
        self._talk(handle, msg, RTM_DELROUTE)
        after = rd.dump_routes(handle.rt)
        gone = [r for r in before if r not in after]
        if undo or len(gone) != 1:
            return []
        route = gone[0]
        return [lambda: self._route_restore(handle, route)]

    def _route_restore(self, handle: _Ns, route) -> None:
        msg, _gw, _link = self._route_msg(handle, route.dst, route.via, None)
        msg["attrs"].append(("RTA_OIF", route.dev))
        msg["proto"] = {"kernel": 2, "boot": 3, "static": 4}.get(route.proto, 3)
        msg["type"] = 1
        msg["scope"] = _scope_number(route.scope) or 0
        if route.src:
            msg["attrs"].append(("RTA_PREFSRC", route.src))
        if route.metric:
            msg["attrs"].append(("RTA_PRIORITY", route.metric))
        if route.onlink:
            msg["flags"] = 4
        handle.rt.request(msg, RTM_NEWROUTE, CREATE)

    # ----------------------------------------------------------------- ping
    def _ping(self, op: o.Ping):
        """Real echoes from inside the namespace: the outcome is ping's report (nothing to undo)."""
        from ..model.ping import check_target
        from .echo import echo

        handle = self._ns_of(op.netns)
        check_target(op)

        def arp_pending() -> bool:  # anyone on the way still asking (the sender, a router)
            return any(n.state == "INCOMPLETE" for each in list(self._ns.values())
                       for n in rd.dump_neighs(each.rt))

        def open_socket() -> socket.socket:
            return self._thread.inside(handle.path, socket.socket, socket.AF_INET,
                                       socket.SOCK_RAW, socket.IPPROTO_ICMP)

        report = echo(open_socket, op.dst, op.count, arp_pending)
        for each in self._ns.values():  # traffic changes neighbour tables and FDBs anywhere
            each.cache = None
        return report

    # ----------------------------------------------------- sysctl, iptables
    def _sysctl_set(self, op: o.SysctlSet):
        handle = self._ns_of(op.netns)
        path = "/proc/sys/" + op.key.replace(".", "/")
        # Only per-namespace keys: /proc/sys/net of a namespace shows just those,
        # and nothing outside net.* is ever written (it would be the machine's).
        if not op.key.startswith(_SYSCTL_PREFIXES) or ".." in op.key:
            raise NetError(
                f"sysctl: cannot stat {path}: No such file or directory",
                errno=errno.ENOENT,
                exit=1,
                hint=say(
                    "simlab sets the net.* sysctls of a namespace",
                    "simlab が設定できるのは、名前空間の net.* の sysctl だけです",
                ),
            )

        def body():
            try:
                old = read_sysctl(op.key)
                write_sysctl(op.key, op.value)
                return old
            except FileNotFoundError:
                raise NetError(
                    f"sysctl: cannot stat {path}: No such file or directory",
                    errno=errno.ENOENT,
                    exit=1,
                ) from None
            except OSError as err:
                raise NetError(
                    f'sysctl: setting key "{op.key}": {err.strerror}', errno=err.errno or 0, exit=1
                ) from None

        old = self._thread.inside(handle.path, body)
        handle.sysctl_keys.add(op.key)
        handle.cache = None
        return [lambda: self._thread.inside(handle.path, write_sysctl, op.key, old)]

    def _iptables(self, op: o.Iptables):
        handle = self._ns_of(op.netns)
        p = self._run_in(handle, ["iptables", "-w", "-t", op.table, *op.args])
        if p.returncode != 0:
            text = p.stderr.rstrip("\n")
            raise NetError(
                text, errno=errno.ENOENT if text.startswith("iptables: ") else 0, exit=p.returncode
            )
        handle.cache = None
        handle.iptables_read = False
        verb = op.args[0] if op.args else ""
        inverse = {"-N": "-X", "-A": "-D", "-I": "-D"}.get(verb)
        if inverse is None:
            return []
        args = (inverse, *op.args[1:])
        if verb == "-I" and len(op.args) > 2 and op.args[2].isdigit():
            args = (inverse, op.args[1], *op.args[3:])
        return [lambda: self._run_in(handle, ["iptables", "-w", "-t", op.table, *args])]

    def _run_in(self, handle: _Ns, argv: list[str]) -> subprocess.CompletedProcess:
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


# ---------------------------------------------------------------- helpers
def _readd(op: o.AddrDel, gone) -> o.AddrAdd:
    return o.AddrAdd(
        op.ifname,
        f"{gone.address}/{gone.prefixlen}",
        op.netns,
        broadcast=gone.broadcast,
        scope=gone.scope if gone.scope != "global" else None,
    )


def _scope_number(scope: str | None) -> int | None:
    if scope is None:
        return None
    names = {v: k for k, v in rd.SCOPES.items()}
    names["universe"] = 0
    if scope in names:
        return names[scope]
    try:
        return int(scope)
    except ValueError:
        raise NetError(
            f'Error: argument "{scope}" is wrong: invalid scope value.',
            errno=errno.EINVAL,
            exit=255,
        ) from None


HANDLERS: dict[type, Callable] = {
    o.NetnsAdd: OpsMixin._netns_add,
    o.NetnsDel: OpsMixin._netns_del,
    o.LinkAdd: OpsMixin._link_add,
    o.LinkDel: OpsMixin._link_del,
    o.LinkSet: OpsMixin._link_set,
    o.AddrAdd: OpsMixin._addr_add,
    o.AddrDel: OpsMixin._addr_del,
    o.RouteAdd: OpsMixin._route_add,
    o.RouteDel: OpsMixin._route_del,
    o.SysctlSet: OpsMixin._sysctl_set,
    o.Iptables: OpsMixin._iptables,
    o.Ping: OpsMixin._ping,
}
if hasattr(o, "AddrFlush"):
    HANDLERS[o.AddrFlush] = OpsMixin._addr_flush
