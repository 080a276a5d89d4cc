"""Each plugin choice end to end on the model: simlab-bridge, simlab-ptp, a learner's own."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

import simlab
from simlab.model import ROOT
from simlab.cni.plugins import ptp


@pytest.fixture
def lab():
    lab = simlab.Lab(backend="model")
    yield lab
    lab.close()




def plugin_script(tmp_path, name: str, body: str) -> str:
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    exe = d / name
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    exe.chmod(0o755)
    return str(d)


def test_default_is_simlab_bridge(lab):
    conf = json.loads(lab.k8s.read_conflist())
    assert conf["name"] == "k8s-pod-network" and conf["cniVersion"] == "1.0.0"
    (plugin,) = conf["plugins"]
    assert plugin["type"] == "simlab-bridge" and plugin["bridge"] == "cni0" and plugin["isGateway"]
    assert plugin["ipam"]["type"] == "simlab-host-local"
    assert plugin["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    lab.k8s.run("a")
    lab.k8s.run("b")
    walk = lab.k8s.reach("a", "b")
    assert walk.ok and walk.reply_ok
    assert any(h.action == "bridge" and h.dev == "cni0" for h in walk.hops)
    assert lab.k8s.exec("a", "ip route") == (
        "default via 10.244.1.1 dev eth0 \n"
        "10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.2 \n"
    )


def test_ptp_pod_looks_like_the_calico_pod_of_slide_12(lab):
    lab.k8s.use_plugin("ptp", subnet="192.168.58.192/26")
    pod = lab.k8s.run("centos1-2797499804-fdqd1")
    assert pod.ip == "192.168.58.193"
    lab.k8s.clock.advance(minutes=9)
    assert lab.k8s.get_pods().splitlines()[1] == (
        "centos1-2797499804-fdqd1   1/1       Running   0          9m        192.168.58.193   "
        "k8s-node01"
    )
    text = lab.k8s.exec(pod.name, "ip a")
    assert "inet 192.168.58.193/32 scope global eth0" in text
    assert lab.k8s.exec(pod.name, "ip route") == (
        "default via 169.254.1.1 dev eth0 \n169.254.1.1 dev eth0 scope link \n"
    )
    host = ptp.host_veth_name(pod.sandbox_id)
    assert f"192.168.58.193 dev {host} scope link" in lab.ip("route")
    node = lab.snapshot().netns[ROOT]
    assert node.link("cni0") is None  # no bridge: routed
    assert node.link(host).master is None
    assert node.sysctls["net.ipv4.ip_forward"] == "1"
    steps = [s.title["en"] for s in lab.timeline if s.actor == "cni:simlab-ptp"]
    assert steps == [
        "simlab-ptp ADD: IPAM ADD",
        "simlab-ptp ADD: enableIPForward",
        "simlab-ptp ADD: GetNS",
        "simlab-ptp ADD: setupContainerVeth",
        "simlab-ptp ADD: setupHostVeth",
        "CNI ADD simlab-ptp: exit 0",
    ]


def test_ptp_pods_reach_each_other_through_the_node_and_leave_nothing(lab):
    lab.docker.start()
    before = lab.snapshot()
    lab.k8s.use_plugin("ptp")
    a, b = lab.k8s.run("a"), lab.k8s.run("b")
    # the gateway 169.254.1.1 is outside the block, so host-local starts at its first address (.1),
    # as Calico's first pod of 192.168.58.192/26 is .193
    assert (a.ip, b.ip) == ("10.244.1.1", "10.244.1.2")
    walk = lab.k8s.reach("a", "b")
    assert walk.ok and walk.reply_ok
    assert not any(h.action == "bridge" for h in walk.hops)  # routed by the node, no bridge
    assert [h.action for h in walk.hops] == [
        "route",
        "arp",
        "veth",
        "forward",
        "arp",
        "veth",
        "deliver",
    ]
    assert walk.hops[3].netns == ROOT
    lab.k8s.delete("a")
    lab.k8s.delete("b")
    after = lab.snapshot()
    assert after.netns[ROOT].links == before.netns[ROOT].links
    assert after.netns[ROOT].addrs == before.netns[ROOT].addrs
    assert after.netns[ROOT].routes == before.netns[ROOT].routes
    assert sorted(after.netns) == sorted(before.netns)
    assert lab.k8s.reservations() == []


def test_bridge_and_ptp_compared(lab):
    """Same pod CIDR, two designs: one L2 segment with a gateway, or /32s routed by the node."""
    lab.k8s.run("br")
    lab.k8s.use_plugin("ptp", subnet="10.244.5.0/24")
    lab.k8s.run("pt")
    bridge_route = lab.k8s.exec("br", "ip route")
    ptp_route = lab.k8s.exec("pt", "ip route")
    assert "10.244.1.0/24 dev eth0 proto kernel" in bridge_route
    assert "proto kernel" not in ptp_route and "169.254.1.1 dev eth0 scope link" in ptp_route
    walk = lab.k8s.reach("br", "pt")
    assert walk.ok and walk.reply_ok


def test_learners_own_plugin(lab, tmp_path):
    """Any executable on CNI_PATH (here it only prints a result and builds nothing).

    dockershim (2017) takes the pod IP from eth0 inside the sandbox, not from the result:
    there is no eth0, so no IP (containerd would believe the result: test_containerd.py).
    """
    log = tmp_path / "env.json"
    path = plugin_script(
        tmp_path,
        "my-cni",
        f"""
        import json, os, sys
        conf = json.load(sys.stdin)
        env = {{k: v for k, v in os.environ.items() if k.startswith("CNI_")}}
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps({{"env": env, "conf": conf}}) + "\\n")
        if env["CNI_COMMAND"] == "ADD":
            print(json.dumps({{"cniVersion": conf["cniVersion"],
                              "interfaces": [{{"name": "eth0", "sandbox": env["CNI_NETNS"]}}],
                              "ips": [{{"address": "10.123.0.5/24", "interface": 0}}],
                              "dns": {{}}}}))
    """,
    )
    conf = lab.k8s.use_plugin("custom", type="my-cni", cni_path=[path])
    assert json.loads(conf)["plugins"][0]["type"] == "my-cni"
    pod = lab.k8s.run("web")
    assert pod.status == "Running" and pod.ip == ""
    lab.k8s.delete("web")
    add, delete = [json.loads(line) for line in log.read_text().splitlines()]
    assert add["env"]["CNI_COMMAND"] == "ADD" and delete["env"]["CNI_COMMAND"] == "DEL"
    assert add["env"]["CNI_PATH"].split(os.pathsep)[0] == path
    assert add["env"]["CNI_ARGS"].startswith(
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web"
    )
    assert add["conf"]["type"] == "my-cni" and add["conf"]["name"] == "k8s-pod-network"
    assert delete["conf"]["prevResult"]["ips"][0]["address"] == "10.123.0.5/24"
    # it really ran as a process: the timeline has its invocation with the executable's path
    inv = next(s for s in lab.timeline if s.title["en"] == "CNI ADD my-cni: exit 0")
    assert inv.detail["path"] == os.path.join(path, "my-cni")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root could reach the machine's network")
def test_learners_plugin_on_the_model_cannot_touch_the_machine(lab, tmp_path):
    seen = tmp_path / "seen"
    path = plugin_script(
        tmp_path,
        "nosy",
        f"""
        import json, os, sys
        with open({str(seen)!r}, "w") as f:
            import socket
            json.dump({{"links": sorted(name for _, name in socket.if_nameindex()),
                       "netns": os.path.exists(os.environ["CNI_NETNS"])}}, f)
        sys.stdout.write('{{"code": 100, "msg": "just looking"}}')
        sys.exit(1)
    """,
    )
    lab.k8s.use_plugin("custom", type="nosy", cni_path=[path])
    lab.k8s.run("web")
    got = json.loads(seen.read_text())
    assert got == {"links": ["lo"], "netns": False}


def test_editing_the_conflist_changes_the_next_pod_only(lab):
    lab.k8s.run("a")
    conf = json.loads(lab.k8s.read_conflist())
    conf["plugins"][0]["ipam"]["ranges"] = [[{"subnet": "10.244.7.0/24"}]]
    conf["plugins"][0]["bridge"] = "cni1"
    lab.k8s.write_conflist(conf)
    b = lab.k8s.run("b")
    assert b.ip == "10.244.7.2"
    assert lab.snapshot().netns[ROOT].link("cni1") is not None
    # deleting "a" uses the configuration "a" was added with (bridge cni0, its own reservation)
    lab.k8s.delete("a")
    dels = [s for s in lab.timeline if s.detail.get("k8s") == "cni-del"]
    assert json.loads(dels[-1].detail["stdin"])["bridge"] == "cni0"
    assert lab.k8s.reservations() == ["10.244.7.2"]


def test_a_single_plugin_conf_file(lab):
    lab.k8s.cni_config_dir.clear()
    lab.k8s.write_conflist(
        {
            "cniVersion": "0.3.1",
            "name": "mynet",
            "type": "simlab-bridge",
            "bridge": "mybr0",
            "isGateway": True,
            "ipam": {
                "type": "simlab-host-local",
                "subnet": "10.22.0.0/16",
                "dataDir": lab.k8s.node.ipam_dir,
            },
        },
        filename="10-mynet.conf",
    )
    pod = lab.k8s.run("web")
    assert pod.ip == "10.22.0.2"
    stdin = json.loads(
        next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add").detail["stdin"]
    )
    assert stdin["cniVersion"] == "0.3.1" and stdin["name"] == "mynet"
    lab.k8s.delete("web")
    assert lab.k8s.reservations() == []


def test_ptp_plugin_alone_follows_the_cni_contract(tmp_path):
    """simlab-ptp through simlab.cni.Runtime: ADD, CHECK, DEL, DEL again."""
    from simlab.backends.model import ModelBackend
    from simlab.cni import Runtime
    from simlab.cni.plugins import IN_PROCESS
    from simlab.model import NetnsAdd

    model = ModelBackend()
    model.apply(NetnsAdd("pod1"))
    rt = Runtime(backend=model, in_process={**IN_PROCESS, "simlab-ptp": ptp.in_process})
    conf = {
        "cniVersion": "1.0.0",
        "name": "routed",
        "plugins": [
            {
                "type": "simlab-ptp",
                "ipam": {
                    "type": "simlab-host-local",
                    "dataDir": str(tmp_path),
                    "ranges": [[{"subnet": "10.1.0.0/24", "gateway": "169.254.1.1"}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            }
        ],
    }
    result = rt.add(conf, "c1", "/run/netns/pod1")
    assert [i.name for i in result.interfaces] == [ptp.host_veth_name("c1"), "eth0"]
    assert result.ips[0].address == "10.1.0.1/32" and result.ips[0].gateway == "169.254.1.1"
    assert result.interfaces[1].sandbox == "/run/netns/pod1"
    rt.check(conf, "c1", "/run/netns/pod1")
    rt.delete(conf, "c1", "/run/netns/pod1")
    rt.delete(conf, "c1", "/run/netns/pod1")
    assert model.snapshot().netns["pod1"].link("eth0") is None
    assert [f for f in os.listdir(tmp_path / "routed") if f[0].isdigit()] == []


def test_a_python_plugin_in_process_on_the_model(lab, tmp_path):
    """A learner's plugin written against simlab.cni.netlink runs in-process on the model."""
    lab.k8s.use_plugin("custom", type="my-ptp", cni_path=[str(tmp_path)])
    lab.k8s.add_in_process_plugin("my-ptp", ptp.in_process)
    pod = lab.k8s.run("web")
    assert pod.status == "Running" and pod.ip == "10.244.1.2"
    assert "inet 10.244.1.2/32 scope global eth0" in lab.k8s.exec("web", "ip a")
    assert any(s.title["en"] == "simlab-ptp ADD: setupHostVeth" for s in lab.timeline)
    lab.k8s.delete("web")
    assert lab.k8s.reservations() == []
