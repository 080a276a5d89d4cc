"""simlab-portmap: the reference ``portmap`` plugin (iptables backend), chain for chain.

``hostPort`` is Kubernetes' ``docker -p``: the runtime passes the pod's
mappings as the ``portMappings`` capability (``runtimeConfig.portMappings``)
and portmap, chained after the interface plugin, writes nat rules on the node:

- ``CNI-HOSTPORT-DNAT``, jumped to from PREROUTING and OUTPUT for local
  destinations (``-m addrtype --dst-type LOCAL``);
- ``CNI-DN-<hash>``, one per attachment (sha512 of network name + container
  ID, 21 hex digits), entered by ``-m multiport --dports``; per mapping the
  hairpin and localhost mark rules (``snat``, default true) and the ``DNAT``;
- with ``snat``: ``CNI-HOSTPORT-SETMARK`` (mark bit 13, ``0x2000``) and
  ``CNI-HOSTPORT-MASQ`` (MASQUERADE what carries it), entered first in
  POSTROUTING; and ``route_localnet=1`` on the host interface routing to the
  pod, so ``127.0.0.1:<hostPort>`` works.

DEL removes only the ``CNI-DN-`` chain and its jump.  Read it beside
``plugins/meta/portmap/portmap.go`` and ``chain.go`` (v1.1.1); the rules are
written in the order ``iptables -S`` prints their words, so the same text
comes back (compared with Debian's ``/usr/lib/cni/portmap`` in
tests/test_portmap.py).  Differences, on purpose: IPv6 mappings are left out
(the Iptables operation is IPv4 only); a port outside 1-65535 is refused before
any rule is written, and a mapping without ``protocol`` means tcp (Debian's
v1.1.1 hands both to iptables, which fails the ADD half way).
"""

from __future__ import annotations

import functools
import hashlib
import shlex
import ipaddress
import sys

from ...model.text import say
from .. import netlink as nl
from .. import skel
from ..gojson import BOOL, INT, RAW_MAP, STR, Struct
from ..ip import _chains, _is_not_exist
from ..spec import parse_result
from . import caller, common, runner

__all__ = ["PLUGIN", "ABOUT", "FUNCS", "dnat_chain_name", "cmd_add", "cmd_del", "main", "in_process"]

PLUGIN = "portmap"
ABOUT = "CNI portmap plugin (simlab, after plugins/meta/portmap v1.1.1)"
TOP_DNAT = "CNI-HOSTPORT-DNAT"
SETMARK = "CNI-HOSTPORT-SETMARK"
MASQ = "CNI-HOSTPORT-MASQ"

_SCHEMA = Struct(
    "PortMapConf",
    {
        "cniVersion": STR,
        "name": STR,
        "type": STR,
        "snat": BOOL,
        "markMasqBit": INT,
        "externalSetMarkChain": STR,
        "runtimeConfig": RAW_MAP,
        "prevResult": RAW_MAP,
    },
)

STEPS = {
    "forwardPorts": (
        "portmap.go: forwardPorts",
        say(
            "On the node: {ports} to the pod {ip}. Packets to a local address enter "
            "CNI-HOSTPORT-DNAT (from PREROUTING and OUTPUT), then this pod's chain {chain}, "
            "whose DNAT rewrites the destination to the pod.",
            "ノード側で {ports} を Pod {ip} へ。ローカル宛てのパケットは（PREROUTING と OUTPUT "
            "から）CNI-HOSTPORT-DNAT に入り、この Pod のチェイン {chain} の DNAT が宛先を "
            "Pod に書き換える。",
        ),
    ),
    "unforwardPorts": (
        "portmap.go: unforwardPorts",
        say(
            "Remove this pod's chain {chain} and its jump; the shared chains stay.",
            "この Pod のチェイン {chain} とそこへのジャンプを消す。共有のチェインは残す。",
        ),
    ),
}

_step = functools.partial(common.step, STEPS)


# mirrors pkg/utils: MustFormatChainNameWithPrefix(name, id, "DN-")
def dnat_chain_name(name: str, container_id: str) -> str:
    """
    >>> dnat_chain_name("k8s-pod-network", "ctr1")
    'CNI-DN-8a303ec727b040f9882ab'
    """
    return "CNI-DN-" + hashlib.sha512((name + container_id).encode()).hexdigest()[:21]


# mirrors portmap main.go: parseConfig
def parse_config(data: bytes, ifname: str) -> dict:
    conf = common.decode_net_conf(data, _SCHEMA)
    rc = conf.get("runtimeConfig") or {}
    maps = []
    for m in rc.get("portMappings") or []:
        if not isinstance(m, dict):
            raise RuntimeError("failed to parse config: runtimeConfig.portMappings: not an object")
        hp, cp = m.get("hostPort", 0), m.get("containerPort", 0)
        if not isinstance(hp, int) or not 0 < hp < 65536:
            raise RuntimeError(f"Invalid host port number: {hp}")
        if not isinstance(cp, int) or not 0 < cp < 65536:
            raise RuntimeError(f"Invalid container port number: {cp}")
        maps.append((hp, cp, str(m.get("protocol") or "tcp").lower(), str(m.get("hostIP") or "")))
    conf["maps"] = maps
    conf.setdefault("snat", True)
    if "markMasqBit" in conf and "externalSetMarkChain" in conf:
        raise RuntimeError("Cannot specify externalSetMarkChain and markMasqBit")
    bit = conf.setdefault("markMasqBit", 13)
    if not 0 <= bit <= 31:
        raise RuntimeError(f"MasqMarkBit must be between 0 and 31, got {bit}")
    conf["prev"] = None
    if conf.get("prevResult"):
        prev = parse_result(conf["prevResult"])
        conf["prev"] = prev
        for ipc in prev.ips:
            idx = ipc.interface
            if idx is not None and 0 <= idx < len(prev.interfaces):
                iface = prev.interfaces[idx]
                if iface.name != ifname or not iface.sandbox:
                    continue  # skip known non-sandbox interfaces
            if ipaddress.ip_interface(ipc.address).version == 4 and "cont4" not in conf:
                conf["cont4"] = ipc.address
    return conf


def _shown(table: str, chain: str, rule) -> bool:
    """go-iptables ``Exists``: ``iptables -S`` already shows the rule (quotes escaped or not)."""
    shown = " ".join(["-A", chain, *(f'"{w}"' if " " in w else w for w in rule)])
    return shown.replace("\\", "") in (line.replace("\\", "") for line in nl.iptables_rules(table))


# mirrors chain.go: insertUnique (append, or prepend for the MASQ entry)
def _append_unique(table: str, chain: str, *rule: str) -> None:
    if not _shown(table, chain, rule):
        _iptables(table, "-A", chain, *rule)


def _insert_unique(table: str, chain: str, *rule: str) -> None:
    if not _shown(table, chain, rule):
        _iptables(table, "-I", chain, "1", *rule)


def _new_chain(name: str) -> None:
    if name not in _chains("nat"):
        _iptables("nat", "-N", name)


# mirrors portmap.go: enableLocalnetRouting (getRoutableHostIF: the link of the route to the pod)
def _enable_localnet_routing(pod_ip: str) -> None:
    ip = ipaddress.ip_address(pod_ip)
    best = None
    for r in nl.route_list(nl.FAMILY_V4):
        if r.dst in ("default",) or not r.dev:
            continue
        try:
            net = ipaddress.ip_network(r.dst, strict=False)
        except ValueError:
            continue
        if ip in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, r.dev)
    names = {link.ifindex: link.ifname for link in nl.link_list()}
    if best is not None and best[1] in names:
        nl.sysctl(f"net/ipv4/conf/{names[best[1]]}/route_localnet", "1")


# mirrors portmap.go: forwardPorts (+ chain.go setup, fillDnatRules)
def forward_ports(conf: dict, container_id: str, cont: str) -> None:
    iface = ipaddress.ip_interface(cont)
    mark = f"{1 << conf['markMasqBit']:#x}/{1 << conf['markMasqBit']:#x}"
    setmark = conf.get("externalSetMarkChain") or SETMARK
    if conf["snat"]:
        _enable_localnet_routing(str(iface.ip))
        if not conf.get("externalSetMarkChain"):
            _new_chain(SETMARK)
            _append_unique("nat", SETMARK, "-m", "comment", "--comment",
                           "CNI portfwd masquerade mark", "-j", "MARK", "--set-xmark", mark)
            _new_chain(MASQ)
            _append_unique("nat", MASQ, "-m", "mark", "--mark", mark, "-j", "MASQUERADE")
            # prepended: the bridge and ptp plugins' masquerade rules would stomp on it
            _insert_unique("nat", "POSTROUTING", "-m", "comment", "--comment",
                           "CNI portfwd requiring masquerade", "-j", MASQ)
    _new_chain(TOP_DNAT)
    for entry in ("PREROUTING", "OUTPUT"):
        _append_unique("nat", entry, "-m", "addrtype", "--dst-type", "LOCAL", "-j", TOP_DNAT)
    chain = dnat_chain_name(conf["name"], container_id)
    _teardown_dnat(chain)
    _new_chain(chain)
    for hp, cp, proto, host_ip in conf["maps"]:
        base = ["-p", proto, "-m", proto, "--dport", str(hp)]
        dest: list[str] = []
        if host_ip:
            if ipaddress.ip_address(host_ip).version != 4:
                continue
            if not ipaddress.ip_address(host_ip).is_unspecified:
                dest = ["-d", f"{host_ip}/32"]
        if conf["snat"]:
            _iptables("nat", "-A", chain, *dest, "-s", str(iface.network), *base, "-j", setmark)
            _iptables("nat", "-A", chain, *dest, "-s", "127.0.0.1/32", *base, "-j", setmark)
        _iptables("nat", "-A", chain, *dest, *base, "-j", "DNAT", "--to-destination", f"{iface.ip}:{cp}")
    comment = f'dnat name: "{conf["name"]}" id: "{container_id}"'[:256]
    by_proto: dict[str, list[str]] = {}
    for hp, _, proto, _ in conf["maps"]:
        by_proto.setdefault(proto, []).append(str(hp))
    for proto in sorted(by_proto):
        ports = by_proto[proto]
        for i in range(0, len(ports), 15):  # multiport takes up to 15 ports
            _append_unique("nat", TOP_DNAT, "-p", proto, "-m", "comment", "--comment", comment,
                           "-m", "multiport", "--dports", ",".join(ports[i : i + 15]), "-j", chain)


# mirrors chain.go: teardown (the jumps to it, then flush and delete)
def _teardown_dnat(chain: str) -> None:
    if chain not in _chains("nat"):
        return
    for line in nl.iptables_rules("nat"):
        words = line.split()
        if words[:2] == ["-A", TOP_DNAT] and words[-2:] == ["-j", chain]:
            nl.iptables("nat", "-D", TOP_DNAT, *shlex.split(line)[2:])
    for args in (("-F", chain), ("-X", chain)):
        try:
            nl.iptables("nat", *args)
        except nl.NetlinkError as err:
            if not _is_not_exist(err):
                raise


def _iptables(table: str, *args: str) -> None:
    """``nl.iptables`` with go-iptables' error: the command line that failed, then its words."""
    try:
        nl.iptables(table, *args)
    except nl.NetlinkError as err:
        line = " ".join(f'"{a}"' if " " in a else a for a in args)
        raise RuntimeError(f"unable to setup DNAT: running [iptables -t {table} {line}]: {err}") from None


def cmd_add(args: skel.CmdArgs) -> None:
    try:
        conf = parse_config(args.stdin_data, args.ifname)
    except RuntimeError as err:
        raise RuntimeError(f"failed to parse config: {err}") from None
    if conf["prev"] is None:
        raise RuntimeError("must be called as chained plugin")
    if conf["maps"] and "cont4" in conf:
        ports = ", ".join(f"{hp}/{proto} -> {cp}" for hp, cp, proto, _ in conf["maps"])
        chain = dnat_chain_name(conf["name"], args.container_id)
        with _step("forwardPorts", ports=ports, ip=conf["cont4"].split("/")[0], chain=chain):
            forward_ports(conf, args.container_id, conf["cont4"])
    skel.print_result(conf["prev"], conf.get("cniVersion", ""))


def cmd_del(args: skel.CmdArgs) -> None:
    conf = parse_config(args.stdin_data, args.ifname)
    if not conf["maps"]:
        return
    chain = dnat_chain_name(conf["name"], args.container_id)
    with _step("unforwardPorts", chain=chain):
        _teardown_dnat(chain)


def cmd_check(args: skel.CmdArgs) -> None:
    conf = parse_config(args.stdin_data, args.ifname)
    if conf["prev"] is None:
        raise RuntimeError("must be called as chained plugin")
    if conf["maps"] and dnat_chain_name(conf["name"], args.container_id) not in _chains("nat"):
        raise RuntimeError("could not find the chain of the port mappings")


FUNCS = skel.Funcs(add=cmd_add, check=cmd_check, delete=cmd_del)
run = caller(FUNCS, plugin=PLUGIN, about=ABOUT)
in_process = runner(FUNCS, plugin=PLUGIN, about=ABOUT)


def main() -> int:
    """The executable ``portmap`` of a simlab node's plugin directory."""
    return skel.plugin_main(FUNCS, about=ABOUT, plugin=PLUGIN)


if __name__ == "__main__":
    sys.exit(main())
