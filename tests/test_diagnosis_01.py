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


def _cell(tag: str, after: int = 0) -> tuple[int, str]:
    cells = json.loads(NB.read_text(encoding="utf-8"))["cells"]
    for i, c in enumerate(cells):
        if i >= after and tag in c["metadata"].get("tags", ()):
            return i, "".join(c["source"])
    raise AssertionError(f"no cell tagged {tag!r} in {NB.name}")


def _broken_lab():
    lab = simlab.Lab(backend="model")
    _, src = _cell("fault")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(src, {"lab": lab, "ex": ex})
    return lab, out.getvalue()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_broken_lab_fails_with_a_hint_naming_the_fault(lang):
    lab, printed = _broken_lab()
    assert "100% packet loss" in printed  # what the learner sees first
    c = ex.check_connected(lab, "left", "right", lang=lang)
    assert not c.ok and c.problem == "down", str(c)
    assert "rv0" in c.hint and (("DOWN です" in c.hint) == (lang == "ja"))


def test_a_wrong_fix_is_still_broken_and_the_solution_passes():
    lab, _ = _broken_lab()
    lab.ip("-n left route add default dev lv0")  # a route does not bring the far end up
    lab.ip("-n left link set lv0 up")
    assert ex.check_connected(lab, "left", "right", lang="en").problem == "down"
    at, _ = _cell("fault")
    _, solution = _cell("solution", after=at)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(solution, {"lab": lab, "ex": ex, "LANG": "en"})
    assert ex.check_connected(lab, "left", "right", lang="en").ok
    assert "rv0 up" in solution
