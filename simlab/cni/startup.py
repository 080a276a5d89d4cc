"""What a plugin executable does before it touches the kernel: import little.

pyroute2's package ``__init__`` imports all of pyroute2 (IPRoute, NDB, IPDB, the
asyncio transports: about 160 modules, 0.2-0.3 s on a 2-core machine); simlab's kernel
backend uses only ``pyroute2.netlink`` (message classes, constants, NetlinkError).  A
plugin process, which imports nothing else of pyroute2, registers the package without
running that ``__init__`` (its submodules import as usual): about half the modules and
of the time (measured: ``benchmarks/bench_k8s_kernel.py``'s VERSION line, and
``python -X importtime``).  Only in the plugin's own process: a lab keeps the whole
package.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["narrow_pyroute2"]


def narrow_pyroute2() -> None:
    """Make ``import pyroute2.netlink...`` skip ``pyroute2/__init__.py`` in this process."""
    if "pyroute2" in sys.modules:
        return
    spec = importlib.util.find_spec("pyroute2")
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: the kernel session says so when it is needed
    sys.modules["pyroute2"] = importlib.util.module_from_spec(spec)
