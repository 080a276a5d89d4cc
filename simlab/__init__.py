"""simlab: an interactive simulator and tutorial for Linux container networking.

The public API the notebooks use::

    import simlab
    lab = simlab.Lab()            # the kernel when root, else the model
    lab.ip("netns add red")
    print(lab.ip("-n red a"))

Heavy dependencies (pyroute2, matplotlib, ipywidgets) are imported only by
the functions that need them, so ``import simlab`` works anywhere.
"""

import importlib

#: The public names and the modules that hold them, imported on first use (PEP 562):
#: a CNI plugin executable imports ``simlab.cni...``, which runs this file first, and
#: must not pay for the lab, the scenarios, the views and their dependencies.
_LAZY = {
    "scenarios": ".scenarios", "widgets": ".widgets", "doctor": ".cli",
    "export_timeline": ".export", "export_html": ".export", "get_language": ".i18n", "set_language": ".i18n",
    "Lab": ".lab", "Result": ".lab", "NetError": ".model", "NetState": ".model",
    "ROOT": ".model", "UsageError": ".model", "reach": ".model.forward", "Step": ".timeline",
    "Timeline": ".timeline", "replay": ".timeline_io", "draw": ".views",
}
_MODULES = {"scenarios", "widgets"}


def __getattr__(name: str):
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'simlab' has no attribute {name!r}")
    module = importlib.import_module(where, __name__)
    value = module if name in _MODULES else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = ["Lab", "Result", "NetError", "UsageError", "NetState", "ROOT", "Step", "Timeline",
           "doctor", "draw", "export_html", "export_timeline", "get_language", "reach", "replay",
           "scenarios", "set_language", "widgets", "__version__"]
