"""Link, forwarding and masquerade helpers (plugins ``pkg/ip``).

Each function runs in the *current* namespace (see :mod:`simlab.cni.netlink`),
as its Go twin runs in the current thread's namespace.  Facts kept:

- a veth pair is created *inside the container namespace* with its peer born
  directly in the host namespace, named ``veth`` + 8 hex digits of 4 random
  bytes; a taken random name is retried (10 tries);
- ``ip_forward`` is written only when it is not already 1, and never reset;
- masquerade: a per-attachment nat chain ``CNI-<hash>`` accepting the subnet
  and masquerading everything but multicast, jumped to from POSTROUTING for
  the container's address; every rule carries the ``name: ... id: ...`` comment.
"""

from __future__ import annotations

import errno as _errno
import ipaddress
import re

from ..model import ops as o
from . import netlink as nl
from .ns import NetNS

__all__ = [
    "ErrLinkNotFound",
    "setup_veth",
    "setup_veth_with_name",
    "random_veth_name",
    "del_link_by_name",
    "del_link_by_name_addr",
    "get_veth_peer_ifindex",
    "next_ip",
    "enable_ip4_forward",
    "enable_ip6_forward",
    "setup_ip_masq",
    "teardown_ip_masq",
    "validate_expected_interface_ips",
    "validate_expected_route",
]

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")


class ErrLinkNotFound(Exception):
    """``ip.ErrLinkNotFound``: "link not found"."""

    def __init__(self):
        super().__init__("link not found")


# mirrors link_linux.go: makeVethPair
def make_veth_pair(name: str, peer: str, mtu: int, mac: str, host_ns: NetNS):
    if mac:
        if not _MAC_RE.match(mac):
            raise ValueError(f"address {mac}: invalid MAC address")
        mac = mac.replace("-", ":").lower()
        if mac == "00:00:00:00:00:00" or int(mac[:2], 16) & 1:
            # The kernel refuses a zero or multicast address for a device.
            raise nl.NetlinkError(_errno.EADDRNOTAVAIL)
    nl.link_add(
        o.LinkAdd(name, "veth", peer=peer, peer_netns=host_ns.key, mac=mac or None, mtu=mtu or None)
    )
    if mtu:
        # Go's netlink request carries the MTU for both ends; the LinkAdd operation, like
        # `ip link add NAME mtu N type veth peer name P`, gives it to NAME only.
        with host_ns.do():
            nl.link_set_mtu(nl.link_by_name(peer), mtu)
    # Re-fetch the container link to get its creation-time parameters, e.g. index and mac
    return nl.link_by_name(name)


# mirrors link_linux.go: peerExists
def peer_exists(name: str) -> bool:
    try:
        nl.link_by_name(name)
    except nl.NetlinkError:
        return False
    return True


# mirrors link_linux.go: makeVeth
def make_veth(name: str, veth_peer_name: str, mtu: int, mac: str, host_ns: NetNS):
    for attempt in range(10):
        peer_name = veth_peer_name or random_veth_name(attempt)
        try:
            veth = make_veth_pair(name, peer_name, mtu, mac, host_ns)
            return peer_name, veth
        except nl.NetlinkError as err:
            if err.errno == _errno.EEXIST:
                # Go looks the random name up in the container namespace, where the
                # peer never lives; so a taken host name is reported like a taken ifname.
                if peer_exists(peer_name) and veth_peer_name == "":
                    continue
                raise RuntimeError(
                    f"container veth name provided ({name}) already exists"
                ) from None
            raise RuntimeError(f"failed to make veth pair: {err}") from None
        except ValueError as err:
            raise RuntimeError(f"failed to make veth pair: {err}") from None
    # should really never be hit
    raise RuntimeError("failed to find a unique veth name")


# mirrors link_linux.go: RandomVethName
def random_veth_name(attempt: int = 0) -> str:
    """``veth`` + 8 hex digits (NetworkManager ignores devices named veth*)."""
    return "veth" + nl.random_bytes(4, f"veth{attempt}").hex()


# mirrors link_linux.go: SetupVethWithName
def setup_veth_with_name(
    cont_veth_name: str, host_veth_name: str, mtu: int, cont_veth_mac: str, host_ns: NetNS
):
    host_veth_name, cont_veth = make_veth(
        cont_veth_name, host_veth_name, mtu, cont_veth_mac, host_ns
    )
    with host_ns.do():
        try:
            host_veth = nl.link_by_name(host_veth_name)
        except nl.NetlinkError as err:
            raise RuntimeError(
                f'failed to lookup "{host_veth_name}" in "{host_ns.path()}": {err}'
            ) from None
        try:
            nl.link_set_up(host_veth)
        except nl.NetlinkError as err:
            raise RuntimeError(f'failed to set "{host_veth_name}" up: {err}') from None
        # we want to own the routes for this interface
        _ignore(nl.sysctl, f"net/ipv6/conf/{host_veth_name}/accept_ra", "0")
        host_veth = nl.link_by_name(host_veth_name)
    return host_veth, cont_veth


# mirrors link_linux.go: SetupVeth
def setup_veth(cont_veth_name: str, mtu: int, cont_veth_mac: str, host_ns: NetNS):
    """Call from inside the container namespace; returns (host veth, container veth)."""
    return setup_veth_with_name(cont_veth_name, "", mtu, cont_veth_mac, host_ns)


# mirrors link_linux.go: DelLinkByName
def del_link_by_name(ifname: str) -> None:
    try:
        iface = nl.link_by_name(ifname)
    except nl.LinkNotFoundError:
        raise ErrLinkNotFound() from None
    try:
        nl.link_del(iface)
    except nl.NetlinkError as err:
        raise RuntimeError(f'failed to delete "{ifname}": {err}') from None


# mirrors link_linux.go: DelLinkByNameAddr
def del_link_by_name_addr(ifname: str) -> list[str]:
    """Delete ``ifname`` and return its global unicast addresses (CIDRs)."""
    try:
        iface = nl.link_by_name(ifname)
    except nl.LinkNotFoundError:
        raise ErrLinkNotFound() from None
    addrs = nl.addr_list(iface, nl.FAMILY_ALL)
    try:
        nl.link_del(iface)
    except nl.NetlinkError as err:
        raise RuntimeError(f'failed to delete "{ifname}": {err}') from None
    return [a.cidr for a in addrs if _is_global_unicast(a.address)]


def _is_global_unicast(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (
        ip.is_link_local
        or ip.is_loopback
        or ip.is_multicast
        or ip.is_unspecified
        or (ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255"))
    )


# mirrors link_linux.go: GetVethPeerIfindex
def get_veth_peer_ifindex(ifname: str):
    try:
        link = nl.link_by_name(ifname)
    except nl.NetlinkError as err:
        raise RuntimeError(f'could not look up "{ifname}": {err}') from None
    if link.kind != "veth":
        raise RuntimeError(f'interface "{ifname}" was not a veth interface')
    # IFLA_LINK: the peer's ifindex, valid in the peer's namespace.
    return link, (link.peer[1] if link.peer is not None else -1)


# mirrors cidr.go: NextIP
def next_ip(ip: str) -> str:
    return str(ipaddress.ip_address(ip) + 1)


def _ignore(fn, *args) -> None:
    try:
        fn(*args)
    except (nl.NetlinkError, ValueError):
        pass


# mirrors ipforward_linux.go: EnableIP4Forward
def enable_ip4_forward() -> None:
    _echo1("net.ipv4.ip_forward")


# mirrors ipforward_linux.go: EnableIP6Forward
def enable_ip6_forward() -> None:
    _echo1("net.ipv6.conf.all.forwarding")


# mirrors ipforward_linux.go: echo1
def _echo1(key: str) -> None:
    if (nl.sysctl_get(key) or "").strip() == "1":
        return
    nl.sysctl(key, "1")


def _chains(table: str) -> list[str]:
    return [line.split()[1] for line in nl.iptables_rules(table) if line.startswith("-N ")]


def _append_unique(table: str, chain: str, *rule: str) -> None:
    """go-iptables ``AppendUnique``: append unless ``iptables -S`` already shows the rule."""
    shown = " ".join(["-A", chain, *(f'"{w}"' if " " in w else w for w in rule)])
    # iptables -S escapes the quotes inside a comment; the model keeps them bare.
    if shown.replace("\\", "") in (line.replace("\\", "") for line in nl.iptables_rules(table)):
        return
    nl.iptables(table, "-A", chain, *rule)


# mirrors ipmasq_linux.go: SetupIPMasq
def setup_ip_masq(ipn: str, chain: str, comment: str) -> None:
    """Masquerade traffic from ``ipn``'s address leaving ``ipn``'s network.

    The rules are written in the order ``iptables -S`` prints them (match,
    comment, target); the Go code passes the same words in another order.
    """
    iface = ipaddress.ip_interface(ipn)
    if iface.version == 6:
        # omitted: ip6tables rules (the Iptables operation is IPv4 only); multicast ff00::/8
        return
    multicast_net = "224.0.0.0/4"
    # Create chain if doesn't exist
    if chain not in _chains("nat"):
        try:
            nl.iptables("nat", "-N", chain)
        except nl.NetlinkError as err:
            if "exists" not in str(err):
                raise
    tag = ("-m", "comment", "--comment", comment)
    # Packets to this network should not be touched
    _append_unique("nat", chain, "-d", str(iface.network), *tag, "-j", "ACCEPT")
    # Don't masquerade multicast - pods should be able to talk to other pods
    # on the local network via multicast.
    _append_unique("nat", chain, "!", "-d", multicast_net, *tag, "-j", "MASQUERADE")
    # Packets from the specific IP of this network will hit the chain
    _append_unique("nat", "POSTROUTING", "-s", f"{iface.ip}/32", *tag, "-j", chain)


def _is_not_exist(err: Exception) -> bool:
    text = str(err)
    return any(
        w in text
        for w in (
            "No chain/target/match",
            "does a matching rule exist",
            "Bad rule",
            "no such file",
            "No such file",
        )
    )


# mirrors ipmasq_linux.go: TeardownIPMasq
def teardown_ip_masq(ipn: str, chain: str, comment: str) -> None:
    iface = ipaddress.ip_interface(ipn)
    if iface.version == 6:
        # omitted: ip6tables rules (see setup_ip_masq)
        return
    tag = ("-m", "comment", "--comment", comment)
    steps = (
        ("-D", "POSTROUTING", "-s", f"{iface.ip}/32", *tag, "-j", chain),
        # for downward compatibility: the rule once matched the whole network
        ("-D", "POSTROUTING", "-s", str(iface.network), *tag, "-j", chain),
        ("-F", chain),
        ("-X", chain),
    )
    for args in steps:
        try:
            nl.iptables("nat", *args)
        except nl.NetlinkError as err:
            if not _is_not_exist(err):
                raise


# mirrors utils_linux.go: ValidateExpectedInterfaceIPs
def validate_expected_interface_ips(ifname: str, result_ips) -> None:
    for ipc in result_ips:
        try:
            link = nl.link_by_name(ifname)
        except nl.NetlinkError:
            raise RuntimeError(f"Cannot find container link {ifname}") from None
        ours = ipaddress.ip_interface(ipc.address)
        found = any(
            ipaddress.ip_interface(a.cidr) == ours for a in nl.addr_list(link, nl.FAMILY_ALL)
        )
        if not found:
            raise RuntimeError(
                f"Failed to match addr {ours.ip}/{ours.network.prefixlen} on interface {ifname}"
            )
        prefix = str(ours.network)
        if not any(r.dst == prefix for r in nl.route_list(ours.version)):
            raise RuntimeError(
                f"Failed to find Gateway {ipc.gateway or '<nil>'} for interface {ifname}"
            )


# mirrors utils_linux.go: ValidateExpectedRoute
def validate_expected_route(result_routes) -> None:
    for route in result_routes:
        net = ipaddress.ip_network(route.dst, strict=False)
        routes = nl.route_list(net.version)
        if net.prefixlen == 0:
            # Default route needs Dst set to nil (and then only Dst is compared)
            found = any(r.dst in ("default", str(net)) for r in routes)
        else:
            found = any(r.dst == str(net) and (not route.gw or r.via == route.gw) for r in routes)
        if not found:
            raise RuntimeError(
                f"Expected Route {{Dst:{net} GW:{route.gw or '<nil>'}}} not found in routing table"
            )
