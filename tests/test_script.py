"""A lab to take home: the exported shell script rebuilds every scenario on a real kernel.

The script of each scenario (built on the model) runs as root in a throw-away network and
mount namespace, exactly as its header tells a reader to run it; a KernelBackend attached
to the namespaces it made then reads the state, which must be the model's lab's (random
MACs aside, as in tests/test_differential.py).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from test_differential import canon_state

from simlab import scenarios
from simlab.model import ROOT
from simlab.model import ops as o
from simlab.normalize import macs_in
from simlab.script import SANDBOX, command_line, script

REPO = Path(__file__).resolve().parent.parent

READ_BACK = """
import base64, json, os, pickle, subprocess, sys
from simlab.kernel import KernelBackend
paths = {"": "/proc/self/ns/net", **{n: "/run/netns/" + n for n in os.listdir("/run/netns")}}
kb = KernelBackend.attach(paths)
state = kb.snapshot()
kb.close()
# The sysctls the model lists, as `sysctl -n` reads them in each namespace.
wanted = json.loads(os.environ["SYSCTLS"])
sysctls = {}
for key, names in wanted.items():
    run = ["ip", "netns", "exec", key] if key else []
    sysctls[key] = {n: subprocess.run(run + ["sysctl", "-n", n], capture_output=True, text=True,
                                      check=True).stdout.strip() for n in names}
state = (state, sysctls)
sys.stdout.write("STATE " + base64.b64encode(pickle.dumps(state)).decode() + "\\n")
"""


def test_the_script_names_the_steps_and_quotes_for_a_shell():
    lab = scenarios.run("k8s")
    text = script(lab.timeline, name="k8s", lang="ja")
    assert text.startswith("#!/bin/sh\n") and "\nset -e\n" in text
    assert "unshare --net --mount" in text and "ラボ「k8s」" in text
    assert " netns 1" not in text and "peer name veth" in text and "netns $$" in text
    rule = o.Iptables("nat", ("-A", "CNI-1", "-m", "comment", "--comment", 'name: "cbr0"',
                              "-j", "ACCEPT"), netns="red")
    assert command_line(rule) == ("ip netns exec red iptables -t nat -A CNI-1 -m comment "
                                  "--comment 'name: \"cbr0\"' -j ACCEPT")
    assert command_line(o.Ping("10.0.0.2", netns="red")).endswith("|| true")
    assert command_line(o.LinkSet("eth0", netns="red", to_netns=ROOT)) == (
        "ip -n red link set eth0 netns $$")


@pytest.mark.kernel
@pytest.mark.parametrize("name", scenarios.names())
def test_the_exported_script_rebuilds_the_scenario(name, tmp_path):
    lab = scenarios.run(name)
    path = tmp_path / "lab.sh"
    path.write_text(script(lab.timeline, name=name, file=str(path)))
    reader = tmp_path / "read_back.py"
    reader.write_text(READ_BACK)
    run = SANDBOX.format(file=f"{path} && {sys.executable} {reader}")
    wanted = {k: sorted(ns.sysctls) for k, ns in lab.snapshot().netns.items()}
    p = subprocess.run(["sh", "-c", run], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO), "SYSCTLS": json.dumps(wanted)})
    assert p.returncode == 0, p.stderr[-3000:]
    line = next(x for x in p.stdout.splitlines() if x.startswith("STATE "))
    keep = frozenset(macs_in(path.read_text()))  # the MACs the script types
    state, sysctls = pickle.loads(base64.b64decode(line[6:]))
    kernel = _seen_from_outside(canon_state(state, keep))
    model = _seen_from_outside(canon_state(lab.snapshot(), keep))
    for key, values in sysctls.items():  # an attached reader knows only the usual few
        kernel[key]["sysctls"] = values
    assert sorted(kernel) == sorted(model)
    for key in model:
        for part in model[key]:
            assert kernel[key][part] == model[key][part], f"namespace {key!r}: {part} differ"


#: What a backend remembers of the links it made and ``ip`` cannot read back: a MAC set
#: by hand (and so its assign type), a bridge that once had ports.
_MEMORY = ("mac_set", "addr_assign_type", "had_ports")


def _seen_from_outside(state: dict) -> dict:
    """Leave out what only the lab that made the links knows (:data:`_MEMORY`) and the
    next ifindex (a counter in the kernel)."""
    for ns in state.values():
        ns.pop("next_ifindex")
        ns["links"] = tuple(tuple(kv for kv in link if kv[0] not in _MEMORY)
                            for link in ns["links"])
    return state


def test_simlab_export_writes_the_script(tmp_path):
    out = tmp_path / "bridge.sh"
    p = subprocess.run([sys.executable, "-m", "simlab", "export", "bridge", "--sh", str(out)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert p.returncode == 0, p.stderr
    assert f"sh: {out}" in p.stdout and os.access(out, os.X_OK)
    assert out.read_text() == script(scenarios.run("bridge").timeline, name="bridge",
                                     file="bridge.sh", lang="en")


def test_lab_script_and_a_ping_that_captures():
    lab = scenarios.run("veth-basics")
    assert lab.script(lang="en") == script(lab.timeline, name="veth-basics", lang="en")
    report = lab.ping("red", "10.0.0.2", capture=True)
    assert report.ok and {(s.netns, s.dev, s.way) for s in report.captured} >= {
        ("red", "veth1", "out"), ("blue", "veth2", "in")}
    assert "ping -c 1 10.0.0.2 || true" in lab.script()
