"""JupyterLab in a real browser: open notebooks, run them, click widgets, take screenshots.

Screenshots go to test-artifacts/screenshots/ (gitignored). Run with `make test-ui`.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from labdriver import ARTIFACTS, error_outputs, next_step, open_notebook, screenshot
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import simlab

pytestmark = pytest.mark.ui


def test_start_here_runs_in_the_browser(lab, browser):
    with open_notebook("notebooks/00_start_here.ipynb", server=lab, browser=browser) as page:
        out = page.locator(".jp-OutputArea-output", has_text=f"simlab {simlab.__version__}")
        out.first.wait_for(state="visible")
        assert error_outputs(page) == []
        screenshot(page, "00_start_here")


# A stand-in for simlab's stepper, with the CSS hooks the real one must add:
# .simlab-next (button), .simlab-step-title (label), .simlab-figure (Image widget).
PROBE_CODE = """\
import io
import ipywidgets as W
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from simlab.fonts import setup_japanese_fonts, strict_glyphs_from_env

strict_glyphs_from_env()
setup_japanese_fonts()
steps = ["1/3 ネームスペースを作る", "2/3 veth ペアを作る", "3/3 ブリッジにつなぐ"]

def png(i):
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.bar(range(3), [j <= i for j in range(3)])
    ax.set_title(steps[i])
    buf = io.BytesIO(); fig.savefig(buf, format="png"); plt.close(fig)
    return buf.getvalue()

state = {"i": 0}
title = W.Label(steps[0]); title.add_class("simlab-step-title")
image = W.Image(value=png(0), format="png", layout=W.Layout(width="480px"))
image.add_class("simlab-figure")
nxt = W.Button(description="next"); nxt.add_class("simlab-next")

def on_next(_):
    state["i"] = min(state["i"] + 1, len(steps) - 1)
    title.value = steps[state["i"]]
    image.value = png(state["i"])

nxt.on_click(on_next)
W.VBox([title, image, nxt])
"""


def test_stepper_hooks_next_step(lab, browser):
    """next_step() clicks .simlab-next and sees the title and the figure change."""
    nb = new_notebook(
        cells=[new_markdown_cell("# stepper probe"), new_code_cell(PROBE_CODE)],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    path = ARTIFACTS / "ui" / "stepper_probe.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)

    with open_notebook(path, server=lab, browser=browser) as page:
        page.locator(".simlab-step-title").first.wait_for(state="visible")
        assert page.locator(".simlab-step-title").first.inner_text() == "1/3 ネームスペースを作る"
        screenshot(page, "stepper_probe_1", page.locator(".widget-vbox").first)
        assert next_step(page) == "2/3 veth ペアを作る"
        assert next_step(page) == "3/3 ブリッジにつなぐ"
        src = page.locator("img.simlab-figure").first.get_attribute("src")
        assert re.match(r"(blob:|data:image/png)", src or ""), src
        screenshot(page, "stepper_probe_3", page.locator(".widget-vbox").first)
        assert error_outputs(page) == []
