"""Test-suite policy for every test, and for the notebooks nbmake runs in the same pytest process.

1. nbclient stall workaround: patch ``AsyncZMQSocketChannel.get_msg`` to poll in 100 ms slices.
2. ``kernel`` marker: skipped unless we are root and can make network namespaces, or not root
   and can make user namespaces (then ``Lab(backend="kernel")`` is the rootless kernel); under
   ``SIMLAB_REQUIRE_KERNEL=1`` every skip of a kernel test (including ``pytest.skip()`` inside
   it) is reported as a failure instead.
   ``reference`` marker (Debian's CNI plugins) follows the same policy, under the same variable,
   and so do ``rootless`` (root runs the kernel families again as a user it creates) and
   ``classroom`` (root runs a JupyterHub class for learners it creates).
3. ``ui`` marker (and everything under tests/ui/): skipped unless /usr/bin/chromium and the
   playwright package exist; a failure instead under ``SIMLAB_REQUIRE_UI=1``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simlab.system import missing

CHROMIUM = "/usr/bin/chromium"
#: ``SIMLAB_KERNEL_BACKEND=rootless``: the kernel tests must run on the rootless kernel backend
#: (tests/test_rootless.py sets it for the families it runs as a user other than root).
ROOTLESS_ENV = "SIMLAB_KERNEL_BACKEND"
UI_DIR = Path(__file__).parent / "ui"

# marker -> (environment variable that forbids skipping, what to set up)
_REQUIRED_BY_ENV = {
    "kernel": ("SIMLAB_REQUIRE_KERNEL", "run as root on Linux with network namespaces"),
    "reference": ("SIMLAB_REQUIRE_KERNEL", "as root: make test, or apt-get install containernetworking-plugins"),
    "ui": ("SIMLAB_REQUIRE_UI", "Debian: apt-get install chromium"),
    "rootless": ("SIMLAB_REQUIRE_KERNEL", "as root on Linux with user namespaces allowed (simlab doctor)"),
    "classroom": ("SIMLAB_REQUIRE_KERNEL", "as root with user namespaces allowed, and "
                  "pip install -e '.[classroom]' (make test does)"),
}


# --------------------------------------------------------------------------------------------
# 1. nbclient stall workaround
#
# nbclient's Output-widget emulation sends comm_msg on the shell socket while another task waits
# in shell_channel.get_msg(timeout); that socket.poll() can miss the wakeup, so the cell takes
# exactly its timeout although execute_reply has arrived (jupyter/nbclient #312, PR #311, open).
# Polling in short slices notices the reply within 100 ms.  Process-wide once this module is
# imported, which is why `make test` runs tests/ and notebooks/ in one pytest invocation.

_POLL_SLICE_S = 0.1


def _install_nbclient_stall_workaround() -> bool:
    try:
        from jupyter_client.channels import AsyncZMQSocketChannel
    except ImportError:
        return False
    if getattr(AsyncZMQSocketChannel.get_msg, "_simlab_sliced", False):
        return True

    import time
    from queue import Empty

    async def get_msg(self, timeout: float | None = None) -> dict:
        """Like the original, but poll in 100 ms slices so that a missed wakeup costs 100 ms."""
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if deadline is None:
                slice_s = _POLL_SLICE_S
            else:
                slice_s = min(_POLL_SLICE_S, max(0.0, deadline - time.monotonic()))
            if await self.socket.poll(int(slice_s * 1000)):
                return await self._recv()
            if deadline is not None and time.monotonic() >= deadline:
                raise Empty

    get_msg._simlab_sliced = True  # type: ignore[attr-defined]
    AsyncZMQSocketChannel.get_msg = get_msg  # type: ignore[method-assign]
    return True


NBCLIENT_WORKAROUND = _install_nbclient_stall_workaround()


# --------------------------------------------------------------------------------------------
# 2./3. What the machine offers


@functools.cache
def kernel_available() -> tuple[bool, str]:
    """Can tests use the real kernel (root, network namespaces, pyroute2)? -> (ok, reason)."""
    if not sys.platform.startswith("linux"):
        return False, f"not Linux ({sys.platform})"
    rootless = os.environ.get(ROOTLESS_ENV, "") == "rootless"
    if rootless or os.geteuid() != 0:
        # Not root: Lab(backend="kernel") is the rootless kernel, in a user namespace of our own.
        from simlab.rootless.access import rootless_available

        if os.geteuid() == 0:
            return False, f"{ROOTLESS_ENV}=rootless: run the tests as a user other than root"
        ok, why = rootless_available()
        return ok, (why if ok else f"not root (uid {os.geteuid()}), and {why}")
    try:
        import pyroute2  # noqa: F401
    except ImportError as e:
        return False, f"pyroute2 is not importable ({e})"
    # unshare(CLONE_NEWNET) in a throw-away child: needs CAP_SYS_ADMIN and a kernel with
    # netns support, and cannot touch this machine's own network namespace.
    probe = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "if libc.unshare(0x40000000) != 0:\n"
        "    e = ctypes.get_errno(); sys.exit(f'unshare(CLONE_NEWNET): {os.strerror(e)}')\n"
    )
    try:
        r = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"netns probe could not run ({e})"
    if r.returncode != 0:
        return False, (r.stderr.strip().splitlines() or ["netns probe failed"])[-1]
    lack = missing("kernel")
    if lack:
        return False, "; ".join(n.advice() for n in lack)
    return True, "root with network namespaces"


@functools.cache
def reference_available() -> tuple[bool, str]:
    """Can tests run Debian's reference CNI plugins (root or rootless, and the plugins installed)?"""
    if os.geteuid() != 0:
        ok, why = kernel_available()  # rootless: the plugins run inside the lab's user namespace
        if not ok:
            return False, why
    lack = missing("reference")
    if lack:
        return False, "; ".join(n.advice() for n in lack)
    return True, "Debian's reference CNI plugins"


@functools.cache
def rootless_available() -> tuple[bool, str]:
    """Can tests switch to a user other than root who can make user namespaces?

    tests/test_rootless.py runs the kernel families again as that user: as root
    (CI) it creates one; not root, there is nobody to switch to (and the kernel
    tests of this very run are already rootless).
    """
    if os.geteuid() != 0:
        return False, f"not root (uid {os.geteuid()}): the kernel tests of this run are the rootless ones"
    for tool in ("runuser", "useradd", "userdel", "unshare"):
        if not shutil.which(tool):
            return False, f"{tool} is missing (apt-get install util-linux passwd)"
    from simlab.system import userns_blockers

    blockers = userns_blockers()
    if blockers:
        return False, "; ".join(blockers)
    return True, "root, and users may make user namespaces"


@functools.cache
def classroom_available() -> tuple[bool, str]:
    """Can tests run a JupyterHub class (root, accounts, user namespaces, the classroom extra)?"""
    ok, why = rootless_available()
    if not ok:
        return ok, why
    for module in ("jupyterhub", "configurable_http_proxy", "websocket", "requests"):
        try:
            __import__(module)
        except ImportError as e:
            return False, f"{module} is not importable ({e})"
    return True, "root, user namespaces, and JupyterHub"


@functools.cache
def ui_available() -> tuple[bool, str]:
    """Can tests drive JupyterLab in Debian's chromium? -> (ok, reason)."""
    if not os.access(CHROMIUM, os.X_OK):
        return False, f"{CHROMIUM} not found"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return False, f"playwright is not importable ({e})"
    return True, f"{CHROMIUM} and playwright"


def _availability(marker: str) -> tuple[bool, str]:
    # Looked up by name at call time so a test can replace kernel_available/ui_available.
    return globals()[f"{marker}_available"]()


def _required(marker: str) -> bool:
    return os.environ.get(_REQUIRED_BY_ENV[marker][0], "") == "1"


def _guarded_markers(item: pytest.Item) -> list[str]:
    return [m for m in _REQUIRED_BY_ENV if item.get_closest_marker(m) is not None]


# --------------------------------------------------------------------------------------------
# Hooks


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything in tests/ui/ is a browser test, marked or not.
    for item in items:
        if UI_DIR in Path(str(item.path)).parents and item.get_closest_marker("ui") is None:
            item.add_marker(pytest.mark.ui)


@pytest.hookimpl(tryfirst=True)  # before fixtures that would build namespaces or servers
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in _guarded_markers(item):
        ok, reason = _availability(marker)
        if ok:
            continue
        var, hint = _REQUIRED_BY_ENV[marker]
        if _required(marker):
            pytest.fail(f"{marker} test cannot run under {var}=1: {reason} ({hint})", pytrace=False)
        pytest.skip(f"{marker} test: {reason} ({hint}; set {var}=1 to make this an error)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    required = [m for m in _guarded_markers(item) if _required(m)]
    if not required:
        return
    # A skip of a required test, however it came about (skipif, pytest.skip() in a fixture
    # or in the test body, importorskip), is a failure: CI must not go green without it.
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    var = " ".join(f"{_REQUIRED_BY_ENV[m][0]}=1" for m in required)
    report.outcome = "failed"
    report.longrepr = f"skipped, but {var} forbids skipping {'/'.join(required)} tests: {reason}"
