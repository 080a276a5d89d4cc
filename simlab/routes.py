"""Routes through the notebooks: a 60-minute and a 90-minute workshop (issue 16).

A route is data: for each notebook, in order, the sections it takes and the minutes each
gets.  A section is a notebook's ``## N. ...`` heading and the cells under it, up to the next
``## `` heading; the cells before the first numbered heading (the header, the story, the
setup cell) and the clean-up are always taken.  Everything not listed is optional.

- ``00_start_here`` and the README show :func:`table` (the same text in both places);
- each section's heading cell carries the marker :func:`marker` (``Route: 60 · 90 min``),
  so a trainer sees in the notebook which sections a route takes;
- tests/test_routes.py runs every route's cells, in the stated order, on the model, and
  checks each section stays within its minutes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Leg", "ROUTES", "minutes", "table", "marker", "sections_of", "route_cells",
           "NOTEBOOKS"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class Leg:
    """One notebook of a route: the numbered sections it takes and the minutes of each."""

    notebook: str
    sections: tuple[tuple[int, int], ...]  # (section number, minutes), in order

    @property
    def minutes(self) -> int:
        return sum(m for _, m in self.sections)


#: route name (its minutes) -> legs in order
ROUTES: dict[int, tuple[Leg, ...]] = {
    60: (
        Leg("00_start_here", ((2, 2), (3, 3))),
        Leg("01_namespaces_and_veth", ((1, 4), (2, 4), (3, 4), (4, 5), (5, 4), (6, 4))),
        Leg("02_docker_network_modes", ((1, 4), (2, 3), (3, 8))),
        Leg("03_kubernetes_and_cni", ((1, 5), (2, 5), (3, 5))),
    ),
    90: (
        Leg("00_start_here", ((2, 2), (3, 3))),
        Leg("01_namespaces_and_veth", ((1, 4), (2, 4), (3, 4), (4, 5), (5, 4), (6, 4))),
        Leg("02_docker_network_modes", ((1, 4), (2, 3), (3, 8), (4, 3), (5, 2), (6, 2))),
        Leg("03_kubernetes_and_cni", ((1, 5), (2, 5), (3, 5), (4, 7), (5, 3))),
        Leg("04_write_your_own_cni_plugin", ((1, 2), (2, 5), (3, 6))),
    ),
}


def minutes(route: int) -> int:
    """The minutes a route's sections add up to (equal to its name)."""
    return sum(leg.minutes for leg in ROUTES[route])


def marker(notebook: str, section: int, lang: str = "en") -> str:
    """The line a section's heading cell carries: the routes that take it, or "optional".

    >>> marker("03_kubernetes_and_cni", 4)
    'Route: 90 min (7 min) · optional in 60 min'
    >>> marker("03_kubernetes_and_cni", 4, "ja")
    'コース：90 分（7 分）・60 分では省略可'
    """
    taken = [(r, m) for r, legs in sorted(ROUTES.items()) for leg in legs
             if leg.notebook == notebook for s, m in leg.sections if s == section]
    skipped = [r for r in sorted(ROUTES) if r not in {t for t, _ in taken}]
    if lang == "ja":
        parts = [f"{r} 分（{m} 分）" for r, m in taken]
        if not taken:
            return "コース：省略可（" + "・".join(f"{r} 分" for r in skipped) + "）"
        rest = ["・".join(f"{r} 分" for r in skipped) + "では省略可"] if skipped else []
        return "コース：" + "・".join(parts + rest)
    parts = [f"{r} min ({m} min)" for r, m in taken]
    if not taken:
        return "Route: optional (" + " and ".join(f"{r} min" for r in skipped) + ")"
    rest = ["optional in " + " and ".join(f"{r} min" for r in skipped)] if skipped else []
    return "Route: " + " · ".join(parts + rest)


def table(lang: str = "en") -> str:
    """Both routes as a markdown table: notebook, sections and minutes."""
    head = ("| notebook | 60 min | 90 min |\n|---|---|---|" if lang == "en" else
            "| ノートブック | 60 分コース | 90 分コース |\n|---|---|---|")
    names = []
    for legs in ROUTES.values():
        for leg in legs:
            if leg.notebook not in names:
                names.append(leg.notebook)
    unit = "min" if lang == "en" else "分"
    rows = [head]
    for name in names:
        cols = []
        for route in sorted(ROUTES):
            leg = next((g for g in ROUTES[route] if g.notebook == name), None)
            if leg is None:
                cols.append("—")
            else:
                if lang == "en":
                    secs = ", ".join(f"§{s}" for s, _ in leg.sections)
                    cols.append(f"{secs} ({leg.minutes} {unit})")
                else:  # Japanese punctuation is full-width
                    secs = "、".join(f"§{s}" for s, _ in leg.sections)
                    cols.append(f"{secs}（{leg.minutes} {unit}）")
        rows.append(f"| `{name}` | " + " | ".join(cols) + " |")
    rows.append("| " + ("total" if lang == "en" else "合計") + " | "
                + " | ".join(f"{minutes(r)} {unit}" for r in sorted(ROUTES)) + " |")
    return "\n".join(rows)


# ---------------------------------------------------------------- the cells of a route
_NUMBERED = re.compile(r"^## (\d+)\. ")
_CLEANUP = ("## Clean up", "## 後片付け")


def sections_of(nb: dict) -> list[tuple[str | int, list[int]]]:
    """A notebook's cells grouped by section: ``"intro"``, 1, 2, ..., ``"cleanup"``.

    A ``## `` heading that is not numbered continues the section before it (the intro when
    no numbered heading came yet), except the clean-up.
    """
    out: list[tuple[str | int, list[int]]] = [("intro", [])]
    for i, cell in enumerate(nb["cells"]):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            m = _NUMBERED.match(src)
            if m:
                out.append((int(m.group(1)), []))
            elif src.startswith(_CLEANUP):
                out.append(("cleanup", []))
        out[-1][1].append(i)
    return out


def route_cells(route: int, lang: str = "en") -> list[tuple[str, str | int, int, list[dict]]]:
    """Each notebook section a route takes, in order: (notebook, section, minutes, cells).

    The intro (header and setup cell) and the clean-up of each notebook come with it, at
    no minutes of their own.
    """
    out = []
    for leg in ROUTES[route]:
        path = NOTEBOOKS / (f"{leg.notebook}.ipynb" if lang == "en" else f"ja/{leg.notebook}.ipynb")
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = dict(sections_of(nb))
        missing = [s for s, _ in leg.sections if s not in found]
        if missing:
            raise ValueError(f"{leg.notebook} has no section {missing}: update simlab/routes.py")
        order = [("intro", 0)] + list(leg.sections) + [("cleanup", 0)]
        for sec, mins in order:
            if sec in found:
                out.append((leg.notebook, sec, mins, [nb["cells"][i] for i in found[sec]]))
    return out
