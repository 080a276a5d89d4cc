"""simlab-ptp: a routed CNI plugin, the design of the Calico pod on the talk's slide 12.

The pod gets a ``/32`` (``inet 192.168.58.193/32 scope global eth0``) and no
subnet at all: every packet leaves through one route, ``default via
169.254.1.1 dev eth0``, found through a link route ``169.254.1.1 dev eth0
scope link``.  The other end of the pod's veth stays in the node, on no
bridge; the node reaches the pod through a host route ``<pod>/32 dev
cali...`` and forwards between pods (``ip_forward=1``).  Compare it with the
bridge plugin: no L2 segment is shared, everything is routed by the node.

Read it beside the reference ``plugins/main/ptp/ptp.go`` (v1.1.1): the
functions keep its names and order (``cmd_add``, ``setup_container_veth``,
``setup_host_veth``, ``cmd_del``).  Differences, on purpose:

- the address is a /32 (Calico), not the IPAM subnet's prefix: so there is no
  connected route to delete afterwards, as ptp.go does;
- the host end is named ``cali`` + 11 hex digits of sha1(container ID), as
  Calico names its devices, not ``veth`` + random hex;
- the gateway is IPAM's (the preset gives host-local ``gateway:
  169.254.1.1``, Calico's fixed next hop).  Calico answers ARP for it by
  ``proxy_arp`` on the cali device; simlab-ptp puts ``169.254.1.1/32`` on the
  host end instead, as ptp.go puts its gateway on every host veth (the model
  has no proxy ARP);
- a failure after the veth exists deletes it again (ptp.go leaves that to DEL).

It runs in-process on the model (:data:`in_process`) and as an executable on
the kernel (``simlab-ptp`` in the lab's plugin directory, :func:`main`).  It
shares with simlab-bridge what ptp.go shares with bridge.go (:mod:`.common`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import sys
from dataclasses import dataclass

from ...model.text import say
from .. import ip, ipam, ns, skel
from .. import netlink as nl
from ..gojson import BOOL, INT, RAW_MAP, STR, Struct, unmarshal
from ..spec import CURRENT_VERSION, DNS, Interface, Result, Route, parse_result
from . import caller, common, runner

__all__ = [
    "PLUGIN",
    "ABOUT",
    "STEPS",
    "cmd_add",
    "cmd_del",
    "cmd_check",
    "cmd_status",
    "cmd_gc",
    "main",
    "run",
    "in_process",
    "host_veth_name",
    "setup_container_veth",
    "setup_host_veth",
    "FUNCS",
]

PLUGIN = "simlab-ptp"
ABOUT = "CNI simlab-ptp plugin version 0.1.0 (routed /32 pods, after ptp v1.1.1 and Calico)"

_SCHEMA = Struct(
    "NetConf",
    {
        "cniVersion": STR,
        "name": STR,
        "type": STR,
        "ipam": RAW_MAP,
        "dns": RAW_MAP,
        "ipMasq": BOOL,
        "mtu": INT,
        "prevResult": RAW_MAP,
    },
)

#: title -> (the Go code it mirrors, why), ``{field}``s filled in when the step runs
STEPS = {
    "IPAM ADD": (
        "ptp.go: cmdAdd (ipam.ExecAdd)",
        say(
            "Ask the IPAM plugin {ipam} for the pod's address first: ptp needs it before it builds "
            "anything.",
            "まず IPAM プラグイン {ipam} に Pod のアドレスを頼む。ptp は何かを作る前にアドレスが必要。",
        ),
    ),
    "enableIPForward": (
        "ptp.go: cmdAdd (ip.EnableForward)",
        say(
            "Every packet of the pod is routed by the node, so the node must forward: "
            "ip_forward=1.",
            "Pod のパケットはすべてノードがルーティングするので、ノードで ip_forward=1 にする。",
        ),
    ),
    "GetNS": (
        "ns_linux.go: GetNS",
        say(
            "Open the pod's network namespace {netns} (the runtime created it, with --net none).",
            "ランタイムが（--net none で）作った Pod のネットワーク名前空間 {netns} を開く。",
        ),
    ),
    "setupContainerVeth": (
        "ptp.go: setupContainerVeth",
        say(
            "Inside the pod: a veth pair whose {ifname} stays in the pod and whose peer {host} is "
            "born on the node. {ifname} gets {addr} (a /32: no subnet, no neighbours), a link "
            "route to the gateway {gw} and a default route via it.",
            "Pod の中で veth ペアを作る。{ifname} は Pod に残り、対向 {host} はノード側に生まれる。"
            "{ifname} には {addr}（/32: サブネットも隣人もない）、ゲートウェイ {gw} へのリンクルート、"
            "そしてそれを経由するデフォルトルートを設定する。",
        ),
    ),
    "setupHostVeth": (
        "ptp.go: setupHostVeth",
        say(
            "On the node: {host} gets the gateway {gw}/32, so it answers the pod's ARP for it, and "
            "a host route {ip}/32 dev {host} tells the node where the pod is. No bridge: the node "
            "routes.",
            "ノード側: {host} にゲートウェイ {gw}/32 を付け、Pod からの ARP に答えられるようにする。"
            "ホストルート {ip}/32 dev {host} で Pod の居場所をノードに教える。ブリッジは使わず、"
            "ノードがルーティングする。",
        ),
    ),
    "SetupIPMasq": (
        "ipmasq_linux.go: SetupIPMasq",
        say(
            "Masquerade the pod's traffic leaving its network (chain {chain}).",
            "Pod のネットワーク外へ出る通信をマスカレードする（チェイン {chain}）。",
        ),
    ),
    "rollback": (
        "ptp.go: cmdAdd (defer ipam.ExecDel)",
        say(
            "ADD failed after the address was reserved: give it back (and delete the veth if it "
            "exists), as Go's deferred cleanup does.",
            "アドレス確保の後で ADD が失敗したので、Go の defer と同じくアドレスを返す（veth "
            "があれば削除する）。",
        ),
    ),
    "IPAM DEL": (
        "ptp.go: cmdDel (ipam.ExecDel)",
        say(
            "Release the pod's address first (ptp does IPAM DEL before it touches the namespace).",
            "まず Pod のアドレスを解放する（ptp は名前空間に触れる前に IPAM DEL を行う）。",
        ),
    ),
    "DelLinkByNameAddr": (
        "ptp.go: cmdDel (ip.DelLinkByNameAddr)",
        say(
            "Delete {ifname} in the pod: its peer on the node goes with it, and with the peer its "
            "gateway address and the host route.",
            "Pod 内の {ifname} を削除する。ノード側の対向も一緒に消え、"
            "そこに付いていたゲートウェイのアドレスとホストルートも消える。",
        ),
    ),
    "TeardownIPMasq": (
        "ipmasq_linux.go: TeardownIPMasq",
        say(
            "Remove the pod's masquerade rules (chain {chain}).",
            "Pod のマスカレードルールを削除する（チェイン {chain}）。",
        ),
    ),
    **common.STATUS_GC_STEPS,
}


#: ``with _step(title, **fields):`` one of :data:`STEPS` on the lab's timeline.
_step = functools.partial(common.step, STEPS)


@dataclass
class NetConf:
    cni_version: str = ""
    name: str = ""
    ipam_type: str = ""
    ip_masq: bool = False
    mtu: int = 0
    dns: DNS | None = None


# mirrors ptp.go: NetConf (json.Unmarshal)
def load_net_conf(data: bytes) -> NetConf:
    raw = common.decode_net_conf(data, _SCHEMA)
    conf = NetConf(
        raw.get("cniVersion", ""),
        raw.get("name", ""),
        (raw.get("ipam") or {}).get("type") or "",
        raw.get("ipMasq", False),
        raw.get("mtu", 0),
        DNS.from_dict(raw.get("dns")),
    )
    if not conf.ipam_type:
        # A routed pod needs an address: there is no L2-only mode.
        raise RuntimeError("simlab-ptp needs an IPAM plugin (ipam.type)")
    return conf


def host_veth_name(container_id: str) -> str:
    """``cali`` + 11 hex digits: Calico's device name length (15, IFNAMSIZ - 1).

    >>> host_veth_name("abc")
    'calia9993e36470'
    """
    return "cali" + hashlib.sha1(container_id.encode()).hexdigest()[:11]


def _gateway(ipc) -> str:
    if not ipc.gateway:
        raise RuntimeError(
            f"IPAM gave no gateway for {ipc.address}: simlab-ptp routes every "
            "packet through one (host-local: set ranges[][].gateway)"
        )
    return ipc.gateway


def _host_prefix(address: str) -> str:
    iface = ipaddress.ip_interface(address)
    return f"{iface.ip}/{iface.max_prefixlen}"


# mirrors ptp.go: setupContainerVeth
def setup_container_veth(netns: ns.NetNS, ifname: str, host_name: str, mtu: int, pr: Result):
    host_iface, cont_iface = Interface(""), Interface("")
    first = pr.ips[0]
    with _step(
        "setupContainerVeth",
        ifname=ifname,
        host=host_name,
        addr=_host_prefix(first.address),
        gw=_gateway(first),
    ):
        with netns.do() as host_ns:
            host_veth, cont_veth = ip.setup_veth_with_name(ifname, host_name, mtu, "", host_ns)
            host_iface.name, host_iface.mac = host_veth.ifname, host_veth.mac
            cont_iface.name, cont_iface.mac = cont_veth.ifname, cont_veth.mac
            cont_iface.sandbox = netns.path()
            pr.interfaces = [host_iface, cont_iface]
            link = nl.link_by_name(ifname)
            for ipc in pr.ips:
                # every address goes on the container end (index 1), as a /32 or /128
                ipc.interface = 1
                ipc.address = _host_prefix(ipc.address)
                try:
                    nl.addr_add(link, ipc.address)
                except nl.NetlinkError as err:
                    raise RuntimeError(
                        f'failed to add IP addr {ipc.address} to "{ifname}": {err}'
                    ) from None
            try:
                nl.link_set_up(link)
            except nl.NetlinkError as err:
                raise RuntimeError(f'failed to set "{ifname}" UP: {err}') from None
            for ipc in pr.ips:
                bits = ipaddress.ip_interface(ipc.address).max_prefixlen
                try:
                    # the gateway is on no subnet of the pod: reach it by a link route first
                    nl.route_add(f"{_gateway(ipc)}/{bits}", None, link)
                except nl.NetlinkError as err:
                    raise RuntimeError(
                        f"failed to add route to the gateway {ipc.gateway}: {err}"
                    ) from None
            for r in pr.routes:
                v4 = ipaddress.ip_network(r.dst, strict=False).version == 4
                via = r.gw or next(
                    (
                        i.gateway
                        for i in pr.ips
                        if i.gateway and (ipaddress.ip_address(i.gateway).version == 4) == v4
                    ),
                    "",
                )
                try:
                    nl.route_add(r.dst, via or None, link)
                except nl.NetlinkError as err:
                    raise RuntimeError(
                        f"failed to add route '{r.dst} via {via or '<nil>'} dev {ifname}': {err}"
                    ) from None
    return host_iface, cont_iface


# mirrors ptp.go: setupHostVeth
def setup_host_veth(veth_name: str, result: Result) -> None:
    first = result.ips[0]
    with _step(
        "setupHostVeth",
        host=veth_name,
        gw=_gateway(first),
        ip=str(ipaddress.ip_interface(first.address).ip),
    ):
        # the move out of the pod may renumber the host end: look it up by name
        try:
            veth = nl.link_by_name(veth_name)
        except nl.NetlinkError as err:
            raise RuntimeError(f'failed to lookup "{veth_name}": {err}') from None
        for ipc in result.ips:
            iface = ipaddress.ip_interface(ipc.address)
            gw = f"{ipc.gateway}/{iface.max_prefixlen}"
            try:
                nl.addr_add(veth, gw)
            except nl.NetlinkError as err:
                raise RuntimeError(f"failed to add IP addr {gw} to veth: {err}") from None
            try:
                # with /32 pods the host route's dst is exactly the pod's address
                nl.route_add(_host_prefix(ipc.address), None, veth)
            except nl.NetlinkError as err:
                if "exists" not in str(err):
                    raise RuntimeError(f"failed to add route on host: {err}") from None


def _rollback(plugin: str, data: bytes, netns: list, ifname: str) -> None:
    with _step("rollback"):
        if netns:
            with contextlib.suppress(Exception), netns[0].do():
                ip.del_link_by_name(ifname)
        with contextlib.suppress(Exception):
            ipam.exec_del(plugin, data)


# mirrors ptp.go: cmdAdd
def cmd_add(args: skel.CmdArgs) -> None:
    conf = load_net_conf(args.stdin_data)
    opened: list = []  # the netns, once the veth may exist
    with contextlib.ExitStack() as rollback:
        # the address comes first: everything below is built around it
        with _step("IPAM ADD", ipam=conf.ipam_type):
            r = ipam.exec_add(conf.ipam_type, args.stdin_data)
        # from here on a failure must give the address back
        rollback.callback(_rollback, conf.ipam_type, args.stdin_data, opened, args.ifname)
        result = r.convert(CURRENT_VERSION)
        if not result.ips:
            raise RuntimeError("IPAM plugin returned missing IP config")
        with _step("enableIPForward"):
            try:
                families = {ipaddress.ip_interface(i.address).version for i in result.ips}
                if 4 in families:
                    ip.enable_ip4_forward()
                if 6 in families:
                    ip.enable_ip6_forward()
            except (RuntimeError, nl.NetlinkError) as err:
                raise RuntimeError(f"Could not enable IP forwarding: {err}") from None
        with _step("GetNS", netns=args.netns):
            netns = common.open_netns(args.netns)
        opened.append(netns)
        host_iface, _ = setup_container_veth(
            netns, args.ifname, host_veth_name(args.container_id), conf.mtu, result
        )
        setup_host_veth(host_iface.name, result)
        if conf.ip_masq:
            common.setup_ip_masq(
                STEPS, conf.name, args.container_id, [i.address for i in result.ips]
            )
        # the config's dns wins over IPAM's only when it sets something
        if conf.dns is not None and conf.dns.is_set():
            result.dns = conf.dns
        rollback.pop_all()  # Go: err == nil, so the deferred cleanup does nothing
    skel.print_result(result, conf.cni_version)


# mirrors ptp.go: cmdDel
def cmd_del(args: skel.CmdArgs) -> None:
    conf = load_net_conf(args.stdin_data)
    with _step("IPAM DEL"):
        ipam.exec_del(conf.ipam_type, args.stdin_data)
    if args.netns == "":
        return
    # DEL may come again: a link already gone is no error, and leaves no masquerade to undo
    try:
        with _step("DelLinkByNameAddr", ifname=args.ifname):
            ipnets = common.del_link_in_netns(args.netns, args.ifname)
    except ns.NSPathNotExistErr:
        return
    if ipnets and conf.ip_masq:
        common.teardown_ip_masq(STEPS, conf.name, args.container_id, ipnets)


# mirrors ptp.go: cmdCheck (reduced: IPAM's CHECK, then the addresses and routes are still there)
def cmd_check(args: skel.CmdArgs) -> None:
    conf = load_net_conf(args.stdin_data)
    raw = unmarshal(args.stdin_data)
    prev = raw.get("prevResult") if isinstance(raw, dict) else None
    if not prev:
        raise RuntimeError("Required prevResult missing")
    ipam.exec_check(conf.ipam_type, args.stdin_data)
    result = parse_result(prev).convert(CURRENT_VERSION)

    def check(_netns) -> None:
        link = nl.link_by_name(args.ifname)
        have = {a.cidr for a in nl.addr_list(link)}
        for ipc in result.ips:
            if ipc.address not in have:
                raise RuntimeError(f"Failed to match addr {ipc.address} on interface {args.ifname}")
        ip.validate_expected_route([Route(r.dst, r.gw) for r in result.routes])

    ns.with_net_ns_path(args.netns, check)


# mirrors ptp.go: cmdStatus
def cmd_status(args: skel.CmdArgs) -> None:
    common.cmd_status(STEPS, _SCHEMA, args.stdin_data)


def cmd_gc(args: skel.CmdArgs) -> None:
    """simlab: GC forwarded to IPAM, stale ipMasq chains removed (upstream: ``FIXME GC``)."""
    common.cmd_gc(STEPS, _SCHEMA, args.stdin_data)


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del, gc=cmd_gc, status=cmd_status)


def main() -> int:
    """The executable ``simlab-ptp``."""
    return skel.plugin_main(FUNCS, about=ABOUT, plugin=PLUGIN)


#: One call in-process: ``run(env, stdin, backend=...)`` -> ``(exit, stdout, stderr)``.
run = caller(FUNCS, plugin=PLUGIN, about=ABOUT)


#: The runner :class:`simlab.cni.Runtime` calls (``in_process={"simlab-ptp": in_process}``).
in_process = runner(FUNCS, plugin=PLUGIN, about=ABOUT)


if __name__ == "__main__":
    sys.exit(main())
