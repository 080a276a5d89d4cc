"""lab.docker on the model backend: modes, kernel steps, errors, rollback, reach, exec text."""

from __future__ import annotations

import errno
import re

import pytest

import simlab
from simlab.model import ROOT, NetError, RouteAdd
from simlab.model.derive import carrier, flags
from simlab.runtime.docker import DockerEngine, DockerError

HEX12 = re.compile(r"^[0-9a-f]{12}$")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

WEB_IP_A = "".join(line + "\n" for line in [
    "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN "
    "group default qlen 1000",
    "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
    "    inet 127.0.0.1/8 scope host lo",
    "       valid_lft forever preferred_lft forever",
    "    inet6 ::1/128 scope host ",
    "       valid_lft forever preferred_lft forever",
    "4: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP "
    "group default qlen 1000",
    "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
    "    inet 172.17.0.2/16 scope global eth0",
    "       valid_lft forever preferred_lft forever",
    "    inet6 fe80::42:acff:fe11:2/64 scope link ",
    "       valid_lft forever preferred_lft forever",
])

NONE_IP_A = "".join(line + "\n" for line in [
    "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN "
    "group default qlen 1000",
    "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00",
    "    inet 127.0.0.1/8 scope host lo",
    "       valid_lft forever preferred_lft forever",
    "    inet6 ::1/128 scope host ",
    "       valid_lft forever preferred_lft forever",
])

NAT_RULES = (
    "-N DOCKER",
    "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
    "-A DOCKER -i docker0 -j RETURN",
)

#: Slide 10: `docker inspect test | jq .[]."NetworkSettings"` of a --net bridge container.
SLIDE10_KEYS = [
    "Bridge", "SandboxID", "HairpinMode", "LinkLocalIPv6Address", "LinkLocalIPv6PrefixLen", "Ports",
    "SandboxKey", "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "Gateway",
    "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen", "IPv6Gateway",
    "MacAddress",
    "Networks",
]
ENDPOINT_KEYS = [
    "IPAMConfig", "Links", "Aliases", "NetworkID", "EndpointID", "Gateway", "IPAddress",
    "IPPrefixLen",
    "IPv6Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress",
]
#: Slide 11: the app container of a kubelet pod (--net container:<pause>), value for value.
SLIDE11 = {
    "Bridge": "", "SandboxID": "", "HairpinMode": False, "LinkLocalIPv6Address": "",
    "LinkLocalIPv6PrefixLen": 0, "Ports": None, "SandboxKey": "", "SecondaryIPAddresses": None,
    "SecondaryIPv6Addresses": None, "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "",
    "GlobalIPv6PrefixLen": 0, "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
    "MacAddress": "",
    "Networks": None,
}


@pytest.fixture
def lab():
    with simlab.Lab(backend="model") as lab:
        yield lab


@pytest.fixture
def docker(lab):
    return lab.docker.start()


def ipv4_view(state):
    """What docker changes, without the counters and IPv6 addresses the kernel never gives back."""
    out = {}
    for key, ns in state.netns.items():
        names = {i: link.ifname for i, link in ns.links.items()}
        links = sorted((link.ifname, link.kind, link.up, names.get(link.master))
                       for link in ns.links.values())
        addrs = sorted((names[a.ifindex], a.cidr) for a in ns.addrs if a.family == 4)
        routes = sorted((r.dst, r.via or "", names.get(r.dev, ""))
                        for r in ns.routes if r.family == 4)
        out[key] = (links, addrs, routes, dict(ns.sysctls), dict(ns.iptables))
    return out


# ------------------------------------------------------------------ daemon
def test_constructing_the_engine_changes_nothing(lab):
    before = lab.snapshot()
    engine = DockerEngine(lab)
    assert not engine.started and lab.snapshot() == before and len(lab.timeline) == 0


def test_start_builds_the_slides_host(lab):
    lab.docker.start()
    s = lab.snapshot()
    node, lan = s.netns[ROOT], s.netns["lan"]
    em1, docker0 = node.link("em1"), node.link("docker0")
    assert em1.kind == "veth" and em1.up and em1.peer[0] == "lan"
    assert [a.cidr for a in node.addrs_of(em1.ifindex) if a.family == 4] == ["192.168.1.1/24"]
    lan_eth0 = lan.link("eth0").ifindex
    assert [a.cidr for a in lan.addrs_of(lan_eth0) if a.family == 4] == ["192.168.1.254/24"]
    assert any(r.dst == "default" and r.via == "192.168.1.254" for r in node.routes)
    assert docker0.kind == "bridge" and docker0.up and docker0.mac.startswith("02:42:")
    assert [a.cidr for a in node.addrs_of(docker0.ifindex) if a.family == 4] == ["172.17.0.1/16"]
    assert node.sysctls["net.ipv4.ip_forward"] == "1"
    assert node.iptables["nat"] == NAT_RULES
    # docker 17.06's filter table: its rules, and the policy it set when it turned ip_forward on
    assert lab.iptables("-S").splitlines()[:7] == [
        "-P INPUT ACCEPT", "-P FORWARD DROP", "-P OUTPUT ACCEPT", "-N DOCKER",
        "-N DOCKER-ISOLATION", "-N DOCKER-USER", "-A FORWARD -j DOCKER-USER"]
    assert [st.actor for st in lab.timeline] == ["host", "docker", "docker", "docker", "docker"]
    lab.docker.start()  # idempotent
    assert len(lab.timeline) == 5


def test_docker0_is_no_carrier_until_a_first_container(docker, lab):
    s = lab.snapshot()
    node = s.netns[ROOT]
    assert "NO-CARRIER" in flags(s, node, node.link("docker0"))


def test_docker0_gets_carrier_with_a_container_and_loses_it_after(docker, lab):
    docker.run("web")
    s = lab.snapshot()
    assert carrier(s, s.netns[ROOT], s.netns[ROOT].link("docker0"))
    docker.rm("web")
    s = lab.snapshot()
    assert "NO-CARRIER" in flags(s, s.netns[ROOT], s.netns[ROOT].link("docker0"))


def test_bip_sets_the_bridge_and_the_masquerade_rule(lab):
    engine = DockerEngine(lab, bip="10.9.0.1/29").start()
    node = lab.snapshot().netns[ROOT]
    docker0 = node.link("docker0").ifindex
    assert [a.cidr for a in node.addrs_of(docker0) if a.family == 4] == ["10.9.0.1/29"]
    assert "-A POSTROUTING -s 10.9.0.0/29 ! -o docker0 -j MASQUERADE" in node.iptables["nat"]
    assert engine.run("web").ip == "10.9.0.2"
    with pytest.raises(ValueError):
        DockerEngine(lab, bip="10.9.0.0/29")  # the network address cannot be the gateway


# ------------------------------------------------------------------ bridge
def test_bridge_mode_kernel_state(docker, lab):
    web = docker.run("web")
    s = lab.snapshot()
    assert HEX12.match(web.netns) and web.netns == web.sandbox_id[:12]
    assert web.id != web.sandbox_id and len(web.id) == 64
    ns, node = s.netns[web.netns], s.netns[ROOT]
    assert sorted(link.ifname for link in ns.links.values()) == ["eth0", "lo"]
    eth0, host = ns.link("eth0"), node.link(web.host_veth)
    assert re.fullmatch(r"veth[0-9a-f]{7}", web.host_veth)
    assert eth0.peer == (ROOT, host.ifindex) and host.peer == (web.netns, eth0.ifindex)
    assert eth0.ifindex < host.ifindex  # the peer is registered first
    assert host.master == node.link("docker0").ifindex and host.up
    assert eth0.up and ns.link("lo").up
    assert (web.ip, web.mac, eth0.mac) == ("172.17.0.2", "02:42:ac:11:00:02", "02:42:ac:11:00:02")
    assert [a.cidr for a in ns.addrs_of(eth0.ifindex) if a.family == 4] == ["172.17.0.2/16"]
    routes = {(r.dst, r.via) for r in ns.routes}
    assert routes == {("default", "172.17.0.1"), ("172.17.0.0/16", None)}


def test_addresses_and_macs_follow_each_other(docker):
    ips = [docker.run(n).ip for n in ("web", "db", "cache")]
    assert ips == ["172.17.0.2", "172.17.0.3", "172.17.0.4"]
    assert docker["cache"].mac == "02:42:ac:11:00:04"
    docker.rm("db")
    assert docker.run("api").ip == "172.17.0.3"  # the lowest free address again


def test_bridge_steps_are_recorded_with_reasons(docker, lab):
    first = len(lab.timeline)
    docker.run("web", publish=["8080:80"])
    steps = lab.timeline.steps[first:]
    assert [s.actor for s in steps] == ["docker"] * 7
    assert [s.commands[0].split()[:4] for s in steps] == [
        ["ip", "netns", "add", docker["web"].netns],
        ["ip", "link", "add", docker["web"].host_veth],
        ["ip", "link", "set", docker["web"].host_veth],
        ["ip", "link", "set", steps[1].ops[0].peer],
        ["ip", "-n", docker["web"].netns, "link"],
        ["ip", "-n", docker["web"].netns, "route"],
        ["iptables", "-t", "nat", "-A"],
    ]
    for step in steps:
        assert step.title["en"] and step.why["en"] and step.mirrors
        assert JAPANESE.search(step.title["ja"]) and JAPANESE.search(step.why["ja"])
        assert step.why["ja"] != step.why["en"]
    assert steps[-1].commands[-2:] == [
        "iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT "
        "--to-destination 172.17.0.2:80",
        "iptables -t filter -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp "
        "--dport 80 -j ACCEPT"]


def test_publish_adds_dnat_and_rm_removes_it(docker, lab):
    docker.run("web", publish=["8080:80", "127.0.0.1:5353:53/udp"])
    nat = lab.snapshot().netns[ROOT].iptables["nat"]
    assert nat[len(NAT_RULES):] == (
        "-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
        "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
        "-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p udp -m udp --dport 53 -j MASQUERADE",
        "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p udp -m udp --dport 5353 -j DNAT "
        "--to-destination 172.17.0.2:53",
    )
    accept = [l for l in lab.snapshot().netns[ROOT].iptables["filter"] if l.startswith("-A DOCKER ")]
    assert accept == [
        "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
        "-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p udp -m udp --dport 53 -j ACCEPT"]
    docker.rm("web")
    assert lab.snapshot().netns[ROOT].iptables["nat"] == NAT_RULES
    assert not [l for l in lab.snapshot().netns[ROOT].iptables["filter"] if l.startswith("-A DOCKER ")]


def test_rm_takes_everything_back(docker, lab):
    started = ipv4_view(lab.snapshot())
    docker.run("web", publish=["8080:80"])
    docker.run("nn", net="none")
    docker.rm("web")
    docker.rm("nn")
    assert ipv4_view(lab.snapshot()) == started
    assert docker.containers() == []


def test_ids_are_deterministic():
    def ids(seed):
        with simlab.Lab(backend="model", seed=seed) as lab:
            c = lab.docker.run("web")
            return c.id, c.sandbox_id, c.endpoint_id, c.host_veth, lab.docker.run().name
    assert ids(0) == ids(0)
    assert ids(0) != ids(1)


# ------------------------------------------------------------ other modes
def test_none_mode_has_only_lo(docker, lab):
    nn = docker.run("nn", net="none")
    ns = lab.snapshot().netns[nn.netns]
    assert [(link.ifname, link.up) for link in ns.links.values()] == [("lo", True)]
    assert ns.routes == () and nn.ip == "" and nn.mac == ""


def test_host_mode_makes_nothing(docker, lab):
    before = lab.snapshot()
    hh = docker.run("hh", net="host", publish=["8080:80"])
    assert hh.netns == ROOT and lab.snapshot() == before
    assert hh.ports == () and hh.warnings == (
        "WARNING: Published ports are discarded when using host network mode",)
    assert lab.timeline[-1].ops == () and lab.timeline[-1].actor == "docker"
    assert hh.hostname == "kagaribi"


def test_container_mode_shares_the_namespace(docker, lab):
    web = docker.run("web")
    before = lab.snapshot()
    app = docker.run("app", net="container:web")
    assert app.netns == web.netns and lab.snapshot() == before
    assert app.network_mode == f"container:{web.id}" and app.hostname == web.hostname
    hh = docker.run("hh", net="host")
    assert docker.run("app2", net=f"container:{hh.id[:6]}").netns == ROOT


def test_removing_the_owner_keeps_the_namespace_for_the_joiner(docker, lab):
    web = docker.run("web")
    docker.run("app", net="container:web")
    docker.rm("web")
    s = lab.snapshot()
    assert web.netns in s.netns
    # the veth went with web
    assert [link.ifname for link in s.netns[web.netns].links.values()] == ["lo"]
    docker.rm("app")
    assert web.netns not in lab.snapshot().netns


def test_stop_releases_the_network_and_keeps_the_record(docker, lab):
    web = docker.run("web", publish=["8080:80"])
    docker.stop("web")
    assert web.netns not in lab.snapshot().netns and not web.running
    settings = docker.inspect("web")["NetworkSettings"]
    assert settings["Ports"] is None and settings["IPAddress"] == ""
    assert settings["SandboxID"] == web.sandbox_id  # docker keeps it after stop
    assert settings["Networks"]["bridge"]["NetworkID"] == docker.network_id("bridge")
    assert settings["Networks"]["bridge"]["EndpointID"] == ""
    assert "web" not in docker.ps() and "Exited (0)" in docker.ps(all=True)
    assert docker.run("web2", publish=["8080:80"]).ip == "172.17.0.2"  # address and port are free
    docker.rm("web")
    assert docker._find("web") is None


# ------------------------------------------------------------------ errors
def _conflict(d):
    web = d.run("web")
    return (lambda: d.run("web"),
            'docker: Error response from daemon: Conflict. The container name "/web" is already '
            f'in use by container "{web.id}". You have to remove (or rename) that container to be '
            "able to reuse that name.\nSee 'docker run --help'.", 125)


def _unknown_mode(d):
    return (lambda: d.run("web", net="overlay"),
            "docker: Error response from daemon: network overlay not found.\nSee 'docker run "
            "--help'.", 125)


def _missing_target(d):
    return (lambda: d.run("app", net="container:nosuch"),
            "docker: Error response from daemon: No such container: nosuch.", 125)


def _stopped_target(d):
    d.run("web")
    d.stop("web")
    return (lambda: d.run("app", net="container:web"),
            "docker: Error response from daemon: cannot join network of a non running container: "
            "web.", 125)


def _port_taken(d):
    d.run("web", publish=["8080:80"])
    return (lambda: d.run("web2", publish=["8080:80"]),
            "docker: Error response from daemon: driver failed programming external connectivity "
            f"on endpoint web2 ({d.hex_id('endpoint', 2)}): Bind for 0.0.0.0:8080 failed: port is "
            "already allocated.", 125)


def _publish_in_container_mode(d):
    d.run("web")
    return (lambda: d.run("app", net="container:web", publish=["80:80"]),
            "docker: Error response from daemon: conflicting options: port publishing and the "
            "container type network mode.\nSee 'docker run --help'.", 125)


def _bad_name(d):
    return (lambda: d.run("w"),
            "docker: Error response from daemon: Invalid container name (w), only "
            "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed.\nSee 'docker run --help'.", 125)


def _bad_publish(d):
    return (lambda: d.run("web", publish=["8080:http"]),
            "docker: Invalid containerPort: http.\nSee 'docker run --help'.", 125)


def _rm_missing(d):
    return lambda: d.rm("nosuch"), "Error response from daemon: No such container: nosuch", 1


def _inspect_missing(d):
    return lambda: d.inspect("nosuch"), "Error: No such object: nosuch", 1


def _exec_unknown_program(d):
    d.run("web")
    return (lambda: d.exec("web", "tcpdump -i eth0"),
            "rpc error: code = 2 desc = oci runtime error: exec failed: container_linux.go:262: "
            "starting "
            'container process caused "exec: \\"tcpdump\\": executable file not found in $PATH"', 126)


ERRORS = [_conflict, _unknown_mode, _missing_target, _stopped_target, _port_taken,
          _publish_in_container_mode,
          _bad_name, _bad_publish, _rm_missing, _inspect_missing, _exec_unknown_program]


@pytest.mark.parametrize("case", ERRORS, ids=[c.__name__.strip("_") for c in ERRORS])
def test_errors_as_docker_prints_them_and_nothing_changes(docker, lab, case):
    call, message, exit_code = case(docker)
    before, steps, records = lab.snapshot(), len(lab.timeline), list(docker.containers())
    with pytest.raises(DockerError) as info:
        call()
    assert info.value.message == message
    assert info.value.exit == exit_code and info.value.hint
    assert isinstance(info.value, NetError)
    assert lab.snapshot() == before and len(lab.timeline) == steps
    assert docker.containers() == records


def test_exhausted_pool(lab):
    engine = DockerEngine(lab, bip="10.9.0.1/29")
    for i in range(5):  # .2 to .6: the /29 has six hosts and the gateway keeps one
        engine.run(f"c{i}")
    before, steps = lab.snapshot(), len(lab.timeline)
    with pytest.raises(DockerError) as info:
        engine.run("c5")
    assert info.value.message == (
        "docker: Error response from daemon: no available IPv4 addresses on this network's address "
        f"pools: bridge ({engine.network_id('bridge')}).")
    assert lab.snapshot() == before and len(lab.timeline) == steps
    engine.rm("c2")
    assert engine.run("c5").ip == "10.9.0.4"


def test_first_run_error_does_not_start_the_daemon(lab):
    with pytest.raises(DockerError):
        lab.docker.run("web", net="bogus")
    assert len(lab.timeline) == 0 and not lab.docker.started


def test_a_failing_kernel_step_is_undone(docker, lab, monkeypatch):
    docker.run("web", publish=["8080:80"])
    before = ipv4_view(lab.snapshot())
    real = lab.raw_backend.apply_all

    def faulty(ops):  # the kernel refuses the default route of the second container
        if any(isinstance(op, RouteAdd) and op.netns != ROOT for op in ops):
            raise NetError.rtnl(errno.ENETUNREACH)
        return real(ops)

    monkeypatch.setattr(lab.raw_backend, "apply_all", faulty)
    with pytest.raises(DockerError) as info:
        docker.run("db", publish=["9090:90"])
    assert info.value.message == ("docker: Error response from daemon: failed to set gateway: "
                                  "RTNETLINK answers: Network is unreachable.")
    assert ipv4_view(lab.snapshot()) == before
    assert docker._find("db") is None
    undo = lab.timeline[-1]
    assert undo.title["en"] == "docker: undo the half-built container"
    assert [type(op).__name__ for op in undo.ops] == ["LinkDel", "NetnsDel"]
    monkeypatch.undo()
    assert docker.run("db", publish=["9090:90"]).ip == "172.17.0.3"


# ----------------------------------------------------------------- inspect
def test_inspect_bridge_matches_slide_10(docker):
    web = docker.run("web")
    settings = docker.inspect("web")["NetworkSettings"]
    assert list(settings) == SLIDE10_KEYS
    assert list(settings["Networks"]) == ["bridge"]
    bridge = settings["Networks"]["bridge"]
    assert list(bridge) == ENDPOINT_KEYS
    assert settings["Bridge"] == "" and settings["HairpinMode"] is False
    assert settings["Ports"] == {} and settings["SecondaryIPAddresses"] is None
    assert settings["SandboxKey"] == f"/var/run/docker/netns/{settings['SandboxID'][:12]}"
    shown = [settings[k] for k in ("IPAddress", "IPPrefixLen", "Gateway", "MacAddress")]
    assert shown == ["172.17.0.2", 16, "172.17.0.1", "02:42:ac:11:00:02"]
    assert settings["EndpointID"] == bridge["EndpointID"] == web.endpoint_id
    assert (bridge["IPAMConfig"], bridge["Links"], bridge["Aliases"]) == (None, None, None)
    assert bridge["NetworkID"] == docker.network_inspect("bridge")["Id"]
    for key in ("SandboxID", "EndpointID"):
        assert re.fullmatch(r"[0-9a-f]{64}", settings[key])
    for key in ("LinkLocalIPv6PrefixLen", "GlobalIPv6PrefixLen", "IPPrefixLen"):
        assert type(settings[key]) is int


def test_inspect_container_mode_is_slide_11(docker):
    docker.run("pause", net="none", image="gcr.io/google_containers/pause-amd64:3.0")
    docker.run("k8s_test1-node1_centos1", net="container:pause")
    assert docker.inspect("k8s_test1-node1_centos1")["NetworkSettings"] == SLIDE11
    assert list(docker.inspect("k8s_test1-node1_centos1")["NetworkSettings"]) == SLIDE10_KEYS


def test_inspect_none_mode(docker):
    nn = docker.run("nn", net="none")
    settings = docker.inspect("nn")["NetworkSettings"]
    assert list(settings) == SLIDE10_KEYS
    assert settings["SandboxKey"] == f"/var/run/docker/netns/{nn.netns}" and settings["Ports"] == {}
    assert settings["EndpointID"] == settings["IPAddress"] == settings["MacAddress"] == ""
    assert list(settings["Networks"]) == ["none"]
    none = settings["Networks"]["none"]
    assert list(none) == ENDPOINT_KEYS
    assert none["NetworkID"] == docker.network_id("none") and none["EndpointID"] == nn.endpoint_id
    assert none["IPAddress"] == "" and none["IPPrefixLen"] == 0 and none["MacAddress"] == ""


def test_inspect_host_mode(docker):
    docker.run("hh", net="host")
    settings = docker.inspect("hh")["NetworkSettings"]
    assert settings["SandboxKey"] == "/var/run/docker/netns/default"
    assert list(settings["Networks"]) == ["host"] and settings["Ports"] == {}
    assert settings["IPAddress"] == "" and settings["Networks"]["host"]["IPAddress"] == ""


def test_inspect_published_ports_and_json(docker):
    docker.run("web", publish=["8080:80"])
    doc = docker.inspect("web")
    ports = doc["NetworkSettings"]["Ports"]
    assert ports == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    assert doc["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert doc["Name"] == "/web" and doc["State"]["Running"] is True
    text = docker.inspect_json("web")
    assert text.startswith('[\n    {\n        "Id": "') and text.endswith("]\n")
    jq = docker.inspect_json("web", '.[]."NetworkSettings"')
    assert jq.startswith('{\n  "Bridge": "",\n  "SandboxID": "')
    import json

    assert json.loads(jq) == doc["NetworkSettings"]


def test_network_inspect(docker):
    web = docker.run("web")
    docker.run("nn", net="none")
    net = docker.network_inspect("bridge")
    assert net["Name"] == "bridge" and net["Driver"] == "bridge"
    assert net["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
    assert net["Containers"] == {web.id: {
        "Name": "web", "EndpointID": web.endpoint_id, "MacAddress": "02:42:ac:11:00:02",
        "IPv4Address": "172.17.0.2/16", "IPv6Address": ""}}
    assert net["Options"]["com.docker.network.bridge.name"] == "docker0"
    assert list(docker.network_inspect("none")["Containers"].values())[0]["Name"] == "nn"
    with pytest.raises(DockerError, match="No such network: foo"):
        docker.network_inspect("foo")


def test_ps(docker):
    web = docker.run("web", publish=["8080:80"])
    nn = docker.run("nn", net="none", image="busybox")
    assert docker.ps() == (
        "CONTAINER ID        IMAGE               COMMAND             CREATED              STATUS"
        "              PORTS                  NAMES\n"
        f"{nn.short_id}        busybox             \"sh\"                About a minute ago   "
        "Up About a minute                          nn\n"
        f"{web.short_id}        centos              \"bash\"              About a minute ago   "
        "Up About a minute   0.0.0.0:8080->80/tcp   web\n")


# ------------------------------------------------------------------- exec
def test_exec_ip_a_in_each_mode(docker, lab):
    web = docker.run("web")
    nn = docker.run("nn", net="none")
    docker.run("hh", net="host")
    docker.run("app", net="container:web")
    assert web.exec("ip a") == WEB_IP_A
    assert docker.exec("web", "ip a") == lab.ip(f"-n {web.netns} a")
    assert docker.exec("app", "ip a") == WEB_IP_A
    assert nn.exec("ip a") == NONE_IP_A
    assert docker.exec("hh", "ip a") == lab.ip("a")
    assert "em1" in docker.exec("hh", "ip a") and "docker0" in docker.exec("hh", "ip a")
    assert docker.exec("web", "ip route") == (
        "default via 172.17.0.1 dev eth0 \n"
        "172.17.0.0/16 dev eth0 proto kernel scope link src 172.17.0.2 \n")
    assert docker.exec("web", "hostname") == web.short_id + "\n"
    assert docker.exec("nn", "/sbin/ip route") == ""


def test_exec_in_a_stopped_container(docker):
    web = docker.run("web")
    docker.stop("web")
    with pytest.raises(DockerError) as info:
        docker.exec("web", "ip a")
    assert info.value.message == f"Error response from daemon: Container {web.id} is not running"


# ------------------------------------------------------------ reachability
def test_two_bridge_containers_reach_each_other_through_docker0(docker):
    docker.run("web")
    docker.run("db")
    walk = docker.reach("web", "db")
    assert walk.ok and walk.reply_ok and walk.src == "172.17.0.2" and walk.seen_src == "172.17.0.2"
    bridge = [h for h in walk.hops if h.action == "bridge"]
    assert len(bridge) == 1 and bridge[0].dev == "docker0" and bridge[0].netns == ROOT
    assert walk.delivered == (docker["db"].netns, "eth0")


def test_bridge_container_reaches_the_lan_masqueraded(docker):
    docker.run("web")
    walk = docker.reach("web", "lan")
    assert walk.ok and walk.reply_ok
    assert walk.src == "172.17.0.2" and walk.seen_src == "192.168.1.1"
    assert walk.delivered == ("lan", "eth0")
    masq = [h for h in walk.hops if h.action == "nat"]
    assert len(masq) == 1 and "MASQUERADE" in masq[0].en and masq[0].dev == "em1"


def test_published_port_reaches_the_container_from_the_lan(docker):
    web = docker.run("web", publish=["8080:80"])
    walk = docker.reach("lan", "node", "tcp", 8080)
    assert walk.ok and walk.reply_ok
    assert walk.delivered == (web.netns, "eth0")
    assert (walk.seen_dst, walk.seen_dport) == ("172.17.0.2", 80)
    assert walk.seen_src == "192.168.1.254"
    assert docker.reach("lan", "node", "tcp", 9090).delivered == (ROOT, "em1")  # not published


def test_none_container_reaches_nothing(docker):
    docker.run("web")
    docker.run("nn", net="none")
    for target in ("web", "lan", "172.17.0.1", "8.8.8.8"):
        walk = docker.reach("nn", target)
        assert not walk.ok and walk.error == "Network is unreachable"
    assert docker.reach("nn", "127.0.0.1").ok


def test_host_and_joined_containers_reach_like_their_namespace(docker):
    docker.run("web")
    docker.run("hh", net="host")
    docker.run("app", net="container:web")
    assert docker.reach("hh", "lan").seen_src == "192.168.1.1"
    assert docker.reach("app", "lan").src == "172.17.0.2"
    assert docker.address_of("app") == "172.17.0.2"
