"""`iptables -L` (-n -v -x --line-numbers), `-Z` and `-S -v` on both backends.

The expected texts below were printed by the real iptables-nft 1.8.9 (Debian 12) inside
``unshare --net --mount`` on the rules docker 17.06, flannel and the CNI bridge plugin
write; the kernel tests build a docker host and a Kubernetes node on both backends, send
real pings, and compare the listings with their counters.
"""

from __future__ import annotations

import inspect
import os

import pytest

import simlab
from simlab.iproute.command import Change, IptablesList, IptablesShow
from simlab.iproute.parse import parse
from simlab.iproute.render_iptables import fmt_num
from simlab.model.errors import NetError

BACKENDS = ["model", pytest.param("kernel", marks=pytest.mark.kernel)]
#: br_netfilter (bridged frames meet the node's FORWARD chain): docker and kubeadm load it;
#: the model counts as such a node does.
BR_NETFILTER = os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables")

RULES = [  # (table, rule) as the labs write them
    ("filter", "-P FORWARD DROP"), ("filter", "-N DOCKER"), ("filter", "-N DOCKER-ISOLATION"),
    ("filter", "-N DOCKER-USER"), ("filter", "-A FORWARD -j DOCKER-USER"),
    ("filter", "-A FORWARD -j DOCKER-ISOLATION"),
    ("filter", "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"),
    ("filter", "-A FORWARD -o docker0 -j DOCKER"), ("filter", "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"),
    ("filter", "-A FORWARD -i docker0 -o docker0 -j ACCEPT"), ("filter", "-A DOCKER-ISOLATION -j RETURN"),
    ("filter", "-A DOCKER-USER -j RETURN"),
    ("filter", "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT"),
    ("filter", "-A FORWARD -s 10.244.0.0/16 -j ACCEPT"), ("filter", "-A FORWARD -d 10.244.0.0/16 -j ACCEPT"),
    ("filter", "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"),
    ("filter", "-A INPUT -p tcp --dport 22 -j REJECT"), ("filter", "-A INPUT -p udp --sport 53:60 -j DROP"),
    ("filter", "-A INPUT -s 10.0.0.1 -d 10.0.0.0/24 -j DROP"),
    ("filter", "-A OUTPUT -m comment --comment 'hello world' -j ACCEPT"),
    ("nat", "-N DOCKER"), ("nat", "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER"),
    ("nat", "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"),
    ("nat", "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"),
    ("nat", "-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE"),
    ("nat", "-A DOCKER -i docker0 -j RETURN"),
    ("nat", "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"),
    ("nat", "-N CNI-abc"), ("nat", "-A POSTROUTING -s 10.244.1.2/32 -j CNI-abc"),
    ("nat", "-A CNI-abc -d 10.244.1.0/24 -j ACCEPT"), ("nat", "-A CNI-abc ! -d 224.0.0.0/4 -j MASQUERADE"),
    ("nat", "-A POSTROUTING -o eth0 -j SNAT --to-source 1.2.3.4"),
]

FILTER_NV = """\
Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8
    0     0 REJECT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22 reject-with icmp-port-unreachable
    0     0 DROP       17   --  *      *       0.0.0.0/0            0.0.0.0/0            udp spts:53:60
    0     0 DROP       0    --  *      *       10.0.0.1             10.0.0.0/24         

Chain FORWARD (policy DROP 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER-USER  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 DOCKER-ISOLATION  0    --  *      *       0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
    0     0 DOCKER     0    --  *      docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  docker0 docker0  0.0.0.0/0            0.0.0.0/0           
    0     0 ACCEPT     0    --  *      *       10.244.0.0/16        0.0.0.0/0           
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            10.244.0.0/16       

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* hello world */

Chain DOCKER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     6    --  !docker0 docker0  0.0.0.0/0            172.17.0.2           tcp dpt:80

Chain DOCKER-ISOLATION (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           

Chain DOCKER-USER (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  *      *       0.0.0.0/0            0.0.0.0/0           
"""

NAT_NV = """\
Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 DOCKER     0    --  *      *       0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 MASQUERADE  0    --  *      !docker0  172.17.0.0/16        0.0.0.0/0           
    0     0 MASQUERADE  6    --  *      *       172.17.0.2           172.17.0.2           tcp dpt:80
    0     0 CNI-abc    0    --  *      *       10.244.1.2           0.0.0.0/0           
    0     0 SNAT       0    --  *      eth0    0.0.0.0/0            0.0.0.0/0            to:1.2.3.4

Chain CNI-abc (1 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            10.244.1.0/24       
    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0           !224.0.0.0/4         

Chain DOCKER (2 references)
 pkts bytes target     prot opt in     out     source               destination         
    0     0 RETURN     0    --  docker0 *       0.0.0.0/0            0.0.0.0/0           
    0     0 DNAT       6    --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
"""

#: Without -n: names for "anywhere", protocols, services and ICMP types (Debian's /etc/services).
INPUT_NAMES = """\
Chain INPUT (policy ACCEPT)
target     prot opt source               destination         
ACCEPT     icmp --  anywhere             anywhere             icmp echo-request
REJECT     tcp  --  anywhere             anywhere             tcp dpt:ssh reject-with icmp-port-unreachable
DROP       udp  --  anywhere             anywhere             udp spts:domain:60
DROP       all  --  10.0.0.1             10.0.0.0/24         
"""

FORWARD_LINES = """\
Chain FORWARD (policy DROP)
num  target     prot opt source               destination         
1    DOCKER-USER  0    --  0.0.0.0/0            0.0.0.0/0           
2    DOCKER-ISOLATION  0    --  0.0.0.0/0            0.0.0.0/0           
3    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
4    DOCKER     0    --  0.0.0.0/0            0.0.0.0/0           
5    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
6    ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0           
7    ACCEPT     0    --  10.244.0.0/16        0.0.0.0/0           
8    ACCEPT     0    --  0.0.0.0/0            10.244.0.0/16       
"""

DOCKER_SV = """\
-N DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -c 0 0 -j ACCEPT
"""


@pytest.fixture(params=BACKENDS)
def lab(request):
    with simlab.Lab(backend=request.param) as lab:
        yield lab


def _ruled(lab):
    for table, rule in RULES:
        lab.iptables(f"-t {table} {rule}")
    return lab


def test_listing_is_iptables_nft_1_8_9s(lab):
    _ruled(lab)
    assert lab.iptables("-L -n -v") == FILTER_NV
    assert lab.iptables("-t nat -nvL") == NAT_NV
    assert lab.iptables("-L FORWARD -n --line-numbers") == FORWARD_LINES
    assert lab.iptables("-S DOCKER -v") == DOCKER_SV


def test_names_without_n(lab):
    """Without -n: anywhere, tcp, ssh, echo-request; lab addresses stay numbers (no DNS there)."""
    if not os.path.exists("/etc/services"):
        pytest.skip("no /etc/services: iptables and simlab print port numbers")
    _ruled(lab)
    assert lab.iptables("-L INPUT") == INPUT_NAMES
    assert "anywhere            !loopback/8" in lab.iptables("-t nat -L OUTPUT")


def test_a_fresh_namespace_lists_its_built_in_chains_at_zero(lab):
    lab.run("ip netns add a")
    shown = lab.iptables("-t nat -L -n -v", netns="a")
    assert shown.count("(policy ACCEPT 0 packets, 0 bytes)") == 4 and " 0 " not in shown.replace(
        "(policy ACCEPT 0 packets, 0 bytes)", "")


def _pair(lab):
    """Two namespaces routed through the node, FORWARD policy DROP with an ACCEPT each way."""
    for name, i in (("a", 1), ("b", 2)):
        lab.run(f"ip netns add {name}")
        lab.run(f"ip link add v{name} type veth peer name e0 netns {name}")
        lab.run(f"ip addr add 10.0.{i}.1/24 dev v{name}")
        lab.run(f"ip link set v{name} up")
        lab.run(f"ip -n {name} addr add 10.0.{i}.2/24 dev e0")
        lab.run(f"ip -n {name} link set e0 up")
        lab.run(f"ip -n {name} route add default via 10.0.{i}.1")
    lab.run("sysctl -w net.ipv4.ip_forward=1")
    lab.iptables("-P FORWARD DROP")


def test_counters_are_the_kernels(lab):
    """Dropped by the policy (counted there), then passed by the rules; nat on the first
    echo only; -Z zeroes and counting goes on."""
    _pair(lab)
    lab.run("ip netns exec a ping -c 2 10.0.2.2")
    assert "(policy DROP 2 packets, 168 bytes)" in lab.iptables("-L FORWARD -n -v")
    lab.iptables("-A FORWARD -s 10.0.1.0/24 -j ACCEPT")
    lab.iptables("-A FORWARD -d 10.0.1.0/24 -j ACCEPT")
    lab.iptables("-t nat -A POSTROUTING -s 10.0.1.0/24 -j MASQUERADE")
    assert "3 received" in lab.run("ip netns exec a ping -c 3 10.0.2.2").stdout
    assert lab.iptables("-S FORWARD -v") == (
        "-P FORWARD DROP -c 2 168\n"
        "-A FORWARD -s 10.0.1.0/24 -c 3 252 -j ACCEPT\n"
        "-A FORWARD -d 10.0.1.0/24 -c 3 252 -j ACCEPT\n")
    assert "    1    84 MASQUERADE" in lab.iptables("-t nat -L POSTROUTING -n -v")
    lab.iptables("-I FORWARD -s 10.0.9.0/24 -j ACCEPT")  # a new rule starts at zero, the others keep theirs
    assert lab.iptables("-S FORWARD -v").splitlines()[1:3] == [
        "-A FORWARD -s 10.0.9.0/24 -c 0 0 -j ACCEPT", "-A FORWARD -s 10.0.1.0/24 -c 3 252 -j ACCEPT"]
    lab.iptables("-D FORWARD -s 10.0.9.0/24 -j ACCEPT")
    lab.iptables("-Z FORWARD")
    assert lab.iptables("-S FORWARD -v").count("-c 0 0") == 3
    lab.run("ip netns exec a ping -c 1 10.0.2.2")
    assert "-c 1 84 -j ACCEPT" in lab.iptables("-S FORWARD -v")


def test_a_policy_counts_only_after_p(lab):
    """iptables-nft 1.8.9 makes built-in chains without counters: only -P gives them one."""
    _pair(lab)
    lab.iptables("-A INPUT -s 10.0.9.0/24 -j ACCEPT", netns="b")  # the table, no -P INPUT
    lab.run("ip netns exec a ping -c 1 10.0.2.2")  # FORWARD DROP: never reaches b
    assert "(policy DROP 1 packets, 84 bytes)" in lab.iptables("-L FORWARD -n -v")
    lab.iptables("-P FORWARD ACCEPT")  # a -P starts the policy's counter again
    assert "(policy ACCEPT 0 packets, 0 bytes)" in lab.iptables("-L FORWARD -n -v")
    lab.run("ip netns exec a ping -c 1 10.0.2.2")
    assert "(policy ACCEPT 0 packets, 0 bytes)" in lab.iptables("-L INPUT -n -v", netns="b")
    assert "(policy ACCEPT 2 packets, 168 bytes)" in lab.iptables("-L FORWARD -n -v")  # both ways
    lab.iptables("-P INPUT ACCEPT", netns="b")
    lab.run("ip netns exec a ping -c 1 10.0.2.2")
    assert "(policy ACCEPT 1 packets, 84 bytes)" in lab.iptables("-L INPUT -n -v", netns="b")
    lab.iptables("-Z")
    assert "(policy ACCEPT 0 packets, 0 bytes)" in lab.iptables("-L FORWARD -n -v")


def _listings(lab, nat_flags: str, steps) -> list[tuple[str, str]]:
    """The filter and nat listings after each of ``steps`` ((what, action) pairs)."""
    out = []
    for what, action in steps:
        action()
        out.append((what, lab.iptables("-L -n -v") + lab.iptables(f"-t nat -L {nat_flags}")))
    return out


def _docker_host(lab) -> list[tuple[str, str]]:
    web = lab.docker.run("web", publish=["8080:80"])
    db = lab.docker.run("db")
    return _listings(lab, "-n -v -x --line-numbers", [
        ("fresh", lambda: None),
        ("container to container, bridged on docker0", lambda: lab.docker.exec("web", f"ping -c 2 {db.ip}")),
        ("container to the node", lambda: lab.docker.exec("web", "ping -c 3 192.168.1.1")),
        ("container to a missing LAN address: masqueraded once",
         lambda: lab.docker.exec("web", "ping -c 2 192.168.1.2")),
        ("node to container", lambda: lab.run("ping -c 1 " + web.ip)),
        ("zeroed", lambda: (lab.iptables("-Z FORWARD"), lab.iptables("-t nat -Z"))),
    ])


def _k8s_node(lab) -> list[tuple[str, str]]:
    web = lab.docker.run("web")
    lab.k8s.run("centos1")
    two = lab.k8s.run("centos2")

    def flannel(verb: str) -> None:
        for rule in ("-s 10.244.0.0/16 -j ACCEPT", "-d 10.244.0.0/16 -j ACCEPT"):
            lab.iptables(f"{verb} FORWARD {rule}")

    def ping(what: str) -> None:
        lab.k8s.exec("centos1", f"ping -c 2 {what}")
    return _listings(lab, "-n -v", [
        ("fresh", lambda: None),
        ("pod to pod, bridged on cni0", lambda: ping(two.ip)),
        ("pod to container", lambda: lab.k8s.exec("centos1", f"ping -c 3 {web.ip}")),
        ("container to pod", lambda: lab.docker.exec("web", f"ping -c 1 {two.ip}")),
        ("pod to container: FORWARD DROP", lambda: (flannel("-D"), ping(web.ip))),
        ("fixed", lambda: (flannel("-I"), ping(web.ip))),
        ("zeroed", lambda: lab.iptables("-Z")),
    ])


def _hostport_node(lab) -> list[tuple[str, str]]:
    """portmap's chains (DNAT, SETMARK, MASQ, multiport, comments) on a containerd node."""
    if "ports" not in inspect.signature(lab.k8s.run).parameters:
        pytest.skip("lab.k8s.run has no ports= (hostPort) here")
    lab.k8s.use_runtime("containerd")
    web = lab.k8s.run("web", ports=[{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}])
    lab.k8s.run("client")
    out = _listings(lab, "-n -v", [
        ("fresh", lambda: None),
        ("pod to node", lambda: lab.k8s.exec("client", "ping -c 2 192.168.1.1")),
        ("pod to pod", lambda: lab.k8s.exec("client", f"ping -c 2 {web.ip}")),
    ])
    return out + [("names", lab.iptables("-t nat -L"))]


@pytest.mark.kernel
@pytest.mark.skipif(not BR_NETFILTER, reason="br_netfilter is not loaded: bridged frames skip iptables")
@pytest.mark.parametrize("build", [_docker_host, _k8s_node, _hostport_node],
                         ids=["docker-host", "k8s-node", "hostport-node"])
def test_the_model_counts_what_the_kernel_counts(build):
    with simlab.Lab(backend="model") as model, simlab.Lab(backend="kernel") as kernel:
        expected = build(kernel)
        got = build(model)
    for (tag, real), (_, modelled) in zip(expected, got, strict=True):
        assert modelled == real, tag
    assert "    0     0 " in expected[0][1] and " 1    84 " not in expected[0][1]  # fresh: all zero


def test_fmt_num_as_xtables_print_num():
    # (count, what `iptables -L -v` printed for it)
    for n, shown in [(0, "    0"), (99999, "99999"), (100000, " 100K"), (999999, "1000K"),
                     (9999999, "  10M"), (1234567890, "1235M"), (123456789012, " 123G"),
                     (1234567890123456, "1235T")]:
        assert fmt_num(n, exact=False) == shown + " "
    assert fmt_num(1234567890, exact=True) == "1234567890 "
    assert fmt_num(7, exact=True) == "       7 "


@pytest.mark.parametrize("line, what", [
    ("iptables -L", IptablesList()),
    ("iptables -nvL", IptablesList(numeric=True, verbose=True)),
    ("iptables -L -nv", IptablesList(numeric=True, verbose=True)),
    ("iptables -t nat -L POSTROUTING -n -v -x --line-numbers",
     IptablesList("nat", "POSTROUTING", True, True, True, True)),
    ("iptables -LFORWARD --numeric --verbose", IptablesList(chain="FORWARD", numeric=True, verbose=True)),
    ("iptables -Ln", IptablesList(chain="n")),  # getopt: -L takes the rest of the word
    ("iptables -S -v", IptablesShow(verbose=True)),
    ("iptables -v -S DOCKER", IptablesShow(chain="DOCKER", verbose=True)),
])
def test_parse_listing(line, what):
    assert parse(line).what == what


def test_parse_zero():
    change = parse("iptables -t nat -Z DOCKER")
    assert isinstance(change, Change) and change.ops[0].args == ("-Z", "DOCKER")
    assert parse("iptables -Z").ops[0].args == ("-Z",)


@pytest.mark.parametrize("line, text", [
    ("iptables -L -n OUTPUT", "Bad argument `OUTPUT'"),
    ("iptables -Ln OUTPUT", "iptables v1.8.9 (nf_tables): Invalid rule number `OUTPUT'"),
    ("iptables -S -n", "iptables v1.8.9 (nf_tables): Illegal option `-n' with this command"),
    ("iptables -S --line-numbers", "iptables v1.8.9 (nf_tables): Illegal option `-0' with this command"),
    ("iptables -L -S", "iptables v1.8.9 (nf_tables): Cannot use -S with -L"),
    ("iptables -Z -n", "iptables v1.8.9 (nf_tables): Illegal option `-n' with this command"),
])
def test_parse_errors_are_iptables(line, text):
    with pytest.raises(NetError) as info:
        parse(line)
    assert info.value.message.splitlines()[0] == text and info.value.exit == 2


def test_list_and_zero_together_is_refused_with_a_hint():
    with pytest.raises(NetError) as info:
        parse("iptables -L -Z")
    assert "iptables -Z" in info.value.hint


def test_errors_of_the_listing(lab):
    with pytest.raises(NetError) as info:
        lab.iptables("-L NOPE -n")
    assert info.value.message == ("iptables v1.8.9 (nf_tables): chain `NOPE' in table `filter' is "
                               "incompatible, use 'nft' tool.") and info.value.exit == 1
    with pytest.raises(NetError) as info:
        lab.iptables("-Z NOPE")
    assert info.value.message == "iptables: No chain/target/match by that name." and info.value.exit == 1


def test_counters_travel_with_a_saved_timeline():
    from simlab import timeline_io
    with simlab.Lab(backend="model") as lab:
        _pair(lab)
        lab.iptables("-A FORWARD -j ACCEPT")
        lab.run("ip netns exec a ping -c 2 10.0.2.2")
        again = timeline_io.loads(timeline_io.dumps(lab.timeline))
    counts = again.steps[-1].after.netns[simlab.model.ROOT].xt_counts
    assert counts["filter"]["0 -A FORWARD -j ACCEPT"] == (4, 336)
