"""A class on a real JupyterHub: three learners, each with their own server, notebooks and lab.

As root (CI): the hub of ``make classroom`` (simlab.classroom) on 127.0.0.1 (a free port from 18640) for three
accounts it creates (``sl-class-*``).  Each learner's server runs the first cells of *their
own copy* of notebook 01 through the REST + websocket driver; each lab is the rootless
kernel and sees only its own namespaces; one learner's token cannot open another's server.
Then the hub stops, and nothing is left: no process of the class's accounts, no listening
port, no account, the machine's own namespace as before.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from test_isolation import machine_state


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _free_block() -> int:
    """A port P with P, P+1 (proxy API) and P+2 (hub) free: two test runs on one machine
    (a clean-clone CI beside tests/fresh/run.sh) must not meet on one hub's ports."""
    from simlab.classroom.hub import port_in_use

    for port in range(18640, 18940, 10):
        if not any(port_in_use(p) for p in range(port, port + 3)):
            return port
    raise RuntimeError("no three free ports in 18640-18939")


def _cells(path: Path, indexes) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(cells[i]["source"]) for i in indexes]


@pytest.fixture
def hub_class():
    from simlab.classroom.hub import Hub, leftovers, port_in_use, prepare, remove_accounts
    from simlab.classroom.hubconfig import paths
    from simlab.classroom.spec import ClassSpec

    tag = secrets.token_hex(3)
    port = _free_block()
    # /var/tmp: on the disk of .venv as a rule, so the learners' venv is hard links, not a copy
    run_dir = Path(tempfile.mkdtemp(prefix="simlab-class-", dir="/var/tmp"))  # 0755: prepare()
    spec = ClassSpec(learners=tuple(f"sl-class-{tag}-{i}" for i in (1, 2, 3)),
                     trainer=f"sl-class-{tag}-t", run_dir=run_dir, port=port,
                     create_accounts=True)
    created = paths(run_dir)["created"]
    before = machine_state()
    hub = None
    try:
        prepare(spec)
        hub = Hub(spec, log_to_file=True)
        hub.start()
        yield spec, hub
        left = hub.stop()
        hub = None
        assert left == [], f"processes outlived the hub: {left}"
        assert not [p for p in range(port, port + 3) if port_in_use(p)], "a port is still open"
        assert machine_state() == before, "the class changed the machine's own namespace"
    finally:
        if hub is not None:
            hub.stop()
        homes = []
        for name in spec.users:
            try:
                homes.append(pwd.getpwnam(name).pw_dir)
            except KeyError:
                pass
        removed = remove_accounts(created)
        log = paths(run_dir)["log"]
        if log.exists():  # for a failure's post-mortem
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, ARTIFACTS / "classroom-hub.log")
        shutil.rmtree(run_dir, ignore_errors=True)
    assert sorted(removed) == sorted(spec.users)
    for name in spec.users:
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
    assert not any(os.path.exists(h) for h in homes), homes
    assert leftovers(spec) == []


@pytest.mark.classroom
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_three_learners_each_in_their_own_lab(hub_class):
    from simlab.classroom.client import HubClient

    spec, hub = hub_class
    client = HubClient(spec.url, hub.token)
    password = json.loads((spec.run_dir / "hub" / "secrets.json").read_text())["learner_password"]
    first = spec.learners[0]
    assert client.login(first, password) == 302
    assert client.login(first, password + "x") == 403
    assert client.login("sl-class-nobody", password) == 403  # not on the list

    tokens, kernels = {}, {}
    try:
        for name in spec.learners:
            seconds = client.start(name)
            assert seconds < 60, f"{name}'s server took {seconds:.1f} s"
            tokens[name] = client.token(name)
            kernels[name] = client.kernel(name, tokens[name])
        for name, kernel in kernels.items():
            home = Path(pwd.getpwnam(name).pw_dir)
            notebook = home / "simlab" / "01_namespaces_and_veth.ipynb"
            assert notebook.stat().st_uid == pwd.getpwnam(name).pw_uid  # their own copy
            assert os.stat(home).st_mode & 0o077 == 0, "a learner's home is readable by others"
            setup, netns = _cells(notebook, (1, 5))
            kernel.run(f"import os; os.chdir({str(notebook.parent)!r})")
            assert "rootless" in kernel.run(setup)  # lab.why: the rootless kernel
            assert kernel.run("print(os.getuid(), lab.backend, simlab.__file__)").split() == [
                str(pwd.getpwnam(name).pw_uid), "kernel",
                str(spec.run_dir / "venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                    / "site-packages" / "simlab" / "__init__.py")]  # the class's venv, not root's checkout (PYTHONPATH)
            shown = kernel.run(netns)
            assert "red" in shown and "blue" in shown and "lo:" in shown, shown
            kernel.run(f"lab.ip('netns add {name}')")
        # All three labs are alive now: each lists its own namespaces, none of the others'.
        for name, kernel in kernels.items():
            listed = {line.split()[0] for line in kernel.run("print(lab.ip('netns'))").splitlines()
                      if line.strip()}
            assert listed == {"red", "blue", name}, (name, listed)
        import requests

        # What their browser opens: JupyterLab on their copy of the first notebook.
        for name in spec.learners:
            page = requests.get(f"{spec.url}user/{name}/lab/tree/simlab/00_start_here.ipynb",
                                headers={"Authorization": f"token {tokens[name]}"}, timeout=60)
            assert page.status_code == 200 and "jupyterlab" in page.text.lower(), (
                name, page.status_code)  # 404 when the venv lacks the lab's server extension
        # A learner's token does not open another learner's server.
        a, b = spec.learners[:2]

        r = requests.get(f"{spec.url}user/{a}/api/kernels", timeout=30,
                         headers={"Authorization": f"token {tokens[b]}"})
        assert r.status_code == 403, r.status_code
    finally:
        for kernel in kernels.values():
            kernel.ws.close()  # the servers stop with the hub; their kernels and labs with them


# ---------------------------------------------------------------- the class's spec (no root)

def test_learners_come_from_a_file_or_a_list():
    from simlab.classroom.spec import parse_learners

    assert parse_learners("ana ben,chloe\n# a comment\n\n  dan  # late\n") == [
        "ana", "ben", "chloe", "dan"]


def test_a_class_that_cannot_start_says_every_reason(tmp_path):
    from simlab.classroom.spec import ClassSpec, SpecError

    spec = ClassSpec(learners=("Ana", "root", "ben", "ben", "sl-class-nosuchuser"),
                     trainer="ben", run_dir=tmp_path, auth="ldap", port=70000)
    with pytest.raises(SpecError) as err:
        spec.check()
    text = str(err.value)
    for part in ("not a user name: 'Ana'", "named twice: ben", "'root' is a system account",
                 "no account 'sl-class-nosuchuser'", "--create-accounts", "auth 'ldap'",
                 "port 70000"):
        assert part in text, (part, text)
    # Asked to create the missing accounts, only the names themselves are wrong.
    ok = ClassSpec(learners=("sl-class-nosuchuser",), trainer="sl-class-nosuchtrainer",
                   run_dir=tmp_path, create_accounts=True)
    assert ok.check() is ok
    ok.save_to(tmp_path / "class.json")
    assert ClassSpec.load(tmp_path / "class.json") == ok


def test_the_class_directory_is_its_own(tmp_path):
    """prepare() chmods it 0755 and replaces its venv/ and notebooks/: never someone's folder."""
    from simlab.classroom.hub import prepare
    from simlab.classroom.spec import ClassSpec, SpecError

    (tmp_path / "thesis.tex").write_text("mine")
    spec = ClassSpec(learners=("sl-class-nosuchuser",), trainer="sl-class-nosuchtrainer",
                     run_dir=tmp_path, port=18690, create_accounts=True)
    with pytest.raises(SpecError, match="must run as root" if os.geteuid() else "other files"):
        prepare(spec)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.tex"]
