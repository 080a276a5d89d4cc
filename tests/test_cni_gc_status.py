"""CNI spec 1.1.0's STATUS and GC: the skeleton, the plugins, the runtime, a containerd node.

Expected texts are the library's own words (``pkg/skel`` from 1.2.0); what
Debian 12's plugins (library 1.1.2) answer is checked against the installed
binaries, in ``unshare --net --mount``.  Kernel tests run the same scenario as
the model and compare.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

import simlab
from simlab.backends.model import ModelBackend
from simlab.cni import CNIError, Runtime, skel
from simlab.cni.plugins import host_local, runner
from simlab.cni.spec import DEBIAN_VERSIONS, PluginInfo
from simlab.cni.utils import format_chain_name
from simlab.model import NetnsAdd, NetnsDel
from simlab.runtime.kube import KubeError

from test_containerd import _canon

BIN = os.path.dirname(sys.executable)
SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(simlab.__file__)))
REF_DIR = "/usr/lib/cni"


def err(code, msg, details=""):
    d = {"code": code, "msg": msg, **({"details": details} if details else {})}
    return json.dumps(d, indent=4)


def conf(version="1.1.0", data_dir="/nonexistent", **extra):
    return json.dumps(
        {
            "cniVersion": version,
            "name": "podnet",
            "type": "simlab-bridge",
            "bridge": "cni0",
            "isGateway": True,
            "ipam": {"type": "simlab-host-local", "subnet": "10.88.0.0/16", "dataDir": data_dir},
            **extra,
        }
    )


NO_NAME = json.dumps({k: v for k, v in json.loads(conf()).items() if k != "name"})
PLUGIN_WIDE = {"CNI_PATH": "/nonexistent"}
ADD = {"CNI_COMMAND": "ADD", "CNI_NETNS": "/x", "CNI_IFNAME": "eth0", **PLUGIN_WIDE}
NO_STATUS = "config version does not allow STATUS"
NO_PATH = "required env variables [CNI_PATH] missing"
BAD_JSON = "error unmarshall network config: unexpected end of JSON input"
BAD_VERSION = (
    'failed to convert major version part "banana": strconv.Atoi: parsing "banana": invalid syntax'
)  # what libcni sets for GC and STATUS (ids empty)


def nothing(_args):
    return None


# ------------------------------------------------------------------ the skeleton
@pytest.mark.parametrize(
    "env, stdin, want",
    [
        # below spec 1.1.0 the verbs do not exist
        ({"CNI_COMMAND": "STATUS"}, conf("1.0.0"), (1, err(1, NO_STATUS))),
        ({"CNI_COMMAND": "GC"}, conf("0.4.0"), (1, err(1, "config version does not allow GC"))),
        # no container id, no interface name needed; CNI_PATH is
        ({"CNI_COMMAND": "GC", "CNI_PATH": ""}, conf(), (1, err(4, NO_PATH))),
        ({"CNI_COMMAND": "STATUS"}, "{", (1, err(6, BAD_JSON))),
        ({"CNI_COMMAND": "GC"}, NO_NAME, (1, err(7, "missing network name"))),
        ({"CNI_COMMAND": "GC"}, conf("banana"), (1, err(6, BAD_VERSION))),
        # a plugin without the verb: the skeleton answers success, nothing on stdout
        ({"CNI_COMMAND": "GC"}, conf(), (0, "")),
        ({"CNI_COMMAND": "STATUS"}, conf(), (0, "")),
        # other verbs keep library 1.1.2's order: the container id is checked first
        ({"CNI_COMMAND": "FROB"}, conf(), (1, err(3, "missing containerID"))),
    ],
    ids=[
        "status-1.0.0",
        "gc-0.4.0",
        "no-path",
        "bad-json",
        "no-name",
        "bad-version",
        "no-gc",
        "no-status",
        "frob",
    ],
)
def test_skeleton_gates_the_new_verbs(env, stdin, want):
    funcs = skel.Funcs(nothing, nothing, nothing)
    code, out, errtext = skel.dispatch({**PLUGIN_WIDE, **env}, stdin, funcs)
    assert (code, out) == want
    assert "Traceback" not in errtext


def test_a_plugin_declaring_only_old_versions_refuses_them():
    """A plugin built on a library without 1.1.0 (as Debian's) gets code 1 from a newer skeleton."""
    funcs = skel.Funcs(nothing, nothing, nothing, gc=nothing, status=nothing)
    old = PluginInfo("1.0.0", DEBIAN_VERSIONS)
    for verb in ("GC", "STATUS"):
        code, out, _ = skel.dispatch({**PLUGIN_WIDE, "CNI_COMMAND": verb}, conf(), funcs, info=old)
        assert (code, out) == (1, err(1, f"plugin version does not allow {verb}"))
    # and ADD of a 1.1.0 config is refused as by Debian's plugins
    code, out, _ = skel.dispatch(
        {**ADD, "CNI_CONTAINERID": "c1"},
        conf(),
        funcs,
        info=old,
    )
    details = 'config is "1.1.0", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]'
    assert (code, out) == (1, err(1, "incompatible CNI versions", details))


def test_status_errors_keep_their_code():
    def sick(_args):
        raise CNIError(50, "the plugin is not available", "its daemon is down")

    funcs = skel.Funcs(nothing, nothing, nothing, status=sick)
    code, out, _ = skel.dispatch({**PLUGIN_WIDE, "CNI_COMMAND": "STATUS"}, conf(), funcs)
    assert (code, out) == (1, err(50, "the plugin is not available", "its daemon is down"))


@pytest.mark.reference
@pytest.mark.parametrize("plugin", ["bridge", "host-local", "loopback", "portmap", "ptp"])
def test_debian_plugins_do_not_know_the_verbs(plugin, tmp_path):
    """What Debian 12's v1.1.1 plugins answer, as libcni calls them and with ids given."""

    def ref(env):
        full = {"PATH": "/usr/bin:/bin", "CNI_PATH": REF_DIR, **env}
        p = subprocess.run(
            ["unshare", "--net", "--mount", os.path.join(REF_DIR, plugin)],
            input=conf(data_dir=str(tmp_path)).encode(),
            env=full,
            capture_output=True,
            timeout=60,
        )
        return p.returncode, p.stdout.decode()

    for verb in ("GC", "STATUS"):
        assert ref({"CNI_COMMAND": verb}) == (1, err(3, "missing containerID"))
        got = ref({"CNI_COMMAND": verb, "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0"})
        assert got == (1, err(4, f"unknown CNI_COMMAND: {verb}"))
    assert os.listdir(tmp_path) == []  # nothing reserved, nothing released


@pytest.mark.parametrize("module", ["loopback", "portmap", "host_local"])
def test_plugins_without_the_verb_succeed_as_upstream(module):
    """Upstream loopback and portmap have ``FIXME GC``/``FIXME Status``, host-local no STATUS."""
    run = importlib.import_module(f"simlab.cni.plugins.{module}").run
    for verb in ("GC", "STATUS"):
        if (module, verb) == ("host_local", "GC"):
            continue
        assert run({"CNI_COMMAND": verb, **PLUGIN_WIDE}, conf()) == (0, "", "")


# ------------------------------------------------------------------ host-local
def _reserve(data_dir, cid, ifname="eth0"):
    env = {**ADD, "CNI_CONTAINERID": cid, "CNI_IFNAME": ifname}
    code, out, _ = host_local.run(env, conf(data_dir=data_dir))
    assert code == 0, out
    return json.loads(out)["ips"][0]["address"].split("/")[0]


def _files(data_dir):
    return sorted(os.listdir(os.path.join(data_dir, "podnet")))


def _gc_conf(data_dir, valid, version="1.1.0"):
    obj = json.loads(conf(version, data_dir))
    obj["cni.dev/valid-attachments"] = [{"containerID": c, "ifname": i} for c, i in valid]
    return json.dumps(obj)


def test_host_local_gc_releases_exactly_the_invalid_leases(tmp_path):
    d = str(tmp_path)
    keep, gone, second = _reserve(d, "keep"), _reserve(d, "gone"), _reserve(d, "keep", "eth1")
    # a reservation from before ifname was recorded: just the id
    with open(os.path.join(d, "podnet", "10.88.0.50"), "w") as f:
        f.write("legacy")
    with open(os.path.join(d, "podnet", "10.88.0.51"), "w") as f:
        f.write("stale-legacy")
    before = _files(d)
    code, out, errtext = host_local.run(
        {"CNI_COMMAND": "GC", **PLUGIN_WIDE}, _gc_conf(d, [("keep", "eth0"), ("legacy", "eth0")])
    )
    assert (code, out, errtext) == (0, "", "")
    # gone and keep's eth1 are released (the same container's other interface is another
    # attachment); the bookkeeping files stay
    assert sorted(set(before) - set(_files(d))) == sorted([gone, second, "10.88.0.51"])
    assert _files(d) == sorted([keep, "10.88.0.50", "last_reserved_ip.0", "lock"])
    # an empty valid set releases everything (and the addresses can be had again)
    assert host_local.run({"CNI_COMMAND": "GC", **PLUGIN_WIDE}, _gc_conf(d, []))[0] == 0
    assert _files(d) == ["last_reserved_ip.0", "lock"]
    assert _reserve(d, "newcomer") == "10.88.0.5"  # host-local goes on from the last one it gave
    assert _files(d) == ["10.88.0.5", "last_reserved_ip.0", "lock"]


def test_host_local_gc_bad_attachments_are_a_json_error(tmp_path):
    obj = json.loads(conf(data_dir=str(tmp_path)))
    obj["cni.dev/valid-attachments"] = {"containerID": "a"}
    code, out, errtext = host_local.run({"CNI_COMMAND": "GC", **PLUGIN_WIDE}, json.dumps(obj))
    assert (code, out) == (
        1,
        err(
            999,
            "failed to load netconf: json: cannot unmarshal object into Go struct field "
            "NetConf.cni.dev/valid-attachments of type []types.GCAttachment",
        ),
    )
    assert "Traceback" not in errtext


def test_host_local_gc_as_an_executable(tmp_path):
    d = str(tmp_path)
    _reserve(d, "keep"), _reserve(d, "gone")
    p = subprocess.run(
        [os.path.join(BIN, "simlab-host-local")],
        input=_gc_conf(d, [("keep", "eth0")]).encode(),
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": SOURCE, "CNI_COMMAND": "GC", "CNI_PATH": BIN},
        capture_output=True,
        timeout=60,
    )
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"")
    assert _files(d) == ["10.88.0.2", "last_reserved_ip.0", "lock"]


# ------------------------------------------------------------------ the runtime
@pytest.fixture
def model():
    m = ModelBackend()
    for key in ("pod1", "pod2", "pod3"):
        m.apply(NetnsAdd(key))
    return m


def _list(data_dir, version="1.1.0", **bridge_extra):
    one = json.loads(conf(version, data_dir, ipMasq=True, **bridge_extra))
    return {
        "cniVersion": version,
        "name": "podnet",
        "plugins": [{k: v for k, v in one.items() if k not in ("cniVersion", "name")}],
    }


def _nat(model):
    return [line for line in model.snapshot().netns[""].iptables.get("nat", ()) if "CNI-" in line]


def _three_then_leak(model, data_dir, version="1.1.0"):
    """pod1 lives; pod2's namespace goes without DEL (cached); pod3 the same, cache lost too."""
    rt = Runtime(backend=model)
    net = _list(data_dir, version)
    for key in ("pod1", "pod2", "pod3"):
        rt.add(net, f"{key}-id", f"/run/netns/{key}")
    for key in ("pod2", "pod3"):
        model.apply(NetnsDel(key))
    rt.forget_cached("pod3-id")
    return rt, net


def test_runtime_gc_deletes_stale_attachments_then_asks_the_plugins(model, tmp_path):
    rt, net = _three_then_leak(model, str(tmp_path))
    live = format_chain_name("podnet", "pod1-id")
    live_rules = [line for line in _nat(model) if live in line]
    stale = rt.gc(net, [("pod1-id", "eth0")])
    assert [(a.container_id, a.ifname) for a in stale] == [("pod2-id", "eth0")]
    assert [(i.plugin, i.command) for i in rt.invocations[-2:]] == [
        ("simlab-bridge", "DEL"),
        ("simlab-bridge", "GC"),
    ]
    gc_stdin = json.loads(rt.invocations[-1].stdin)
    assert gc_stdin["cni.dev/valid-attachments"] == [{"containerID": "pod1-id", "ifname": "eth0"}]
    assert gc_stdin["cni.dev/attachments"] == gc_stdin["cni.dev/valid-attachments"]
    assert rt.invocations[-1].env["CNI_CONTAINERID"] == "" and "prevResult" not in gc_stdin
    # exactly pod1's lease and masquerade chain are left
    assert _files(str(tmp_path)) == ["10.88.0.2", "last_reserved_ip.0", "lock"]
    assert _nat(model) == live_rules and len(live_rules) == 4
    assert [a.container_id for a in rt.cached_attachments()] == ["pod1-id"]
    # a second GC finds nothing more
    assert rt.gc(net, [("pod1-id", "eth0")]) == []


def test_runtime_gc_below_1_1_0_only_deletes_what_it_cached(model, tmp_path):
    rt, net = _three_then_leak(model, str(tmp_path), version="1.0.0")
    rt.gc(net, [("pod1-id", "eth0")])
    assert "GC" not in [i.command for i in rt.invocations]
    # pod2 (cached) got its DEL; pod3's lease leaked for good: no plugin heard of GC
    assert _files(str(tmp_path)) == ["10.88.0.2", "10.88.0.4", "last_reserved_ip.0", "lock"]


def test_runtime_gc_disabled(model, tmp_path):
    rt, net = _three_then_leak(model, str(tmp_path))
    net["disableGC"] = True
    assert rt.gc(net, []) == []
    assert [i.command for i in rt.invocations] == ["ADD"] * 3


def test_runtime_gc_goes_on_after_an_error_and_joins_them(model, tmp_path):
    rt, net = _three_then_leak(model, str(tmp_path))
    net["plugins"].append({"type": "not-installed"})
    with pytest.raises(CNIError) as e:
        rt.gc(net, [("pod1-id", "eth0")])
    # the stale DEL (reverse order: not-installed first) failed, the bridge still got its GC
    lines = e.value.msg.splitlines()
    assert lines[0].startswith(
        'failed to delete stale attachment pod2-id eth0: plugin type="not-installed" '
        'name="podnet" failed (delete): failed to find plugin "not-installed" in path ['
    )
    assert lines[1].startswith(
        'failed to GC plugin not-installed: failed to find plugin "not-installed"'
    )
    assert ("simlab-bridge", "GC") in [(i.plugin, i.command) for i in rt.invocations]
    assert _files(str(tmp_path)) == ["10.88.0.2", "last_reserved_ip.0", "lock"]


def test_runtime_status(model, tmp_path):
    rt = Runtime(backend=model)
    rt.status(_list(str(tmp_path), "1.0.0"))
    assert rt.invocations == []  # below 1.1.0: nobody is asked
    rt.status(_list(str(tmp_path)))
    assert [(i.plugin, i.command, i.exit, i.stdout) for i in rt.invocations] == [
        ("simlab-bridge", "STATUS", 0, "")
    ]
    sick = skel.Funcs(nothing, nothing, nothing, status=lambda a: (_ for _ in ()).throw(
        CNIError(51, "existing containers may have limited connectivity")
    ))
    rt.in_process["sick"] = runner(sick, plugin="sick")
    net = _list(str(tmp_path))
    net["plugins"].append({"type": "sick"})
    with pytest.raises(CNIError) as e:
        rt.status(net)
    assert (e.value.code, e.value.plugin, e.value.command) == (51, "sick", "STATUS")
    # the IPAM plugin is missing: the bridge's forwarded STATUS fails
    net = _list(str(tmp_path))
    net["plugins"][0]["ipam"]["type"] = "not-installed"
    with pytest.raises(CNIError, match='failed to find plugin "not-installed"'):
        rt.status(net)


def test_bridge_gc_leaves_other_networks_chains_alone(model, tmp_path):
    rt = Runtime(backend=model)
    a, b = _list(str(tmp_path)), _list(str(tmp_path))
    b["name"] = "othernet"
    rt.add(a, "pod1-id", "/run/netns/pod1")
    rt.add(b, "pod2-id", "/run/netns/pod2")
    other = format_chain_name("othernet", "pod2-id")
    before = [line for line in _nat(model) if other in line]
    rt.gc(a, [])
    assert _nat(model) == before and len(before) == 4
    assert sorted(os.listdir(tmp_path)) == ["othernet", "podnet"]
    assert _files(str(tmp_path)) == ["last_reserved_ip.0", "lock"]


# ------------------------------------------------------------------ a containerd node
def _node_scenario(lab, version="1.1.0"):
    """Three pods, ipMasq; b crashes keeping libcni's cache, c losing it; then STATUS and GC."""
    k = lab.k8s
    k.use_runtime("containerd")
    conf_obj = json.loads(k.read_conflist())
    conf_obj["cniVersion"] = version
    conf_obj["plugins"][0]["ipMasq"] = True
    k.write_conflist(conf_obj)
    out = {"status": k.cni_status()}
    for name in ("a", "b", "c"):
        k.run(name)
    out["before"] = sorted(k.reservations())
    k.crash("b")
    k.crash("c", cache=False)
    out["leaked"] = sorted(k.reservations())
    report = k.gc()
    out["report"] = str(report).replace(k.pod("a").sandbox_id, "<a>")
    out["released"], out["chains"] = report.released, len(report.chains)
    out["after"] = sorted(k.reservations())
    nat = lab.snapshot().netns[simlab.model.ROOT].iptables.get("nat", ())
    out["nat"] = sorted(line for line in nat if "CNI-" in line)
    out["netns"] = sorted(key for key in lab.snapshot().netns if key.startswith("cni-"))
    out["state"] = lab.snapshot()
    return out


def test_gc_on_a_containerd_node_collects_exactly_the_crashed_pods():
    with simlab.Lab(backend="model") as lab:
        got = _node_scenario(lab)
        a = lab.k8s.pod("a")
        ready = {"type": "NetworkReady", "status": True, "reason": "", "message": ""}
        assert got["status"] == ready
        assert got["before"] == got["leaked"] == ["10.244.1.2", "10.244.1.3", "10.244.1.4"]
        assert got["released"] == ["10.244.1.3", "10.244.1.4"] and got["after"] == ["10.244.1.2"]
        assert got["chains"] == 2
        # what is left in nat is a's masquerade, and a still reaches the node's gateway
        assert got["nat"]
        assert all(a.sandbox_id in line or line.startswith("-N") for line in got["nat"])
        assert got["netns"] == [a.netns]
        assert lab.k8s.reach("a", "10.244.1.1").delivered
        ours = ("cni-status", "cni-gc", "crash")
        steps = [s for s in lab.timeline if s.detail.get("k8s") in ours]
        assert [s.detail["k8s"] for s in steps] == ["cni-status", "crash", "crash", "cni-gc"]
        assert "containerd v2.0" in steps[0].mirrors and "CRI-O" in steps[-1].mirrors
        # the next pod is served (host-local goes on from the last address it gave)
        assert lab.k8s.run("d").ip == "10.244.1.5"


def test_a_1_0_0_list_is_not_asked_and_gc_finds_only_the_cached_leak():
    with simlab.Lab(backend="model") as lab:
        got = _node_scenario(lab, version="1.0.0")
        assert got["status"]["status"] is True
        assert got["released"] == ["10.244.1.3"]  # b's, by the DEL libcni synthesizes
        assert got["after"] == ["10.244.1.2", "10.244.1.4"]  # c's lease leaked for good
        gc = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-gc")
        a = lab.k8s.pod("a").sandbox_id
        assert gc.detail["valid"] == [[a, "lo"], [a, "eth0"]]
        status = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-status")
        assert "(CNI STATUS: no plugin)" in status.title["en"]


def test_cni_status_not_ready():
    with simlab.Lab(backend="model") as lab:
        k = lab.k8s
        k.use_runtime("containerd")
        conf_obj = json.loads(k.read_conflist())
        conf_obj["cniVersion"] = "1.1.0"
        conf_obj["plugins"][0]["ipam"]["type"] = "not-installed"
        k.write_conflist(conf_obj)
        cond = k.cni_status()
        assert (cond["status"], cond["reason"]) == (False, "NetworkPluginNotReady")
        assert cond["message"].startswith(
            'Network plugin returns error: failed to find plugin "not-installed" in path ['
        )
        sick = skel.Funcs(nothing, nothing, nothing, status=lambda a: (_ for _ in ()).throw(
            CNIError(50, "the plugin is not available", "calico-node is not running")
        ))
        k.write_conflist({"cniVersion": "1.1.0", "name": "net", "plugins": [{"type": "sick"}]})
        k.add_in_process_plugin("sick", runner(sick, plugin="sick"))
        assert k.cni_status()["message"] == (
            "Network plugin returns error: the plugin is not available; calico-node is not running"
        )
        k.node.cni_config_dir.clear()
        not_loaded = "Network plugin returns error: cni plugin not initialized"
        assert k.cni_status()["message"] == not_loaded


def test_the_new_verbs_need_a_containerd_node():
    with simlab.Lab(backend="model") as lab:
        for call in (lab.k8s.cni_status, lab.k8s.gc):
            with pytest.raises(KubeError, match="dockershim \\(2017\\): CNI"):
                call()
        lab.k8s.run("a")
        with pytest.raises(KubeError, match="use_runtime\\('containerd'\\)"):
            lab.k8s.crash("a")


@pytest.mark.kernel
def test_gc_scenario_is_the_same_on_model_and_kernel():
    with simlab.Lab(backend="model") as model:
        want = _node_scenario(model)
        want_a = model.k8s.pod("a").sandbox_id
    kernel = simlab.Lab(backend="kernel")
    try:
        got = _node_scenario(kernel)
        got_a = kernel.k8s.pod("a").sandbox_id
        for key in ("status", "before", "leaked", "released", "chains", "after", "netns", "report"):
            assert got[key] == want[key], key
        # the comment's quotes escaped as iptables -S prints them, on both backends
        assert [line.replace(got_a, "<a>") for line in got["nat"]] == [
            line.replace(want_a, "<a>") for line in want["nat"]
        ]
        assert _canon(got["state"], want["state"]) == _canon(want["state"], got["state"])
    finally:
        kernel.close()


@pytest.mark.kernel
@pytest.mark.reference
def test_debian_plugins_on_a_containerd_node():
    """Old plugins: a 1.0.0 list never gets the new verbs; a 1.1.0 one makes the node NotReady."""
    kernel = simlab.Lab(backend="kernel")
    try:
        k = kernel.k8s
        k.use_runtime("containerd")
        k.use_plugin("reference")
        assert k.cni_status()["status"] is True  # 1.0.0: nobody asked
        for name in ("a", "b", "c"):
            k.run(name)
        k.crash("b")
        k.crash("c", cache=False)
        report = k.gc()
        assert report.released == ["10.244.1.3"] and report.errors == ""
        assert sorted(k.reservations()) == ["10.244.1.2", "10.244.1.4"]
        conf_obj = json.loads(k.read_conflist())
        conf_obj["cniVersion"] = "1.1.0"
        k.write_conflist(conf_obj)
        cond = k.cni_status()
        assert (cond["status"], cond["message"]) == (
            False,
            "Network plugin returns error: missing containerID",
        )
    finally:
        kernel.close()


SICK = """#!{python}
import sys
from simlab.cni import skel
from simlab.cni.spec import CNIError


def status(_args):
    raise CNIError(50, "the plugin is not available", "its agent is not running")


def refuse(_args):
    raise CNIError(50, "the plugin is not available")


sys.exit(skel.plugin_main(skel.Funcs(refuse, refuse, refuse, status=status), "sick", "sick"))
"""


@pytest.mark.parametrize("backend", ["model", pytest.param("kernel", marks=pytest.mark.kernel)])
def test_status_on_both_backends(backend, tmp_path):
    """STATUS of an executable plugin (50) and of a bridge whose IPAM plugin is missing."""
    exe = tmp_path / "sick"
    exe.write_text(SICK.format(python=sys.executable))
    exe.chmod(0o755)
    lab = simlab.Lab(backend=backend)
    try:
        k = lab.k8s
        k.use_runtime("containerd")
        k.use_plugin("custom", type="sick", cni_path=[str(tmp_path)])
        conf_obj = json.loads(k.read_conflist())
        conf_obj["cniVersion"] = "1.0.0"
        k.write_conflist(conf_obj)
        assert k.cni_status()["status"] is True  # 1.0.0: the plugin is never asked
        conf_obj["cniVersion"] = "1.1.0"
        k.write_conflist(conf_obj)
        assert k.cni_status() == {
            "type": "NetworkReady",
            "status": False,
            "reason": "NetworkPluginNotReady",
            "message": "Network plugin returns error: the plugin is not available; "
            "its agent is not running",
        }
        k.use_plugin("simlab-bridge")
        conf_obj = json.loads(k.read_conflist())
        conf_obj["cniVersion"] = "1.1.0"
        conf_obj["plugins"][0]["ipam"]["type"] = "not-installed"
        k.write_conflist(conf_obj)
        message = k.cni_status()["message"]
        assert message.startswith(
            'Network plugin returns error: failed to find plugin "not-installed" in path ['
        )
        conf_obj["plugins"][0]["ipam"]["type"] = "simlab-host-local"
        k.write_conflist(conf_obj)
        assert k.cni_status()["status"] is True
        asked = [s for s in lab.timeline if s.title["en"] == "simlab-bridge STATUS: IPAM STATUS"]
        assert asked  # the bridge forwarded STATUS to host-local
    finally:
        lab.close()
