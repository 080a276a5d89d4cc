"""What iproute2 checks itself before it talks to the kernel, with its own words.

A bad command fails the same way on the kernel backend as in a terminal: these
are iproute2 6.1's client-side checks (names, MACs, netns names and sysctl
keys come from :mod:`simlab.model.checks`, which the parser and the model use
too; ip/ipaddress.c / ip/iproute.c prefix parsing is here), and the
translation of a netlink error into what ``ip`` prints (lib/libnetlink.c:
``Error: <extack>.`` or ``RTNETLINK answers: <strerror>``, exit status 2).
"""

from __future__ import annotations

import errno
import ipaddress
import os

from ..model import checks as shared
from ..model.errors import NetError

__all__ = [
    "from_netlink",
    "ll_addr",
    "parse_mac",
    "check_dev_name",
    "check_name",
    "invarg",
    "bad_netns",
    "no_master",
    "netns_name_ok",
    "parse_prefix",
    "parse_addr",
    "no_device",
    "check_sysctl",
]


def from_netlink(err) -> NetError:
    """A pyroute2 ``NetlinkError`` as iproute2 reports it (exit 2)."""
    code = abs(int(err.code))
    text = err.args[1] if len(err.args) > 1 else None
    if text and text != os.strerror(code):
        message = f"Error: {text}" + ("" if text.endswith(".") else ".")
    else:
        message = f"RTNETLINK answers: {os.strerror(code)}"
    return NetError(message, errno=code, exit=2)


def invarg(msg: str, arg: str) -> NetError:
    """iproute2's ``invarg()`` (message first, as in C); see :func:`simlab.model.checks.invarg`."""
    return shared.invarg(arg, msg)


def no_device(name: str) -> NetError:
    return NetError.no_device(name)


ll_addr = shared.ll_addr
mac_text = shared.mac_text
parse_mac = shared.parse_mac  # a MAC and the kernel's six-byte rule, together
check_dev_name = shared.check_dev_name  # ``ip link add NAME``: check_altifname()
check_name = shared.check_name_arg  # ``name NEW`` / ``peer name P``: check_ifname()
netns_name_ok = shared.check_netns_name  # ``ip netns add|del NAME``: invalid_name()
bad_netns = shared.bad_netns
no_master = shared.no_master
check_sysctl = shared.check_sysctl  # ``sysctl -w``: per-namespace keys only


parse_prefix = shared.get_prefix  # ``get_prefix``: (ip_interface, prefix given?)


def parse_addr(text: str):
    """``get_addr`` for ``via``: an address without a prefix."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise NetError(
            f'Error: inet address is expected rather than "{text}".', errno=errno.EINVAL, exit=1
        ) from None
