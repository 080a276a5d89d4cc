"""`bridge link` and `bridge fdb show` as iproute2 6.1's bridge(8) prints them.

`bridge link` resolves a port's IFLA_LINK (its veth peer's ifindex) among the
links of the *local* namespace, even when the peer lives elsewhere: it prints
that local link's name and takes M-DOWN from its flags (tests/golden 48, 53).

`bridge fdb show` walks the links by ifindex; for a port it prints the
bridge's entries for that port (learnt ones newest first, then the port's own
MAC ``permanent``), then each device's multicast list (``self permanent``);
a bridge prints its own MAC ``master BR permanent`` when no port owns it.
"""

from __future__ import annotations

from ..model import derive
from ..model.state import NetState, Netns
from .command import BridgeLinkShow, FdbShow, IpOptions
from .jsonw import dumps
from .render_link import at_name, named_link

__all__ = ["render_brlink", "render_fdb"]

_SLAVE_D = ("hairpin {hairpin} guard off root_block off fastleave off learning {learning} flood {flood} mcast_flood on "
            "bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off "
            "isolated off locked off ")


def render_brlink(state: NetState, ns: Netns, flt: BridgeLinkShow, opts: IpOptions) -> str:
    ports = sorted((l for l in ns.links.values() if l.master is not None), key=lambda l: l.ifindex)
    if flt.dev is not None:
        link = named_link(ns, flt.dev, f'Cannot find device "{flt.dev}"')
        ports = [p for p in ports if p.ifindex == link.ifindex]
    if flt.master is not None:
        master = named_link(ns, flt.master, f'Cannot find device "{flt.master}"')
        ports = [p for p in ports if p.master == master.ifindex]
    rows = []
    for port in ports:
        at, mdown, at_json = at_name(state, ns, port, local_lookup=True)
        flags = derive.flags(state, ns, port, mdown=mdown)
        master = ns.links[port.master].ifname
        pstate = derive.port_state(state, ns, port)
        if opts.json:
            row = {"ifindex": port.ifindex, **at_json, "ifname": port.ifname, "flags": flags, "mtu": port.mtu,
                   "master": master, "state": pstate, "priority": 32, "cost": 2}
            if opts.details:
                row.update({"hairpin": port.hairpin, "guard": False, "root_block": False, "fastleave": False,
                            "learning": port.learning, "flood": port.flood, "mcast_flood": True, "bcast_flood": True,
                            "mcast_router": 1, "mcast_to_unicast": False, "neigh_suppress": False,
                            "vlan_tunnel": False, "isolated": False, "locked": False})
            rows.append(row)
            continue
        line = (f"{port.ifindex}: {port.ifname}{at or ''}: <{','.join(flags)}> mtu {port.mtu} master {master} "
                f"state {pstate} priority 32 cost 2 \n")
        if opts.details:
            on = {True: "on", False: "off"}
            line += "    " + _SLAVE_D.format(hairpin=on[port.hairpin], learning=on[port.learning],
                                            flood=on[port.flood]) + "\n"
        rows.append(line)
    if opts.json:
        return dumps(rows, pretty=opts.pretty)
    return "".join(rows)


def _fdb_rows(state: NetState, ns: Netns):
    """(dev, mac, master name or None, self, permanent) in the kernel's dump order."""
    for link in sorted(ns.links.values(), key=lambda l: l.ifindex):
        if link.kind not in ("veth", "bridge"):
            continue
        if link.master is not None and link.master in ns.links:
            bridge = ns.links[link.master]
            for entry in ns.fdb:
                if entry.ifindex == link.ifindex:
                    yield link, entry.mac, bridge.ifname, False, False
            yield link, link.mac, bridge.ifname, False, True
        for mac in link.mc:
            yield link, mac, None, True, True
        if link.kind == "bridge" and link.mac != "00:00:00:00:00:00":
            owned = any(p.master == link.ifindex and p.mac == link.mac for p in ns.links.values())
            if not owned:
                yield link, link.mac, link.ifname, False, True


def render_fdb(state: NetState, ns: Netns, flt: FdbShow, opts: IpOptions) -> str:
    dev = br = None
    if flt.br is not None:
        br = named_link(ns, flt.br, f'Cannot find bridge device "{flt.br}"')
    if flt.dev is not None:
        dev = named_link(ns, flt.dev, f'Cannot find device "{flt.dev}"')
    out = []
    for link, mac, master, self_, permanent in _fdb_rows(state, ns):
        if dev is not None and link.ifindex != dev.ifindex:
            continue
        if br is not None and link.ifindex != br.ifindex and link.master != br.ifindex:
            continue
        if opts.json:
            row = {"mac": mac}
            if dev is None:
                row["ifname"] = link.ifname
            row["flags"] = ["self"] if self_ else []
            if master:
                row["master"] = master
            row["state"] = "permanent" if permanent else ""
            out.append(row)
            continue
        words = [mac]
        if dev is None:
            words.append(f"dev {link.ifname}")
        if master:
            words.append(f"master {master}")
        if self_:
            words.append("self")
        out.append(" ".join(words) + " " + ("permanent" if permanent else "") + "\n")
    if opts.json:
        return dumps(out, pretty=opts.pretty)
    return "".join(out)
