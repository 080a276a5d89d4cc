"""Real ICMP echoes from inside a lab namespace (what `ip netns exec NS ping` does).

A raw ICMP socket belongs to the namespace of the thread that creates it, so
the lab's namespace thread makes it and this thread uses it.  Raw ICMP sockets
get every ICMP message of their namespace: an echo reply with our id answers
an echo.  Errors come on the socket's error queue (``IP_RECVERR``, as iputils
ping reads them), or as a Destination Unreachable that quotes our request.

When nobody answers ARP, the kernel reports Destination Host Unreachable only
after its 3 probes (about 3 s), and only if the error can reach the sender
(through ``lo``: with ``lo`` down nothing comes back).  While an entry is
INCOMPLETE we wait for it.
"""

from __future__ import annotations

import itertools
import os
import select
import socket
import struct
import time
from collections.abc import Callable

from ..model.ping import Echo, PingReport

__all__ = ["echo"]

# iputils' pr_icmph() words for ICMP_DEST_UNREACH codes.
_UNREACH = {0: "Destination Net Unreachable", 1: "Destination Host Unreachable",
            2: "Destination Protocol Unreachable", 3: "Destination Port Unreachable",
            9: "Destination Net Prohibited", 10: "Destination Host Prohibited",
            13: "Packet filtered"}

_PAYLOAD = bytes(range(56))  # 56 data bytes: 64 with the ICMP header, as ping sends
_WAIT = 1.0  # ping -W 1
_ARP_WAIT = 3.5  # mcast_solicit (3) probes, retrans_time (1 s) apart
IP_RECVERR = 11  # <linux/in.h>
#: Each ping its own ICMP id, as each ping process has its own: conntrack keys an echo's
#: connection by it, so a second ping to the same address is a new connection (nat is
#: read again, its first echo is NEW), as the model counts it.  (A socket's id() can
#: come back for the next socket, which made two pings one connection.)
_IDENTS = itertools.count(os.getpid() * 7919)
_ORIGIN_ICMP = 2  # SO_EE_ORIGIN_ICMP


def _unreachable(code: int) -> str:
    """What ping prints for an ICMP Destination Unreachable with ``code``."""
    return _UNREACH.get(code, f"Dest Unreachable, Bad Code: {code}")


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _request(ident: int, seq: int) -> bytes:
    head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(head + _PAYLOAD), ident, seq) + _PAYLOAD


def _answer(data: bytes, src: str, ident: int, seq: int) -> Echo | None:
    """The Echo ``data`` (an IP packet) answers, or None if it answers something else."""
    ihl = (data[0] & 0x0F) * 4
    if len(data) < ihl + 8:
        return None
    kind, code, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
    if kind == 0:
        return Echo(seq, reply_from=src, ttl=data[8]) if (rid, rseq) == (ident, seq) else None
    if kind == 3:  # the error quotes our IP header and the first 8 bytes of our request
        inner = data[ihl + 8:]
        if len(inner) < 20 or len(inner) < (inner[0] & 0x0F) * 4 + 8:
            return None
        qihl = (inner[0] & 0x0F) * 4
        qkind, _, _, qid, qseq = struct.unpack("!BBHHH", inner[qihl:qihl + 8])
        if (qkind, qid, qseq) == (8, ident, seq):
            return Echo(seq, error=_unreachable(code), error_from=src)
    return None


def _queued_error(sock: socket.socket, ident: int, seq: int) -> Echo | None:
    """An ICMP error about our request from the error queue (``struct sock_extended_err``)."""
    try:
        data, ancillary, _, _ = sock.recvmsg(512, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return None
    for level, kind, blob in ancillary:
        if (level, kind) != (socket.IPPROTO_IP, IP_RECVERR) or len(blob) < 24:
            continue
        _, origin, etype, code = struct.unpack_from("=IBBB", blob)
        offender = socket.inet_ntoa(blob[20:24])  # the sockaddr_in after the 16-byte header
        if origin != _ORIGIN_ICMP or etype != 3 or len(data) < 8:
            continue
        if data[0] == 8 and struct.unpack_from("!HH", data, 4) == (ident, seq):  # our request
            return Echo(seq, error=_unreachable(code), error_from=offender)
    return None


def echo(open_socket: Callable[[], socket.socket], dst: str, count: int,
         resolving: Callable[[], bool]) -> PingReport:
    """Send ``count`` echo requests to ``dst`` on the socket ``open_socket`` makes.

    ``resolving()`` says whether the sending namespace still waits for an ARP answer.
    """
    sock = open_socket()
    sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    ident = next(_IDENTS) & 0xFFFF
    echoes = []
    try:
        for seq in range(1, count + 1):
            try:
                sock.sendto(_request(ident, seq), (dst, 0))
            except OSError as err:
                return PingReport(dst, tuple(echoes), connect_error=os.strerror(err.errno))
            start = time.monotonic()
            got = None
            while got is None:
                left = start + (_ARP_WAIT if resolving() else _WAIT) - time.monotonic()
                if left <= 0:
                    break
                if select.select([sock], [], [], min(left, 0.1))[0]:
                    got = _queued_error(sock, ident, seq)
                    if got is None:
                        try:
                            data, (src, _) = sock.recvfrom(65535, socket.MSG_DONTWAIT)
                        except (BlockingIOError, OSError):
                            continue  # an error without a queued message: read on
                        got = _answer(data, src, ident, seq)
            echoes.append(got or Echo(seq))
    finally:
        sock.close()
    return PingReport(dst, tuple(echoes))
