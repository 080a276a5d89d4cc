"""What the trainer deck (notebooks/99_trainer_deck) shows on its slides, sized for a room.

Rules (issue 16: a deck a room can read at 1280x720 in jupyterlab-rise):

- RISE shows no ipywidgets, so a slide's picture is the self-contained page of
  :func:`simlab.views.page.page` (the browser SVG, labels 20 px and more in presenter mode)
  in an iframe whose height fits under a slide's heading: :func:`picture`.
- Command output is shown with the talk's key token marked (:func:`show`): an HTML ``<pre>``
  the deck's CSS (notebooks/99_trainer_deck.css) sizes like code.
- Each section of the talk starts from a fresh lab (:func:`fresh`), so interfaces made for
  one demo never show up on a later slide.
- If the demo machine fails, ``python -m simlab.deck --html FILE`` writes the whole deck,
  run on the model, as one HTML file that needs no kernel (:func:`fallback_html`).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

from .lab import Lab
from .views.page import page
from .views.scene import scene
from .views.story import frames

__all__ = ["fresh", "show", "picture", "path", "fallback_html", "main", "PICTURE_PX"]

#: The picture's height on a 1280x720 slide: what is left under a heading and a code line.
PICTURE_PX = 420


def fresh(lab=None):
    """Close ``lab`` (if any) and return a new one on the backend ``SIMLAB_BACKEND`` asks for."""
    if lab is not None:
        lab.close()
    return Lab(backend=os.environ.get("SIMLAB_BACKEND", "auto"))


def show(text: str, *tokens: str, lines: Iterable[int] | None = None, keep: str | None = None):
    """Command output as the slide shows it: ``tokens`` (regular expressions) marked.

    ``lines`` keeps only those line numbers (0-based) of ``text``, for a slide that needs a
    few lines of a long output; a kept line's gap is shown as ``…``.  ``keep`` (a regular
    expression) keeps the lines it matches and the indented lines under each (an interface of
    `ip link`, whatever its position).
    """
    from IPython.display import HTML

    rows = text.rstrip("\n").split("\n")
    if keep is not None:
        found, inside = [], False
        for i, row in enumerate(rows):
            inside = bool(re.search(keep, row)) or (inside and row.startswith(" "))
            if inside:
                found.append(i)
        lines = found
    if lines is not None:
        keep, out, last = sorted(set(lines)), [], -1
        for i in keep:
            if i >= len(rows):
                continue
            if i != last + 1:
                out.append("…")
            out.append(rows[i])
            last = i
        if last != len(rows) - 1:
            out.append("…")
        rows = out
    text = "\n".join(rows)
    pattern = re.compile("|".join(f"(?:{t})" for t in tokens), re.M) if tokens else None
    body, at = [], 0
    for m in pattern.finditer(text) if pattern else ():
        if m.end() > m.start():
            body += [html.escape(text[at:m.start()]), f"<mark>{html.escape(m.group())}</mark>"]
            at = m.end()
    body.append(html.escape(text[at:]))
    return HTML(f'<pre class="simlab-deck-out">{"".join(body)}</pre>')


def picture(source, *, since: int | None = None, lang: str = "en", height: int = PICTURE_PX,
            full: bool = False, whole: bool = False, packet: bool = False):
    """The lab's (or timeline's) last step as the browser picture, large, in an iframe.

    ``since``: show the steps from this index on (default: the whole timeline), so First/Back
    go back to where the slide began.  Without ``full`` the page shows the picture and its
    buttons only (the compact page); with it, also the step's text and the packet's events.
    ``whole``: the whole lab in view (labels that have no room hide); by default the page
    zooms to what the step changed.  ``packet``: for a step that sent a packet (a ping), the
    view starts at the sender, at the readable zoom, and moves with the packet as it goes hop
    by hop: a whole path fits a slide only with labels too small for a room.
    """
    fs = frames(source)
    if not fs:
        raise ValueError("the timeline has no steps yet: make some (lab.ip(...)) and try again")
    if since is not None:
        fs = fs[since:]
    last = len(fs) - 1
    # The page opens at step 0 and then shows the last step: a page opened at a later step
    # draws only the first step's items (scene.js load(); reported to the pictures' owner).
    doc = page(scene(None, fs=fs, lang=lang), title="", presenter=True, step=0)
    opts = json.dumps({"presenter": True, "step": 0})
    if opts not in doc:  # the page's options are the contract this relies on
        raise RuntimeError("simlab.views.page.page no longer writes its options as JSON")
    if not full:
        doc = doc.replace(opts, json.dumps({"presenter": True, "step": 0, "compact": True}))
    script = f"window.simlab.show({last});window.simlab.fit({'true' if whole else 'false'});"
    if packet:
        script += _FOLLOW
    doc = doc.replace("</body>", f"<script>{script}</script>\n</body>")
    return _frame(doc, height)


#: The page's picture moves its view with the packet: each hop's item is kept away from the
#: edges (centred when it would leave the view), at the same zoom.  It wraps the picture's
#: ``setHop``, which the hop buttons and Play packet call.
_FOLLOW = """
(() => {
  const s = window.simlab;
  if (!s || !s.walk || !s.walk.frames.length) return;
  const hop = s.setHop.bind(s);
  const follow = (i) => {
    const f = s.walk.frames[Math.max(0, Math.min(i, s.walk.frames.length - 1))];
    const a = f && s.items.get(f.at);
    if (!a || !s.view) return;
    const [x, y] = s.center(a), v = s.view, m = 0.2;
    const out = x < v.x + v.w * m || x > v.x + v.w * (1 - m)
      || y < v.y + v.h * m || y > v.y + v.h * (1 - m);
    if (out) {
      s.zoomTo(s.width() / v.w, [x, y]);
      s.userView = true; // a later resize keeps this view instead of fitting again
      s.applyView();
    }
  };
  s.setHop = (i) => { follow(i); hop(i); };
  s.setHop(0);
})();
"""


def path(walk, lab=None) -> str:
    """A walk's path, one place a line (``centos1 eth0`` → ``node cni0`` → …), request only.

    Namespaces are named as the learner knows them: a pod's or a container's name (from
    ``lab``), ``node`` for the lab's own, else the key.
    """
    names = {"": "node"}
    if lab is not None:
        try:
            names.update({c.netns: c.name for c in lab.docker.containers()})
            names.update({p.netns: p.name for p in lab.k8s.pods})  # not its containers' names
        except Exception:  # noqa: BLE001 - a lab without docker or kubelet: keys it is
            pass
    places = [f"{names.get(h.netns, h.netns)} {h.dev}" if h.dev else names.get(h.netns, h.netns)
              for h in walk.hops]
    return "\n→ ".join(dict.fromkeys(places))


def _frame(doc: str, height: int):
    from IPython.display import HTML

    # in a div: IPython warns about an HTML output that starts with <iframe
    return HTML(f'<div class="simlab-deck-picture"><iframe class="simlab-deck-frame" '
                f'style="width:100%;height:{height}px;border:0" '
                f'srcdoc="{html.escape(doc, quote=True)}"></iframe></div>')


# ---------------------------------------------------------------- the fallback
DECK = Path(__file__).resolve().parent.parent / "notebooks"


def fallback_html(path: str | os.PathLike, *, lang: str = "en", timeout: int = 300) -> Path:
    """Run the deck on the model and write it, with every output, as one HTML file.

    Needs the notebooks of a checkout, nbclient and nbconvert (the ``lab`` and ``test``
    extras).  The pictures are inline pages, so the file needs no kernel and no network.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    src = DECK / ("99_trainer_deck.ipynb" if lang == "en" else "ja/99_trainer_deck.ipynb")
    if not src.exists():
        raise FileNotFoundError(f"{src} not found: run this from a simlab checkout")
    nb = nbformat.read(src, as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") != "notes"]
    old = os.environ.get("SIMLAB_BACKEND")
    os.environ["SIMLAB_BACKEND"] = "model"  # the kernel inherits it: same output everywhere
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(src.parent)}}).execute()
    finally:
        if old is None:
            os.environ.pop("SIMLAB_BACKEND", None)
        else:
            os.environ["SIMLAB_BACKEND"] = old
    body, _ = HTMLExporter(exclude_input_prompt=True, exclude_output_prompt=True).from_notebook_node(nb)
    # the template's CDN scripts (MathJax, require.js): the deck needs neither, and offline
    # they only wait for a network that is not there
    body = re.sub(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>', "", body)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simlab.deck",
        description="Write the trainer deck, run on the model, as one HTML file (a fallback "
                    "when the demo machine fails).")
    parser.add_argument("--html", metavar="FILE", required=True, help="the file to write")
    parser.add_argument("--lang", choices=("en", "ja"), default="en")
    args = parser.parse_args(argv)
    print(fallback_html(args.html, lang=args.lang))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
