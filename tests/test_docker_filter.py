"""docker 17.06's filter table (simlab.runtime.docker_filter) on both backends.

The node's `iptables -S` must print what a docker 17.06 host prints; real traffic (TCP
to a published port, ICMP from a pod to a container) must meet the same verdicts as
the model's walk: passing through docker's ACCEPTs, dropped by the FORWARD policy DROP
when the ACCEPT is gone, and passing again after the fix.
"""

from __future__ import annotations

import pytest

import simlab
from simlab.model import ROOT
from simlab.model.forward import reach
from simlab.normalize import normalize
from simlab.runtime.docker_filter import DOCKER_VERSION

from test_docker_kernel import CLIENT, in_netns, serve
from test_kube_kernel import ping as real_ping

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]

#: `iptables -S` on a docker 17.06 host right after dockerd started (docker0, icc on).
DOCKER_HOST = """\
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION -j RETURN
-A DOCKER-USER -j RETURN
"""
ACCEPT_80 = "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"
FLANNEL = ("-A FORWARD -s 10.244.0.0/16 -j ACCEPT", "-A FORWARD -d 10.244.0.0/16 -j ACCEPT")


@pytest.fixture(params=BACKENDS)
def lab(request):
    with simlab.Lab(backend=request.param) as lab:
        yield lab


def test_the_version_is_named():
    assert DOCKER_VERSION == "17.06"


def test_dockerd_writes_docker_17_06_filter_table(lab):
    lab.docker.start()
    assert lab.iptables("-S") == DOCKER_HOST
    step = next(s for s in lab.timeline if "FORWARD policy DROP" in s.title["en"])
    assert "iptables -t filter -P FORWARD DROP" in step.commands
    lab.docker.run("web", publish=["8080:80"])
    assert lab.iptables("-S DOCKER") == f"-N DOCKER\n{ACCEPT_80}\n"
    assert "--to-destination 172.17.0.2:80" in lab.iptables("-t nat -S DOCKER")
    lab.docker.rm("web", force=True)
    assert lab.iptables("-S") == DOCKER_HOST


def test_a_node_already_forwarding_keeps_its_policy(lab):
    """setupIPForwarding sets DROP only when dockerd itself turns ip_forward on."""
    lab.run("sysctl -w net.ipv4.ip_forward=1")
    lab.docker.start()
    assert lab.iptables("-S FORWARD").splitlines()[0] == "-P FORWARD ACCEPT"


def test_published_port_needs_the_accept(lab):
    """Real TCP from the LAN: through DNAT and docker's ACCEPT; blocked without the ACCEPT."""
    web = lab.docker.run("web", publish=["8080:80"])
    walk = reach(lab.snapshot(), "lan", "192.168.1.1", "tcp", 8080)
    assert walk.ok and walk.reply_ok and walk.delivered == (web.netns, "eth0")
    if lab.backend == "kernel":
        server = serve(lab, web.netns, 80)
        try:
            client = in_netns(lab, "lan", CLIENT, "192.168.1.1", "8080")
            assert client.returncode == 0 and client.stdout.strip() == "192.168.1.254", client.stderr
        finally:
            server.wait(timeout=15)
    lab.iptables(ACCEPT_80.replace("-A ", "-D ", 1))
    walk = reach(lab.snapshot(), "lan", "192.168.1.1", "tcp", 8080)
    assert not walk.ok and walk.error == "dropped by filter FORWARD"
    if lab.backend == "kernel":
        server = serve(lab, web.netns, 80)
        try:
            client = in_netns(lab, "lan", CLIENT.replace("timeout=5", "timeout=2"), "192.168.1.1",
                              "8080")
            assert client.returncode != 0 and "timed out" in client.stderr
        finally:
            server.kill()
            server.wait(timeout=15)


def _pod_and_container(lab):
    web = lab.docker.run("web")
    pod = lab.k8s.run("centos1")
    return pod, web


def test_a_pod_reaches_a_docker_container_through_flannels_rules(lab):
    """The deck's last demo: routed cni0 -> docker0, accepted by the pod-network rule."""
    pod, web = _pod_and_container(lab)
    rules = lab.snapshot().netns[ROOT].iptables["filter"]
    assert all(r in rules for r in FLANNEL)
    assert lab.ping(pod.netns, web.ip).ok
    assert reach(lab.snapshot(), pod.netns, web.ip).reply_ok
    if lab.backend == "kernel":
        assert real_ping(lab, pod, web.ip)[0] == 0


def test_the_2017_incident_and_its_fix(lab):
    """Without flannel's FORWARD rules, docker's DROP policy stops the pod's packets."""
    pod, web = _pod_and_container(lab)
    for rule in FLANNEL:
        lab.iptables(rule.replace("-A ", "-D ", 1))
    report = lab.ping(pod.netns, web.ip)
    walk = reach(lab.snapshot(), pod.netns, web.ip)
    assert not report.ok and walk.error == "dropped by filter FORWARD"
    assert walk.hops[-1].netns == ROOT and "policy is DROP" in walk.hops[-1].text("en")
    if lab.backend == "kernel":
        assert real_ping(lab, pod, web.ip)[0] != 0
    # The fix in the chain docker keeps for the admin: only the pod network, both ways.
    lab.iptables("-I DOCKER-USER -s 10.244.0.0/16 -j ACCEPT")
    lab.iptables("-I DOCKER-USER -d 10.244.0.0/16 -j ACCEPT")
    assert lab.ping(pod.netns, web.ip).ok
    assert reach(lab.snapshot(), pod.netns, web.ip).reply_ok
    if lab.backend == "kernel":
        assert real_ping(lab, pod, web.ip)[0] == 0


@pytest.mark.kernel
def test_node_tables_print_the_same_on_both_backends():
    def tables(lab):
        lab.docker.run("web", publish=["8080:80"])
        lab.k8s.run("centos1")
        return [lab.iptables("-S"), lab.iptables("-t nat -S"), lab.iptables("-S DOCKER-USER")]

    with simlab.Lab(backend="model") as model:
        expected = tables(model)
    with simlab.Lab(backend="kernel") as kernel:
        got = tables(kernel)
    assert normalize(got) == normalize(expected)
    assert expected[0].startswith(DOCKER_HOST.split("-A ", 1)[0])
