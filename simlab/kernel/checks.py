"""What iproute2 checks itself before it talks to the kernel, with its own words.

A bad command fails the same way on the kernel backend as in a terminal: these
are iproute2 6.1's client-side checks (ip/iplink.c ``iplink_parse``,
lib/ll_addr.c ``ll_addr_a2n``, lib/utils.c ``check_ifname``,
ip/ipnetns.c ``invalid_name``, ip/ipaddress.c / ip/iproute.c prefix parsing),
and the translation of a netlink error into what ``ip`` prints
(lib/libnetlink.c: ``Error: <extack>.`` or ``RTNETLINK answers: <strerror>``,
exit status 2).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re

from ..model.errors import NetError

__all__ = [
    "from_netlink",
    "ll_addr",
    "check_dev_name",
    "check_name",
    "invarg",
    "bad_netns",
    "no_master",
    "netns_name_ok",
    "parse_prefix",
    "parse_addr",
    "no_device",
]

IFNAMSIZ = 16
_HEX = re.compile(r"\s*[+-]?(?:0[xX])?([0-9a-fA-F]+)")


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
    """iproute2's ``invarg()``: ``Error: argument "ARG" is wrong: MSG`` and exit(-1).

    Some of iproute2's messages carry their own newline ("Device does not
    exist\n"), which prints a blank line: the message is then the complete
    stderr, blank line included (the model's convention too).
    """
    text = f'Error: argument "{arg}" is wrong: {msg}'
    if text.endswith("\n"):
        text += "\n"
    return NetError(text, errno=errno.EINVAL, exit=255)


def bad_netns(name: str) -> NetError:
    return invarg('Invalid "netns" value\n', name)


def no_master(name: str) -> NetError:
    return invarg("Device does not exist\n", name)


def no_device(name: str) -> NetError:
    return NetError.no_device(name)


def ll_addr(text: str) -> bytes:
    """``ll_addr_a2n``: colon-separated hex bytes, each parsed like ``sscanf("%x")``."""
    out = bytearray()
    parts = text.split(":")
    for n, part in enumerate(parts):
        m = _HEX.match(part)
        if m is None:
            raise NetError(f'"{part}" is invalid lladdr.', errno=errno.EINVAL, exit=1)
        value = int(m.group(1), 16)
        if part.lstrip().startswith("-"):
            value = -value
        if value < 0 or value > 255:
            raise NetError(f'"{part}" is invalid lladdr.', errno=errno.EINVAL, exit=1)
        out.append(value)
        if n == 31:  # abuf[32]
            break
    return bytes(out)


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _bad_chars(name: str) -> bool:
    return not name or any(c == "/" or c.isspace() for c in name)


def check_dev_name(name: str) -> None:
    """``ip link add NAME``: ``check_altifname`` (length is left to the kernel)."""
    if _bad_chars(name):
        raise invarg('"dev" not a valid ifname', name)


def check_name(name: str) -> None:
    """``name NEW`` / ``peer name P``: ``check_ifname``."""
    if _bad_chars(name) or len(name) >= IFNAMSIZ:
        raise invarg('"name" not a valid ifname', name)


def netns_name_ok(name: str) -> None:
    """``ip netns add|del NAME``: ``invalid_name`` (exit 255)."""
    if not name or "/" in name or name in (".", ".."):
        raise NetError(f'Invalid netns name "{name}"', errno=errno.EINVAL, exit=255)


def parse_prefix(text: str):
    """``get_prefix``: an address with an optional /len, as ``ip addr`` and ``ip route`` take it.

    Returns (ip_interface, prefix given?).
    """
    try:
        if text.count("/") > 1:
            raise ValueError
        addr, slash, plen = text.partition("/")
        if slash and not plen.isdigit():
            raise ValueError
        ip = ipaddress.ip_address(addr)
        bits = ip.max_prefixlen
        length = int(plen) if slash else bits
        if length > bits:
            raise ValueError
        return ipaddress.ip_interface(f"{ip}/{length}"), bool(slash)
    except ValueError:
        raise NetError(
            f'Error: any valid prefix is expected rather than "{text}".', errno=errno.EINVAL, exit=1
        ) from None


def parse_addr(text: str):
    """``get_addr`` for ``via``: an address without a prefix."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise NetError(
            f'Error: inet address is expected rather than "{text}".', errno=errno.EINVAL, exit=1
        ) from None
