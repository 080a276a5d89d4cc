"""Finding a link (with iproute2's error when it is missing) and table rows.

The scans run at C speed (``compress``/``map`` over attrgetters): a node has
thousands of links and addresses (see benchmarks/).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from itertools import compress, repeat
from operator import attrgetter, eq, ne

from ..errors import NetError
from ..state import Link, Netns

IFINDEX = attrgetter("ifindex")
MASTER = attrgetter("master")
PORT_NO = attrgetter("port_no")
ADDRESS = attrgetter("address")
ZERO_MAC = "00:00:00:00:00:00"
ETHER_KINDS = ("veth", "bridge")


def find_link(ns: Netns, ifname: str) -> Link:
    link = ns.link(ifname)
    if link is None:
        raise NetError.no_device(ifname)
    return link


def where(items, getter, value) -> list:
    """The items whose ``getter(item) == value``, in order."""
    return list(compress(items, map(eq, map(getter, items), repeat(value))))


def positions(items, getter, value) -> list[int]:
    return list(compress(range(len(items)), map(eq, map(getter, items), repeat(value))))


def without(items, getter, value) -> tuple:
    return tuple(compress(items, map(ne, map(getter, items), repeat(value))))


@lru_cache(maxsize=4096)
def network(cidr: str):
    return ipaddress.ip_interface(cidr).network
