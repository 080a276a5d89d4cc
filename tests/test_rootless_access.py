"""Who gets the rootless kernel: the user-namespace switches, the chooser's words, doctor's lines.

These run anywhere (the machine's answers are replaced); tests/test_rootless.py runs
the real thing as a created user.
"""

from __future__ import annotations

import os

import pytest

from simlab import cli
from simlab.backends import choose as choose_module
from simlab.system import USERNS_SWITCHES, userns_blockers


def _proc_sys(tmp_path, **values: str) -> str:
    for name, value in values.items():
        path = tmp_path.joinpath(*name.split("__"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return str(tmp_path)


def test_no_switch_present_blocks_nothing(tmp_path):
    assert userns_blockers(str(tmp_path)) == []


@pytest.mark.parametrize(("name", "bad", "good"), [
    ("user.max_user_namespaces", "0", "96367"),
    ("kernel.unprivileged_userns_clone", "0", "1"),
    ("kernel.apparmor_restrict_unprivileged_userns", "1", "0"),
])
def test_each_switch_blocks_only_at_its_value_and_says_what_to_do(tmp_path, name, bad, good):
    key = name.replace(".", "__")
    assert userns_blockers(_proc_sys(tmp_path / "good", **{key: good})) == []
    [line] = userns_blockers(_proc_sys(tmp_path / "bad", **{key: bad}))
    assert line.startswith(f"{name} = {bad}: ") and "sudo sysctl -w" in line
    assert {s[0] for s in USERNS_SWITCHES} >= {name}


def test_not_root_without_user_namespaces_gets_the_model_and_the_reason(monkeypatch):
    why = ("unprivileged user namespaces are not available (unshare: write failed /proc/self/uid_map:"
           " Operation not permitted): kernel.apparmor_restrict_unprivileged_userns = 1: ...")
    monkeypatch.setattr(choose_module, "kernel_privileged", lambda: (False, "not root"))
    monkeypatch.setattr(choose_module, "rootless_available", lambda: (False, why))
    backend, name, reason = choose_module.choose("auto")
    assert name == "model" and why in reason
    with pytest.raises(PermissionError, match="allow user namespaces"):
        choose_module.choose("kernel")


def test_doctor_names_the_switch_and_the_fix(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cli, "rootless_available", lambda: (False, "user.max_user_namespaces = 0: ..."))
    lines = cli._userns_lines(root=False)
    assert lines == ["user namespaces (rootless kernel): not available: user.max_user_namespaces = 0: ..."]
    monkeypatch.setattr(cli, "userns_blockers", lambda: ["kernel.unprivileged_userns_clone = 0: x"])
    assert cli._userns_lines(root=True) == [
        "user namespaces for other users: blocked", "  kernel.unprivileged_userns_clone = 0: x"]
