"""A small synchronous rtnetlink client on pyroute2's message classes.

pyroute2 encodes the requests (``ifinfmsg``, ``ifaddrmsg``, ``rtmsg``,
``nsidmsg``, ``ndmsg``) and decodes most answers; the transport is a plain
blocking socket that the caller created inside the right namespace (see
:mod:`simlab.kernel.netns`).  No event loop is involved, so it works inside
Jupyter (whose loop is already running) and costs a fraction of a millisecond
per request.  Link messages, read on every operation, are decoded by
:func:`parse_link` (a few ``struct`` reads) instead of pyroute2's generic
decoder, which is ten times slower for them.  The requests are the ones
iproute2 sends for the same command, so the kernel answers with the same
errno and extack text.
"""

from __future__ import annotations

import os
import socket
import struct
import threading

from pyroute2.netlink import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
)
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.marshal import MarshalRtnl

__all__ = [
    "Rtnl", "NetlinkError", "REQ", "DUMP", "CREATE", "Monitor", "attrs", "encode", "EVERYTHING",
]

REQ = NLM_F_REQUEST | NLM_F_ACK
DUMP = NLM_F_REQUEST | NLM_F_DUMP
CREATE = REQ | NLM_F_CREATE | NLM_F_EXCL
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200
NLMSGERR_ATTR_MSG = 1
_HDR = struct.Struct("=IHHII")


def attrs(data: bytes, start: int, end: int) -> dict[int, memoryview]:
    """The netlink attributes in ``data[start:end]`` by type (nested flag dropped)."""
    out = {}
    view = memoryview(data)
    while start + 4 <= end:
        length, kind = struct.unpack_from("=HH", data, start)
        if length < 4:
            break
        out[kind & 0x3FFF] = view[start + 4 : start + length]
        start += (length + 3) & ~3
    return out


_INDEX_FIELD: dict = {}  # message class -> position of its "index" field (at byte 20)
_ENCODED: dict = {}  # request spec -> bytes pyroute2 encoded (sequence number 0)
_ENCODED_MAX = 8192


def encode(msg, msg_type: int, flags: int) -> bytearray:
    """pyroute2's encoding of ``msg``, cached: the same request again costs nothing.

    Many requests repeat exactly (``lo`` up and ``eth0`` up in every pod, the
    same name lookups), and pyroute2's encoder costs 60-170 us a message.
    The sequence number (offset 8) is left 0 for the caller to patch.
    """
    cls = type(msg)
    # dict.get: pyroute2's own get() searches the attributes, which costs more than encoding.
    fields = [dict.get(msg, name) for name, _fmt in cls.fields]
    position = _INDEX_FIELD.get(cls)
    index = 0
    if position is not None:
        # ifinfomsg/ifaddrmsg: the ifindex (offset 20) is patched in, so one encoding
        # serves every link ("eth0 up" in pod 1 and in pod 2, "veth7 master br0 up").
        index = fields[position] or 0
        fields[position] = None
    key = (cls, msg_type, flags, tuple(fields), repr(dict.get(msg, "attrs")))
    data = _ENCODED.get(key)
    if data is None:
        msg["header"]["type"] = msg_type
        msg["header"]["flags"] = flags
        msg["header"]["sequence_number"] = 0
        msg["header"]["pid"] = 0
        msg.encode()
        data = bytes(msg.data)
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        _ENCODED[key] = data
    out = bytearray(data)
    if position is not None:
        struct.pack_into("=i", out, 20, index)
    return out


class Rtnl:
    """Requests on one rtnetlink socket; one request at a time."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.marshal = MarshalRtnl()
        self.seq = 0
        self.lock = threading.Lock()

    def _exchange(self, data: bytearray, flags: int) -> list[tuple[int, bytes]]:
        """Send; collect (type, raw message) answers until done; raise the kernel's error."""
        self.seq += 1
        seq = self.seq
        struct.pack_into("=I", data, 8, seq)
        self.sock.send(data)
        out: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(1 << 20)
            offset, done = 0, False
            while offset + 16 <= len(data):
                length, kind, mflags, mseq, _pid = _HDR.unpack_from(data, offset)
                if length < 16:
                    break
                raw = data[offset : offset + length]
                offset += (length + 3) & ~3
                if mseq != seq:
                    continue  # a late answer to an abandoned request
                if kind == NLMSG_DONE:
                    done = True
                elif kind == NLMSG_ERROR:
                    (code,) = struct.unpack_from("=i", raw, 16)
                    if code:
                        raise _error(raw, -code, mflags)
                    done = True
                else:
                    out.append((kind, raw))
            if done or (not (flags & NLM_F_DUMP) and out):
                return out

    def request(self, msg, msg_type: int, flags: int = REQ) -> list:
        """Send ``msg`` (a pyroute2 message); the answers decoded by pyroute2 ([] for an ack).

        Raises pyroute2's ``NetlinkError(code, extack or strerror)``.
        """
        data = encode(msg, msg_type, flags)
        with self.lock:
            return [m for _k, raw in self._exchange(data, flags) for m in self.marshal.parse(raw)]

    def request_raw(self, msg, msg_type: int, flags: int = REQ) -> list[bytes]:
        """Like :meth:`request`, but the answers as raw messages (header included)."""
        data = encode(msg, msg_type, flags)
        with self.lock:
            return [raw for _k, raw in self._exchange(data, flags)]

    def close(self) -> None:
        self.sock.close()


def _error(raw: bytes, code: int, flags: int) -> NetlinkError:
    text = None
    if flags & NLM_F_ACK_TLVS:
        inner = 16 + 4
        orig_len = struct.unpack_from("=I", raw, inner)[0]
        start = inner + (16 if flags & NLM_F_CAPPED else (orig_len + 3) & ~3)
        found = attrs(raw, start, len(raw)).get(NLMSGERR_ATTR_MSG)
        if found is not None:
            text = bytes(found).split(b"\0", 1)[0].decode(errors="replace")
    return NetlinkError(code, text or os.strerror(code))


#: The notification types a monitor tells apart, by the part of a namespace they change.
LINK, ADDR, ROUTE, NEIGH, NSID, NETCONF, RULE = "link", "addr", "route", "neigh", "nsid", "netconf", "rule"
EVERYTHING = frozenset({LINK, ADDR, ROUTE, NEIGH, NSID, NETCONF, RULE})
_PARTS = {16: LINK, 17: LINK, 20: ADDR, 21: ADDR, 24: ROUTE, 25: ROUTE, 28: NEIGH, 29: NEIGH,
          88: NSID, 89: NSID, 80: NETCONF, 81: NETCONF, 32: RULE, 33: RULE}


class Monitor:
    """A non-blocking socket that tells what changed since it was last asked."""

    def __init__(self, sock: socket.socket):
        sock.setblocking(False)
        self.sock = sock
        #: The ifindexes link notifications were about (the reader empties it); None:
        #: maybe any (messages were lost).
        self.links: set[int] | None = set()

    def fileno(self) -> int:
        return self.sock.fileno()

    def changed(self) -> frozenset:
        """The parts (:data:`LINK`, :data:`ADDR`...) notifications were about; empty: none.

        Every part when messages were lost (ENOBUFS), or of a type not listed."""
        seen: set = set()
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                return frozenset(seen)
            except OSError:  # ENOBUFS: we missed messages, so anything may have changed
                seen |= EVERYTHING
                self.links = None
                continue
            if not data:
                return frozenset(seen)
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                seen.add(_PARTS.get(kind, LINK))  # unknown: read everything (LINK does)
                if kind in (16, 17) and length >= 24:
                    if self.links is not None:
                        self.links.add(struct.unpack_from("=i", data, offset + 20)[0])
                elif kind not in _PARTS:
                    self.links = None
                if length < 16:
                    break
                offset += (length + 3) & ~3

    def close(self) -> None:
        self.sock.close()


for _cls in (ifinfmsg, ifaddrmsg):
    _names = [name for name, _fmt in _cls.fields]
    _INDEX_FIELD[_cls] = _names.index("index")
