"""CNI for simlab: spec types, a libcni-like runtime, and teaching plugins.

- :mod:`simlab.cni.spec`: versions, :class:`CNIError`, :class:`Result` (0.1.0 to
  1.0.0, printed byte-for-byte like the reference library);
- :mod:`simlab.cni.config`: network configurations and lists;
- :class:`Runtime`: runs plugins for a container as libcni does (ADD in order
  with ``prevResult``, DEL in reverse, CHECK; spec 1.1.0's STATUS and GC),
  execs any executable plugin or runs simlab's own in-process on the lab's model;
- :mod:`simlab.cni.plugins`: ``simlab-bridge`` and ``simlab-host-local``,
  function-for-function twins of the reference ``bridge`` and ``host-local``
  (``python -m simlab.cni.mirror_table`` lists the pairs).

Namespaces: on the model a ``CNI_NETNS`` of ``/run/netns/<key>`` or
``/var/run/netns/<key>`` is the model namespace ``<key>`` (a lab can register
other paths with ``netns_paths``); on the kernel it is the real path, and the
plugin runs in the lab's node namespace (``Runtime(exec_prefix=["nsenter",
"--net=<node>", "--"])``).

The building blocks a plugin is written with, public API (notebook 04 writes a
plugin with them), imported on first use:

- :mod:`simlab.cni.skel`: the plugin skeleton, env vars and stdin in, a result
  or an error JSON out (Go ``pkg/skel``);
- :mod:`simlab.cni.netlink`: netlink-shaped calls (``link_add``, ``addr_add``,
  ``link_by_name``...) that apply simlab operations on the lab's backend;
- :mod:`simlab.cni.ns`: a namespace by path, ``get_ns(path).do()`` (Go ``pkg/ns``);
- :mod:`simlab.cni.ip`: veth pairs, IP forwarding, masquerade (Go ``pkg/ip``);
- :mod:`simlab.cni.ipam`: run the IPAM plugin and configure the interface with
  its result (Go ``pkg/ipam``);
- :mod:`simlab.cni.spec`: versions, errors and results as the spec prints them;
- :mod:`simlab.cni.mirror_table`: which simlab function mirrors which Go function.
"""

import importlib

from .config import NetworkConfig, NetworkConfigList, load
from .runtime import Runtime
from .spec import (
    CURRENT_VERSION,
    DNS,
    SUPPORTED_VERSIONS,
    CNIError,
    Interface,
    IPConfig,
    PluginInfo,
    Result,
    Route,
    parse_result,
)
from .trace import Invocation, ListRecorder, StepRecord

#: Submodules that are public API, imported when first named (``simlab.cni.ip``).
_SUBMODULES = ("ip", "ipam", "mirror_table", "netlink", "ns", "skel", "spec")

__all__ = [
    *_SUBMODULES,
    "Runtime",
    "CNIError",
    "Result",
    "Interface",
    "IPConfig",
    "Route",
    "DNS",
    "PluginInfo",
    "parse_result",
    "NetworkConfig",
    "NetworkConfigList",
    "load",
    "SUPPORTED_VERSIONS",
    "CURRENT_VERSION",
    "Invocation",
    "StepRecord",
    "ListRecorder",
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
