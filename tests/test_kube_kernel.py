"""lab.k8s on the real kernel: pods ping each other on one node and across nodes, and leave nothing.

The pings are real ICMP echoes sent from inside the pod's namespace (a raw
socket in a small Python program started with ``nsenter --net=<pod>``, so no
``ping`` binary is needed).  Plugins run as processes in the node's
namespace: simlab-bridge + simlab-host-local, simlab-ptp, and Debian's
reference bridge + host-local from /usr/lib/cni.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import simlab
from simlab.model import ROOT

pytestmark = pytest.mark.kernel

PING = r"""
import os, select, socket, struct, sys, time
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF
dst = sys.argv[1]
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
for seq in range(1, 4):
    body = b"simlab-k8s" * 4
    pkt = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + body
    pkt = struct.pack("!BBHHH", 8, 0, csum(pkt), ident, seq) + body
    try:
        sock.sendto(pkt, (dst, 0))
    except OSError as err:
        print(f"sendto {dst}: {err}")
        time.sleep(1)
        continue
    end = time.time() + 1
    while (left := end - time.time()) > 0:
        if not select.select([sock], [], [], left)[0]:
            break
        data, addr = sock.recvfrom(2048)
        ihl = (data[0] & 0xF) * 4
        kind, _, _, rid, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if kind == 0 and rid == ident and addr[0] == dst:
            print(f"64 bytes from {dst}: icmp_seq={seq}")
            sys.exit(0)
print(f"no reply from {dst}")
sys.exit(1)
"""


@pytest.fixture
def lab():
    lab = simlab.Lab(backend="kernel")
    yield lab
    lab.close()
    left = (
        [n for n in os.listdir("/run/netns") if lab.netns_key(n) is not None]
        if os.path.isdir("/run/netns")
        else []
    )
    assert left == [], f"the lab left namespaces behind: {left}"


def ping(lab, pod, dst: str) -> tuple[int, str]:
    """A real ICMP echo from inside ``pod``'s namespace."""
    path = lab.netns_path(pod.netns)
    nsenter = shutil.which("nsenter") or "nsenter"
    r = subprocess.run(
        [*lab.capabilities.enter_prefix, nsenter, f"--net={path}", sys.executable, "-c", PING, dst],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return r.returncode, r.stdout + r.stderr




def delete_all(lab) -> None:
    """Delete every pod; then no pod namespace, no veth on a node, no reservation is left."""
    keys = [p.netns for p in lab.k8s.pods]
    assert all(keys)
    paths = [lab.netns_path(key) for key in keys]
    for p in list(lab.k8s.pods):
        lab.k8s.delete(p.name)
    assert lab.k8s.pods == []
    state = lab.snapshot()
    for key, path in zip(keys, paths):
        assert key not in state.netns
        assert not os.path.exists(path)
    for node in lab.k8s.nodes.values():
        ns = state.netns[node.key]
        veths = [link.ifname for link in ns.links.values() if link.kind == "veth"]
        assert veths in ([], ["em1"])
    assert lab.k8s.reservations() == []
    assert lab.docker.containers() == []


def test_one_node_bridge_pods_ping_each_other(lab):
    a, b = lab.k8s.run("a"), lab.k8s.run("b")
    assert (a.status, b.status) == ("Running", "Running")
    assert (a.ip, b.ip) == ("10.244.1.2", "10.244.1.3")
    code, out = ping(lab, a, b.ip)
    assert code == 0, out
    code, out = ping(lab, b, a.ip)
    assert code == 0, out
    # the story of slide 12 on the real kernel
    text = lab.k8s.exec("a", "ip a")
    assert "inet 10.244.1.2/24" in text and "link-netnsid 0" in text
    assert lab.docker.inspect(a.app_name)["NetworkSettings"]["Networks"] is None
    # the plugin's steps came back from the plugin process, under the lab's own namespace keys
    setup_veth = next(s for s in lab.timeline if s.title["en"] == "simlab-bridge ADD: setupVeth")
    assert setup_veth.ops and setup_veth.ops[0].netns == a.netns
    delete_all(lab)


def test_ptp_pods_ping_each_other(lab):
    lab.k8s.use_plugin("ptp", subnet="192.168.58.192/26")
    a, b = lab.k8s.run("a"), lab.k8s.run("b")
    assert (a.ip, b.ip) == ("192.168.58.193", "192.168.58.194")
    assert "inet 192.168.58.193/32 scope global eth0" in lab.k8s.exec("a", "ip a")
    code, out = ping(lab, a, b.ip)
    assert code == 0, out
    delete_all(lab)
    assert "169.254.1.1" not in lab.ip("a")


@pytest.mark.reference
def test_reference_plugins(lab):
    lab.k8s.use_plugin("reference")
    a, b = lab.k8s.run("a"), lab.k8s.run("b")
    assert (a.status, b.status) == ("Running", "Running"), lab.k8s.describe("a")
    step = next(s for s in lab.timeline if s.detail.get("k8s") == "cni-add")
    assert step.detail["env"]["CNI_PATH"] == "/usr/lib/cni"
    assert step.detail["env"]["CNI_NETNS"] == lab.netns_path(a.netns)
    code, out = ping(lab, a, b.ip)
    assert code == 0, out
    delete_all(lab)


def test_two_nodes_ping_across_the_lan(lab):
    a = lab.k8s.run("a")
    lab.k8s.add_node("k8s-node02")
    b = lab.k8s.run("b", node="k8s-node02")
    lab.k8s.use_plugin("ptp", node="k8s-node02", subnet="10.244.3.0/24")
    c = lab.k8s.run("c", node="k8s-node02")
    assert (a.ip, b.ip, c.ip) == ("10.244.1.2", "10.244.2.2", "10.244.3.1"), lab.k8s.describe("c")
    state = lab.snapshot()
    assert state.netns["node2"].link("cni0") is not None  # node 2's bridge is in node 2
    assert not [link for link in state.netns[ROOT].links.values() if link.ifname.startswith("cali")]
    for src, dst in ((a, b), (b, a), (a, c), (c, a), (b, c)):
        code, out = ping(lab, src, dst.ip)
        assert code == 0, f"{src.name} -> {dst.name}: {out}"
    delete_all(lab)


def test_a_failed_add_leaves_nothing_in_the_kernel(lab):
    lab.docker.start()
    before = lab.snapshot()
    lab.k8s.write_conflist(
        '{"cniVersion": "1.0.0", "name": "k8s-pod-network", "plugins": [{"type": "nope"}]}'
    )
    pod = lab.k8s.run("web")
    assert pod.status == "ContainerCreating"
    assert 'failed to find plugin "nope" in path' in lab.k8s.describe("web")
    after = lab.snapshot()
    assert sorted(after.netns) == sorted(before.netns)
    assert lab.k8s.reservations() == []


def _slide12(lab) -> dict:
    """The slide-12 story on one lab: what docker, kubectl and the pod's own `ip a` say."""
    pod = lab.k8s.run("centos1")
    app = [c for c in lab.docker.containers() if c.name.startswith("k8s_centos1_")][0]
    return {
        "inspect": lab.docker.inspect(app.name)["NetworkSettings"],
        "ip": pod.ip,
        "get_pods_ip_column": lab.k8s.get_pods().splitlines()[1].split()[5],
        "ip_a": lab.k8s.exec("centos1", "ip a"),
        "ip_route": lab.k8s.exec("centos1", "ip route"),
        "result": json.loads(pod.result.to_json("1.0.0")),
    }


def test_slide12_story_is_the_same_on_model_and_kernel(lab):
    from simlab.normalize import normalize

    with simlab.Lab(backend="model") as model:
        want = _slide12(model)
    got = _slide12(lab)
    # docker says there is no network; Kubernetes and the pod's own `ip a` say there is.
    for story in (want, got):
        assert story["inspect"]["IPAddress"] == "" and story["inspect"]["Networks"] is None
        assert story["get_pods_ip_column"] == story["ip"]
        assert f"inet {story['ip']}/" in story["ip_a"] and "eth0@if" in story["ip_a"]
    assert got["ip"] == want["ip"]
    assert got["inspect"] == want["inspect"]
    assert normalize([got["ip_a"]]) == normalize([want["ip_a"]])
    assert got["ip_route"] == want["ip_route"]
    # simlab-bridge's result JSON: the same on both backends once random MACs, veth names
    # and the netns path (a model key vs a real mount) are normalized.
    def result_shape(r):
        r = json.loads(json.dumps(r))
        for i in r["interfaces"]:
            i["mac"] = "<mac>"
            i["name"] = "veth<hex>" if i["name"].startswith("veth") else i["name"]
            i["sandbox"] = "<netns>" if i.get("sandbox") else i.get("sandbox")
        return r

    assert result_shape(got["result"]) == result_shape(want["result"])
