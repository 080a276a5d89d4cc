"""Drive a real JupyterLab in Debian's headless chromium (Playwright, Python API).

Reusable by every browser test::

    with open_notebook("notebooks/01_veth.ipynb") as page:      # server + browser of its own
        title = next_step(page)                                 # click .simlab-next, wait
        screenshot(page, "01_after_next")

or, sharing one server and one browser across tests (see tests/ui/conftest.py)::

    with open_notebook(path, server=lab, browser=browser) as page: ...

Notes (from shared/reference/jupyter.md §2):
* never `playwright install`: we launch /usr/bin/chromium through ``executable_path``;
* the server runs in its own process group and is stopped with ``killpg`` in ``finally``;
  SIGTERM is turned into SystemExit while a server runs, so ``finally`` also runs under
  ``timeout``/CI; ``--ServerApp.port_retries=0`` so a busy port fails instead of moving;
* settings, workspaces, runtime and config dirs are temporary; autosave is off, so running
  the notebook in the browser never writes outputs into the repository;
* ``--LabApp.expose_app_in_browser`` provides ``window.jupyterapp`` for commands and the
  kernel-status wait; ``void`` in front of commands that may open a dialog.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # This machine's network is closed: without these chromium keeps trying to phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}

# CSS hooks that simlab's widgets add with widget.add_class(...).
NEXT_BUTTON = ".simlab-next"
STEP_TITLE = ".simlab-step-title"
FIGURE = "img.simlab-figure, .simlab-figure img"
# The picture's stable hooks (issue 12): data-simlab="picture" with data-step="N", buttons
# data-simlab="first"|"back"|"next"|"last", the moving packet data-simlab="packet".
PICTURE = '[data-simlab="picture"]'

#: The smallest text on screen in pictures, in CSS px: each SVG text's font size times the
#: zoom of its SVG (getScreenCTM), each HTML text's computed font size; hidden ones skipped.
MIN_LABEL_PX = """(root) => {
    const out = [];
    const pics = root ? [root] : [...document.querySelectorAll('[data-simlab="picture"]')];
    for (const pic of pics) {
        for (const t of pic.querySelectorAll('svg.simlab-svg text, svg.simlab-svg tspan')) {
            if (!t.textContent.trim() || t.getClientRects().length === 0) continue;
            if (getComputedStyle(t).display === 'none') continue;
            const ctm = t.getScreenCTM();
            out.push(parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b));
        }
        const html = 'button, pre, .simlab-step-title, .simlab-why, .simlab-legend-item, '
            + '.simlab-badge, select, li';
        for (const e of pic.querySelectorAll(html)) {
            if (e.getClientRects().length === 0 || !e.textContent.trim()) continue;
            out.push(parseFloat(getComputedStyle(e).fontSize));
        }
    }
    return out.length ? Math.min(...out) : null;
}"""

# User settings for the isolated server: no news toast, no autosave (keeps the repo clean).
_LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


# --------------------------------------------------------------------------------------------
# The server


class LabServer:
    """A `jupyter lab` process on 127.0.0.1, token-less, with throw-away settings."""

    def __init__(self, root_dir: Path = REPO, port: int | None = None) -> None:
        self.root_dir = Path(root_dir).resolve()
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="simlab-lab-"))
        self.log_path = ARTIFACTS / "ui" / f"jupyter-lab-{self.port}.log"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={self.root_dir}",
            # JupyterLab makes a checkpoint on open: keep .ipynb_checkpoints out of the repo.
            f"--FileCheckpoints.checkpoint_dir={self.tmp / 'checkpoints'}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        return cmd

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTERLAB_SETTINGS_DIR", "settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("IPYTHONDIR", "ipython"),
        ]:
            (self.tmp / sub).mkdir(parents=True, exist_ok=True)
            env[var] = str(self.tmp / sub)
        for rel, value in _LAB_USER_SETTINGS.items():
            path = self.tmp / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        return env

    def start(self, timeout: float = 90) -> LabServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.root_dir,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: killpg stops it and its children
            )
        _RUNNING.add(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.url + "api/status", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter lab not ready after {timeout}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        _RUNNING.discard(self)
        if proc is not None and proc.poll() is None:
            kids = _children(proc.pid)  # kernels may run in sessions of their own
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            for kid in kids:
                with contextlib.suppress(Exception):
                    kid.wait(timeout=5)
                with contextlib.suppress(Exception):
                    if kid.is_running():
                        kid.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


_RUNNING: set[LabServer] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


def _children(pid: int) -> list[Any]:
    try:
        import psutil
    except ImportError:
        return []
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into SystemExit(143) so that `finally` blocks stop the server."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def lab_server(root_dir: Path = REPO, timeout: float = 90) -> Iterator[LabServer]:
    """Start `jupyter lab` for *root_dir*; stop it (process group) however the block ends."""
    with _sigterm_raises():
        for attempt in range(3):
            server = LabServer(root_dir)
            try:
                server.start(timeout)
                break
            except RuntimeError as e:  # the free port was taken meanwhile: try another one
                server.stop()
                if "address already in use" not in str(e).lower() or attempt == 2:
                    raise
        try:
            yield server
        finally:
            server.stop()


# --------------------------------------------------------------------------------------------
# The browser


@contextlib.contextmanager
def chromium_browser() -> Iterator[Any]:
    """Playwright's Browser for Debian's chromium (never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_notebook(
    path: str | os.PathLike[str],
    *,
    server: LabServer | None = None,
    browser: Any = None,
    run_all: bool = True,
    timeout: float = 120,
    viewport: dict[str, int] | None = None,
) -> Iterator[Any]:
    """Open *path* (a notebook under the server's root) in JupyterLab; yield the Playwright page.

    Waits until the kernel is idle; with *run_all*, runs every cell and waits for the end.
    Starts its own server and/or browser when none are given.
    """
    with contextlib.ExitStack() as stack:
        if server is None:
            server = stack.enter_context(lab_server())
        if browser is None:
            browser = stack.enter_context(chromium_browser())
        context = browser.new_context(viewport=viewport or VIEWPORT)
        stack.callback(context.close)
        page = context.new_page()
        page.set_default_timeout(timeout * 1000)
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.simlab_console = console  # for debugging failed tests

        abs_path = (server.root_dir / path).resolve()
        rel = abs_path.relative_to(server.root_dir).as_posix()
        page.goto(f"{server.url}lab/tree/{quote(rel)}?reset")
        wait_kernel_idle(page, timeout)
        if run_all:
            run_all_cells(page, timeout)
        yield page


def wait_kernel_idle(page: Any, timeout: float = 120) -> None:
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=timeout * 1000,
        polling=100,
    )


def run_all_cells(page: Any, timeout: float = 120) -> None:
    """Run every cell of the current notebook; raise if a cell failed."""
    # The command's promise resolves when the last cell has its reply; park it on window so
    # the wait has a timeout (page.evaluate on the promise itself would have none).
    page.evaluate(
        """() => {
            window.__simlabRunAll = undefined;
            window.jupyterapp.commands.execute('notebook:run-all-cells').then(
                ok => { window.__simlabRunAll = {ok: ok}; },
                err => { window.__simlabRunAll = {ok: false, error: String(err)}; });
        }"""
    )
    handle = page.wait_for_function(
        "() => window.__simlabRunAll", timeout=timeout * 1000, polling=100
    )
    result = handle.json_value()
    wait_kernel_idle(page, timeout)
    if not result.get("ok"):
        errors = "\n".join(error_outputs(page)) or result.get("error", "")
        raise AssertionError(f"run all cells failed:\n{errors}")


def error_outputs(page: Any) -> list[str]:
    """Texts of stderr and traceback outputs in the current notebook."""
    return page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
    ).all_inner_texts()


def screenshot(page: Any, name: str, locator: Any = None) -> Path:
    """Save a PNG under test-artifacts/screenshots/ (whole page, or one locator)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path


def next_step(
    page: Any,
    *,
    index: int = 0,
    button: str = NEXT_BUTTON,
    title: str = STEP_TITLE,
    figure: str | None = FIGURE,
    timeout: float = 30,
) -> str:
    """Click a stepper's next button; wait until its title (and figure, if any) changed.

    *index* picks the stepper when a notebook shows several. Returns the new title text.
    """
    title_el = page.locator(title).nth(index)
    old_title = title_el.inner_text()
    fig_el = page.locator(figure).nth(index) if figure else None
    old_src = fig_el.get_attribute("src") if fig_el is not None else None
    page.locator(button).nth(index).click()
    page.wait_for_function(
        """([sel, i, old]) => {
            const el = document.querySelectorAll(sel)[i];
            return el && el.innerText !== old;
        }""",
        arg=[title, index, old_title],
        timeout=timeout * 1000,
        polling=20,
    )
    if fig_el is not None:
        page.wait_for_function(
            """([sel, i, old]) => {
                const el = document.querySelectorAll(sel)[i];
                return el && el.getAttribute('src') !== old;
            }""",
            arg=[figure, index, old_src],
            timeout=timeout * 1000,
            polling=20,
        )
    return title_el.inner_text()
