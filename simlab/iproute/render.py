"""``render(show, state)``: the text a show command prints, from a snapshot.

Dispatches to the renderers of each object; every one is a pure function of
the snapshot, in iproute2 6.1's exact format (see tests/golden).
"""

from __future__ import annotations

import errno

from ..i18n import say
from ..model.errors import NetError
from ..model.netfilter import BUILTIN_CHAINS, render_rules
from ..model.state import NetState, Netns
from .command import Show
from .jsonw import dumps
from .render_bridge import render_brlink, render_fdb
from .render_link import render_links
from .render_route import render_route_get, render_routes

__all__ = ["render", "VERSION"]

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
    opts = show.options
    flt = opts.get("filter", {})
    if show.tool == "iptables":
        return _iptables(ns, opts)
    if show.obj == "version":
        return VERSION if show.tool == "ip" else "bridge utility, 6.1.0\n"
    if show.obj == "link":
        return render_links(state, ns, opts, flt, "link")
    if show.obj == "addr":
        return render_links(state, ns, opts, flt, "addr")
    if show.obj == "route":
        if opts.get("get"):
            return render_route_get(state, ns, opts, opts["get"])
        return render_routes(state, ns, opts, flt)
    if show.obj == "netns":
        return _netns_list(state, ns, opts)
    if show.obj == "neigh":
        return _neigh(state, ns, opts, flt)
    if show.obj == "brlink":
        return render_brlink(state, ns, opts, flt)
    if show.obj == "fdb":
        return render_fdb(state, ns, opts, flt)
    raise NetError(f"simlab cannot show {show.tool} {show.obj}", errno=errno.EINVAL, exit=255)


def _netns_list(state: NetState, ns: Netns, opts: dict) -> str:
    """`ip netns list`: /run/netns in readdir order of its tmpfs, newest first."""
    names = [k for k in reversed(list(state.netns)) if k]
    if opts.get("json"):
        rows = []
        for name in names:
            row = {"name": name}
            if name in ns.nsids:
                row["id"] = ns.nsids[name]
            rows.append(row)
        return dumps(rows, pretty=bool(opts.get("pretty")))
    return "".join(f"{n} (id: {ns.nsids[n]})\n" if n in ns.nsids else f"{n}\n" for n in names)


def _neigh(state: NetState, ns: Netns, opts: dict, flt: dict) -> str:
    """`ip neigh`: one line per entry, ``DST [dev X] [lladdr MAC] STATE `` (a space last).

    The kernel dumps its ARP table before its NDP table, so IPv4 entries come
    first; within a table it goes by a hash with a random seed, which no
    snapshot can predict: the entries keep the snapshot's order there.
    """
    entries = sorted(ns.neighs, key=lambda n: ":" in n.dst)
    if "dev" in flt:
        link = ns.link(flt["dev"])
        if link is None:
            raise NetError.no_device(flt["dev"])
        entries = [n for n in entries if n.ifindex == link.ifindex]
    family = opts.get("family")
    if family is not None:
        entries = [n for n in entries if (":" in n.dst) == (family == 6)]
    if opts.get("json"):
        rows = []
        for n in entries:
            row = {"dst": n.dst}
            if "dev" not in flt:
                row["dev"] = ns.links[n.ifindex].ifname
            if n.lladdr:
                row["lladdr"] = n.lladdr
            if n.state:
                row["state"] = n.state.split()
            rows.append(row)
        return dumps(rows, pretty=bool(opts.get("pretty")))
    out = []
    for n in entries:
        words = [n.dst]
        if "dev" not in flt:
            words.append(f"dev {ns.links[n.ifindex].ifname}")
        if n.lladdr:
            words.append(f"lladdr {n.lladdr}")
        words.append(n.state)  # a word per NUD bit set, none for NUD_NONE (print_neigh_state)
        out.append(" ".join(w for w in words if w) + " \n")
    return "".join(out)


def _iptables(ns: Netns, opts: dict) -> str:
    table = opts.get("table", "filter")
    if table not in BUILTIN_CHAINS:
        raise NetError(f"iptables v1.8.9 (nf_tables): table '{table}' does not exist\n"
                       "Perhaps iptables or your kernel needs to be upgraded.", errno=errno.ENOENT, exit=3,
                       hint=say("tables are filter, nat and mangle",
                                "テーブルは filter、nat、mangle のいずれかです"))
    text = render_rules(table, ns.iptables.get(table, ()))
    chain = opts.get("chain")
    if chain:
        lines = text.splitlines()
        keep = [l for l in lines if l.split()[1:2] == [chain]]
        if not keep:
            raise NetError("iptables: No chain/target/match by that name.", errno=errno.ENOENT, exit=1,
                           hint=say("list the chains with iptables -t TABLE -S",
                                    "チェインの一覧は iptables -t TABLE -S で確認できます"))
        text = "\n".join(keep) + "\n"
    return text
