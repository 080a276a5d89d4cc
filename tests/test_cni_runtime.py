"""simlab.cni.Runtime: libcni's chaining rules, any executable plugin, simlab's own in-process."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from simlab.backends.model import ModelBackend
from simlab.cni import CNIError, ListRecorder, Runtime
from simlab.model import ROOT, NetnsAdd

PLUGINS = Path(__file__).parent / "cni_plugins"
VENV_BIN = os.path.dirname(sys.executable)


@pytest.fixture
def bin_dir(tmp_path):
    """A CNI_PATH with the learner's shell plugins (copied: git may drop the x bit)."""
    d = tmp_path / "bin"
    d.mkdir()
    for p in PLUGINS.iterdir():
        if p.name.startswith("learner-"):
            shutil.copy(p, d / p.name)
            (d / p.name).chmod(
                (d / p.name).stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
            )
    os.symlink(d / "learner-static", d / "learner-second")
    return d


@pytest.fixture
def log_dir(tmp_path):
    d = tmp_path / "log"
    d.mkdir()
    return d


def logs(log_dir):
    out = []
    for name in sorted(os.listdir(log_dir), key=lambda n: int(n.split("-")[0])):
        lines = (log_dir / name).read_text().split("\n", 4)
        out.append((name.split("-", 1)[1], lines[4].rstrip("\n")))
    return out


def test_learner_shell_plugin_runs(bin_dir, log_dir):
    seen = []
    rt = Runtime(
        [str(bin_dir)],
        env={"PATH": "/usr/bin:/bin", "LEARNER_LOG_DIR": str(log_dir)},
        on_invoke=seen.append,
    )
    conf = {"cniVersion": "1.0.0", "name": "learn", "type": "learner-static"}
    r = rt.add(conf, "ctr1", "/run/netns/anything")
    assert r.ips[0].address == "192.0.2.10/24"
    assert rt.cached_result(conf, "ctr1").ips[0].gateway == "192.0.2.1"
    rt.check(conf, "ctr1", "/run/netns/anything")
    rt.delete(conf, "ctr1", "/run/netns/anything")
    assert rt.cached_result(conf, "ctr1") is None
    assert [i.command for i in seen] == ["ADD", "CHECK", "DEL"]
    add = seen[0]
    assert add.env == {
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "ctr1",
        "CNI_NETNS": "/run/netns/anything",
        "CNI_ARGS": "",
        "CNI_IFNAME": "eth0",
        "CNI_PATH": str(bin_dir),
    }
    assert add.stdin == '{"cniVersion":"1.0.0","name":"learn","type":"learner-static"}'
    assert add.exit == 0 and json.loads(add.stdout)["ips"][0]["address"] == "192.0.2.10/24"
    assert add.path == str(bin_dir / "learner-static")
    assert rt.version("learner-static").supported_versions == ("0.4.0", "1.0.0")


@pytest.mark.parametrize(
    "version, del_has_prev", [("1.0.0", True), ("0.4.0", True), ("0.3.1", False)]
)
def test_chain_order_and_prev_result(bin_dir, log_dir, version, del_has_prev):
    rt = Runtime([str(bin_dir)], env={"PATH": "/usr/bin:/bin", "LEARNER_LOG_DIR": str(log_dir)})
    conf = {
        "cniVersion": version,
        "name": "chain",
        "plugins": [{"type": "learner-static", "k": 1}, {"type": "learner-second", "k": 2}],
    }
    rt.add(conf, "ctr1", "/run/netns/x", args={"IgnoreUnknown": "1", "K8S_POD_NAME": "web"})
    rt.delete(conf, "ctr1", "/run/netns/x")
    got = logs(log_dir)
    assert [name for name, _ in got] == [
        "ADD-learner-static",
        "ADD-learner-second",
        "DEL-learner-second",
        "DEL-learner-static",
    ]
    first, second = json.loads(got[0][1]), json.loads(got[1][1])
    assert "prevResult" not in first and second["prevResult"]["cniVersion"] == version
    assert first["name"] == second["name"] == "chain" and first["cniVersion"] == version
    assert all(("prevResult" in json.loads(stdin)) == del_has_prev for _, stdin in got[2:])


def test_check_needs_040_and_honours_disable_check(bin_dir):
    rt = Runtime([str(bin_dir)], env={"PATH": "/usr/bin:/bin"})
    with pytest.raises(
        CNIError, match='configuration version "0.3.1" does not support the CHECK command'
    ):
        rt.check({"cniVersion": "0.3.1", "name": "n", "type": "learner-static"}, "c", "/x")
    rt.check(
        {
            "cniVersion": "1.0.0",
            "name": "n",
            "disableCheck": True,
            "plugins": [{"type": "learner-garbage"}],
        },
        "c",
        "/x",
    )


def test_passthrough_chain_after_simlab_bridge_on_the_model(bin_dir, tmp_path):
    model = ModelBackend()
    model.apply(NetnsAdd("pod1"))
    rec = ListRecorder()
    seen = []
    rt = Runtime(
        [str(bin_dir)],
        backend=model,
        recorder=rec,
        on_invoke=seen.append,
        env={"PATH": "/usr/bin:/bin"},
    )
    conf = {
        "cniVersion": "1.0.0",
        "name": "podnet",
        "plugins": [
            {
                "type": "simlab-bridge",
                "bridge": "cni0",
                "isGateway": True,
                "ipam": {
                    "type": "simlab-host-local",
                    "subnet": "10.22.0.0/16",
                    "dataDir": str(tmp_path / "ipam"),
                },
            },
            {"type": "learner-passthrough"},
        ],
    }
    r = rt.add(conf, "pod1-sandbox", "/run/netns/pod1")
    assert [i.name for i in r.interfaces][0::2] == ["cni0", "eth0"] and r.ips[
        0
    ].address == "10.22.0.2/16"
    assert [(i.plugin, i.path.split("/")[-1]) for i in seen] == [
        ("simlab-bridge", "in-process:simlab-bridge"),
        ("learner-passthrough", "learner-passthrough"),
    ]
    assert seen[0].steps and seen[0].steps[0].title == "setupBridge"
    assert "setupVeth" in [s.title for s in rec.steps]
    rt.check(conf, "pod1-sandbox", "/run/netns/pod1")
    rt.delete(conf, "pod1-sandbox", "/run/netns/pod1")
    assert [i.command for i in seen][-2:] == ["DEL", "DEL"] and seen[-1].plugin == "simlab-bridge"
    assert json.loads(seen[-1].stdin)["prevResult"]["ips"][0]["address"] == "10.22.0.2/16"
    assert model.snapshot().netns["pod1"].link("eth0") is None


def test_default_path_finds_simlab_executables_and_traces_them(tmp_path):
    rt = Runtime(env={"PATH": "/usr/bin:/bin"})
    assert rt.cni_path == [VENV_BIN]
    seen = []
    rt.on_invoke = seen.append
    conf = {
        "cniVersion": "1.0.0",
        "name": "ipamonly",
        "type": "simlab-host-local",
        "subnet": "10.5.0.0/24",
        "ipam": {"type": "simlab-host-local", "subnet": "10.5.0.0/24", "dataDir": str(tmp_path)},
    }
    r = rt.add(conf, "c1", "/nonexistent")
    assert r.ips[0].address == "10.5.0.2/24" and seen[0].path == os.path.join(
        VENV_BIN, "simlab-host-local"
    )
    rt.delete(conf, "c1", "/nonexistent")
    assert rt.version("simlab-bridge").cni_version == "1.1.0"  # spec 1.1 (GC, STATUS)


def test_garbage_and_missing_plugins(bin_dir):
    rt = Runtime([str(bin_dir)], env={"PATH": "/usr/bin:/bin"})
    with pytest.raises(CNIError) as e:
        rt.add({"cniVersion": "1.0.0", "name": "n", "type": "learner-garbage"}, "c", "/x")
    assert (
        e.value.code == 999
        and "hello from my plugin" in e.value.msg
        and e.value.plugin == "learner-garbage"
    )
    with pytest.raises(CNIError) as e:
        rt.delete({"cniVersion": "1.0.0", "name": "n", "type": "learner-garbage"}, "c", "/x")
    assert e.value.msg.startswith(
        'netplugin failed but error parsing its diagnostic message "oops, not JSON\\n"'
    )
    assert e.value.invocation.exit == 1
    with pytest.raises(CNIError) as e:
        rt.version("learner-garbage")
    assert e.value.msg == 'netplugin failed: "oops\\n"'
    with pytest.raises(CNIError) as e:
        rt.add({"cniVersion": "1.0.0", "name": "n", "type": "nope"}, "c", "/x")
    assert e.value.msg == f'failed to find plugin "nope" in path [{bin_dir}]'
    with pytest.raises(CNIError) as e:
        rt.add({"cniVersion": "1.0.0", "name": "n", "type": "learner-static"}, "bad/id", "/x")
    assert (e.value.code, e.value.msg) == (4, "invalid characters in containerID")


def test_plugin_error_keeps_its_code(bin_dir):
    rt = Runtime([str(bin_dir)], env={"PATH": "/usr/bin:/bin"})
    with pytest.raises(CNIError) as e:
        rt.add({"cniVersion": "1.0.0", "name": "n", "type": "learner-passthrough"}, "c", "/x")
    assert (e.value.code, e.value.msg) == (7, "learner-passthrough needs a prevResult")
    assert "plugin type='learner-passthrough' failed (add)" in str(e.value)


@pytest.mark.reference
def test_reference_host_local_as_simlab_bridge_ipam_on_the_model(tmp_path):
    """On the model the bridge can delegate to Debian's host-local (it never touches a network)."""
    model = ModelBackend()
    model.apply(NetnsAdd("c1"))
    rt = Runtime(["/usr/lib/cni"], backend=model, env={"PATH": "/usr/bin:/bin"})
    conf = {
        "cniVersion": "1.0.0",
        "name": "refipam",
        "type": "simlab-bridge",
        "bridge": "br1",
        "ipam": {"type": "host-local", "subnet": "10.66.0.0/24", "dataDir": str(tmp_path)},
    }
    rec = ListRecorder()
    rt.recorder = rec
    assert rt.add(conf, "c1", "/run/netns/c1").ips[0].address == "10.66.0.2/24"
    ipam_step = next(s for s in rec.steps if s.title == "IPAM ADD")
    assert ipam_step.detail["delegated"][0]["path"] == "/usr/lib/cni/host-local"
    assert (tmp_path / "refipam" / "10.66.0.2").read_bytes() == b"c1\r\neth0"
    rt.delete(conf, "c1", "/run/netns/c1")
    assert sorted(os.listdir(tmp_path / "refipam")) == ["last_reserved_ip.0", "lock"]


def test_model_netns_paths_can_be_registered(tmp_path):
    model = ModelBackend()
    model.apply(NetnsAdd("web"))
    rt = Runtime(backend=model, netns_paths={"/var/run/docker/netns/abc123": "web"})
    conf = {
        "cniVersion": "1.0.0",
        "name": "dnet",
        "type": "simlab-bridge",
        "bridge": "docker9",
        "ipam": {"type": "simlab-host-local", "subnet": "172.30.0.0/16", "dataDir": str(tmp_path)},
    }
    r = rt.add(conf, "abc123", "/var/run/docker/netns/abc123")
    assert r.interfaces[2].sandbox == "/var/run/docker/netns/abc123"
    assert model.snapshot().netns["web"].link("eth0") is not None
    assert model.snapshot().netns[ROOT].link("docker9") is not None


def test_lab_timeline_gets_the_plugin_steps(tmp_path):
    from simlab import Lab
    from simlab.cni.lab_adapter import runtime_for_lab

    lab = Lab(backend="model")
    lab.apply(NetnsAdd("pod1"), title="ip netns add pod1")
    rt = runtime_for_lab(lab)
    conf = {
        "cniVersion": "1.0.0",
        "name": "podnet",
        "type": "simlab-bridge",
        "bridge": "cni0",
        "isGateway": True,
        "ipMasq": True,
        "ipam": {"type": "simlab-host-local", "subnet": "10.22.0.0/16", "dataDir": str(tmp_path)},
    }
    rt.add(conf, "pod1-id", "/run/netns/pod1")
    steps = list(lab.timeline)[1:]
    assert [s.mirrors for s in steps] == [
        "bridge.go: setupBridge",
        "ns_linux.go: GetNS",
        "bridge.go: setupVeth",
        "ipam.go: ExecAdd",
        "ipam_linux.go: ConfigureIface",
        "bridge.go: ensureAddr",
        "bridge.go: enableIPForward",
        "ipmasq_linux.go: SetupIPMasq",
        "libcni/api.go: AddNetworkList",
    ]
    veth = steps[2]
    assert (
        veth.title_in("en") == "simlab-bridge ADD: setupVeth" and veth.actor == "cni:simlab-bridge"
    )
    assert (
        veth.before.netns["pod1"].link("eth0") is None
        and veth.after.netns["pod1"].link("eth0") is not None
    )
    assert steps[3].detail["delegated"][0]["plugin"] == "simlab-host-local"
    call = steps[-1].detail
    assert (
        call["env"]["CNI_COMMAND"] == "ADD"
        and call["exit"] == 0
        and json.loads(call["stdout"])["ips"]
    )
    # all operations went through the lab: the timeline replays to the lab's state
    assert steps[-2].after == lab.snapshot()
