"""Jupyter widgets: the step-by-step :class:`Stepper` and :func:`compare_modes`.

Rules of this module (see reference/jupyter.md sections 1 and 3, design.md "Pictures are
drawn in the browser"):

- The picture is SVG drawn in the browser by ``views/static/scene.js`` (an anywidget):
  the widget receives the timeline's scene (:func:`simlab.views.scene.scene`: the first
  snapshot and each step as a diff) once; First/Back/Next/Last, the slider, play,
  zoom, groups, click-to-inspect and packets run in the browser with no kernel round
  trip.  The shown step comes back to Python in the synced ``step`` trait.
- Every piece of state is on the object, so a test drives it without a browser:
  ``s.next_btn.click()``, ``s.slider.value = 3``, ``s.show(4)``, ``s.ns_dropdown.value =
  "red"``; ``s.title``, ``s.commands`` and ``s.ipa`` hold (as ``.value``) the HTML the
  page shows for the step.  ``s.png`` draws the step with matplotlib (exports).
- Steps recorded later (``lab.ip(...)``) reach an open stepper of a Lab or Timeline
  through :meth:`simlab.timeline.Timeline.subscribe`.
- Test hooks in the page: ``data-simlab="picture"`` (with ``data-step``), ``"first"``,
  ``"back"``, ``"next"``, ``"last"``, ``"packet"``; classes ``simlab-stepper``,
  ``simlab-next``, ``simlab-step-title``, ``simlab-ipa``.
- ipywidgets, anywidget and matplotlib are imported when a widget is made.
"""

from __future__ import annotations

import difflib
import html
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import scenarios
from .i18n import CATALOG, t
from .model import ROOT
from .views.diff import Diff
from .views.diff import diff as _diff
from .views.draw import Scene
from .views.ipa import SHOWS, command_for, ip_a, show_text
from .views.layout import compute, compute_frames
from .views.page import page
from .views.scene import packet_frames, texts_of
from .views.scene import scene as _scene
from .views.story import frames as _frames

__all__ = ["Stepper", "compare_modes", "mode_panels", "ModePanel", "presenter", "label",
           "SceneWidget", "page_frame"]

_PRESENTER = False
STATIC = Path(__file__).resolve().parent / "views" / "static"
#: Above this many (steps x namespaces), the scene leaves the show texts out and the
#: browser asks the kernel for them on click (a 200-pod timeline's would be ~20 MB).
EAGER_TEXTS = 4000

# Texts simlab.i18n does not have (yet); everything else comes from simlab.i18n.t.
_LOCAL = {
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


@cache
def widget_class():
    """The anywidget class (made on first use: anywidget imports ipywidgets)."""
    import anywidget
    import traitlets as T

    class SceneWidget(anywidget.AnyWidget):
        """The picture: a scene drawn and stepped in the browser (views/static/scene.js)."""

        _esm = STATIC / "scene.js"
        _css = STATIC / "scene.css"
        scene = T.Dict().tag(sync=True)
        step = T.Int(0).tag(sync=True)
        presenter = T.Bool(False).tag(sync=True)
        interval_ms = T.Int(1600).tag(sync=True)
        walk = T.Dict().tag(sync=True)
        compact = T.Bool(False).tag(sync=True)  # the picture and its buttons only

    return SceneWidget


def SceneWidget(**kwargs):  # noqa: N802 - a class made on first use
    """An anywidget drawing ``scene`` (see :func:`widget_class`)."""
    return widget_class()(**kwargs)


class _Button:
    """What a test clicks: ``s.next_btn.click()`` does what the page's button does."""

    def __init__(self, stepper: Stepper, css: str, key: str, target: Callable[[], int]):
        self._s, self._target = stepper, target
        self._dom_classes = (css,)
        self.description = label(key, stepper.lang)

    def click(self) -> None:
        self._s.show(self._target())

    @property
    def disabled(self) -> bool:
        n, i = len(self._s.frames), self._s.index
        return i == 0 if "back" in self._dom_classes[0] or "first" in self._dom_classes[0] \
            else i == n - 1


class _Value:
    """A value read and written through the stepper (``s.slider.value``, ``s.play.value``)."""

    def __init__(self, get: Callable, set_: Callable | None = None, css: str = "", **extra):
        self._get, self._set = get, set_
        self._dom_classes = (css,) if css else ()
        self.__dict__.update(extra)

    @property
    def value(self):
        return self._get()

    @property
    def options(self):
        """The choices (a namespace dropdown: ``(label, key)`` pairs)."""
        get = self.__dict__.get("options_of")
        return get() if get else []

    @value.setter
    def value(self, v) -> None:
        if self._set is None:
            raise AttributeError("read only")
        self._set(v)


class Stepper:
    """Step through a lab's timeline: the picture with the step's change, its why and
    commands, and `ip a` (route, neigh, fdb) of a namespace as it was after that step.

    ``source`` is a :class:`~simlab.Lab`, a :class:`~simlab.Timeline` or a list of steps.
    A Lab's or Timeline's later steps appear in the open stepper as they are recorded.
    ``since=n`` shows the steps from index ``n`` on, named with what the earlier ones made
    (``Stepper(lab, since=n0)``, not ``Stepper(lab.timeline.steps[n0:])``, in which a
    container made before ``n0`` is known only by its namespace's hex id).

    >>> from simlab.views._samples import veth_pair
    >>> s = Stepper(veth_pair(), ns="red")
    >>> s.next_btn.click(); s.index
    1
    >>> s.slider.value = 3
    >>> "veth1" in s.ipa.value
    True
    """

    def __init__(self, source, ns: str | None = None, lang: str = "en",
                 presenter: bool | None = None, *, cache: bool = True, shares=None,
                 start: int = 0, width: float | None = None, dpi: float | None = None,
                 interval_ms: int = 1600, live: bool = True, since: int = 0):
        self._source, self._shares, self._since = source, shares, since
        self._width, self._dpi = width, dpi
        self.lang = lang
        self.presenter = _PRESENTER if presenter is None else bool(presenter)
        self.cache_enabled = cache
        self.render_count = 0
        self._ns_pick = ns
        self._scene_mpl = None
        self._load()
        n = len(self.frames)
        self.widget = SceneWidget(scene=self.scene, step=min(max(start, 0), n - 1),
                                  presenter=self.presenter, interval_ms=interval_ms)
        self.widget.add_class("simlab-stepper-host")
        self.widget.on_msg(self._on_msg)
        self.first_btn = _Button(self, "simlab-first", "nav.first", lambda: 0)
        self.back_btn = _Button(self, "simlab-back", "nav.back", lambda: self.index - 1)
        self.next_btn = _Button(self, "simlab-next", "nav.next", lambda: self.index + 1)
        self.last_btn = _Button(self, "simlab-last", "nav.last", lambda: len(self.frames) - 1)
        self.slider = _Value(lambda: self.index, self.show, "simlab-slider",
                             min=0, max=n - 1)
        self.play = self.slider  # the page's Play steps the same index
        self.ns_dropdown = _Value(lambda: self._ns(), self._set_ns, "simlab-ns",
                                  options_of=lambda: self.ns_options)
        self.show_dropdown = _Value(lambda: self._what, self._set_what, "simlab-show",
                                    options_of=lambda: [(command_for(ROOT, w), w) for w in SHOWS])
        self._what = "a"
        self.title = _Value(lambda: self._title_html(), css="simlab-step-title")
        self.why = _Value(lambda: html.escape(self.step.why_in(self.lang)), css="simlab-why")
        self.commands = _Value(lambda: self._commands_html(), css="simlab-commands")
        self.ipa = _Value(lambda: self._ipa_html(), css="simlab-ipa")
        self.image = _Value(lambda: self.png, css="simlab-figure")
        self._unsubscribe = None
        tl = getattr(source, "timeline", source)
        if live and hasattr(tl, "subscribe"):
            ref = weakref.WeakMethod(self._recorded)
            self._unsubscribe = tl.subscribe(lambda step: (ref() or (lambda s: None))(step))

    # ------------------------------------------------------------------ data
    def _load(self) -> None:
        self.frames = _frames(self._source, shares=self._shares, since=self._since)
        if not self.frames:
            raise ValueError("the timeline has no steps yet: make some (lab.ip(...)) and try again")
        self._cache: dict[int, bytes] = {}
        self._ipa_cache: dict[tuple[int, str, str], tuple[str, set[int]]] = {}
        self.layout = compute_frames(self.frames)
        size = len(self.frames) * len(self.frames[-1].step.after.netns)
        self.scene = _scene(None, fs=self.frames, layout=self.layout, lang=self.lang,
                            texts=size <= EAGER_TEXTS)
        self._scene_mpl = None
        # namespaces that ever exist, with the name the picture gives them
        names: dict[str, str] = {}
        first = self.frames[0].before_view
        for snap, keys in [(first, first.frags)] + [(f.after_view, f.changed) for f in self.frames]:
            for key, frag in snap.frags.items():
                if key in keys:  # in the snapshot's order, as a graph lists them
                    names[key] = frag[2].get("label") or key
        self.ns_options = [(label("label.node", self.lang) if key == ROOT else
                            (f"{names[key]} ({key})" if names[key] != key else key), key)
                           for key in names]

    def _recorded(self, _step) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Read the lab's timeline again (after more commands); stay on the same step."""
        index = self.index
        self._load()
        self.slider.max = len(self.frames) - 1
        with self.widget.hold_sync():
            self.widget.scene = self.scene
            self.widget.step = min(index, len(self.frames) - 1)

    def _on_msg(self, _widget, content, _buffers) -> None:
        """The browser asks for the show texts of a namespace at a step (big timelines)."""
        if not isinstance(content, dict) or content.get("type") != "texts":
            return
        step, ns = int(content.get("step", 0)), str(content.get("ns", ""))
        state = self.frames[min(max(step, 0), len(self.frames) - 1)].step.after
        texts = texts_of(state, ns) if ns in state.netns else None
        self.widget.send({"type": "texts", "id": content.get("id"), "texts": texts})

    # ------------------------------------------------------------------ state
    @property
    def index(self) -> int:
        """The step shown (0-based), in the page and here."""
        return self.widget.step

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

    def show(self, index: int) -> None:
        """Show step ``index`` (clamped to the timeline)."""
        self.widget.step = min(max(int(index), 0), len(self.frames) - 1)

    def play_walk(self, walk) -> None:
        """Play a :func:`simlab.model.forward.reach` walk on the picture (hop by hop,
        request and reply), e.g. ``s.play_walk(reach(s.step.after, "red", "10.0.0.2"))``."""
        self.widget.walk = packet_frames(walk, self.frame.after, self.lang)

    def _ns(self) -> str:
        keys = [k for _, k in self.ns_options]
        pick = self._ns_pick
        if pick is not None and pick in keys:
            return pick
        return next((k for k in keys if k != ROOT), ROOT)

    def _set_ns(self, ns: str) -> None:
        self._ns_pick = ns

    def _set_what(self, what: str) -> None:
        if what not in SHOWS:
            raise ValueError(f"show one of {', '.join(SHOWS)}, not {what!r}")
        self._what = what

    # ------------------------------------------------------------------ pictures
    @property
    def png(self) -> bytes:
        """The shown step drawn by matplotlib (the PNG exports make)."""
        return self.figure_png(self.index)

    def figure_png(self, index: int) -> bytes:
        """The picture of step ``index`` as PNG (cached when enabled)."""
        if self.cache_enabled and index in self._cache:
            return self._cache[index]
        if self._scene_mpl is None:
            w_in = self._width or (13.0 if self.presenter else 9.5)
            aw, ah = self.layout.size
            h_in = min(max(w_in * ah / aw, 3.2), w_in * 0.62)
            self._scene_mpl = Scene(self.layout, figsize=(w_in, h_in), dpi=self._dpi or 100,
                                    lang=self.lang, presenter=self.presenter)
        f = self.frames[index]
        self._scene_mpl.update(f.after, f.diff, f.before)
        png = self._scene_mpl.png()
        self.render_count += 1
        if self.cache_enabled:
            self._cache[index] = png
        return png

    # ------------------------------------------------------------------ texts
    def ipa_text(self, index: int | None = None, ns: str | None = None,
                 what: str | None = None) -> str:
        """`ip -n NS a` (or ``what``: "route", "neigh", "fdb") after step ``index``."""
        return self._ipa(self.index if index is None else index,
                         self._ns() if ns is None else ns,
                         self._what if what is None else what)[0]

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

    def _title_html(self) -> str:
        n, step, big = len(self.frames), self.step, self.presenter
        counter = label("step.counter", self.lang, i=self.index + 1, n=n)
        actor = getattr(step, "actor", "")
        title = html.escape(step.title_in(self.lang))
        return (f'<div style="{_css(big)}"><b>{html.escape(counter)}</b> '
                f'<span style="font-weight:600">{title}</span> '
                f'<span style="color:#888">({html.escape(actor)})</span></div>')

    def _commands_html(self) -> str:
        step, big = self.step, self.presenter
        cmds = step.commands
        body = _pre("\n".join(f"$ {c}" for c in cmds), big) if cmds else ""
        mirrors = ""
        if step.mirrors:
            head = html.escape(label("label.mirrors", self.lang))
            mirrors = (f'<div style="{_css(big)}"><b>{head}</b>: '
                       f'<code>{html.escape(step.mirrors)}</code></div>')
        head = html.escape(label("label.commands", self.lang))
        return (f'<div style="{_css(big)}"><b>{head}</b></div>{body}{mirrors}'
                if (cmds or mirrors) else "")

    def _ipa_html(self) -> str:
        ns, what = self._ns(), self._what
        text, marks = self._ipa(self.index, ns, what)
        head = html.escape(f"$ {command_for(ns, what)}")
        return (f'<div style="{_css(self.presenter)}"><code>{head}</code></div>'
                + _pre(text, self.presenter, marks))

    # ----------------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.widget.close()
        if self._scene_mpl is not None:
            self._scene_mpl.close()


def page_frame(source, *, lang: str = "en", presenter: bool | None = None,
               height: int | None = None, step: int | None = None):
    """The picture as the self-contained HTML page (:func:`simlab.export_html`) in an iframe:
    for slides (jupyterlab-rise shows no ipywidgets) and static HTML exports of a notebook.
    It steps and plays packets in the browser like the widget, but never talks to the kernel.
    """
    from IPython.display import HTML

    big = _PRESENTER if presenter is None else bool(presenter)
    fs = _frames(source)
    if not fs:
        raise ValueError("the timeline has no steps yet: make some (lab.ip(...)) and try again")
    sc = _scene(None, fs=fs, lang=lang)
    doc = page(sc, title="", presenter=big, step=len(fs) - 1 if step is None else step)
    h = height or (980 if big else 760)
    return HTML(f'<div class="simlab-frame"><iframe style="width:100%;height:{h}px;border:0" '
                f'srcdoc="{html.escape(doc, quote=True)}"></iframe></div>')


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
    #: The mode's steps as a scene, shown at its last step with ``highlight`` as its change.
    scene: dict | None = None


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
        sc = _scene(None, fs=fs, layout=lay, lang=lang)
        statuses = {n: hl.status(n) for n in set(hl.added) | set(hl.changed) | set(hl.removed)}
        sc["steps"][-1]["hl"] = {**statuses, **{n: "moved" for n in hl.moved}}
        sc["steps"][-1]["badges"] = []  # the picture shows all that docker run made
        out.append(ModePanel(mode, name, netns, png, ip_a(last.step.after, netns), hl, len(fs),
                             sc))
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
        img = SceneWidget(scene=p.scene, step=len(p.scene["steps"]) - 1, presenter=big,
                          compact=True)
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
