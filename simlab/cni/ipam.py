"""Running the IPAM plugin and applying its result (plugins ``pkg/ipam``).

``exec_add`` runs the IPAM plugin named in ``ipam.type`` (found on
``CNI_PATH``, same env, the whole config on stdin) and returns its result;
``configure_iface`` puts the addresses on the container interface, sets it up
and adds the routes (a route without ``gw`` uses the gateway of its family).
"""

from __future__ import annotations

import ipaddress

from . import invoke
from . import netlink as nl
from .spec import Result

__all__ = ["exec_add", "exec_check", "exec_del", "exec_status", "exec_gc", "configure_iface"]


# mirrors ipam.go: ExecAdd
def exec_add(plugin: str, netconf: bytes) -> Result:
    return invoke.delegate_add(plugin, netconf)


# mirrors ipam.go: ExecCheck
def exec_check(plugin: str, netconf: bytes) -> None:
    invoke.delegate_check(plugin, netconf)


# mirrors ipam.go: ExecDel
def exec_del(plugin: str, netconf: bytes) -> None:
    invoke.delegate_del(plugin, netconf)


# mirrors ipam.go: ExecStatus
def exec_status(plugin: str, netconf: bytes) -> None:
    invoke.delegate_status(plugin, netconf)


# mirrors ipam.go: ExecGC
def exec_gc(plugin: str, netconf: bytes) -> None:
    invoke.delegate_gc(plugin, netconf)


def _go_ipconfig(ipc) -> str:
    gw = ipc.gateway or "<nil>"
    iface = "<nil>" if ipc.interface is None else str(ipc.interface)
    return f"{{Interface:{iface} Address:{{{ipc.address}}} Gateway:{gw}}}"


# mirrors ipam_linux.go: ConfigureIface
def configure_iface(ifname: str, res: Result) -> None:
    if len(res.interfaces) == 0:
        raise RuntimeError("no interfaces to configure")
    try:
        link = nl.link_by_name(ifname)
    except nl.NetlinkError as err:
        raise RuntimeError(f'failed to lookup "{ifname}": {err}') from None

    v4gw = v6gw = None
    for ipc in res.ips:
        if ipc.interface is None:
            continue
        idx = ipc.interface
        if idx < 0 or idx >= len(res.interfaces) or res.interfaces[idx].name != ifname:
            # IP address is for a different interface
            raise RuntimeError(
                f'failed to add IP addr {_go_ipconfig(ipc)} to "{ifname}": invalid interface index'
            )
        # omitted: disable_ipv6=0 on lo and the interface before an IPv6 address (no such switch)
        try:
            nl.addr_add(link, ipc.address)
        except nl.NetlinkError as err:
            raise RuntimeError(
                f'failed to add IP addr {_go_ipconfig(ipc)} to "{ifname}": {err}'
            ) from None
        if ipc.gateway:
            if ipaddress.ip_address(ipc.gateway).version == 4:
                v4gw = v4gw or ipc.gateway
            else:
                v6gw = v6gw or ipc.gateway

    try:
        nl.link_set_up(link)
    except nl.NetlinkError as err:
        raise RuntimeError(f'failed to set "{ifname}" UP: {err}') from None

    # omitted: ip.SettleAddresses (waiting for IPv6 DAD with a v6 gateway); the model has no DAD

    for r in res.routes:
        route_is_v4 = ipaddress.ip_network(r.dst, strict=False).version == 4
        gw = r.gw or (v4gw if route_is_v4 else v6gw)
        try:
            nl.route_add(r.dst, gw, link)
        except nl.NetlinkError as err:
            raise RuntimeError(
                f"failed to add route '{r.dst} via {gw or '<nil>'} dev {ifname}': {err}"
            ) from None
