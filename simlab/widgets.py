"""Jupyter widgets: the step-by-step :class:`Stepper` and :func:`compare_modes`.

Rules of this module (see reference/jupyter.md sections 1 and 3):

- The figure is a PNG in an ``ipywidgets.Image``, drawn by one reused
  :class:`~simlab.views.draw.Scene` (one matplotlib Figure, artists updated in place) and
  cached per step, so going back shows exactly the bytes shown before.  No ``Output``
  widget and no ``clear_output``: they stall nbclient and flicker.
- Every piece of state lives on the object, so a test drives it without a kernel:
  ``s.next_btn.click()``, ``s.slider.value = 3``, ``s.ns_dropdown.value = "red"``.
- Widgets draw a timeline's snapshots and never import a backend or the Lab; only
  :func:`mode_panels` runs labs, through :mod:`simlab.scenarios` (``docker-<mode>``).
- CSS classes for browser tests: ``simlab-next``, ``simlab-back``, ``simlab-first``,
  ``simlab-last``, ``simlab-slider``, ``simlab-play``, ``simlab-step-title``,
  ``simlab-why``, ``simlab-commands``, ``simlab-figure``, ``simlab-ns``, ``simlab-ipa``;
  the whole stepper is ``simlab-stepper``, a comparison ``simlab-compare``.
- ipywidgets and matplotlib are imported when a widget is made.
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import scenarios
from .i18n import CATALOG, t
from .model import ROOT
from .views.diff import Diff
from .views.diff import diff as _diff
from .views.draw import COLORS, Scene
from .views.ipa import SHOWS, command_for, ip_a, show_text
from .views.layout import compute
from .views.story import frames as _frames

__all__ = ["Stepper", "compare_modes", "mode_panels", "ModePanel", "presenter", "label"]

_PRESENTER = False

# Texts simlab.i18n does not have (yet); everything else comes from simlab.i18n.t.
_LOCAL = {
    "legend.added": ("added", "追加"),
    "legend.changed": ("changed", "変更"),
    "legend.removed": ("removed", "削除"),
    "ipa.absent": ("namespace {ns} does not exist at this step",
                   "このステップでは名前空間 {ns} は存在しません"),
    "compare.mode": ("docker run --net {mode}", "docker run --net {mode}"),
    "compare.note.none": ("a namespace with lo only", "lo だけの名前空間"),
    "compare.note.host": ("no namespace: the node's own links",
                          "名前空間なし: ノードのリンクがそのまま見える"),
    "compare.note.bridge": ("a namespace, eth0 on docker0", "名前空間と、docker0 につながる eth0"),
    "compare.note.container": ("web's namespace, shared", "web の名前空間を共有"),
}


def label(key: str, lang: str = "en", **params) -> str:
    """A widget text: from :mod:`simlab.i18n` when it has ``key``, else from this module."""
    if key in CATALOG.get("en", {}):
        return t(key, lang, **params)
    en, ja = _LOCAL.get(key, (key, key))
    return (ja if lang == "ja" else en).format(**params)


def presenter(on: bool = True) -> bool:
    """Make widgets created from now on large for a projector; return the previous setting.

    >>> old = presenter(True); presenter(old)
    True
    """
    global _PRESENTER
    old, _PRESENTER = _PRESENTER, bool(on)
    return old


def _css(presenter_on: bool) -> str:
    size = "1.35em" if presenter_on else "1em"
    return f"font-size:{size};line-height:1.35"


def _pre(text: str, presenter_on: bool, marks: set[int] | None = None) -> str:
    lines = text.rstrip("\n").split("\n")
    body = []
    for i, line in enumerate(lines):
        esc = html.escape(line)
        if marks and i in marks:
            esc = f'<span class="simlab-ipa-new" style="background:#dff5e1">{esc}</span>'
        body.append(esc)
    size = "1.2em" if presenter_on else "0.85em"
    return (f'<pre style="font-size:{size};margin:0;padding:6px;background:#f7f7f9;'
            f'white-space:pre;overflow-x:auto">' + "\n".join(body) + "</pre>")


def _new_lines(old: str | None, new: str) -> set[int]:
    """Lines of ``new`` that ``old`` did not have (what this step changed in `ip a`)."""
    if old is None:
        return set(range(len(new.rstrip("\n").split("\n"))))
    a, b = old.rstrip("\n").split("\n"), new.rstrip("\n").split("\n")
    out: set[int] = set()
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            out.update(range(j1, j2))
    return out


def _legend(lang: str, presenter_on: bool) -> str:
    items = []
    for key in ("added", "changed", "removed"):
        items.append(f'<span style="display:inline-block;width:0.9em;height:0.9em;border:3px solid '
                     f'{COLORS[key]};border-radius:50%;vertical-align:middle"></span> '
                     f'{html.escape(label("legend." + key, lang))}')
    return f'<div style="{_css(presenter_on)};color:#555">' + " &nbsp; ".join(items) + "</div>"


class Stepper:
    """Step through a lab's timeline: the graph with the step's change, its why and commands,
    and `ip a` of a namespace as it was after that step.

    ``source`` is a :class:`~simlab.Lab`, a :class:`~simlab.Timeline` or a list of steps.

    >>> from simlab.views._samples import veth_pair
    >>> s = Stepper(veth_pair(), ns="red")
    >>> s.next_btn.click(); s.index
    1
    >>> s.slider.value = 3
    >>> "veth1" in s.ipa.value
    True
    """

    def __init__(self, source, ns: str = "red", lang: str = "en", presenter: bool | None = None, *,
                 cache: bool = True, shares=None, start: int = 0, width: float | None = None,
                 dpi: float | None = None, interval_ms: int = 1600):
        import ipywidgets as W

        self._source, self._shares = source, shares
        self._width, self._dpi = width, dpi
        self.lang = lang
        self.presenter = _PRESENTER if presenter is None else bool(presenter)
        self.cache_enabled = cache
        self.render_count = 0
        options = self._load()
        keys = [key for _, key in options]
        if ns not in keys:
            ns = next((k for k in keys if k != ROOT), ROOT)

        n = len(self.frames)
        big = self.presenter
        bstyle = {"font_size": "20px"} if big else {}
        blayout = W.Layout(width="auto", height="2.6em" if big else "auto")

        def button(key: str, icon: str, css: str):
            b = W.Button(description=label(key, lang), icon=icon, layout=blayout, style=bstyle)
            b.add_class(css)
            return b

        self.first_btn = button("nav.first", "step-backward", "simlab-first")
        self.back_btn = button("nav.back", "chevron-left", "simlab-back")
        self.next_btn = button("nav.next", "chevron-right", "simlab-next")
        self.last_btn = button("nav.last", "step-forward", "simlab-last")
        self.play = W.Play(value=0, min=0, max=n - 1, step=1, interval=interval_ms,
                           description=label("nav.play", lang))
        self.play.add_class("simlab-play")
        self.slider = W.IntSlider(value=0, min=0, max=n - 1, step=1, readout=False,
                                  continuous_update=False, layout=W.Layout(width="40%"))
        self.slider.add_class("simlab-slider")
        W.link((self.play, "value"), (self.slider, "value"))
        self.title = W.HTML()
        self.title.add_class("simlab-step-title")
        self.why = W.HTML()
        self.why.add_class("simlab-why")
        self.commands = W.HTML()
        self.commands.add_class("simlab-commands")
        self.legend = W.HTML(_legend(lang, big))
        w_px = int(self.scene.fig.get_size_inches()[0] * self.scene.fig.dpi)
        self.image = W.Image(format="png", layout=W.Layout(width="100%", height="auto",
                                                           max_width=f"{w_px}px"))
        self.image.add_class("simlab-figure")
        self.ns_dropdown = W.Dropdown(options=options, value=ns,
                                      description=label("label.namespace", lang),
                                      style={"description_width": "initial"})
        self.ns_dropdown.add_class("simlab-ns")
        # what to show of that namespace: addresses, routes, the ARP cache, a bridge's FDB
        self.show_dropdown = W.Dropdown(options=[(command_for(ROOT, w), w) for w in SHOWS],
                                        value="a", layout=W.Layout(width="auto"))
        self.show_dropdown.add_class("simlab-show")
        self.ipa = W.HTML()
        self.ipa.add_class("simlab-ipa")

        self.first_btn.on_click(lambda _b: self.show(0))
        self.back_btn.on_click(lambda _b: self.show(self.index - 1))
        self.next_btn.on_click(lambda _b: self.show(self.index + 1))
        self.last_btn.on_click(lambda _b: self.show(len(self.frames) - 1))
        self.slider.observe(lambda ch: self._render(ch["new"]), names="value")
        self.ns_dropdown.observe(lambda ch: self._render_ipa(), names="value")
        self.show_dropdown.observe(lambda ch: self._render_ipa(), names="value")

        controls = W.HBox([self.first_btn, self.back_btn, self.play, self.slider, self.next_btn,
                           self.last_btn],
                          layout=W.Layout(align_items="center", flex_flow="row wrap"))
        side = W.VBox([self.title, self.why, self.commands, self.legend],
                      layout=W.Layout(width="36%", padding="0 0 0 12px"))
        main = W.HBox([W.Box([self.image], layout=W.Layout(width="64%")), side])
        self.widget = W.VBox([controls, main, W.HBox([self.ns_dropdown, self.show_dropdown]),
                              self.ipa])
        self.widget.add_class("simlab-stepper")
        self._render(min(max(start, 0), n - 1), force=True)
        if start:
            self.slider.value = min(max(start, 0), n - 1)

    def _load(self) -> list[tuple[str, str]]:
        """Read the timeline: frames, layout, a scene; return the namespace choices."""
        self.frames = _frames(self._source, shares=self._shares)
        if not self.frames:
            raise ValueError("the timeline has no steps yet: make some (lab.ip(...)) and try again")
        self._cache: dict[int, bytes] = {}
        self._ipa_cache: dict[tuple[int, str, str], tuple[str, set[int]]] = {}
        graphs = [self.frames[0].before] + [f.after for f in self.frames]
        self.layout = compute(graphs)
        w_in = self._width or (13.0 if self.presenter else 9.5)
        aw, ah = self.layout.size
        h_in = min(max(w_in * ah / aw, 3.2), w_in * 0.62)
        self.scene = Scene(self.layout, figsize=(w_in, h_in), dpi=self._dpi or 100, lang=self.lang,
                           presenter=self.presenter)
        # namespaces that ever exist, with the name the picture gives them
        names: dict[str, str] = {}
        for g in graphs:
            for _node, d in g.nodes(data=True):
                if d.get("kind") == "netns":
                    names[d["netns"]] = d.get("label") or d["netns"]
        return [(label("label.node", self.lang) if key == ROOT else
                 (f"{names[key]} ({key})" if names[key] != key else key), key) for key in names]

    def refresh(self) -> None:
        """Read the lab's timeline again (after more commands); stay on the same step."""
        index = self.index
        options = self._load()
        ns = self.ns_dropdown.value
        n = len(self.frames)
        self.slider.max = self.play.max = n - 1
        self.ns_dropdown.options = options
        if ns in [key for _, key in options]:
            self.ns_dropdown.value = ns
        self._render(min(index, n - 1))

    # ------------------------------------------------------------------ state
    @property
    def index(self) -> int:
        """The step shown (0-based)."""
        return self.slider.value

    @property
    def frame(self):
        return self.frames[self.index]

    @property
    def step(self):
        return self.frame.step

    @property
    def highlight(self) -> Diff:
        """What the shown step added, changed and removed (node ids)."""
        return self.frame.diff

    @property
    def png(self) -> bytes:
        """The PNG bytes shown now."""
        return self.image.value

    def show(self, index: int) -> None:
        """Show step ``index`` (clamped to the timeline)."""
        self.slider.value = min(max(index, 0), len(self.frames) - 1)

    def figure_png(self, index: int) -> bytes:
        """The picture of step ``index`` (from the cache when enabled)."""
        if self.cache_enabled and index in self._cache:
            return self._cache[index]
        f = self.frames[index]
        self.scene.update(f.after, f.diff, f.before)
        png = self.scene.png()
        self.render_count += 1
        if self.cache_enabled:
            self._cache[index] = png
        return png

    def ipa_text(self, index: int | None = None, ns: str | None = None,
                 what: str | None = None) -> str:
        """`ip -n NS a` (or ``what``: "route", "neigh", "fdb") after step ``index``."""
        return self._ipa(self.index if index is None else index,
                         self.ns_dropdown.value if ns is None else ns,
                         self.show_dropdown.value if what is None else what)[0]

    def _ipa(self, index: int, ns: str, what: str) -> tuple[str, set[int]]:
        key = (index, ns, what)
        if key not in self._ipa_cache:
            step = self.frames[index].step
            if ns not in step.after.netns:
                self._ipa_cache[key] = (label("ipa.absent", self.lang, ns=ns or "node"), set())
            else:
                text = show_text(step.after, ns, what)
                old = show_text(step.before, ns, what) if ns in step.before.netns else None
                self._ipa_cache[key] = (text, _new_lines(old, text))
        return self._ipa_cache[key]

    # ----------------------------------------------------------------- render
    def _render(self, index: int, force: bool = False) -> None:
        n = len(self.frames)
        index = min(max(index, 0), n - 1)
        f = self.frames[index]
        step, lang, big = f.step, self.lang, self.presenter
        self.image.value = self.figure_png(index)
        counter = label("step.counter", lang, i=index + 1, n=n)
        actor = getattr(step, "actor", "")
        title = html.escape(step.title_in(lang))
        self.title.value = (f'<div style="{_css(big)}"><b>{html.escape(counter)}</b> '
                            f'<span style="font-size:1.15em;font-weight:600">{title}</span> '
                            f'<span style="color:#888">({html.escape(actor)})</span></div>')
        why = html.escape(step.why_in(lang))
        self.why.value = f'<div style="{_css(big)};color:#333">{why}</div>'
        cmds = step.commands
        body = _pre("\n".join(f"$ {c}" for c in cmds), big) if cmds else ""
        mirrors = ""
        if step.mirrors:
            head = html.escape(label("label.mirrors", lang))
            mirrors = (f'<div style="{_css(big)}"><b>{head}</b>: '
                       f'<code>{html.escape(step.mirrors)}</code></div>')
        head = html.escape(label("label.commands", lang))
        self.commands.value = (f'<div style="{_css(big)}"><b>{head}</b></div>{body}{mirrors}'
                               if (cmds or mirrors) else "")
        self.first_btn.disabled = self.back_btn.disabled = index == 0
        self.next_btn.disabled = self.last_btn.disabled = index == n - 1
        self._render_ipa(index)

    def _render_ipa(self, index: int | None = None) -> None:
        index = self.index if index is None else index
        ns, what = self.ns_dropdown.value, self.show_dropdown.value
        text, marks = self._ipa(index, ns, what)
        head = html.escape(f"$ {command_for(ns, what)}")
        self.ipa.value = (f'<div style="{_css(self.presenter)}"><code>{head}</code></div>'
                          + _pre(text, self.presenter, marks))

    # ----------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        self.widget.close()
        self.scene.close()


# ------------------------------------------------------------------ docker modes
@dataclass(frozen=True)
class ModePanel:
    """One docker network mode: its picture and `ip a` as the container sees it."""

    mode: str
    container: str
    netns: str
    png: bytes
    ipa: str
    highlight: Diff
    steps: int


#: The container each docker mode's scenario shows: its steps are highlighted, and the
#: picture ends with its last one (``docker-bridge`` runs a second container after it).
_SHOWN = {"none": "web", "host": "web", "bridge": "web", "container": "sidecar"}


def mode_panels(modes: Sequence[str] = ("none", "host", "bridge", "container"), *, lang: str = "en",
                presenter: bool | None = None, lab_factory: Callable[[], object] | None = None,
                figsize: tuple[float, float] | None = None) -> list[ModePanel]:
    """Run the scenario ``docker-<mode>`` for each mode and draw it (pure data shown by
    :func:`compare_modes`).

    In each picture, what ``docker run`` made is highlighted.  ``container`` runs ``web``
    (bridge) first, then ``sidecar`` with ``--net container:web``.  ``lab_factory`` makes
    the empty lab each scenario runs on (default: a model lab).
    """
    big = _PRESENTER if presenter is None else bool(presenter)
    out = []
    for mode in modes:
        lab = scenarios.run(f"docker-{mode}", lab=lab_factory() if lab_factory else None)
        try:
            name = _SHOWN[mode]
            netns = lab.docker.get(name).netns
            fs = _frames(lab)
        finally:
            lab.close()
        mine = [f.index for f in fs if f.step.detail.get("container") == name]
        fs = fs[: mine[-1] + 1]
        first, last = fs[mine[0]], fs[-1]
        hl = _diff(first.before, last.after)
        lay = compute([fs[0].before] + [f.after for f in fs], lod="compact")
        size = figsize or ((6.0, 4.2) if big else (4.6, 3.3))
        scene = Scene(lay, figsize=size, dpi=100, lang=lang, presenter=big)
        scene.update(last.after, hl, first.before)
        png = scene.png()
        scene.close()
        out.append(ModePanel(mode, name, netns, png, ip_a(last.step.after, netns), hl, len(fs)))
    return out


def compare_modes(modes: Sequence[str] = ("none", "host", "bridge", "container"), *,
                  lang: str = "en", presenter: bool | None = None,
                  lab_factory: Callable[[], object] | None = None):
    """The docker network modes side by side: each a small graph and the container's `ip a`.

    Linux: `docker run --net none|host|bridge|container:web`, then `docker exec web ip a`.
    Returns an ipywidgets ``GridBox`` (class ``simlab-compare``); its ``panels`` attribute
    holds the :class:`ModePanel` data.
    """
    import ipywidgets as W

    big = _PRESENTER if presenter is None else bool(presenter)
    panels = mode_panels(modes, lang=lang, presenter=big, lab_factory=lab_factory)
    boxes = []
    for p in panels:
        head = html.escape(label("compare.mode", lang, mode=_net(p.mode)))
        title = W.HTML(f'<div style="{_css(big)}"><b><code>{head}</code></b><br>'
                       f'<span style="color:#555">'
                       f'{html.escape(label("compare.note." + p.mode, lang))}</span></div>')
        title.add_class("simlab-step-title")
        img = W.Image(value=p.png, format="png", layout=W.Layout(width="100%", height="auto"))
        img.add_class("simlab-figure")
        cmd = f"docker exec {p.container} ip a"
        ipa = W.HTML(f'<div style="{_css(big)}"><code>$ {html.escape(cmd)}</code></div>'
                     + _pre(p.ipa, big))
        ipa.add_class("simlab-ipa")
        box = W.VBox([title, img, ipa], layout=W.Layout(border="1px solid #ddd", padding="6px"))
        box.add_class(f"simlab-mode-{p.mode}")
        boxes.append(box)
    width = "420px" if big else "300px"
    columns = f"repeat(auto-fit, minmax({width}, 1fr))"
    grid = W.GridBox(boxes, layout=W.Layout(grid_template_columns=columns, grid_gap="8px",
                                            width="100%"))
    grid.add_class("simlab-compare")
    grid.panels = panels
    return grid


def _net(mode: str) -> str:
    return "container:web sidecar" if mode == "container" else f"{mode} web"
