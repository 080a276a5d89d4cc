"""hostPort: a pod's ports through the portMappings capability to portmap, on both backends.

`lab.k8s.run(..., ports=[{"containerPort": 80, "hostPort": 8080}])` on a node
whose conflist chains bridge (+host-local) and portmap, under both runtimes
(dockershim, which passes the mappings as Kubernetes 1.7 did, and containerd
1.7).  The kernel runs the plugins as processes and real TCP decides; the
model's walk must give the same verdict and show the pod the same source
address (the server below answers with the peer it saw):

- from the LAN to the node's address: DNAT only, the pod sees the client;
- from the node to its own address: DNAT only;
- from the node to 127.0.0.1: DNAT, the mark, MASQUERADE (the pod sees cni0's
  address), and only while ``route_localnet`` is 1 on cni0;
- from the pod to its own hostPort (hairpin) and from another pod: marked, so
  masqueraded to cni0's address.

The node's `iptables -t nat -S` and the snapshots are compared between the
backends, and DEL removes what ADD wrote on both.
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import ROOT
from simlab.model.forward import reach
from simlab.normalize import normalize
from simlab.runtime.kube import KubeError
from simlab.runtime.kube_forward import accept_pod_network

from test_containerd import _canon
from test_docker_kernel import CLIENT, in_netns, serve

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]
RUNTIMES = ["dockershim", "containerd"]
NODE, CNI0 = "192.168.1.1", "10.244.1.1"
WEB = [{"containerPort": 80, "hostPort": 8080}]


def hostport_pod(lab, runtime: str):
    """``web`` (hostPort 8080 -> 80) and ``client`` on node 1; the conflist chains portmap."""
    lab.docker.start()  # node 1's uplink em1 and the LAN (simlab's docker holds them)
    accept_pod_network(lab, ROOT, lab.k8s.node.pod_cidr)  # flannel's, past docker's FORWARD DROP
    if runtime == "containerd":
        lab.k8s.use_runtime("containerd")  # today's default conflist chains portmap
    else:
        lab.k8s.use_plugin("simlab-bridge", portmap=True)  # 2017: the learner opts in
    web = lab.k8s.run("web", ports=WEB)
    client = lab.k8s.run("client")
    return web, client


def connect(lab, src: str, address: str, port: int, server_ns: str) -> str:
    """Real TCP on the kernel: the address the server saw, or the client's error."""
    server = serve(lab, server_ns, 80)
    try:
        client = in_netns(lab, src, CLIENT.replace("timeout=5", "timeout=2"), address, str(port))
        return client.stdout.strip() if client.returncode == 0 else "error: " + client.stderr.strip().splitlines()[-1]
    finally:
        server.kill()
        server.wait(timeout=15)


def verdict(lab, src: str, address: str, port: int, pod) -> str:
    """The model's walk put the same way: the source the pod saw, or why it did not get there."""
    walk = reach(lab.snapshot(), src, address, "tcp", port)
    if walk.ok and walk.delivered == (pod.netns, "eth0") and walk.reply_ok:
        return walk.seen_src
    return f"not to the pod: {walk.error or walk.reply_error or walk.delivered}"


@pytest.fixture(params=BACKENDS)
def lab(request):
    with simlab.Lab(backend=request.param) as lab:
        yield lab


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_hostport_reaches_the_pod_from_everywhere(lab, runtime):
    web, client = hostport_pod(lab, runtime)
    cases = {  # who connects, to what: the source the pod must see
        ("lan", NODE): "192.168.1.254",
        (ROOT, NODE): NODE,
        (ROOT, "127.0.0.1"): CNI0,
        (web.netns, NODE): CNI0,  # hairpin
        (client.netns, NODE): CNI0,
    }
    for (src, address), seen in cases.items():
        assert verdict(lab, src, address, 8080, web) == seen, (src, address)
        if lab.backend == "kernel":
            assert connect(lab, src, address, 8080, web.netns) == seen, (src, address)
    # route_localnet matters only for 127.0.0.1: without it the DNAT'd packet may not leave lo
    lab.run("sysctl -w net.ipv4.conf.cni0.route_localnet=0")
    walk = reach(lab.snapshot(), ROOT, "127.0.0.1", "tcp", 8080)
    assert not walk.ok and walk.error == "dropped: route_localnet is 0 on cni0"
    assert verdict(lab, "lan", NODE, 8080, web) == "192.168.1.254"
    if lab.backend == "kernel":
        assert connect(lab, ROOT, "127.0.0.1", 8080, web.netns).startswith("error: ")
        assert connect(lab, "lan", NODE, 8080, web.netns) == "192.168.1.254"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_delete_removes_the_pods_rules(lab, runtime):
    web, _ = hostport_pod(lab, runtime)
    chain = next(line.split()[1] for line in lab.iptables("-t nat -S").splitlines()
                 if line.startswith("-N CNI-DN-"))
    netns = web.netns
    lab.k8s.delete("web")
    left = lab.iptables("-t nat -S")
    assert chain not in left and "CNI-HOSTPORT-DNAT -p tcp" not in left
    assert "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE" in left  # shared, kept
    walk = reach(lab.snapshot(), "lan", NODE, "tcp", 8080)
    assert walk.delivered == (ROOT, "em1") and netns not in lab.snapshot().netns
    if lab.backend == "kernel":
        client = in_netns(lab, "lan", CLIENT, NODE, "8080")
        assert client.returncode != 0 and "Connection refused" in client.stderr


def test_2017s_conflist_has_no_portmap_so_the_hostport_does_nothing(lab):
    """dockershim's default conflist (the talk's) does not chain portmap: no rule, a story step."""
    web = lab.k8s.run("web", ports=WEB)
    assert web.status == "Running" and "CNI-HOSTPORT" not in lab.iptables("-t nat -S")
    step = next(s for s in lab.timeline if s.detail.get("k8s") == "host-ports-unused")
    assert "8080/TCP" in step.title["en"] and "portmap=True" in step.why["en"]
    assert reach(lab.snapshot(), "lan", NODE, "tcp", 8080).delivered == (ROOT, "em1")
    if lab.backend == "kernel":
        client = in_netns(lab, "lan", CLIENT, NODE, "8080")
        assert client.returncode != 0 and "Connection refused" in client.stderr


def _node_tables(lab, runtime: str, plugin: str = "simlab-bridge"):
    if runtime == "containerd":
        lab.k8s.use_runtime("containerd")
    lab.k8s.use_plugin(plugin, portmap=True)
    lab.k8s.run("web", ports=WEB + [{"containerPort": 53, "hostPort": 5353, "protocol": "UDP"}])
    lab.k8s.run("db", ports=[{"containerPort": 5432, "hostPort": 5432, "hostIP": NODE}])
    out = {"nat": lab.iptables("-t nat -S"), "state": lab.snapshot()}
    lab.k8s.delete("web")
    out["after_delete"] = lab.iptables("-t nat -S")
    return out


@pytest.mark.kernel
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_node_nat_table_and_snapshot_are_the_same_on_both_backends(runtime):
    with simlab.Lab(backend="model") as model:
        want = _node_tables(model, runtime)
    with simlab.Lab(backend="kernel") as kernel:
        got = _node_tables(kernel, runtime)
    assert "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE" in want["nat"]
    assert normalize([got["nat"], got["after_delete"]]) == normalize([want["nat"], want["after_delete"]])
    assert _canon(got["state"], want["state"]) == _canon(want["state"], got["state"])


@pytest.mark.kernel
@pytest.mark.reference
def test_debians_portmap_writes_what_simlabs_writes_on_the_model():
    """The reference preset on the kernel (Debian's bridge, host-local and portmap v1.1.1)."""
    import os

    if not os.path.exists("/usr/lib/cni/portmap"):
        pytest.skip("needs Debian's containernetworking-plugins")
    with simlab.Lab(backend="model") as model:
        want = _node_tables(model, "dockershim")
    with simlab.Lab(backend="kernel") as kernel:
        got = _node_tables(kernel, "dockershim", "reference")
    assert normalize([got["nat"], got["after_delete"]]) == normalize([want["nat"], want["after_delete"]])


# ------------------------------------------------------------------- the API
def test_ports_are_checked_as_the_api_server_checks_them():
    with simlab.Lab(backend="model") as lab:
        bad = {
            "[{'hostPort': 8080}]": ([{"hostPort": 8080}], "ports[0].containerPort: Required value"),
            "70000": ([{"containerPort": 70000}], "must be between 1 and 65535, inclusive"),
            "ICMP": ([{"containerPort": 80, "protocol": "ICMP"}], 'Unsupported value: "ICMP"'),
            "typo": ([{"containerPort": 80, "hostport": 8080}], 'unknown field "hostport"'),
            "twice": (WEB + WEB, 'ports[1].hostPort: Duplicate value: "8080/TCP"'),
            "a dict": ({"containerPort": 80}, "ports is a list of ports"),
        }
        for name, (ports, message) in bad.items():
            with pytest.raises(KubeError, match=message.replace("[", r"\[").replace("]", r"\]")):
                lab.k8s.run("web", ports=ports)
        assert lab.k8s.pods == [] and lab.timeline.steps == [] or "web" not in str(lab.k8s.pods)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_both_runtimes_pass_the_mappings_only_to_the_plugin_that_declares_them(runtime):
    with simlab.Lab(backend="model") as lab:
        web, _ = hostport_pod(lab, runtime)
        added = [s for s in lab.timeline if s.actor == "cni:portmap" and "forwardPorts" in s.title["en"]]
        assert added and "8080/tcp -> 80" in added[0].why["en"]
        calls = [s.detail for s in lab.timeline if s.detail.get("kind") == "invocation"]
        stdin = [c.get("stdin", "") for c in calls]
        assert '"portMappings":[{"containerPort":80,"hostIP":"","hostPort":8080,"protocol":"tcp"}]' in \
            "".join(v for v in stdin if '"type":"portmap"' in v)
        assert not any('"runtimeConfig"' in v for v in stdin if '"type":"portmap"' not in v)
        assert web.ports == ((8080, 80, "TCP", ""),)
        assert "    Port:           80/TCP\n    Host Port:      8080/TCP\n" in lab.k8s.describe("web")
        conf = lab.k8s.read_conflist()
        assert '"type": "portmap"' in conf and '"portMappings": true' in conf


def test_the_default_conflist_follows_the_runtimes_era():
    with simlab.Lab(backend="model") as lab:
        assert "portmap" not in lab.k8s.read_conflist()
        lab.k8s.use_runtime("containerd")
        assert '"type": "portmap"' in lab.k8s.read_conflist()
        lab.k8s.use_runtime("dockershim")
        assert "portmap" not in lab.k8s.read_conflist()
        lab.k8s.write_conflist(lab.k8s.read_conflist().replace("cni0", "cbr0"))
        lab.k8s.use_runtime("containerd")  # the learner's own file is left alone
        assert "portmap" not in lab.k8s.read_conflist()
        node = lab.k8s.add_node("k8s-node02", runtime="containerd")
        assert '"type": "portmap"' in lab.k8s.read_conflist(node=node.name)
        lab.k8s.use_plugin("ptp", node=node.name)  # a preset on a containerd node: with portmap
        assert '"type": "portmap"' in lab.k8s.read_conflist(node=node.name)
        lab.k8s.use_plugin("simlab-bridge", node=node.name, portmap=False)
        assert "portmap" not in lab.k8s.read_conflist(node=node.name)
        lab.k8s.run("plain", ports=[{"containerPort": 80}])  # no hostPort: nothing to say
        assert not any(s.detail.get("k8s") == "host-ports-unused" for s in lab.timeline)
