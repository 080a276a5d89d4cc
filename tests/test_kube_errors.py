"""What a learner will break: the pod waits in ContainerCreating, says why, and nothing leaks."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

import simlab
from simlab.model import ROOT
from simlab.runtime.kube import KubeError


@pytest.fixture
def lab():
    lab = simlab.Lab(backend="model")
    lab.docker.start()
    yield lab
    lab.close()




def veths(state) -> set[str]:
    return {link.ifname for link in state.netns[ROOT].links.values() if link.kind == "veth"}


def assert_no_leak(lab, before) -> None:
    after = lab.snapshot()
    assert sorted(after.netns) == sorted(before.netns)
    assert veths(after) == veths(before)
    assert lab.k8s.reservations() == []
    assert [c.name for c in lab.docker.containers()] == []


def conflist(plugin: dict, name: str = "k8s-pod-network") -> str:
    return json.dumps({"cniVersion": "1.0.0", "name": name, "plugins": [plugin]})


def plugin_script(tmp_path, name: str, body: str) -> str:
    """An executable CNI plugin written in Python (the learner's own), in tmp_path/bin."""
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    exe = d / name
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    exe.chmod(0o755)
    return str(d)


def events(pod) -> str:
    return "\n".join(f"{e.type} {e.reason} {e.message}" for e in pod.events)


def test_missing_conflist_network_not_ready(lab):
    before = lab.snapshot()
    lab.k8s.cni_config_dir.clear()
    first = len(lab.timeline)
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating" and pod.ip == ""
    assert "Warning NetworkNotReady network is not ready" in events(pod)
    assert "cni config uninitialized" in events(pod)
    step = lab.timeline[-1]
    assert step.detail["k8s"] == "network-not-ready"
    assert "No networks found in /etc/cni/net.d" in step.why["en"]
    # kubelet never started a sandbox (the "host" step is flannel's FORWARD rules, not a pod's)
    assert [s.actor for s in list(lab.timeline)[first:] if s.actor != "host"] == ["kubelet"]
    assert_no_leak(lab, before)
    with pytest.raises(KubeError, match=r'container not found \("web"\)'):
        lab.k8s.exec("web", "ip a")
    assert "0/1       ContainerCreating" in lab.k8s.get_pods()
    # the learner fixes it; kubelet's next sync starts the pod
    lab.k8s.use_plugin("simlab-bridge")
    assert lab.k8s.sync() == [pod]
    assert pod.status == "Running" and pod.ip == "10.244.1.2"


@pytest.mark.parametrize(
    "text, why",
    [
        ("{not json", "error parsing configuration list"),
        ('{"cniVersion": "1.0.0", "name": "x", "plugins": []}', "no plugins in list"),
        ('{"cniVersion": "1.0.0", "plugins": [{"type": "simlab-bridge"}]}', "no name"),
        ('{"cniVersion": "1.0.0", "name": "x", "plugins": [{"bridge": "cni0"}]}', "missing 'type'"),
    ],
)
def test_invalid_conflist(lab, text, why):
    before = lab.snapshot()
    path = lab.k8s.write_conflist(text)
    assert path == "/etc/cni/net.d/10-simlab-bridge.conflist" and lab.k8s.read_conflist() == text
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    problems = lab.timeline[-1].detail["problems"]
    assert problems[0].startswith(f"Error loading CNI config file {path}: ")
    assert why in problems[0]
    assert "NetworkNotReady" in lab.k8s.describe("web")
    assert_no_leak(lab, before)


def test_a_later_valid_file_is_used(lab):
    """kubelet skips a broken file and takes the next one in name order."""
    lab.k8s.write_conflist("{", filename="05-broken.conflist")
    pod = lab.k8s.run("web")
    assert pod.status == "Running"
    step = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
    assert step.detail["conf_path"] == "/etc/cni/net.d/10-simlab-bridge.conflist"
    assert step.detail["warnings"][0].startswith(
        "Error loading CNI config file /etc/cni/net.d/05-broken"
    )


def test_plugin_not_on_cni_path(lab):
    before = lab.snapshot()
    lab.k8s.write_conflist(conflist({"type": "nope"}))
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    ev = events(pod)
    assert (
        "Warning FailedCreatePodSandBox Failed to create pod sandbox: rpc error: code = Unknown "
        "desc = "
        "failed to setup network for sandbox" in ev
    )
    assert (
        'plugin type="nope" name="k8s-pod-network" failed (add): '
        'failed to find plugin "nope" in path [' in ev
    )
    kinds = [s.detail.get("k8s") for s in lab.timeline]
    assert kinds.index("cni-failed") < kinds.index("cni-del")  # the whole list gets its DEL
    assert_no_leak(lab, before)
    assert lab.docker.containers() == []


def test_learners_plugin_fails(lab, tmp_path):
    log = tmp_path / "calls"
    path = plugin_script(
        tmp_path,
        "my-cni",
        f"""
        import os, sys
        with open({str(log)!r}, "a") as f:
            f.write(os.environ["CNI_COMMAND"] + "\\n")
        if os.environ["CNI_COMMAND"] == "ADD":
            sys.stdout.write('{{"code": 100, "msg": "no pizza", "details": "the oven is cold"}}')
            sys.exit(1)
    """,
    )
    before = lab.snapshot()
    lab.k8s.use_plugin("custom", type="my-cni", cni_path=[path])
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    assert (
        'plugin type="my-cni" name="k8s-pod-network" failed (add): no pizza; the oven is cold'
        in events(pod)
    )
    assert log.read_text().split() == ["ADD", "DEL"]
    assert_no_leak(lab, before)


@pytest.mark.parametrize(
    "exit_code, expected",
    [
        (0, "failed to parse plugin output"),
        (1, "netplugin failed but error parsing its diagnostic message"),
    ],
)
def test_learners_plugin_prints_garbage(lab, tmp_path, exit_code, expected):
    path = plugin_script(
        tmp_path,
        "junk",
        f"""
        import os, sys
        if os.environ["CNI_COMMAND"] == "ADD":
            print("hello, I am not JSON")
            sys.exit({exit_code})
    """,
    )
    before = lab.snapshot()
    lab.k8s.use_plugin("custom", type="junk", cni_path=[path])
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    assert expected in events(pod)
    assert_no_leak(lab, before)


def test_failure_after_ipam_releases_the_address(lab):
    """simlab-bridge fails in ensureAddr (docker0 holds another address): IPAM DEL, netns gone."""
    before = lab.snapshot()
    ipam = {
        "type": "simlab-host-local",
        "subnet": "10.244.1.0/24",
        "dataDir": lab.k8s.node.ipam_dir,
    }
    lab.k8s.write_conflist(
        conflist({"type": "simlab-bridge", "bridge": "docker0", "isGateway": True, "ipam": ipam})
    )
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    assert (
        'failed to set bridge addr: "docker0" already has an IP address different from '
        "10.244.1.1/24"
    ) in events(pod)
    assert_no_leak(lab, before)
    docker0 = lab.snapshot().netns[ROOT].link("docker0")
    node = lab.snapshot().netns[ROOT]
    assert not [link for link in node.links.values() if link.master == docker0.ifindex]


def test_ipam_exhausted(lab):
    lab.k8s.use_plugin("simlab-bridge", subnet="10.244.9.0/30")
    first = lab.k8s.run("a")
    before = lab.snapshot()
    second = lab.k8s.run("b")
    assert first.status == "Running" and first.ip == "10.244.9.2"
    assert second.status == "ContainerCreating"
    assert "no IP addresses available in range set: 10.244.9.1-10.244.9.2" in events(second)
    assert sorted(lab.snapshot().netns) == sorted(before.netns)
    assert lab.k8s.reservations() == ["10.244.9.2"]
    lab.k8s.delete("b")  # a pod without a sandbox goes at once
    lab.k8s.delete("a")
    assert lab.k8s.reservations() == []


def test_del_failure_keeps_the_pod_terminating_until_fixed(lab, tmp_path):
    flag = tmp_path / "broken"
    path = plugin_script(
        tmp_path,
        "flaky",
        f"""
        import json, os, sys
        cmd = os.environ["CNI_COMMAND"]
        if cmd == "ADD":
            ips = [{{"address": "10.99.0.7/24"}}]
            print(json.dumps({{"cniVersion": "1.0.0", "ips": ips, "dns": {{}}}}))
        elif cmd == "DEL" and os.path.exists({str(flag)!r}):
            sys.stdout.write('{{"code": 11, "msg": "try again later"}}')
            sys.exit(1)
    """,
    )
    lab.k8s.use_plugin("custom", type="flaky", cni_path=[path])
    pod = lab.k8s.run("web")
    # dockershim reads the IP from eth0 in the sandbox, which this plugin never made
    assert pod.status == "Running" and pod.ip == ""
    key = pod.netns
    flag.write_text("")
    lab.k8s.delete("web")
    assert pod.status == "Terminating" and key in lab.snapshot().netns
    assert "Warning FailedKillPod error killing pod" in events(pod)
    assert "failed to destroy network for sandbox" in events(pod)
    assert "Terminating" in lab.k8s.get_pods()
    flag.unlink()
    lab.k8s.delete("web")
    assert lab.k8s.pods == [] and key not in lab.snapshot().netns


def test_reference_plugins_refused_on_the_model(lab):
    with pytest.raises(KubeError, match="only on the kernel backend"):
        lab.k8s.use_plugin("reference")
    with pytest.raises(ValueError, match="plugin must be one of"):
        lab.k8s.use_plugin("flannel")


def test_sync_after_a_failed_add_starts_the_pod(lab):
    lab.k8s.write_conflist(conflist({"type": "nope"}))
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating" and pod.sandbox_id == ""
    lab.k8s.use_plugin("simlab-bridge")
    lab.k8s.sync()
    assert pod.status == "Running" and pod.ip == "10.244.1.2"
    assert lab.docker.get(pod.sandbox_name).running
    reasons = [e.reason for e in pod.events]
    assert reasons == ["Scheduled", "FailedCreatePodSandBox", "Pulled", "Created", "Started"]
