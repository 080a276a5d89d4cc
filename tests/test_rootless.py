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
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from simlab.classroom.venv import copy_venv

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
    """A user made for this module (deleted after), and the Python it runs."""

    def __init__(self, name: str, home: Path, python: str, repo: Path):
        self.name, self.home, self.python, self.repo = name, home, python, repo

    def env(self, extra: dict | None = None) -> list[str]:
        base = {"HOME": str(self.home), "TMPDIR": str(self.home), "PATH": PATH, "LC_ALL": "C",
                "PYTHONPATH": str(self.repo), "PYTHONDONTWRITEBYTECODE": "1"}
        return [f"{k}={v}" for k, v in {**base, **(extra or {})}.items()]

    def run(self, argv: list[str], *, timeout: float, env: dict | None = None, **kw):
        return subprocess.run(["runuser", "-u", self.name, "--", "env", "-i", *self.env(env), *argv],
                              cwd=self.repo, timeout=timeout, text=True, **kw)


def _readable_repo(tmp: Path) -> Path:
    """This checkout, or a copy of it the learners can read (a clone in a 0700 directory,
    e.g. ``mktemp -d``, is root's alone)."""
    if all(os.stat(p).st_mode & 0o005 == 0o005 for p in (REPO, *REPO.parents)):
        return REPO
    copy = tmp / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "test-artifacts", "__pycache__", ".hypothesis", "*.egg-info"))
    return copy


def _can_run(user: str, python: str, repo: Path) -> bool:
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i", f"PYTHONPATH={repo}", python, "-c",
         "import simlab, pyroute2, pytest"], capture_output=True, timeout=120, cwd="/")
    return probe.returncode == 0


#: What the families need in the learner's Python, besides simlab's own requirements.
TEST_DISTS = ("pytest", "pytest-timeout", "pytest-xdist")


def _learner_venv(where: Path) -> str:
    """A venv of the learners' own, when this one is not theirs to run (its Python under /root,
    or the checkout in a directory only root can enter, where a .pth into this venv would
    point): a copy of what the families need, as a classroom's learners get (simlab itself
    comes from the readable checkout on PYTHONPATH)."""
    return copy_venv(where, TEST_DISTS)


def _make_user(tmp: Path, python: str | None, made: list[str], repo: Path) -> Learner:
    name = f"sl-learner-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                    "--shell", "/usr/sbin/nologin", name], check=True, timeout=60)
    made.append(name)  # deleted whatever happens next
    home = tmp / name
    home.mkdir()
    subprocess.run(["chown", f"{name}:{name}", str(home)], check=True)
    if python is None:
        python = (sys.executable if _can_run(name, sys.executable, repo)
                  else _learner_venv(tmp / "venv"))
        assert _can_run(name, python, repo), f"user {name} can run no Python with simlab and pytest"
    return Learner(name, home, python, repo)


@pytest.fixture(scope="module")
def learners():
    tmp = Path(tempfile.mkdtemp(prefix="simlab-learners-"))  # pytest's own is root's alone (0700)
    tmp.chmod(0o755)
    made: list[str] = []
    try:
        repo = _readable_repo(tmp)
        first = _make_user(tmp, None, made, repo)
        yield [first, _make_user(tmp, first.python, made, repo)]
    finally:
        for name in made:
            subprocess.run(["userdel", name], timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.timeout(3600)  # a whole family, as another user
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
            ["runuser", "-u", u.name, "--", "env", "-i", *u.env(), u.python, "-c", HOLD],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=u.repo,
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


def test_a_killed_notebook_kernel_leaves_nothing(learners):
    """SIGKILL the process that holds the lab: its server sees EOF and exits, and the lab's
    namespaces go with it (nothing for ``simlab clean`` to do)."""
    learner = learners[0]
    holder = subprocess.Popen(
        ["runuser", "-u", learner.name, "--", "env", "-i", *learner.env(), learner.python, "-c", HOLD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=learner.repo,
    )
    server = int(holder.stdout.readline().split()[0])
    ns = os.readlink(f"/proc/{server}/ns/net")
    child = int(subprocess.run(["pgrep", "-P", str(holder.pid)], capture_output=True, text=True)
                .stdout.split()[0])  # runuser's child: the learner's Python
    os.kill(child, 9)
    holder.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{server}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{server}"), "the lab's server outlived its kernel"
    # No process is left in the lab's network namespace.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            assert os.readlink(f"/proc/{pid}/ns/net") != ns, f"process {pid} is still in the lab"
        except OSError:
            continue
