"""Operations: one value per `ip` command that changes the machine.

An operation is plain data.  :func:`simlab.model.apply.apply` carries it out on
a snapshot (the model backend); the kernel backend turns the same value into
netlink calls.  :func:`as_command` gives the iproute2 command a learner would
type for it, which is what the timeline shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import ROOT

__all__ = [
    "NOMASTER",
    "Op",
    "NetnsAdd",
    "RuleAdd",
    "RuleDel",
    "RuleFlush",
    "NetnsDel",
    "LinkAdd",
    "LinkDel",
    "LinkSet",
    "AddrAdd",
    "AddrDel",
    "AddrFlush",
    "RouteAdd",
    "RouteDel",
    "RouteFlush",
    "NeighAdd",
    "NeighDel",
    "NeighFlush",
    "SysctlSet",
    "Iptables",
    "Ping",
    "as_command",
    "port_options",
]


@dataclass(frozen=True, slots=True)
class NetnsAdd:
    """Linux: `ip netns add NAME`."""

    name: str


@dataclass(frozen=True, slots=True)
class NetnsDel:
    """Linux: `ip netns del NAME`."""

    name: str


@dataclass(frozen=True, slots=True)
class LinkAdd:
    """Linux: `ip [-n NS] link add IFNAME [address MAC] [mtu N] type KIND [peer name P [netns PNS]]`."""

    ifname: str  # "" lets the kernel pick "veth%d" / "bridge%d", as `ip link add type veth` does
    kind: str  # "veth" or "bridge"
    netns: str = ROOT
    peer: str | None = None
    peer_netns: str | None = None  # None: the same namespace as the link
    mac: str | None = None
    peer_mac: str | None = None
    mtu: int | None = None


@dataclass(frozen=True, slots=True)
class LinkDel:
    """Linux: `ip [-n NS] link del IFNAME`."""

    ifname: str
    netns: str = ROOT


#: ``LinkSet(master=NOMASTER)`` is `ip link set X nomaster`; ``master=None`` leaves the master
#: as it is.  An empty string, because a saved timeline keeps ops as JSON and "" is what
#: earlier files hold.
NOMASTER = ""


@dataclass(frozen=True, slots=True)
class LinkSet:
    """Linux: `ip [-n NS] link set IFNAME [up|down] [mtu N] [address MAC] [name NEW]
    [master BR | nomaster] [netns NS2] [promisc on|off]` and `bridge link set dev X hairpin on`.

    Fields left as None are not changed.  ``master=NOMASTER`` means ``nomaster``.
    """

    ifname: str
    netns: str = ROOT
    up: bool | None = None
    mtu: int | None = None
    mac: str | None = None
    name: str | None = None
    master: str | None = None
    to_netns: str | None = None
    promisc: bool | None = None
    hairpin: bool | None = None
    learning: bool | None = None  # bridge port option (`bridge link set dev X learning off`)
    flood: bool | None = None  # bridge port option (unknown unicast flooding)
    arp: bool | None = None  # `arp on|off` (IFF_NOARP)
    multicast: bool | None = None  # `multicast on|off` (IFF_MULTICAST)
    allmulticast: bool | None = None  # `allmulticast on|off` (IFF_ALLMULTI)


@dataclass(frozen=True, slots=True)
class AddrAdd:
    """Linux: `ip [-n NS] addr add CIDR [brd +|ADDR] [scope S] dev IFNAME`."""

    ifname: str
    cidr: str
    netns: str = ROOT
    broadcast: str | None = None  # "+" computes it from the prefix, as iproute2 does
    scope: str | None = None
    label: str | None = None  # IPv4: the address's label (`ip addr add ... label veth1:0`)


@dataclass(frozen=True, slots=True)
class AddrDel:
    """Linux: `ip [-n NS] addr del CIDR dev IFNAME`."""

    ifname: str
    cidr: str
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class AddrFlush:
    """Linux: `ip [-n NS] [-4|-6] addr flush dev IFNAME` (every address, link-local too).

    ``family`` None flushes both IPv4 and IPv6.
    """

    ifname: str
    netns: str = ROOT
    family: int | None = None


@dataclass(frozen=True, slots=True)
class RouteAdd:
    """Linux: `ip [-n NS] route add DST [via GW] [dev IFNAME] [src A] [metric N] [onlink]`."""

    dst: str
    netns: str = ROOT
    via: str | None = None
    dev: str | None = None
    src: str | None = None
    metric: int | None = None
    onlink: bool = False
    family: int | None = None  # -4/-6; None: from the addresses (IPv4 for a bare `default`)
    proto: str | None = None  # None: boot
    scope: str | None = None  # None: link without a gateway (IPv4), else global
    type: str = "unicast"  # or blackhole, unreachable, prohibit, throw
    table: int = 254
    #: add (NLM_F_EXCL), replace (or add), change (replace only an existing one)
    mode: str = "add"


@dataclass(frozen=True, slots=True)
class RouteDel:
    """Linux: `ip [-n NS] route del DST [via GW] [dev IFNAME]`."""

    dst: str
    netns: str = ROOT
    via: str | None = None
    dev: str | None = None
    family: int | None = None
    metric: int | None = None  # None: any (the lowest first)
    type: str | None = None  # None: any
    proto: str | None = None
    table: int = 254


@dataclass(frozen=True, slots=True)
class RouteFlush:
    """Linux: `ip [-n NS] route flush SELECTORS`: every IPv4 route ``ip route show SELECTORS`` lists."""

    netns: str = ROOT
    table: int = 254
    dev: str | None = None
    proto: str | None = None
    scope: str | None = None
    type: str | None = None
    via: str | None = None
    src: str | None = None
    metric: int | None = None
    prefix: str | None = None  # with `exact` / `root` / `match`
    match: str = "exact"


@dataclass(frozen=True, slots=True)
class NeighAdd:
    """Linux: `ip [-n NS] neigh add|replace|change ADDR lladdr MAC dev IFNAME [nud STATE]`."""

    dst: str
    ifname: str
    netns: str = ROOT
    lladdr: str | None = None
    state: str = "PERMANENT"  # PERMANENT, REACHABLE or STALE
    mode: str = "add"  # add (NLM_F_EXCL), replace (or add), change (an existing one only)


@dataclass(frozen=True, slots=True)
class NeighDel:
    """Linux: `ip [-n NS] neigh del ADDR dev IFNAME`."""

    dst: str
    ifname: str
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class NeighFlush:
    """Linux: `ip [-n NS] [-4|-6] neigh flush dev IFNAME | all`: the entries that are neither
    PERMANENT nor NOARP (iproute2's default flush filter)."""

    netns: str = ROOT
    ifname: str | None = None  # None: every link
    family: int | None = None


@dataclass(frozen=True, slots=True)
class _RuleWords:
    """The selectors `ip rule add|del` share (each op adds its ``action``)."""

    family: int = 4
    pref: int | None = None
    table: int = 0
    src: str | None = None
    dst: str | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    invert: bool = False
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class RuleAdd(_RuleWords):
    """Linux: `ip [-n NS] [-6] rule add [not] [from P] [to P] [fwmark M[/MASK]] [iif D] [oif D]
    [pref N] [lookup TABLE | blackhole | unreachable | prohibit]`.

    ``pref`` None: the kernel picks one below the second rule's; ``table`` 0: none given
    (iproute2 then asks for main, unless an action other than lookup was named)."""

    action: str = "lookup"


@dataclass(frozen=True, slots=True)
class RuleDel(_RuleWords):
    """Linux: `ip [-n NS] [-6] rule del SELECTORS`: the first rule every given selector matches
    (one not given matches anything; ``action`` None: any)."""

    action: str | None = None


@dataclass(frozen=True, slots=True)
class RuleFlush:
    """Linux: `ip [-n NS] [-6] rule flush`: every rule of the family but those of priority 0."""

    family: int = 4
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class SysctlSet:
    """Linux: `ip netns exec NS sysctl -w KEY=VALUE` (each namespace has its own)."""

    key: str
    value: str
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class Iptables:
    """Linux: `ip netns exec NS iptables -t TABLE ARGS...` (-N, -A, -I, -D, -X)."""

    table: str
    args: tuple[str, ...]
    netns: str = ROOT


@dataclass(frozen=True, slots=True)
class Ping:
    """Linux: `ip netns exec NS ping -c COUNT DST`.

    Traffic, not configuration: what it changes is what the packets teach the
    machines on the way (ARP caches, bridge FDBs; see :mod:`simlab.model.learn`).
    """

    dst: str
    netns: str = ROOT
    count: int = 1
    #: Also report the packets on every interface (``PingReport.captured``): the kernel
    #: captures them in each of the lab's namespaces, the model gives its walks' ``seen``.
    #: Not part of the command (a capture is an observer's, like tcpdump beside ping).
    capture: bool = False


Op = (
    NetnsAdd | NetnsDel | LinkAdd | LinkDel | LinkSet | AddrAdd | AddrDel | AddrFlush
    | RouteAdd | RouteDel | RouteFlush | NeighAdd | NeighDel | NeighFlush | RuleAdd | RuleDel | RuleFlush
    | SysctlSet | Iptables | Ping
)


def port_options(op: LinkSet) -> dict[str, bool]:
    """The bridge port options a LinkSet sets (`bridge link set`): hairpin, learning, flood."""
    return {k: v for k, v in (("hairpin", op.hairpin), ("learning", op.learning), ("flood", op.flood))
            if v is not None}


def _n(netns: str) -> str:
    return f"-n {netns} " if netns != ROOT else ""


def _target(netns: str) -> str:
    # The node has no name under /run/netns; `netns 1` names it by a pid living there (init's).
    return netns if netns != ROOT else "1"


def as_command(op: Op) -> str:
    """The iproute2 command a learner would type for ``op``.

    >>> as_command(LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"))
    'ip link add veth1 type veth peer name veth2 netns red'
    """
    if isinstance(op, NetnsAdd):
        return f"ip netns add {op.name}"
    if isinstance(op, NetnsDel):
        return f"ip netns del {op.name}"
    if isinstance(op, LinkAdd):
        words = [f"ip {_n(op.netns)}link add" + (f" {op.ifname}" if op.ifname else "")]
        if op.mac:
            words.append(f"address {op.mac}")
        if op.mtu:
            words.append(f"mtu {op.mtu}")
        words.append(f"type {op.kind}")
        if op.peer:
            words.append(f"peer name {op.peer}")
            if op.peer_mac:
                words.append(f"address {op.peer_mac}")
            if op.peer_netns is not None and op.peer_netns != op.netns:
                words.append(f"netns {_target(op.peer_netns)}")
        return " ".join(words)
    if isinstance(op, LinkDel):
        return f"ip {_n(op.netns)}link del {op.ifname}"
    if isinstance(op, LinkSet):
        if port_options(op):
            opts = " ".join(f"{k} {'on' if v else 'off'}" for k, v in port_options(op).items())
            return f"bridge {_n(op.netns)}link set dev {op.ifname} {opts}"
        words = [f"ip {_n(op.netns)}link set {op.ifname}"]
        if op.to_netns is not None:
            words.append(f"netns {_target(op.to_netns)}")
        if op.name:
            words.append(f"name {op.name}")
        if op.mac:
            words.append(f"address {op.mac}")
        if op.mtu:
            words.append(f"mtu {op.mtu}")
        if op.master is not None:
            words.append("nomaster" if op.master == NOMASTER else f"master {op.master}")
        if op.promisc is not None:
            words.append("promisc " + ("on" if op.promisc else "off"))
        for key in ("arp", "multicast", "allmulticast"):
            if getattr(op, key) is not None:
                words.append(f"{key} " + ("on" if getattr(op, key) else "off"))
        if op.up is not None:
            words.append("up" if op.up else "down")
        return " ".join(words)
    if isinstance(op, AddrAdd):
        extra = f" brd {op.broadcast}" if op.broadcast else ""
        extra += f" scope {op.scope}" if op.scope else ""
        extra += f" label {op.label}" if op.label else ""
        return f"ip {_n(op.netns)}addr add {op.cidr}{extra} dev {op.ifname}"
    if isinstance(op, AddrDel):
        return f"ip {_n(op.netns)}addr del {op.cidr} dev {op.ifname}"
    if isinstance(op, AddrFlush):
        family = {4: "-4 ", 6: "-6 "}.get(op.family, "")
        return f"ip {family}{_n(op.netns)}addr flush dev {op.ifname}"
    if isinstance(op, RouteAdd | RouteDel):
        verb = op.mode if isinstance(op, RouteAdd) else "del"
        family = {4: "-4 ", 6: "-6 "}.get(op.family or 0, "")
        kind = f"{op.type} " if op.type not in (None, "unicast") else ""
        words = [f"ip {family}{_n(op.netns)}route {verb} {kind}{op.dst}"]
        if op.via:
            words.append(f"via {op.via}")
        if op.dev:
            words.append(f"dev {op.dev}")
        if op.table != 254:
            words.append(f"table {op.table}")
        if op.proto:
            words.append(f"proto {op.proto}")
        if isinstance(op, RouteAdd):
            if op.scope:
                words.append(f"scope {op.scope}")
            if op.src:
                words.append(f"src {op.src}")
        if op.metric is not None:
            words.append(f"metric {op.metric}")
        if isinstance(op, RouteAdd) and op.onlink:
            words.append("onlink")
        return " ".join(words)
    if isinstance(op, RouteFlush):
        words = [f"ip {_n(op.netns)}route flush"]
        if op.table != 254:
            words.append(f"table {op.table}")
        for key in ("dev", "proto", "scope", "type", "via", "src", "metric"):
            if getattr(op, key) is not None:
                words.append(f"{key} {getattr(op, key)}")
        if op.prefix is not None:
            words.append(f"{op.match} {op.prefix}")
        return " ".join(words)
    if isinstance(op, NeighAdd):
        lladdr = f" lladdr {op.lladdr}" if op.lladdr else ""
        return f"ip {_n(op.netns)}neigh {op.mode} {op.dst}{lladdr} dev {op.ifname} nud {op.state.lower()}"
    if isinstance(op, NeighDel):
        return f"ip {_n(op.netns)}neigh del {op.dst} dev {op.ifname}"
    if isinstance(op, NeighFlush):
        family = {4: "-4 ", 6: "-6 "}.get(op.family or 0, "")
        return f"ip {family}{_n(op.netns)}neigh flush " + (f"dev {op.ifname}" if op.ifname else "all")
    if isinstance(op, (RuleAdd, RuleDel)):
        return f"ip {_family(op.family)}{_n(op.netns)}rule {'add' if type(op) is RuleAdd else 'del'}" \
            + "".join(" " + w for w in rule_words(op))
    if isinstance(op, RuleFlush):
        return f"ip {_family(op.family)}{_n(op.netns)}rule flush"
    if isinstance(op, SysctlSet):
        prefix = f"ip netns exec {op.netns} " if op.netns != ROOT else ""
        return f"{prefix}sysctl -w {op.key}={op.value}"
    if isinstance(op, Iptables):
        prefix = f"ip netns exec {op.netns} " if op.netns != ROOT else ""
        return f"{prefix}iptables -t {op.table} " + " ".join(_quote(a) for a in op.args)
    if isinstance(op, Ping):
        prefix = f"ip netns exec {op.netns} " if op.netns != ROOT else ""
        return f"{prefix}ping -c {op.count} {op.dst}"
    raise TypeError(f"not an operation: {op!r}")


def _family(family: int) -> str:
    return "-6 " if family == 6 else ""


#: Table names iproute2 prints and reads (rt_tables).
TABLE_NAMES = {255: "local", 254: "main", 253: "default"}


def table_text(table: int) -> str:
    return TABLE_NAMES.get(table, str(table))


def rule_words(r) -> list[str]:
    """The selectors and action of a rule or rule op, in the order `ip rule` prints them."""
    words = ["not"] if r.invert else []
    if r.src:
        words += ["from", r.src]
    if r.dst:
        words += ["to", r.dst]
    if r.fwmark is not None:
        words += ["fwmark", hex(r.fwmark) + (f"/{hex(r.fwmask)}" if r.fwmask is not None else "")]
    if r.iif:
        words += ["iif", r.iif]
    if r.oif:
        words += ["oif", r.oif]
    if r.pref is not None:
        words += ["pref", str(r.pref)]
    if r.table:
        words += ["lookup", table_text(r.table)]
    if r.action not in (None, "lookup"):
        words.append(r.action)
    return words


def _quote(word: str) -> str:
    return f'"{word}"' if (" " in word or not word) else word
