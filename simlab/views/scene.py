"""A timeline as a scene: plain JSON-able data the browser widget, the HTML export and
matplotlib all draw from.

Rules of this module:

- Pure: no matplotlib, no ipywidgets.  The input is a timeline (through
  :func:`~simlab.views.story.frames`), the output dicts, lists, strings and numbers only.
- One layout per timeline (:func:`~simlab.views.layout.compute`): an item's place is a
  function of its id and namespace, so nothing jumps between steps.
- ``base`` holds every item of the first step's *before*; each step holds only what it
  changed (``set``: id -> the item's new attributes, ``del``: ids gone, ``eadd``/``edel``:
  edges), so the scene grows with the change and not with steps x pods.  The browser
  keeps the current state and applies a step forward, or its inverse back.
- Names first: a namespace is shown by its name (a pod's name for a ``k8s_POD_...``
  sandbox), the key in small print; an interface as ``ip`` shows it (``eth0@if5``).
- A step whose change is not drawn (a sysctl, a route, an iptables rule, an IPAM
  reservation, a ping) carries ``badges`` derived from its ops and detail, and a step
  that changes nothing on the picture says so.
- ``texts`` (``ip a``, ``ip route``, ``ip neigh``, ``bridge fdb`` of a namespace) are
  given per step only for the namespaces the step changed, into a shared, deduplicated
  table; ``texts=False`` leaves them out (the widget then asks the kernel on click).
- A step that pings carries ``packet``: the walk of :func:`simlab.model.forward.reach` on
  the step's *before*, as frames (request and reply) placed on the scene's items.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..i18n import CATALOG, t
from ..model import ROOT
from ..model.forward import reach
from ..model.ops import as_command
from .ipa import SHOWS, command_for, show_text
from .layout import compute_frames
from .names import container_name, display_name, ip_name
from .story import frames as _frames

__all__ = ["scene", "scene_json", "badges_for", "packet_frames", "item_attrs", "WORDS",
           "display_name"]

_R = 3  # decimals of a coordinate (inches)


def _r(v: float) -> float:
    return round(float(v), _R)


#: UI words the browser needs, per language (from simlab.i18n).
WORD_KEYS = ("nav.first", "nav.back", "nav.next", "nav.last", "nav.play", "nav.pause",
             "label.namespace", "label.node", "label.commands", "label.mirrors",
             "pic.legend", "pic.added", "pic.changed", "pic.removed", "pic.moved", "pic.link",
             "pic.bridge", "pic.uplink", "pic.container", "pic.down", "pic.namespace",
             "pic.packet", "pic.fit", "pic.zoom_in", "pic.zoom_out", "pic.group",
             "pic.nochange", "pic.request", "pic.reply", "pic.hop_back", "pic.hop_next",
             "pic.play_packet", "pic.events", "pic.rule", "pic.headers", "pic.absent",
             "pic.drop", "pic.inspect_hint", "step.counter")


def WORDS(lang: str) -> dict[str, str]:
    """The browser's words in ``lang`` (``{i}``/``{n}`` style fields left in)."""
    cat = CATALOG.get(lang) or CATALOG["en"]
    return {k: cat.get(k) or CATALOG["en"].get(k, k) for k in WORD_KEYS}


def item_attrs(G, node: str, layout) -> dict | None:
    """One item of graph ``G`` as scene data (None: not drawn)."""
    d = G.nodes[node]
    kind = d.get("kind")
    if kind == "netns":
        key = d["netns"]
        box = layout.boxes.get(key)
        if box is None:
            return None
        name, small = display_name(d.get("label") or key, key)
        routes = [r.split(" dev ")[0] for r in d.get("routes", ()) if r.startswith("default")]
        return {"k": "ns", "key": key, "name": name, "sub": small,
                "x": _r(box.x0), "y": _r(box.y0), "w": _r(box.w), "h": _r(box.h),
                "side": box.side, "route": routes[0] if routes else "",
                "fwd": bool(d.get("forwarding")), "nat": bool(d.get("nat"))}
    if kind in ("container", "external"):
        xy = layout.pos.get((node, None))
        if xy is None:
            return None
        shares = d.get("shares")
        shown = shares
        if shares is not None and f"ns:{shares}" in G:
            shown = display_name(G.nodes[f"ns:{shares}"].get("label") or shares, shares)[0]
        return {"k": "ctr", "name": container_name(d.get("name", node)), "shares": shares,
                "sharesName": shown or "", "x": _r(xy[0]), "y": _r(xy[1])}
    xy = layout.xy(G, node)
    if xy is None:
        return None
    ld = layout.label_dir.get((node, d.get("netns")), (0, -1))
    return {"k": "link", "ns": d.get("netns"), "name": ip_name(G, node, d),
            "ifname": d.get("ifname"), "role": d.get("role", "other"),
            "state": d.get("operstate", ""), "up": bool(d.get("up")),
            "addrs": list(d.get("addrs", ())), "mac": d.get("mac", ""),
            "x": _r(xy[0]), "y": _r(xy[1]), "dir": [ld[0], ld[1]],
            "master": d.get("master")}


def _edges(G) -> dict[str, list]:
    out = {}
    for u, v, e in G.edges(data=True):
        kind = e.get("kind", "")
        a, b = sorted((u, v))
        out[f"{a}|{b}"] = [kind, a, b]
    return out


# ------------------------------------------------------------------ badges
def _ipam_reserved(detail: Mapping, lang: str) -> list[str]:
    out = []
    for call in detail.get("delegated", ()) or ():
        if not isinstance(call, Mapping) or call.get("command") != "ADD":
            continue
        try:
            result = json.loads(call.get("stdout") or "{}")
        except ValueError:
            continue
        ips = [ip.get("address", "") for ip in result.get("ips", ()) if isinstance(ip, Mapping)]
        plugin = str(call.get("plugin", "ipam")).removeprefix("simlab-")
        for ip in ips:
            out.append(t("pic.badge.reserved", lang, plugin=plugin, ip=ip.split("/")[0]))
    return out


def badges_for(step, drawn: bool, lang: str = "en") -> list[str]:
    """Short notes for what the step changed that the picture does not draw.

    Derived from the step's operations (sysctl, route, iptables, ping) and detail (an
    IPAM plugin's result); a step that changed nothing drawn says so.

    >>> from simlab.model import new_state, apply, SysctlSet
    >>> from simlab.timeline import Step
    >>> op = SysctlSet("net.ipv4.ip_forward", "1")
    >>> s0 = new_state(); badges_for(Step("f", "", (op,), s0, apply(s0, op)), False)
    ['net.ipv4.ip_forward = 1']
    """
    out: list[str] = []
    for op in getattr(step, "ops", ()):
        name = type(op).__name__
        if name == "SysctlSet":
            out.append(f"{op.key} = {op.value}")
        elif name in ("RouteAdd", "RouteDel", "Iptables", "Ping"):
            text = as_command(op)
            out.append(text if len(text) <= 72 else text[:70] + "..")
    detail = getattr(step, "detail", None) or {}
    out += _ipam_reserved(detail, lang)
    if not out and not drawn:
        out.append(t("pic.nochange", lang))
    seen, uniq = set(), []
    for b in out:
        if b not in seen:
            seen.add(b)
            uniq.append(b)
    return uniq[:4] + ([f"+{len(uniq) - 4}"] if len(uniq) > 4 else [])


# ------------------------------------------------------------------ packets
def _dev_item(G, ns: str, dev: str | None) -> str | None:
    if dev is None:
        return None
    for node, d in G.nodes(data=True):
        if d.get("netns") == ns and d.get("ifname") == dev and d.get("kind") != "netns":
            return node
    return None


def packet_frames(walk, G, lang: str = "en") -> dict:
    """A walk as the frames a picture plays: one per packet seen on an interface
    (``walk.seen``) or, when that is empty, one per hop of the story (``walk.hops`` and
    ``walk.reply_hops``).  Each frame names the item it is at (an interface, else the
    namespace), the leg, the text, the rule that decided it and the headers."""
    fr: list[dict] = []
    story = {"request": list(walk.hops), "reply": list(walk.reply_hops)}
    if walk.seen:
        for s in walk.seen:
            hop = story.get(s.leg, [])
            text = hop[s.hop].text(lang) if 0 <= s.hop < len(hop) else ""
            fr.append({"leg": s.leg, "ns": s.netns, "dev": s.dev, "way": s.way,
                       "at": _dev_item(G, s.netns, s.dev) or f"ns:{s.netns}",
                       "text": text, "rule": s.rule,
                       "hdr": {"src_mac": s.src_mac, "dst_mac": s.dst_mac, "src": s.src_ip,
                               "dst": s.dst_ip, "ttl": s.ttl, "proto": s.proto}})
    else:
        for leg, hops in story.items():
            for h in hops:
                fr.append({"leg": leg, "ns": h.netns, "dev": h.dev or "", "way": "",
                           "at": _dev_item(G, h.netns, h.dev) or f"ns:{h.netns}",
                           "text": h.text(lang), "rule": "", "action": h.action, "hdr": {}})
    return {"ok": walk.ok, "reply_ok": walk.reply_ok, "error": walk.error or walk.reply_error,
            "src": walk.src or "", "dst": walk.dst, "src_ns": walk.src_netns,
            "source": "seen" if walk.seen else "hops", "frames": fr}


def _ping_walk(step):
    for op in getattr(step, "ops", ()):
        if type(op).__name__ == "Ping" and op.netns in step.before.netns:
            try:
                return reach(step.before, op.netns, op.dst)
            except ValueError:
                return None
    return None


# ------------------------------------------------------------------ texts
class _Texts:
    """A deduplicated table of show texts: the same text is sent once."""

    def __init__(self) -> None:
        self.table: list[str] = []
        self.index: dict[str, int] = {}

    def add(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.table)
            self.table.append(text)
        return i


def texts_of(state, ns: str) -> dict[str, str]:
    """The four show texts of namespace ``ns`` of a snapshot."""
    return {w: show_text(state, ns, w) for w in SHOWS}


def _changed_ns(step) -> list[str]:
    b, a = step.before.netns, step.after.netns
    return [k for k in a if b.get(k) is not a[k]] + [k for k in b if k not in a]


# ------------------------------------------------------------------ the scene
def scene(source, *, lang: str = "en", shares=None, texts: bool = True,
          packets: bool = True, fs: Sequence | None = None, layout=None) -> dict:
    """The scene of a lab, a timeline or a list of steps (see the module rules).

    >>> from simlab.views._samples import veth_pair
    >>> sc = scene(veth_pair())
    >>> len(sc["steps"]), sc["steps"][0]["set"]["ns:red"]["name"]  # items: the first *before*
    (9, 'red')
    >>> sorted(sc["steps"][3]["set"])
    ['if:/veth1', 'if:/veth2']
    """
    fs = list(fs) if fs is not None else _frames(source, shares=shares)
    if not fs:
        raise ValueError("the timeline has no steps yet: make some (lab.ip(...)) and try again")
    lay = layout or compute_frames(fs)
    G0 = fs[0].before_view
    items = {}
    for node in G0.nodes:
        a = item_attrs(G0, node, lay)
        if a is not None:
            items[node] = a
    table = _Texts()
    base_texts: dict[str, int] = {}
    state0 = fs[0].step.before
    if texts:
        for ns in state0.netns:
            for w, txt in texts_of(state0, ns).items():
                base_texts[f"{ns}|{w}"] = table.add(txt)
    steps = []
    names: dict[str, str] = {k: (a["name"] or k) for k, a in
                             ((a["key"], a) for a in items.values() if a["k"] == "ns")}
    for f in fs:
        steps.append(_step(f, lay, lang, table if texts else None, packets, names))
        f.before_view.release()  # its merged index: made again if someone reads it
    return {
        "version": 1,
        "lang": lang,
        "words": WORDS(lang),
        "bounds": [_r(v) for v in lay.bounds],
        "lod": lay.lod,
        "font": lay.font,
        "items": items,
        "edges": _edges(G0),
        "texts": table.table if texts else None,
        "baseTexts": base_texts,
        "root": ROOT,
        "commands": {w: command_for("NS", w) for w in SHOWS},
        "names": names,
        "groups": groups_of(fs[-1].after_view, lay),
        "steps": steps,
    }


def _step(f, lay, lang: str, table: _Texts | None, packets: bool, names: dict) -> dict:
    G, B, d = f.after_view, f.before_view, f.diff
    touched = set(d.added) | set(d.changed)
    for e in list(d.edges_added) + list(d.edges_removed):
        for n in e:
            if n in G:
                touched.add(n)  # a new peer changes `eth0@ifN`
    for node in list(touched):  # a moved or renamed peer changes `veth2@if3`
        if node in G and G.nodes[node].get("kind") == "veth":
            touched.update(o for o, e in G.adj[node].items() if e.get("kind") == "veth")
    sets: dict[str, Any] = {}
    for node in touched:
        if node in G:
            a = item_attrs(G, node, lay)
            if a is not None:
                sets[node] = a
                if a["k"] == "ns":
                    names[a["key"]] = a["name"] or a["key"]
    gone = sorted(n for n in d.removed if n not in G)
    eadd, edel = {}, []
    for e in d.edges_added:
        a, b = sorted(e)
        eadd[f"{a}|{b}"] = [G.edges[a, b].get("kind", ""), a, b]
    for e in d.edges_removed:
        a, b = sorted(e)
        if not G.has_edge(a, b):
            edel.append(f"{a}|{b}")
    edel.sort()
    hl = {n: d.status(n) for n in set(d.added) | set(d.changed) | set(d.removed)}
    for n in d.moved:
        hl[n] = "moved"
    step = f.step
    drawn = bool(sets or gone or eadd or edel)
    out = {
        "title": step.title_in(lang),
        "why": step.why_in(lang),
        "actor": getattr(step, "actor", ""),
        "commands": step.commands,
        "mirrors": step.mirrors,
        "set": sets, "del": gone, "eadd": eadd, "edel": edel,
        "hl": hl,
        "badges": badges_for(step, drawn, lang),
        "focus": _focus_ns(G, B, hl),
    }
    if table is not None:
        tx = {}
        for ns in _changed_ns(step):
            if ns in step.after.netns:
                for w, txt in texts_of(step.after, ns).items():
                    tx[f"{ns}|{w}"] = table.add(txt)
            else:
                for w in SHOWS:
                    tx[f"{ns}|{w}"] = -1  # the namespace is gone
        out["texts"] = tx
    if packets:
        walk = _ping_walk(step)
        if walk is not None:
            out["packet"] = packet_frames(walk, B, lang)
    return out


def _focus_ns(G, B, hl: Mapping[str, str]) -> list[str]:
    """The namespaces a step's change is in (the one the panel under the picture follows)."""
    out: list[str] = []
    for n in sorted(hl):
        g = G if n in G else B
        d = g.nodes.get(n, {})
        key = d.get("netns") if d.get("kind") != "container" else d.get("shares")
        if key is not None and key not in out:
            out.append(key)
    # a pod's change first: the node is the backdrop of most steps
    return sorted(out, key=lambda k: k == ROOT)


def groups_of(G, lay, least: int = 6) -> list[dict]:
    """Namespaces that look alike (same interfaces by name and kind, same bridge beyond
    their peer), ``least`` or more of them: the browser collapses all but a few."""
    by_ns: dict[str, list] = {}
    masters: dict[str, set] = {}
    for node, d in G.nodes(data=True):
        if d.get("kind") in ("netns", "container", "external"):
            continue
        by_ns.setdefault(d["netns"], []).append((d.get("ifname"), d.get("role")))
        for other in G.neighbors(node):
            if G.edges[node, other].get("kind") == "veth":
                m = G.nodes[other].get("master")
                if m:
                    masters.setdefault(d["netns"], set()).add(m)
    sig: dict[tuple, list[str]] = {}
    for _node, d in G.nodes(data=True):
        if d.get("kind") != "netns" or d["netns"] == ROOT or d["netns"] not in lay.boxes:
            continue
        key = d["netns"]
        s = (tuple(sorted(by_ns.get(key, []))), tuple(sorted(masters.get(key, ()))))
        sig.setdefault(s, []).append(key)
    out = []
    for members in sig.values():
        if len(members) >= least:
            out.append({"id": f"group:{len(out)}", "members": members,
                        "like": members[0]})
    return out


def scene_json(sc: Mapping) -> str:
    """The scene as compact JSON, safe inside an HTML ``<script>`` element."""
    text = json.dumps(sc, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")
