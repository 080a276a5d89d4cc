"""lab.docker on the real kernel: the same text as the model, and real traffic.

Traffic runs only between the lab's own namespaces (``nsenter --net=`` the
paths the kernel backend mounts); the machine's own namespace is compared
before and after every test.  No `ping` binary is needed: ICMP echo goes
through a raw socket, TCP through small Python servers.
"""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap

import pytest

import simlab
from simlab.model import ROOT, NetError, RouteAdd
from simlab.normalize import normalize
from simlab.runtime.docker import DockerError

pytestmark = pytest.mark.kernel

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}

PING = textwrap.dedent("""
    import os, socket, struct, sys
    def checksum(data):
        data += b"\\0" * (len(data) % 2)
        total = sum(struct.unpack(f"!{len(data) // 2}H", data))
        total = (total >> 16) + (total & 0xFFFF)
        return ~(total + (total >> 16)) & 0xFFFF
    ident = os.getpid() & 0xFFFF
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"simlab"
    packet = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(3)
    try:
        s.sendto(packet, (sys.argv[1], 0))
    except OSError as e:
        print(f"ping: connect: {e.strerror}")
        sys.exit(2)
    while True:
        try:
            data, (peer, _) = s.recvfrom(2048)
        except socket.timeout:
            print("no reply")
            sys.exit(1)
        icmp = data[(data[0] & 0x0F) * 4:]
        if icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            print(f"reply from {peer}")
            sys.exit(0)
""")

#: Accepts one TCP connection on the port given, sends back the peer's address, exits.
SERVER = textwrap.dedent("""
    import socket, sys
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[1])))
    s.listen(1)
    s.settimeout(10)
    print("ready", flush=True)
    conn, (peer, _) = s.accept()
    conn.sendall(peer.encode())
    conn.close()
""")

CLIENT = textwrap.dedent("""
    import socket, sys
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print(s.recv(100).decode())
""")


def _machine() -> dict[str, str]:
    """This process's own network namespace, as the tools print it."""
    def out(*argv):
        return subprocess.run(argv, capture_output=True, text=True, env=ENV).stdout
    save = out("iptables-save")
    return {
        "link": out("ip", "-o", "link"),
        "addr": out("ip", "-o", "addr"),
        "route": out("ip", "route"),
        "iptables": "\n".join(line for line in save.splitlines() if not line.startswith("#")),
        "ip_forward": out("sysctl", "-n", "net.ipv4.ip_forward"),
    }


@pytest.fixture(autouse=True)
def machine_unchanged():
    before = _machine()
    yield
    assert _machine() == before, "a lab step reached the machine's own network namespace"


@pytest.fixture
def lab():
    with simlab.Lab(backend="kernel") as lab:
        assert lab.backend == "kernel"
        yield lab


def in_netns(lab, key: str, code: str, *args: str) -> subprocess.CompletedProcess:
    path = lab.netns_path(key)
    enter = list(lab.capabilities.enter_prefix)  # rootless: into the lab's user and mount ns
    return subprocess.run([*enter, "nsenter", f"--net={path}", "--", sys.executable, "-c", code, *args],
                          capture_output=True, text=True, timeout=20, env=ENV)


def serve(lab, key: str, port: int) -> subprocess.Popen:
    path = lab.netns_path(key)
    enter = list(lab.capabilities.enter_prefix)
    argv = [*enter, "nsenter", f"--net={path}", "--", sys.executable, "-c", SERVER, str(port)]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=ENV)
    assert server.stdout.readline().strip() == "ready", server.stderr.read()
    return server


def exchange(lab, server_ns: str, port: int, client_ns: str, address: str, client_port: int) -> str:
    server = serve(lab, server_ns, port)
    try:
        client = in_netns(lab, client_ns, CLIENT, address, str(client_port))
        assert client.returncode == 0, client.stderr
        return client.stdout.strip()
    finally:
        server.wait(timeout=15)


# ---------------------------------------------------------- same text as the model
def scenario(lab) -> dict[str, str]:
    docker = lab.docker
    docker.run("web", publish=["8080:80"])
    docker.run("db")
    docker.run("nn", net="none")
    docker.run("hh", net="host")
    docker.run("app", net="container:web")
    out = {}
    for name in ("web", "db", "nn", "hh", "app"):
        for command in ("ip a", "ip -d link", "ip route"):
            out[f"{name}: {command}"] = docker.exec(name, command)
    out["node: ip a"] = lab.ip("a")
    out["node: ip route"] = lab.ip("route")
    out["node: bridge link"] = lab.bridge("link")
    out["node: iptables -t nat -S"] = lab.iptables("-t nat -S")
    out["lan: ip a"] = lab.ip("-n lan a")
    out["inspect"] = "".join(docker.inspect_json(n) for n in ("web", "db", "nn", "hh", "app"))
    out["network inspect"] = repr(docker.network_inspect("bridge"))
    docker.rm("web")
    out["app after rm web: ip a"] = docker.exec("app", "ip a")
    for name in ("db", "nn", "hh", "app"):
        docker.rm(name)
    out["node at the end: ip a"] = lab.ip("a")
    out["netns at the end"] = lab.ip("netns list")
    return out


def test_model_and_kernel_print_the_same(lab):
    with simlab.Lab(backend="model") as model:
        expected = scenario(model)
    got = scenario(lab)
    keys = list(expected)
    kernel = normalize([got[k] for k in keys])
    model = normalize([expected[k] for k in keys])
    assert dict(zip(keys, kernel, strict=True)) == dict(zip(keys, model, strict=True))


def test_docker0_right_after_start_is_the_same(lab):
    with simlab.Lab(backend="model") as model:
        model.docker.start()
        expected = model.ip("link show docker0")
    lab.docker.start()
    got = lab.ip("link show docker0")
    assert "NO-CARRIER" in got and "state DOWN" in got
    assert normalize([got]) == normalize([expected])


# ------------------------------------------------------------------ traffic
def test_ping_between_two_bridge_containers(lab):
    lab.docker.run("web")
    db = lab.docker.run("db")
    assert lab.docker.reach("web", "db").ok
    ping = in_netns(lab, lab.docker["web"].netns, PING, db.ip)
    assert (ping.returncode, ping.stdout.strip()) == (0, f"reply from {db.ip}"), ping.stderr


def test_masquerade_seen_from_the_lan(lab):
    web = lab.docker.run("web")
    assert lab.docker.reach("web", "lan").seen_src == "192.168.1.1"
    assert exchange(lab, "lan", 9000, web.netns, "192.168.1.254", 9000) == "192.168.1.1"


def test_published_port_reaches_a_server_in_the_container(lab):
    web = lab.docker.run("web", publish=["8080:80"])
    walk = lab.docker.reach("lan", "node", "tcp", 8080)
    assert walk.delivered == (web.netns, "eth0") and walk.seen_src == "192.168.1.254"
    assert exchange(lab, web.netns, 80, "lan", "192.168.1.1", 8080) == "192.168.1.254"


def test_none_container_cannot_send(lab):
    lab.docker.run("web")
    nn = lab.docker.run("nn", net="none")
    assert lab.docker.reach("nn", "web").error == "Network is unreachable"
    ping = in_netns(lab, nn.netns, PING, "172.17.0.2")
    assert (ping.returncode, ping.stdout.strip()) == (2, "ping: connect: Network is unreachable")


def test_host_container_is_the_node(lab):
    lab.docker.run("hh", net="host")
    ping = in_netns(lab, ROOT, PING, "192.168.1.254")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert lab.docker.exec("hh", "ip a") == lab.ip("a")


# ----------------------------------------------------------------- rollback
def test_a_failing_step_is_undone_on_the_kernel(lab, monkeypatch):
    lab.docker.run("web", publish=["8080:80"])
    before_ip, before_nat = lab.ip("-4 a"), lab.iptables("-t nat -S")
    before_netns = lab.ip("netns list")
    backend = lab.raw_backend
    real = backend.apply_all

    def faulty(ops):
        if any(isinstance(op, RouteAdd) and op.netns != ROOT for op in ops):
            raise NetError.rtnl(errno.ENETUNREACH)
        return real(ops)

    monkeypatch.setattr(backend, "apply_all", faulty)
    with pytest.raises(DockerError, match="failed to set gateway"):
        lab.docker.run("db", publish=["9090:90"])
    monkeypatch.undo()
    assert lab.ip("netns list") == before_netns
    assert lab.ip("-4 a") == before_ip and lab.iptables("-t nat -S") == before_nat
    assert lab.docker.run("db").ip == "172.17.0.3"
