"""What iproute2 checks itself before it talks to the kernel, and the limits both backends share.

One home for these, so the parser, the model and the kernel backend fail a bad
command the same way: iproute2 6.1's client-side checks (lib/utils.c
``check_ifname``/``check_altifname``, lib/ll_addr.c ``ll_addr_a2n``,
ip/ipnetns.c ``invalid_name``, ``invarg()``), the MTU range of each link kind
(``min_mtu``/``max_mtu``, which ``ip -d`` shows and the kernel enforces), and
which sysctls a namespace has its own copy of.
"""

from __future__ import annotations

import errno
import ipaddress
import re

from .errors import NetError, UsageError, say

__all__ = [
    "IFNAMSIZ", "ALTIFNAMSIZ", "MTU_RANGE", "SYSCTL_PREFIXES", "FAMILY_NAME", "invarg", "check_name_arg",
    "check_dev_name", "check_netns_name", "bad_netns", "no_master", "ll_addr", "mac_text", "parse_mac",
    "mtu_range", "check_sysctl", "get_prefix",
]

IFNAMSIZ = 16  # including the terminating NUL: 15 visible characters
ALTIFNAMSIZ = 128  # an alternative name, which a bare device word may be
#: (min_mtu, max_mtu) per link kind; 0 as a maximum means none (loopback).
MTU_RANGE = {"loopback": (0, 0), "veth": (68, 65535), "bridge": (68, 65535),
             "ipip": (68, 65500), "sit": (1280, 65555), "ip6tnl": (1280, 65535)}
#: The sysctls a namespace has its own copy of (what /proc/sys/net shows inside
#: it); anything else would be the machine's, so neither backend writes it.
SYSCTL_PREFIXES = ("net.ipv4.", "net.ipv6.", "net.bridge.", "net.core.", "net.netfilter.", "net.unix.")

_HEX = re.compile(r"\s*[+-]?(?:0[xX])?([0-9a-fA-F]+)")  # sscanf("%x")
_NAME_HINT = say("interface names are 1 to 15 characters, without '/' or spaces",
                 "インターフェース名は 1〜15 文字で、'/' や空白は使えません")


def invarg(arg: str, what: str, hint: str = "") -> UsageError:
    """iproute2's ``invarg()``: ``Error: argument "ARG" is wrong: WHAT`` (exit 255).

    Some of iproute2's messages carry their own newline ("Device does not
    exist\\n"), which prints a blank line: the message is then the complete
    stderr, blank line included.
    """
    text = f'Error: argument "{arg}" is wrong: {what}'
    if text.endswith("\n"):
        text += "\n"
    return UsageError(text, hint=hint)


def _bad_chars(name: str) -> bool:
    return not name or "/" in name or "\0" in name or any(c.isspace() for c in name)


def check_name_arg(name: str, key: str = "name") -> str:
    """``check_ifname()`` for ``name X`` / ``peer name X``: 1 to 15 characters, no '/' or space."""
    if _bad_chars(name) or len(name) >= IFNAMSIZ:
        raise invarg(name, f'"{key}" not a valid ifname', hint=_NAME_HINT)
    return name


def check_dev_name(name: str) -> str:
    """``check_altifname()`` for a bare device word: below 128 characters, no '/' or space."""
    if _bad_chars(name) or len(name) >= ALTIFNAMSIZ:
        raise invarg(name, '"dev" not a valid ifname', hint=_NAME_HINT)
    return name


def check_netns_name(name: str) -> str:
    """``ip netns add|del NAME``: ``invalid_name()`` (exit 255)."""
    if not name or "/" in name or name in (".", "..") or "\0" in name:
        # A NUL cannot reach the real ip (argv is C strings): refused, never cut short.
        raise UsageError(f'Invalid netns name "{name.replace(chr(0), chr(92) + "0")}"',
                         hint=say("a namespace name is a plain word such as red",
                                  "名前空間の名前は red のような単純な単語にしてください"))
    return name


def bad_netns(name: str) -> UsageError:
    """``netns NAME`` names no namespace (iproute2 opens it while it parses)."""
    return invarg(name, 'Invalid "netns" value\n', hint=say(f"create it first with `ip netns add {name}`",
                                                              f"先に `ip netns add {name}` で作成してください"))


def no_master(name: str) -> UsageError:
    """``master NAME`` names no device (iproute2 looks it up while it parses)."""
    return invarg(name, "Device does not exist\n",
                  hint=say(f"there is no link called {name!r} here; create the bridge first",
                           f"ここには {name!r} という名前のリンクはありません。"
                           "先にブリッジを作成してください"))


def ll_addr(text: str) -> bytes:
    """``ll_addr_a2n()``: colon-separated hex bytes, each read like ``sscanf("%x")``;
    the first bad one is named.  At most 32 bytes are read (its buffer)."""
    out = bytearray()
    for part in text.split(":"):
        m = _HEX.match(part)
        value = -1 if m is None else int(m.group(1), 16) * (-1 if part.lstrip().startswith("-") else 1)
        if not 0 <= value <= 255:
            raise NetError(f'"{part}" is invalid lladdr.', errno=errno.EINVAL, exit=1,
                           hint=say("a MAC is six hex bytes separated by colons, e.g. 02:42:ac:11:00:02",
                                    "MAC アドレスはコロンで区切った 6 バイトの 16 進数です "
                                    "(例: 02:42:ac:11:00:02)"))
        out.append(value)
        if len(out) == 32:
            break
    return bytes(out)


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def parse_mac(text: str) -> str:
    """A MAC as ``xx:xx:xx:xx:xx:xx``; another byte count is for the kernel to
    refuse (EINVAL: an Ethernet address has six)."""
    raw = ll_addr(text)
    if len(raw) != 6:
        raise NetError.rtnl(errno.EINVAL, hint=say("a MAC is six bytes, e.g. 02:42:ac:11:00:02",
                                                   "MAC アドレスは 6 バイトです (例: 02:42:ac:11:00:02)"))
    return mac_text(raw)


#: How iproute2 names an address family in its errors.
FAMILY_NAME = {None: "any valid", 4: "inet", 6: "inet6"}


def get_prefix(text: str, family: int | None = None
               ) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, bool]:
    """``get_prefix()``: ``ADDR[/LEN]`` of the family (exit 1 when bad): the interface,
    and whether a length was given (without one it is the whole address: /32 or /128)."""
    bad = UsageError(f'Error: {FAMILY_NAME[family]} prefix is expected rather than "{text}".', exit=1,
                     hint=say("write an address with its prefix length, e.g. 10.0.0.2/24",
                              "アドレスはプレフィックス長を付けて書いてください (例: 10.0.0.2/24)"))
    addr, slash, plen = text.partition("/")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise bad from None
    if (family is not None and ip.version != family) or (
            slash and (not plen.isdigit() or int(plen) > ip.max_prefixlen)):
        raise bad
    return ipaddress.ip_interface(f"{ip}/{int(plen) if slash else ip.max_prefixlen}"), bool(slash)


def mtu_range(kind: str) -> tuple[int, int]:
    """(min_mtu, max_mtu) of a link kind (ether_setup()'s 68..65535 unless the driver says)."""
    return MTU_RANGE.get(kind, (68, 65535))


def check_sysctl(key: str) -> str:
    """``sysctl -w KEY=...`` of a key a namespace does not have its own copy of: as if absent."""
    if not key.startswith(SYSCTL_PREFIXES) or ".." in key:
        path = "/proc/sys/" + key.replace(".", "/")
        raise NetError(f"sysctl: cannot stat {path}: No such file or directory", errno=errno.ENOENT, exit=1,
                       hint=say("simlab sets the net.* sysctls of a namespace",
                                "simlab が設定できるのは、名前空間の net.* の sysctl だけです"))
    return key
