"""pytest policy for the notebooks that nbmake runs (`make test`): the model backend.

The notebooks' setup cell reads ``SIMLAB_BACKEND`` (default ``auto``, which takes the kernel
when running as root).  Under ``make test`` they must run on the **model**, whatever the
machine, so their outputs and timings are the same everywhere; the kernel runs are
``tests/test_notebook_meta.py::test_notebook_runs_on_the_kernel_backend`` (marker ``kernel``).
``SIMLAB_BACKEND`` set by the caller wins (``SIMLAB_BACKEND=kernel make test``).

The kernel nbmake starts inherits this process's environment when the item runs, so the
variable is set around each notebook item only.
"""

from __future__ import annotations

import os

import pytest

_SAVED = "_simlab_saved_backend"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if not str(item.path).endswith(".ipynb"):
        return
    setattr(item, _SAVED, os.environ.get("SIMLAB_BACKEND"))
    os.environ.setdefault("SIMLAB_BACKEND", "model")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if not hasattr(item, _SAVED):
        return
    saved = getattr(item, _SAVED)
    if saved is None:
        os.environ.pop("SIMLAB_BACKEND", None)
    else:
        os.environ["SIMLAB_BACKEND"] = saved
