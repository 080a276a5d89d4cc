"""``simlab clean`` after a crash: exactly what the dead lab's ledger lists, nothing of a live lab.

A lab in a child process is SIGKILLed in the middle of building (so no atexit,
no SIGTERM handler runs); its namespaces stay mounted.  ``simlab clean``
removes them, reports each, and leaves a second, live lab alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simlab.model import ROOT
from simlab.model import ops as o

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

BUILDER = textwrap.dedent("""
    import sys, time
    from simlab.kernel import KernelBackend
    from simlab.model import ops as o
    kb = KernelBackend()
    print("lab", kb.lab_id, flush=True)
    kb.apply(o.LinkAdd("br0", "bridge"))
    for n in range(1000):
        kb.apply(o.NetnsAdd(f"ns{n}"))
        kb.apply(o.LinkAdd(f"veth{n}", "veth", peer="eth0", peer_netns=f"ns{n}"))
        kb.apply(o.LinkSet(f"veth{n}", master="br0", up=True))
        print("built", n, flush=True)
""")


def _mounts_of(lab_id: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [
        p for p in points if p.startswith((f"/run/simlab/{lab_id}/", f"/run/netns/sl{lab_id}-"))
    ]


def _leftovers(lab_id: str) -> list[str]:
    """What of lab ``lab_id`` is still on the machine (looked for by name, for the test only)."""
    found = (
        [f"/run/netns/{n}" for n in os.listdir("/run/netns") if n.startswith(f"sl{lab_id}-")]
        if os.path.isdir("/run/netns")
        else []
    )
    for path in (f"/run/simlab/{lab_id}", f"/run/simlab/ledger/{lab_id}.json"):
        if os.path.lexists(path):
            found.append(path)
    return found + _mounts_of(lab_id)


def _clean(*args: str, console: bool = False) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("simlab")
    cmd = [str(script)] if console and script.exists() else [sys.executable, "-m", "simlab.cli"]
    return subprocess.run(
        [*cmd, "clean", *args], capture_output=True, text=True, env=ENV, cwd=REPO, timeout=120
    )


@pytest.mark.kernel
@pytest.mark.parametrize("console", [False, True], ids=["python -m simlab.cli", "console script"])
def test_clean_after_sigkill_mid_build(console):
    from simlab.kernel import KernelBackend

    with KernelBackend() as live:
        live.apply_all(
            [o.NetnsAdd("red"), o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red")]
        )
        child = subprocess.Popen(
            [sys.executable, "-c", BUILDER], stdout=subprocess.PIPE, text=True, env=ENV, cwd=REPO
        )
        lab_id = child.stdout.readline().split()[1]
        for line in child.stdout:
            if line.startswith("built 4"):
                break
        child.send_signal(signal.SIGKILL)  # mid-build: no atexit, no SIGTERM handler
        child.wait(timeout=30)
        child.stdout.close()
        left = _leftovers(lab_id)
        assert f"/run/simlab/ledger/{lab_id}.json" in left and f"/run/netns/sl{lab_id}-ns0" in left
        assert f"/run/simlab/{lab_id}/node" in _mounts_of(lab_id)

        p = _clean(console=console)
        assert p.returncode == 0, p.stderr
        assert f"removed /run/netns/sl{lab_id}-ns0\n" in p.stdout
        assert f"removed /run/simlab/{lab_id}/node\n" in p.stdout
        assert f"cleaned lab {lab_id} (its process is gone)" in p.stdout
        assert f"left lab {live.lab_id} alone" in p.stdout
        assert _leftovers(lab_id) == []

        # The live lab lost nothing and still works.
        assert os.path.exists(live.netns_path("red")) and os.path.exists(live.names.node_path)
        live.apply(o.LinkSet("veth1", up=True))
        s = live.snapshot()
        assert s.netns[ROOT].link("veth1").peer == ("red", s.netns["red"].link("veth2").ifindex)

        again = _clean(console=console)
        assert again.returncode == 0
        assert f"cleaned lab {lab_id}" not in again.stdout and "nothing to clean" in again.stdout
    assert _leftovers(live.lab_id) == []


def test_clean_on_a_clean_machine(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("simlab clean needs root")
    p = _clean("--ledger-dir", str(tmp_path / "ledger"))
    assert p.returncode == 0
    assert p.stdout == "nothing to clean: no lab left anything behind\n"


def test_clean_removes_only_what_a_lab_could_have_made(tmp_path):
    """A ledger naming other paths (corrupt or forged) gets nothing removed."""
    if os.geteuid() != 0:
        pytest.skip("simlab clean needs root")
    victim = tmp_path / "precious"
    victim.write_text("keep me")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    lines = [
        {"id": "zz9", "pid": int(dead), "start": None},
        {"add": {"kind": "netns", "path": str(victim)}},
        {"add": {"kind": "netns", "path": "/run/netns/somebody-else"}},
        {"add": {"kind": "dir", "path": "/run/simlab/zz9/../../../etc"}},
    ]
    (ledger / "zz9.json").write_text("".join(json.dumps(line) + "\n" for line in lines))
    p = _clean("--ledger-dir", str(ledger))
    assert p.returncode == 1
    assert victim.read_text() == "keep me" and os.path.isdir("/etc")
    assert p.stderr.count("could have made; left alone") == 3
    assert (ledger / "zz9.json").exists()  # kept: it still lists what was not removed


def test_a_ledger_that_vanishes_while_clean_looks_is_a_lab_that_closed(tmp_path, monkeypatch):
    """Another process's lab may close between listing the ledgers and reading one."""
    from simlab import ledger as ledger_module

    (tmp_path / "ab1.json").write_text('{"id": "ab1", "pid": 1, "start": null}\n')

    def vanished(path):
        raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(ledger_module, "read_ledger", vanished)
    report = ledger_module.clean(str(tmp_path))
    assert report.nothing and report.errors == [] and report.labs == []


def test_clean_as_a_user_says_rootless_labs_leave_nothing(monkeypatch, capsys):
    from simlab import cli

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert cli.main(["clean"]) == 0
    out = capsys.readouterr().out
    assert "leave nothing behind" in out and "sudo simlab clean" in out


def test_doctor_reads_aloud(capsys):
    from simlab import cli

    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("simlab ") and "Python" in out and "pyroute2" in out
    assert "Lab() will use the " in out and "network namespaces:" in out


# ------------------------------------------------------------- attacks (issue 18)
def _ledger(directory, name, text):
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)


@pytest.mark.parametrize("bad", [
    '{"id": "ab1", "pid": 1e400, "start": null}\n',
    '{"id": "ab1", "pid": 77, "start": null}\n{"add": {"kind": "netns"}}\n',
    '{"id": "ab1", "pid": 77, "start": null}\n{"add": "x"}\n',
    '{"id": "ab1", "pid": 77, "start": "now"}\n',
    '[1, 2]\n',
    '{"id": 5, "pid": 77}\n',
])
def test_one_bad_ledger_does_not_stop_the_others(tmp_path, bad):
    from simlab import ledger as ledger_module

    _ledger(tmp_path, "ab1.json", bad)
    _ledger(tmp_path, "zz2.json", json.dumps({"id": "zz2", "pid": _dead_pid(), "start": None}) + "\n")
    report = ledger_module.clean(str(tmp_path))  # never raises
    assert any("ab1.json: unreadable ledger" in e for e in report.errors), report.errors
    assert report.labs == ["zz2"] and not (tmp_path / "zz2.json").exists()  # the good one: cleaned
    assert (tmp_path / "ab1.json").exists()  # left alone, for a person to look at


def test_a_torn_last_line_is_ignored_but_the_lines_before_it_count(tmp_path):
    from simlab.ledger import read_ledger

    path = tmp_path / "ab1.json"
    path.write_text('{"id": "ab1", "pid": 77, "start": null}\n'
                    '{"add": {"kind": "dir", "path": "/run/simlab/ab1"}}\n'
                    '{"add": {"kind": "netns", "path": "/run/netns/slab1-re')
    assert read_ledger(str(path))["created"] == [{"kind": "dir", "path": "/run/simlab/ab1"}]
    path.write_text('{"id": "ab1", "pid": 77, "start": null}\n{"add": {"kin\n{"remove": "x"}\n')
    with pytest.raises(ValueError):  # a torn line in the middle: not a ledger simlab wrote
        read_ledger(str(path))


def test_clean_does_not_follow_a_symlink(tmp_path, monkeypatch):
    from simlab import ledger as ledger_module

    target = tmp_path / "elsewhere"
    target.mkdir()
    run_dir = tmp_path / "run"
    (run_dir / "ab1").mkdir(parents=True)
    link = run_dir / "ab1" / "sub"
    link.symlink_to(target)
    monkeypatch.setattr(ledger_module, "RUN_DIR", str(run_dir))
    lines = [{"id": "ab1", "pid": _dead_pid(), "start": None},
             {"add": {"kind": "dir", "path": str(link)}}]
    _ledger(tmp_path / "ledger", "ab1.json", "".join(json.dumps(x) + "\n" for x in lines))
    report = ledger_module.clean(str(tmp_path / "ledger"))
    assert target.is_dir() and link.is_symlink()
    assert any("left alone" in e for e in report.errors)


def test_a_live_lab_is_known_by_its_lock_not_its_pid(tmp_path):
    """A ledger's pid may be another PID namespace's, or reused: only the lock counts."""
    from simlab import ledger as ledger_module

    lab = ledger_module.Ledger.create("ab1", str(tmp_path))  # holds the lock, as a live lab
    lines = (tmp_path / "ab1.json").read_text()
    assert lines.count("\n") == 1 and not list(tmp_path.glob("*.draft"))
    # As a lab in another PID namespace records itself: pid 1, which here is someone else.
    (tmp_path / "ab1.json").write_text('{"id": "ab1", "pid": 1, "start": 1}\n')
    assert ledger_module.clean(str(tmp_path)).live == ["ab1"]
    lab._append({"add": {"kind": "dir", "path": "/run/simlab/ab1"}})
    os.close(lab._fd)  # the process ends: the kernel drops the lock
    lab._fd = None
    # A dead lab whose pid is alive (reused: this very process) is cleaned all the same.
    (tmp_path / "ab1.json").write_text(json.dumps({"id": "ab1", "pid": os.getpid(), "start": None})
                                       + "\n")
    report = ledger_module.clean(str(tmp_path))
    assert report.labs == ["ab1"] and report.live == []


@pytest.mark.kernel
def test_clean_leaves_a_live_lab_in_another_pid_namespace_alone():
    code = ("import os, sys, time\n"
            "from simlab.kernel import KernelBackend\n"
            "from simlab.model import ops as o\n"
            "with KernelBackend() as k:\n"
            "    k.apply_all([o.NetnsAdd('red')])\n"
            "    print(k.lab_id, os.getpid(), flush=True)\n"
            "    sys.stdin.readline()\n"
            "    k.apply_all([o.NetnsAdd('blue')])\n"
            "    print('still alive', flush=True)\n")
    child = subprocess.Popen(["unshare", "--pid", "--fork", sys.executable, "-c", code],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
                             cwd=REPO)
    try:
        lab_id, pid = child.stdout.readline().split()
        assert pid == "1"  # what its ledger records
        p = _clean()
        assert f"left lab {lab_id} alone" in p.stdout, p.stdout + p.stderr
        assert os.path.exists(f"/run/netns/sl{lab_id}-red")
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline() == "still alive\n"
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert not os.path.exists(f"/run/netns/sl{lab_id}-red")


def _killed_lab(namespaces: tuple[str, ...]) -> str:
    """A real kernel lab in a child process, SIGKILLed once it made ``namespaces``: its id."""
    code = ("import sys\nfrom simlab.kernel import KernelBackend\nfrom simlab.model import ops as o\n"
            "k = KernelBackend()\n"
            f"k.apply_all([o.NetnsAdd(n) for n in {namespaces!r}])\n"
            "print(k.lab_id, flush=True)\nsys.stdin.readline()\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=ENV, cwd=REPO)
    lab_id = child.stdout.readline().strip()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdin.close()
    child.stdout.close()
    return lab_id


@pytest.mark.kernel
def test_a_dead_kernel_lab_whose_pid_is_reused_is_cleaned():
    """The real thing, not a hand-written ledger: the pid now names a live process."""
    lab_id = _killed_lab(("red",))
    path = Path(f"/run/simlab/ledger/{lab_id}.json")
    lines = path.read_text().splitlines()
    head = json.loads(lines[0])
    head.update(pid=os.getpid(), start=None)  # reused: this very (live) process
    path.write_text("\n".join([json.dumps(head), *lines[1:]]) + "\n")
    p = _clean()
    assert f"cleaned lab {lab_id} (its process is gone)" in p.stdout, p.stdout + p.stderr
    assert _leftovers(lab_id) == []


@pytest.mark.kernel
def test_clean_unmounts_only_the_namespace_the_ledger_identifies():
    """A forged or stale entry naming a mounted namespace the lab did not make is refused.

    Lab ``ack`` makes ``/run/netns/slack-<key>``, so a name such as ``slack-vpn`` fits its
    shape: the nsfs device and inode recorded before the mount are what prove it is its own.
    """
    lab_id = _killed_lab(("red", "blue"))
    ledger = Path(f"/run/simlab/ledger/{lab_id}.json")
    text = ledger.read_text()
    made = [json.loads(x)["made"] for x in text.splitlines() if '"made"' in x]
    assert {m["path"] for m in made} >= {f"/run/netns/sl{lab_id}-red", f"/run/netns/sl{lab_id}-blue"}
    red = os.stat(f"/run/netns/sl{lab_id}-red")
    assert {"dev": red.st_dev, "ino": red.st_ino} in [{"dev": m["dev"], "ino": m["ino"]} for m in made]
    # A stranger's namespace under a name of the lab's shape.  Made with unshare, not
    # `ip netns add`, which would bind-mount /run/netns over the lab's mounts and hide them.
    stranger = f"sl{lab_id}-vpn"
    Path(f"/run/netns/{stranger}").touch()
    subprocess.run(["unshare", f"--net=/run/netns/{stranger}", "true"], check=True)
    try:
        forged = (json.dumps({"add": {"kind": "netns", "path": f"/run/netns/{stranger}"}}) + "\n"
                  # ... and an identity copied from the lab's own red: still not this mount
                  + json.dumps({"made": {"path": f"/run/netns/{stranger}", "dev": red.st_dev,
                                         "ino": red.st_ino}}) + "\n")
        ledger.write_text(text + forged)
        p = _clean()
        assert f"/run/netns/{stranger}: a mount that is not the namespace the lab recorded" in p.stdout + p.stderr
        assert os.path.ismount(f"/run/netns/{stranger}")
        assert f"removed /run/netns/sl{lab_id}-red\n" in p.stdout  # its own still go
        assert not os.path.exists(f"/run/netns/sl{lab_id}-blue")
    finally:
        subprocess.run(["umount", f"/run/netns/{stranger}"], check=True)
        os.unlink(f"/run/netns/{stranger}")
    ledger.unlink(missing_ok=True)  # kept by clean because of the refused entry
    assert _leftovers(lab_id) == []


def test_clean_removes_a_stale_draft_only(tmp_path):
    from simlab import ledger as ledger_module

    old = tmp_path / "ab1.json.4242.draft"
    old.write_text('{"id": "ab1", "pid": 4242, "start": null}\n')
    os.utime(old, (1, 1))  # a SIGKILL in Ledger.create long ago
    fresh = tmp_path / "zz2.json.4343.draft"  # being created right now: not locked yet
    fresh.write_text("")
    locked = ledger_module.Ledger.create("cd3", str(tmp_path))  # a live draft: locked
    draft = tmp_path / "cd3.json.4444.draft"
    os.link(tmp_path / "cd3.json", draft)
    os.utime(draft, (1, 1))
    report = ledger_module.clean(str(tmp_path))
    assert str(old) in report.removed and not old.exists()
    assert fresh.exists() and draft.exists()
    locked.discard()


def test_make_lab_warns_when_args_expose_the_server():
    from simlab.cli import lab_server_warnings

    assert lab_server_warnings(["--no-browser", "--port", "8888"], root=True) == []
    assert lab_server_warnings(["--ip=127.0.0.1"], root=True) == []
    found = lab_server_warnings(["--ip", "0.0.0.0", "--IdentityProvider.token="], root=True)
    assert len(found) == 2 and "runs code and terminals as root" in found[0]
    assert "drops the login token" in found[1]
    assert "as your user" in lab_server_warnings(["--ServerApp.ip=10.1.2.3"], root=False)[0]
    p = subprocess.run([sys.executable, "-m", "simlab", "doctor", "--lab-args=--ip 0.0.0.0"],
                       capture_output=True, text=True, env=ENV, cwd=REPO, timeout=60)
    assert p.returncode == 0 and "warning: --ip 0.0.0.0" in p.stderr and p.stdout == ""
    make = (REPO / "Makefile").read_text()
    assert make.count('doctor --lab-args="$(ARGS)"') == 2  # lab and lab-present
