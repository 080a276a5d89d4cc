"""Make two outputs of `ip` / `bridge` comparable: hide what the kernel draws at random.

A real kernel gives every veth and bridge a random MAC; the model draws its
own from a seeded generator.  Everything else must match byte for byte, so
only these rules apply, each for the reason given:

1. A unicast MAC (first byte even, not 00:00:00:00:00:00) becomes ``<macN>``,
   numbered in order of first appearance across everything normalized
   together (one golden case: all its outputs).  Random MACs are the only
   random thing `ip` prints.  MACs listed in ``keep`` (the ones the commands
   typed, e.g. ``address 02:42:ac:11:00:02``) are deterministic and stay.
   Multicast/broadcast MACs (``ff:ff:...``, ``33:33:...``, ``01:00:5e:...``,
   ``01:80:c2:...``) are fixed by the protocols and stay.
2. A bridge id (``8000.`` + the bridge MAC, each byte printed with ``%x``, so
   ``8000.2:0:0:0:0:5``) is read as that MAC: ``8000.<macN>``.
3. An IPv6 link-local address made by EUI-64 from a MAC (``fe80::`` + the MAC
   with bit 0x02 flipped and ``ff:fe`` in the middle) becomes ``fe80::<macN>``
   of that MAC, so it stays tied to the MAC it came from.  (A bridge keeps the
   link-local of the MAC it had when it got carrier; that MAC may never be
   printed, and then the address gets its own number.)
4. A solicited-node multicast MAC ``33:33:ff:XX:YY:ZZ`` (the last 3 bytes of an
   IPv6 address, so of the MAC behind a link-local) whose tail is the tail of
   a numbered MAC becomes ``33:33:ff:<macN>``.
5. A running bridge timer (``gc_timer  298.81``, ``forward_delay_timer
   12.59``) counts down in real time: a non-zero value becomes ``<timer>``.
   ``0.00`` (not running) stays.

>>> normalize(["link/ether 0a:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff",
...            "inet6 fe80::811:22ff:fe33:4455/64", "33:33:ff:33:44:55 dev br0 self permanent"])
['link/ether <mac1> brd ff:ff:ff:ff:ff:ff', 'inet6 fe80::<mac1>/64', '33:33:ff:<mac1> dev br0 self permanent']
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, Sequence

__all__ = ["normalize", "normalize_text", "macs_in"]

_HEX = "[0-9a-fA-F]"
_TOKEN = re.compile(
    rf"(?P<ll>(?<![0-9a-fA-F:])fe80:[0-9a-fA-F:]*{_HEX})"
    rf"|(?P<bid>(?<![0-9a-fA-F.:])8000\.(?P<bidmac>{_HEX}{{1,2}}(?::{_HEX}{{1,2}}){{5}}))(?![0-9a-fA-F:])"
    rf"|(?P<mac>(?<![0-9a-fA-F:]){_HEX}{{2}}(?::{_HEX}{{2}}){{5}})(?![0-9a-fA-F:])"
)
_TIMER = re.compile(r"(_timer\"?:? ?) *(\d+\.\d\d)")
_MAC_WORD = re.compile(rf"{_HEX}{{1,2}}(?::{_HEX}{{1,2}}){{5}}")


def _canon(mac: str) -> str:
    return ":".join(f"{int(b, 16):02x}" for b in mac.split(":"))


def _is_random_kind(mac: str) -> bool:
    """Unicast and not all zeros: the kind of MAC a kernel draws at random."""
    return not int(mac[:2], 16) & 1 and mac != "00:00:00:00:00:00"


def _eui64_mac(text: str) -> str | None:
    """The MAC behind an EUI-64 link-local address, or None."""
    try:
        ip = ipaddress.IPv6Address(text)
    except ValueError:
        return None
    raw = ip.packed
    if raw[:8] != b"\xfe\x80" + b"\x00" * 6 or raw[11:13] != b"\xff\xfe":
        return None
    octets = [raw[8] ^ 0x02, raw[9], raw[10], raw[13], raw[14], raw[15]]
    return ":".join(f"{b:02x}" for b in octets)


def macs_in(text: str) -> set[str]:
    """The MACs written in ``text`` (e.g. the commands of a case), canonical form."""
    return {_canon(m) for m in _MAC_WORD.findall(text)}


def normalize(texts: Sequence[str], keep: Iterable[str] = ()) -> list[str]:
    """Normalize several outputs with one numbering (rules in the module docstring)."""
    kept = {_canon(m) for m in keep}
    numbers: dict[str, int] = {}

    def number(mac: str) -> str | None:
        if mac in kept or not _is_random_kind(mac):
            return None
        if mac not in numbers:
            numbers[mac] = len(numbers) + 1
        return f"<mac{numbers[mac]}>"

    # Pass 1: number the MACs in order of first appearance (tails need them all).
    for text in texts:
        for m in _TOKEN.finditer(text):
            if m.group("ll"):
                mac = _eui64_mac(m.group("ll"))
            elif m.group("bid"):
                mac = _canon(m.group("bidmac"))
            else:
                mac = _canon(m.group("mac"))
                if mac.startswith("33:33:ff:"):
                    continue
            if mac is not None:
                number(mac)
    tails = {}
    for mac, n in numbers.items():
        tails.setdefault(mac[9:], n)

    def replace(m: re.Match) -> str:
        if m.group("ll"):
            mac = _eui64_mac(m.group("ll"))
            label = number(mac) if mac else None
            return f"fe80::{label}" if label else m.group(0)
        if m.group("bid"):
            label = number(_canon(m.group("bidmac")))
            return f"8000.{label}" if label else m.group(0)
        mac = _canon(m.group("mac"))
        if mac.startswith("33:33:ff:"):
            n = tails.get(mac[9:])
            return f"33:33:ff:<mac{n}>" if n else m.group(0)
        return number(mac) or m.group(0)

    def timers(m: re.Match) -> str:
        return m.group(0) if float(m.group(2)) == 0 else f"{m.group(1)}<timer>"

    return [_TIMER.sub(timers, _TOKEN.sub(replace, text)) for text in texts]


def normalize_text(text: str, keep: Iterable[str] = ()) -> str:
    """:func:`normalize` for one text."""
    return normalize([text], keep)[0]
