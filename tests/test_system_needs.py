"""The machine's own tools: a missing one is named, with the command that installs it.

Missing tools are made by pointing ``simlab.system.PATH`` at a folder that holds only
some of them (symlinks to the real ones), so nothing on this machine is removed.
"""

from __future__ import annotations

import shutil

import pytest

import simlab
from simlab import system
from simlab.backends import choose


def only(tmp_path, *commands: str) -> str:
    """A PATH folder with just these commands of the machine's PATH."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for command in commands:
        real = shutil.which(command, path=system.PATH)
        if real:
            (folder / command).symlink_to(real)
    return str(folder)


def test_every_need_names_its_package_and_the_command():
    for need in system.NEEDS:
        assert need.advice().endswith(f": apt-get install {need.package}")
        assert need.purpose in ("kernel", "reference", "ui")
    assert system.packages(list(system.NEEDS)) == [
        "iproute2", "util-linux", "iptables", "containernetworking-plugins", "chromium",
        "libatomic1", "fonts-noto-cjk",
    ]


def test_missing_and_require(tmp_path, monkeypatch):
    monkeypatch.setattr(system, "PATH", only(tmp_path, "ip", "bridge", "nsenter"))
    assert [n.command for n in system.missing("kernel")] == ["iptables", "iptables-save"]
    system.require("ip")  # found: nothing happens
    system.require("sh")  # not a tool simlab installs: not its business
    with pytest.raises(simlab.NetError) as info:
        system.require("iptables")
    err = info.value
    assert err.exit == 127 and "apt-get install iptables" in err.message
    assert "docker's NAT" in err.message and "Lab(backend='model')" in err.hint


def test_auto_picks_the_model_and_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(system, "PATH", only(tmp_path, "ip", "bridge", "nsenter"))
    monkeypatch.setattr(choose, "kernel_privileged", lambda: (True, "root (test)"))
    lab = simlab.Lab()
    assert lab.backend == "model"
    assert "the kernel backend needs iptables for docker's NAT" in lab.why
    assert "apt-get install iptables" in lab.why
    with pytest.raises(choose.KernelUnavailable) as info:
        simlab.Lab(backend="kernel")
    assert "apt-get install iptables" in str(info.value) and "backend='model'" in str(info.value)


def test_doctor_lists_every_missing_piece(tmp_path, monkeypatch):
    from simlab.cli import doctor_lines

    monkeypatch.setattr(system, "PATH", only(tmp_path, "ip", "nsenter"))
    text = "\n".join(doctor_lines())
    for command, package in (("bridge", "iproute2"), ("iptables", "iptables"),
                             ("iptables-save", "iptables")):
        line = next(x for x in text.splitlines() if x.strip().startswith(f"{command}:"))
        assert "missing" in line and line.endswith(f"apt-get install {package}"), line
    assert "install what is missing: apt-get install iproute2 iptables" in text


def test_install_says_what_it_would_install_when_it_cannot(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(system, "PATH", only(tmp_path, "ip", "bridge", "nsenter"))
    monkeypatch.setattr(system, "_can_apt", lambda: False)
    assert system.main(["install", "lab"]) == 0
    out = capsys.readouterr().out
    assert "not installing iptables" in out and "apt-get install iptables" in out
    assert system.main(["install", "nonsense"]) == 2


@pytest.mark.kernel
def test_a_tool_removed_mid_way_fails_the_step_and_builds_nothing(tmp_path, monkeypatch):
    with simlab.Lab(backend="kernel") as lab:
        lab.ip("netns add red")
        before = lab.snapshot()
        steps = len(lab.timeline)
        monkeypatch.setattr(system, "PATH", only(tmp_path, "ip", "bridge", "nsenter"))
        with pytest.raises(simlab.NetError) as info:
            lab.docker.run("web", net="bridge")
        assert "iptables not found" in info.value.message
        assert "apt-get install iptables" in info.value.message
        assert lab.snapshot() == before and len(lab.timeline) == steps
        result = lab.run("iptables -t nat -S")  # a show: the same words, never a traceback
        assert result.exit == 127 and "apt-get install iptables" in result.stderr
        monkeypatch.undo()
        assert lab.docker.run("web", net="bridge").name == "web"  # and it works once it is back


@pytest.mark.kernel
def test_plugins_missing_mid_way(tmp_path, monkeypatch):
    from simlab.runtime import kube_cni
    from simlab.runtime.kube import KubeError

    with simlab.Lab(backend="kernel") as lab:
        monkeypatch.setattr(kube_cni, "REFERENCE_DIR", str(tmp_path))
        with pytest.raises(KubeError) as info:
            lab.k8s.use_plugin("reference")
        assert "apt-get install containernetworking-plugins" in str(info.value)
        assert lab.k8s.run("a").status == "Running"  # the plugin in use is unchanged
        monkeypatch.undo()
        lab.k8s.use_plugin("reference")
        lab.k8s._node(None).cni_path = [str(tmp_path)]  # the plugins vanish after use_plugin
        pods = set(lab.snapshot().netns)
        b = lab.k8s.run("b")  # as kubelet: the pod waits, the event says why, no sandbox is left
        assert b.status == "ContainerCreating"
        assert f'failed to find plugin "bridge" in path [{tmp_path}]' in lab.k8s.describe("b")
        assert set(lab.snapshot().netns) == pods
