"""`ip rule` (IPv4 unless -6), text and JSON, as iproute2 6.1's print_rule() writes them."""

from __future__ import annotations

import ipaddress

from ..model.ops import table_text
from ..model.state import NetState, Netns, Rule
from .command import IpOptions, RuleShow
from .jsonw import dumps

__all__ = ["render_ip_rules"]


def _shown(r: Rule, flt: RuleShow) -> bool:
    """iproute2's list filter: each selector given must be the rule's own."""
    if flt.invert and not r.invert:
        return False
    if flt.pref is not None and r.pref != flt.pref:
        return False
    if flt.table is not None and r.table != flt.table:
        return False
    if (flt.iif and r.iif != flt.iif) or (flt.oif and r.oif != flt.oif):
        return False
    for want, have in ((flt.src, r.src), (flt.dst, r.dst)):
        # the same length, and the same bits within it (host bits aside)
        if want is not None and (have is None or ipaddress.ip_interface(have).network
                                 != ipaddress.ip_interface(want).network):
            return False
    return True


def _split(prefix: str) -> tuple[str, int | None]:
    """("10.0.0.0", 24), or (address, None) for a host (printed without its length)."""
    addr, _, plen = prefix.partition("/")
    return addr, int(plen) if plen else None


def _row(ns: Netns, r: Rule, details: bool) -> list[tuple[str, object, str]]:
    """(JSON key, JSON value, text) in print order; a None value prints as JSON null."""
    out: list[tuple[str, object, str]] = [("priority", r.pref, f"{r.pref}:\t")]
    if r.invert:
        out.append(("not", None, "not "))
    if r.src:
        addr, plen = _split(r.src)
        out.append(("src", addr, f"from {r.src}"))
        if plen is not None:
            out.append(("srclen", plen, ""))
    else:
        out.append(("src", "all", "from all"))
    if r.dst:
        addr, plen = _split(r.dst)
        out.append(("dst", addr, f" to {r.dst}"))
        if plen is not None:
            out.append(("dstlen", plen, ""))
    if r.fwmark is not None:
        out.append(("fwmark", hex(r.fwmark), f" fwmark {hex(r.fwmark)}"))
        if r.fwmask is not None:
            out.append(("fwmask", hex(r.fwmask), f"/{hex(r.fwmask)}"))
    for key, dev in (("iif", r.iif), ("oif", r.oif)):
        if dev:
            out.append((key, dev, f" {key} {dev}"))
            if ns.link(dev) is None:  # the kernel flags a rule whose device is gone
                out.append((f"{key}_detached", None, " [detached]"))
    if r.table:
        out.append(("table", table_text(r.table), f" lookup {table_text(r.table)}"))
    if r.action != "lookup":
        out.append(("action", r.action, f" {r.action}"))
    if details:
        out.append(("protocol", r.proto, f" proto {r.proto}"))
    return out


def render_ip_rules(state: NetState, ns: Netns, flt: RuleShow, opts: IpOptions) -> str:
    family = 6 if opts.family == 6 else 4
    rows = [_row(ns, r, opts.details) for r in ns.rules if r.family == family and _shown(r, flt)]
    if opts.json:
        return dumps([{k: v for k, v, _t in row} for row in rows], pretty=opts.pretty)
    return "".join("".join(t for _k, _v, t in row) + "\n" for row in rows)
