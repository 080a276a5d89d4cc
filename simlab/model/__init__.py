"""The pure-Python model of the kernel's network state (standard library only)."""

from . import ops
from .apply import apply, apply_all
from .errors import NetError, UsageError
from .ops import *  # noqa: F401,F403
from .state import ROOT, Addr, FdbEntry, Link, Neigh, NetState, Netns, Route, Rule, new_state

__all__ = [
    "ops", "apply", "apply_all", "NetError", "UsageError", "ROOT", "Addr", "FdbEntry", "Link",
    "Neigh", "NetState", "Netns", "Route", "Rule", "new_state", *ops.__all__,
]
