"""What the lab's interfaces really carry while a ping runs: AF_PACKET sockets, one per namespace.

:class:`Capture` opens one ``AF_PACKET``/``ETH_P_ALL`` socket inside each namespace the
lab made (a packet socket belongs to the namespace its creator was in, so the lab's
namespace thread makes it there) and, after the traffic, reads what each one heard:
every frame sent (``PACKET_OUTGOING``) or received (any other ``pkttype``) on any
interface of that namespace, named by the ``sll_ifindex`` of its ``sockaddr_ll``
(``SIOCGIFNAME`` on the socket resolves it in the socket's own namespace).

Frames from different namespaces are put in order by the time the kernel tapped them.
A ``PACKET_RX_RING`` (TPACKET_V2) stamps every frame as it is tapped; plain
``recvmsg`` with ``SO_TIMESTAMPNS`` does not: the kernel turns its timestamps on
asynchronously (``net_enable_timestamp`` defers it to a work item), and a frame tapped
before that is stamped when it is read, which put a veth's ``in`` before its ``out``.
A frame is tapped on its way out before its peer receives it, so the order is the
order on the wire.

Only IPv4 ICMP echo requests and replies are kept (what a ping sends); ARP, IPv6, ICMP
errors and everything else are ignored.  The headers are read with :mod:`struct` by
hand (Ethernet, IPv4, the ICMP type: a dozen fields): a packet library such as scapy
would be a heavy dependency (seconds to import, a large tree) for three headers.

Nothing changes on the machine: no interface is set promiscuous, no filter is attached,
and every ring and socket is released when the capture ends, whatever happens.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import mmap
import socket
import struct
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from ..model.errors import NetError
from ..model.wire import Seen

if TYPE_CHECKING:  # the parser needs no pyroute2
    from .context import Kernel

__all__ = ["Capture", "parse_frame"]

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
# <linux/if_packet.h>
SOL_PACKET = 263
PACKET_RX_RING, PACKET_VERSION, PACKET_STATISTICS = 5, 10, 6
TPACKET_V2 = 1
TP_STATUS_USER = 1
PACKET_OUTGOING = 4
SIOCGIFNAME = 0x8910
_HDR = struct.Struct("=IIIHHII")  # tpacket2_hdr: status, len, snaplen, mac, net, sec, nsec
_SLL = struct.Struct("=HHiHBB")  # sockaddr_ll after the header (TPACKET_ALIGN(32) = 32)
#: The ring: 2 blocks of 64 KiB, 256 bytes a frame (headers only: tp_snaplen cuts the rest):
#: 512 frames a namespace, the echoes of a long ping and the links' own chatter.
_FRAME, _BLOCK, _BLOCKS = 256, 1 << 16, 2
_ECHO = {8: "request", 0: "reply"}  # ICMP type -> leg


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def parse_frame(frame: bytes) -> tuple[str, str, str, str, str, int] | None:
    """(leg, src MAC, dst MAC, src IP, dst IP, TTL) of an Ethernet frame carrying an IPv4
    ICMP echo request or reply; None for anything else."""
    if len(frame) < 14 + 20 + 8:
        return None
    dst_mac, src_mac, ethertype = frame[:6], frame[6:12], struct.unpack_from("!H", frame, 12)[0]
    if ethertype != ETH_P_IP:
        return None
    ip = frame[14:]
    version, ihl = ip[0] >> 4, (ip[0] & 0x0F) * 4
    if version != 4 or ihl < 20 or len(ip) < ihl + 8:
        return None
    ttl, proto = ip[8], ip[9]
    frag = struct.unpack_from("!H", ip, 6)[0] & 0x1FFF
    if proto != socket.IPPROTO_ICMP or frag:  # a later fragment has no ICMP header
        return None
    leg = _ECHO.get(ip[ihl])
    if leg is None:
        return None
    return (leg, _mac(src_mac), _mac(dst_mac), socket.inet_ntoa(ip[12:16]),
            socket.inet_ntoa(ip[16:20]), ttl)


@dataclass
class _Ring:
    """One namespace's packet socket and the ring the kernel writes its frames into."""

    key: str
    sock: socket.socket
    ring: mmap.mmap

    def close(self) -> None:
        with contextlib.suppress(BufferError, ValueError):
            self.ring.close()
        with contextlib.suppress(OSError):
            self.sock.close()

    def ifname(self, ifindex: int, names: dict[int, str]) -> str:
        if ifindex not in names:
            req = struct.pack("16si20x", b"", ifindex)
            try:
                names[ifindex] = fcntl.ioctl(self.sock.fileno(), SIOCGIFNAME, req)[:16] \
                    .split(b"\0")[0].decode()
            except OSError:  # gone meanwhile
                names[ifindex] = f"if{ifindex}"
        return names[ifindex]

    def frames(self):
        """(tap time in ns, ifindex, pkttype, frame) of every frame the kernel handed over."""
        per_block = _BLOCK // _FRAME
        for i in range(per_block * _BLOCKS):
            at = (i // per_block) * _BLOCK + (i % per_block) * _FRAME
            status, _, snaplen, mac, _, sec, nsec = _HDR.unpack_from(self.ring, at)
            if not status & TP_STATUS_USER:  # the kernel fills the ring in order from frame 0
                return
            _, _, ifindex, _, pkttype, _ = _SLL.unpack_from(self.ring, at + 32)
            frame = self.ring[at + mac:at + mac + snaplen]
            yield sec * 1_000_000_000 + nsec, ifindex, pkttype, frame

    def dropped(self) -> int:
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        return struct.unpack("=II", raw)[1]


def _open_here(key: str) -> _Ring:
    """A packet socket with its ring, for every interface of the calling thread's namespace."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING,
                        struct.pack("=IIII", _BLOCK, _BLOCKS, _FRAME, _BLOCK // _FRAME * _BLOCKS))
        ring = mmap.mmap(sock.fileno(), _BLOCK * _BLOCKS, mmap.MAP_SHARED,
                         mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError:
        sock.close()
        raise
    return _Ring(key, sock, ring)


class Capture:
    """Packet sockets in each of the lab's namespaces; ``seen()`` reads what they heard.

    Use it as a context manager around the traffic::

        with Capture(k) as cap:
            ...  # send
            records = cap.seen()
    """

    def __init__(self, k: Kernel):
        if k.attached:
            raise NetError("capture: this backend was attached to namespaces another lab made; "
                           "capture from the lab that made them", errno=errno.EPERM, exit=1)
        self.k = k
        self.rings: list[_Ring] = []

    def __enter__(self) -> Capture:
        try:
            for key, handle in list(self.k.ns.items()):
                self.rings.append(self.k.thread.inside(handle.path, _open_here, key))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for ring in self.rings:
            ring.close()
        self.rings.clear()

    def seen(self) -> tuple[Seen, ...]:
        """Every echo request and reply tapped so far, in the order of the wire."""
        stamped: list[tuple[int, int, Seen]] = []
        for ring in self.rings:
            if ring.dropped():
                raise NetError(f"capture: the ring of namespace {ring.key or 'node'} overflowed "
                               "and frames were lost; capture fewer echoes (ping -c 1)",
                               errno=errno.ENOBUFS, exit=1)
            names: dict[int, str] = {}
            for when, ifindex, pkttype, frame in ring.frames():
                fields = parse_frame(frame)
                if fields is None:
                    continue
                leg, src_mac, dst_mac, src_ip, dst_ip, ttl = fields
                way = "out" if pkttype == PACKET_OUTGOING else "in"
                record = Seen(leg, ring.key, ring.ifname(ifindex, names), way, src_mac, dst_mac,
                              src_ip, dst_ip, ttl)
                stamped.append((when, len(stamped), record))
        stamped.sort(key=lambda item: item[:2])
        return tuple(record for _, _, record in stamped)
