"""The multicast groups a device joins (``bridge fdb`` lists their MACs as ``self permanent``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from ..state import Link

#: ff02::1 (from registration), 224.0.0.1 (when up) and, on a bridge, the
#: IGMP/MLD snoopers' 224.0.0.106 / ff02::6a.
ALL_NODES = "33:33:00:00:00:01"
ALL_HOSTS = "01:00:5e:00:00:01"
SNOOPERS = ("01:00:5e:00:00:6a", "33:33:00:00:00:6a")


def mc_add(link: Link, *macs: str) -> Link:
    new = link.mc + tuple(m for m in macs if m not in link.mc)
    return link if new == link.mc else link.evolve(mc=new)


@lru_cache(maxsize=4096)
def solicited(address: str) -> str:
    """MAC of the IPv6 solicited-node group of ``address`` (33:33:ff + its last 24 bits)."""
    tail = ipaddress.IPv6Address(address).packed[-3:]
    return "33:33:ff:" + ":".join(f"{b:02x}" for b in tail)
