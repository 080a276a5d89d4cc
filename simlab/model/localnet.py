"""127.0.0.0/8 outside ``lo``: what ``net.ipv4.conf.*.route_localnet`` allows.

The kernel keeps loopback addresses on ``lo``: a packet whose source is
127.x may not leave by another device (``__mkroute_output``: EINVAL, so a
locally sent packet that nat OUTPUT sent elsewhere is dropped when it is
rerouted), and a packet received on another device with a 127.x source or
destination is a martian (``ip_route_input_slow``), unless ``route_localnet``
is 1 on that device or on ``all``.  portmap sets it on the bridge so that
``127.0.0.1:<hostPort>`` reaches a pod (its DNAT keeps the 127.0.0.1 source
until CNI-HOSTPORT-MASQ rewrites it, and the answer is translated back to
127.0.0.1 before it is routed in).
"""

from __future__ import annotations

import ipaddress

from .state import Link, Netns

__all__ = ["allowed", "leaving", "martian"]


def _loopback(addr: str | None) -> bool:
    try:
        return addr is not None and ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def allowed(ns: Netns, dev: Link) -> bool:
    """``route_localnet`` on ``all`` or on ``dev`` (IN_DEV_ROUTE_LOCALNET)."""
    get = ns.sysctls.get
    return "1" in (get("net.ipv4.conf.all.route_localnet"), get(f"net.ipv4.conf.{dev.ifname}.route_localnet"))


def leaving(ns: Netns, out: Link, src: str | None) -> bool:
    """A locally sent packet with a 127.x source routed out of ``out``: dropped?"""
    return out.kind != "loopback" and out.ifname != "lo" and _loopback(src) and not allowed(ns, out)


def martian(ns: Netns, dev: Link, src: str | None, dst: str | None) -> str:
    """``"destination"``/``"source"``: why a packet received on ``dev`` is a martian ("" if not)."""
    if allowed(ns, dev):
        return ""
    if _loopback(dst):
        return "destination"
    return "source" if _loopback(src) else ""
