"""simlab: an interactive simulator and tutorial for Linux container networking.

The public API the notebooks use::

    import simlab
    lab = simlab.Lab()            # the kernel when root, else the model
    lab.ip("netns add red")
    print(lab.ip("-n red a"))

Heavy dependencies (pyroute2, matplotlib, ipywidgets) are imported only by
the functions that need them, so ``import simlab`` works anywhere.
"""

from .lab import Lab, Result
from .model import NetError, NetState, ROOT, UsageError
from .timeline import Step, Timeline

__version__ = "0.1.0"

__all__ = ["Lab", "Result", "NetError", "UsageError", "NetState", "ROOT", "Step", "Timeline",
           "__version__"]
