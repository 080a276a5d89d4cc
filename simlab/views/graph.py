"""A snapshot as a networkx graph, with node ids that survive renames and moves.

Rules of this module:

- :func:`build` is pure: the same snapshot (and ids) gives the same graph.
- Node ids are names, never bare ifindexes:

  * ``ns:KEY`` for a namespace (``ns:`` is the node itself, whose key is ``""``);
  * ``if:KEY/IFNAME`` for a link: the namespace and name the link had **when it was
    born** (first seen on the timeline).  A veth created as ``veth2`` in the node,
    moved into ``red`` and renamed ``eth0`` stays ``if:/veth2`` for its whole life,
    while its ``netns`` and ``ifname`` attributes follow it.  A link born later with
    the same birth name while the first one is still alive gets ``#2``, ``#3``...;
    one born after the first died reuses the plain id (and so its place on screen);
  * ``ctr:NAME`` for a container that has no namespace of its own (docker
    ``--net container:X`` or ``--net host``), joined to the namespace it shares.

  Without a history (a single snapshot) a link's id is its current ``if:KEY/IFNAME``.
- :func:`follow` carries ids from one snapshot to the next: a link keeps its id when
  it keeps its ``(netns, ifindex)`` with the same kind and the same name or MAC (a
  rename keeps the ifindex), when the step's ``ip link set ... netns/name`` ops say
  where it went, or, failing both, when a link of the same kind with the same MAC
  appears elsewhere (a move keeps the MAC).  Anything else is a new link.
- Edges: ``veth`` (the two ends of a pair), ``port`` (a bridge port and its bridge),
  ``shares`` (a container and the namespace it uses), plus any extra edges given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..model import ROOT, LinkSet, NetState, derive

__all__ = [
    "ns_id",
    "if_id",
    "ctr_id",
    "initial_ids",
    "follow",
    "build",
    "role_of",
    "LinkKey",
]

#: Where a link is in one snapshot: (namespace key, ifindex).
LinkKey = tuple[str, int]

_TUNNELS = ("ipip", "sit", "ip6tnl", "gre", "ip6gre")
_ATTACHABLE = ("veth", "bridge", "loopback", *_TUNNELS)


def ns_id(key: str) -> str:
    """Node id of a namespace: ``ns:red``; the node itself is ``ns:``."""
    return f"ns:{key}"


def if_id(key: str, ifname: str) -> str:
    """Default node id of a link: ``if:red/eth0``; in the node ``if:/cni0``."""
    return f"if:{key}/{ifname}"


def ctr_id(name: str) -> str:
    """Node id of a container without a namespace of its own."""
    return f"ctr:{name}"


def role_of(key: str, kind: str, ifname: str, uplinks: Iterable[str] = ("em1",)) -> str:
    """What a link is on the picture: lo, bridge, veth, tunnel or uplink.

    The node's uplink is a link in the node namespace named in ``uplinks`` or of a
    kind simlab does not wire (a physical NIC on the kernel backend).
    """
    if kind == "loopback":
        return "lo"
    if kind in _TUNNELS:
        return "tunnel"
    if key == ROOT and (ifname in uplinks or kind not in _ATTACHABLE):
        return "uplink"
    if kind == "bridge":
        return "bridge"
    return "veth" if kind == "veth" else "other"


def initial_ids(state: NetState) -> dict[LinkKey, str]:
    """Ids for a snapshot seen without history: each link's current ``if:KEY/IFNAME``."""
    return {(key, index): if_id(key, link.ifname)
            for key, ns in state.netns.items() for index, link in ns.links.items()}


def _moves(before: NetState, ops) -> dict[tuple[str, str], LinkKey]:
    """Where the step's ``ip link set`` ops took links: {(ns, ifname) after: key before}."""
    ops = [op for op in ops
           if isinstance(op, LinkSet) and (op.to_netns is not None or op.name is not None)]
    if not ops:
        return {}
    loc: dict[tuple[str, str], LinkKey] = {}
    moved: set[tuple[str, str]] = set()
    for key, ns in before.netns.items():
        for index, link in ns.links.items():
            loc[(key, link.ifname)] = (key, index)
    for op in ops:
        if isinstance(op, LinkSet) and (op.to_netns is not None or op.name is not None):
            src = loc.pop((op.netns, op.ifname), None)
            if src is None:
                continue
            dst = (op.netns if op.to_netns is None else op.to_netns, op.name or op.ifname)
            loc[dst] = src
            moved.add(dst)
    return {where: src for where, src in loc.items() if where in moved}


def _real_mac(mac: str) -> bool:
    return bool(mac) and mac != "00:00:00:00:00:00"


def follow(before: NetState, after: NetState, before_ids: Mapping[LinkKey, str],
           ops=(), changed: Iterable[str] | None = None) -> dict[LinkKey, str]:
    """Ids for ``after``'s links, carried over from ``before`` (see the module rules).

    ``changed`` (the namespace keys whose ``Netns`` object differs between the two, or
    None to compare all) limits the work to them: a link of a namespace that is the same
    object in both keeps its id by rule 2, and none of the rules moves it.

    >>> from simlab.model import new_state, apply, NetnsAdd, LinkAdd, LinkSet
    >>> s0 = apply(apply(new_state(), NetnsAdd("red")), LinkAdd("veth1", "veth", peer="veth2"))
    >>> ids0 = initial_ids(s0)
    >>> op = LinkSet("veth2", to_netns="red", name="eth0")
    >>> s1 = apply(s0, op)
    >>> ids1 = follow(s0, s1, ids0, [op])
    >>> [ids1[k] for k in sorted(ids1) if k[0] == "red" and k[1] != 1]
    ['if:/veth2']
    """
    reset = {op.name for op in ops if type(op).__name__ in ("NetnsAdd", "NetnsDel")}
    keys = None if changed is None else set(changed) | reset
    before_links = {(k, i): link for k, ns in before.netns.items()
                    if keys is None or k in keys for i, link in ns.links.items()}
    after_links = {(k, i): link for k, ns in after.netns.items()
                   if keys is None or k in keys for i, link in ns.links.items()}
    out: dict[LinkKey, str] = {}
    used: set[LinkKey] = set()
    if keys is not None:  # the unchanged namespaces keep their ids as they are
        out = dict(before_ids)
        for bkey in before_links:
            out.pop(bkey, None)
        # and so does a link that is the same object in a changed one (rule 2 at once: no
        # op moved or renamed it, or it would be another object)
        for akey, link in list(after_links.items()):
            if (akey[0] not in reset and before_links.get(akey) is link
                    and akey in before_ids):
                out[akey] = before_ids[akey]
                used.add(akey)
                del after_links[akey], before_links[akey]

    def take(akey: LinkKey, bkey: LinkKey) -> None:
        out[akey] = before_ids[bkey]
        used.add(bkey)

    # 1. The ops say where a link went (`ip link set X netns NS name N`).
    for (key, ifname), bkey in _moves(before, ops).items():
        ns = after.netns.get(key)
        link = ns.link(ifname) if ns is not None else None
        if link is None or bkey not in before_ids or bkey in used or bkey not in before_links:
            continue
        if (key, link.ifindex) not in out and link.kind == before_links[bkey].kind:
            take((key, link.ifindex), bkey)
    # 2. Same place, same kind, same name or MAC (a rename keeps the ifindex).
    for akey, link in after_links.items():
        if akey in out or akey not in before_links or akey not in before_ids or akey in used:
            continue
        old = before_links[akey]
        if akey[0] in reset:
            continue
        if old.kind == link.kind and (old.ifname == link.ifname or old.mac == link.mac):
            take(akey, akey)
    # 3. A move the ops did not describe: the MAC travels with the device.
    by_mac: dict[tuple[str, str], list[LinkKey]] = {}
    for bkey, old in before_links.items():
        if bkey not in used and bkey in before_ids and _real_mac(old.mac):
            by_mac.setdefault((old.kind, old.mac), []).append(bkey)
    for akey, link in after_links.items():
        if akey in out or not _real_mac(link.mac):
            continue
        candidates = by_mac.get((link.kind, link.mac))
        if candidates:
            take(akey, candidates.pop(0))
    # 4. Everything else was born in this step.
    born = [akey for akey in after_links if akey not in out]
    live = set(out.values()) if born else set()
    for akey in sorted(born, key=_order(after)):
        base = if_id(akey[0], after_links[akey].ifname)
        ident, n = base, 1
        while ident in live:
            n += 1
            ident = f"{base}#{n}"
        out[akey] = ident
        live.add(ident)
    return out


def _order(state: NetState):
    rank = {key: i for i, key in enumerate(state.netns)}
    return lambda k: (rank.get(k[0], 0), k[1])


def _routes(state: NetState, ns) -> tuple[str, ...]:
    names = {i: link.ifname for i, link in ns.links.items()}
    out = []
    for r in ns.routes:
        if r.proto == "kernel":
            continue  # connected routes follow from the addresses shown on the links
        text = r.dst + (f" via {r.via}" if r.via else "") + f" dev {names.get(r.dev, r.dev)}"
        out.append(text)
    return tuple(out)


def _fragment(snapshot: NetState, key: str, ns, ids: Mapping[LinkKey, str], uplinks: tuple,
              label: str, memo: dict | None):
    """Nodes and edges of one namespace, and its own node's attributes (memoised).

    What a namespace's nodes show depends on the namespace itself, on its links' veth
    peers (a veth has carrier only while its peer is up) and on the ids; snapshots share
    unchanged ``Netns`` and ``Link`` objects, so identity tells what is unchanged.
    """
    # the peers show through their ids (and whether they exist): a veth's operstate is
    # its own (derive.operstate), so the peer objects themselves need not be compared
    link_ids = tuple(ids.get((key, i)) for i in ns.links)
    peer_ids = tuple(ids.get(link.peer) for link in ns.links.values() if link.peer is not None)
    if memo is not None:
        hit = memo.get(key)
        if (hit is not None and hit[0] is ns and hit[1] == (link_ids, peer_ids, label)
                and hit[2] == uplinks):
            return hit[3]

    by_if: dict[int, list] = {}
    for a in ns.addrs:
        by_if.setdefault(a.ifindex, []).append(a)
    lm = memo.setdefault(("links", key), {}) if memo is not None else {}
    get, links, netns = ids.get, ns.links, snapshot.netns
    nodes, edges, peer_ns, recs = [], [], {}, []
    for index in sorted(links):
        link = links[index]
        me = get((key, index)) or if_id(key, link.ifname)
        m = link.master
        master = (get((key, m)) or if_id(key, links[m].ifname)) if m in links else None
        p, peer = link.peer, None
        if p is not None:  # derive.peer_link, inlined: this loop runs for every link
            o = netns.get(p[0])
            pl = o.links.get(p[1]) if o is not None else None
            if pl is not None:
                peer = get(p) or if_id(p[0], pl.ifname)
            peer_ns[me] = p[0]
        # a link's record is a function of these: reuse it (and its dicts) while they
        # hold, so a namespace of 200 links with one new makes one record, and views.snap
        # tells changed records by identity
        lsig = (by_if.get(index), me, master, peer, uplinks)
        hit = lm.get(index)
        if hit is not None and hit[0] is link and hit[1] == lsig:
            rec = hit[2]
        else:
            addrs = tuple(a.cidr for a in derive.all_addrs(snapshot, ns, link)
                          if a.family == 4 or a.scope == "global")
            node = (me, dict(
                kind=link.kind, role=role_of(key, link.kind, link.ifname, uplinks), netns=key,
                ifname=link.ifname, ifindex=index, mac=link.mac, up=link.up,
                operstate=derive.operstate(snapshot, ns, link), addrs=addrs, mtu=link.mtu,
                master=master))
            mine = []
            if master is not None:
                mine.append((me, master, {"kind": "port"}))
            if peer is not None:
                mine.append((me, peer, {"kind": "veth"}))
            rec = (node, mine, {frozenset((u, v)): d["kind"] for u, v, d in mine})
            lm[index] = (link, lsig, rec)
        recs.append(rec)
        nodes.append(rec[0])
        edges.extend(rec[1])
    own = dict(kind="netns", netns=key, name=key, label=label, routes=_routes(snapshot, ns),
               forwarding=ns.sysctls.get("net.ipv4.ip_forward") == "1",
               nat=bool(ns.iptables.get("nat")))
    # for views.snap: a veth's peer's namespace by node, the nodes and the edges as dicts
    # for views.snap: a veth's peer's namespace by node, the nodes as a dict, a cache of
    # the adjacency (filled on first use), the links' records (node, edges, edge kinds)
    frag = (nodes, edges, own, peer_ns, dict(nodes), None, {}, recs)
    if memo is not None:
        memo[key] = (ns, (link_ids, peer_ids, label), uplinks, frag)
    return frag


def build(snapshot: NetState, *, ids: Mapping[LinkKey, str] | None = None,
          shares: Mapping[str, str] | None = None,
          extra_edges: Iterable[tuple[str, str, Mapping]] = (),
          uplinks: Iterable[str] = ("em1",), names: Mapping[str, str] | None = None,
          memo: dict | None = None):
    """The snapshot as a :class:`networkx.Graph` (pure).

    Nodes carry ``kind`` and ``netns`` (the namespace key, the group a node is drawn
    in); links also ``role``, ``ifname``, ``ifindex``, ``mac``, ``up``, ``operstate``,
    ``addrs`` (IPv4 and global IPv6, as CIDR text), ``mtu`` and ``master`` (the
    bridge's node id).  Namespaces carry ``routes`` (not the connected ones),
    ``forwarding`` and ``nat`` (whether it has NAT rules).

    ``ids`` maps (namespace key, ifindex) to a node id (see :func:`follow`);
    ``shares`` maps a container name to the namespace key it uses (docker
    ``--net container:web`` -> ``{"sidecar": "web"}``, ``--net host`` -> ``{"h": ""}``);
    ``extra_edges`` are ``(u, v, attributes)`` added as they are; ``names`` gives a
    namespace a label to show instead of its key (a docker sandbox ``3f2a...`` -> ``web``).
    ``memo`` (a dict kept across calls) reuses the nodes of a namespace that did not change
    since the last call, which makes a long timeline linear instead of quadratic.

    Linux: what `ip -n NS -d link` and `ip -n NS a` show, as one picture.

    >>> from simlab.model import new_state, apply_all, NetnsAdd, LinkAdd
    >>> s = apply_all(new_state(), [NetnsAdd("red"),
    ...                             LinkAdd("veth1", "veth", peer="eth0", peer_netns="red")])
    >>> G = build(s)
    >>> sorted(G.nodes)
    ['if:/lo', 'if:/veth1', 'if:red/eth0', 'if:red/lo', 'ns:', 'ns:red']
    >>> G.edges["if:/veth1", "if:red/eth0"]["kind"]
    'veth'
    """
    import networkx as nx

    ids = ids if ids is not None else initial_ids(snapshot)
    uplinks = tuple(uplinks)
    G = nx.Graph()
    nodes: list = []
    edges: list = []
    for order, (key, ns) in enumerate(snapshot.netns.items()):
        frag = _fragment(snapshot, key, ns, ids, uplinks, (names or {}).get(key, key), memo)
        nodes.extend(frag[0])
        edges.extend(frag[1])
        nodes.append((ns_id(key), {**frag[2], "order": order}))
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    for name, key in (shares or {}).items():
        if key in snapshot.netns:
            G.add_node(ctr_id(name), kind="container", netns=None, name=name, shares=key)
            G.add_edge(ctr_id(name), ns_id(key), kind="shares")
    for u, v, attrs in extra_edges:
        for node in (u, v):
            if node not in G:
                G.add_node(node, kind="external", netns=None, name=node)
        G.add_edge(u, v, **dict(attrs))
    return G
