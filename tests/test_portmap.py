"""portmap (hostPort -> DNAT) and loopback: simlab's plugins beside Debian's reference ones.

Kernel tests run each plugin as a process inside ``unshare --net --mount``
(portmap writes iptables rules and a sysctl in the namespace it runs in: the
machine's own must never change) and compare what they print and what the
namespace holds afterwards, ADD then DEL; simlab's portmap on the model must
print and leave the same (``on_the_model``).  Model tests: portmap's error
JSON, the pass-through, the rules as the reference wrote them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import simlab
from simlab.cni.plugins import loopback, portmap

REF = "/usr/lib/cni"
SIMLAB = {"portmap": [sys.executable, "-m", "simlab.cni.plugins.portmap"],
          "loopback": [sys.executable, "-m", "simlab.cni.plugins.loopback"]}

PREV = {
    "cniVersion": "1.0.0",
    "interfaces": [
        {"name": "cni0", "mac": "aa:bb:cc:dd:ee:01"},
        {"name": "veth1", "mac": "aa:bb:cc:dd:ee:02"},
        {"name": "eth0", "mac": "aa:bb:cc:dd:ee:03", "sandbox": "/var/run/netns/x"},
    ],
    "ips": [{"address": "10.244.1.2/24", "gateway": "10.244.1.1", "interface": 2}],
    "dns": {},
}


def conf(maps, **extra) -> dict:
    c = {"cniVersion": "1.0.0", "name": "k8s-pod-network", "type": "portmap",
         "capabilities": {"portMappings": True}, "runtimeConfig": {"portMappings": maps}, **extra}
    if "prevResult" not in extra:
        c["prevResult"] = PREV
    return c


# A node in a throw-away namespace: cni0 with the pod subnet, then the plugin's ADD and DEL.
SCRIPT = r"""
set -e
mount --make-rprivate /
ip link add cni0 type bridge
ip addr add 10.244.1.1/24 dev cni0
ip link set cni0 up
ip netns add pod 2>/dev/null || true
run() { CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=/run/netns/pod CNI_IFNAME=$3 CNI_PATH=/usr/lib/cni "$@" ; }
"""


def in_throwaway_ns(plugin_cmd: list[str], steps: list[tuple[str, str, str, dict]]) -> list[str]:
    """Run ``steps`` (command, container ID, ifname, config) in a fresh net+mount namespace."""
    out = []
    body = ["mount --make-rprivate /", "ip link add cni0 type bridge",
            "ip addr add 10.244.1.1/24 dev cni0", "ip link set cni0 up",
            "mkdir -p /run/netns", "mount -t tmpfs tmpfs /run/netns", "ip netns add pod"]
    exe = " ".join(plugin_cmd)
    for i, (cmd, cid, ifname, c) in enumerate(steps):
        path = f"/tmp/simlab-portmap-test-{os.getpid()}-{i}.json"
        with open(path, "w") as f:
            json.dump(c, f)
        body += [
            f"echo '### {cmd}'",
            f"CNI_COMMAND={cmd} CNI_CONTAINERID={cid} CNI_NETNS=/run/netns/pod CNI_IFNAME={ifname} "
            f"CNI_PATH={REF} {exe} < {path}; echo \"[exit $?]\"",
            "iptables -t nat -S",
            "sysctl -n net.ipv4.conf.cni0.route_localnet",
            "ip netns exec pod ip -br addr show lo",
        ]
    r = subprocess.run(["unshare", "--net", "--mount", "sh", "-c", "\n".join(body)],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": os.getcwd()})
    for i in range(len(steps)):
        os.unlink(f"/tmp/simlab-portmap-test-{os.getpid()}-{i}.json")
    out.append(r.stdout)
    assert "Traceback" not in r.stderr, r.stderr
    return out


needs_reference = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(f"{REF}/portmap") or not shutil.which("unshare"),
    reason="needs root, unshare and Debian's containernetworking-plugins",
)

CASES = {
    "one port, snat": [("ADD", "ctr1", "eth0", conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}])),
                       ("DEL", "ctr1", "eth0", conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]))],
    "two pods, udp and tcp, hostIP": [
        ("ADD", "ctr1", "eth0", conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                                      {"hostPort": 5353, "containerPort": 53, "protocol": "udp"}])),
        ("ADD", "ctr2", "eth0", conf([{"hostPort": 9090, "containerPort": 90, "protocol": "tcp",
                                       "hostIP": "192.168.1.1"}])),
        ("DEL", "ctr1", "eth0", conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}])),
    ],
    "snat off": [("ADD", "ctr1", "eth0", conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
                                              snat=False))],
    "no mappings: pass-through": [("ADD", "ctr1", "eth0", conf([]))],
    "not chained": [("ADD", "ctr1", "eth0", {k: v for k, v in conf([{"hostPort": 1, "containerPort": 1}]).items()
                                            if k != "prevResult"})],
}


@pytest.mark.kernel
@pytest.mark.reference
@needs_reference
@pytest.mark.parametrize("case", sorted(CASES))
def test_portmap_writes_what_the_reference_writes(case):
    want = in_throwaway_ns([f"{REF}/portmap"], CASES[case])
    got = in_throwaway_ns(SIMLAB["portmap"], CASES[case])
    assert got == want


@pytest.mark.kernel
@pytest.mark.reference
@needs_reference
def test_loopback_does_what_the_reference_does():
    c = {"cniVersion": "1.0.0", "name": "cni-loopback", "type": "loopback"}
    steps = [("ADD", "ctr1", "eth0", c), ("CHECK", "ctr1", "eth0", {**c, "prevResult": {}}),
             ("DEL", "ctr1", "eth0", c), ("CHECK", "ctr1", "eth0", {**c, "prevResult": {}})]
    want = in_throwaway_ns([f"{REF}/loopback"], steps)
    got = in_throwaway_ns(SIMLAB["loopback"], steps)
    assert got == want
    assert "127.0.0.1/8" in got[0] and "loopback interface is down" in got[0]


# ------------------------------------------------------------------- model
def _env(cmd="ADD"):
    return {"CNI_COMMAND": cmd, "CNI_CONTAINERID": "ctr1", "CNI_NETNS": "/run/netns/pod",
            "CNI_IFNAME": "eth0", "CNI_PATH": "/x"}


@pytest.fixture
def lab():
    with simlab.Lab(backend="model") as lab:
        lab.ip("netns add pod")
        yield lab


def test_portmap_errors_are_spec_json(lab):
    """simlab's portmap checks the ports itself (Debian's passes 70000 on to iptables, whose
    error ends the ADD half way; and it writes ``-p ""`` for a mapping without protocol)."""
    code, out, _ = portmap.run(_env(), b"{", backend=lab.raw_backend)
    assert code == 1 and json.loads(out)["code"] == 6
    bad = json.dumps(conf([{"hostPort": 70000, "containerPort": 80}])).encode()
    code, out, _ = portmap.run(_env(), bad, backend=lab.raw_backend)
    assert (code, json.loads(out)) == (1, {"code": 999, "msg": "failed to parse config: Invalid host port number: 70000"})
    alone = conf([{"hostPort": 1, "containerPort": 1}])
    del alone["prevResult"]
    code, out, _ = portmap.run(_env(), json.dumps(alone).encode(), backend=lab.raw_backend)
    assert (code, json.loads(out)["msg"]) == (1, "must be called as chained plugin")


def test_portmap_passes_the_previous_result_through(lab):
    code, out, _ = portmap.run(_env(), json.dumps(conf([])).encode(), backend=lab.raw_backend)
    assert code == 0 and json.loads(out)["ips"] == PREV["ips"]
    assert lab.snapshot().netns[""].iptables.get("nat", ()) == ()


def on_the_model(steps: list[tuple[str, str, str, dict]]) -> list[str]:
    """:func:`in_throwaway_ns`'s transcript, with simlab's portmap on the model."""
    out = ""
    with simlab.Lab(backend="model") as lab:
        lab.ip("netns add pod")
        lab.ip("link add cni0 type bridge")
        lab.ip("addr add 10.244.1.1/24 dev cni0")
        lab.ip("link set cni0 up")
        for cmd, cid, ifname, c in steps:
            env = {**_env(cmd), "CNI_CONTAINERID": cid, "CNI_IFNAME": ifname}
            code, stdout, _ = portmap.run(env, json.dumps(c).encode(), backend=lab.raw_backend)
            ns = lab.snapshot().netns
            out += (f"### {cmd}\n{stdout.decode() if isinstance(stdout, bytes) else stdout}[exit {code}]\n"
                    + lab.iptables("-t nat -S")
                    + ns[""].sysctls.get("net.ipv4.conf.cni0.route_localnet", "0") + "\n"
                    + lab.run("ip -n pod -br addr show lo").stdout)
    return [out]


@pytest.mark.parametrize("case", ["one port, snat", "two pods, udp and tcp, hostIP", "snat off"])
def test_portmap_on_the_model_writes_the_reference_rules(case):
    """What Debian's portmap v1.1.1 wrote in `unshare --net` (iptables-nft 1.8.9), line for line."""
    got = on_the_model(CASES[case])[0]
    chain = portmap.dnat_chain_name("k8s-pod-network", "ctr1")
    if case != "snat off":
        assert f"-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment \"dnat name: \\\"k8s-pod-network\\\" id: " \
               f"\\\"ctr1\\\"\" -m multiport --dports 8080 -j {chain}\n" in got
        assert "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE\n" in got
        assert ("-A CNI-HOSTPORT-SETMARK -m comment --comment \"CNI portfwd masquerade mark\" -j MARK "
                "--set-xmark 0x2000/0x2000\n") in got
    if case == "two pods, udp and tcp, hostIP":  # DEL took ctr1's chain and its jumps, nothing else
        tail = got.split("### DEL")[1]
        assert chain not in tail and "ctr2" in tail and "CNI-HOSTPORT-MASQ -m mark" in tail


@pytest.mark.kernel
@pytest.mark.reference
@needs_reference
@pytest.mark.parametrize("case", sorted(CASES))
def test_portmap_on_the_model_matches_the_reference_on_the_kernel(case):
    assert on_the_model(CASES[case]) == in_throwaway_ns([f"{REF}/portmap"], CASES[case])


def test_loopback_on_the_model(lab):
    c = json.dumps({"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}).encode()
    code, out, _ = loopback.run(_env(), c, backend=lab.raw_backend)
    assert code == 0 and json.loads(out)["interfaces"] == [
        {"name": "lo", "mac": "00:00:00:00:00:00", "sandbox": "/run/netns/pod"}]
    code, out, _ = loopback.run(_env("DEL"), c, backend=lab.raw_backend)
    assert code == 0 and not lab.snapshot().netns["pod"].link("lo").up
    with_prev = json.dumps({"cniVersion": "1.0.0", "name": "lo", "type": "loopback", "prevResult": PREV}).encode()
    code, out, _ = loopback.run(_env(), with_prev, backend=lab.raw_backend)
    assert code == 0 and json.loads(out)["ips"] == PREV["ips"]
    env = {**_env("CHECK")}
    code, out, _ = loopback.run(_env("DEL"), c, backend=lab.raw_backend)
    code, out, _ = loopback.run(env, with_prev, backend=lab.raw_backend)
    assert (code, json.loads(out)["msg"]) == (1, "loopback interface is down")
    code, out, _ = loopback.run(_env("DEL"), c, backend=lab.raw_backend) if False else (0, "", "")
    gone = {**_env("DEL"), "CNI_NETNS": "/run/netns/gone"}
    assert loopback.run(gone, c, backend=lab.raw_backend)[0] == 0  # DEL after the namespace went


def test_portmap_without_snat_writes_the_dnat_on_the_model(lab):
    c = json.dumps(conf([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}], snat=False)).encode()
    code, out, _ = portmap.run(_env(), c, backend=lab.raw_backend)
    assert code == 0, out
    rules = lab.snapshot().netns[""].iptables["nat"]
    chain = portmap.dnat_chain_name("k8s-pod-network", "ctr1")
    assert f"-A {chain} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.2:80" in rules
    assert "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT" in rules
    code, out, _ = portmap.run(_env("DEL"), c, backend=lab.raw_backend)
    assert code == 0, out
    assert not any(chain in line for line in lab.snapshot().netns[""].iptables["nat"])
