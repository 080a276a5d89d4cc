"""Notebook 01's "find what is broken" task (issue 16, item 3): the fault cell as committed
builds a lab the checker rejects, with a hint in both languages that names the fault; a wrong
fix is still rejected; the notebook's solution passes.  Model backend (the checker reads a
snapshot; the kernel run of the whole notebook is test_notebook_meta's)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import simlab
import simlab.exercises as ex

NB = Path(__file__).resolve().parents[1] / "notebooks" / "01_namespaces_and_veth.ipynb"


def _cell(tag: str, after: int = 0, lang: str = "en") -> tuple[int, str]:
    nb = NB if lang == "en" else NB.parent / "ja" / NB.name
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    for i, c in enumerate(cells):
        if i >= after and tag in c["metadata"].get("tags", ()):
            return i, "".join(c["source"])
    raise AssertionError(f"no cell tagged {tag!r} in {NB.name}")


def _broken_lab(lang: str = "en"):
    lab = simlab.Lab(backend="model")
    _, src = _cell("fault", lang=lang)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src, {"lab": lab, "ex": ex})
    return lab, out.getvalue()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_broken_lab_fails_with_a_hint_naming_the_fault(lang):
    lab, printed = _broken_lab(lang)
    assert "100% packet loss" in printed  # what the learner sees first
    c = ex.check_connected(lab, "left", "right", lang=lang)
    assert not c.ok and c.problem == "down", str(c)
    assert "rv0" in c.hint and (("DOWN です" in c.hint) == (lang == "ja"))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_wrong_fix_is_still_broken_and_the_solution_passes(lang):
    lab, _ = _broken_lab(lang)
    lab.ip("-n left route add default dev lv0")  # a route does not bring the far end up
    lab.ip("-n left link set lv0 up")
    c = ex.check_connected(lab, "left", "right", lang=lang)
    assert c.problem == "down" and ex._is_ja(c.hint) == (lang == "ja")
    at, _ = _cell("fault", lang=lang)
    _, solution = _cell("solution", after=at, lang=lang)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(solution, {"lab": lab, "ex": ex, "LANG": lang})
    assert ex.check_connected(lab, "left", "right", lang=lang).ok
    assert "rv0 up" in solution
