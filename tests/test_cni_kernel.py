"""simlab-bridge + simlab-host-local against Debian's bridge + host-local on the real kernel.

Each scenario runs twice, once per implementation, each time in its own
``unshare --net --mount`` sandbox (tests/cni_plugins/kernel_probe.py): same
calls, same namespaces, then the normalized reports (result JSON, exit
codes, error messages, namespace state, host-local store) must be equal.

simlab's plugin reaches the kernel through ``KernelBackend.attach`` when
:mod:`simlab.kernel` provides it; until then through the `ip`-based
stand-in ``tests/cni_plugins/kernel_shim.py`` (the test output says which).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.reference]

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "cni_plugins"
REF_DIR = "/usr/lib/cni"
VENV_BIN = os.path.dirname(sys.executable)
#: The throw-away sandbox the probes run in; as a user other than root (the rootless run of
#: tests/test_rootless.py), in a user namespace of its own as well.
SANDBOX = ["unshare", *(["--user", "--map-root-user"] if os.geteuid() != 0 else []), "--net", "--mount"]


#: How simlab's plugin process reaches the kernel: "kernel" is simlab's KernelBackend.attach,
#: "shim" the `ip`-based stand-in (it checks the plugin's logic even while the backend changes).
BACKENDS = ["shim", "kernel"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param




def probe(
    tmp_path: Path, impl: str, netns: list[str], calls: list[dict], backend: str = "kernel"
) -> dict:
    data = tmp_path / f"data-{impl}"
    learners = tmp_path / "learners"
    if not learners.exists():
        learners.mkdir()
        for p in FIXTURES.glob("learner-*"):
            shutil.copy(p, learners / p.name)
            (learners / p.name).chmod(0o755)
    calls = json.loads(json.dumps(calls).replace("DATA_DIR", str(data)))
    spec = {
        "impl": impl,
        "repo": str(REPO),
        "data_dir": str(data),
        "netns": netns,
        "calls": calls,
        "plugin_dir": REF_DIR if impl == "ref" else VENV_BIN,
        "extra_path": [str(learners)],
        "env": {},
    }
    if impl == "simlab" and backend == "shim":
        spec["env"] = {
            "SIMLAB_CNI_KERNEL_BACKEND": "kernel_shim:attach",
            "PYTHONPATH": str(FIXTURES),
        }
    path = tmp_path / f"spec-{impl}.json"
    path.write_text(json.dumps(spec))
    p = subprocess.run(
        [
            *SANDBOX,
            sys.executable,
            str(FIXTURES / "kernel_probe.py"),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    for c in report["calls"]:
        assert "traceback" not in c, c["traceback"]
        if "state" in c:  # both stores live in their own data dir: name them alike
            c["state"]["store"] = {k: v for k, v in c["state"]["store"].items()}
    return report


def _diff(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{path}/{k}")
        return out
    return [] if a == b else [f"{path}: reference {a!r} != simlab {b!r}"]


def compare(tmp_path, netns, calls, backend):
    ref = probe(tmp_path, "ref", netns, calls)
    ours = probe(tmp_path, "simlab", netns, calls, backend)
    assert len(ref["calls"]) == len(ours["calls"])
    for r, o in zip(ref["calls"], ours["calls"], strict=True):
        assert o == r, f"call {r['id']} differs:\n" + "\n".join(_diff(r, o))
    return ref


def conf(**bridge_keys):
    ipam = {"type": "host-local", "subnet": "10.88.0.0/16", "dataDir": "DATA_DIR"}
    ipam.update(bridge_keys.pop("ipam", {}))
    return {
        "cniVersion": "1.0.0",
        "name": "rsA-net",
        "type": "bridge",
        "bridge": "rsAbr0",
        **bridge_keys,
        "ipam": ipam,
    }


def lifecycle(c, check_first=True):
    """ADD x2, CHECK, DEL x2 with prevResult, DEL again in every form, as in cni-real-run.md."""
    calls = [
        {"id": "add1", "cmd": "ADD", "cid": "rsA-ctr1", "netns": "c1", "conf": c},
        {"id": "add2", "cmd": "ADD", "cid": "rsA-ctr2", "netns": "c2", "conf": c, "snapshot": True},
        {
            "id": "check2",
            "cmd": "CHECK",
            "cid": "rsA-ctr2",
            "netns": "c2",
            "conf": c,
            "prev": "add2",
        },
    ]
    if check_first:
        calls.append(
            {
                "id": "check1",
                "cmd": "CHECK",
                "cid": "rsA-ctr1",
                "netns": "c1",
                "conf": c,
                "prev": "add1",
            }
        )
    calls += [
        {"id": "del1", "cmd": "DEL", "cid": "rsA-ctr1", "netns": "c1", "conf": c, "prev": "add1"},
        {
            "id": "del2",
            "cmd": "DEL",
            "cid": "rsA-ctr2",
            "netns": "c2",
            "conf": c,
            "prev": "add2",
            "snapshot": True,
        },
        {
            "id": "del1-again",
            "cmd": "DEL",
            "cid": "rsA-ctr1",
            "netns": "c1",
            "conf": c,
            "prev": "add1",
        },
        {"id": "del2-noprev", "cmd": "DEL", "cid": "rsA-ctr2", "netns": "c2", "conf": c},
        {"id": "nsdel", "netns_del": "c1"},
        {"id": "del1-nsgone", "cmd": "DEL", "cid": "rsA-ctr1", "netns": "c1", "conf": c},
        {
            "id": "del2-nonetns",
            "cmd": "DEL",
            "cid": "rsA-ctr2",
            "netns": "",
            "conf": c,
            "snapshot": True,
        },
    ]
    return calls


def test_defaults(tmp_path, backend):
    # isGateway false: the bridge MAC floats, so CHECK of the first container may fail (cni.md §2.3)
    report = compare(tmp_path, ["c1", "c2"], lifecycle(conf(), check_first=False), backend)
    assert report["calls"][1]["state"]["host"]["rsAbr0"]["addrs"] == []


def test_is_gateway(tmp_path, backend):
    report = compare(tmp_path, ["c1", "c2"], lifecycle(conf(isGateway=True)), backend)
    assert report["calls"][1]["state"]["host"]["rsAbr0"]["addr_assign_type"] == "3"


def test_is_default_gateway(tmp_path, backend):
    c = conf(isDefaultGateway=True, name="rsA-netv", ipam={"subnet": "10.89.0.0/24"})
    report = compare(tmp_path, ["c1", "c2"], lifecycle(c), backend)
    assert any(
        r.startswith("default via 10.89.0.1")
        for r in report["calls"][1]["state"]["netns"]["c2"]["routes"]
    )


def test_ip_masq(tmp_path, backend):
    report = compare(tmp_path, ["c1", "c2"], lifecycle(conf(isGateway=True, ipMasq=True)), backend)
    assert len(report["calls"][1]["state"]["nat"]) == 8
    assert report["calls"][-1]["state"]["nat"] == []


def test_mtu_and_hairpin(tmp_path, backend):
    c = conf(mtu=1400, hairpinMode=True, isGateway=True)
    report = compare(tmp_path, ["c1", "c2"], lifecycle(c), backend)
    host = report["calls"][1]["state"]["host"]
    assert all(v["mtu"] == 1400 for v in host.values())
    assert all(v["port"]["hairpin"] for k, v in host.items() if k.startswith("veth"))


def test_ipam_routes_dns_and_versions(tmp_path, backend):
    rt = conf(
        name="rsA-netv",
        ipam={
            "subnet": "10.89.0.0/24",
            "rangeStart": "10.89.0.100",
            "rangeEnd": "10.89.0.101",
            "gateway": "10.89.0.254",
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.0.2.0/24", "gw": "10.89.0.200"}],
        },
        dns={"nameservers": ["10.89.0.53"], "search": ["rsa.example"]},
    )
    calls = [
        {
            "id": "add-rt",
            "cmd": "ADD",
            "cid": "rsA-ctr3",
            "netns": "c3",
            "conf": rt,
            "snapshot": True,
        },
        {"id": "del-rt", "cmd": "DEL", "cid": "rsA-ctr3", "netns": "c3", "conf": rt},
    ]
    for v in ("0.3.1", "0.4.0"):
        c = dict(conf(name="rsA-netv", ipam={"subnet": "10.89.0.0/24"}), cniVersion=v)
        calls += [
            {"id": f"add-{v}", "cmd": "ADD", "cid": "rsA-ctr3", "netns": "c3", "conf": c},
            {"id": f"del-{v}", "cmd": "DEL", "cid": "rsA-ctr3", "netns": "c3", "conf": c},
        ]
    compare(tmp_path, ["c3"], calls, backend)


def test_conflist_with_prev_result(tmp_path, backend):
    """A chain [bridge, learner-passthrough] through simlab's Runtime: prevResult everywhere."""
    chain = {
        "cniVersion": "1.0.0",
        "name": "rsA-chain",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "rsAbr0",
                "isGateway": True,
                "ipam": {"type": "host-local", "subnet": "10.77.0.0/16", "dataDir": "DATA_DIR"},
            },
            {"type": "learner-passthrough"},
        ],
    }
    calls = [
        {
            "id": "add",
            "runtime": "add",
            "cid": "rsA-ctr1",
            "netns": "c1",
            "conf": chain,
            "snapshot": True,
        },
        {"id": "check", "runtime": "check", "cid": "rsA-ctr1", "netns": "c1", "conf": chain},
        {
            "id": "del",
            "runtime": "del",
            "cid": "rsA-ctr1",
            "netns": "c1",
            "conf": chain,
            "snapshot": True,
        },
    ]
    report = compare(tmp_path, ["c1"], calls, backend)
    assert report["calls"][0]["exit"] == 0 and '"prevResult"' in report["calls"][2]["stdins"][0]


def test_error_cases(tmp_path, backend):
    good = conf(name="rsA-err")
    pool = conf(name="rsA-pool", bridge="rsAbr1", ipam={"subnet": "10.99.0.0/30"})
    gw2 = conf(name="rsA-err2", isGateway=True, ipam={"subnet": "10.77.0.0/16"})
    calls = [
        # E2: netns missing (the bridge is still created)
        {
            "id": "E2",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "/run/netns/rsA-does-not-exist",
            "conf": good,
            "snapshot": True,
        },
        {
            "id": "E2c",
            "cmd": "DEL",
            "cid": "rsA-e1",
            "netns": "/run/netns/rsA-does-not-exist",
            "conf": good,
        },
        # E5: pool exhausted, veth left behind until DEL
        {"id": "E5-1", "cmd": "ADD", "cid": "rsA-pool2", "netns": "e2", "conf": pool},
        {
            "id": "E5-2",
            "cmd": "ADD",
            "cid": "rsA-pool3",
            "netns": "e3",
            "conf": pool,
            "snapshot": True,
        },
        {"id": "E5-del", "cmd": "DEL", "cid": "rsA-pool3", "netns": "e3", "conf": pool},
        {"id": "E5-del2", "cmd": "DEL", "cid": "rsA-pool2", "netns": "e2", "conf": pool},
        # E8: a second ADD for the same interface
        {"id": "E8-1", "cmd": "ADD", "cid": "rsA-e1", "netns": "e1", "conf": good},
        {
            "id": "E8-2",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "snapshot": True,
        },
        {"id": "E8-del", "cmd": "DEL", "cid": "rsA-e1", "netns": "e1", "conf": good},
        # E10 then E9: isGateway on the port-less bridge (MAC 00:..:00), then a second gateway
        {
            "id": "E10",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": dict(good, isGateway=True),
            "snapshot": True,
        },
        {
            "id": "E10-del",
            "cmd": "DEL",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": dict(good, isGateway=True),
        },
        {"id": "E9", "cmd": "ADD", "cid": "rsA-e2", "netns": "e2", "conf": gw2, "snapshot": True},
        {"id": "E9-del", "cmd": "DEL", "cid": "rsA-e2", "netns": "e2", "conf": gw2},
        # E11: CNI_ARGS
        {
            "id": "E11a",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "env": {"CNI_ARGS": "FOO=bar"},
        },
        {
            "id": "E11b",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "snapshot": True,
            "env": {
                "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=rsA-pod;MAC=c2:11:22:33:44:55;IP=10.88.7.7"  # noqa: E501
            },
        },
        {"id": "E11b-del", "cmd": "DEL", "cid": "rsA-e1", "netns": "e1", "conf": good},
        {
            "id": "E11d",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "env": {"CNI_ARGS": "IgnoreUnknown=1;IP=192.0.2.77"},
        },
        {"id": "E11d-del", "cmd": "DEL", "cid": "rsA-e1", "netns": "e1", "conf": good},
        {
            "id": "E11e",
            "cmd": "ADD",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "env": {"CNI_ARGS": "MAC=00:00:00:00:00:00"},
            "snapshot": True,
        },
        {
            "id": "E11e-del",
            "cmd": "DEL",
            "cid": "rsA-e1",
            "netns": "e1",
            "conf": good,
            "snapshot": True,
        },
    ]
    report = compare(tmp_path, ["e1", "e2", "e3"], calls, backend)
    by = {c["id"]: c for c in report["calls"]}
    assert (
        json.loads(by["E10"]["stdout"])["msg"]
        == "failed to set bridge addr: could not set bridge's mac: invalid argument"
    )
    assert json.loads(by["E5-2"]["stdout"])["code"] == 999


def test_lab_style_exec_in_node_namespace(tmp_path):
    """The runtime's exec_prefix runs a plugin inside the lab's node namespace (via nsenter)."""
    script = tmp_path / "nsenter_check.sh"
    script.write_text(
        "set -e\nmount --make-rprivate /\nmkdir -p /run/netns\nmount -t tmpfs t /run/netns\n"
        "ip netns add node\n"
        f"{sys.executable} -c \"import json,sys; sys.path.insert(0,'{REPO}');"
        "from simlab.cni import Runtime;"
        f"rt=Runtime(['{REF_DIR}'], exec_prefix=['nsenter','--net=/run/netns/node','--'], env={{'PATH':'/usr/sbin:/usr/bin:/sbin:/bin'}});"  # noqa: E501
        f"c={{'cniVersion':'1.0.0','name':'n','type':'host-local','subnet':'10.1.0.0/24','ipam':{{'type':'host-local','subnet':'10.1.0.0/24','dataDir':'{tmp_path}/d'}}}};"
        "print(rt.add(c,'x','/nonexistent').ips[0].address)\"\n"
    )
    p = subprocess.run(
        [*SANDBOX, "sh", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "10.1.0.2/24"


def test_exec_plugin_reports_its_steps(tmp_path, backend):
    """simlab-bridge run as a process sends its steps back through SIMLAB_CNI_TRACE."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    if backend == "shim":
        env.update(SIMLAB_CNI_KERNEL_BACKEND="kernel_shim:attach", PYTHONPATH=str(FIXTURES))
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from simlab.cni import Runtime\n"
        f"rt = Runtime([{VENV_BIN!r}], env={env!r})\n"
        "c = {'cniVersion': '1.0.0', 'name': 'tr', 'type': 'simlab-bridge', 'isGateway': True,\n"
        "     'ipam': {'type': 'simlab-host-local', 'subnet': '10.5.0.0/24',\n"
        f"              'dataDir': {str(tmp_path)!r}}}}}\n"
        "rt.add(c, 'x', '/run/netns/c1')\n"
        "inv = rt.invocations[0]\n"
        "print(json.dumps([[s.title, s.mirrors, s.commands] for s in inv.steps]))\n"
    )
    script = tmp_path / "trace.sh"
    script.write_text(
        "set -e\nmount --make-rprivate /\nmkdir -p /run/netns\nmount -t tmpfs t /run/netns\n"
        f"ip netns add c1\n{sys.executable} {tmp_path / 'trace.py'}\n"
    )
    (tmp_path / "trace.py").write_text(code)
    p = subprocess.run(
        [*SANDBOX, "sh", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    steps = json.loads(p.stdout)
    assert [s[0] for s in steps] == [
        "setupBridge",
        "GetNS",
        "setupVeth",
        "IPAM ADD",
        "ConfigureIface",
        "ensureAddr",
        "enableIPForward",
    ]
    assert steps[0][2][0] == "ip link add cni0 type bridge"
    assert steps[2][2][0].startswith("ip -n c1 link add eth0 type veth peer name veth")
