"""simlab-bridge: the reference CNI ``bridge`` plugin (v1.1.1), function for function.

Read it beside ``plugins/main/bridge/bridge.go``: every function carries a
``# mirrors bridge.go: <Go name>`` marker and they come in the Go file's order
(``python -m simlab.cni.mirror_table`` lists the pairs).  Features simlab
leaves out have a one-line ``# omitted:`` comment where the Go code has them.

What ADD does (cni.md §2.2): create/reuse the bridge (``bridge``, default
``cni0``) -> open ``CNI_NETNS`` -> create a veth pair inside it with the peer
born in the host namespace, enslave the peer -> run the IPAM plugin -> put
the addresses on the container end and bring it up -> with ``isGateway`` put
the gateway on the bridge and turn on ``ip_forward`` -> with ``ipMasq`` add the
nat rules -> print the result (bridge, host veth, container interface).
Go's ``defer``s are :class:`contextlib.ExitStack` callbacks; where Go sets
``success = true`` the rollback stack is emptied with ``pop_all()``.

The same code runs in-process on the model (:func:`run`) and as a real
process on the kernel (:func:`main`); see :mod:`simlab.cni.netlink`.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import functools
import ipaddress
import sys
from dataclasses import dataclass, field

from ...model import ops as o
from ...model.text import say
from .. import ip, ipam, ns, skel
from .. import netlink as nl
from ..args import ArgsError, load_args, unmarshallable_string
from ..gojson import (
    BOOL,
    INT,
    RAW_MAP,
    STR,
    ListOf,
    MapOf,
    Struct,
)
from ..spec import (
    CURRENT_VERSION,
    DNS,
    ERR_UNSUPPORTED_FIELD,
    CNIError,
    Interface,
    Result,
    Route,
    parse_result,
)
from . import caller, common

__all__ = [
    "NetConf",
    "cmd_add",
    "cmd_del",
    "cmd_check",
    "cmd_status",
    "cmd_gc",
    "main",
    "run",
    "FUNCS",
    "PLUGIN",
    "debug_post_ipam_error",
]

PLUGIN = "simlab-bridge"

# For tests to force an error after IPAM has been performed (Go: debugPostIPAMError)
debug_post_ipam_error: Exception | None = None

DEFAULT_BR_NAME = "cni0"

_DNS = Struct(
    "types.DNS",
    {"nameservers": ListOf(STR), "domain": STR, "search": ListOf(STR), "options": ListOf(STR)},
)
_SCHEMA = Struct(
    "NetConf",
    {
        "cniVersion": STR,
        "name": STR,
        "type": STR,
        "capabilities": MapOf(BOOL),
        "ipam": Struct("types.IPAM", {"type": STR}),
        "dns": _DNS,
        "prevResult": RAW_MAP,
        "bridge": STR,
        "isGateway": BOOL,
        "isDefaultGateway": BOOL,
        "forceAddress": BOOL,
        "ipMasq": BOOL,
        "mtu": INT,
        "hairpinMode": BOOL,
        "promiscMode": BOOL,
        "vlan": INT,
        "macspoofchk": BOOL,
        "enabledad": BOOL,
        "args": Struct("", {"cni": Struct("BridgeArgs", {"mac": STR})}),
        "runtimeConfig": Struct("", {"mac": STR}),
    },
)


@dataclass
class NetConf:
    """The bridge's configuration (Go: ``NetConf``), defaults as in the reference plugin."""

    cni_version: str = ""
    name: str = ""
    type: str = ""
    ipam_type: str = ""
    dns: DNS = field(default_factory=DNS)
    raw_prev_result: dict | None = None
    br_name: str = DEFAULT_BR_NAME
    is_gw: bool = False
    is_default_gw: bool = False
    force_address: bool = False
    ip_masq: bool = False
    mtu: int = 0
    hairpin_mode: bool = False
    promisc_mode: bool = False
    vlan: int = 0
    mac_spoof_chk: bool = False
    enable_dad: bool = False
    mac: str = ""


@dataclass
class GwInfo:
    gws: list = field(default_factory=list)  # "gw/prefixlen" strings
    family: int = 0
    default_route_found: bool = False


# Each step of ADD/DEL/CHECK as the lab shows it: the Go code it mirrors, and why.
STEPS = {
    "setupBridge": (
        "bridge.go: setupBridge",
        say(
            "Create the bridge {br} on the node (or reuse it) and bring it up: every container of "
            "this network gets a port on it.",
            "ノードにブリッジ {br} を作り(既存なら再利用)UP にする。このネットワークのコンテナは"
            "全部ここにつながる。",
        ),
    ),
    "GetNS": (
        "ns_linux.go: GetNS",
        say(
            "Open the container's network namespace {netns} (the runtime created it).",
            "ランタイムが作ったコンテナのネットワーク名前空間 {netns} を開く。",
        ),
    ),
    "setupVeth": (
        "bridge.go: setupVeth",
        say(
            "Make a veth pair inside the container: {ifname} stays there, its peer is born on the "
            "node and is plugged into {br}.",
            "コンテナ内で veth ペアを作る。{ifname} はコンテナ側に残り、対向はノード側に生まれて "
            "{br} につながる。",
        ),
    ),
    "IPAM ADD": (
        "ipam.go: ExecAdd",
        say(
            "Ask the IPAM plugin {ipam} for an address: same env, same config on stdin.",
            "IPAM プラグイン {ipam} にアドレスを頼む(同じ環境変数・同じ設定を stdin に)。",
        ),
    ),
    "IPAM DEL (rollback)": (
        "bridge.go: cmdAdd (defer ipam.ExecDel)",
        say(
            "ADD failed after the address was reserved: give it back, as Go's deferred "
            "ipam.ExecDel does.",
            "アドレス確保の後で ADD が失敗したので、Go の defer (ipam.ExecDel) と同じく"
            "アドレスを返す。",
        ),
    ),
    "ConfigureIface": (
        "ipam_linux.go: ConfigureIface",
        say(
            "Inside the container: put the address on {ifname}, bring it up, add the routes.",
            "コンテナ内で {ifname} にアドレスを付け、UP にし、ルートを足す。",
        ),
    ),
    "ensureAddr": (
        "bridge.go: ensureAddr",
        say(
            "isGateway: the gateway {gw} goes on {br}, so the node routes the subnet and "
            "containers can reach their gateway; then the bridge MAC is pinned.",
            "isGateway: ゲートウェイ {gw} を {br} に付ける。ノードがこのサブネットにルートを持ち、"
            "コンテナはゲートウェイに届く。最後にブリッジの MAC を固定する。",
        ),
    ),
    "enableIPForward": (
        "bridge.go: enableIPForward",
        say(
            "Let the node forward packets between its interfaces (net.ipv4.ip_forward=1, for the "
            "whole node namespace; DEL never turns it off).",
            "ノードがインターフェース間でパケットを転送できるようにする"
            "(net.ipv4.ip_forward=1。ノード全体に効き、DEL でも戻さない)。",
        ),
    ),
    "SetupIPMasq": (
        "ipmasq_linux.go: SetupIPMasq",
        say(
            "ipMasq: a nat chain {chain} masquerades what the container sends outside its subnet.",
            "ipMasq: nat チェイン {chain} で、サブネットの外へ出るパケットの送信元をノードの"
            "アドレスに書き換える。",
        ),
    ),
    "LinkSetUp": (
        "bridge.go: cmdAdd (L2)",
        say(
            "No IPAM: a layer-2 attachment; just bring {ifname} up.",
            "IPAM なし(L2 のみ):{ifname} を UP にするだけ。",
        ),
    ),
    "DelLinkByNameAddr": (
        "link_linux.go: DelLinkByNameAddr",
        say(
            "Delete {ifname} in the container; the kernel deletes its veth peer on the node too, "
            "so the port leaves the bridge.",
            "コンテナの {ifname} を消す。veth の対向(ノード側)もカーネルが一緒に消すので、"
            "ブリッジのポートも消える。",
        ),
    ),
    "IPAM DEL": (
        "ipam.go: ExecDel",
        say(
            "Let {ipam} release the address reserved for this container.",
            "{ipam} にこのコンテナのアドレスを返してもらう。",
        ),
    ),
    "TeardownIPMasq": (
        "ipmasq_linux.go: TeardownIPMasq",
        say(
            "Remove the nat chain {chain} and the POSTROUTING jump to it.",
            "nat チェイン {chain} と POSTROUTING からのジャンプを消す。",
        ),
    ),
    "IPAM CHECK": (
        "ipam.go: ExecCheck",
        say(
            "Ask {ipam} whether the address is still held.",
            "{ipam} にアドレスがまだ確保されているか確かめる。",
        ),
    ),
    "validate": (
        "bridge.go: cmdCheck",
        say(
            "Compare the bridge, both veth ends, addresses and routes with prevResult.",
            "ブリッジ・veth の両端・アドレス・ルートを prevResult と照らし合わせる。",
        ),
    ),
    **common.STATUS_GC_STEPS,
}


#: ``with _step(title, **fields):`` one of :data:`STEPS` on the lab's timeline.
_step = functools.partial(common.step, STEPS)


# mirrors bridge.go: loadNetConf
def load_net_conf(data: bytes, env_args: str) -> tuple[NetConf, str]:
    raw = common.decode_net_conf(data, _SCHEMA)
    n = NetConf(
        cni_version=raw.get("cniVersion", ""),
        name=raw.get("name", ""),
        type=raw.get("type", ""),
        ipam_type=(raw.get("ipam") or {}).get("type") or "",
        dns=DNS.from_dict(raw.get("dns")),
        raw_prev_result=raw.get("prevResult"),
        br_name=raw.get("bridge") or DEFAULT_BR_NAME,
        is_gw=raw.get("isGateway", False),
        is_default_gw=raw.get("isDefaultGateway", False),
        force_address=raw.get("forceAddress", False),
        ip_masq=raw.get("ipMasq", False),
        mtu=_netlink_mtu(raw.get("mtu", 0)),
        hairpin_mode=raw.get("hairpinMode", False),
        promisc_mode=raw.get("promiscMode", False),
        vlan=raw.get("vlan", 0),
        mac_spoof_chk=raw.get("macspoofchk", False),
        enable_dad=raw.get("enabledad", False),
    )
    if n.vlan < 0 or n.vlan > 4094:
        raise RuntimeError(f"invalid VLAN ID {n.vlan} (must be between 0 and 4094)")
    # omitted: VLAN tagging; simlab says so instead of ignoring the key (spec code 2)
    if n.vlan:
        raise CNIError(
            ERR_UNSUPPORTED_FIELD,
            f'unsupported field "vlan": {n.vlan}',
            "simlab-bridge does not tag VLANs; remove the key or use the reference bridge",
        )
    if n.mac_spoof_chk:
        raise CNIError(
            ERR_UNSUPPORTED_FIELD,
            'unsupported field "macspoofchk": true',
            "simlab-bridge does not write nftables rules",
        )
    if env_args:
        try:
            e = load_args(env_args, {"MAC": unmarshallable_string})
        except ArgsError as err:
            raise RuntimeError(str(err)) from None
        if e.get("MAC"):
            n.mac = e["MAC"]
    mac = ((raw.get("args") or {}).get("cni") or {}).get("mac")
    if mac:
        n.mac = mac
    mac = (raw.get("runtimeConfig") or {}).get("mac")
    if mac:
        n.mac = mac
    return n, n.cni_version


# mirrors bridge.go: calcGateways
def calc_gateways(result: Result, n: NetConf) -> tuple[GwInfo, GwInfo]:
    """Per family: the gateways to put on the bridge, and a default route when asked for."""
    gws_v4, gws_v6 = GwInfo(), GwInfo()
    for ipc in result.ips:
        iface = ipaddress.ip_interface(ipc.address)
        # each family keeps its own gateways and default route
        if iface.version == 4:
            gws, default_net = gws_v4, "0.0.0.0/0"
        else:
            gws, default_net = gws_v6, "::/0"
        gws.family = iface.version
        # index 2 of the result's interfaces: the container end (after bridge and host veth)
        ipc.interface = 2
        # isGateway without an IPAM gateway: take the subnet's first address (calcGatewayIP)
        if not ipc.gateway and n.is_gw:
            ipc.gateway = calc_gateway_ip(ipc.address)
        # isDefaultGateway: a default route via this gateway, unless IPAM already gave one
        if n.is_default_gw:
            for route in result.routes:
                if route.gw and route.dst == default_net:
                    gws.default_route_found = True
                    break
            if not gws.default_route_found:
                result.routes.append(Route(default_net, ipc.gateway))
                gws.default_route_found = True
        # the bridge will carry it, with the subnet's prefix (ensureAddr)
        if n.is_gw:
            gws.gws.append(f"{ipc.gateway}/{iface.network.prefixlen}")
    return gws_v4, gws_v6


# mirrors bridge.go: ensureAddr
def ensure_addr(br, family: int, ipn: str, force_address: bool) -> None:
    """Put ``ipn`` (gateway/prefix) on the bridge, then pin the bridge's MAC."""
    addrs = nl.addr_list(br, family)
    want = ipaddress.ip_interface(ipn)
    for a in addrs:
        # the same address and prefix: nothing to do (Go compares the strings too)
        if a.cidr == ipn:
            return
        have = ipaddress.ip_interface(a.cidr)
        # A bridge holds one IPv4 gateway; IPv6 ones may stand side by side while their
        # subnets stay apart. A clash is replaced only with forceAddress, else it is an error.
        if family == 4 or want.ip in have.network or have.ip in want.network:
            if force_address:
                delete_addr(br, a.cidr)
            else:
                raise RuntimeError(f'"{br.ifname}" already has an IP address different from {ipn}')
    try:
        nl.addr_add(br, ipn)
    except nl.NetlinkError as err:
        if err.errno != _errno.EEXIST:
            raise RuntimeError(f'could not add IP address to "{br.ifname}": {err}') from None
    # Pin the bridge's MAC: left unset, the kernel lends it the lowest port MAC, which
    # changes whenever ports come and go (and the gateway's neighbours would go stale).
    # (br was read in setupBridge: a port-less bridge read 00:00:00:00:00:00 there,
    # which the kernel refuses -- the upstream bug seen in cni-errors.md E10.)
    try:
        nl.link_set_hardware_addr(br, br.mac)
    except nl.NetlinkError as err:
        raise RuntimeError(f"could not set bridge's mac: {err}") from None


# mirrors bridge.go: deleteAddr
def delete_addr(br, ipn: str) -> None:
    try:
        nl.addr_del(br, ipn)
    except nl.NetlinkError as err:
        raise RuntimeError(f'could not remove IP address from "{br.ifname}": {err}') from None


# mirrors bridge.go: bridgeByName
def bridge_by_name(name: str):
    try:
        link = nl.link_by_name(name)
    except nl.NetlinkError as err:
        raise RuntimeError(f'could not lookup "{name}": {err}') from None
    if link.kind != "bridge":
        raise RuntimeError(f'"{name}" already exists but is not a bridge')
    return link


# mirrors bridge.go: ensureBridge
def _netlink_mtu(mtu: int) -> int:
    """The MTU the Go netlink library sends: none unless positive, then ``uint32(mtu)``.

    So a negative ``mtu`` means the kernel's default, and 10**12 wraps round (the kernel
    then refuses it: "invalid argument"), exactly as with the reference plugin.
    """
    return mtu & 0xFFFFFFFF if mtu > 0 else 0


def ensure_bridge(br_name: str, mtu: int, promisc_mode: bool, vlan_filtering: bool):
    # omitted: vlan_filtering on the bridge (simlab-bridge refuses "vlan" in load_net_conf)
    try:
        nl.link_add(o.LinkAdd(br_name, "bridge", mtu=mtu or None))
    except nl.NetlinkError as err:
        if err.errno != _errno.EEXIST:
            raise RuntimeError(f'could not add "{br_name}": {err}') from None
    if promisc_mode:
        try:
            nl.set_promisc_on(nl.link_by_name(br_name))
        except nl.NetlinkError as err:
            raise RuntimeError(f'could not set promiscuous mode on "{br_name}": {err}') from None
    # read it back: an existing link of that name must really be a bridge (bridgeByName)
    br = bridge_by_name(br_name)
    # router advertisements must not add routes to the gateway's interface
    with contextlib.suppress(nl.NetlinkError, ValueError):
        nl.sysctl(f"net/ipv6/conf/{br_name}/accept_ra", "0")
    nl.link_set_up(br)
    return br


# omitted: ensureVlanInterface (the gateway veth "<bridge>.<vlan>" used with vlan + isGateway)


# mirrors bridge.go: setupVeth
def setup_veth(
    netns: ns.NetNS, br, ifname: str, mtu: int, hairpin_mode: bool, vlan_id: int, mac: str
):
    cont_iface = Interface("")
    host_iface = Interface("")
    with netns.do() as host_ns:
        # the pair is born in the container; SetupVeth moves the host end out
        host_veth, container_veth = ip.setup_veth(ifname, mtu, mac, host_ns)
        cont_iface.name = container_veth.ifname
        cont_iface.mac = container_veth.mac
        cont_iface.sandbox = netns.path()
        host_iface.name = host_veth.ifname
    # the move to the host namespace may renumber the host end: read it again
    try:
        host_veth = nl.link_by_name(host_iface.name)
    except nl.NetlinkError as err:
        raise RuntimeError(f'failed to lookup "{host_iface.name}": {err}') from None
    host_iface.mac = host_veth.mac
    # plug the host end into the bridge
    try:
        nl.link_set_master(host_veth, br)
    except nl.NetlinkError as err:
        raise RuntimeError(
            f'failed to connect "{host_veth.ifname}" to bridge {br.ifname}: {err}'
        ) from None
    # hairpin lets a port send a frame back out where it came in
    try:
        nl.link_set_hairpin(host_veth, hairpin_mode)
    except nl.NetlinkError as err:
        raise RuntimeError(f"failed to setup hairpin mode for {host_veth.ifname}: {err}") from None
    # omitted: the VLAN tag on the host port (BridgeVlanAdd) when vlan != 0
    return host_iface, cont_iface


# mirrors bridge.go: calcGatewayIP
def calc_gateway_ip(ipn: str) -> str:
    """The network address + 1 (``10.88.0.1`` for ``10.88.0.2/16``)."""
    return ip.next_ip(str(ipaddress.ip_interface(ipn).network.network_address))


# mirrors bridge.go: setupBridge
def setup_bridge(n: NetConf):
    vlan_filtering = n.vlan != 0
    # an existing bridge is reused (ensureBridge tolerates EEXIST)
    try:
        br = ensure_bridge(n.br_name, n.mtu, n.promisc_mode, vlan_filtering)
    except (RuntimeError, nl.NetlinkError) as err:
        raise RuntimeError(f'failed to create bridge "{n.br_name}": {err}') from None
    return br, Interface(br.ifname, br.mac)


# mirrors bridge.go: enableIPForward
def enable_ip_forward(family: int) -> None:
    if family == 4:
        ip.enable_ip4_forward()
    else:
        ip.enable_ip6_forward()


def _ipam_del_quietly(plugin: str, data: bytes) -> None:
    """The deferred IPAM DEL of a failed ADD (Go ignores its error)."""
    with _step("IPAM DEL (rollback)"):
        with contextlib.suppress(Exception):
            ipam.exec_del(plugin, data)


# mirrors bridge.go: cmdAdd
def cmd_add(args: skel.CmdArgs) -> None:
    n, cni_version = load_net_conf(args.stdin_data, args.args)
    is_layer3 = n.ipam_type != ""
    if n.is_default_gw:
        n.is_gw = True
    if n.hairpin_mode and n.promisc_mode:
        raise RuntimeError("cannot set hairpin mode and promiscuous mode at the same time.")

    with contextlib.ExitStack() as defers, contextlib.ExitStack() as rollback:
        with _step("setupBridge", br=n.br_name):
            br, br_interface = setup_bridge(n)

        with _step("GetNS", netns=args.netns):
            netns = common.open_netns(args.netns)
        defers.callback(netns.close)

        with _step("setupVeth", ifname=args.ifname, br=n.br_name):
            host_interface, container_interface = setup_veth(
                netns, br, args.ifname, n.mtu, n.hairpin_mode, n.vlan, n.mac
            )

        # until IPAM answers this is a layer-2 result: interfaces only
        result = Result(
            CURRENT_VERSION, interfaces=[br_interface, host_interface, container_interface]
        )

        # omitted: macspoofchk (nftables rules against spoofed MACs; refused in load_net_conf)

        if is_layer3:
            # the IPAM plugin decides the addresses and routes (delegated, same env and stdin)
            with _step("IPAM ADD", ipam=n.ipam_type):
                r = ipam.exec_add(n.ipam_type, args.stdin_data)
            # from here on a failure gives the address back (Go's deferred ipam.ExecDel)
            rollback.callback(_ipam_del_quietly, n.ipam_type, args.stdin_data)

            # IPAM may answer in an older spec version: read it as the current one
            ipam_result = r.convert(CURRENT_VERSION)
            result.ips = list(ipam_result.ips)
            result.routes = list(ipam_result.routes)
            result.dns = ipam_result.dns
            if len(result.ips) == 0:
                raise RuntimeError("IPAM plugin returned missing IP config")

            gws_v4, gws_v6 = calc_gateways(result, n)

            # DAD and ARP sysctls first, then addresses and routes (ConfigureIface)
            with _step("ConfigureIface", ifname=args.ifname):
                with netns.do():
                    if n.enable_dad:
                        with contextlib.suppress(nl.NetlinkError, ValueError):
                            nl.sysctl(f"net/ipv6/conf/{args.ifname}/enhanced_dad", "1")
                        with contextlib.suppress(nl.NetlinkError, ValueError):
                            nl.sysctl(f"net/ipv6/conf/{args.ifname}/accept_dad", "1")
                    else:
                        with contextlib.suppress(nl.NetlinkError, ValueError):
                            nl.sysctl(f"net/ipv6/conf/{args.ifname}/accept_dad", "0")
                    with contextlib.suppress(nl.NetlinkError, ValueError):
                        nl.sysctl(f"net/ipv4/conf/{args.ifname}/arp_notify", "1")
                    ipam.configure_iface(args.ifname, result)

            # the host port may take a moment to come UP: retry for about 2.5 s, then fail
            retries = (0, 50, 500, 1000, 1000)
            for idx, sleep in enumerate(retries):
                nl.sleep_ms(sleep)
                host_veth = nl.link_by_name(host_interface.name)
                state = nl.link_operstate(host_veth)
                if state == "UP":
                    break
                if idx == len(retries) - 1:
                    raise RuntimeError(f"bridge port in error state: {state.lower()}")

            if n.is_gw:
                # isGateway: the node answers for the gateway on the bridge and routes
                for gws in (gws_v4, gws_v6):
                    for gw in gws.gws:
                        # omitted: with vlan != 0 the gateway goes on ensureVlanInterface's veth
                        with _step("ensureAddr", gw=gw, br=n.br_name):
                            try:
                                ensure_addr(br, gws.family, gw, n.force_address)
                            except (RuntimeError, nl.NetlinkError) as err:
                                raise RuntimeError(f"failed to set bridge addr: {err}") from None
                    if gws.gws:
                        with _step("enableIPForward"):
                            try:
                                enable_ip_forward(gws.family)
                            except (RuntimeError, nl.NetlinkError) as err:
                                raise RuntimeError(f"failed to enable forwarding: {err}") from None

            if n.ip_masq:
                common.setup_ip_masq(
                    STEPS, n.name, args.container_id, [i.address for i in result.ips]
                )
        else:
            with _step("LinkSetUp", ifname=args.ifname):
                with netns.do():
                    try:
                        link = nl.link_by_name(args.ifname)
                    except nl.NetlinkError as err:
                        raise RuntimeError(f"failed to retrieve link: {err}") from None
                    # without IPAM nothing else brings the container end up
                    try:
                        nl.link_set_up(link)
                    except nl.NetlinkError as err:
                        raise RuntimeError(f'failed to set "{args.ifname}" up: {err}') from None

        # the first port or the gateway address may have changed the bridge's MAC: report the
        # one it has now
        br = bridge_by_name(n.br_name)
        br_interface.mac = br.mac

        result.dns = n.dns

        # a test may inject a failure here to check the rollback
        if debug_post_ipam_error is not None:
            raise debug_post_ipam_error

        rollback.pop_all()  # Go: success = true

    skel.print_result(result, cni_version)


# mirrors bridge.go: cmdDel
def cmd_del(args: skel.CmdArgs) -> None:
    n, _ = load_net_conf(args.stdin_data, args.args)
    is_layer3 = n.ipam_type != ""

    def ipam_del() -> None:
        if is_layer3:
            with _step("IPAM DEL", ipam=n.ipam_type):
                ipam.exec_del(n.ipam_type, args.stdin_data)

    if args.netns == "":
        ipam_del()
        return

    # DEL may come again: a link already gone is no error, and with it goes the masquerade
    # teardown (no addresses are left to name the rules by)
    try:
        with _step("DelLinkByNameAddr", ifname=args.ifname):
            ipnets = common.del_link_in_netns(args.netns, args.ifname)
    except ns.NSPathNotExistErr:
        # the orchestrator may have removed the namespace already, or this is a repeated DEL
        ipam_del()
        return

    # the address goes back only after the link is gone
    ipam_del()

    # omitted: macspoofchk teardown

    if is_layer3 and n.ip_masq:
        common.teardown_ip_masq(STEPS, n.name, args.container_id, ipnets)


# mirrors bridge.go: main
def main() -> int:
    """The executable ``simlab-bridge``."""
    return skel.plugin_main(FUNCS, about=ABOUT, plugin=PLUGIN)


ABOUT = "CNI simlab-bridge plugin version 0.1.0 (mirrors bridge v1.1.1)"


@dataclass
class CniBridgeIf:
    name: str = ""
    if_index: int = 0
    peer_index: int = 0
    master_index: int = 0
    found: bool = False


# mirrors bridge.go: validateInterface
def validate_interface(intf: Interface, expect_in_sb: bool):
    if_found = CniBridgeIf(found=False)
    if intf.name == "":
        raise RuntimeError("Interface name missing ")
    try:
        link = nl.link_by_name(intf.name)
    except nl.NetlinkError:
        raise RuntimeError(f"Interface name {intf.name} not found") from None
    if expect_in_sb:
        if intf.sandbox == "":
            raise RuntimeError(f"Interface {intf.name} is expected to be in a sandbox")
    elif intf.sandbox != "":
        raise RuntimeError(f"Interface {intf.name} should not be in sandbox")
    return if_found, link


# mirrors bridge.go: validateCniBrInterface
def validate_cni_br_interface(intf: Interface, n: NetConf) -> CniBridgeIf:
    br_found, link = validate_interface(intf, False)
    if link.kind != "bridge":
        raise RuntimeError(f"Interface {intf.name} does not have link type of bridge")
    if intf.mac and intf.mac != link.mac:
        raise RuntimeError(f"Bridge interface {intf.name} Mac doesn't match: {intf.mac}")
    link_promisc = bool(link.promisc)
    if link_promisc != n.promisc_mode:
        raise RuntimeError(
            f"Bridge interface {intf.name} configured Promisc Mode {str(n.promisc_mode).lower()} "
            f"doesn't match current state: {str(link_promisc).lower()} "
        )
    br_found.found = True
    br_found.name = link.ifname
    br_found.if_index = link.ifindex
    br_found.master_index = link.master or 0
    return br_found


# mirrors bridge.go: validateCniVethInterface
def validate_cni_veth_interface(
    intf: Interface, br_if: CniBridgeIf, cont_if: CniBridgeIf
) -> CniBridgeIf:
    veth_found, link = validate_interface(intf, False)
    if link.kind != "veth":
        # not a veth: something the plugin did not create, so not ours to judge
        return veth_found
    try:
        _, veth_found.peer_index = ip.get_veth_peer_ifindex(link.ifname)
    except RuntimeError:
        raise RuntimeError(f"Unable to obtain veth peer index for veth {link.ifname}") from None
    veth_found.if_index = link.ifindex
    veth_found.master_index = link.master or 0
    if veth_found.if_index != cont_if.peer_index:
        return veth_found
    if cont_if.if_index != veth_found.peer_index:
        return veth_found
    if veth_found.master_index != br_if.if_index:
        return veth_found
    if intf.mac and intf.mac != link.mac:
        raise RuntimeError(f"Interface {intf.name} Mac doesn't match: {intf.mac} not found")
    veth_found.found = True
    veth_found.name = link.ifname
    return veth_found


# mirrors bridge.go: validateCniContainerInterface
def validate_cni_container_interface(intf: Interface) -> CniBridgeIf:
    veth_found, link = validate_interface(intf, True)
    if link.kind != "veth":
        raise RuntimeError(f"Error: Container interface {link.ifname} not of type veth")
    try:
        _, veth_found.peer_index = ip.get_veth_peer_ifindex(link.ifname)
    except RuntimeError:
        raise RuntimeError(f"Unable to obtain veth peer index for veth {link.ifname}") from None
    veth_found.if_index = link.ifindex
    if intf.mac and intf.mac != link.mac:
        raise RuntimeError(
            f"Interface {intf.name} Mac {intf.mac} doesn't match container Mac: {link.mac}"
        )
    veth_found.found = True
    veth_found.name = link.ifname
    return veth_found


# mirrors bridge.go: cmdCheck
def cmd_check(args: skel.CmdArgs) -> None:
    n, _ = load_net_conf(args.stdin_data, args.args)
    netns = common.open_netns(args.netns)
    with contextlib.ExitStack() as defers:
        defers.callback(netns.close)

        # IPAM checks its reservation first (1.1.1 asks even without IPAM, and then fails
        # with "no plugin name provided")
        with _step("IPAM CHECK", ipam=n.ipam_type or "the IPAM plugin"):
            ipam.exec_check(n.ipam_type, args.stdin_data)

        if n.raw_prev_result is None:
            raise RuntimeError("Required prevResult missing")
        prev = dict(n.raw_prev_result)
        if not prev.get("cniVersion"):
            prev["cniVersion"] = n.cni_version
        try:
            result = parse_result(prev)
        except CNIError as err:
            raise RuntimeError(f"could not parse prevResult: {err.msg}") from None

        br_map, cont_map = Interface(""), Interface("")
        # pick out the two interfaces known by name: the bridge and the container end
        for intf in result.interfaces:
            if n.br_name == intf.name:
                br_map = intf
                continue
            if args.ifname == intf.name and args.netns == intf.sandbox:
                cont_map = intf
                continue

        with _step("validate"):
            br_cni = validate_cni_br_interface(br_map, n)

            if args.netns != cont_map.sandbox:
                raise RuntimeError(
                    f"Sandbox in prevResult {cont_map.sandbox} doesn't match configured netns: "
                    f"{args.netns}"
                )

            with netns.do():
                cont_cni = validate_cni_container_interface(cont_map)

            # among the rest, the host veth is the one paired with the container end and
            # enslaved to the bridge; other entries are not the plugin's
            veth_cni = CniBridgeIf()
            for intf in result.interfaces:
                # a name equal to the bridge's or the container end's is either the one checked
                # above or a namesake in another namespace: neither is the host veth
                if br_map.name == intf.name:
                    continue
                if cont_map.name == intf.name:
                    continue
                veth_cni = validate_cni_veth_interface(intf, br_cni, cont_cni)
                if veth_cni.found:
                    break

            if not br_cni.found:
                raise RuntimeError(
                    f"CNI created bridge {n.br_name} in host namespace was not found"
                )
            if not cont_cni.found:
                raise RuntimeError(f"CNI created interface in container {args.ifname} not found")
            if not veth_cni.found:
                raise RuntimeError(f"CNI veth created for bridge {n.br_name} was not found")

            # finally the addresses and routes inside the container (dns is not checked)
            with netns.do():
                ip.validate_expected_interface_ips(args.ifname, result.ips)
                ip.validate_expected_route(result.routes)


# mirrors bridge.go: cmdStatus
def cmd_status(args: skel.CmdArgs) -> None:
    common.cmd_status(STEPS, _SCHEMA, args.stdin_data)


def cmd_gc(args: skel.CmdArgs) -> None:
    """simlab: GC forwarded to IPAM, stale ipMasq chains removed (upstream: ``FIXME GC``)."""
    common.cmd_gc(STEPS, _SCHEMA, args.stdin_data)


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del, gc=cmd_gc, status=cmd_status)


#: One call in-process: ``run(env, stdin, backend=...)`` -> ``(exit, stdout, stderr)``.
run = caller(FUNCS, plugin=PLUGIN, about=ABOUT)


if __name__ == "__main__":
    sys.exit(main())
