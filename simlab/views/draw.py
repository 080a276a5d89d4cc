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
- What goes where, in which colour, comes from :func:`simlab.views.picture.paint` as
  plain data; this module turns it into artists.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from functools import cache, lru_cache

from ..fonts import setup_japanese_fonts
from . import layout as _layout
from .diff import Diff
from .diff import diff as _diff
from .graph import build
from .picture import COLORS, Picture, paint
from .story import frames

__all__ = ["Scene", "draw", "COLORS", "agg_figure", "label_font_family", "missing_glyphs",
           "warn_missing_glyphs"]

# ------------------------------------------------------------------------------ fonts
@lru_cache(maxsize=1)
def label_font_family() -> tuple[str, ...]:
    """Font family list for labels: DejaVu Sans, then the bundled Japanese font if any."""
    try:
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


def warn_missing_glyphs(text: str) -> None:
    """Warn as matplotlib would for each character of ``text`` the label fonts lack."""
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
        warn_missing_glyphs(line)
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
def agg_figure(size: tuple[float, float], dpi: float):
    """A matplotlib Figure on an Agg canvas, never registered with pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _columns(rows: list, n: int) -> list[list]:
    """``n`` lists from rows of ``n`` values (empty lists when there are no rows)."""
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(n)]


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
            self.fig = agg_figure(figsize, dpi)
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
        if highlight is None:
            hl = Diff()
        elif isinstance(highlight, Diff):
            hl = highlight
        else:
            hl = Diff.of(highlight)
        self._push(paint(G, hl, before, self.layout, lang=self.lang, font=self.font, dot=self.dot,
                         scale=self.scale))
        if self.title is not None:
            self.title.set_text(title or "")
            if title:
                warn_missing_glyphs(title)

    def _push(self, pic: Picture) -> None:
        """Give each artist its rows of ``pic``."""
        import numpy as np

        verts, fc, ec, lw, ls = _columns(pic.boxes, 5)
        self.boxes.set_verts(verts)
        self.boxes.set_facecolors(fc or ["none"])
        self.boxes.set_edgecolors(ec or ["none"])
        self.boxes.set_linewidths(lw or [1.0])
        self.boxes.set_linestyles(ls or ["solid"])
        segments, colors, lw, ls = _columns(pic.wires, 4)
        self.wires.set_segments(segments)
        self.wires.set_colors(colors or ["none"])
        self.wires.set_linewidths(lw or [1.0])
        self.wires.set_linestyles(ls or ["solid"])
        self.bars.set_segments(pic.bars)
        for shape, artist in (("o", self.dots), ("s", self.squares), ("D", self.diamonds)):
            xs, fc, ec, sz, lw = _columns(pic.marks[shape], 5)
            artist.set_offsets(np.array(xs, dtype=float).reshape(-1, 2))
            artist.set_facecolors(fc or ["none"])
            artist.set_edgecolors(ec or ["none"])
            artist.set_sizes(sz or [0.0])
            artist.set_linewidths(lw or [0.0])
        xs, colors, sizes = _columns(pic.rings, 3)
        self.rings.set_offsets(np.array(xs, dtype=float).reshape(-1, 2))
        self.rings.set_edgecolors(colors or ["none"])
        self.rings.set_facecolors(["none"])
        self.rings.set_sizes(sizes or [0.0])
        self.rings.set_linewidths([2.2])
        specs, offsets, colors = _columns(pic.labels, 3)
        self.labels.set_paths([_label_path(*spec) for spec in specs])
        self.labels.set_offsets(np.array(offsets, dtype=float).reshape(-1, 2))
        self.labels.set_facecolors(colors or ["none"])

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
