"""CNI spec types: results, conversions, errors, configs, serialized like the reference library."""

from __future__ import annotations

import json

import pytest

from simlab.cni import config as cfg
from simlab.cni.args import ArgsError, load_args
from simlab.cni.gojson import GoJSONError, marshal, marshal_indent, unmarshal
from simlab.cni.spec import (
    DEBIAN_VERSIONS,
    DNS,
    SUPPORTED_VERSIONS,
    CNIError,
    Interface,
    IPConfig,
    PluginInfo,
    Result,
    Route,
    greater_than_or_equal_to,
    parse_error,
    parse_result,
    parse_version,
)

# Verbatim stdout of Debian's bridge in scenario A (cni-real-run.md), ADD container 1.
REAL_ADD_A = """{
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": "rsAbr0",
            "mac": "86:eb:04:d3:35:50"
        },
        {
            "name": "veth0e25670d",
            "mac": "86:eb:04:d3:35:50"
        },
        {
            "name": "eth0",
            "mac": "1e:a3:96:08:5a:b3",
            "sandbox": "/run/netns/rsA-c1"
        }
    ],
    "ips": [
        {
            "interface": 2,
            "address": "10.88.0.2/16",
            "gateway": "10.88.0.1"
        }
    ],
    "dns": {}
}"""

# host-local called directly with dual-stack ranges and cniVersion 0.3.1 (cni-real-run.md).
REAL_IPAM_031 = """{
    "cniVersion": "0.3.1",
    "ips": [
        {
            "version": "4",
            "address": "10.90.0.2/24",
            "gateway": "10.90.0.1"
        },
        {
            "version": "6",
            "address": "fd00:dead:beef::2/64",
            "gateway": "fd00:dead:beef::1"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        }
    ],
    "dns": {}
}"""

# Appendix A: cniVersion 0.1.0
REAL_IPAM_010 = """{
    "cniVersion": "0.1.0",
    "ip4": {
        "ip": "10.91.0.2/24",
        "gateway": "10.91.0.1",
        "routes": [
            {
                "dst": "0.0.0.0/0"
            }
        ]
    },
    "dns": {}
}"""

REAL_ROUTES_DNS = """{
    "cniVersion": "1.0.0",
    "interfaces": [
        {
            "name": "rsAbr0",
            "mac": "86:66:d5:2f:77:e6"
        },
        {
            "name": "vethccde8628",
            "mac": "86:66:d5:2f:77:e6"
        },
        {
            "name": "eth0",
            "mac": "62:e8:f4:2f:7f:e3",
            "sandbox": "/run/netns/rsA-c3"
        }
    ],
    "ips": [
        {
            "interface": 2,
            "address": "10.89.0.100/24",
            "gateway": "10.89.0.254"
        }
    ],
    "routes": [
        {
            "dst": "0.0.0.0/0"
        },
        {
            "dst": "192.0.2.0/24",
            "gw": "10.89.0.200"
        }
    ],
    "dns": {
        "nameservers": [
            "10.89.0.53"
        ],
        "search": [
            "rsa.example"
        ]
    }
}"""


@pytest.mark.parametrize("text", [REAL_ADD_A, REAL_IPAM_031, REAL_IPAM_010, REAL_ROUTES_DNS])
def test_real_outputs_round_trip_byte_exact(text):
    result = parse_result(text)
    assert result.to_json() == text
    assert not result.to_json().endswith("\n")


def test_version_shapes_of_the_same_result():
    r = parse_result(REAL_ADD_A)
    v040 = json.loads(r.to_json("0.4.0"))
    assert v040["ips"][0] == {
        "version": "4",
        "interface": 2,
        "address": "10.88.0.2/16",
        "gateway": "10.88.0.1",
    }
    assert list(v040["ips"][0]) == ["version", "interface", "address", "gateway"]
    assert json.loads(r.to_json("0.3.1"))["cniVersion"] == "0.3.1"
    v020 = json.loads(r.to_json("0.2.0"))
    assert v020 == {
        "cniVersion": "0.2.0",
        "ip4": {"ip": "10.88.0.2/16", "gateway": "10.88.0.1"},
        "dns": {},
    }
    # and back: 0.2.0 -> 1.0.0 keeps address, gateway and routes
    back = parse_result(r.to_json("0.2.0")).convert("1.0.0")
    assert back.ips == [IPConfig("10.88.0.2/16", "10.88.0.1")]


def test_conversion_round_trips_every_version():
    r = Result(
        "1.0.0",
        [Interface("eth0", "02:00:00:00:00:01", "/run/netns/x")],
        [IPConfig("10.0.0.2/24", "10.0.0.1", 0), IPConfig("fd00::2/64", "fd00::1", 0)],
        [Route("0.0.0.0/0"), Route("::/0", "fd00::1")],
        DNS(["10.0.0.53"], "ex", ["ex"], ["ndots:2"]),
    )
    for v in ("0.3.0", "0.3.1", "0.4.0", "1.0.0"):
        again = parse_result(r.to_json(v))
        assert again.cni_version == v
        assert again.to_json("1.0.0") == r.to_json("1.0.0")
    legacy = parse_result(r.to_json("0.1.0"))
    assert [i.address for i in legacy.ips] == ["10.0.0.2/24", "fd00::2/64"]
    assert [x.dst for x in legacy.routes] == ["0.0.0.0/0", "::/0"]


def test_legacy_needs_an_address():
    with pytest.raises(CNIError, match="no valid IP addresses"):
        Result("1.0.0", [Interface("eth0")]).to_json("0.2.0")


def test_unsupported_version_is_refused():
    with pytest.raises(CNIError) as e:
        Result().to_json("1.2.0")
    assert e.value.code == 1


def test_a_1_1_0_result_has_the_1_0_0_shape():
    assert json.loads(Result("1.0.0", ips=[IPConfig("10.1.0.2/24")]).to_json("1.1.0")) == {
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.0.2/24"}],
        "dns": {},
    }


def test_empty_fields_are_left_out_but_dns_stays():
    assert json.loads(Result("1.0.0").to_json()) == {"cniVersion": "1.0.0", "dns": {}}
    assert json.loads(Result("1.0.0", [Interface("br0")]).to_json())["interfaces"] == [
        {"name": "br0"}
    ]
    # interface index 0 is kept (a pointer in Go, not omitted)
    assert json.loads(Result("1.0.0", ips=[IPConfig("127.0.0.1/8", interface=0)]).to_json())[
        "ips"
    ] == [{"interface": 0, "address": "127.0.0.1/8"}]


def test_error_json_shape():
    assert CNIError(999, "x").to_json() == '{\n    "code": 999,\n    "msg": "x"\n}'
    e = CNIError(1, "incompatible CNI versions", 'config is "1.1.0"')
    assert list(json.loads(e.to_json())) == ["code", "msg", "details"]
    again = parse_error(e.to_json())
    assert (again.code, again.msg, again.details) == (
        1,
        "incompatible CNI versions",
        'config is "1.1.0"',
    )
    # a spec-style error with cniVersion is read too
    assert parse_error('{"cniVersion": "1.0.0", "code": 7, "msg": "m"}').code == 7


def test_version_output_is_byte_exact():
    # library >= 1.2 (plugins v1.5+): its own version is 1.1.0, and 1.1.0 is supported
    assert PluginInfo().encode() == (
        '{"cniVersion":"1.1.0","supportedVersions":'
        '["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n'
    )
    # Debian 12's plugins (library 1.1.2)
    assert PluginInfo("1.0.0", DEBIAN_VERSIONS).encode() == (
        '{"cniVersion":"1.0.0","supportedVersions":'
        '["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}\n'
    )
    assert PluginInfo.decode(PluginInfo().encode()).supported_versions == SUPPORTED_VERSIONS


def test_go_json_escaping():
    assert marshal({"m": "<a & b>"}) == '{"m":"\\u003ca \\u0026 b\\u003e"}'
    assert marshal_indent({"m": "tab\there\x01"}) == '{\n    "m": "tab\\there\\u0001"\n}'
    assert marshal(["é", "\u2028"]) == '["é","\\u2028"]'
    assert marshal_indent({"a": [], "b": {}}) == '{\n    "a": [],\n    "b": {}\n}'


@pytest.mark.parametrize(
    "text, msg",
    [
        ("", "unexpected end of JSON input"),
        ('{"cniVersion":"1.0.0","name":"rsA-err","type":"bridge",', "unexpected end of JSON input"),
        ('{"a" 1}', "invalid character '1' after object key"),
        ("{'a': 1}", "invalid character '\\'' looking for beginning of object key string"),
        ('{"a": 1} x', "invalid character 'x' after top-level value"),
        ("[1 2]", "invalid character '2' after array element"),
        ('{"a": NaN}', "invalid character 'N' looking for beginning of value"),
    ],
)
def test_go_syntax_errors(text, msg):
    with pytest.raises(GoJSONError) as e:
        unmarshal(text)
    assert str(e.value) == msg


def test_versions():
    assert parse_version("") == (0, 1, 0)
    assert greater_than_or_equal_to("1.0.0", "0.4.0")
    assert not greater_than_or_equal_to("0.3.1", "0.4.0")
    with pytest.raises(ValueError, match='failed to convert major version part "banana"'):
        parse_version("banana")
    with pytest.raises(ValueError, match="too many parts"):
        parse_version("1.0.0.0")


def test_args():
    assert load_args("", {}) == {}
    assert load_args("IgnoreUnknown=true;FOO=bar", {}) == {"IgnoreUnknown": True}
    with pytest.raises(ArgsError, match=r'ARGS: unknown args \["FOO=bar" "X=1"\]'):
        load_args("FOO=bar;X=1", {"MAC": str})
    with pytest.raises(ArgsError, match='ARGS: invalid pair "FOO"'):
        load_args("FOO", {})


# ------------------------------------------------------------------ configs
def test_conflist_and_single_conf():
    lst = cfg.load(
        {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "a"}, {"type": "b", "x": 1}]}
    )
    assert [p.type for p in lst.plugins] == ["a", "b"] and lst.name == "n"
    single = cfg.load('{"cniVersion":"0.4.0","name":"n","type":"a"}')
    assert single.cni_version == "0.4.0" and [p.type for p in single.plugins] == ["a"]


@pytest.mark.parametrize(
    "conf, msg",
    [
        ({"cniVersion": "1.0.0", "plugins": [{"type": "a"}]}, "no name"),
        ({"name": 3, "plugins": [{"type": "a"}]}, "invalid name type float64"),
        ({"name": "n"}, "no 'plugins' key"),
        ({"name": "n", "plugins": {}}, "invalid 'plugins' type map[string]interface {}"),
        ({"name": "n", "plugins": []}, "no plugins in list"),
        (
            {"name": "n", "disableCheck": "yes", "plugins": [{"type": "a"}]},
            "invalid disableCheck type string",
        ),
        (
            {"name": "n", "plugins": [{"bridge": "x"}]},
            "failed to parse plugin config 0: error parsing configuration: missing 'type'",
        ),
    ],
)
def test_conflist_errors(conf, msg):
    with pytest.raises(CNIError) as e:
        cfg.conf_list_from_bytes(json.dumps(conf))
    assert msg in e.value.msg


def test_request_config_is_sorted_compact_with_prev_result_in_struct_order():
    lst = cfg.load(
        {
            "cniVersion": "1.0.0",
            "name": "net",
            "plugins": [
                {"type": "b", "zeta": {"y": 1, "x": 2}, "capabilities": {"mac": True, "ips": False}}
            ],
        }
    )
    prev = Result("1.0.0", ips=[IPConfig("10.0.0.2/24", "10.0.0.1", 2)])
    data = cfg.build_one_config(
        "net", "1.0.0", lst.plugins[0], prev, {"mac": "02:00:00:00:00:01", "ips": ["x"]}
    )
    text = data.decode()
    assert text.startswith(
        '{"capabilities":{"ips":false,"mac":true},"cniVersion":"1.0.0","name":"net",'
    )
    assert (
        '"prevResult":{"cniVersion":"1.0.0","ips":[{"interface":2,"address":"10.0.0.2/24","gateway":"10.0.0.1"}],"dns":{}}'
        in text
    )
    assert '"runtimeConfig":{"mac":"02:00:00:00:00:01"}' in text
    assert text.endswith('"type":"b","zeta":{"x":2,"y":1}}')


def test_doctests_of_simlab_cni():
    import doctest
    import importlib
    import pkgutil

    import simlab.cni

    failed = 0
    for info in pkgutil.walk_packages(simlab.cni.__path__, "simlab.cni."):
        if info.name.endswith("__main__"):
            continue
        failed += doctest.testmod(importlib.import_module(info.name)).failed
    assert failed == 0
