"""Fuzz the plugin contract: any env and config give a result or a CNI error, never a traceback."""

from __future__ import annotations

import json
import os
import string
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab.backends.model import ModelBackend
from simlab.cni.gojson import marshal_indent
from simlab.cni.plugins import bridge, host_local
from simlab.cni.spec import parse_result
from simlab.model import NetnsAdd

# A simlab bug (not a Go-style error) would then print a traceback on stderr, which fails the test.
os.environ["SIMLAB_CNI_DEBUG"] = "1"
DATA = tempfile.mkdtemp(prefix="simlab-cni-fuzz-")
EMPTY_PATH = tempfile.mkdtemp(prefix="simlab-cni-fuzz-path-")

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_any = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def pick(*good):
    return st.one_of(st.sampled_from(good), json_any)


cidrs = st.one_of(
    st.sampled_from(
        [
            "10.88.0.0/16",
            "10.99.0.0/30",
            "10.99.0.0/31",
            "10.99.0.1/24",
            "fd00::/64",
            "0.0.0.0/0",
            "bogus",
            "10.1.0.0/32",
        ]
    ),
    json_any,
)
ipam = st.fixed_dictionaries(
    {},
    optional={
        "type": pick("simlab-host-local", "host-local", "", "simlab-bridge", "nope"),
        "subnet": cidrs,
        "rangeStart": pick("10.88.0.10", "10.99.0.2", "x"),
        "rangeEnd": pick("10.88.0.20", "1.2.3.4"),
        "gateway": pick("10.88.0.1", "10.99.0.1", "fd00::1"),
        "ranges": st.one_of(
            st.lists(
                st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"subnet": cidrs, "gateway": pick("10.88.0.1")}
                    ),
                    max_size=2,
                ),
                max_size=2,
            ),
            json_any,
        ),
        "routes": st.one_of(
            st.lists(
                st.fixed_dictionaries({}, optional={"dst": cidrs, "gw": pick("10.88.0.1", "::1")}),
                max_size=2,
            ),
            json_any,
        ),
        "resolvConf": pick("/nonexistent/resolv.conf"),
    },
)
BASE = {
    "cniVersion": "1.0.0",
    "name": "net",
    "type": "simlab-bridge",
    "bridge": "br0",
    "ipam": {"type": "simlab-host-local", "subnet": "10.88.0.0/16"},
}
overrides = st.fixed_dictionaries(
    {},
    optional={
        "cniVersion": pick(
            "1.0.0", "1.1.0", "0.4.0", "0.3.1", "0.2.0", "0.1.0", "1.1.0", "banana", ""
        ),
        "name": pick("net", "n-1", "", "bad name", "a/b"),
        "bridge": pick("br0", "cni0", "averyveryverylongname", "", "lo"),
        "isGateway": pick(True, False),
        "isDefaultGateway": pick(True),
        "ipMasq": pick(True),
        "forceAddress": pick(True),
        "mtu": pick(1400, 0, 70000, 10),
        "hairpinMode": pick(True),
        "promiscMode": pick(True),
        "vlan": pick(0, 5, -1),
        "cni.dev/valid-attachments": st.one_of(
            pick([{"containerID": "ctr1", "ifname": "eth0"}], [], [None], "x"), json_any
        ),
        "ipam": st.one_of(ipam, ipam, ipam, json_any),
        "dns": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"nameservers": pick(["10.0.0.53"]), "search": pick(["x"])}
            ),
            json_any,
        ),
        "prevResult": st.one_of(
            st.just({"cniVersion": "1.0.0", "interfaces": [{"name": "br0"}], "ips": []}), json_any
        ),
        "args": json_any,
        "runtimeConfig": st.one_of(st.just({"mac": "02:11:22:33:44:55"}), json_any),
    },
)
drops = st.sets(st.sampled_from(["cniVersion", "name", "type", "ipam"]), max_size=1)


@st.composite
def configs(draw):
    conf = {**BASE, "ipam": dict(BASE["ipam"])}
    for key in draw(drops):
        conf.pop(key)
    conf.update(draw(overrides))
    return conf


envs = st.fixed_dictionaries(
    {
        "CNI_COMMAND": st.sampled_from(
            ["ADD"] * 6 + ["DEL"] * 3 + ["CHECK"] * 2 + ["GC"] * 2
            + ["VERSION", "", "FROB", "STATUS", "STATUS"]
        ),
        "CNI_CONTAINERID": st.sampled_from(["ctr1"] * 8 + ["ctr2", "", "bad/id", "-x"]),
        "CNI_NETNS": st.sampled_from(["/run/netns/c1"] * 8 + ["", "/run/netns/gone", "/tmp"]),
        "CNI_IFNAME": st.sampled_from(
            ["eth0"] * 8 + ["eth1", "", "averyveryverylongname", "a:b", "lo"]
        ),
        "CNI_ARGS": st.one_of(
            st.sampled_from(
                [""] * 6
                + [
                    "IgnoreUnknown=1;IP=10.88.0.9",
                    "MAC=02:00:00:00:00:05",
                    "FOO=bar",
                    "IP=zz",
                    "IgnoreUnknown=1;MAC=01:00:00:00:00:00",
                    "bad",
                ]
            ),
            st.text(string.printable, max_size=10),
        ),
        "CNI_PATH": st.just(EMPTY_PATH),
    }
)


def check_contract(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err
    if code == 1:
        obj = json.loads(out)
        assert (
            isinstance(obj, dict)
            and set(obj) <= {"code", "msg", "details"}
            and {"code", "msg"} <= set(obj)
        )
        assert isinstance(obj["code"], int) and isinstance(obj["msg"], str)
        assert isinstance(obj.get("details", ""), str)
        assert out == marshal_indent(obj)
        return
    assert code == 0
    if out and not out.endswith("\n"):
        parse_result(out)  # a result of a supported version
    elif out:
        assert json.loads(out)["supportedVersions"]  # VERSION


def prepare(conf: dict) -> bytes:
    if isinstance(conf.get("ipam"), dict):
        conf["ipam"]["dataDir"] = DATA  # never the machine's /var/lib/cni
    return json.dumps(conf).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    env=envs, conf=configs(), raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=40))
)
def test_bridge_never_tracebacks(env, conf, raw):
    model = ModelBackend()
    model.apply(NetnsAdd("c1"))
    stdin = raw if raw is not None else prepare(conf)
    check_contract(*bridge.run(env, stdin, backend=model))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env=envs, conf=configs())
def test_host_local_never_tracebacks(env, conf):
    check_contract(*host_local.run(env, prepare(conf)))
