"""Static checks of the committed notebooks.

Running them top to bottom is nbmake's job: `make test` passes `--nbmake notebooks` to the same
pytest run (tests/conftest.py's nbclient stall workaround then applies to them too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_start_here_exists():
    assert (NOTEBOOK_DIR / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_shape(path: Path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)

    # A kernelspec other than python3 fails on machines that never registered it; nbmake and
    # `make lab` both rely on the venv's built-in python3 kernel.
    kernelspec = nb.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec {kernelspec!r}"

    assert nb.cells, f"{path.name} has no cells"
    first = nb.cells[0]
    assert first.cell_type == "markdown", f"{path.name} must begin with a markdown cell"
    assert first.source.strip(), f"{path.name}: the first markdown cell is empty"
