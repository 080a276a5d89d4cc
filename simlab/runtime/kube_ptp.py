"""The old home of simlab-ptp, kept so that ``simlab.runtime.kube_ptp`` still imports.

The plugin lives with the others in :mod:`simlab.cni.plugins.ptp`.

>>> host_veth_name("abc")
'calia9993e36470'
"""

from __future__ import annotations

from ..cni.plugins.ptp import *  # noqa: F403
from ..cni.plugins.ptp import __all__  # noqa: F401
