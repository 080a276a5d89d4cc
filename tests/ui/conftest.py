"""Browser tests: one JupyterLab server and one chromium shared by the whole session.

tests/conftest.py marks everything here `ui` and skips it (or fails it under SIMLAB_REQUIRE_UI=1)
before these fixtures run when /usr/bin/chromium or playwright is missing.
"""

from __future__ import annotations

import pytest
from labdriver import chromium_browser, lab_server


@pytest.fixture(scope="session")
def lab():
    """A running `jupyter lab` rooted at the repository (stopped at the end of the session)."""
    with lab_server() as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    """Playwright Browser driving Debian's /usr/bin/chromium."""
    with chromium_browser() as b:
        yield b
