"""The 60- and 90-minute routes (simlab/routes.py): they add up, they are shown where the
trainer looks, and their cells run in the stated order on the model within their minutes.

The run test takes only the route's cells of each notebook (its intro and setup, the
sections the route lists, the clean-up), in one kernel per notebook, so a section that
needs a skipped one fails here.  nbclient with the stall workaround of tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from simlab import routes

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("route", sorted(routes.ROUTES))
def test_a_route_adds_up_to_its_name(route):
    assert routes.minutes(route) == route


def test_routes_are_shown_in_00_start_here_and_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert routes.table("en") in readme
    for lang, path in (("en", "00_start_here.ipynb"), ("ja", "ja/00_start_here.ipynb")):
        nb = json.loads((REPO / "notebooks" / path).read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"])
        assert routes.table(lang) in text, path


@pytest.mark.parametrize("stem", ["00_start_here", "01_namespaces_and_veth",
                                  "04_write_your_own_cni_plugin"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sections_carry_their_route_marker(stem, lang):
    path = REPO / "notebooks" / (f"{stem}.ipynb" if lang == "en" else f"ja/{stem}.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    for sec, cells in routes.sections_of(nb):
        if isinstance(sec, int):
            head = "".join(nb["cells"][cells[0]]["source"])
            assert routes.marker(stem, sec, lang) in head, f"{path.name} section {sec}"


def test_marker_says_optional_for_a_section_no_route_takes():
    assert routes.marker("04_write_your_own_cni_plugin", 5) == "Route: optional (60 min and 90 min)"
    assert "省略可" in routes.marker("04_write_your_own_cni_plugin", 5, "ja")


def _run(route: int, lang: str) -> list[str]:
    """Run the route; return the sections that errored or overran (empty: all good)."""
    bad, timing = [], []
    by_nb: dict[str, list] = {}
    for stem, sec, mins, cells in routes.route_cells(route, lang):
        by_nb.setdefault(stem, []).append((sec, mins, cells))
    folder = REPO / "notebooks" / ("" if lang == "en" else "ja")
    for stem, secs in by_nb.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        spans = []
        for sec, mins, cells in secs:
            start = len(nb.cells)
            nb.cells += [nbformat.from_dict({**c, "source": "".join(c["source"])}) for c in cells]
            spans.append((sec, mins, start, len(nb.cells)))
        client = NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(folder)}})
        with client.setup_kernel():
            for sec, mins, a, b in spans:
                t0 = time.monotonic()
                for i in range(a, b):
                    if nb.cells[i].cell_type == "code":
                        client.execute_cell(nb.cells[i], i)
                took = time.monotonic() - t0
                timing.append(f"{stem} {sec}: {took:.1f} s")
                errors = [o for i in range(a, b) for o in nb.cells[i].get("outputs", [])
                          if o.get("output_type") == "error"]
                if errors:
                    bad.append(f"{stem} section {sec}: {errors[0]['ename']}: {errors[0]['evalue']}")
                if mins and took > mins * 60:
                    bad.append(f"{stem} section {sec}: {took:.0f} s > {mins} min")
    print("\n".join(timing))
    return bad


@pytest.mark.timeout(900)
@pytest.mark.parametrize("route", sorted(routes.ROUTES))
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_route_runs_in_order_within_its_minutes(route, lang, monkeypatch):
    monkeypatch.setenv("SIMLAB_BACKEND", "model")  # the kernel inherits it
    monkeypatch.setenv("PYTHONPATH", str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    assert _run(route, lang) == []
