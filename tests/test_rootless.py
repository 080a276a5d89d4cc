"""The kernel families again, as a user other than root, on the rootless kernel backend.

Run as root (CI): a fixture creates two throw-away users; the first runs the
differential, isolation, docker, CNI and k8s families in a child pytest with
``SIMLAB_KERNEL_BACKEND=rootless SIMLAB_REQUIRE_KERNEL=1`` (so ``Lab(backend="kernel")``
is the rootless kernel there, and no kernel test may skip); the machine's own
namespace is dumped before and after (tests/test_isolation.py's dump) and must
not change.  Two users' labs with the same names cannot see or enter each other.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from test_isolation import machine_state

pytestmark = pytest.mark.rootless

REPO = Path(__file__).resolve().parent.parent
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
FAMILIES = {
    "differential": ["tests/test_differential.py"],
    "isolation": ["tests/test_isolation.py"],
    "docker": ["tests/test_docker_kernel.py"],
    "cni": ["tests/test_cni_kernel.py"],
    "k8s": ["tests/test_kube_kernel.py"],
}


class Learner:
    """A user made for this module (deleted after), and how to run Python as it."""

    def __init__(self, name: str, home: Path):
        self.name, self.home = name, home
        self.python, self.pythonpath = _python_for(name)

    def run(self, argv: list[str], *, timeout: float, env: dict | None = None, **kw):
        base = {"HOME": str(self.home), "TMPDIR": str(self.home), "PATH": PATH, "LC_ALL": "C",
                "PYTHONPATH": os.pathsep.join([str(REPO), *self.pythonpath]),
                "PYTHONDONTWRITEBYTECODE": "1"}
        envs = [f"{k}={v}" for k, v in {**base, **(env or {})}.items()]
        return subprocess.run(["runuser", "-u", self.name, "--", "env", "-i", *envs, *argv],
                              cwd=REPO, timeout=timeout, text=True, **kw)


def _python_for(user: str) -> tuple[str, list[str]]:
    """This interpreter if the user may run it, else the system one of the same version with
    this venv's packages on PYTHONPATH (a venv under /root is not readable by others)."""
    site = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python, path in ((sys.executable, []), (f"/usr/bin/{version}", site)):
        probe = subprocess.run(
            ["runuser", "-u", user, "--", "env", "-i", f"PYTHONPATH={os.pathsep.join([str(REPO), *path])}",
             python, "-c", "import simlab, pyroute2, pytest"],
            capture_output=True, text=True, timeout=120, cwd="/",
        )
        if probe.returncode == 0:
            return python, list(dict.fromkeys(path))
    pytest.fail(f"user {user} can run no Python with simlab and pytest: {probe.stderr}")


def _make_user(tmp: Path) -> Learner:
    name = f"sl-learner-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                    "--shell", "/usr/sbin/nologin", name], check=True, timeout=60)
    home = tmp / name
    home.mkdir()
    subprocess.run(["chown", f"{name}:{name}", str(home)], check=True)
    return Learner(name, home)


@pytest.fixture(scope="module")
def learners(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("learners")
    tmp.chmod(0o755)
    made: list[Learner] = []
    try:
        made.append(_make_user(tmp))
        made.append(_make_user(tmp))
        yield made
    finally:
        for learner in made:
            subprocess.run(["userdel", learner.name], timeout=60)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_family_as_a_user_on_the_rootless_kernel(learners, family):
    learner = learners[0]
    before = machine_state()
    p = learner.run(
        [learner.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         *FAMILIES[family]],
        env={"SIMLAB_KERNEL_BACKEND": "rootless", "SIMLAB_REQUIRE_KERNEL": "1"},
        timeout=3600, capture_output=True,
    )
    tail = "\n".join((p.stdout + p.stderr).splitlines()[-40:])
    assert p.returncode == 0, f"{family} as {learner.name} (rootless):\n{tail}"
    assert " passed" in tail and "skipped" not in tail, tail
    assert machine_state() == before, "a rootless lab changed the machine's own namespace"


HOLD = textwrap.dedent("""
    import sys, simlab
    lab = simlab.Lab()
    assert lab.backend == "kernel", lab.why
    lab.run("ip netns add red")
    lab.run("ip link add br0 type bridge")
    lab.run("ip addr add 10.99.0.1/24 dev br0")
    print(lab.raw_backend.server_pid, lab.netns_path("red"), flush=True)
    sys.stdin.readline()
    lab.close()
""")


def test_two_users_labs_cannot_see_or_enter_each_other(learners):
    a, b = learners
    holders = [
        subprocess.Popen(
            ["runuser", "-u", u.name, "--", "env", "-i", f"HOME={u.home}", f"PATH={PATH}",
             f"PYTHONPATH={os.pathsep.join([str(REPO), *u.pythonpath])}", u.python, "-c", HOLD],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )
        for u in (a, b)
    ]
    try:
        (pid_a, path_a), (pid_b, _) = [h.stdout.readline().split() for h in holders]
        assert pid_a != pid_b  # the same names, the same subnet: no conflict
        peek = b.run(
            ["sh", "-c", f"readlink -v /proc/{pid_a}/ns/net; ls /proc/{pid_a}/root/run/netns; "
             f"nsenter --preserve-credentials -U -m -n -t {pid_a} true; kill -0 {pid_a}; "
             f"ls {path_a}"],
            timeout=60, capture_output=True,
        )
        err = peek.stderr
        assert err.count("Permission denied") >= 3 and "Operation not permitted" in err, err
        assert peek.stdout.strip() == "" and "No such file" in err, (peek.stdout, err)
        # ...while its owner does enter it
        own = a.run(["nsenter", "--preserve-credentials", "-U", "-m", "-t", pid_a,
                     "ip", "netns", "list"], timeout=60, capture_output=True)
        assert own.stdout.split() == [os.path.basename(path_a)], (own.stdout, own.stderr)
    finally:
        for h in holders:
            h.communicate("\n", timeout=60)
    assert [h.returncode for h in holders] == [0, 0]
