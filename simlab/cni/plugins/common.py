"""What simlab-bridge and simlab-ptp share: steps, opening the netns, DEL's link, masquerade, GC.

bridge.go and ptp.go each write these few lines out again around the same
``pkg/ip`` and ``pkg/ns`` calls; here they are written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...model.text import Text, say
from .. import ip, ipam, ns, utils
from .. import netlink as nl
from ..gojson import GoJSONError, Struct, decode_struct, unmarshal
from ..spec import CNIError, valid_attachments

__all__ = [
    "step",
    "decode_net_conf",
    "open_netns",
    "del_link_in_netns",
    "setup_ip_masq",
    "teardown_ip_masq",
    "STATUS_GC_STEPS",
    "cmd_status",
    "cmd_gc",
]

#: title -> (the Go code it mirrors, why), the why's ``{field}``s filled in at run time.
Steps = Mapping[str, tuple[str, Text]]


def step(steps: Steps, title: str, **fields):
    """``nl.step`` for one of a plugin's ``STEPS``, its texts filled in."""
    mirrors, why = steps[title]
    # a plugin's records cross a process boundary as JSON: the why goes as {"en", "ja"}
    return nl.step(title, why.format(**fields), mirrors)


def decode_net_conf(data: bytes, schema: Struct) -> dict:
    """The netconf on stdin decoded as Go's ``json.Unmarshal`` would, absent keys dropped."""
    try:
        raw = decode_struct(unmarshal(data), schema)
    except GoJSONError as err:
        raise RuntimeError(f"failed to load netconf: {err}") from None
    return {k: v for k, v in raw.items() if v is not None}


def open_netns(path: str) -> ns.NetNS:
    """``ns.GetNS`` with the plugins' error: ``failed to open netns "<path>": ...``."""
    try:
        return ns.get_ns(path)
    except (ns.NSPathNotExistErr, ns.NSPathNotNSErr, OSError, nl.NetlinkError) as err:
        raise RuntimeError(f'failed to open netns "{path}": {err}') from None


def del_link_in_netns(netns_path: str, ifname: str) -> list[str]:
    """DEL's link: delete ``ifname`` in the namespace, return the addresses it had.

    A link already gone is no error (DEL may be called again), and gives no
    addresses, so there is no masquerade to tear down either; a namespace
    already gone raises :class:`ns.NSPathNotExistErr` for the caller to judge.
    """
    ipnets: list[str] = []

    def delete_link(_netns) -> None:
        nonlocal ipnets
        try:
            ipnets = ip.del_link_by_name_addr(ifname)
        except ip.ErrLinkNotFound:
            return

    ns.with_net_ns_path(netns_path, delete_link)
    return ipnets


def setup_ip_masq(steps: Steps, name: str, container_id: str, addresses: Iterable[str]) -> None:
    """``ipMasq``: one nat chain per container masquerades what leaves its subnet."""
    _ip_masq(steps, "SetupIPMasq", ip.setup_ip_masq, name, container_id, addresses)


def teardown_ip_masq(steps: Steps, name: str, container_id: str, ipnets: Iterable[str]) -> None:
    """Remove what :func:`setup_ip_masq` added for the container."""
    _ip_masq(steps, "TeardownIPMasq", ip.teardown_ip_masq, name, container_id, ipnets)


def _ip_masq(steps: Steps, title: str, change, name: str, container_id: str, nets) -> None:
    # the chain and its comment are named after the network and the container (utils.go)
    chain = utils.format_chain_name(name, container_id)
    comment = utils.format_comment(name, container_id)
    with step(steps, title, chain=chain):
        for ipn in nets:
            change(ipn, chain, comment)


# ------------------------------------------------------------ STATUS and GC
#: The steps STATUS and GC show, the same in simlab-bridge and simlab-ptp.
STATUS_GC_STEPS: Steps = {
    "IPAM STATUS": (
        "ipam.go: ExecStatus",
        say(
            "Ask {ipam} whether it can hand out addresses: a plugin can add pods only if its "
            "IPAM plugin can.",
            "{ipam} にアドレスを払い出せるか尋ねる。IPAM プラグインが払い出せて初めて Pod を"
            "追加できる。",
        ),
    ),
    "IPAM GC": (
        "ipam.go: ExecGC",
        say(
            "Forward GC to {ipam}: it releases every address whose attachment is not in "
            "cni.dev/valid-attachments.",
            "GC を {ipam} に渡す。cni.dev/valid-attachments に無いアタッチメントのアドレスを"
            "すべて解放する。",
        ),
    ),
}


def cmd_status(steps: Steps, schema: Struct, data: bytes) -> None:
    """STATUS of a plugin that delegates IPAM: it can serve ADDs if its IPAM plugin can.

    Mirrors upstream bridge's and ptp's ``cmdStatus`` (plugins v1.5+): decode
    the config, forward STATUS to ``ipam.type`` when there is one.
    """
    conf = decode_net_conf(data, schema)
    ipam_type = (conf.get("ipam") or {}).get("type") or ""
    if ipam_type:
        with step(steps, "IPAM STATUS", ipam=ipam_type):
            ipam.exec_status(ipam_type, data)


# The POSTROUTING jump of one attachment's masquerade chain (SetupIPMasq), as
# ``iptables -S`` prints it on the kernel (quotes escaped) and on the model (bare).
_MASQ_JUMP = re.compile(
    r'^-A POSTROUTING -s (?P<src>\S+) -m comment --comment "name: \\?"(?P<name>.*?)\\?" '
    r'id: \\?"(?P<id>[^"\\]*)\\?"" -j (?P<chain>CNI-[0-9a-f]+)$'
)


#: what a plugin raises where Go returns an error (anything else is a simlab bug: let it show)
_GO_ERRORS = (CNIError, RuntimeError, ValueError, OSError, nl.NetlinkError)


def cmd_gc(steps: Steps, schema: Struct, data: bytes) -> None:
    """GC of a plugin that delegates IPAM: forward it, then drop stale masquerade chains.

    simlab, not upstream: bridge and ptp have ``/* FIXME GC */`` up to v1.9
    (the library then answers success and their IPAM plugin never hears of
    GC).  The spec asks a delegating plugin to forward GC, and names firewall
    rules among what GC removes; so here the IPAM plugin gets the GC, and the
    ``ipMasq`` chains whose container id is in no valid attachment go (a
    chain is per network and container, whatever the interface).  Errors do
    not stop the collection; they are reported together at the end.
    """
    conf = decode_net_conf(data, schema)
    valid_ids = {cid for cid, _ in valid_attachments(data)}
    errors: list[str] = []
    ipam_type = (conf.get("ipam") or {}).get("type") or ""
    if ipam_type:
        try:
            with step(steps, "IPAM GC", ipam=ipam_type):
                ipam.exec_gc(ipam_type, data)
        except _GO_ERRORS as err:  # collected: GC goes on
            errors.append(str(err))
    if conf.get("ipMasq"):
        name = conf.get("name") or ""
        for line in nl.iptables_rules("nat"):
            m = _MASQ_JUMP.match(line)
            if not m or m["name"] != name or m["id"] in valid_ids:
                continue
            if m["chain"] != utils.format_chain_name(name, m["id"]):
                continue  # not a chain SetupIPMasq made for this network
            try:
                teardown_ip_masq(steps, name, m["id"], [m["src"]])
            except _GO_ERRORS as err:
                errors.append(str(err))
    if errors:
        raise RuntimeError("; ".join(errors))
