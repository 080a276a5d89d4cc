"""Views: pure functions from snapshots and timelines to graphs, layouts and pictures.

- :func:`build` (graph.py): a snapshot as a networkx graph with stable node ids;
- :func:`frames` (story.py): a timeline as graphs, with each step's :class:`Diff`;
- :func:`compute` (layout.py): one layout for a whole timeline (nothing jumps);
- :func:`~simlab.views.picture.paint` (picture.py): what a picture shows, as plain data;
- :func:`draw` and :class:`Scene` (draw.py): the picture, the step's change in colour;
- :func:`ip_a` (ipa.py): `ip -n NS a` of a snapshot;
- :func:`~simlab.views.scene.scene` (scene.py): a timeline as plain JSON-able data (first
  snapshot, each step as a diff, badges, groups, show texts, ping walks) that the browser
  picture (static/scene.js, an anywidget) and the HTML page (page.py) draw;
- names.py: names first (a pod's name, ``eth0@if5``), shared by the browser and matplotlib.

Views never touch a backend.  matplotlib and networkx are imported inside the
functions that need them, so importing this package is cheap.
"""

from .diff import Diff, diff
from .draw import Scene, draw
from .graph import build, ctr_id, follow, if_id, initial_ids, ns_id
from .ipa import ip_a
from .layout import Layout, compute
from .story import Frame, frames

__all__ = ["Diff", "diff", "Scene", "draw", "build", "ctr_id", "follow", "if_id", "initial_ids",
           "ns_id", "ip_a", "Layout", "compute", "Frame", "frames"]
