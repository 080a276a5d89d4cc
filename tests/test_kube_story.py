"""lab.k8s on the model: the story of slides 11 to 16, step by step, and a clean delete."""

from __future__ import annotations

import json
import os
import re

import pytest

import simlab
from simlab.model import ROOT
from simlab.model import ops as o
from simlab.runtime.kube import KubeError

#: `docker inspect k8s_test1-node1_centos1-..._0 | jq .[].NetworkSettings` on slide 11.
SLIDE_11 = {
    "Bridge": "",
    "SandboxID": "",
    "HairpinMode": False,
    "LinkLocalIPv6Address": "",
    "LinkLocalIPv6PrefixLen": 0,
    "Ports": None,
    "SandboxKey": "",
    "SecondaryIPAddresses": None,
    "SecondaryIPv6Addresses": None,
    "EndpointID": "",
    "Gateway": "",
    "GlobalIPv6Address": "",
    "GlobalIPv6PrefixLen": 0,
    "IPAddress": "",
    "IPPrefixLen": 0,
    "IPv6Gateway": "",
    "MacAddress": "",
    "Networks": None,
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def lab():
    lab = simlab.Lab(backend="model")
    yield lab
    lab.close()




def test_slide_12_story(lab):
    pod = lab.k8s.run("centos1")
    assert pod.status == "Running" and pod.ip == "10.244.1.2"
    # docker: the application container has no network at all (slide 11, field for field)
    assert lab.docker.inspect(pod.app_name)["NetworkSettings"] == SLIDE_11
    assert lab.docker.inspect(pod.app_name)["HostConfig"]["NetworkMode"].startswith("container:")
    # ... and the sandbox was started with --net none: no address, no endpoint on a network with one
    sandbox = lab.docker.inspect(pod.sandbox_name)
    assert sandbox["HostConfig"]["NetworkMode"] == "none"
    assert sandbox["NetworkSettings"]["IPAddress"] == ""
    assert list(sandbox["NetworkSettings"]["Networks"]) == ["none"]
    # kubernetes: the pod has an IP
    lab.k8s.clock.advance(minutes=9)
    assert lab.k8s.get_pods() == (
        "NAME      READY     STATUS    RESTARTS   AGE       IP           NODE\n"
        "centos1   1/1       Running   0          9m        10.244.1.2   k8s-node01\n"
    )
    # inside the container: eth0 with that IP
    text = lab.k8s.exec("centos1", "ip a")
    assert re.search(r"^\d+: eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP>", text, re.M)
    assert "inet 10.244.1.2/24 brd 10.244.1.255 scope global eth0" in text
    assert "link-netnsid 0" in text
    assert lab.k8s.exec("centos1", "hostname") == "centos1\n"
    # the same through docker, as on the slide (docker exec of the app container)
    assert lab.docker.exec(pod.app_name, "ip a") == text


def test_docker_names_are_kubelets(lab):
    pod = lab.k8s.run("centos1", container="test1-node1")
    uid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert re.fullmatch(rf"k8s_POD_centos1_default_{uid}_0", pod.sandbox_name)
    assert re.fullmatch(rf"k8s_test1-node1_centos1_default_{uid}_0", pod.app_name)
    names = {c.name for c in lab.docker.containers()}
    assert names == {pod.sandbox_name, pod.app_name}
    assert lab.docker.get(pod.sandbox_name).image.startswith("gcr.io/google_containers/pause")


def _index(steps, pred, start=0) -> int:
    for i in range(start, len(steps)):
        if pred(steps[i]):
            return i
    raise AssertionError("step not found")


def test_steps_in_kubelets_order(lab):
    lab.docker.start()
    first = len(lab.timeline)
    pod = lab.k8s.run("web")
    steps = list(lab.timeline)[first:]
    k8s = lambda kind: lambda s: s.actor == "kubelet" and s.detail.get("k8s") == kind  # noqa: E731
    i_sandbox = _index(steps, k8s("sandbox"))
    i_netns = _index(
        steps, lambda s: s.actor == "docker" and any(isinstance(op, o.NetnsAdd) for op in s.ops)
    )
    i_call = _index(steps, k8s("cni-add"))
    i_plugin = _index(steps, lambda s: s.actor == "cni:simlab-bridge" and s.ops)
    i_setup_veth = _index(steps, lambda s: s.title["en"].endswith("setupVeth"))
    i_invocation = _index(steps, lambda s: s.title["en"].startswith("CNI ADD simlab-bridge"))
    i_ip = _index(steps, k8s("pod-ip"))
    i_app = _index(
        steps, lambda s: s.actor == "docker" and s.detail.get("container") == pod.app_name
    )
    assert i_sandbox < i_netns < i_call < i_plugin <= i_setup_veth < i_invocation < i_ip < i_app
    # the sandbox step is docker's --net none: a namespace and lo, nothing else
    assert [type(op).__name__ for op in steps[i_netns].ops] == ["NetnsAdd", "LinkSet"]
    # every step says why, in English and in Japanese
    for s in steps[i_sandbox : i_app + 1]:
        assert s.why["en"], s.title
        if s.actor in ("kubelet", "docker") or s.actor.startswith("cni:"):
            assert JAPANESE.search(s.why["ja"]), s.title
            assert JAPANESE.search(s.title["ja"]) or s.actor.startswith("cni:"), s.title
    assert "RunPodSandbox" in steps[i_sandbox].mirrors
    assert "bridge.go" in steps[i_setup_veth].mirrors


def test_cni_call_shows_env_and_stdin(lab):
    pod = lab.k8s.run("web")
    step = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
    env = step.detail["env"]
    assert list(env) == [
        "CNI_COMMAND",
        "CNI_CONTAINERID",
        "CNI_NETNS",
        "CNI_ARGS",
        "CNI_IFNAME",
        "CNI_PATH",
    ]
    sandbox = lab.docker.get(pod.sandbox_name)
    assert env["CNI_COMMAND"] == "ADD" and env["CNI_IFNAME"] == "eth0"
    assert env["CNI_CONTAINERID"] == sandbox.id
    assert env["CNI_NETNS"] == f"/proc/{sandbox.pid}/ns/net"
    assert env["CNI_ARGS"] == (
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
        f"K8S_POD_INFRA_CONTAINER_ID={sandbox.id}"
    )
    stdin = json.loads(step.detail["stdin"])
    assert stdin["name"] == "k8s-pod-network" and stdin["cniVersion"] == "1.0.0"
    assert stdin["type"] == "simlab-bridge" and stdin["bridge"] == "cni0"
    assert stdin["ipam"]["type"] == "simlab-host-local"
    assert step.detail["conf_path"] == "/etc/cni/net.d/10-simlab-bridge.conflist"
    # what the plugin really got is the same
    inv = next(s for s in lab.timeline if s.title["en"].startswith("CNI ADD simlab-bridge"))
    assert inv.detail["env"] == env and inv.detail["stdin"] == step.detail["stdin"]
    ip_step = next(s for s in lab.timeline if s.detail.get("k8s") == "pod-ip")
    assert json.loads(ip_step.detail["result"])["ips"][0]["address"] == "10.244.1.2/24"


def test_delete_leaves_nothing(lab):
    lab.docker.start()
    before = lab.snapshot()
    for name in ("a", "b", "c"):
        lab.k8s.run(name)
    assert [p.ip for p in lab.k8s.pods] == ["10.244.1.2", "10.244.1.3", "10.244.1.4"]
    assert len(lab.k8s.reservations()) == 3
    for name in ("b", "a", "c"):
        lab.k8s.delete(name)
    after = lab.snapshot()
    assert sorted(after.netns) == sorted(before.netns) == [ROOT, "lan"]
    node = after.netns[ROOT]
    # only the bridge stays, as the reference plugin leaves it (with its gateway address), no port
    new = {link.ifname for link in node.links.values()} - {
        link.ifname for link in before.netns[ROOT].links.values()
    }
    assert new == {"cni0"}
    cni0 = node.link("cni0")
    assert not [link for link in node.links.values() if link.master == cni0.ifindex]
    assert [link.ifname for link in node.links.values() if link.kind == "veth"] == ["em1"]
    assert lab.k8s.reservations() == []
    assert lab.docker.containers() == []
    assert lab.k8s.get_pods() == "No resources found.\n"
    dels = [s for s in lab.timeline if s.title["en"].startswith("CNI DEL simlab-bridge")]
    assert len(dels) == 3 and all(s.detail["exit"] == 0 for s in dels)
    # DEL got the cached ADD result as prevResult (spec >= 0.4.0)
    assert "prevResult" in json.loads(dels[0].detail["stdin"])


def test_delete_runs_kubelets_steps_in_order(lab):
    pod = lab.k8s.run("web")
    first = len(lab.timeline)
    lab.k8s.delete("web")
    steps = list(lab.timeline)[first:]
    kinds = [
        (s.actor, s.detail.get("k8s") or s.detail.get("container") or s.title["en"]) for s in steps
    ]
    i_app = kinds.index(("docker", pod.app_name))
    i_del = kinds.index(("kubelet", "cni-del"))
    i_sandbox = kinds.index(("docker", pod.sandbox_name))
    assert i_app < i_del < i_sandbox
    assert any(isinstance(op, o.NetnsDel) for op in steps[i_sandbox].ops)


def test_get_pods_layout_and_age(lab):
    lab.k8s.run("centos1-2797499804-fdqd1")
    lab.k8s.clock.advance(seconds=200)
    lab.k8s.write_conflist("{not json")
    lab.k8s.run("web")
    assert lab.k8s.get_pods() == (
        "NAME                       READY     STATUS              RESTARTS   AGE       IP         "
        "  NODE\n"
        "centos1-2797499804-fdqd1   1/1       Running             0          3m20s     10.244.1.2 "
        "  k8s-node01\n"
        "web                        0/1       ContainerCreating   0          0s        <none>     "
        "  k8s-node01\n"
    )


def test_describe_shows_events(lab):
    lab.k8s.run("web")
    lab.k8s.clock.advance(minutes=2)
    text = lab.k8s.describe("web")
    assert text.startswith(
        "Name:         web\nNamespace:    default\nNode:         k8s-node01/192.168.1.1\n"
    )
    assert "Start Time:   Sun, 27 Aug 2017 10:00:00 +0900\n" in text
    assert "IP:           10.244.1.2\n" in text
    assert "    State:          Running\n" in text
    assert "  Type    Reason     Age   From               Message\n" in text
    assert (
        "  Normal  Scheduled  2m    default-scheduler  Successfully assigned default/web to "
        "k8s-node01\n" in text
    )
    assert "  Normal  Started    2m    kubelet            Started container web\n" in text


def test_kubectl_errors(lab):
    lab.k8s.run("web")
    with pytest.raises(KubeError, match=r'pods "web" already exists'):
        lab.k8s.run("web")
    with pytest.raises(KubeError, match="lowercase RFC 1123 subdomain"):
        lab.k8s.run("Web_1")
    with pytest.raises(KubeError, match=r'pods "nope" not found'):
        lab.k8s.delete("nope")
    with pytest.raises(KubeError, match=r'nodes "k8s-node09" not found'):
        lab.k8s.run("x", node="k8s-node09")


def test_construction_changes_nothing(lab):
    before = lab.snapshot()
    k8s = lab.k8s
    assert lab.snapshot() is before and len(lab.timeline) == 0
    assert k8s.read_conflist() == k8s.cni_config_dir["/etc/cni/net.d/10-simlab-bridge.conflist"]
    assert not os.path.exists(k8s.state_dir)


def test_close_removes_the_nodes_files():
    lab = simlab.Lab(backend="model")
    lab.k8s.run("web")
    state_dir = lab.k8s.state_dir
    assert os.path.isdir(state_dir)
    lab.close()
    assert not os.path.exists(state_dir)
