"""Drawing a snapshot: namespace boxes, links, labels, and the step's change in colour.

Rules of this module:

- matplotlib is imported inside functions; figures are made with
  :class:`matplotlib.figure.Figure` (no pyplot) except by :func:`draw` without ``ax``.
- A :class:`Scene` owns one figure and a fixed set of artists (boxes, edges, dots and
  labels are each *one* collection); :meth:`Scene.update` changes their data for a new
  snapshot.  That is the fast way to redraw (reference/jupyter.md section 3): no new
  figure, no ``clear_output``, no ``bbox_inches="tight"``.
- Labels are glyph outlines (:class:`~matplotlib.textpath.TextPath`), cached per text,
  drawn as one :class:`~matplotlib.collections.PathCollection`.  matplotlib 3.11 lays out
  and rasterises every ``Text`` again on each draw (about 1-2 ms per label here); outlines
  cost about 0.05 ms.  Outlines do not warn about a missing glyph, so this module checks
  every character against the fonts' character maps itself and raises the same
  ``Glyph ... missing from font(s)`` warning matplotlib would.
- Highlight colours: added green, changed amber, removed a red dashed ghost at its old
  place; a link that moved namespace gets a dotted amber trail from where it was.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from functools import cache, lru_cache

from ..model import ROOT
from . import layout as _layout
from .diff import Diff
from .diff import diff as _diff

__all__ = ["Scene", "draw", "COLORS", "label_font_family", "missing_glyphs"]

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
    "node_short": {"en": "node", "ja": "ノード"},
}


def _word(key: str, lang: str, **kw) -> str:
    if key == "node_short":
        try:
            from ..i18n import t

            return t("label.node", lang)
        except Exception:  # noqa: BLE001 - i18n is optional for drawing
            pass
    table = _WORDS[key]
    return (table.get(lang) or table["en"]).format(**kw)


# ------------------------------------------------------------------------------ fonts
@lru_cache(maxsize=1)
def label_font_family() -> tuple[str, ...]:
    """Font family list for labels: DejaVu Sans, then the bundled Japanese font if any."""
    try:
        from ..fonts import setup_japanese_fonts

        return ("DejaVu Sans", setup_japanese_fonts())
    except ImportError:
        return ("DejaVu Sans",)


@cache
def _charmaps(family: tuple[str, ...]) -> tuple[tuple[str, frozenset[int]], ...]:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    out = []
    for name in family:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=name),
                                         fallback_to_default=False)
        except ValueError:
            continue
        out.append((name, frozenset(FT2Font(path).get_charmap())))
    return tuple(out)


def missing_glyphs(text: str, family: tuple[str, ...] | None = None) -> list[str]:
    """Characters of ``text`` that no font of ``family`` has (would be drawn as tofu).

    >>> missing_glyphs("eth0 ノード")
    []
    """
    family = family or label_font_family()
    maps = _charmaps(family)
    return [c for c in dict.fromkeys(text)
            if not c.isspace() and not any(ord(c) in cm for _, cm in maps)]


def _check_glyphs(text: str) -> None:
    if text.isascii():
        return
    family = label_font_family()
    for c in missing_glyphs(text, family):
        warnings.warn(f"Glyph {ord(c)} ({c!r}) missing from font(s) {', '.join(family)}.",
                      UserWarning, stacklevel=3)


# ------------------------------------------------------------------------ label paths
_PATHS: dict = {}
_PATHS_MAX = 50_000


def _label_path(lines: tuple[str, ...], size: float, align: tuple[int, int], gap: float,
                bold: bool = False):
    """Outlines of ``lines`` in points, placed ``gap`` pt from the anchor in direction ``align``.

    ``align`` (dx, dy): (0, -1) below the anchor and centred, (0, 1) above, (1, 0) to the
    right and left-aligned, (-1, 0) to the left, (1, 1) above and left-aligned, (0, 0) centred.
    """
    key = (lines, round(size, 2), align, round(gap, 2), bold)
    path = _PATHS.get(key)
    if path is not None:
        return path
    import numpy as np
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    ascii_only = all(line.isascii() for line in lines)
    # Bold only where DejaVu has every glyph: the Japanese font has no bold face.
    family = ["DejaVu Sans"] if bold and ascii_only else list(label_font_family())
    prop = FontProperties(family=family, size=size,
                          weight="bold" if bold and ascii_only else "normal")
    step = size * 1.22
    parts, widths = [], []
    for i, line in enumerate(lines):
        _check_glyphs(line)
        p = TextPath((0, -step * (i + 1) + size * 0.22), line, prop=prop)
        parts.append(p)
        ext = p.get_extents() if len(p.vertices) else None
        widths.append(ext.x1 if ext is not None else 0.0)
    height = step * len(lines)
    dx, dy = align
    verts, codes = [], []
    for p, w in zip(parts, widths, strict=True):
        if not len(p.vertices):
            continue
        if dx == 0:
            x_shift = -w / 2
        elif dx > 0:
            x_shift = gap if dy == 0 else min(gap, 2.5)
        else:
            x_shift = -w - gap
        if dy < 0:
            y_shift = -gap
        elif dy > 0:
            y_shift = height + gap
        else:
            y_shift = height / 2
        verts.append(p.vertices + (x_shift, y_shift))
        codes.append(p.codes)
    if verts:
        path = Path(np.concatenate(verts), np.concatenate(codes))
    else:
        path = Path(np.zeros((1, 2)), [Path.MOVETO])
    if len(_PATHS) >= _PATHS_MAX:
        _PATHS.clear()
    _PATHS[key] = path
    return path


# ----------------------------------------------------------------------------- scene
def _fig_for(size: tuple[float, float], dpi: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _link_lines(d: Mapping, lod: str, status: str | None) -> tuple[str, ...]:
    name = d.get("ifname", "?")
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


class Scene:
    """One figure whose artists are updated step after step.

    >>> from simlab.views import frames
    >>> from simlab.views._samples import veth_pair
    >>> fs = frames(veth_pair())
    >>> scene = Scene.for_frames(fs)
    >>> scene.update(fs[2].after, fs[2].diff, fs[2].before)
    >>> scene.png()[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """

    def __init__(self, layout, *, ax=None, lang: str = "en", figsize=(10.0, 6.0),
                 dpi: float = 100, presenter: bool = False, title_space: float = 0.0):
        from matplotlib.collections import LineCollection, PathCollection, PolyCollection
        from matplotlib.transforms import Affine2D

        self.layout = layout
        self.lang = lang
        self.presenter = presenter
        if ax is None:
            self.fig = _fig_for(figsize, dpi)
            top = 1.0 - title_space
            ax = self.fig.add_axes((0.005, 0.005, 0.99, top - 0.01))
        else:
            self.fig = ax.figure
        self.ax = ax
        ax.set_axis_off()
        x0, y0, x1, y1 = layout.bounds
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal", adjustable="box", anchor="C")
        # inches per layout unit, after the equal-aspect fit
        bbox = ax.get_position()
        fw, fh = self.fig.get_size_inches()
        self.scale = min(bbox.width * fw / (x1 - x0), bbox.height * fh / (y1 - y0))
        boost = 1.2 if presenter else 1.0
        self.font = max(4.2, min(layout.font * self.scale * boost, 14.0))
        self.dot = max(2.2, min(5.5 * self.scale * boost, 9.0))  # marker radius, pt

        pts = Affine2D().scale(1 / 72) + self.fig.dpi_scale_trans
        self.boxes = PolyCollection([], zorder=1, linewidths=1.0)
        self.wires = LineCollection([], zorder=2, capstyle="butt")
        self.bars = LineCollection([], zorder=2.5, linewidths=max(2.0, 4.5 * self.scale),
                                   colors=COLORS["bridge"], capstyle="round")
        self.rings = ax.scatter([], [], zorder=3, marker="o", facecolors="none")
        self.dots = ax.scatter([], [], zorder=4, marker="o")
        self.squares = ax.scatter([], [], zorder=4, marker="s")
        self.diamonds = ax.scatter([], [], zorder=4, marker="D")
        self.labels = PathCollection([], offsets=[[0, 0]], offset_transform=ax.transData,
                                     zorder=5, linewidths=0)
        self.labels.set_transform(pts)
        for artist in (self.boxes, self.wires, self.bars, self.labels):
            ax.add_collection(artist, autolim=False)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        self.title = None
        if title_space:
            self.title = self.fig.text(0.01, 1 - title_space / 2, "", va="center", ha="left",
                                       fontsize=12 * boost, family=list(label_font_family()))

    @classmethod
    def for_frames(cls, frames, **kw) -> Scene:
        graphs = [frames[0].before] + [f.after for f in frames] if frames else []
        return cls(_layout.compute(graphs), **kw)

    # ------------------------------------------------------------------ update
    def update(self, G, highlight: Diff | Mapping | None = None, before=None,
               title: str | None = None) -> None:
        """Show graph ``G``; colour what ``highlight`` says (``before`` places the ghosts)."""
        import numpy as np

        lay, lod = self.layout, self.layout.lod
        if highlight is None:
            hl = Diff()
        elif isinstance(highlight, Diff):
            hl = highlight
        else:
            hl = Diff.of(highlight)
        font, dot = self.font, self.dot
        gap = dot + 1.5

        box_v, box_fc, box_ec, box_lw, box_ls = [], [], [], [], []
        wires, w_col, w_lw, w_ls = [], [], [], []
        bars = []
        marks = {"o": ([], [], [], [], []), "s": ([], [], [], [], []), "D": ([], [], [], [], [])}
        rings, r_col, r_size = [], [], []
        l_paths, l_offs, l_col = [], [], []

        limit = max(8, int(lay.boxes_width * self.scale * 72 / (font * 0.62))) if lay.boxes else 30

        def label(lines, xy, align, color=COLORS["text"], size=font, bold=False, g=gap, clip=True):
            if lines:
                if clip:  # long names (k8s_POD_...) would spill out of a pod's box
                    lines = [ln if len(ln) <= limit else ln[:limit - 2] + ".." for ln in lines]
                l_paths.append(_label_path(tuple(lines), size, align, g, bold))
                l_offs.append(xy)
                l_col.append(color)

        def add_box(key: str, status: str | None, ghost: bool = False):
            box = lay.boxes.get(key)
            if box is None:
                return
            box_v.append(((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)))
            base = COLORS["box_node"] if key == ROOT else COLORS["box_pod"]
            box_fc.append("none" if ghost else base)
            box_ec.append(COLORS[status] if status else COLORS["box_edge"])
            box_lw.append(2.4 if status else 1.0)
            box_ls.append((0, (4, 3)) if ghost else "solid")

        # ---- namespaces
        box_status: dict[str, str | None] = {}
        for node, d in G.nodes(data=True):
            if d.get("kind") == "netns":
                box_status[d["netns"]] = hl.status(node)
        for node, d in G.nodes(data=True):  # hidden links colour their box
            st = hl.status(node)
            if st and d.get("kind") not in ("netns", "container", "external"):
                hidden = d.get("role") in _layout.HIDDEN_ROLES or (
                    lod == "dense" and d.get("role") == "lo") or lay.xy(G, node) is None
                if hidden and not box_status.get(d["netns"]):
                    box_status[d["netns"]] = "changed"
        first_ip: dict[str, str] = {}
        for _node, d in G.nodes(data=True):
            if d.get("role") in ("veth", "other") and d.get("addrs"):
                first_ip.setdefault(d["netns"], d["addrs"][0].split("/")[0])
        for _node, d in G.nodes(data=True):
            if d.get("kind") != "netns":
                continue
            key = d["netns"]
            add_box(key, box_status.get(key))
            box = lay.boxes.get(key)
            if box is None:
                continue
            color = COLORS["text"]
            if key == ROOT:
                flags = (("ip_forward=1", d.get("forwarding")), ("NAT", d.get("nat")))
                extra = [w for w, on in flags if on]
                text = _word("node", self.lang) + ("   " + "  ".join(extra) if extra else "")
                label([text], (box.x0 + 0.06, box.y1 - 0.04), (1, -1), color, font * 1.05, True, 0,
                      clip=False)
                continue
            lines = [d.get("label") or key]
            if lod == "dense" and key in first_ip:
                lines.append(first_ip[key])
            if lod == "full":
                defaults = [r for r in d.get("routes", ()) if r.startswith("default")]
                lines += [r.split(" dev ")[0] for r in defaults][:1]
            if lod == "dense":
                label(lines, box.center, (0, 0), color, font, False, 0)
            elif box.side == "above":
                label(lines, (box.x0 + 0.05, box.y1 - 0.03), (1, -1), color, font, True, 0)
            else:
                label(lines, (box.x0 + 0.05, box.y0 + 0.03), (1, 1), color, font, True, 0)
        for node in hl.removed:
            if before is not None and node in before and before.nodes[node].get("kind") == "netns":
                key = before.nodes[node]["netns"]
                add_box(key, "removed", ghost=True)
                box = lay.boxes.get(key)
                if box is not None:
                    label([key], box.center, (0, 0), COLORS["removed"], font, False, 0)

        # ---- links and containers
        def put(node, d, xy, status, ghost=False):
            role = d.get("role") or d.get("kind")
            if role == "bridge":
                shape = "s"
            elif role in ("uplink",):
                shape = "D"
            else:
                shape = "o"
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
            size = (dot * (0.7 if role == "lo" else 1.0)) ** 2
            if ghost:
                face, edge = "white", COLORS["removed"]
            xs, fc, ec, sz, lw = marks[shape]
            xs.append(xy)
            fc.append(face)
            ec.append(edge)
            sz.append(size)
            lw.append(1.2)
            if status:
                rings.append(xy)
                r_col.append(COLORS[status])
                r_size.append((dot * 1.9) ** 2)
            align = lay.label_dir.get((node, d.get("netns")), (0, -1))
            if d.get("kind") == "container":
                shared = d.get("shares")
                shown = shared
                if f"ns:{shared}" in G:
                    shown = G.nodes[f"ns:{shared}"].get("label") or shared
                text = [d.get("name", node), _word("shares", self.lang,
                                                   ns=shown or _word("node_short", self.lang))]
                where = (0, 0) if lod == "dense" else (0, -1)
                label(text, xy, where, COLORS["text"], font, False, gap)
                return
            lines = _link_lines(d, lod, status)
            if lod == "dense" and d.get("netns") != ROOT:
                align = (1, 0)  # the pod's card already shows its name and address
            color = COLORS["removed"] if ghost else COLORS["text"]
            label(lines, xy, align, color, font, bool(status) and not ghost,
                  clip=d.get("netns") != ROOT)

        pos: dict[str, tuple[float, float]] = {}
        for node, d in G.nodes(data=True):
            if d.get("kind") == "netns":
                continue
            xy = lay.xy(G, node)
            if xy is None or (lod == "dense" and d.get("role") == "lo"):
                continue
            pos[node] = xy
            put(node, d, xy, hl.status(node))
        ghost_pos: dict[str, tuple[float, float]] = {}
        if before is not None:
            for node in hl.removed:
                if node in before and before.nodes[node].get("kind") != "netns":
                    xy = lay.xy(before, node)
                    dense_lo = lod == "dense" and before.nodes[node].get("role") == "lo"
                    if xy is not None and not dense_lo:
                        ghost_pos[node] = xy
                        put(node, before.nodes[node], xy, None, ghost=True)
            for node in hl.moved:
                if node in before and node in pos:
                    old = lay.xy(before, node)
                    if old is not None:
                        wires.append((old, pos[node]))
                        w_col.append(COLORS["changed"])
                        w_lw.append(1.2)
                        w_ls.append((0, (1, 2)))

        # ---- wires
        def wire(u, v, kind, status, pmap, gmap=None):
            a = pmap.get(u) or (gmap or {}).get(u)
            b = pmap.get(v) or (gmap or {}).get(v)
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
                box = lay.boxes.get(G.nodes[v].get("netns") if v in G else None)
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
            wires.append((a, b))
            w_col.append(color)
            w_lw.append(lw)
            w_ls.append(ls)

        for u, v, e in G.edges(data=True):
            kind = e.get("kind", "")
            if kind == "shares":
                u, v = (u, v) if G.nodes[u].get("kind") != "netns" else (v, u)
                pos.setdefault(v, lay.boxes[G.nodes[v]["netns"]].center)
            wire(u, v, kind, hl.edge_status(u, v), pos, ghost_pos)
        if before is not None:
            for e in hl.edges_removed:
                u, v = tuple(e)
                if before.has_edge(u, v):
                    kind = before.edges[u, v].get("kind", "")
                    if kind == "shares":
                        continue
                    merged = {**ghost_pos}
                    for n in (u, v):
                        if n not in merged and n in before:
                            xy = lay.xy(before, n)
                            if xy is not None:
                                merged[n] = xy
                    wire(u, v, kind, "removed", merged)
        # ---- bridge bars: from the bridge to its farthest port
        for node, d in G.nodes(data=True):
            if d.get("role") == "bridge" and node in pos:
                x, y = pos[node]
                far = max([pos[p][0] for p in G.neighbors(node)
                           if p in pos and G.edges[node, p].get("kind") == "port"] + [x + 0.3])
                bars.append(((x, y), (far, y)))

        # ---- push to the artists
        self.boxes.set_verts(box_v)
        self.boxes.set_facecolors(box_fc or ["none"])
        self.boxes.set_edgecolors(box_ec or ["none"])
        self.boxes.set_linewidths(box_lw or [1.0])
        self.boxes.set_linestyles(box_ls or ["solid"])
        self.wires.set_segments(wires)
        self.wires.set_colors(w_col or ["none"])
        self.wires.set_linewidths(w_lw or [1.0])
        self.wires.set_linestyles(w_ls or ["solid"])
        self.bars.set_segments(bars)
        for shape, artist in (("o", self.dots), ("s", self.squares), ("D", self.diamonds)):
            xs, fc, ec, sz, lw = marks[shape]
            artist.set_offsets(np.array(xs, dtype=float).reshape(-1, 2))
            artist.set_facecolors(fc or ["none"])
            artist.set_edgecolors(ec or ["none"])
            artist.set_sizes(sz or [0.0])
            artist.set_linewidths(lw or [0.0])
        self.rings.set_offsets(np.array(rings, dtype=float).reshape(-1, 2))
        self.rings.set_edgecolors(r_col or ["none"])
        self.rings.set_facecolors(["none"])
        self.rings.set_sizes(r_size or [0.0])
        self.rings.set_linewidths([2.2])
        self.labels.set_paths(l_paths)
        self.labels.set_offsets(np.array(l_offs, dtype=float).reshape(-1, 2))
        self.labels.set_facecolors(l_col or ["none"])
        if self.title is not None:
            self.title.set_text(title or "")
            if title:
                _check_glyphs(title)

    # ---------------------------------------------------------------- output
    def png(self, dpi: float | None = None) -> bytes:
        """The figure as PNG bytes (no ``bbox_inches="tight"``: that would draw twice)."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", dpi=dpi or self.fig.dpi,
                         pil_kwargs={"compress_level": 1}, metadata={"Software": None})
        return buf.getvalue()

    def svg(self) -> bytes:
        buf = io.BytesIO()
        self.fig.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    def close(self) -> None:
        """Forget the figure (it was never registered with pyplot)."""
        self.fig.clear()


def draw(snapshot, ax=None, layout=None, highlight=None, lang: str = "en", *, before=None,
         shares: Mapping[str, str] | None = None):
    """Draw a snapshot on ``ax`` (a new pyplot figure if None); return the axes.

    ``highlight`` is a :class:`~simlab.views.diff.Diff`, a step (its change is shown),
    or ``{node id: "added" | "changed" | "removed"}``.  ``layout`` from
    :func:`simlab.views.layout.compute` keeps places stable across several drawings.

    Linux: the picture of what `ip -n NS a` shows in every namespace.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> from simlab.views._samples import veth_pair
    >>> lab = veth_pair()
    >>> ax = draw(lab.snapshot(), highlight=lab.timeline[-1])
    >>> len(ax.collections) > 3
    True
    """
    from .graph import build
    from .story import frames

    step = None
    if highlight is not None and hasattr(highlight, "before") and hasattr(highlight, "after"):
        step = highlight
    if step is not None:
        frame = frames([step], shares=shares)[0]
        G, hl, before = frame.after, frame.diff, frame.before
        if snapshot is not None and snapshot is not step.after:
            G = build(snapshot, shares=shares)
            hl = _diff(frame.before, G)
    else:
        G = build(snapshot, shares=shares)
        hl = highlight
    graphs = [G] + ([before] if before is not None else [])
    lay = layout if layout is not None else _layout.compute(graphs)
    if ax is None:
        import matplotlib.pyplot as plt

        w, h = lay.size
        k = min(10 / w, 6.5 / h, 1.4)
        _fig, ax = plt.subplots(figsize=(max(w * k, 3), max(h * k, 2)))
    scene = Scene(lay, ax=ax, lang=lang)
    scene.update(G, hl, before)
    return ax
