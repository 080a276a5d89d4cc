"""A class on this machine: the accounts, the run directory, and the hub process.

:func:`prepare` makes what the hub needs (accounts if asked, homes 0700; the learners' venv and
notebooks, readable by all; passwords and tokens, root's alone) and :class:`Hub` runs
``jupyterhub`` as root in a session of its own, so that Ctrl-C or SIGTERM reaches it once,
through :meth:`Hub.stop`, which waits until every learner's server and the proxy are gone.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .hubconfig import paths
from .learner import copy_material
from .spec import ClassSpec, SpecError
from .venv import copy_venv

__all__ = ["Hub", "create_accounts", "leftovers", "port_in_use", "prepare", "remove_accounts",
           "serve"]

REPO = Path(__file__).resolve().parent.parent.parent
#: What the learners' servers import besides simlab (their venv is a copy of these).
LEARNER_DISTS = ("simlab[lab]", "jupyterhub")
#: Left out of it: jsonschema imports rfc3987-syntax when present, which builds some 35 Lark
#: parsers at import (seconds of every server's start on 2 busy cores; jupyter_server issue
#: 1559, jsonschema issue 1428), for the "iri" format that no Jupyter schema uses.
LEARNER_EXCLUDE = ("rfc3987-syntax",)
#: ``jupyterhub`` with rfc3987_syntax made unimportable (jsonschema then skips it), for the
#: reason of LEARNER_EXCLUDE: 6.2 -> 2.8 s of CPU to import jupyterhub.app here.
_HUB_MAIN = ("import sys; sys.modules['rfc3987_syntax'] = None; "
             "from jupyterhub.app import main; sys.exit(main())")
_CONFIG = """\
# Written by simlab.classroom.hub.prepare: the class itself is in class.json beside it.
from simlab.classroom.hubconfig import configure
configure(c, {spec!r})
"""


def create_accounts(names, record: Path) -> list[str]:
    """``useradd`` each missing account (home 0700, its own group, bash); note who was made
    in ``record`` so that only those are removed later."""
    made = []
    for name in names:
        try:
            pwd.getpwnam(name)
            continue
        except KeyError:
            pass
        subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
                        name], check=True, timeout=60, capture_output=True, text=True)
        made.append(name)
        with open(record, "a") as f:
            f.write(name + "\n")
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)  # useradd's default may be 0755
    return made


def remove_accounts(record: Path) -> list[str]:
    """``userdel --remove`` the accounts :func:`create_accounts` noted (and no other)."""
    if not record.exists():
        return []
    names = record.read_text().split()
    for name in names:
        subprocess.run(["userdel", "--remove", name], timeout=60, capture_output=True)
    record.unlink()
    return names


def _secret_file(path: Path, extra: dict) -> dict:
    """Passwords and the driver's token: kept across restarts (learners keep their password)."""
    old = json.loads(path.read_text()) if path.exists() else {}
    new = {"learner_password": secrets.token_urlsafe(9),  # 12 characters, >= 8
           "trainer_password": secrets.token_urlsafe(24),  # 32, JupyterHub's admin minimum
           "driver_token": secrets.token_hex(32), **old, **extra}
    path.touch(mode=0o600)
    path.write_text(json.dumps(new, indent=1))
    return new


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def prepare(spec: ClassSpec, password: str | None = None) -> dict[str, Path]:
    """Everything the hub reads, in ``spec.run_dir``; accounts if ``spec.create_accounts``."""
    if os.geteuid() != 0:
        raise SpecError("the hub must run as root: it starts each learner's server as that "
                        "learner (sudo make classroom ...)")
    if password is not None and len(password) < 8:
        raise SpecError("the class password needs at least 8 characters")
    spec.check()
    busy = [port for port in range(spec.port, spec.port + 3) if port_in_use(port)]
    if busy:
        raise SpecError(f"port {', '.join(map(str, busy))} is in use (another hub?): choose "
                        f"another with HUB_PORT= (the hub uses it and the next two)")
    p = paths(spec.run_dir)
    if spec.run_dir.is_dir() and any(spec.run_dir.iterdir()) and not p["hub"].is_dir():
        raise SpecError(f"{spec.run_dir} holds other files: the class needs a directory of its "
                        "own (CLASS_DIR=, default /var/lib/simlab-classroom)")
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    spec.run_dir.chmod(0o755)  # the learners run the venv and copy the notebooks from here
    p["hub"].mkdir(mode=0o700, exist_ok=True)
    p["hub"].chmod(0o700)
    _secret_file(p["secrets"], {"learner_password": password} if password else {})
    if spec.create_accounts:
        create_accounts(spec.users, p["created"])
    for part in ("venv", "material"):  # anew: the simlab and notebooks of this checkout
        shutil.rmtree(p[part], ignore_errors=True)
    copy_venv(p["venv"], LEARNER_DISTS, LEARNER_EXCLUDE)
    settings = REPO / "jupyter-settings" / "overrides.json"  # e.g. no "Jupyter news?" popup
    if settings.exists():
        target = p["venv"] / "share" / "jupyter" / "lab" / "settings"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(settings, target / "overrides.json")
    copy_material(REPO / "notebooks", p["material"])
    for folder, _dirs, files in os.walk(p["material"]):  # a checkout made with umask 077
        for path in (folder, *(os.path.join(folder, f) for f in files)):
            os.chmod(path, os.stat(path).st_mode | (0o555 if path == folder else 0o444))
    spec.save_to(p["spec"])
    p["config"].write_text(_CONFIG.format(spec=str(p["spec"])))
    return p


def leftovers(spec: ClassSpec) -> list[tuple[int, str, str]]:
    """(pid, user, command) of every process still running as one of the class's accounts."""
    uids = {}
    for name in spec.users:
        try:
            uids[pwd.getpwnam(name).pw_uid] = name
        except KeyError:
            continue
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
            if uid in uids:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(pid), uids[uid], cmd.strip()))
        except OSError:
            continue
    return found


class Hub:
    """``jupyterhub -f <run_dir>/hub/jupyterhub_config.py``, as root, in its own session."""

    def __init__(self, spec: ClassSpec, *, log_to_file: bool = False):
        self.spec, self.p = spec, paths(spec.run_dir)
        self.log_to_file = log_to_file
        self.proc: subprocess.Popen | None = None
        self.token = json.loads(self.p["secrets"].read_text())["driver_token"]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}/hub/api"

    def start(self, timeout: float = 60) -> float:
        """Start the hub; return the seconds until its API answered."""
        env = {**os.environ, "PYTHONPATH": str(REPO)}  # the config imports this simlab
        out = open(self.p["log"], "ab") if self.log_to_file else None
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HUB_MAIN, "-f", str(self.p["config"])],
            cwd=self.p["hub"], env=env, start_new_session=True,
            stdout=out, stderr=subprocess.STDOUT if out else None)
        if out:
            out.close()
        # The hub's own port first (refused until it listens: no noise in the log), then the
        # proxy's (404 until the hub has added its route).
        urls = [f"http://127.0.0.1:{self.spec.port + 2}/hub/api/", self.api + "/"]
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode} while "
                                   f"starting{self._log_tail()}")
            try:
                with urllib.request.urlopen(urls[0], timeout=2) as r:
                    if r.status == 200:
                        urls.pop(0)
                        if not urls:
                            return time.monotonic() - t0
                        continue
            except OSError:
                pass
            if time.monotonic() - t0 > timeout:
                self.stop()
                raise RuntimeError(f"jupyterhub did not answer in {timeout:.0f} s"
                                   f"{self._log_tail()}")
            time.sleep(0.2)

    def _log_tail(self) -> str:
        if not self.log_to_file or not self.p["log"].exists():
            return ""
        return ":\n" + "\n".join(self.p["log"].read_text(errors="replace").splitlines()[-30:])

    def wait(self) -> int:
        return self.proc.wait() if self.proc else 0

    def stop(self, timeout: float = 60) -> list[tuple[int, str, str]]:
        """SIGTERM the hub (it stops every server and the proxy), wait; return what is left
        running as the class's accounts (nothing, normally) after killing it."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the hub's own session only
                self.proc.wait(10)
        deadline = time.monotonic() + 10  # servers stopped by the hub may take a moment
        while (left := leftovers(self.spec)) and time.monotonic() < deadline:
            time.sleep(0.2)
        venv = str(self.p["venv"])
        for pid, _user, cmd in left:  # only what this class started (its venv's programs)
            if venv in cmd:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        return left

    def __enter__(self) -> Hub:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _how_to_log_in(spec: ClassSpec, p: dict[str, Path]) -> str:
    s = json.loads(p["secrets"].read_text())
    if spec.auth == "pam":
        login = "each with their own account's password (PAM)"
    else:
        login = (f"learners: their name and the class password {s['learner_password']}\n"
                 f"  trainer ({spec.trainer}, admin, /hub/admin): {s['trainer_password']}")
    warn = ("" if spec.ip in ("127.0.0.1", "localhost") else
            "\n  no TLS: put a TLS reverse proxy (or an SSH tunnel) in front of it")
    return (f"simlab classroom: {len(spec.learners)} learners at {spec.url}{warn}\n"
            f"  log in as {login}\n"
            f"  (passwords kept in {p['secrets']}; Ctrl-C stops every server and the hub)")


def serve(spec: ClassSpec, *, password: str | None = None, remove: bool = False) -> int:
    """``make classroom``: prepare, run the hub in the foreground until Ctrl-C or SIGTERM,
    then stop every server (and remove the accounts this class created, if asked)."""
    p = prepare(spec, password)
    hub = Hub(spec)
    stopping = []

    def on_signal(*_):  # only pass it on: the main thread's wait() returns, then stop() checks
        stopping.append(1)
        if hub.proc and hub.proc.poll() is None:
            hub.proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        hub.start(timeout=120)
    except RuntimeError:
        hub.stop()
        if stopping:  # Ctrl-C while it started
            print("simlab classroom: stopped while starting")
            return 0
        raise
    print(_how_to_log_in(spec, p), flush=True)
    rc = hub.wait()
    left = hub.stop()
    if left:
        print(f"simlab classroom: {len(left)} processes outlived the hub (killed those of the "
              f"class's venv): {left}", file=sys.stderr)
    if remove:
        gone = remove_accounts(p["created"])
        print(f"simlab classroom: removed the accounts it created: {' '.join(gone) or 'none'}")
    print("simlab classroom: stopped" + ("" if stopping else f" (the hub exited with {rc})"))
    return 0 if stopping or rc == 0 else 1
