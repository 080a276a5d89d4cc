"""simlab: an interactive simulator and tutorial for Linux container networking.

The public API the notebooks use::

    import simlab
    lab = simlab.Lab()            # the kernel when root, else the model
    lab.ip("netns add red")
    print(lab.ip("-n red a"))

Heavy dependencies (pyroute2, matplotlib, ipywidgets) are imported only by
the functions that need them, so ``import simlab`` works anywhere.
"""

from . import scenarios, widgets
from .cli import doctor
from .export import export_html, export_timeline
from .i18n import get_language, set_language
from .lab import Lab, Result
from .model import NetError, NetState, ROOT, UsageError
from .model.forward import reach
from .timeline import Step, Timeline
from .timeline_io import replay
from .views import draw

__version__ = "0.1.0"

__all__ = ["Lab", "Result", "NetError", "UsageError", "NetState", "ROOT", "Step", "Timeline",
           "doctor", "draw", "export_html", "export_timeline", "get_language", "reach", "replay",
           "scenarios", "set_language", "widgets", "__version__"]
