"""Operations that are not netlink requests: ``ping`` (ICMP sockets), ``sysctl -w``
(/proc/sys of the namespace, from the namespace thread) and ``iptables`` (the machine's tool).
"""

from __future__ import annotations

import contextlib
import errno
import socket
from dataclasses import replace

from ..model import ops as o
from ..model.errors import NetError
from ..model.ping import PingReport, check_target
from . import checks
from . import read as rd
from .capture import Capture
from .context import Kernel, Undo
from .echo import echo
from .netns import read_sysctl, write_sysctl

__all__ = ["ping", "sysctl_set", "iptables", "TOOLS"]

#: The machine's programs an operation runs (the rest is netlink): iptables, and its reader.
TOOLS = {o.Iptables: ("nsenter", "iptables", "iptables-save")}


def ping(k: Kernel, op: o.Ping) -> PingReport:
    """Real echoes from inside the namespace: the outcome is ping's report (nothing to undo).

    With ``op.capture``, packet sockets in every namespace of the lab record the echoes
    on each interface while they run (:mod:`.capture`): ``report.captured``.
    """
    handle = k.ns_of(op.netns)
    check_target(op)

    def arp_pending() -> bool:  # anyone on the way still asking (the sender, a router)
        return any(n.state == "INCOMPLETE" for each in list(k.ns.values())
                   for n in rd.dump_neighs(each.rt))

    def open_socket() -> socket.socket:
        return k.thread.inside(handle.path, socket.socket, socket.AF_INET,
                               socket.SOCK_RAW, socket.IPPROTO_ICMP)

    with Capture(k) if op.capture else contextlib.nullcontext() as capture:
        report = echo(open_socket, op.dst, op.count, arp_pending)
        if capture is not None:  # every echo has come back (or timed out): all was tapped
            report = replace(report, captured=capture.seen())
    for each in k.ns.values():  # traffic changes neighbour tables and FDBs anywhere
        each.cache = None
    return report


def sysctl_set(k: Kernel, op: o.SysctlSet) -> Undo:
    handle = k.ns_of(op.netns)
    # Only per-namespace keys: /proc/sys/net of a namespace shows just those,
    # and nothing outside net.* is ever written (it would be the machine's).
    checks.check_sysctl(op.key)
    path = "/proc/sys/" + op.key.replace(".", "/")

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

    old = k.thread.inside(handle.path, body)
    handle.sysctl_keys.add(op.key)
    handle.cache = None
    return [lambda: k.thread.inside(handle.path, write_sysctl, op.key, old)]


def iptables(k: Kernel, op: o.Iptables) -> Undo:
    handle = k.ns_of(op.netns)
    verb = op.args[0] if op.args else ""
    before = ""
    if verb == "-P" and len(op.args) == 3:  # the undo puts the old policy back
        shown = k.run_in(handle, ["iptables", "-w", "-t", op.table, "-S", op.args[1]])
        first = shown.stdout.split("\n", 1)[0].split()
        before = first[2] if shown.returncode == 0 and first[:2] == ["-P", op.args[1]] else ""
    p = k.run_in(handle, ["iptables", "-w", "-t", op.table, *op.args])
    if p.returncode != 0:
        text = p.stderr.rstrip("\n")
        raise NetError(
            text, errno=errno.ENOENT if text.startswith("iptables: ") else 0, exit=p.returncode
        )
    handle.cache = None
    handle.iptables_read = False
    if before:
        return [lambda: k.run_in(handle, ["iptables", "-w", "-t", op.table, "-P", op.args[1], before])]
    inverse = {"-N": "-X", "-A": "-D", "-I": "-D"}.get(verb)
    if inverse is None:
        return []
    args = (inverse, *op.args[1:])
    if verb == "-I" and len(op.args) > 2 and op.args[2].isdigit():
        args = (inverse, op.args[1], *op.args[3:])
    return [lambda: k.run_in(handle, ["iptables", "-w", "-t", op.table, *args])]
