"""simlab-bridge + simlab-host-local in-process on the model: the reference's runs, replayed.

Each test follows a run of Debian's plugins in cni-real-run.md / cni-errors.md
and checks the same result JSON (MACs and veth names normalized) and the same
network state.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re

import pytest

from simlab.backends.model import ModelBackend
from simlab.cni.plugins import bridge
from simlab.cni.trace import ListRecorder
from simlab.model import ROOT, LinkAdd, LinkDel, LinkSet, NetnsAdd, NetnsDel
from simlab.model.derive import operstate


@pytest.fixture
def model():
    b = ModelBackend(seed=7)
    for name in ("rsA-c1", "rsA-c2", "rsA-c3"):
        b.apply(NetnsAdd(name))
    return b


def conf(
    tmp_path, version="1.0.0", name="rsA-net", subnet="10.88.0.0/16", ipam_extra=None, **bridge_keys
):
    ipam = {
        "type": "simlab-host-local",
        "subnet": subnet,
        "dataDir": str(tmp_path),
        **(ipam_extra or {}),
    }
    d = {
        "cniVersion": version,
        "name": name,
        "type": "simlab-bridge",
        "bridge": "rsAbr0",
        **bridge_keys,
        "ipam": ipam,
    }
    return d


def call(
    model,
    command,
    config,
    cid="rsA-ctr1",
    netns="/run/netns/rsA-c1",
    prev=None,
    recorder=None,
    **env,
):
    c = dict(config)
    if prev is not None:
        c["prevResult"] = json.loads(prev) if isinstance(prev, str) else prev
    e = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": cid,
        "CNI_NETNS": netns,
        "CNI_IFNAME": "eth0",
        "CNI_PATH": "/nonexistent-simlab-cni",
        **env,
    }
    e = {k: v for k, v in e.items() if v is not None}
    code, out, err = bridge.run(e, json.dumps(c), backend=model, recorder=recorder)
    assert "Traceback" not in err
    return code, out


def ok(model, *a, **kw) -> dict:
    code, out = call(model, *a, **kw)
    assert code == 0, out
    assert not out.endswith("\n")
    return json.loads(out)


def normalized(result: dict) -> dict:
    text = json.dumps(result)
    text = re.sub(r'"veth[0-9a-f]{8}"', '"veth<8hex>"', text)
    text = re.sub(
        r'"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}"',
        lambda m: m.group(0) if m.group(0) == '"00:00:00:00:00:00"' else '"<mac>"',
        text,
    )
    return json.loads(text)


def expected_result(ip: str, netns: str, gw: str = "10.88.0.1", version="1.0.0") -> dict:
    ipc = {"interface": 2, "address": ip, "gateway": gw}
    if version != "1.0.0":
        ipc = {"version": "4", **ipc}
    return {
        "cniVersion": version,
        "interfaces": [
            {"name": "rsAbr0", "mac": "<mac>"},
            {"name": "veth<8hex>", "mac": "<mac>"},
            {"name": "eth0", "mac": "<mac>", "sandbox": netns},
        ],
        "ips": [ipc],
        "dns": {},
    }


def store(tmp_path, net="rsA-net") -> dict:
    d = tmp_path / net
    return {n: (d / n).read_bytes().decode() for n in sorted(os.listdir(d))}


def ns_view(model, key):
    """What `ip a` / `ip route` of a namespace would show, as data."""
    state = model.snapshot()
    ns = state.netns[key]
    links = {}
    for link in ns.links.values():
        links[link.ifname] = {
            "kind": link.kind,
            "up": link.up,
            "oper": operstate(state, ns, link),
            "master": ns.links[link.master].ifname if link.master else None,
            "hairpin": link.hairpin,
            # IPv6 link-local addresses come from random MACs: left out, as in the real run's probe
            "addrs": sorted(
                a.cidr + (f" brd {a.broadcast}" if a.broadcast else "")
                for a in ns.addrs_of(link.ifindex)
                if a.scope != "link"
            ),
        }
    routes = sorted(
        f"{r.dst} {'via ' + r.via + ' ' if r.via else ''}dev {ns.links[r.dev].ifname} proto {r.proto}"  # noqa: E501
        for r in ns.routes
    )
    return links, routes


def nat_rules(model) -> list[str]:
    return sorted(model.snapshot().netns[ROOT].iptables.get("nat", ()))


# ------------------------------------------------------------- scenario A
def test_scenario_a_defaults(model, tmp_path):
    c = conf(tmp_path)
    r1 = ok(model, "ADD", c)
    r2 = ok(model, "ADD", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2")
    assert normalized(r1) == expected_result("10.88.0.2/16", "/run/netns/rsA-c1")
    assert normalized(r2) == expected_result("10.88.0.3/16", "/run/netns/rsA-c2")
    # The bridge has no MAC of its own (isGateway false): it takes its lowest port MAC.
    host = model.snapshot().netns[ROOT]
    ports = [link for link in host.links.values() if link.master is not None]
    br = host.link("rsAbr0")
    assert br.mac == min((p.mac for p in ports), key=lambda m: int(m.replace(":", ""), 16))
    assert (
        r1["interfaces"][0]["mac"] == r1["interfaces"][1]["mac"]
    )  # as in the real run after ADD #1
    links, routes = ns_view(model, ROOT)
    assert links["rsAbr0"]["addrs"] == [] and links["rsAbr0"]["oper"] == "UP"
    assert sorted(n for n, v in links.items() if v["master"] == "rsAbr0") == sorted(
        [r1["interfaces"][1]["name"], r2["interfaces"][1]["name"]]
    )
    assert all(not links[p.ifname]["hairpin"] for p in ports)
    assert host.sysctls["net.ipv4.ip_forward"] == "0"
    assert nat_rules(model) == []
    c1_links, c1_routes = ns_view(model, "rsA-c1")
    assert c1_links["eth0"] == {
        "kind": "veth",
        "up": True,
        "oper": "UP",
        "master": None,
        "hairpin": False,
        "addrs": ["10.88.0.2/16 brd 10.88.255.255"],
    }
    assert c1_links["lo"]["up"] is False  # the loopback plugin's job
    assert c1_routes == ["10.88.0.0/16 dev eth0 proto kernel"]  # no default route
    assert store(tmp_path) == {
        "10.88.0.2": "rsA-ctr1\r\neth0",
        "10.88.0.3": "rsA-ctr2\r\neth0",
        "last_reserved_ip.0": "10.88.0.3",
        "lock": "",
    }

    # DEL both with prevResult, then again in every form the real run tried
    assert call(model, "DEL", c, prev=r1) == (0, "")
    assert call(model, "DEL", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2", prev=r2) == (0, "")
    br = model.snapshot().netns[ROOT].link("rsAbr0")
    assert br.mac == "00:00:00:00:00:00"  # a port-less bridge without a MAC of its own
    assert store(tmp_path) == {"last_reserved_ip.0": "10.88.0.3", "lock": ""}
    assert list(ns_view(model, "rsA-c1")[0]) == ["lo"]
    assert call(model, "DEL", c, prev=r1) == (0, "")
    assert call(model, "DEL", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2") == (0, "")
    model.apply(NetnsDel("rsA-c1"))
    assert call(model, "DEL", c) == (0, "")
    assert call(model, "DEL", c, cid="rsA-ctr2", netns="") == (0, "")


# ------------------------------------------------------------- scenario B
PROBE_NAT = sorted(
    line
    for line in [
        '-A CNI-863a9331dc67befa01da828d ! -d 224.0.0.0/4 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr2\\"" -j MASQUERADE',  # noqa: E501
        '-A CNI-863a9331dc67befa01da828d -d 10.88.0.0/16 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr2\\"" -j ACCEPT',  # noqa: E501
        '-A CNI-edf5726f8d5eb4d5f2fb12cc ! -d 224.0.0.0/4 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr1\\"" -j MASQUERADE',  # noqa: E501
        '-A CNI-edf5726f8d5eb4d5f2fb12cc -d 10.88.0.0/16 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr1\\"" -j ACCEPT',  # noqa: E501
        '-A POSTROUTING -s 10.88.0.2/32 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr1\\"" -j CNI-edf5726f8d5eb4d5f2fb12cc',  # noqa: E501
        '-A POSTROUTING -s 10.88.0.3/32 -m comment --comment "name: \\"rsA-net\\" id: \\"rsA-ctr2\\"" -j CNI-863a9331dc67befa01da828d',  # noqa: E501
        "-N CNI-863a9331dc67befa01da828d",
        "-N CNI-edf5726f8d5eb4d5f2fb12cc",
    ]
)


def test_scenario_b_gateway_and_masquerade(model, tmp_path):
    c = conf(tmp_path, isGateway=True, ipMasq=True)
    br_mac_before = None
    r1 = ok(model, "ADD", c)
    br_mac_before = model.snapshot().netns[ROOT].link("rsAbr0").mac
    r2 = ok(model, "ADD", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2")
    assert normalized(r1) == expected_result("10.88.0.2/16", "/run/netns/rsA-c1")
    assert normalized(r2) == expected_result("10.88.0.3/16", "/run/netns/rsA-c2")
    host = model.snapshot().netns[ROOT]
    br = host.link("rsAbr0")
    assert br.addr_assign_type == 3 and br.mac == br_mac_before == r1["interfaces"][0]["mac"]
    assert r1["interfaces"][0]["mac"] != r1["interfaces"][1]["mac"]  # pinned: not the port's
    links, routes = ns_view(model, ROOT)
    assert links["rsAbr0"]["addrs"] == ["10.88.0.1/16 brd 10.88.255.255"]
    assert "10.88.0.0/16 dev rsAbr0 proto kernel" in routes
    assert host.sysctls["net.ipv4.ip_forward"] == "1"
    assert nat_rules(model) == PROBE_NAT

    # CHECK both with prevResult: silent success
    assert call(model, "CHECK", c, prev=r1) == (0, "")
    assert call(model, "CHECK", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2", prev=r2) == (0, "")

    assert call(model, "DEL", c, prev=r1) == (0, "")
    assert call(model, "DEL", c, cid="rsA-ctr2", netns="/run/netns/rsA-c2", prev=r2) == (0, "")
    links, routes = ns_view(model, ROOT)
    assert links["rsAbr0"]["addrs"] == [
        "10.88.0.1/16 brd 10.88.255.255"
    ]  # the bridge keeps its gateway
    assert links["rsAbr0"]["oper"] == "DOWN"
    assert model.snapshot().netns[ROOT].link("rsAbr0").mac == br_mac_before
    assert model.snapshot().netns[ROOT].sysctls["net.ipv4.ip_forward"] == "1"  # never reset
    assert nat_rules(model) == []
    assert store(tmp_path) == {"last_reserved_ip.0": "10.88.0.3", "lock": ""}
    # DEL again, and CHECK after DEL fails in host-local
    assert call(model, "DEL", c, prev=r1) == (0, "")
    assert call(model, "CHECK", c, prev=r1) == (
        1,
        json.dumps(
            {"code": 999, "msg": "host-local: Failed to find address added by container rsA-ctr1"},
            indent=4,
        ),
    )


def test_steps_are_reported_in_go_order(model, tmp_path):
    rec = ListRecorder(wants_snapshots=True)
    ok(model, "ADD", conf(tmp_path, isGateway=True, ipMasq=True), recorder=rec)
    assert [s.title for s in rec.steps] == [
        "setupBridge",
        "GetNS",
        "setupVeth",
        "IPAM ADD",
        "ConfigureIface",
        "ensureAddr",
        "enableIPForward",
        "SetupIPMasq",
    ]
    by = {s.title: s for s in rec.steps}
    assert by["setupVeth"].mirrors == "bridge.go: setupVeth"
    assert by["setupBridge"].commands[0] == "ip link add rsAbr0 type bridge"
    assert by["enableIPForward"].commands == ["sysctl -w net.ipv4.ip_forward=1"]
    assert any(
        c.startswith("ip -n rsA-c1 link add eth0 type veth peer name veth")
        for c in by["setupVeth"].commands
    )
    delegated = by["IPAM ADD"].detail["delegated"][0]
    assert delegated["plugin"] == "simlab-host-local" and delegated["exit"] == 0
    assert json.loads(delegated["stdout"])["ips"][0]["address"] == "10.88.0.2/16"
    assert all(s.why["en"] and s.why["ja"] for s in rec.steps)
    assert by["setupBridge"].before is not None and by["setupBridge"].after.netns[ROOT].link(
        "rsAbr0"
    )


@pytest.mark.parametrize("version", ["0.3.1", "0.4.0"])
def test_older_versions_carry_ip_version(model, tmp_path, version):
    c = conf(tmp_path, version=version, name="rsA-netv", subnet="10.89.0.0/24")
    r = ok(model, "ADD", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3")
    assert normalized(r) == expected_result(
        "10.89.0.2/24", "/run/netns/rsA-c3", gw="10.89.0.1", version=version
    )
    assert list(r["ips"][0]) == ["version", "interface", "address", "gateway"]
    assert call(model, "DEL", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3") == (0, "")


def test_is_default_gateway(model, tmp_path):
    c = conf(tmp_path, name="rsA-netv", subnet="10.89.0.0/24", isDefaultGateway=True)
    r = ok(model, "ADD", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3")
    assert r["routes"] == [{"dst": "0.0.0.0/0", "gw": "10.89.0.1"}]
    links, routes = ns_view(model, "rsA-c3")
    assert "default via 10.89.0.1 dev eth0 proto boot" in routes
    assert ns_view(model, ROOT)[0]["rsAbr0"]["addrs"] == ["10.89.0.1/24 brd 10.89.0.255"]
    assert call(model, "CHECK", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3", prev=r) == (0, "")


def test_ipam_routes_and_dns(model, tmp_path):
    c = conf(
        tmp_path,
        name="rsA-netv",
        subnet="10.89.0.0/24",
        ipam_extra={
            "rangeStart": "10.89.0.100",
            "rangeEnd": "10.89.0.101",
            "gateway": "10.89.0.254",
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.0.2.0/24", "gw": "10.89.0.200"}],
        },
        dns={"nameservers": ["10.89.0.53"], "search": ["rsa.example"]},
    )
    r = ok(model, "ADD", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3")
    # the real run's result (cni-real-run.md, "ipam routes + explicit gateway ..."), normalized
    real = expected_result("10.89.0.100/24", "/run/netns/rsA-c3", gw="10.89.0.254")
    real["routes"] = [{"dst": "0.0.0.0/0"}, {"dst": "192.0.2.0/24", "gw": "10.89.0.200"}]
    real["dns"] = {"nameservers": ["10.89.0.53"], "search": ["rsa.example"]}
    real = {k: real[k] for k in ("cniVersion", "interfaces", "ips", "routes", "dns")}
    assert normalized(r) == real and list(r) == list(real)
    _, routes = ns_view(model, "rsA-c3")
    assert routes == sorted(
        [
            "10.89.0.0/24 dev eth0 proto kernel",
            "192.0.2.0/24 via 10.89.0.200 dev eth0 proto boot",
            "default via 10.89.0.254 dev eth0 proto boot",
        ]
    )
    assert call(model, "CHECK", c, cid="rsA-ctr3", netns="/run/netns/rsA-c3", prev=r) == (0, "")


def test_layer2_only(model, tmp_path):
    c = {
        "cniVersion": "1.0.0",
        "name": "l2net",
        "type": "simlab-bridge",
        "bridge": "br9",
        "ipam": {},
    }
    r = ok(model, "ADD", c)
    assert "ips" not in r and [i["name"] for i in r["interfaces"]][::2] == ["br9", "eth0"]
    assert ns_view(model, "rsA-c1")[0]["eth0"]["up"] is True
    # 1.1.1 runs IPAM CHECK even without IPAM (seen on the real plugin in a sandbox)
    assert call(model, "CHECK", c, prev=r) == (
        1,
        json.dumps({"code": 999, "msg": "no plugin name provided"}, indent=4),
    )
    assert call(model, "DEL", c) == (0, "")


# --------------------------------------------------------------- failures
def test_netns_missing_leaves_the_bridge(model, tmp_path):
    code, out = call(model, "ADD", conf(tmp_path), netns="/run/netns/rsA-does-not-exist")
    assert (code, json.loads(out)) == (
        1,
        {
            "code": 999,
            "msg": 'failed to open netns "/run/netns/rsA-does-not-exist": failed to Statfs '
            '"/run/netns/rsA-does-not-exist": no such file or directory',
        },
    )
    assert model.snapshot().netns[ROOT].link("rsAbr0") is not None
    assert not (tmp_path / "rsA-net").exists()
    # DEL with a missing netns succeeds
    assert call(model, "DEL", conf(tmp_path), netns="/run/netns/rsA-does-not-exist") == (0, "")


def test_pool_exhausted_leaves_veth_until_del(model, tmp_path):
    c = conf(tmp_path, name="rsA-pool", subnet="10.99.0.0/30")
    assert (
        ok(model, "ADD", c, cid="rsA-pool2", netns="/run/netns/rsA-c1")["ips"][0]["address"]
        == "10.99.0.2/30"
    )
    code, out = call(model, "ADD", c, cid="rsA-pool3", netns="/run/netns/rsA-c2")
    assert (code, json.loads(out)) == (
        1,
        {
            "code": 999,
            "msg": "failed to allocate for range 0: no IP addresses "
            "available in range set: 10.99.0.1-10.99.0.2",
        },
    )
    eth0 = ns_view(model, "rsA-c2")[0]["eth0"]
    assert eth0["up"] is False and eth0["addrs"] == []  # left behind, DOWN, no address
    assert store(tmp_path, "rsA-pool") == {
        "10.99.0.2": "rsA-pool2\r\neth0",
        "last_reserved_ip.0": "10.99.0.2",
        "lock": "",
    }
    assert call(model, "DEL", c, cid="rsA-pool3", netns="/run/netns/rsA-c2") == (0, "")
    assert list(ns_view(model, "rsA-c2")[0]) == ["lo"]


def test_second_add_same_interface(model, tmp_path):
    c = conf(tmp_path)
    ok(model, "ADD", c)
    code, out = call(model, "ADD", c)
    assert (code, json.loads(out)) == (
        1,
        {"code": 999, "msg": "container veth name provided (eth0) already exists"},
    )
    assert store(tmp_path) == {
        "10.88.0.2": "rsA-ctr1\r\neth0",
        "last_reserved_ip.0": "10.88.0.2",
        "lock": "",
    }


def test_gateway_conflict_on_the_bridge(model, tmp_path):
    ok(model, "ADD", conf(tmp_path, name="rsA-err", isGateway=True))
    c2 = conf(tmp_path, name="rsA-err2", subnet="10.77.0.0/16", isGateway=True)
    code, out = call(model, "ADD", c2, cid="rsA-e2", netns="/run/netns/rsA-c2")
    assert (code, json.loads(out)) == (
        1,
        {
            "code": 999,
            "msg": 'failed to set bridge addr: "rsAbr0" already has an '
            "IP address different from 10.77.0.1/16",
        },
    )
    assert ns_view(model, "rsA-c2")[0]["eth0"]["addrs"] == ["10.77.0.2/16 brd 10.77.255.255"]
    assert store(tmp_path, "rsA-err2") == {
        "last_reserved_ip.0": "10.77.0.2",
        "lock": "",
    }  # released
    # forceAddress replaces it
    c3 = conf(tmp_path, name="rsA-err3", subnet="10.66.0.0/16", isGateway=True, forceAddress=True)
    ok(model, "ADD", c3, cid="rsA-e3", netns="/run/netns/rsA-c3")
    assert ns_view(model, ROOT)[0]["rsAbr0"]["addrs"] == ["10.66.0.1/16 brd 10.66.255.255"]


def test_zero_mac_bridge_bug_e10(model, tmp_path):
    """isGateway on a port-less bridge (MAC 00:..:00) fails as upstream does, releasing the IP."""
    ok(model, "ADD", conf(tmp_path, name="rsA-err"), cid="rsA-e1")
    assert call(model, "DEL", conf(tmp_path, name="rsA-err"), cid="rsA-e1") == (0, "")
    assert model.snapshot().netns[ROOT].link("rsAbr0").mac == "00:00:00:00:00:00"
    gw = conf(tmp_path, name="rsA-err", isGateway=True)
    code, out = call(model, "ADD", gw, cid="rsA-e1")
    assert (code, json.loads(out)) == (
        1,
        {
            "code": 999,
            "msg": "failed to set bridge addr: could not set bridge's mac: invalid argument",
        },
    )
    assert ns_view(model, ROOT)[0]["rsAbr0"]["addrs"] == ["10.88.0.1/16 brd 10.88.255.255"]
    assert ns_view(model, "rsA-c1")[0]["eth0"]["addrs"] == ["10.88.0.3/16 brd 10.88.255.255"]
    assert store(tmp_path, "rsA-err") == {"last_reserved_ip.0": "10.88.0.3", "lock": ""}
    # a second container then succeeds: the address is there, so the pinning is skipped
    r = ok(model, "ADD", gw, cid="rsA-e2", netns="/run/netns/rsA-c2")
    assert model.snapshot().netns[ROOT].link("rsAbr0").addr_assign_type == 1
    assert r["ips"][0]["address"] == "10.88.0.4/16"


def test_cni_args_mac_and_ip(model, tmp_path):
    c = conf(tmp_path, name="rsA-err")
    r = ok(
        model,
        "ADD",
        c,
        CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAME=rsA-pod;MAC=c2:11:22:33:44:55;IP=10.88.7.7",
    )
    assert (
        r["interfaces"][2]["mac"] == "c2:11:22:33:44:55"
        and r["ips"][0]["address"] == "10.88.7.7/16"
    )
    assert "10.88.7.7" in store(tmp_path, "rsA-err")
    assert call(model, "DEL", c, CNI_ARGS="IgnoreUnknown=1;MAC=c2:11:22:33:44:55;IP=10.88.7.7") == (
        0,
        "",
    )
    code, out = call(model, "ADD", c, CNI_ARGS="IgnoreUnknown=1;IP=192.0.2.77")
    assert json.loads(out) == {
        "code": 999,
        "msg": "failed to allocate all requested IPs: 192.0.2.77",
    }
    assert call(model, "DEL", c) == (0, "")
    code, out = call(model, "ADD", c, CNI_ARGS="MAC=00:00:00:00:00:00")
    assert json.loads(out) == {
        "code": 999,
        "msg": "failed to make veth pair: cannot assign requested address",
    }


def test_ipam_plugin_not_found(model, tmp_path):
    c = conf(tmp_path)
    c["ipam"]["type"] = "host-local"
    code, out = call(model, "ADD", c, CNI_PATH="/nonexistent")
    assert json.loads(out) == {
        "code": 999,
        "msg": 'failed to find plugin "host-local" in path [/nonexistent]',
    }
    assert ns_view(model, "rsA-c1")[0]["eth0"]["up"] is False  # left behind
    code, out = call(model, "DEL", c, CNI_PATH="/nonexistent")
    assert code == 1 and list(ns_view(model, "rsA-c1")[0]) == ["lo"]  # deleted, but DEL still fails


def test_existing_link_is_not_a_bridge(model, tmp_path):
    model.apply(LinkAdd("rsA-nb0", "veth", peer="rsA-nb1"))
    c = {
        "cniVersion": "1.0.0",
        "name": "rsA-err",
        "type": "simlab-bridge",
        "bridge": "rsA-nb0",
        "ipam": {},
    }
    code, out = call(model, "ADD", c)
    assert json.loads(out) == {
        "code": 999,
        "msg": 'failed to create bridge "rsA-nb0": "rsA-nb0" already exists but is not a bridge',
    }


def test_unsupported_keys_are_named(model, tmp_path):
    code, out = call(model, "ADD", conf(tmp_path, vlan=5))
    assert json.loads(out)["code"] == 2 and '"vlan": 5' in json.loads(out)["msg"]


def test_fault_after_ipam_add_releases_the_address(model, tmp_path, monkeypatch):
    rec = ListRecorder()
    monkeypatch.setattr(bridge, "debug_post_ipam_error", RuntimeError("injected after IPAM"))
    code, out = call(model, "ADD", conf(tmp_path, isGateway=True), recorder=rec)
    assert json.loads(out) == {"code": 999, "msg": "injected after IPAM"}
    assert store(tmp_path) == {
        "last_reserved_ip.0": "10.88.0.2",
        "lock": "",
    }  # the address went back
    assert rec.steps[-1].title == "IPAM DEL (rollback)"
    assert rec.steps[-1].detail["delegated"][0]["command"] == "DEL"
    monkeypatch.setattr(bridge, "debug_post_ipam_error", None)
    # the runtime's DEL after the failed ADD cleans the container side
    assert call(model, "DEL", conf(tmp_path, isGateway=True)) == (0, "")
    r = ok(model, "ADD", conf(tmp_path, isGateway=True))
    assert r["ips"][0]["address"] == "10.88.0.3/16"  # round-robin: .2 is not reused at once


def test_check_detects_drift(model, tmp_path):
    c = conf(tmp_path, isGateway=True)
    r = ok(model, "ADD", c)
    model.apply(LinkSet("eth0", netns="rsA-c1", mac="02:00:00:00:00:99"))
    code, out = call(model, "CHECK", c, prev=r)
    assert code == 1 and "doesn't match container Mac" in json.loads(out)["msg"]
    model.apply(LinkDel("eth0", netns="rsA-c1"))
    code, out = call(model, "CHECK", c, prev=r)
    assert json.loads(out)["msg"] == "Interface name eth0 not found"
    code, out = call(model, "CHECK", c)
    assert json.loads(out)["msg"] == "Required prevResult missing"


def test_ipv6_dual_stack_result(model, tmp_path):
    c = {
        "cniVersion": "1.0.0",
        "name": "dual",
        "type": "simlab-bridge",
        "bridge": "br6",
        "isGateway": True,
        "ipam": {
            "type": "simlab-host-local",
            "dataDir": str(tmp_path),
            "ranges": [[{"subnet": "10.90.0.0/24"}], [{"subnet": "fd00:dead:beef::/64"}]],
        },
    }
    r = ok(model, "ADD", c)
    assert [i["address"] for i in r["ips"]] == ["10.90.0.2/24", "fd00:dead:beef::2/64"]
    assert [i["gateway"] for i in r["ips"]] == ["10.90.0.1", "fd00:dead:beef::1"]
    addrs = ns_view(model, ROOT)[0]["br6"]["addrs"]
    assert "10.90.0.1/24 brd 10.90.0.255" in addrs and "fd00:dead:beef::1/64" in addrs
    assert ipaddress.ip_interface("fd00:dead:beef::2/64")  # sanity


def test_mtu_and_hairpin(model, tmp_path):
    c = conf(tmp_path, mtu=1400, hairpinMode=True, isGateway=True)
    ok(model, "ADD", c)
    host = model.snapshot().netns[ROOT]
    port = next(link for link in host.links.values() if link.master is not None)
    assert (host.link("rsAbr0").mtu, port.mtu, port.hairpin) == (1400, 1400, True)
    assert model.snapshot().netns["rsA-c1"].link("eth0").mtu == 1400
    code, out = call(model, "ADD", conf(tmp_path, hairpinMode=True, promiscMode=True), cid="x")
    assert (
        json.loads(out)["msg"] == "cannot set hairpin mode and promiscuous mode at the same time."
    )
