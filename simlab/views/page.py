"""A scene as one self-contained HTML page: the browser code, its CSS and the data inline.

The page needs no network and no Python: the same ``scene.js`` the Jupyter widget runs
(its ``export`` lines dropped, so it is a classic script that also runs from ``file://``)
draws and steps the scene and plays its packets, with the same ``data-simlab`` hooks.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

from .scene import scene_json

__all__ = ["page", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"


def _script() -> str:
    code = (STATIC / "scene.js").read_text(encoding="utf-8")
    kept = [ln for ln in code.splitlines() if not ln.startswith("export ")]
    return "\n".join(kept).replace("</script", "<\\/script")


def page(sc: Mapping, *, title: str = "simlab", presenter: bool = False,
         step: int = 0) -> str:
    """The HTML text of a page showing scene ``sc`` (see the module rules).

    >>> from simlab.views._samples import veth_pair
    >>> from simlab.views.scene import scene
    >>> text = page(scene(veth_pair()))
    >>> 'data-simlab' in text, 'src="http' in text or 'href="http' in text
    (True, False)
    """
    css = (STATIC / "scene.css").read_text(encoding="utf-8")
    opts = json.dumps({"presenter": bool(presenter), "step": int(step)})
    return f"""<!DOCTYPE html>
<html lang="{html.escape(str(sc.get("lang", "en")))}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="simlab">
<title>{html.escape(title)}</title>
<style>
body {{ margin: 16px; background: #fff; }}
h1 {{ font: 600 20px sans-serif; margin: 0 0 8px; }}
{css}
</style>
</head>
<body>
{f"<h1>{html.escape(title)}</h1>" if title else ""}
<div id="simlab"></div>
<script type="application/json" id="simlab-scene">{scene_json(sc)}</script>
<script>
{_script()}
window.simlab = mount(document.getElementById("simlab"),
  JSON.parse(document.getElementById("simlab-scene").textContent), {opts});
</script>
</body>
</html>
"""
