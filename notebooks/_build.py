"""Build the tutorial notebooks, English and Japanese, from one definition.

    .venv/bin/python notebooks/_build.py            # write notebooks/*.ipynb and notebooks/ja/*.ipynb
    .venv/bin/python notebooks/_build.py --check    # exit 1 if a committed notebook is stale

Each notebook is a list of cells in ``notebooks/_src/nb_*.py``.  A markdown cell holds its
English and its Japanese text side by side (:func:`md`); a code cell holds one source for both
languages (:func:`code`), so the two versions never drift.  The only language-dependent code is
the setup cell's ``LANG = "en"`` / ``LANG = "ja"`` (:data:`LANG_LINE`); code cells pass
``lang=LANG`` where simlab prints words.

Rules:

- outputs are never committed: the notebooks are written without outputs and execution counts;
- kernelspec ``python3`` (the venv's own kernel; see reference/jupyter.md section 5);
- cell ids are stable: ``<notebook>-<nn>`` in order, so a diff shows what moved;
- the first cell of every notebook says what it covers, how long it takes, and which backend it
  uses and how to switch (:func:`header`);
- a solution cell is tagged ``solution`` and starts collapsed (``jupyter.source_hidden``);
- slides (99_trainer_deck) carry ``slideshow.slide_type`` for jupyterlab-rise.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ja")
#: The placeholder for the one language-dependent line of code (the setup cell).
LANG_LINE = 'LANG = "@LANG@"'

#: notebook file stem -> module in notebooks/_src that defines ``cells()``
NOTEBOOKS = {
    "00_start_here": "nb_00_start_here",
    "01_namespaces_and_veth": "nb_01_namespaces_and_veth",
    "02_docker_network_modes": "nb_02_docker_network_modes",
    "03_kubernetes_and_cni": "nb_03_kubernetes_and_cni",
    "04_write_your_own_cni_plugin": "nb_04_write_your_own_cni_plugin",
    "99_trainer_deck": "nb_99_trainer_deck",
}

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python"}


@dataclass
class Cell:
    kind: str  # "markdown" or "code"
    en: str
    ja: str
    tags: tuple[str, ...] = ()
    slide: str | None = None  # "slide", "subslide", "fragment", "skip", "notes", "-"
    hidden: bool = False  # start with the source collapsed (solutions)
    metadata: dict = field(default_factory=dict)


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")


def md(en: str, ja: str, *, slide: str | None = None, tags: tuple[str, ...] = ()) -> Cell:
    """A markdown cell: the English and the Japanese text."""
    return Cell("markdown", _dedent(en), _dedent(ja), tags=tags, slide=slide)


def code(src: str, *, slide: str | None = None, tags: tuple[str, ...] = (),
         hidden: bool = False) -> Cell:
    """A code cell, the same in both languages."""
    s = _dedent(src)
    return Cell("code", s, s, tags=tags, slide=slide, hidden=hidden)


def solution(src: str) -> Cell:
    """A solution cell: tagged ``solution``, source collapsed until the learner opens it.

    It is marked by a first comment line, or, in a ``%%writefile`` cell of a script, by a
    comment right after the script's ``#!`` line (the magic and the shebang must come first).
    """
    body = _dedent(src)
    mark = "# Solution / 解答例"
    lines = body.split("\n")
    if lines[0].startswith("%%"):
        at = 2 if len(lines) > 1 and lines[1].startswith("#!") else 1
        body = "\n".join(lines[:at] + [mark] + lines[at:])
    else:
        body = mark + "\n" + body
    return code(body, tags=("solution",), hidden=True)


def reveal(q_en: str, a_en: str, q_ja: str, a_ja: str, *, label_en: str = "Predict, then reveal",
           label_ja: str = "予想してから答えを見る") -> Cell:
    """A "predict, then reveal" question: the answer in a collapsed ``<details>`` block."""
    def block(label: str, q: str, a: str, summary: str) -> str:
        return (f"**{label}:** {_dedent(q)}\n\n<details><summary>{summary}</summary>\n\n"
                f"{_dedent(a)}\n\n</details>")

    return Cell("markdown", block(label_en, q_en, a_en, "Answer"),
                block(label_ja, q_ja, a_ja, "答え"), tags=("predict",))


def task(title_en: str, body_en: str, title_ja: str, body_ja: str) -> Cell:
    """A task for the learner (their cell, the check and the solution follow)."""
    return Cell("markdown", f"### Task: {title_en}\n\n{_dedent(body_en)}",
                f"### 課題: {title_ja}\n\n{_dedent(body_ja)}", tags=("task",))


def header(title_en: str, title_ja: str, *, covers_en: str, covers_ja: str, minutes: int,
           backend_en: str = "", backend_ja: str = "") -> Cell:
    """The first cell of every notebook: what, how long, which backend and how to switch."""
    be_en = backend_en or (
        "Runs on either backend. The setup cell asks for `SIMLAB_BACKEND` (default `auto`): "
        "`auto` takes the **kernel** (real namespaces) when Jupyter runs as root, else the "
        "**model** (a simulation that needs no privileges), and `print(lab.why)` says which "
        "and why. To choose yourself, change it to `simlab.Lab(backend=\"model\")` or "
        "`simlab.Lab(backend=\"kernel\")`.")
    be_ja = backend_ja or (
        "どちらのバックエンドでも動きます。準備のセルは `SIMLAB_BACKEND`（既定は `auto`）を見ます。"
        "`auto` は Jupyter が root で動いていれば **kernel**（本物の名前空間）を、そうでなければ "
        "**model**（権限のいらないシミュレーション）を選び、`print(lab.why)` がどちらを選んだか、"
        "なぜかを表示します。自分で選ぶには `simlab.Lab(backend=\"model\")` または "
        "`simlab.Lab(backend=\"kernel\")` に書き換えてください。")
    en = (f"# {title_en}\n\n{_dedent(covers_en)}\n\n"
          f"* **Time:** about {minutes} minutes.\n* **Backend:** {be_en}\n"
          f"* 日本語版: [ja/@STEM@.ipynb](ja/@STEM@.ipynb)")
    ja = (f"# {title_ja}\n\n{_dedent(covers_ja)}\n\n"
          f"* **所要時間:** 約 {minutes} 分\n* **バックエンド:** {be_ja}\n"
          f"* English version: [../@STEM@.ipynb](../@STEM@.ipynb)")
    return Cell("markdown", en, ja, tags=("header",))


SETUP = f'''
import os

import simlab
import simlab.exercises as ex
import simlab.notebook
import simlab.widgets

{LANG_LINE}                       # simlab's messages: "en" or "ja"
simlab.notebook.install(lang=LANG)   # errors print what to do (a hint), not a long traceback
lab = simlab.Lab(backend=os.environ.get("SIMLAB_BACKEND", "auto"))
print(lab.why)
'''


def setup(extra: str = "") -> Cell:
    """The setup cell every notebook starts with (plus ``extra`` lines)."""
    return code(SETUP + ("\n" + _dedent(extra) if extra else ""), tags=("setup",))


def cleanup() -> list[Cell]:
    return [
        md("""
           ## Clean up

           On the kernel backend the lab's namespaces are real: `lab.close()` removes exactly what
           this notebook made (nothing else). On the model it forgets the state. The steppers
           above keep working: they show recorded snapshots.
           """,
           """
           ## 後片付け

           kernel バックエンドではラボの名前空間は本物です。`lab.close()` はこのノートブックが
           作ったものだけを消します（それ以外には触れません）。model では状態を捨てるだけです。
           上のステッパーは記録したスナップショットを表示するので、このあとも動きます。
           """),
        code("lab.close()", tags=("cleanup",)),
    ]


# ----------------------------------------------------------------------------- comments
def comment_spans(code_text: str) -> list[tuple[int, int]]:
    """Where each comment starts: ``(line number, column of its #)``, for Python and shell.

    A ``#`` starts a comment when it is outside a one-line string and starts a word (at the
    line's start or after a blank), as in the shell and in this repo's Python.  Lines are
    read one by one: a triple-quoted string holding a plugin's code is read as that code, so
    its comments count too.  Written by hand: ``tokenize`` stops at IPython's ``%%``/``!``
    lines and does not look inside strings.
    """
    spans = []
    for no, line in enumerate(code_text.split("\n")):
        quote, i = None, 0
        while i < len(line):
            ch = line[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = None
            elif line.startswith(("'''", '"""'), i):
                i += 2  # a triple quote opens or closes a multi-line string: read on as code
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
                spans.append((no, i))
                break
            i += 1
    return spans


def comments_of(code_text: str) -> list[str]:
    """Every comment's text, without its ``#`` and the blanks around it."""
    lines = code_text.split("\n")
    return [lines[no][col + 1:].strip() for no, col in comment_spans(code_text)]


def strip_comments(code_text: str) -> str:
    """The code without its comments (and the blanks before them): what must not change."""
    lines = code_text.split("\n")
    for no, col in comment_spans(code_text):
        lines[no] = lines[no][:col].rstrip()
    return "\n".join(lines)


def localize_comments(code_text: str, table: dict[str, str]) -> str:
    """``code_text`` with each comment found in ``table`` (English → Japanese) translated.

    Only comments change; a ``#!`` line and comments not in the table stay as they are.
    """
    lines = code_text.split("\n")
    for no, col in comment_spans(code_text):
        body = lines[no][col + 1:]
        new = table.get(body.strip())
        if new is not None and not body.startswith("!"):
            lines[no] = lines[no][:col] + "# " + new
    return "\n".join(lines)


# ----------------------------------------------------------------------------- punctuation
_JA_CHARS = "\u3040-\u30ff\u4e00-\u9fff\uff01-\uff5e"
#: What markdown must keep as written: code blocks, code spans, links' targets, HTML tags.
_KEEP = re.compile(r"```.*?```|`[^`\n]*`|\]\([^)\n]*\)|<[^>\n]*>", re.S)
_JA_COLON = re.compile(rf"(?<=[{_JA_CHARS}])(\**): ?|(?<=\S): (?=\**[{_JA_CHARS}])")
_JA_COMMA = re.compile(rf"(?<=[{_JA_CHARS}]), ?")
_JA_PARENS = re.compile(r"(?<![\]A-Za-z0-9_.])\(([^()\n`]*)\)")
_JA_MARKS = re.compile(rf"(?<=[{_JA_CHARS}])([!?])")


def fullwidth(text: str) -> str:
    """Japanese markdown with full-width punctuation where it touches Japanese text.

    ``課題: 壊れた所`` → ``課題：壊れた所``, ``要求 (R) と`` → ``要求（R）と``,
    ``**所要時間:**`` → ``**所要時間：**``; code, links' targets and HTML stay as written.
    """
    def ja_near(s: str, at: int, end: int) -> bool:
        before, after = s[max(0, at - 2):at], s[end:end + 2]
        return bool(re.search(f"[{_JA_CHARS}]", before + after))

    def parens(m: re.Match) -> str:
        s, inner = m.string, m.group(1)
        if not (ja_near(s, m.start(), m.end()) or re.search(f"[{_JA_CHARS}]", inner)):
            return m.group()
        return f"（{inner}）"

    def plain(s: str) -> str:
        s = _JA_COLON.sub(lambda m: (m.group(1) or "") + "：", s)
        s = _JA_COMMA.sub("、", s)
        s = _JA_MARKS.sub(lambda m: "！" if m.group(1) == "!" else "？", s)
        s = _JA_PARENS.sub(parens, s)
        # full-width parentheses carry their own space
        return re.sub(rf"（|） (?=[{_JA_CHARS}])", lambda m: m.group().strip(), s.replace(" （", "（"))

    kept: list[str] = []

    def hide(m: re.Match) -> str:  # a placeholder that is neither blank nor Japanese
        kept.append(m.group())
        return f"\0{len(kept) - 1}\0"

    return re.sub("\0(\\d+)\0", lambda m: kept[int(m.group(1))], plain(_KEEP.sub(hide, text)))


# ----------------------------------------------------------------------------- output
def to_notebook(stem: str, cells: list[Cell], lang: str) -> dict:
    from _comments_ja import COMMENTS_JA

    out = []
    for i, c in enumerate(cells):
        text = c.en if lang == "en" else c.ja
        if c.kind == "code":
            text = text.replace("@LANG@", lang)
            if lang == "ja":
                text = localize_comments(text, COMMENTS_JA)
        else:
            text = text.replace("@STEM@", stem)
            if lang == "ja":
                text = fullwidth(text)
        meta: dict = dict(c.metadata)
        if c.tags:
            meta["tags"] = list(c.tags)
        if c.slide:
            meta["slideshow"] = {"slide_type": c.slide}
        if c.hidden:
            meta["jupyter"] = {"source_hidden": True}
        cell = {"cell_type": c.kind, "id": f"{stem[:2]}-{i:02d}", "metadata": meta,
                "source": _source_lines(text)}
        if c.kind == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        out.append(cell)
    metadata = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO,
                "simlab": {"lang": lang, "generated_by": "notebooks/_build.py"}}
    if stem.startswith("99"):
        # top-aligned slides (center: false) leave room for the figures; scroll for the rest
        metadata["rise"] = {"scroll": True, "center": False, "enable_chalkboard": False}
    return {"cells": out, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _source_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def path_for(stem: str, lang: str) -> Path:
    return HERE / f"{stem}.ipynb" if lang == "en" else HERE / "ja" / f"{stem}.ipynb"


def build(only: list[str] | None = None) -> dict[Path, str]:
    """Every notebook's path and its JSON text (``only``: these stems)."""
    sys.path.insert(0, str(HERE / "_src"))
    sys.path.insert(0, str(HERE))
    try:
        out = {}
        for stem, module in NOTEBOOKS.items():
            if only and stem not in only and stem[:2] not in only:
                continue
            cells = importlib.import_module(module).cells()
            for lang in LANGS:
                nb = to_notebook(stem, cells, lang)
                out[path_for(stem, lang)] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        return out
    finally:
        sys.path.remove(str(HERE / "_src"))
        sys.path.remove(str(HERE))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a notebook differs from its definition")
    parser.add_argument("only", nargs="*", help="notebook stems (or their numbers) to build")
    args = parser.parse_args(argv)
    stale = []
    for path, text in build(args.only).items():
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    rel = [str(p.relative_to(HERE.parent)) for p in stale]
    if args.check:
        if stale:
            print("stale (run .venv/bin/python notebooks/_build.py):\n  " + "\n  ".join(rel))
            return 1
        print("notebooks are up to date")
        return 0
    print("wrote:\n  " + "\n  ".join(rel) if rel else "nothing changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
