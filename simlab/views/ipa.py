"""`ip a` of one namespace, rendered from a snapshot (never from a backend).

This is an adapter: it asks :mod:`simlab.iproute` (``parse`` + ``render``, the same pair
``Lab`` uses) and falls back to a small renderer of its own while that package is not
importable.  The fallback follows iproute2 6.1's layout closely enough to teach with,
but the golden-tested text is :mod:`simlab.iproute`'s.
"""

from __future__ import annotations

from ..model import ROOT, NetState, derive

__all__ = ["ip_a", "command_for"]


def command_for(ns: str) -> str:
    """The command a learner would type: ``ip a`` or ``ip -n red a``."""
    return "ip a" if ns == ROOT else f"ip -n {ns} a"


def ip_a(state: NetState, ns: str) -> str:
    """What `ip -n NS a` prints for ``state``.

    >>> from simlab.model import new_state, apply, NetnsAdd
    >>> print(ip_a(apply(new_state(), NetnsAdd("red")), "red").splitlines()[0])
    1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
    """
    if ns not in state.netns:
        raise KeyError(ns)
    try:
        from .. import iproute

        parse, render = iproute.parse, iproute.render
        if not (callable(parse) and callable(render)):
            raise ImportError("simlab.iproute has no parse/render functions yet")
    except (ImportError, AttributeError):
        return _fallback(state, ns)
    return render(parse(command_for(ns)), state)


def _fallback(state: NetState, key: str) -> str:
    ns = state.netns[key]
    out = []
    for index in sorted(ns.links):
        link = ns.links[index]
        name = link.ifname
        other = derive.peer_link(state, link)
        if other is not None:
            name += f"@if{other[1].ifindex}"
        fl = ",".join(derive.flags(state, ns, link))
        master = ""
        if link.master in ns.links:
            master = f" master {ns.links[link.master].ifname}"
        has_qlen = link.kind in ("loopback", "veth", "ipip", "sit", "ip6tnl")
        qlen = f" qlen {link.txqlen}" if has_qlen else ""
        out.append(f"{index}: {name}: <{fl}> mtu {link.mtu} qdisc {derive.qdisc(link)}{master} "
                   f"state {derive.operstate(state, ns, link)} group default{qlen}")
        if link.kind == "loopback":
            out.append(f"    link/loopback {link.mac} brd {link.mac}")
        elif link.kind in ("ipip", "sit"):
            out.append("    link/" + link.kind + " 0.0.0.0 brd 0.0.0.0")
        elif link.kind == "ip6tnl":
            out.append("    link/tunnel6 :: brd :: permaddr")
        else:
            tail = ""
            if other is not None and other[0] != key:
                peer_ns = state.netns[other[0]]
                nsid = ns.nsids.get(other[0])
                tail = f" link-netns {peer_ns.name}" if peer_ns.name else f" link-netnsid {nsid}"
            out.append(f"    link/ether {link.mac} brd ff:ff:ff:ff:ff:ff{tail}")
        for a in derive.all_addrs(state, ns, link):
            fam = "inet" if a.family == 4 else "inet6"
            brd = f" brd {a.broadcast}" if a.broadcast else ""
            label = f" {a.label or link.ifname}" if a.family == 4 else ""
            out.append(f"    {fam} {a.cidr}{brd} scope {a.scope}{label}")
            out.append("       valid_lft forever preferred_lft forever")
    return "\n".join(out) + "\n"
