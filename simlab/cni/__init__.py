"""CNI for simlab: spec types, a libcni-like runtime, and teaching plugins.

- :mod:`simlab.cni.spec`: versions, :class:`CNIError`, :class:`Result` (0.1.0 to
  1.0.0, printed byte-for-byte like the reference library);
- :mod:`simlab.cni.config`: network configurations and lists;
- :class:`Runtime`: runs plugins for a container as libcni does (ADD in order
  with ``prevResult``, DEL in reverse, CHECK), execs any executable plugin or
  runs simlab's own in-process on the lab's model;
- :mod:`simlab.cni.plugins`: ``simlab-bridge`` and ``simlab-host-local``,
  function-for-function twins of the reference ``bridge`` and ``host-local``
  (``python -m simlab.cni.mirror_table`` lists the pairs).

Namespaces: on the model a ``CNI_NETNS`` of ``/run/netns/<key>`` or
``/var/run/netns/<key>`` is the model namespace ``<key>`` (a lab can register
other paths with ``netns_paths``); on the kernel it is the real path, and the
plugin runs in the lab's node namespace (``Runtime(exec_prefix=["nsenter",
"--net=<node>", "--"])``).
"""

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

__all__ = [
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
