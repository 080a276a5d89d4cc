"""Today's node (containerd 1.7 behind CRI) beside the talk's (dockershim, 2017), on both backends.

Model tests check the flow and what crictl prints; kernel tests run the same
scenario for real (plugins as processes, a real ``cni-<uuid>`` namespace,
real ICMP) and the differential tests compare the two: normalized snapshots
and the ``ip`` text of the pod.
"""

from __future__ import annotations

import json
import os
import re

import pytest

import simlab
from simlab.runtime import containerd, crictl, libcni
from simlab.runtime.kube import KubeError

from test_differential import canon_state
from test_kube_kernel import ping


@pytest.fixture
def lab():
    with simlab.Lab(backend="model") as lab:
        yield lab


@pytest.mark.parametrize("module", [containerd, crictl, libcni])
def test_doctests(module):
    import doctest

    assert doctest.testmod(module).failed == 0


def test_containerd_creates_the_namespace_and_calls_the_plugins(lab):
    lab.k8s.use_runtime("containerd")
    pod = lab.k8s.run("web")
    assert (pod.status, pod.ip) == ("Running", "10.244.1.2")
    assert re.fullmatch(r"cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", pod.netns)
    assert pod.netns_path == f"/var/run/netns/{pod.netns}"
    actors = [(s.actor, s.title["en"].split(": ", 1)[1]) for s in lab.timeline]
    order = [a for a, _ in actors]
    # kubelet only sends RunPodSandbox; containerd makes the namespace, then the plugins run
    assert order[0] == "kubelet" and "kubelet" not in order[1:]
    netns_step = next(i for i, (_, t) in enumerate(actors) if t.startswith("NewNetNS"))
    first_plugin = next(i for i, (a, _) in enumerate(actors) if a.startswith("cni:"))
    start = next(i for i, (_, t) in enumerate(actors) if t.startswith("NewTask"))
    assert netns_step < first_plugin < start  # the pause process starts after CNI ADD
    assert actors[first_plugin][0] == "cni:loopback"  # WithLoNetwork: lo comes up through CNI
    add = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
    assert add.actor == "containerd" and add.detail["env"]["CNI_NETNS"] == pod.netns_path
    assert "K8S_POD_UID=" in add.detail["env"]["CNI_ARGS"]
    # docker knows nothing of the pod
    assert lab.docker.containers() == []
    text = lab.k8s.exec("web", "ip a")
    assert "inet 127.0.0.1/8 scope host lo" in text and "inet 10.244.1.2/24" in text
    lab.k8s.delete("web")
    assert sorted(lab.snapshot().netns) == [simlab.model.ROOT] or pod.netns not in lab.snapshot().netns
    assert lab.k8s.reservations() == []


def test_a_fresh_containerd_namespace_has_lo_down_until_the_loopback_plugin(lab):
    lab.k8s.use_runtime("containerd")
    lab.k8s.run("web")
    netns_step = next(s for s in lab.timeline if s.title["en"].split(": ", 1)[1].startswith("NewNetNS"))
    key = lab.k8s.pod("web").netns
    lo = netns_step.after.netns[key].link("lo")
    assert not lo.up
    up = next(s for s in lab.timeline if s.title["en"] == "loopback ADD: LinkSetUp")
    assert up.after.netns[key].link("lo").up


def test_crictl_pods_ps_inspectp(lab):
    lab.k8s.use_runtime("containerd")
    a = lab.k8s.run("a")
    lab.k8s.clock.advance(90)
    b = lab.k8s.run("b", image="nginx")
    lab.k8s.clock.advance(5)
    pods = lab.k8s.crictl("pods").splitlines()
    assert pods[0].split() == ["POD", "ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]
    # newest first, IDs cut to 13, go-units ages
    assert pods[1].startswith(b.sandbox_id[:13] + "   5 seconds ago ")
    assert pods[2].startswith(a.sandbox_id[:13] + "   About a minute ago   Ready   a ")
    assert pods[2].endswith("default     0         (default)")
    ps = lab.k8s.crictl("ps").splitlines()
    assert ps[0].split()[:3] == ["CONTAINER", "IMAGE", "CREATED"] and ps[0].endswith("POD   NAMESPACE")
    assert ps[1].split()[1] == "nginx" and ps[1].split()[-3:] == [b.sandbox_id[:13], "b", "default"]
    info = json.loads(lab.k8s.crictl("inspectp " + a.sandbox_id[:5]))
    assert info["status"]["network"]["ip"] == a.ip == "10.244.1.2"
    assert info["status"]["state"] == "SANDBOX_READY"
    nets = [n for n in info["info"]["runtimeSpec"]["linux"]["namespaces"] if n["type"] == "network"]
    assert nets == [{"type": "network", "path": a.netns_path}]
    assert info["info"]["cniResult"]["Interfaces"]["eth0"]["IPConfigs"][0]["IP"] == a.ip
    assert json.loads(lab.k8s.crictl("inspectp b"))["status"]["metadata"]["name"] == "b"


def test_crictl_errors(lab):
    with pytest.raises(KubeError, match="runs dockershim"):
        lab.k8s.crictl("pods")
    lab.k8s.use_runtime("containerd")
    with pytest.raises(ValueError, match="not found"):
        lab.k8s.crictl("inspectp nope")
    with pytest.raises(ValueError, match="knows `pods`"):
        lab.k8s.crictl("rmp -a")


def test_use_runtime_only_before_the_first_pod(lab):
    with pytest.raises(KubeError, match="must be one of dockershim, containerd"):
        lab.k8s.use_runtime("cri-o")
    lab.k8s.run("web")
    with pytest.raises(KubeError, match="before its first pod"):
        lab.k8s.use_runtime("containerd")
    assert lab.k8s.runtime_of() == "dockershim"


def _lying_bridge(ip: str):
    """simlab-bridge, but its result claims ``ip`` while eth0 gets the real address."""
    from simlab.cni.plugins import IN_PROCESS

    bridge = IN_PROCESS["simlab-bridge"]

    def run(env, stdin, parent):
        code, out, err = bridge(env, stdin, parent)
        if code == 0 and env["CNI_COMMAND"] == "ADD":
            r = json.loads(out)
            r["ips"][0]["address"] = ip + "/24"
            out = json.dumps(r)
        return code, out, err

    return run


@pytest.mark.parametrize("runtime, want", [("dockershim", "10.244.1.2"), ("containerd", "10.244.1.99")])
def test_where_the_pod_ip_comes_from(lab, runtime, want):
    """2017: eth0 inside the sandbox (nsenter ... ip -o -4 addr show dev eth0); today: the result."""
    lab.k8s.use_runtime(runtime)
    lab.k8s.add_in_process_plugin("simlab-bridge", _lying_bridge("10.244.1.99"))
    pod = lab.k8s.run("web")
    assert pod.ip == want
    assert "inet 10.244.1.2/24" in lab.k8s.exec("web", "ip a")
    step = next(s for s in lab.timeline if s.detail.get("k8s") == "pod-ip")
    assert ("ip -o -4 addr show dev eth0" in step.why["en"]) == (runtime == "dockershim")


def test_a_failed_add_tears_down_and_removes_the_namespace(lab):
    lab.k8s.use_runtime("containerd")
    lab.k8s.write_conflist(
        '{"cniVersion": "1.0.0", "name": "k8s-pod-network", "plugins": [{"type": "nope"}]}'
    )
    before = sorted(lab.snapshot().netns)
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating" and pod.netns == ""
    assert 'failed to find plugin "nope" in path' in lab.k8s.describe("web")
    # the deferred teardown: CNI DEL of both networks, then the namespace goes
    titles = [s.title["en"] for s in lab.timeline]
    assert any("CNI DEL loopback" in t for t in titles)
    assert sorted(lab.snapshot().netns) == before
    assert lab.k8s.crictl("pods").count("\n") == 1


def test_a_second_node_with_containerd(lab):
    lab.k8s.run("a")
    lab.k8s.add_node("k8s-node02", runtime="containerd")
    b = lab.k8s.run("b", node="k8s-node02")
    assert b.status == "Running" and b.netns.startswith("cni-")
    assert lab.k8s.runtime_of("k8s-node02") == "containerd" and lab.k8s.runtime_of() == "dockershim"
    assert lab.k8s.reach("a", "b").delivered
    assert "b" in lab.k8s.crictl("pods", node="k8s-node02")
    lab.k8s.delete("b")
    assert b.netns not in lab.snapshot().netns if b.netns else True


# ------------------------------------------------------------ both backends
def _scenario(lab) -> dict:
    lab.k8s.use_runtime("containerd")
    a, b = lab.k8s.run("a"), lab.k8s.run("b")
    out = {
        "pods": (a.status, a.ip, b.status, b.ip),
        "netns": (a.netns, b.netns),
        "ip_a": lab.k8s.exec("a", "ip a"),
        "ip_route": lab.k8s.exec("a", "ip route"),
        "crictl_pods": lab.k8s.crictl("pods"),
        "inspectp_ip": json.loads(lab.k8s.crictl("inspectp a"))["status"]["network"],
        "state": lab.snapshot(),
        "docker": lab.docker.containers(),
    }
    return out


def _canon(state, other) -> str:
    """canon_state with the plugin's random host veth names numbered in order of appearance.

    Two differences of the bridge plugin's flow, the same under dockershim, are left out:
    sysctls the kernel snapshot does not read back (only those both sides hold are
    compared) and how cni0's MAC was assigned (``addr_assign_type``, ``mac_set``).
    """
    canon, theirs = canon_state(state), canon_state(other)
    for key, ns in canon.items():
        common = set(theirs.get(key, {}).get("sysctls", {}))
        ns["sysctls"] = {k: v for k, v in sorted(ns["sysctls"].items()) if k in common}
        ns["links"] = tuple(
            tuple(f for f in link if f[0] not in ("addr_assign_type", "mac_set")) for link in ns["links"]
        )
    text = repr(canon)
    names: dict[str, str] = {}
    return re.sub(r"veth[0-9a-f]{8}", lambda m: names.setdefault(m.group(), f"veth<{len(names)}>"), text)


@pytest.mark.kernel
def test_containerd_flow_is_the_same_on_model_and_kernel():
    from simlab.normalize import normalize

    with simlab.Lab(backend="model") as model:
        want = _scenario(model)
    kernel = simlab.Lab(backend="kernel")
    try:
        got = _scenario(kernel)
        a, b = kernel.k8s.pod("a"), kernel.k8s.pod("b")
        code, out = ping(kernel, a, b.ip)  # real ICMP between the two cni-<uuid> namespaces
        assert code == 0, out
        for p in list(kernel.k8s.pods):
            kernel.k8s.delete(p.name)
        assert kernel.k8s.reservations() == []
        left = [k for k in kernel.snapshot().netns if k.startswith("cni-")]
        assert left == []
    finally:
        kernel.close()
    assert got["pods"] == want["pods"] == ("Running", "10.244.1.2", "Running", "10.244.1.3")
    assert got["netns"] == want["netns"]  # seeded names: the same cni-<uuid> on both
    assert normalize([got["ip_a"]]) == normalize([want["ip_a"]])
    assert got["ip_route"] == want["ip_route"]
    assert got["crictl_pods"] == want["crictl_pods"]
    assert got["inspectp_ip"] == want["inspectp_ip"]
    assert got["docker"] == want["docker"] == []
    assert _canon(got["state"], want["state"]) == _canon(want["state"], got["state"])


@pytest.mark.kernel
@pytest.mark.parametrize("runtime", ["dockershim", "containerd"])
def test_both_runtimes_on_the_kernel_leave_nothing(runtime):
    kernel = simlab.Lab(backend="kernel")
    try:
        kernel.k8s.use_runtime(runtime)
        a, b = kernel.k8s.run("a"), kernel.k8s.run("b")
        assert (a.ip, b.ip) == ("10.244.1.2", "10.244.1.3")
        code, out = ping(kernel, b, a.ip)
        assert code == 0, out
        paths = [kernel.netns_path(p.netns) for p in (a, b)]
        for p in ("a", "b"):
            kernel.k8s.delete(p)
        assert not any(os.path.exists(p) for p in paths)
    finally:
        kernel.close()
