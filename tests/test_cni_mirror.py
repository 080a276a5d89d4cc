"""``# mirrors <file>: <GoName>`` markers: each on a def, naming a real Go function, in Go order."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simlab.cni import mirror_table
from simlab.cni.mirror_table import REPO_PATHS, all_markers

# Function names of the reference sources (containernetworking/plugins v1.1.1 and
# containernetworking/cni v1.1.x), in their order in each file; only the ones simlab mirrors
# need to be here, but the order among them must be the Go file's.
GO_FUNCS = {
    "bridge.go": [
        "loadNetConf",
        "calcGateways",
        "ensureAddr",
        "deleteAddr",
        "bridgeByName",
        "ensureBridge",
        "ensureVlanInterface",
        "setupVeth",
        "calcGatewayIP",
        "setupBridge",
        "enableIPForward",
        "cmdAdd",
        "cmdDel",
        "main",
        "validateInterface",
        "validateCniBrInterface",
        "validateCniVethInterface",
        "validateCniContainerInterface",
        "cmdCheck",
        "cmdStatus",  # plugins v1.5+
    ],
    "link_linux.go": [
        "makeVethPair",
        "peerExists",
        "makeVeth",
        "RandomVethName",
        "RenameLink",
        "ifaceFromNetlinkLink",
        "SetupVethWithName",
        "SetupVeth",
        "DelLinkByName",
        "DelLinkByNameAddr",
        "GetVethPeerIfindex",
    ],
    "cidr.go": ["NextIP", "PrevIP", "Cmp", "Network"],
    "ipforward_linux.go": ["EnableIP4Forward", "EnableIP6Forward", "EnableForward", "echo1"],
    "ipmasq_linux.go": ["SetupIPMasq", "TeardownIPMasq"],
    "utils_linux.go": ["ValidateExpectedInterfaceIPs", "ValidateExpectedRoute"],
    "ipam.go": ["ExecAdd", "ExecCheck", "ExecDel", "ExecStatus", "ExecGC"],
    "ipam_linux.go": ["ConfigureIface"],
    "ns_linux.go": [
        "GetCurrentNS",
        "getCurrentThreadNetNSPath",
        "Close",
        "Set",
        "IsNSorErr",
        "GetNS",
        "Path",
        "Fd",
        "errorIfClosed",
        "Do",
        "WithNetNSPath",
    ],
    "plugins:pkg/utils/utils.go": [
        "FormatChainName",
        "MustFormatChainNameWithPrefix",
        "FormatComment",
    ],
    "main.go": ["main", "cmdCheck", "cmdAdd", "cmdDel"],
    "dns.go": ["parseResolvConf"],
    "config.go": ["LoadIPAMConfig"],
    "range.go": [
        "Canonicalize",
        "IPInRange",
        "Contains",
        "Overlaps",
        "String",
        "canonicalizeIP",
        "lastIP",
    ],
    "range_set.go": ["Contains", "RangeFor", "Overlaps", "Canonicalize", "String"],
    "allocator.go": ["NewIPAllocator", "Get", "Release", "GetIter", "Next"],
    "backend.go": [
        "New",
        "Reserve",
        "LastReservedIP",
        "FindByKey",
        "FindByID",
        "ReleaseByKey",
        "ReleaseByID",
        "GetByID",
        "GetEscapedPath",
    ],
    "lock.go": ["NewFileLock", "Close", "Lock", "Unlock"],
    "skel.go": [
        "getCmdArgsFromEnv",
        "checkVersionAndCall",
        "validateConfig",
        "validatePluginVersion",
        "pluginMain",
        "PluginMainWithError",
        "PluginMain",
    ],
    "cni:pkg/utils/utils.go": [
        "ValidateContainerID",
        "ValidateNetworkName",
        "ValidateInterfaceName",
    ],
    "cni:pkg/types/args.go": ["LoadArgs"],
    "invoke/find.go": ["FindInPath"],
    "invoke/raw_exec.go": ["ExecPlugin", "pluginErr", "FindInPath"],
    "invoke/delegate.go": [
        "delegateCommon",
        "DelegateAdd",
        "DelegateCheck",
        "DelegateDel",
        "DelegateStatus",  # library >= 1.2
        "DelegateGC",
    ],
    "libcni/conf.go": ["ConfFromBytes", "ConfFromFile", "ConfListFromBytes"],
    "libcni/api.go": [
        "buildOneConfig",
        "injectRuntimeConfig",
        "AddNetworkList",
        "CheckNetworkList",
        "DelNetworkList",
        "GetVersionInfo",
        "GCNetworkList",  # library >= 1.2
        "gcNetwork",
        "GetStatusNetworkList",
        "getStatusNetwork",
    ],
}

MARKERS = all_markers()


def test_there_are_markers_for_the_plugins():
    funcs = {(m.go_file, m.go_func) for m in MARKERS}
    for name in (
        "setupBridge",
        "ensureBridge",
        "setupVeth",
        "calcGateways",
        "ensureAddr",
        "enableIPForward",
        "cmdAdd",
        "cmdDel",
        "cmdCheck",
        "loadNetConf",
    ):
        assert ("bridge.go", name) in funcs
    for file, name in [
        ("link_linux.go", "SetupVeth"),
        ("ipam.go", "ExecAdd"),
        ("ipam_linux.go", "ConfigureIface"),
        ("ipmasq_linux.go", "SetupIPMasq"),
        ("ns_linux.go", "GetNS"),
        ("main.go", "cmdAdd"),
        ("allocator.go", "Get"),
        ("backend.go", "Reserve"),
    ]:
        assert (file, name) in funcs


@pytest.mark.parametrize("m", MARKERS, ids=[f"{m.module.split('.')[-1]}:{m.line}" for m in MARKERS])
def test_every_marker_names_a_function(m):
    assert m.py_func, f"{m.module} line {m.line}: no def right below the marker"
    assert m.go_file in REPO_PATHS, f"unknown Go file {m.go_file}"
    assert m.go_func in GO_FUNCS[m.go_file], f"{m.go_file} has no function {m.go_func}"


def test_markers_follow_the_go_order():
    for module in mirror_table.MODULES:
        seen: dict[str, int] = {}
        for m in mirror_table.markers(module):
            pos = GO_FUNCS[m.go_file].index(m.go_func)
            assert pos >= seen.get(m.go_file, -1), (
                f"{module}: {m.go_func} comes before an earlier Go function"
            )
            seen[m.go_file] = pos


def test_table_command_prints_markdown():
    p = subprocess.run(
        [sys.executable, "-m", "simlab.cni.mirror_table"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "| Go file | Go function | simlab function |"
    assert (
        "| plugins: `plugins/main/bridge/bridge.go` | `setupVeth` | `simlab.cni.plugins.bridge.setup_veth` |"  # noqa: E501
        in lines
    )
    assert len(lines) == len(MARKERS) + 2
