"""One picture as plain data: what each artist of a :class:`~simlab.views.draw.Scene` shows.

:func:`paint` walks a snapshot's graph in named steps (namespace boxes, links and
containers, ghosts of what the step removed, wires, bridge bars) and returns a
:class:`Picture`; the Scene hands it to matplotlib.  Nothing here imports matplotlib.

Highlight colours: added green, changed amber, removed a red dashed ghost at its old
place; a link that moved namespace gets a dotted amber trail from where it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..i18n import t
from ..model import ROOT
from .diff import Diff
from .layout import HIDDEN_ROLES
from .names import container_name, display_name
from .names import ip_name as _ip_name

__all__ = ["COLORS", "Picture", "paint"]

COLORS = {
    "added": "#2ca02c",
    "changed": "#ff9f1c",
    "removed": "#d62728",
    "veth": "#1f77b4",
    "veth_lower": "#aec7e8",
    "bridge": "#7b4fa8",
    "lo": "#8c8c8c",
    "uplink": "#2b7a4b",
    "other": "#17becf",
    "container": "#b5651d",
    "box_node": "#f4f1ea",
    "box_pod": "#eef4fb",
    "box_edge": "#9aa5b1",
    "text": "#1d2330",
    "muted": "#6b7280",
    "wire": "#4b5563",
}

_WORDS = {
    "node": {"en": "node (root netns)", "ja": "ノード (root netns)"},
    "shares": {"en": "shares {ns}", "ja": "{ns} を共有"},
}

XY = tuple[float, float]


def _word(key: str, lang: str, **kw) -> str:
    table = _WORDS[key]
    return (table.get(lang) or table["en"]).format(**kw)


def _link_lines(d: Mapping, lod: str, status: str | None, name: str | None = None
                ) -> tuple[str, ...]:
    name = name or d.get("ifname", "?")
    state = d.get("operstate", "")
    addrs = tuple(d.get("addrs", ()))
    if lod == "dense" and status is None and d.get("role") != "bridge":
        return ()
    if d.get("role") == "lo":
        text = "lo" if d.get("up") else "lo DOWN"
        return (text,) if lod == "full" or status else ()
    head = name if state in ("UP", "UNKNOWN") or lod == "dense" else f"{name} {state}"
    if lod == "full" and d.get("role") != "bridge":
        return (head, *addrs, d.get("mac", "")) if d.get("mac") else (head, *addrs)
    if d.get("role") == "bridge":  # one line: the bar is right below it
        extra = (d.get("mac", ""),) if lod == "full" else ()
        return ("  ".join((head, *addrs[:1], *extra)),)
    if lod == "dense":
        return (head,)
    return (head, *addrs[:1])


@dataclass
class Picture:
    """Rows for each artist, in drawing order.

    ``labels`` rows are ``((lines, size, align, gap, bold), xy, color)``: the Scene turns
    the first part into glyph outlines.
    """

    boxes: list = field(default_factory=list)  # (corners, face, edge, width, style)
    wires: list = field(default_factory=list)  # ((a, b), color, width, style)
    bars: list = field(default_factory=list)  # (a, b)
    # by marker ("o" links, "s" bridges, "D" uplinks): (xy, face, edge, size, width)
    marks: dict = field(default_factory=lambda: {"o": [], "s": [], "D": []})
    rings: list = field(default_factory=list)  # (xy, color, size)
    labels: list = field(default_factory=list)


def paint(G, hl: Diff, before, layout, *, lang: str, font: float, dot: float,
          scale: float) -> Picture:
    """The picture of graph ``G`` with ``hl`` in colour (``before`` places the ghosts).

    ``font`` and ``dot`` are in points, ``scale`` in inches per layout unit.
    """
    p = _Painter(G, hl, before, layout, lang, font, dot, scale)
    p.namespaces()
    p.removed_namespaces()
    p.links()
    if before is not None:
        p.removed_links()
        p.moves()
    p.wires()
    if before is not None:
        p.removed_wires()
    p.bridge_bars()
    return p.pic


class _Painter:
    """The context of one :func:`paint`: where each drawn node went, and the rows so far."""

    def __init__(self, G, hl: Diff, before, layout, lang: str, font: float, dot: float,
                 scale: float):
        self.G, self.hl, self.before, self.lay, self.lod = G, hl, before, layout, layout.lod
        self.lang, self.font, self.dot, self.gap = lang, font, dot, dot + 1.5
        self.limit = (max(8, int(layout.boxes_width * scale * 72 / (font * 0.62)))
                      if layout.boxes else 30)
        self.pic = Picture()
        self.pos: dict[str, XY] = {}
        self.ghost_pos: dict[str, XY] = {}

    # ------------------------------------------------------------------ primitives
    def label(self, lines, xy, align, color=COLORS["text"], size=None, bold=False, gap=None,
              clip=True) -> None:
        if not lines:
            return
        if clip:  # long names (k8s_POD_...) would spill out of a pod's box
            lim = self.limit
            lines = [ln if len(ln) <= lim else ln[:lim - 2] + ".." for ln in lines]
        size = self.font if size is None else size
        gap = self.gap if gap is None else gap
        self.pic.labels.append(((tuple(lines), size, align, gap, bold), xy, color))

    def box(self, key: str, status: str | None, ghost: bool = False) -> None:
        box = self.lay.boxes.get(key)
        if box is None:
            return
        corners = ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1))
        base = COLORS["box_node"] if key == ROOT else COLORS["box_pod"]
        self.pic.boxes.append((corners, "none" if ghost else base,
                               COLORS[status] if status else COLORS["box_edge"],
                               2.4 if status else 1.0, (0, (4, 3)) if ghost else "solid"))

    # ------------------------------------------------------------------ namespaces
    def _box_status(self) -> dict[str, str | None]:
        """Each namespace's colour: its own status, else "changed" when a hidden link changed."""
        G, hl, lod, lay = self.G, self.hl, self.lod, self.lay
        status: dict[str, str | None] = {}
        for node, d in G.nodes(data=True):
            if d.get("kind") == "netns":
                status[d["netns"]] = hl.status(node)
        for node, d in G.nodes(data=True):
            st = hl.status(node)
            if st and d.get("kind") not in ("netns", "container", "external"):
                hidden = d.get("role") in HIDDEN_ROLES or (
                    lod == "dense" and d.get("role") == "lo") or lay.xy(G, node) is None
                if hidden and not status.get(d["netns"]):
                    status[d["netns"]] = "changed"
        return status

    def _first_ips(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for _node, d in self.G.nodes(data=True):
            if d.get("role") in ("veth", "other") and d.get("addrs"):
                first.setdefault(d["netns"], d["addrs"][0].split("/")[0])
        return first

    def namespaces(self) -> None:
        """A box per namespace, titled with its name (the node's with its forwarding and NAT)."""
        status, first_ip = self._box_status(), self._first_ips()
        lod, font = self.lod, self.font
        for _node, d in self.G.nodes(data=True):
            if d.get("kind") != "netns":
                continue
            key = d["netns"]
            self.box(key, status.get(key))
            box = self.lay.boxes.get(key)
            if box is None:
                continue
            color = COLORS["text"]
            if key == ROOT:
                flags = (("ip_forward=1", d.get("forwarding")), ("NAT", d.get("nat")))
                extra = [w for w, on in flags if on]
                text = _word("node", self.lang) + ("   " + "  ".join(extra) if extra else "")
                self.label([text], (box.x0 + 0.06, box.y1 - 0.04), (1, -1), color, font * 1.05,
                           True, 0, clip=False)
                continue
            lines = [display_name(d.get("label") or key, key)[0]]  # names first, as the browser
            if lod == "dense" and key in first_ip:
                lines.append(first_ip[key])
            if lod == "full":
                defaults = [r for r in d.get("routes", ()) if r.startswith("default")]
                lines += [r.split(" dev ")[0] for r in defaults][:1]
            if lod == "dense":
                self.label(lines, box.center, (0, 0), color, font, False, 0)
            elif box.side == "above":
                self.label(lines, (box.x0 + 0.05, box.y1 - 0.03), (1, -1), color, font, True, 0)
            else:
                self.label(lines, (box.x0 + 0.05, box.y0 + 0.03), (1, 1), color, font, True, 0)

    def removed_namespaces(self) -> None:
        """A dashed ghost where a deleted namespace was."""
        before = self.before
        for node in self.hl.removed:
            if before is not None and node in before and before.nodes[node].get("kind") == "netns":
                key = before.nodes[node]["netns"]
                self.box(key, "removed", ghost=True)
                box = self.lay.boxes.get(key)
                if box is not None:
                    self.label([key], box.center, (0, 0), COLORS["removed"], self.font, False, 0)

    # ------------------------------------------------------------------ links and containers
    def put(self, node: str, d: Mapping, xy: XY, status: str | None, ghost: bool = False) -> None:
        """A link's (or a container's) mark, its ring when the step touched it, its label."""
        role = d.get("role") or d.get("kind")
        shape = "s" if role == "bridge" else "D" if role == "uplink" else "o"
        state = d.get("operstate")
        base = COLORS.get(role, COLORS["other"]) if role in COLORS else COLORS["other"]
        if role == "veth" and state == "LOWERLAYERDOWN":
            face = COLORS["veth_lower"]
        elif d.get("kind") == "container":
            face = COLORS["container"]
        elif d.get("up") is False:
            face = "white"
        else:
            face = base
        edge = base
        dot = self.dot
        size = (dot * (0.7 if role == "lo" else 1.0)) ** 2
        if ghost:
            face, edge = "white", COLORS["removed"]
        self.pic.marks[shape].append((xy, face, edge, size, 1.2))
        if status:
            self.pic.rings.append((xy, COLORS[status], (dot * 1.9) ** 2))
        if d.get("kind") == "container":
            self._container_label(node, d, xy)
            return
        align = self.lay.label_dir.get((node, d.get("netns")), (0, -1))
        shown = _ip_name(self.G, node, d) if node in self.G else None  # `eth0@if5`
        lines = _link_lines(d, self.lod, status, shown)
        if self.lod == "dense" and d.get("netns") != ROOT:
            align = (1, 0)  # the pod's card already shows its name and address
        color = COLORS["removed"] if ghost else COLORS["text"]
        self.label(lines, xy, align, color, self.font, bool(status) and not ghost,
                   clip=d.get("netns") != ROOT)

    def _container_label(self, node: str, d: Mapping, xy: XY) -> None:
        G, lang = self.G, self.lang
        shared = d.get("shares")
        shown = shared
        if f"ns:{shared}" in G:
            shown = G.nodes[f"ns:{shared}"].get("label") or shared
        text = [container_name(d.get("name", node)), _word("shares", lang, ns=shown or t("label.node", lang))]
        where = (0, 0) if self.lod == "dense" else (0, -1)
        self.label(text, xy, where, COLORS["text"], self.font, False, self.gap)

    def links(self) -> None:
        """Every drawn link and container of ``G``, remembering where each went."""
        for node, d in self.G.nodes(data=True):
            if d.get("kind") == "netns":
                continue
            xy = self.lay.xy(self.G, node)
            if xy is None or (self.lod == "dense" and d.get("role") == "lo"):
                continue
            self.pos[node] = xy
            self.put(node, d, xy, self.hl.status(node))

    def removed_links(self) -> None:
        """A ghost where each deleted link was."""
        before, lay = self.before, self.lay
        for node in self.hl.removed:
            if node in before and before.nodes[node].get("kind") != "netns":
                xy = lay.xy(before, node)
                dense_lo = self.lod == "dense" and before.nodes[node].get("role") == "lo"
                if xy is not None and not dense_lo:
                    self.ghost_pos[node] = xy
                    self.put(node, before.nodes[node], xy, None, ghost=True)

    def moves(self) -> None:
        """A dotted amber trail from where a link that changed namespace was."""
        for node in self.hl.moved:
            if node in self.before and node in self.pos:
                old = self.lay.xy(self.before, node)
                if old is not None:
                    self.pic.wires.append(((old, self.pos[node]), COLORS["changed"], 1.2,
                                           (0, (1, 2))))

    # ------------------------------------------------------------------ wires
    def wire(self, u: str, v: str, kind: str, status: str | None, pmap: Mapping,
             gmap: Mapping | None = None) -> None:
        G, gmap = self.G, gmap or {}
        a = pmap.get(u) or gmap.get(u)
        b = pmap.get(v) or gmap.get(v)
        if a is None or b is None:
            return
        color, lw, ls = COLORS["wire"], 1.3, "solid"
        if kind == "port":
            br, port = (u, v) if G.nodes.get(u, {}).get("role") == "bridge" else (v, u)
            a, b = (pmap.get(port) or gmap.get(port)), (pmap.get(br) or gmap.get(br))
            if a is None or b is None:
                return
            if abs(a[0] - b[0]) > 1e-9 and b[0] <= a[0]:
                b = (a[0], b[1])  # a vertical stub up (or down) to the bar
            color, lw = COLORS["bridge"], 1.2
        elif kind == "shares":
            box = self.lay.boxes.get(G.nodes[v].get("netns") if v in G else None)
            if box is not None:
                b = (min(max(a[0], box.x0), box.x1), min(max(a[1], box.y0), box.y1))
            color, ls = COLORS["container"], (0, (4, 2))
        elif kind == "veth":
            up = all(G.nodes[n].get("operstate") == "UP" for n in (u, v) if n in G)
            if not up:
                color, ls = COLORS["muted"], (0, (3, 2))
        if status == "added":
            color, lw = COLORS["added"], 2.6
        elif status == "removed":
            color, lw, ls = COLORS["removed"], 1.6, (0, (4, 3))
        self.pic.wires.append(((a, b), color, lw, ls))

    def wires(self) -> None:
        """Every edge of ``G``: veth pairs, bridge ports, a container's tie to its namespace."""
        G, lay = self.G, self.lay
        for u, v, e in G.edges(data=True):
            kind = e.get("kind", "")
            if kind == "shares":
                u, v = (u, v) if G.nodes[u].get("kind") != "netns" else (v, u)
                self.pos.setdefault(v, lay.boxes[G.nodes[v]["netns"]].center)
            self.wire(u, v, kind, self.hl.edge_status(u, v), self.pos, self.ghost_pos)

    def removed_wires(self) -> None:
        """A dashed red wire where a deleted edge was."""
        before = self.before
        for e in self.hl.edges_removed:
            u, v = tuple(e)
            if not before.has_edge(u, v):
                continue
            kind = before.edges[u, v].get("kind", "")
            if kind == "shares":
                continue
            merged = {**self.ghost_pos}
            for n in (u, v):
                if n not in merged and n in before:
                    xy = self.lay.xy(before, n)
                    if xy is not None:
                        merged[n] = xy
            self.wire(u, v, kind, "removed", merged)

    def bridge_bars(self) -> None:
        """A bar from each bridge to its farthest port."""
        G, pos = self.G, self.pos
        for node, d in G.nodes(data=True):
            if d.get("role") == "bridge" and node in pos:
                x, y = pos[node]
                far = max([pos[p][0] for p in G.neighbors(node)
                           if p in pos and G.edges[node, p].get("kind") == "port"] + [x + 0.3])
                self.pic.bars.append(((x, y), (far, y)))
