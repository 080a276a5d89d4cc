"""CNI spec types: versions, errors and results, serialized like the reference library.

Facts kept here (SPEC.md and containernetworking/cni 1.1.2, checked against
Debian's plugins, see ``/work/shared/reference/cni.md`` §1.6-1.7; spec 1.1.0 as
the library from 1.2.0 on speaks it):

- supported versions ``0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0`` (library
  >= 1.2.0; Debian 12's plugins are built on 1.1.2 and stop at ``1.0.0``); a
  config without ``cniVersion`` means ``0.1.0``; a 1.1.0 result has the 1.0.0
  shape (its new optional fields are not used here);
- a result is printed 4-space indented, keys ``cniVersion, interfaces, ips,
  routes, dns``, ``ips[]`` keys ``version`` (0.3.x/0.4.0 only), ``interface``,
  ``address``, ``gateway``; empty lists and strings are left out, ``dns`` never
  is; **no trailing newline**;
- 0.1.0/0.2.0 results have ``ip4``/``ip6`` objects instead (one address each);
- an error is ``{"code", "msg", "details"?}`` (no ``cniVersion``), 4-space
  indented, no trailing newline, exit status 1 whatever the code;
- ``VERSION`` prints compact JSON *with* a trailing newline.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from .gojson import (
    STR,
    GoJSONError,
    ListOf,
    Struct,
    decode_struct,
    marshal,
    marshal_indent,
    unmarshal,
)

__all__ = [
    "SUPPORTED_VERSIONS",
    "CURRENT_VERSION",
    "LIBRARY_VERSION",
    "DEBIAN_VERSIONS",
    "ERR_INCOMPATIBLE_CNI_VERSION",
    "ERR_UNSUPPORTED_FIELD",
    "ERR_UNKNOWN_CONTAINER",
    "ERR_INVALID_ENVIRONMENT_VARIABLES",
    "ERR_IO_FAILURE",
    "ERR_DECODING_FAILURE",
    "ERR_INVALID_NETWORK_CONFIG",
    "ERR_INVALID_NETNS",
    "ERR_TRY_AGAIN_LATER",
    "ERR_PLUGIN_NOT_AVAILABLE",
    "ERR_LIMITED_CONNECTIVITY",
    "ERR_INTERNAL",
    "CNIError",
    "Interface",
    "IPConfig",
    "Route",
    "DNS",
    "Result",
    "PluginInfo",
    "parse_version",
    "greater_than_or_equal_to",
    "parse_result",
    "parse_error",
    "VALID_ATTACHMENTS",
    "valid_attachments",
]

SUPPORTED_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
#: the result type plugins build (Go: ``types100.ImplementedSpecVersion``)
CURRENT_VERSION = "1.0.0"
#: what VERSION answers as its own version (Go: ``version.Current()``, library >= 1.2.0)
LIBRARY_VERSION = "1.1.0"
#: the versions Debian 12's plugins speak (library 1.1.2): no 1.1.0, so no STATUS and no GC
DEBIAN_VERSIONS = SUPPORTED_VERSIONS[:-1]

ERR_INCOMPATIBLE_CNI_VERSION = 1
ERR_UNSUPPORTED_FIELD = 2
ERR_UNKNOWN_CONTAINER = 3
ERR_INVALID_ENVIRONMENT_VARIABLES = 4
ERR_IO_FAILURE = 5
ERR_DECODING_FAILURE = 6
ERR_INVALID_NETWORK_CONFIG = 7
ERR_INVALID_NETNS = 8
ERR_TRY_AGAIN_LATER = 11
# spec 1.1.0, for STATUS: the plugin cannot serve ADDs; and, worse, existing
# containers may have limited connectivity
ERR_PLUGIN_NOT_AVAILABLE = 50
ERR_LIMITED_CONNECTIVITY = 51
ERR_INTERNAL = 999


class CNIError(Exception):
    """A CNI error: ``code``, ``msg`` and optional ``details``, as the spec defines.

    >>> print(CNIError(7, "missing network name").to_json())
    {
        "code": 7,
        "msg": "missing network name"
    }
    """

    def __init__(self, code: int, msg: str, details: str = ""):
        super().__init__(msg)
        self.code = int(code)
        self.msg = msg
        self.details = details
        #: Set by the runtime: which plugin failed, for which verb, and its invocation record.
        self.plugin: str = ""
        self.command: str = ""
        self.invocation = None

    def __str__(self) -> str:
        where = (
            f"plugin type={self.plugin!r} failed ({self.command.lower()}): " if self.plugin else ""
        )
        tail = f"; {self.details}" if self.details else ""
        return f"{where}{self.msg}{tail}"

    def __repr__(self) -> str:
        return f"CNIError({self.code}, {self.msg!r}, {self.details!r})"

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.details:
            out["details"] = self.details
        return out

    def to_json(self) -> str:
        return marshal_indent(self.to_dict())


def parse_error(data: bytes | str) -> CNIError:
    """Read a plugin's error JSON (``cniVersion`` may be there or not)."""
    obj = unmarshal(data)
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("code", 0), int)
        or isinstance(obj.get("code"), bool)
    ):
        raise GoJSONError("json: cannot unmarshal into Go value of type types.Error")
    msg = obj.get("msg", "")
    details = obj.get("details", "")
    if not isinstance(msg, str) or not isinstance(details, str):
        raise GoJSONError("json: cannot unmarshal into Go value of type types.Error")
    return CNIError(obj.get("code", 0), msg, details)


# --------------------------------------------------------------- versions
def parse_version(version: str) -> tuple[int, int, int]:
    """``pkg/version.ParseVersion``: "" means 0.1.0; Go's words on failure."""
    if version == "":
        return 0, 1, 0
    parts = version.split(".")
    if len(parts) >= 4:
        raise ValueError(f'invalid version "{version}": too many parts')
    names = ("major", "minor", "micro")
    nums = [0, 0, 0]
    for i, part in enumerate(parts):
        if not _is_go_int(part):
            raise ValueError(
                f'failed to convert {names[i]} version part "{part}": '
                f'strconv.Atoi: parsing "{part}": invalid syntax'
            )
        nums[i] = int(part)
    return nums[0], nums[1], nums[2]


def _is_go_int(s: str) -> bool:
    body = s[1:] if s[:1] in "+-" else s
    return bool(body) and body.isascii() and body.isdigit()


def greater_than_or_equal_to(version: str, other: str) -> bool:
    return parse_version(version) >= parse_version(other)


def _is_legacy(version: str) -> bool:
    return version in ("", "0.1.0", "0.2.0")


def _has_ip_version(version: str) -> bool:
    return version in ("0.3.0", "0.3.1", "0.4.0")


# ---------------------------------------------------------------- results
def _canon_cidr(text: str) -> str:
    return str(ipaddress.ip_interface(text))


def _canon_ip(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _family(cidr_or_ip: str) -> int:
    return ipaddress.ip_interface(cidr_or_ip).version


@dataclass
class Interface:
    name: str
    mac: str = ""
    sandbox: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name}
        if self.mac:
            out["mac"] = self.mac
        if self.sandbox:
            out["sandbox"] = self.sandbox
        return out


@dataclass
class IPConfig:
    address: str  # CIDR with the subnet's prefix, e.g. "10.88.0.2/16"
    gateway: str = ""
    interface: int | None = None  # index into Result.interfaces

    @property
    def version(self) -> str:
        return str(_family(self.address))

    def to_dict(self, cni_version: str) -> dict:
        out: dict[str, Any] = {}
        if _has_ip_version(cni_version):
            out["version"] = self.version
        if self.interface is not None:
            out["interface"] = self.interface
        out["address"] = self.address
        if self.gateway:
            out["gateway"] = self.gateway
        return out


@dataclass
class Route:
    dst: str  # CIDR as given (Go keeps host bits: "192.0.2.5/24" stays so)
    gw: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"dst": self.dst}
        if self.gw:
            out["gw"] = self.gw
        return out


@dataclass
class DNS:
    nameservers: list[str] = field(default_factory=list)
    domain: str = ""
    search: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.nameservers:
            out["nameservers"] = list(self.nameservers)
        if self.domain:
            out["domain"] = self.domain
        if self.search:
            out["search"] = list(self.search)
        if self.options:
            out["options"] = list(self.options)
        return out

    def is_set(self) -> bool:
        return bool(self.nameservers or self.domain or self.search or self.options)

    @classmethod
    def from_dict(cls, d: dict | None) -> DNS:
        d = d or {}
        return cls(
            nameservers=list(d.get("nameservers") or []),
            domain=d.get("domain") or "",
            search=list(d.get("search") or []),
            options=list(d.get("options") or []),
        )


@dataclass
class Result:
    """An ADD result, kept in the 1.0.0 shape and printed in any supported version.

    >>> r = Result("1.0.0", ips=[IPConfig("10.88.0.2/16", "10.88.0.1")])
    >>> print(r.to_json("0.4.0"))
    {
        "cniVersion": "0.4.0",
        "ips": [
            {
                "version": "4",
                "address": "10.88.0.2/16",
                "gateway": "10.88.0.1"
            }
        ],
        "dns": {}
    }
    """

    cni_version: str = CURRENT_VERSION
    interfaces: list[Interface] = field(default_factory=list)
    ips: list[IPConfig] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    dns: DNS = field(default_factory=DNS)

    # ------------------------------------------------------------- output
    def to_dict(self, cni_version: str | None = None) -> dict:
        """The JSON object for ``cni_version`` (default: the result's own)."""
        version = self.cni_version if cni_version is None else cni_version
        version = version or "0.1.0"  # a config without cniVersion is 0.1.0
        if version not in SUPPORTED_VERSIONS:
            raise CNIError(
                ERR_INCOMPATIBLE_CNI_VERSION,
                f'cannot convert version ["{self.cni_version}"] to "{version}"',
            )
        if _is_legacy(version):
            return self._to_legacy(version)
        out: dict[str, Any] = {"cniVersion": version}
        if self.interfaces:
            out["interfaces"] = [i.to_dict() for i in self.interfaces]
        if self.ips:
            out["ips"] = [ip.to_dict(version) for ip in self.ips]
        if self.routes:
            out["routes"] = [r.to_dict() for r in self.routes]
        out["dns"] = self.dns.to_dict()
        return out

    def _to_legacy(self, version: str) -> dict:
        ip4 = ip6 = None
        for ip in self.ips:
            fam = _family(ip.address)
            if fam == 4 and ip4 is None:
                ip4 = {"ip": ip.address, "gateway": ip.gateway, "routes": []}
            elif fam == 6 and ip6 is None:
                ip6 = {"ip": ip.address, "gateway": ip.gateway, "routes": []}
        for r in self.routes:
            target = ip4 if _family(r.dst) == 4 else ip6
            if target is not None:
                target["routes"].append(r.to_dict())
        if ip4 is None and ip6 is None:
            raise CNIError(ERR_INTERNAL, "cannot convert: no valid IP addresses")
        out: dict[str, Any] = {"cniVersion": version}
        for key, conf in (("ip4", ip4), ("ip6", ip6)):
            if conf is None:
                continue
            obj: dict[str, Any] = {"ip": conf["ip"]}
            if conf["gateway"]:
                obj["gateway"] = conf["gateway"]
            if conf["routes"]:
                obj["routes"] = conf["routes"]
            out[key] = obj
        out["dns"] = self.dns.to_dict()
        return out

    def to_json(self, cni_version: str | None = None) -> str:
        """What ``types.PrintResult`` writes: indented, no trailing newline."""
        return marshal_indent(self.to_dict(cni_version))

    def to_compact(self, cni_version: str | None = None) -> str:
        return marshal(self.to_dict(cni_version))

    def convert(self, cni_version: str) -> Result:
        """The same result labelled with another version (checked by serializing)."""
        self.to_dict(cni_version)
        return replace(self, cni_version=cni_version)

    # -------------------------------------------------------------- input
    @classmethod
    def from_dict(cls, d: dict) -> Result:
        """Read a result of any supported version into the 1.0.0 shape."""
        if not isinstance(d, dict):
            raise CNIError(ERR_DECODING_FAILURE, "result is not a JSON object")
        version = d.get("cniVersion", "")
        if not isinstance(version, str):
            raise CNIError(
                ERR_DECODING_FAILURE,
                "json: cannot unmarshal into Go struct field Result.cniVersion of type string",
            )
        try:
            if _is_legacy(version):
                return cls._from_legacy(version or "0.1.0", d)
            if version not in SUPPORTED_VERSIONS:
                raise CNIError(
                    ERR_INCOMPATIBLE_CNI_VERSION, f'unsupported CNI result version "{version}"'
                )
            interfaces = [
                Interface(i["name"], i.get("mac") or "", i.get("sandbox") or "")
                for i in (d.get("interfaces") or [])
            ]
            ips = [
                IPConfig(
                    _canon_cidr(i["address"]),
                    _canon_ip(i["gateway"]) if i.get("gateway") else "",
                    _interface_index(i.get("interface")),
                )
                for i in (d.get("ips") or [])
            ]
            routes = [
                Route(_canon_cidr(r["dst"]), _canon_ip(r["gw"]) if r.get("gw") else "")
                for r in (d.get("routes") or [])
            ]
            return cls(version, interfaces, ips, routes, DNS.from_dict(d.get("dns")))
        except CNIError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise CNIError(ERR_DECODING_FAILURE, f"failed to parse result: {err}") from None

    @classmethod
    def _from_legacy(cls, version: str, d: dict) -> Result:
        ips: list[IPConfig] = []
        routes: list[Route] = []
        for key in ("ip4", "ip6"):
            conf = d.get(key)
            if not conf:
                continue
            ips.append(
                IPConfig(
                    _canon_cidr(conf["ip"]),
                    _canon_ip(conf["gateway"]) if conf.get("gateway") else "",
                )
            )
            for r in conf.get("routes") or []:
                routes.append(
                    Route(_canon_cidr(r["dst"]), _canon_ip(r["gw"]) if r.get("gw") else "")
                )
        return cls(version, [], ips, routes, DNS.from_dict(d.get("dns")))


def _interface_index(v) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError("interface index is not an integer")
    return v


def parse_result(data: bytes | str | dict) -> Result:
    """Parse a plugin's stdout (any supported version) into a :class:`Result`."""
    obj = data if isinstance(data, dict) else unmarshal(data)
    return Result.from_dict(obj)


@dataclass(frozen=True)
class PluginInfo:
    """What ``VERSION`` answers."""

    cni_version: str = LIBRARY_VERSION
    supported_versions: tuple[str, ...] = SUPPORTED_VERSIONS

    def encode(self) -> str:
        """``json.NewEncoder(stdout).Encode(...)``: compact, with a trailing newline.

        >>> out = PluginInfo().encode()
        >>> out[:42], out[-26:]
        ('{"cniVersion":"1.1.0","supportedVersions":', '"0.4.0","1.0.0","1.1.0"]}\\n')
        """
        return (
            marshal(
                {"cniVersion": self.cni_version, "supportedVersions": list(self.supported_versions)}
            )
            + "\n"
        )

    @classmethod
    def decode(cls, data: bytes | str) -> PluginInfo:
        obj = unmarshal(data)
        if not isinstance(obj, dict):
            raise CNIError(ERR_DECODING_FAILURE, "decoding version info: not a JSON object")
        version = obj.get("cniVersion", "")
        if version == "":
            raise CNIError(ERR_DECODING_FAILURE, "decoding version info: missing field cniVersion")
        supported = obj.get("supportedVersions")
        if supported is None:
            # A 0.1.0 plugin answers nothing useful: the library assumes 0.1.0 and 0.2.0.
            supported = ["0.1.0", "0.2.0"] if version == "0.2.0" else [version]
        return cls(version, tuple(supported))


# ---------------------------------------------------------------------- GC
#: The key a GC request carries (spec 1.1.0; libcni also sends ``cni.dev/attachments``,
#: the name the 1.1.0 text had first).
VALID_ATTACHMENTS = "cni.dev/valid-attachments"

_GC_CONF = Struct(
    "NetConf",
    {
        VALID_ATTACHMENTS: ListOf(
            Struct("types.GCAttachment", {"containerID": STR, "ifname": STR})
        )
    },
)


def valid_attachments(data: bytes) -> set[tuple[str, str]]:
    """``types.NetConf.ValidAttachments``: the (container id, ifname) pairs still in use.

    >>> sorted(valid_attachments(b'{"cni.dev/valid-attachments": '
    ...        b'[{"containerID": "a", "ifname": "eth0"}]}'))
    [('a', 'eth0')]
    """
    try:
        conf = decode_struct(unmarshal(data), _GC_CONF)
    except GoJSONError as err:
        raise RuntimeError(f"failed to load netconf: {err}") from None
    return {
        (a.get("containerID") or "", a.get("ifname") or "")
        for a in conf.get(VALID_ATTACHMENTS) or []
        if a is not None
    }
