"""host-local's configuration (``backend/allocator/config.go``).

IPAM plugins get the *whole* network config; host-local reads ``name``,
``cniVersion`` and ``ipam``: ``ranges`` (a list of range sets), or the legacy
``subnet``/``rangeStart``/``rangeEnd``/``gateway`` directly in ``ipam``
(prepended as the first range set), ``routes``, ``dataDir`` (default
``/var/lib/cni/networks``), ``resolvConf``.  Requested addresses come from
``CNI_ARGS`` ``IP=``, ``args.cni.ips`` and ``runtimeConfig.ips``;
``runtimeConfig.ipRanges`` is prepended to the ranges.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ...args import ArgsError, load_args
from ...gojson import IP, IPNET, STR, GoJSONError, ListOf, Ptr, Struct, decode_struct, unmarshal
from ...spec import Route, greater_than_or_equal_to
from .range import Range, RangeSet, canonicalize_ip

__all__ = ["IPAMConfig", "load_ipam_config"]

_RANGE = Struct("Range", {"rangeStart": IP, "rangeEnd": IP, "subnet": IPNET, "gateway": IP})
_RANGE_SETS = ListOf(ListOf(_RANGE, go="allocator.RangeSet"), go="[]allocator.RangeSet")
_ROUTE = Struct("types.Route", {"dst": IPNET, "gw": IP})
_IPAM = Struct(
    "IPAMConfig",
    {
        "type": STR,
        "routes": ListOf(Ptr(_ROUTE), go="[]*types.Route"),
        "dataDir": STR,
        "resolvConf": STR,
        "ranges": _RANGE_SETS,
        "rangeStart": IP,
        "rangeEnd": IP,
        "subnet": IPNET,
        "gateway": IP,
    },
)
_NET = Struct(
    "Net",
    top="allocator.Net",
    fields={
        "name": STR,
        "cniVersion": STR,
        "ipam": Ptr(_IPAM),
        "runtimeConfig": Struct("", {"ipRanges": _RANGE_SETS, "ips": ListOf(STR, go="[]*ip.IP")}),
        "args": Ptr(
            Struct("", {"cni": Ptr(Struct("IPAMArgs", {"ips": ListOf(IP, go="[]net.IP")}))})
        ),
    },
)


@dataclass
class IPAMConfig:
    name: str
    type: str = ""
    routes: list[Route] = field(default_factory=list)
    data_dir: str = ""
    resolv_conf: str = ""
    ranges: list[RangeSet] = field(default_factory=list)
    ip_args: list = field(default_factory=list)  # requested addresses


def _range(d: dict | None) -> Range:
    d = d or {}
    return Range(
        d.get("subnet"),
        d.get("rangeStart") and canonicalize_ip(d["rangeStart"]),
        d.get("rangeEnd") and canonicalize_ip(d["rangeEnd"]),
        d.get("gateway") and canonicalize_ip(d["gateway"]),
    )


def _range_sets(raw) -> list[RangeSet]:
    out = []
    for rs in raw or []:
        out.append(RangeSet(_range(r) for r in (rs or [])))
    return out


def _parse_ip_arg(text: str):
    """``ip.IP`` (runtimeConfig.ips): an address, with or without a prefix."""
    try:
        if "%" in text:  # Go's ParseIP/ParseCIDR know no zone: fd00::7%z3 is fd00::7 twice over
            raise ValueError(text)
        return canonicalize_ip(ipaddress.ip_interface(text).ip)
    except ValueError:
        raise ValueError(f"invalid IP address: {text}") from None


# mirrors config.go: LoadIPAMConfig
def load_ipam_config(data: bytes, env_args: str) -> tuple[IPAMConfig, str]:
    """Parse and check the config; errors are worded like the reference plugin's."""
    try:
        n = decode_struct(unmarshal(data), _NET)
    except GoJSONError as err:
        raise ValueError(str(err)) from None
    ipam = n.get("ipam")
    if ipam is None:
        raise ValueError("IPAM config missing 'ipam' key")
    ipam = {k: v for k, v in ipam.items() if v is not None}
    conf = IPAMConfig(
        name=n.get("name") or "",
        type=ipam.get("type", ""),
        data_dir=ipam.get("dataDir", ""),
        resolv_conf=ipam.get("resolvConf", ""),
    )
    conf.routes = [
        Route(str(r["dst"]), str(r["gw"]) if r.get("gw") else "")
        for r in ipam.get("routes") or []
        if r is not None and r.get("dst") is not None
    ]
    # Parse custom IP from env args, the top-level args config and capabilities
    # in runtime configuration
    if env_args:
        try:
            e = load_args(env_args, {"IP": _parse_net_ip})
        except ArgsError as err:
            raise ValueError(str(err)) from None
        if e.get("IP") is not None:
            conf.ip_args = [e["IP"]]
    args_cni = (n.get("args") or {}).get("cni") or {}
    conf.ip_args += [canonicalize_ip(i) for i in args_cni.get("ips") or [] if i is not None]
    runtime = n.get("runtimeConfig") or {}
    for text in runtime.get("ips") or []:
        if text is not None:
            conf.ip_args.append(_parse_ip_arg(text))

    ranges = _range_sets(ipam.get("ranges"))
    # If a single range (old-style config) is specified, prepend it to
    # the Ranges array
    if ipam.get("subnet") is not None:
        ranges.insert(0, RangeSet([_range(ipam)]))
    # If a range is supplied as a runtime config, prepend it to the Ranges
    ranges = _range_sets(runtime.get("ipRanges")) + ranges
    if len(ranges) == 0:
        raise ValueError("no IP ranges specified")

    # Validate all ranges
    num_v4 = num_v6 = 0
    for i, rs in enumerate(ranges):
        try:
            rs.canonicalize()
        except ValueError as err:
            raise ValueError(f"invalid range set {i}: {err}") from None
        if rs[0].range_start.version == 4:
            num_v4 += 1
        else:
            num_v6 += 1
    # CNI spec 0.2.0 and below supported only one v4 and v6 address
    cni_version = n.get("cniVersion") or ""
    if num_v4 > 1 or num_v6 > 1:
        try:
            ok = greater_than_or_equal_to(cni_version, "0.3.0")
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"CNI version {cni_version} does not support more than 1 address per family"
            )
    # Check for overlaps
    for i, p1 in enumerate(ranges[:-1]):
        for j, p2 in enumerate(ranges[i + 1 :]):
            if p1.overlaps(p2):
                raise ValueError(f"range set {i} overlaps with {i + j + 1}")
    conf.ranges = ranges
    return conf, cni_version


def _parse_net_ip(text: str):
    try:
        if "%" in text:  # as above: net.ParseIP refuses a zone
            raise ValueError(text)
        return canonicalize_ip(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"invalid IP address: {text}") from None
