"""Bridge ports: enslaving, releasing, and the bridge's MAC and MTU that follow its ports."""

from __future__ import annotations

from ..state import Link, Netns
from ..txn import Txn
from .find import IFINDEX, MASTER, PORT_NO, ZERO_MAC, where, without


def ports(ns: Netns, bridge_index: int) -> list[Link]:
    return where(ns.links.values(), MASTER, bridge_index)


def _mac_key(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def recompute_bridge(t: Txn, ns: Netns, bridge_index: int, added: Link | None = None,
                     others: bool = False) -> Netns:
    """Bridge MAC follows its lowest port MAC until set; MTU follows the smallest port.

    ``added``: the port just enslaved, when nothing else changed, and whether
    the bridge had ``others`` (saves a scan of the links).
    """
    bridge = ns.links.get(bridge_index)
    if bridge is None or bridge.kind != "bridge":
        return ns
    if added is not None:
        mac = min(bridge.mac, added.mac, key=_mac_key) if others else added.mac
        mtu = min(bridge.mtu, added.mtu) if others else added.mtu
    else:
        members = ports(ns, bridge_index)
        mac = min((p.mac for p in members), default=ZERO_MAC, key=_mac_key)
        mtu = min((p.mtu for p in members), default=bridge.mtu)
    changes = {}
    if not bridge.mac_set and mac != bridge.mac:
        changes["mac"] = mac
    if not bridge.mtu_set and mtu != bridge.mtu:
        changes["mtu"] = mtu
    return t.links(ns, bridge.evolve(**changes)) if changes else ns


def enslave(t: Txn, ns: Netns, link: Link, bridge: Link) -> tuple[Netns, Link]:
    members = ports(ns, bridge.ifindex)
    used = set(map(PORT_NO, members))
    port_no = min(set(range(1, len(used) + 2)) - used)  # the lowest free one
    link = link.evolve(master=bridge.ifindex, port_no=port_no)
    ns = t.links(ns, link)
    if not bridge.had_ports:
        ns = t.links(ns, bridge.evolve(had_ports=True))
    return recompute_bridge(t, ns, bridge.ifindex, added=link, others=bool(members)), link


def release(t: Txn, ns: Netns, link: Link) -> tuple[Netns, Link]:
    """br_del_if(): the port leaves its bridge and the bridge forgets it."""
    bridge_index = link.master
    link = link.evolve(master=None, port_no=0, hairpin=False, learning=True, flood=True)
    ns = t.links(ns, link)
    if link.ifindex in map(IFINDEX, ns.fdb):
        ns = ns.evolve(fdb=without(ns.fdb, IFINDEX, link.ifindex))
    return recompute_bridge(t, ns, bridge_index), link
