"""Network configurations and configuration lists, as libcni reads and writes them.

A *configuration list* (``.conflist``, the only form in spec 1.0) has
``cniVersion``, ``name``, optional ``disableCheck`` and ``plugins``; a single
plugin configuration (``.conf``) has ``type`` and is treated as a list of
one.  What a plugin gets on stdin (:func:`build_one_config`) is its own
object plus ``name`` and ``cniVersion`` from the list, ``prevResult`` when
there is one and ``runtimeConfig`` for the capabilities it declares --
written like Go's ``json.Marshal`` of a map: compact, keys sorted (the
``prevResult`` object itself keeps the result's key order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .gojson import GoJSONError, marshal, unmarshal
from .spec import ERR_DECODING_FAILURE, ERR_INVALID_NETWORK_CONFIG, CNIError, Result, parse_version

__all__ = [
    "NetworkConfig",
    "NetworkConfigList",
    "conf_from_bytes",
    "conf_list_from_bytes",
    "load",
    "build_one_config",
]


def _go_type(v: Any) -> str:
    return {
        bool: "bool",
        str: "string",
        int: "float64",
        list: "[]interface {}",
        dict: "map[string]interface {}",
        type(None): "<nil>",
    }.get(type(v), "float64")


@dataclass
class NetworkConfig:
    """One plugin's configuration object (``type`` is required)."""

    network: dict

    @property
    def type(self) -> str:
        return self.network.get("type", "")

    @property
    def name(self) -> str:
        return self.network.get("name", "") if isinstance(self.network.get("name"), str) else ""

    @property
    def cni_version(self) -> str:
        v = self.network.get("cniVersion", "")
        return v if isinstance(v, str) else ""

    @property
    def capabilities(self) -> dict:
        caps = self.network.get("capabilities")
        return caps if isinstance(caps, dict) else {}

    @property
    def bytes(self) -> bytes:
        return marshal(_sorted(self.network)).encode()


@dataclass
class NetworkConfigList:
    """A named, versioned chain of plugin configurations."""

    name: str
    cni_version: str = ""
    disable_check: bool = False
    plugins: list[NetworkConfig] = field(default_factory=list)
    #: spec 1.1.0: the runtime must not send GC for this network
    disable_gc: bool = False

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"cniVersion": self.cni_version, "name": self.name}
        if self.disable_check:
            out["disableCheck"] = True
        if self.disable_gc:
            out["disableGC"] = True
        out["plugins"] = [p.network for p in self.plugins]
        return out


def _sorted(v: Any) -> Any:
    """A decoded JSON value with every object's keys sorted (Go marshals maps that way)."""
    if isinstance(v, dict):
        return {k: _sorted(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [_sorted(x) for x in v]
    return v


def _decode(data: bytes | str | Mapping, what: str) -> Any:
    if isinstance(data, Mapping):
        return dict(data)
    try:
        return unmarshal(data)
    except GoJSONError as err:
        raise CNIError(ERR_DECODING_FAILURE, f"error parsing {what}: {err}") from None


# mirrors libcni/conf.go: ConfFromBytes
def conf_from_bytes(data: bytes | str | Mapping) -> NetworkConfig:
    obj = _decode(data, "configuration")
    if not isinstance(obj, dict):
        raise CNIError(
            ERR_DECODING_FAILURE,
            "error parsing configuration: json: cannot unmarshal "
            f"{_go_type(obj)} into Go value of type types.NetConf",
        )
    if not isinstance(obj.get("type", ""), str) or not obj.get("type"):
        raise CNIError(ERR_INVALID_NETWORK_CONFIG, "error parsing configuration: missing 'type'")
    return NetworkConfig(obj)


# mirrors libcni/conf.go: ConfListFromBytes
def conf_list_from_bytes(data: bytes | str | Mapping) -> NetworkConfigList:
    raw = _decode(data, "configuration list")
    if not isinstance(raw, dict):
        raise CNIError(
            ERR_DECODING_FAILURE,
            "error parsing configuration list: json: cannot unmarshal "
            f"{_go_type(raw)} into Go value of type map[string]interface {{}}",
        )

    def bad(msg: str) -> CNIError:
        return CNIError(ERR_INVALID_NETWORK_CONFIG, f"error parsing configuration list: {msg}")

    if "name" not in raw:
        raise bad("no name")
    if not isinstance(raw["name"], str):
        raise bad(f"invalid name type {_go_type(raw['name'])}")
    version = raw.get("cniVersion", "")
    if not isinstance(version, str):
        raise bad(f"invalid cniVersion type {_go_type(version)}")
    disable_check = raw.get("disableCheck", False)
    if not isinstance(disable_check, bool):
        raise bad(f"invalid disableCheck type {_go_type(disable_check)}")
    disable_gc = raw.get("disableGC", False)
    if not isinstance(disable_gc, bool):
        raise bad(f"invalid disableGC type {_go_type(disable_gc)}")
    if "plugins" not in raw:
        raise bad("no 'plugins' key")
    plugins = raw["plugins"]
    if not isinstance(plugins, list):
        raise bad(f"invalid 'plugins' type {_go_type(plugins)}")
    if len(plugins) == 0:
        raise bad("no plugins in list")
    out = NetworkConfigList(raw["name"], version, disable_check, disable_gc=disable_gc)
    for i, conf in enumerate(plugins):
        try:
            out.plugins.append(conf_from_bytes(conf if isinstance(conf, dict) else marshal(conf)))
        except CNIError as err:
            raise CNIError(err.code, f"failed to parse plugin config {i}: {err.msg}") from None
    return out


def load(config: NetworkConfigList | NetworkConfig | Mapping | str | bytes) -> NetworkConfigList:
    """Any configuration as a list: a ``.conflist``, or a single ``.conf`` wrapped in a list of one.

    >>> load({"cniVersion": "1.0.0", "name": "net", "type": "simlab-bridge"}).plugins[0].type
    'simlab-bridge'
    """
    if isinstance(config, NetworkConfigList):
        return config
    if isinstance(config, NetworkConfig):
        conf = config
    else:
        obj = _decode(config, "configuration")
        if isinstance(obj, dict) and "plugins" in obj:
            out = conf_list_from_bytes(obj)
            _check_version(out.cni_version)
            return out
        conf = conf_from_bytes(obj)
    _check_version(conf.cni_version)
    return NetworkConfigList(conf.name, conf.cni_version, False, [conf])


def _check_version(version: str) -> None:
    try:
        parse_version(version)
    except ValueError as err:
        raise CNIError(
            ERR_INVALID_NETWORK_CONFIG, f"invalid cniVersion {version!r}: {err}"
        ) from None


# mirrors libcni/api.go: buildOneConfig
def build_one_config(
    name: str,
    cni_version: str,
    orig: NetworkConfig,
    prev_result: Result | None,
    capability_args: Mapping[str, Any] | None = None,
) -> bytes:
    """The request configuration a plugin reads on stdin."""
    conf = _sorted(dict(orig.network))
    # Ensure every config uses the same name and version
    conf["name"] = name
    conf["cniVersion"] = cni_version
    # Add previous plugin result
    if prev_result is not None:
        conf["prevResult"] = prev_result.to_dict(cni_version)
    # injectRuntimeConfig: only the capabilities the plugin declared
    runtime = {
        cap: capability_args[cap]
        for cap, on in orig.capabilities.items()
        if on and capability_args and cap in capability_args
    }
    if runtime:
        conf["runtimeConfig"] = _sorted(runtime)
    return marshal({k: conf[k] for k in sorted(conf)}).encode()
