"""JupyterHub's settings for a class on one machine (the hub's ``jupyterhub_config.py`` calls
:func:`configure`).

LocalProcessSpawner as root: each learner's server runs as their own account, from the
learners' venv in the run directory (root's venv is often unreadable to them), on 127.0.0.1;
the proxy is PyPI's configurable-http-proxy (no Node); a service token lets simlab's driver
(tests, benchmarks) start servers and run cells.
"""

from __future__ import annotations

import asyncio
import json
import pwd
import sys
from pathlib import Path

from .learner import MATERIAL_ENV
from .spec import ClassSpec

__all__ = ["DRIVER", "PATH", "configure", "paths"]

#: The service whose token the driver uses (tests, benchmarks; not needed to teach).
DRIVER = "simlab-driver"
#: The learners' PATH: their venv first, then the system's ip, iptables, unshare, nsenter.
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def paths(run_dir: Path) -> dict[str, Path]:
    """The run directory's parts: ``hub`` is root's alone (0700), the rest everyone reads."""
    hub = run_dir / "hub"
    return {"hub": hub, "venv": run_dir / "venv", "material": run_dir / "notebooks",
            "python": run_dir / "venv" / "bin" / "python", "secrets": hub / "secrets.json",
            "config": hub / "jupyterhub_config.py", "spec": hub / "class.json",
            "log": hub / "jupyterhub.log", "created": hub / "accounts-created"}


def _copy_as_learner(python: str, material: str):
    """pre_spawn_hook: the learner's copy of the notebooks, made as the learner (root never
    writes into a home the learner controls); a failure stops the spawn with the reason."""

    async def hook(spawner) -> None:
        home = pwd.getpwnam(spawner.user.name).pw_dir
        proc = await asyncio.create_subprocess_exec(
            "runuser", "-u", spawner.user.name, "--", "env", "-i", f"HOME={home}",
            f"{MATERIAL_ENV}={material}", python, "-m", "simlab.classroom.learner", "--copy-only",
            cwd="/", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"copying the notebooks for {spawner.user.name} failed: "
                               f"{out.decode(errors='replace').strip()[-500:]}")

    return hook


def configure(c, spec_path: str | Path) -> None:
    spec = ClassSpec.load(spec_path)
    p = paths(spec.run_dir)
    secrets = json.loads(p["secrets"].read_text())

    c.JupyterHub.bind_url = f"http://{spec.ip}:{spec.port}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{spec.port + 1}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{spec.port + 2}"
    c.ConfigurableHTTPProxy.command = [str(Path(sys.executable).parent / "configurable-http-proxy")]
    c.ConfigurableHTTPProxy.pid_file = str(p["hub"] / "proxy.pid")
    c.JupyterHub.pid_file = str(p["hub"] / "jupyterhub.pid")
    c.JupyterHub.db_url = f"sqlite:///{p['hub'] / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(p["hub"] / "cookie_secret")
    c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server
    c.JupyterHub.cleanup_proxy = True

    c.Authenticator.allowed_users = set(spec.users)
    c.Authenticator.admin_users = {spec.trainer}
    if spec.auth == "pam":
        c.JupyterHub.authenticator_class = "pam"
    else:
        c.JupyterHub.authenticator_class = "shared-password"
        c.SharedPasswordAuthenticator.user_password = secrets["learner_password"]
        c.SharedPasswordAuthenticator.admin_password = secrets["trainer_password"]

    python = str(p["python"])
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [python, "-m", "simlab.classroom.learner"]
    c.Spawner.notebook_dir = "~"
    c.Spawner.default_url = "/lab/tree/simlab/00_start_here.ipynb"
    c.Spawner.start_timeout = spec.start_timeout
    c.Spawner.http_timeout = spec.start_timeout
    # A Jupyter server answers SIGINT with "Interrupted..." and waits for a "y" on a terminal
    # it lacks; the spawner sends SIGTERM after interrupt_timeout (default 10 s per server).
    c.LocalProcessSpawner.interrupt_timeout = 1
    # Not the hub's PYTHONPATH (root's checkout) nor its PATH: the learners' own, below.
    c.Spawner.env_keep = ["LANG", "LC_ALL"]
    c.Spawner.environment = {
        "PATH": f"{p['venv'] / 'bin'}:{PATH}",
        MATERIAL_ENV: str(p["material"]),
        "SIMLAB_BACKEND": spec.backend,  # the notebooks' Lab(backend=...)
        **spec.extra_env,
    }
    c.Spawner.pre_spawn_hook = _copy_as_learner(python, str(p["material"]))

    c.JupyterHub.services = [{"name": DRIVER, "api_token": secrets["driver_token"]}]
    c.JupyterHub.load_roles = [{
        "name": DRIVER, "services": [DRIVER],
        "scopes": ["admin:users", "admin:servers", "tokens", "access:servers",
                   "admin:server_state"],
    }]
