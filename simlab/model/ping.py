"""`ping` on the model: the echoes' fate from the packet walk, and what they leave behind.

:func:`ping` is the model's handler of the :class:`~simlab.model.ops.Ping`
operation (a pure function like every handler); :func:`model_report` says what
`ping` prints.  The kernel backend sends real echoes and fills the same
:class:`PingReport`, so both backends print the same text.

The text is iputils ping's, without the times (the model has no clock):
``64 bytes from 10.0.0.2: icmp_seq=1 ttl=64`` and
``1 packets transmitted, 1 received, 0% packet loss``.
"""

from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass

from . import ops as o
from .errors import NetError, say
from .forward import REJECT_ERRORS, Seen, Walk, source_for, reach
from .learn import learn
from .xt_counters import count_walk
from .state import NetState

__all__ = ["Echo", "PingReport", "ping", "model_report", "check_target"]

_TTL = 64  # net.ipv4.ip_default_ttl: what the answering namespace starts the reply with


@dataclass(frozen=True)
class Echo:
    """One echo request: the reply (its source and TTL) or the ICMP error that came back."""

    seq: int
    reply_from: str | None = None
    ttl: int | None = None
    error: str = ""  # "Destination Host Unreachable", "Destination Net Unreachable"
    error_from: str | None = None


@dataclass(frozen=True)
class PingReport:
    """What `ping -c N DST` did; ``walk`` is the model's story of the first echo.

    ``captured`` (when the ``Ping`` asked for it): the echoes on every interface they
    crossed, in order; on the kernel what AF_PACKET sockets in the lab's namespaces
    saw, on the model its walks' ``seen``.
    """

    dst: str
    echoes: tuple[Echo, ...] = ()
    connect_error: str = ""  # "Network is unreachable": nothing was sent
    walk: Walk | None = None
    captured: tuple[Seen, ...] = ()

    @property
    def received(self) -> int:
        return sum(e.reply_from is not None for e in self.echoes)

    @property
    def ok(self) -> bool:
        return self.received > 0

    @property
    def exit(self) -> int:
        """ping's exit status: 0 with a reply, 1 without, 2 when it could not send."""
        return 2 if self.connect_error else (0 if self.ok else 1)

    @property
    def text(self) -> str:
        if self.connect_error:
            return f"ping: connect: {self.connect_error}\n"
        lines = [f"PING {self.dst} ({self.dst}) 56(84) bytes of data."]
        for e in self.echoes:
            if e.reply_from is not None:
                lines.append(f"64 bytes from {e.reply_from}: icmp_seq={e.seq} ttl={e.ttl}")
            elif e.error:
                lines.append(f"From {e.error_from} icmp_seq={e.seq} {e.error}")
        sent, errors = len(self.echoes), sum(bool(e.error) for e in self.echoes)
        loss = 100 * (sent - self.received) // sent if sent else 0
        lines += ["", f"--- {self.dst} ping statistics ---",
                  f"{sent} packets transmitted, {self.received} received, "
                  + (f"+{errors} errors, " if errors else "") + f"{loss}% packet loss"]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.text


def _check(state: NetState, op: o.Ping) -> None:
    if op.netns not in state.netns:
        raise NetError.no_netns(op.netns)
    check_target(op)


def check_target(op: o.Ping) -> None:
    """The address and count ping accepts (both backends check them the same way)."""
    try:
        ipaddress.IPv4Address(op.dst)
    except ValueError:
        raise NetError(f"ping: {op.dst}: Name or service not known", errno=errno.EINVAL, exit=2,
                       hint=say("simlab pings IPv4 addresses, e.g. ping -c 1 10.0.0.2",
                                "simlab で ping できるのは IPv4 アドレスです (例: ping -c 1 10.0.0.2)")
                       ) from None
    if not 1 <= op.count <= 100:
        raise NetError(f"ping: invalid argument: '{op.count}': out of range: 1 <= value <= 100",
                       errno=errno.EINVAL, exit=1,
                       hint=say("send 1 to 100 echoes (-c 1 is enough to fill the ARP caches)",
                                "echo は 1〜100 回にしてください (ARP キャッシュを埋めるなら -c 1 で十分です)"))


def _walks(state: NetState, op: o.Ping) -> tuple[NetState, list[Walk]]:
    """Each echo's walk, and the state they leave: what they taught, what they counted.

    The echoes of one ping are one connection to conntrack (same ICMP id): a later echo
    meets the entries the earlier ones left (ESTABLISHED once answered; nat not read again).
    """
    walks = []
    flows: dict[str, str] = {}
    for _ in range(op.count):
        walk = reach(state, op.netns, op.dst, flows=flows)
        walks.append(walk)
        flows = dict(walk.flows)
        state = count_walk(learn(state, walk.learned), walk)
    return state, walks


def ping(state: NetState, op: o.Ping) -> NetState:
    """The state after `ping -c COUNT DST` from ``op.netns`` (the model's handler)."""
    _check(state, op)
    return _walks(state, op)[0]


#: What connect() says when the route lookup finds no way out: nothing is sent.
CONNECT_ERRORS = frozenset({"Network is unreachable", "Invalid argument", "No route to host",
                            "Permission denied"})
#: Errors an ICMP message brings back to the sender (the rest: no answer at all).
ICMP_ERRORS = frozenset({"Destination Host Unreachable", "Destination Net Unreachable",
                         "Packet filtered", *REJECT_ERRORS.values()})


def _echo(state: NetState, seq: int, walk: Walk) -> Echo:
    if walk.ok and walk.reply_ok:
        routers = sum(h.action == "forward" for h in walk.reply_hops)
        return Echo(seq, reply_from=walk.dst, ttl=_TTL - routers)
    error = {"no carrier": "Destination Host Unreachable"}.get(walk.error, walk.error)
    if not walk.ok and error in ICMP_ERRORS:
        where = walk.hops[-1].netns if walk.hops else walk.src_netns
        if where != walk.src_netns:  # a router answers from its address towards the sender
            return Echo(seq, error=error, error_from=source_for(state.netns[where], walk.src))
        # The sender's own kernel sends the error to itself, through lo: lo down, no error.
        lo = state.netns[where].link("lo")
        if lo is not None and lo.up:
            return Echo(seq, error=error, error_from=walk.src)
    return Echo(seq)  # dropped, or the reply was lost: ping just sees no answer


def model_report(state: NetState, op: o.Ping) -> PingReport:
    """What `ping` prints on the model, for ``op`` applied to ``state`` (the state before)."""
    _check(state, op)
    walks = _walks(state, op)[1]
    walk = walks[0]
    captured = tuple(seen for w in walks for seen in w.seen) if op.capture else ()
    if not walk.ok and walk.error in CONNECT_ERRORS and walk.src is None:
        return PingReport(op.dst, connect_error=walk.error, walk=walk, captured=captured)
    return PingReport(op.dst, tuple(_echo(state, seq, w) for seq, w in enumerate(walks, 1)),
                      walk=walk, captured=captured)
