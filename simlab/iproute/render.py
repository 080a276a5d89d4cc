"""``render(show, state)``: the text a show command prints, from a snapshot.

``RENDERERS`` maps each kind of :class:`~simlab.iproute.command.Show` content to its
renderer; every one is a pure function of the snapshot, its selectors and the
global options, in iproute2 6.1's exact format (see tests/golden).
"""

from __future__ import annotations

import errno
import ipaddress
from typing import Any, Callable

from ..i18n import say
from ..model.errors import NetError
from ..model.netfilter import render_rules
from ..model.state import NetState, Netns
from .command import (AddrShow, BridgeLinkShow, FdbShow, IpOptions, IptablesList, IptablesShow, LinkShow,
                      NeighShow, NetnsList, RouteGet, RouteShow, RuleShow, Show, Version)
from .jsonw import dumps
from .render_bridge import render_brlink, render_fdb
from .render_iptables import check_table, render_iptables_list, render_rules_verbose
from .render_link import render_links
from .render_route import render_route_get, render_routes
from .render_rule import render_ip_rules

__all__ = ["render", "RENDERERS", "VERSION"]

#: What `ip -V` prints on the machine the goldens come from.
VERSION = "ip utility, iproute2-6.1.0, libbpf 1.1.2\n"


def _ns(state: NetState, key: str) -> Netns:
    ns = state.netns.get(key)
    if ns is None:
        raise NetError.no_netns(key)
    return ns


def render(show: Show, state: NetState) -> str:
    """What the real tool prints for ``show`` on the machine ``state`` describes.

    Raises :class:`~simlab.model.NetError` with the tool's message and exit
    status when the real command fails (unknown device, namespace...).
    """
    ns = _ns(state, show.netns)
    return RENDERERS[type(show.what)](state, ns, show.what, show.options)


def _version(state: NetState, ns: Netns, what: Version, opts: IpOptions) -> str:
    return VERSION if what.tool == "ip" else "bridge utility, 6.1.0\n"


def _netns_list(state: NetState, ns: Netns, what: NetnsList, opts: IpOptions) -> str:
    """`ip netns list`: /run/netns in readdir order of its tmpfs, newest first."""
    names = [k for k in reversed(list(state.netns)) if k]
    if opts.json:
        rows = []
        for name in names:
            row = {"name": name}
            if name in ns.nsids:
                row["id"] = ns.nsids[name]
            rows.append(row)
        return dumps(rows, pretty=opts.pretty)
    return "".join(f"{n} (id: {ns.nsids[n]})\n" if n in ns.nsids else f"{n}\n" for n in names)


def _neigh(state: NetState, ns: Netns, flt: NeighShow, opts: IpOptions) -> str:
    """`ip neigh`: one line per entry, ``DST [dev X] [lladdr MAC] STATE `` (a space last).

    The kernel dumps its ARP table before its NDP table, so IPv4 entries come
    first; within a table it goes by a hash with a random seed, which no
    snapshot can predict: the entries keep the snapshot's order there.
    """
    entries = sorted(ns.neighs, key=lambda n: ":" in n.dst)
    if flt.dev is not None:
        link = ns.link(flt.dev)
        if link is None:
            raise NetError.no_device(flt.dev)
        entries = [n for n in entries if n.ifindex == link.ifindex]
    family = opts.family
    if family is not None:
        entries = [n for n in entries if (":" in n.dst) == (family == 6)]
    if flt.nud is None:  # iproute2 hides NOARP-only entries unless asked
        entries = [n for n in entries if n.state and n.state != "NOARP"]
    elif flt.nud != "all":
        entries = [n for n in entries if flt.nud in n.state.split()]
    if flt.to is not None and flt.to != "default":
        want = ipaddress.ip_network(flt.to, strict=False)
        entries = [n for n in entries if ipaddress.ip_address(n.dst) in want]
    if opts.json:
        rows = []
        for n in entries:
            row = {"dst": n.dst}
            if flt.dev is None:
                row["dev"] = ns.links[n.ifindex].ifname
            if n.lladdr:
                row["lladdr"] = n.lladdr
            if n.state:
                row["state"] = n.state.split()
            rows.append(row)
        return dumps(rows, pretty=opts.pretty)
    out = []
    for n in entries:
        words = [n.dst]
        if flt.dev is None:
            words.append(f"dev {ns.links[n.ifindex].ifname}")
        if n.lladdr:
            words.append(f"lladdr {n.lladdr}")
        words.append(n.state)  # a word per NUD bit set, none for NUD_NONE (print_neigh_state)
        out.append(" ".join(w for w in words if w) + " \n")
    return "".join(out)


def _iptables(state: NetState, ns: Netns, sel: IptablesShow, opts: IpOptions) -> str:
    table = sel.table
    check_table(table)
    text = render_rules(table, ns.iptables.get(table, ()))
    if sel.verbose:
        text = render_rules_verbose(table, text, ns.iptables.get(table, ()), ns.xt_counts)
    chain = sel.chain
    if chain:
        lines = text.splitlines()
        keep = [l for l in lines if l.split()[1:2] == [chain]]
        if not keep:
            raise NetError("iptables: No chain/target/match by that name.", errno=errno.ENOENT, exit=1,
                           hint=say("list the chains with iptables -t TABLE -S",
                                    "チェインの一覧は iptables -t TABLE -S で確認できます"))
        text = "\n".join(keep) + "\n"
    return text


#: What renders each kind of show: a new show command is a class in `command.py` and an entry here.
RENDERERS: dict[type, Callable[[NetState, Netns, Any, IpOptions], str]] = {
    LinkShow: render_links,
    AddrShow: render_links,
    RouteShow: render_routes,
    RouteGet: render_route_get,
    RuleShow: render_ip_rules,
    NeighShow: _neigh,
    NetnsList: _netns_list,
    BridgeLinkShow: render_brlink,
    FdbShow: render_fdb,
    IptablesShow: _iptables,
    IptablesList: render_iptables_list,
    Version: _version,
}
