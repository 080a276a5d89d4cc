"""Export a timeline: one PNG or SVG per step, an animated GIF, a PDF handout.

Rules of this module:

- Every picture comes from one :class:`~simlab.views.draw.Scene` per export, with the
  whole timeline's layout, so frames line up exactly (nothing jumps in the GIF).
- Files are deterministic: no dates in SVG/PDF metadata, a fixed SVG id salt, PNGs
  without a software stamp; the same timeline gives the same bytes.
- The GIF is made with Pillow (a matplotlib dependency); the PDF with matplotlib's
  ``PdfPages``, one page per step: the picture, the title, the why, the commands and
  the code the step mirrors.
- :func:`export_html` writes one self-contained HTML file (the browser picture of
  :mod:`simlab.views.page`: steps and plays packets with no network and no Python).
- :func:`add_export_parser` adds ``simlab export SCENARIO --gif out.gif --pdf out.pdf
  --png DIR --svg DIR --html FILE [--ping NS:DST] [--lang ja]`` to a CLI; the scenario
  comes from :func:`simlab.scenarios.run`.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from . import scenarios
from .i18n import get_language
from .script import script
from .views.draw import Scene, agg_figure, label_font_family, warn_missing_glyphs
from .views.layout import compute
from .views.page import page
from .views.scene import badges_for, scene
from .views.story import frames as _frames

__all__ = ["export_timeline", "export_step", "step_png", "step_svg", "gif_bytes",
           "export_html", "add_export_parser",
           "run_export"]

_TITLE_SPACE = 0.07  # fraction of the figure height kept for the step's title


def _scene(fs, lang: str, size=(10.0, 6.2), dpi: float = 100) -> Scene:
    lay = compute([fs[0].before] + [f.after for f in fs])
    return Scene(lay, figsize=size, dpi=dpi, lang=lang, title_space=_TITLE_SPACE)


def _title(fs, i: int, lang: str) -> str:
    """The step's title, and the badges the browser shows for what is not drawn."""
    badges = badges_for(fs[i].step, bool(fs[i].diff), lang)
    extra = f"   [{'; '.join(badges)}]" if badges else ""
    return f"{i + 1}/{len(fs)}  {fs[i].step.title_in(lang)}{extra}"


def _show(scene: Scene, fs, i: int, lang: str) -> None:
    f = fs[i]
    scene.update(f.after, f.diff, f.before, title=_title(fs, i, lang))


def _svg(scene: Scene) -> bytes:
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "simlab"}):
        return scene.svg()


def step_png(source, index: int, *, lang: str = "en", dpi: float = 100) -> bytes:
    """PNG bytes of step ``index`` of a lab or timeline, with its title."""
    fs = _frames(source)
    scene = _scene(fs, lang, dpi=dpi)
    _show(scene, fs, index, lang)
    return scene.png()


def step_svg(source, index: int, *, lang: str = "en") -> bytes:
    """SVG bytes of step ``index`` (text as outlines: no font needed to view it)."""
    fs = _frames(source)
    scene = _scene(fs, lang)
    _show(scene, fs, index, lang)
    return _svg(scene)


def export_step(source, index: int, path: str | os.PathLike, *, lang: str = "en") -> Path:
    """Write step ``index`` to ``path``: PNG or SVG by the file's suffix."""
    path = Path(path)
    data = step_svg(source, index, lang=lang) if path.suffix.lower() == ".svg" else \
        step_png(source, index, lang=lang)
    path.write_bytes(data)
    return path


def gif_bytes(pngs: Sequence[bytes], *, duration_ms: int = 1800, last_ms: int = 4000) -> bytes:
    """An animated, looping GIF from PNG frames (one per step)."""
    from PIL import Image

    # Flat colours and anti-aliased edges: a fast octree palette without dithering is enough
    # (the median-cut palette costs 15x more for no visible difference).
    images = [Image.open(io.BytesIO(p)).convert("RGB").quantize(
        colors=96, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE) for p in pngs]
    durations = [duration_ms] * (len(images) - 1) + [last_ms]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
    return buf.getvalue()


def _width(c: str) -> int:
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def _wrap(text: str, width: int) -> list[str]:
    """Wrap by display width: at spaces for English, anywhere between CJK characters."""
    lines: list[str] = []
    for para in text.split("\n"):
        line, used = "", 0
        for word in _tokens(para):
            w = sum(_width(c) for c in word)
            if used + w > width and line.strip():
                lines.append(line.rstrip())
                line, used = word.lstrip(), sum(_width(c) for c in word.lstrip())
            else:
                line += word
                used += w
        lines.append(line.rstrip())
    return lines


def _tokens(text: str):
    word = ""
    for c in text:
        if _width(c) == 2:
            if word:
                yield word
                word = ""
            yield c
        elif c == " ":
            yield word + " "
            word = ""
        else:
            word += c
    if word:
        yield word


def _pdf(fs, path: Path, lang: str) -> None:
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    fig = agg_figure((11.69, 8.27), 100)  # A4 landscape
    ax = fig.add_axes((0.03, 0.36, 0.94, 0.56))
    scene = Scene(compute([fs[0].before] + [f.after for f in fs]), ax=ax, lang=lang)
    family = list(label_font_family())
    title = fig.text(0.03, 0.955, "", fontsize=15, family=family, va="center")
    why = fig.text(0.03, 0.335, "", fontsize=10.5, family=family, va="top", linespacing=1.45)
    cmds = fig.text(0.03, 0.16, "", fontsize=9, family=["DejaVu Sans Mono", *family[1:]], va="top",
                    linespacing=1.35)
    foot = fig.text(0.97, 0.02, "", fontsize=8, color="#666", ha="right", family=family)
    with matplotlib.rc_context({"pdf.fonttype": 42}), \
            PdfPages(path, metadata={"Creator": "simlab", "Producer": None,
                                     "CreationDate": None}) as pdf:
        for i, f in enumerate(fs):
            step = f.step
            scene.update(f.after, f.diff, f.before)
            title.set_text(_title(fs, i, lang))
            # IPAexGothic has no bold face: bold only where DejaVu draws every glyph
            ascii_only = title.get_text().isascii()
            title.set_fontweight("bold" if ascii_only else "normal")
            title.set_family(["DejaVu Sans"] if ascii_only else family)
            why.set_text("\n".join(_wrap(step.why_in(lang), 150)[:7]))
            lines = [f"$ {c}" for c in step.commands][:8]
            if len(step.commands) > 8:
                lines.append(f"... (+{len(step.commands) - 8})")
            if step.mirrors:
                lines.append(f"mirrors: {step.mirrors}")
            cmds.set_text("\n".join(lines))
            foot.set_text(f"simlab · {step.actor}")
            for text in (title.get_text(), why.get_text(), cmds.get_text(), foot.get_text()):
                warn_missing_glyphs(text)
            pdf.savefig(fig)


def export_timeline(source, png_dir=None, svg_dir=None, gif=None, pdf=None, *, lang: str = "en",
                    duration_ms: int = 1800, dpi: float = 100) -> dict[str, list[Path]]:
    """Write a lab's (or a timeline's) steps as PNG and/or SVG files, a GIF and/or a PDF.

    Returns the paths written, by kind.  File names are ``step-01.png``, ``step-02.png``...

    >>> import tempfile, pathlib
    >>> from simlab.views._samples import veth_pair
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> out = export_timeline(veth_pair(), gif=d / "veth.gif")
    >>> out["gif"][0].read_bytes()[:6]
    b'GIF89a'
    """
    fs = _frames(source)
    if not fs:
        raise ValueError("the timeline has no steps to export")
    written: dict[str, list[Path]] = {"png": [], "svg": [], "gif": [], "pdf": []}
    digits = max(2, len(str(len(fs))))
    if png_dir is not None or svg_dir is not None or gif is not None:
        scene = _scene(fs, lang, dpi=dpi)
        pngs = []
        for d in (png_dir, svg_dir):
            if d is not None:
                Path(d).mkdir(parents=True, exist_ok=True)
        for i in range(len(fs)):
            _show(scene, fs, i, lang)
            name = f"step-{i + 1:0{digits}d}"
            if png_dir is not None or gif is not None:
                png = scene.png()
                pngs.append(png)
                if png_dir is not None:
                    p = Path(png_dir) / f"{name}.png"
                    p.write_bytes(png)
                    written["png"].append(p)
            if svg_dir is not None:
                p = Path(svg_dir) / f"{name}.svg"
                p.write_bytes(_svg(scene))
                written["svg"].append(p)
        if gif is not None:
            p = Path(gif)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(gif_bytes(pngs, duration_ms=duration_ms))
            written["gif"].append(p)
    if pdf is not None:
        p = Path(pdf)
        p.parent.mkdir(parents=True, exist_ok=True)
        _pdf(fs, p, lang)
        written["pdf"].append(p)
    return written


def export_html(source, path: str | os.PathLike, *, lang: str | None = None,
                title: str | None = None, presenter: bool = False) -> Path:
    """Write a lab's (or a timeline's) steps as one self-contained HTML file.

    The file steps through the timeline and plays each ping's packet in any browser,
    offline, with no Python (see :mod:`simlab.views.page`).

    >>> import tempfile, pathlib
    >>> from simlab.views._samples import veth_pair
    >>> p = export_html(veth_pair(), pathlib.Path(tempfile.mkdtemp()) / "veth.html")
    >>> p.read_text().count('data-simlab') > 0
    True
    """
    fs = _frames(source)
    if not fs:
        raise ValueError("the timeline has no steps to export")
    lang = lang or get_language()
    meta = getattr(getattr(source, "timeline", source), "meta", None) or {}
    title = title or f"simlab: {meta.get('scenario') or 'timeline'}"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(scene(None, fs=fs, lang=lang), title=title, presenter=presenter),
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- CLI
def add_export_parser(subparsers):
    """Add ``export`` to an argparse ``subparsers``; the parsed args call :func:`run_export`.

    The lead's ``simlab/cli.py`` does ``add_export_parser(sub)`` and then
    ``return args.func(args)``.
    """
    p = subparsers.add_parser(
        "export",
        help="write a scenario's steps as PNG/SVG files, an animated GIF or a PDF handout",
        description="Run SCENARIO on the model and write its steps as pictures.")
    p.add_argument("scenario", help="a name from `simlab.scenarios.names()`, e.g. veth-basics")
    p.add_argument("--gif", metavar="FILE", help="animated GIF, one frame per step")
    p.add_argument("--pdf", metavar="FILE",
                   help="handout: one page per step with its why and commands")
    p.add_argument("--png", metavar="DIR", help="one PNG per step (step-01.png ...)")
    p.add_argument("--svg", metavar="DIR", help="one SVG per step")
    p.add_argument("--sh", metavar="FILE",
                   help="a shell script of the real ip/bridge/iptables/sysctl commands that "
                        "rebuilds the lab on a Linux machine")
    p.add_argument("--html", metavar="FILE",
                   help="one self-contained page that steps and plays packets offline")
    p.add_argument("--ping", metavar="NS:DST", action="append", default=[],
                   help="after the scenario, ping DST from namespace NS (a step whose packet "
                        "the HTML page plays); repeatable")
    p.add_argument("--lang", choices=("en", "ja"), default=None,
                   help="language of titles and labels")
    p.add_argument("--backend", choices=("model", "kernel", "auto"), default="model",
                   help="where to run the scenario (default: model)")
    p.set_defaults(func=run_export, _export_parser=p)
    return p


def run_export(args) -> int:
    """Carry out ``simlab export`` (see :func:`add_export_parser`); return the exit status."""
    if not (args.gif or args.pdf or args.png or args.svg or getattr(args, "html", None)
            or getattr(args, "sh", None)):
        parser = getattr(args, "_export_parser", None)
        msg = ("nothing to write: give --gif FILE, --pdf FILE, --png DIR, --svg DIR, --html FILE "
               "or --sh FILE")
        if parser is not None:
            parser.error(msg)
        raise SystemExit(f"simlab export: {msg}")
    lang = args.lang
    if lang is None:
        lang = get_language()
    try:
        scenarios.get(args.scenario)
    except KeyError as err:
        raise SystemExit(f"simlab export: {err.args[0]}") from None
    pings = []
    for spec in getattr(args, "ping", None) or []:
        ns, sep, dst = spec.rpartition(":")
        if not sep or not dst:
            raise SystemExit(f"simlab export: --ping wants NS:DST (\"\" for the node: "
                             f"--ping :10.0.0.1), not {spec!r}")
        pings.append((ns, dst))
    lab = scenarios.run(args.scenario, backend=args.backend)
    try:
        for ns, dst in pings:
            try:
                lab.ping(ns, dst)
            except Exception as err:  # a NetError says what is wrong (no such netns...)
                raise SystemExit(f"simlab export: --ping {ns}:{dst}: {err}") from None
        written = export_timeline(lab.timeline, png_dir=args.png, svg_dir=args.svg, gif=args.gif,
                                  pdf=args.pdf, lang=lang)
        if getattr(args, "sh", None):
            path = Path(args.sh)
            path.write_text(script(lab.timeline, name=args.scenario, file=path.name, lang=lang))
            path.chmod(0o755)
            written["sh"] = [path]
        if getattr(args, "html", None):
            lab.timeline.meta.setdefault("scenario", args.scenario)
            written["html"] = [export_html(lab.timeline, args.html, lang=lang,
                                           title=f"simlab: {args.scenario}")]
    finally:
        lab.close()
    for kind, paths in written.items():
        if paths:
            where = paths[0].parent if kind in ("png", "svg") else paths[0]
            print(f"{kind}: {where}" + (f" ({len(paths)} files)" if kind in ("png", "svg") else ""))
    return 0
