"""The kernel backend on real namespaces: layout, reading back, errors, atomic batches, cleanup.

Every test builds its own lab (``sl<id>-`` names, its own node namespace) and
removes it; nothing here touches the machine's own namespace (see
test_isolation.py for the proof).  The non-root test at the end runs anywhere.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from simlab.model import ROOT, NetError
from simlab.model import ops as o

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
kernel = pytest.mark.kernel


@pytest.fixture
def kb():
    from simlab.kernel import KernelBackend

    backend = KernelBackend()
    try:
        yield backend
    finally:
        backend.close()


def _mounted(path: str) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def _run_child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO},
    )


# ------------------------------------------------------------------ layout
@kernel
def test_node_is_hidden_and_learner_namespaces_are_prefixed(kb):
    node = kb.names.node_path
    assert node == f"/run/simlab/{kb.lab_id}/node" and _mounted(node)
    assert not any(name.startswith(f"sl{kb.lab_id}-") for name in os.listdir("/run/netns"))
    kb.apply(o.NetnsAdd("red"))
    red = f"/run/netns/sl{kb.lab_id}-red"
    assert kb.netns_path("red") == red and _mounted(red)
    # The node and red are two new namespaces, neither of them ours.
    inodes = {os.stat(p).st_ino for p in (node, red, "/proc/self/ns/net")}
    assert len(inodes) == 3
    assert kb.show("ip", ["netns", "list"], ROOT) == "red\n"


@kernel
def test_close_removes_everything_it_made():
    from simlab.kernel import KernelBackend

    kb = KernelBackend()
    kb.apply_all(
        [
            o.NetnsAdd("red"),
            o.NetnsAdd("blue"),
            o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"),
        ]
    )
    paths = [kb.names.node_path, kb.netns_path("red"), kb.netns_path("blue")]
    ledger = kb.ledger.path
    assert os.path.exists(ledger)
    kb.close()
    kb.close()  # twice is fine
    for path in paths:
        assert not os.path.lexists(path) and not _mounted(path)
    assert not os.path.exists(kb.names.run_dir)
    assert not os.path.exists(ledger)


@kernel
def test_two_labs_never_collide(kb):
    from simlab.kernel import KernelBackend

    with KernelBackend() as other:
        assert other.lab_id != kb.lab_id
        kb.apply(o.NetnsAdd("red"))
        other.apply(o.NetnsAdd("red"))
        kb.apply(o.LinkAdd("br0", "bridge"))
        assert other.snapshot().netns[ROOT].link("br0") is None
        assert kb.show("ip", ["netns"], ROOT) == "red\n" == other.show("ip", ["netns"], ROOT)


@kernel
def test_two_processes_at_once():
    code = """
        import time
        from simlab.kernel import KernelBackend
        from simlab.model import ops as o
        with KernelBackend() as kb:
            for n in range(5):
                kb.apply(o.NetnsAdd(f"ns{n}"))
                kb.apply(o.LinkAdd(f"v{n}", "veth", peer="eth0", peer_netns=f"ns{n}"))
            print(kb.lab_id, len(kb.snapshot().netns))
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": REPO},
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({out[0] for out in outs}) == 3 and all(out[1] == "6" for out in outs)


@kernel
def test_ledger_lists_namespaces_before_they_exist(kb):
    from simlab.ledger import read_ledger

    seen = []
    real_add = kb.ledger.add

    def spy(kind, path):
        real_add(kind, path)
        seen.append(
            (path, os.path.lexists(path), read_ledger(kb.ledger.path)["created"][-1]["path"])
        )

    kb.ledger.add = spy
    kb.apply(o.NetnsAdd("red"))
    assert seen == [(kb.netns_path("red"), False, kb.netns_path("red"))]
    data = read_ledger(kb.ledger.path)
    assert data["pid"] == os.getpid()
    assert {e["path"] for e in data["created"]} == {
        kb.names.run_dir,
        kb.names.node_path,
        kb.netns_path("red"),
    }
    kb.apply(o.NetnsDel("red"))
    assert f"/run/netns/sl{kb.lab_id}-red" not in {
        e["path"] for e in read_ledger(kb.ledger.path)["created"]
    }


@kernel
def test_sockets_refuse_the_machine_namespace(kb):
    fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        with pytest.raises(RuntimeError, match="machine's own network namespace"):
            kb.k.thread.call(kb.k.thread.enter, fd)
    finally:
        os.close(fd)
        kb.k.thread.call(kb.k.thread.go_home)


@kernel
def test_hidden_sysctls_in_every_namespace(kb):
    from simlab.kernel.netns import read_sysctl

    kb.apply(o.NetnsAdd("red"))
    for key in ("", "red"):
        values = kb.k.thread.inside(
            kb.netns_path(key),
            lambda: [
                read_sysctl(k)
                for k in (
                    "net.ipv6.conf.all.accept_dad",
                    "net.ipv6.conf.default.accept_dad",
                    "net.ipv4.ip_forward",
                )
            ],
        )
        assert values == ["0", "0", "0"]


# ------------------------------------------------------------- reading back
@kernel
def test_snapshot_reads_the_real_state(kb):
    kb.apply_all(
        [
            o.NetnsAdd("red"),
            o.LinkAdd("br0", "bridge"),
            o.LinkAdd("veth1", "veth", peer="eth0", peer_netns="red"),
            o.LinkSet("veth1", master="br0", up=True),
            o.LinkSet("br0", up=True),
            o.AddrAdd("br0", "10.0.0.1/24"),
            o.LinkSet("eth0", netns="red", mac="02:42:0a:00:00:02", mtu=1400),
            o.AddrAdd("eth0", "10.0.0.2/24", netns="red", broadcast="+"),
            o.LinkSet("eth0", netns="red", up=True),
            o.LinkSet("lo", netns="red", up=True),
            o.RouteAdd("default", netns="red", via="10.0.0.1"),
            o.SysctlSet("net.ipv4.ip_forward", "1"),
            o.Iptables("nat", ("-N", "DOCKER")),
            o.Iptables(
                "nat",
                ("-A", "POSTROUTING", "-s", "10.0.0.0/24", "!", "-o", "br0", "-j", "MASQUERADE"),
            ),
        ]
    )
    s = kb.snapshot()
    node, red = s.netns[ROOT], s.netns["red"]
    br0, veth1, eth0 = node.link("br0"), node.link("veth1"), red.link("eth0")
    assert (br0.kind, veth1.kind, eth0.kind) == ("bridge", "veth", "veth")
    assert veth1.peer == ("red", eth0.ifindex) and eth0.peer == (ROOT, veth1.ifindex)
    assert veth1.master == br0.ifindex and veth1.port_no == 1 and br0.had_ports
    assert eth0.mac == "02:42:0a:00:00:02" and eth0.addr_assign_type == 3 and eth0.mtu == 1400
    assert veth1.addr_assign_type == 1 and not br0.mac_set
    # linkwatch has run: the bridge has carrier and is UP at once.
    assert br0.up and br0.carrier_ok and br0.oper == "UP" and eth0.oper == "UP"
    assert eth0.v6_ready and eth0.activated
    from simlab.model.derive import eui64_link_local

    assert {a.cidr for a in red.addrs} == {
        "10.0.0.2/24",
        "127.0.0.1/8",
        "::1/128",
        eui64_link_local(eth0.mac) + "/64",
    }
    assert [a.broadcast for a in red.addrs if a.address == "10.0.0.2"] == ["10.0.0.255"]
    routes = {(r.dst, r.via, r.proto, r.scope) for r in red.routes}
    assert routes == {
        ("default", "10.0.0.1", "boot", "global"),
        ("10.0.0.0/24", None, "kernel", "link"),
    }
    assert node.sysctls["net.ipv4.ip_forward"] == "1" and red.sysctls["net.ipv4.ip_forward"] == "0"
    assert node.iptables["nat"] == (
        "-N DOCKER",
        "-A POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE",
    )
    assert red.iptables == {}
    assert node.nsids == {"red": 0} and red.nsids == {ROOT: 0}


@kernel
def test_snapshot_is_cached_until_something_changes(kb):
    kb.apply(o.NetnsAdd("red"))
    first = kb.snapshot()
    assert kb.snapshot().netns["red"] is first.netns["red"]
    # A change made behind the backend's back is seen (the monitor socket).
    subprocess.run(["ip", "-n", kb.names.netns_name("red"), "link", "set", "lo", "up"], check=True)
    assert kb.snapshot().netns["red"].link("lo").up


@kernel
def test_netns_del_takes_the_peers_at_once(kb):
    kb.apply_all(
        [
            o.NetnsAdd("red"),
            o.NetnsAdd("blue"),
            o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red"),
            o.LinkAdd("veth3", "veth", peer="veth4", peer_netns="blue"),
        ]
    )
    kb.apply(o.NetnsDel("red"))
    node = kb.snapshot().netns[ROOT]
    assert node.link("veth1") is None and node.nsids == {"blue": 1}
    kb.apply(o.NetnsAdd("green"))
    kb.apply(o.LinkAdd("veth5", "veth", peer="veth6", peer_netns="green"))
    assert kb.snapshot().netns[ROOT].nsids == {"blue": 1, "green": 0}  # red's id was freed


@kernel
def test_move_rename_and_hairpin(kb):
    kb.apply_all(
        [
            o.NetnsAdd("c1"),
            o.LinkAdd("docker0", "bridge"),
            o.LinkAdd("vetha", "veth", peer="vethtmp"),
            o.LinkSet("vetha", master="docker0"),
            o.LinkSet("vethtmp", to_netns="c1"),
            o.LinkSet("vethtmp", netns="c1", name="eth0"),
            o.LinkSet("vetha", hairpin=True),
        ]
    )
    s = kb.snapshot()
    eth0, vetha = s.netns["c1"].link("eth0"), s.netns[ROOT].link("vetha")
    assert eth0.peer == (ROOT, vetha.ifindex) and vetha.peer == ("c1", eth0.ifindex)
    assert vetha.hairpin and s.netns[ROOT].nsids == {"c1": 0} and s.netns["c1"].nsids == {ROOT: 0}


# -------------------------------------------------------------------- errors
ERRORS = [
    # (setup ops, failing op, message, errno, exit)
    ([], o.LinkSet("x", up=True), 'Cannot find device "x"', errno.ENODEV, 1),
    ([], o.LinkDel("x"), 'Cannot find device "x"', errno.ENODEV, 1),
    ([], o.AddrAdd("x", "10.0.0.1/24"), 'Cannot find device "x"', errno.ENODEV, 1),
    (
        [],
        o.LinkSet("x", master="br0"),
        'Error: argument "br0" is wrong: Device does not exist\n\n',
        errno.EINVAL,
        255,
    ),
    (
        [],
        o.AddrAdd("lo", "10.0.0.300/24"),
        'Error: any valid prefix is expected rather than "10.0.0.300/24".',
        errno.EINVAL,
        1,
    ),
    (
        [],
        o.LinkAdd("veth1abcdefghijk", "veth", peer="veth2"),
        "Error: Attribute failed policy validation.",
        errno.ERANGE,
        2,
    ),
    (
        [],
        o.LinkAdd("veth3", "veth", peer="veth3abcdefghijk"),
        'Error: argument "veth3abcdefghijk" is wrong: "name" not a valid ifname',
        errno.EINVAL,
        255,
    ),
    (
        [],
        o.LinkAdd("v1", "veth", peer="v2", peer_netns="x"),
        'Error: argument "x" is wrong: Invalid "netns" value\n\n',
        errno.EINVAL,
        255,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v2", to_netns="x"),
        'Error: argument "x" is wrong: Invalid "netns" value\n\n',
        errno.EINVAL,
        255,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkAdd("v1", "veth", peer="v3"),
        "RTNETLINK answers: File exists",
        errno.EEXIST,
        2,
    ),
    ([], o.LinkAdd("d0", "dummy"), "Error: Unknown device type.", errno.EOPNOTSUPP, 2),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v1", mtu=70000),
        "Error: mtu greater than device maximum.",
        errno.EINVAL,
        2,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v1", mac="zz:11"),
        '"zz" is invalid lladdr.',
        errno.EINVAL,
        1,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v1", mac="02:00:00:00:00"),
        "Invalid address length 5 - must be 6 bytes",
        errno.EINVAL,
        1,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v1", mac="01:00:00:00:00:01"),
        "RTNETLINK answers: Cannot assign requested address",
        errno.EADDRNOTAVAIL,
        2,
    ),
    (
        [o.LinkAdd("br0", "bridge")],
        o.LinkSet("br0", master="br0"),
        "Error: Can not enslave a bridge to a bridge.",
        errno.ELOOP,
        2,
    ),
    (
        [o.NetnsAdd("red")],
        o.NetnsAdd("red"),
        'Cannot create namespace file "/run/netns/red": File exists',
        errno.EEXIST,
        1,
    ),
    (
        [],
        o.NetnsDel("blue"),
        'Cannot remove namespace file "/run/netns/blue": No such file or directory',
        errno.ENOENT,
        1,
    ),
    ([], o.NetnsAdd("a/b"), 'Invalid netns name "a/b"', errno.EINVAL, 255),
    (
        [],
        o.LinkAdd("v1", "veth", peer="v2", netns="x"),
        'Cannot open network namespace "x": No such file or directory',
        errno.ENOENT,
        255,
    ),
    (
        [
            o.LinkAdd("v1", "veth", peer="v2"),
            o.LinkSet("v1", up=True),
            o.AddrAdd("v1", "10.0.0.1/24"),
        ],
        o.RouteAdd("default", via="10.9.9.9"),
        "Error: Nexthop has invalid gateway.",
        errno.ENETUNREACH,
        2,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.RouteAdd("10.1.0.0/16", dev="v1"),
        "Error: Device for nexthop is not up.",
        errno.ENETDOWN,
        2,
    ),
    (
        [],
        o.RouteDel("10.2.0.0/16"),
        "Error: FIB table does not exist.",
        errno.ESRCH,
        2,
    ),  # fresh: no main table
    (
        [
            o.LinkAdd("v1", "veth", peer="v2"),
            o.LinkSet("v1", up=True),
            o.AddrAdd("v1", "10.0.0.1/24"),
        ],
        o.RouteDel("10.2.0.0/16"),
        "RTNETLINK answers: No such process",
        errno.ESRCH,
        2,
    ),
    (
        [],
        o.RouteAdd("10.4.0.0/16", via="foo"),
        'Error: inet address is expected rather than "foo".',
        errno.EINVAL,
        1,
    ),
    (
        [],
        o.SysctlSet("net.nope", "1"),
        "sysctl: cannot stat /proc/sys/net/nope: No such file or directory",
        errno.ENOENT,
        1,
    ),
    (
        [],
        o.SysctlSet("kernel.hostname", "x"),
        "sysctl: cannot stat /proc/sys/kernel/hostname: No such file or directory",
        errno.ENOENT,
        1,
    ),
    (
        [o.Iptables("nat", ("-N", "DOCKER"))],
        o.Iptables("nat", ("-N", "DOCKER")),
        "iptables: Chain already exists.",
        errno.ENOENT,
        1,
    ),
    (
        [o.LinkAdd("v1", "veth", peer="v2")],
        o.LinkSet("v1", hairpin=True),
        "RTNETLINK answers: Operation not supported",
        errno.EOPNOTSUPP,
        255,
    ),
]


@kernel
@pytest.mark.parametrize(
    "setup,op,message,err,status", ERRORS, ids=[o.as_command(e[1]) for e in ERRORS]
)
def test_errors_are_iproute2s(kb, setup, op, message, err, status):
    kb.apply_all(setup)
    before = kb.snapshot()
    with pytest.raises(NetError) as info:
        kb.apply(op)
    assert (info.value.message, info.value.errno, info.value.exit) == (message, err, status)
    assert kb.snapshot() == before


@kernel
def test_show_runs_the_real_tool(kb):
    kb.apply_all([o.NetnsAdd("red"), o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red")])
    out = kb.show("ip", ["link", "show", "veth1"], ROOT)
    assert out.startswith("2: veth1@if2: <BROADCAST,MULTICAST>") and out.rstrip().endswith(
        "link-netns red"
    )
    assert kb.show("ip", ["link", "show", "veth2"], "red").rstrip().endswith("link-netnsid 0")
    assert kb.lab_id not in kb.show("ip", ["-d", "link"], ROOT)
    assert kb.show("iptables", ["-t", "nat", "-S"], "red").startswith("-P PREROUTING ACCEPT")
    with pytest.raises(NetError) as info:
        kb.show("ip", ["link", "show", "nope"], "red")
    assert (info.value.message, info.value.exit) == ('Device "nope" does not exist.', 1)
    with pytest.raises(NetError) as info:
        kb.show("ip", ["a"], "x")
    assert (info.value.message, info.value.exit) == (
        'Cannot open network namespace "x": No such file or directory',
        255,
    )


@kernel
def test_show_waits_for_linkwatch(kb):
    kb.apply_all(
        [
            o.LinkAdd("br0", "bridge"),
            o.LinkAdd("veth1", "veth", peer="veth2"),
            o.LinkSet("veth1", master="br0", up=True),
            o.LinkSet("br0", up=True),
        ]
    )
    kb.snapshot()
    kb.apply(o.LinkSet("veth2", up=True))  # the bridge gets carrier: a non-urgent linkwatch event
    assert "state UP" in kb.show("ip", ["link", "show", "br0"], ROOT)


# ------------------------------------------------------------ atomic batches
@kernel
def test_failed_batch_is_undone(kb):
    kb.precheck = False  # the kernel's own error, and the kernel-side undo
    kb.apply(o.NetnsAdd("red"))
    before = kb.snapshot()
    with pytest.raises(NetError, match='Cannot find device "nope"'):
        kb.apply_all(
            [
                o.NetnsAdd("blue"),
                o.LinkAdd("vx", "veth", peer="vy", peer_netns="red"),
                o.LinkSet("vx", up=True),
                o.AddrAdd("vx", "10.5.0.1/24"),
                o.RouteAdd("10.6.0.0/16", via="10.5.0.2"),
                o.SysctlSet("net.ipv4.ip_forward", "1"),
                o.Iptables("nat", ("-N", "X")),
                o.LinkSet("nope", up=True),
            ]
        )
    after = kb.snapshot()
    assert sorted(after.netns) == sorted(before.netns)
    assert after.netns[ROOT].links.keys() == before.netns[ROOT].links.keys()
    assert after.netns[ROOT].sysctls == before.netns[ROOT].sysctls
    assert not os.path.lexists(f"/run/netns/sl{kb.lab_id}-blue")
    assert "-N X" not in after.netns[ROOT].iptables.get("nat", ())


@kernel
def test_a_batch_that_would_fail_touches_nothing(kb):
    kb.apply_all([o.LinkAdd("cni0", "bridge"), o.LinkSet("cni0", up=True), o.NetnsAdd("pod1")])
    before = kb.snapshot()
    with pytest.raises(NetError, match="Nexthop has invalid gateway"):
        kb.apply_all(
            [
                o.LinkAdd("veth1", "veth", peer="eth0", peer_netns="pod1"),
                o.LinkSet("veth1", master="cni0"),
                o.RouteAdd("default", netns="pod1", via="10.99.0.1"),
            ]
        )
    # The kernel would have had to give cni0 a port and take it back (its MAC then
    # falls to zeros): the model said no before anything happened.
    assert kb.snapshot() == before


@kernel
def test_a_failed_lab_step_is_undone_on_the_kernel():
    import simlab

    with simlab.Lab(backend="kernel") as lab:
        lab.apply(o.NetnsAdd("red"))
        before = lab.snapshot()
        with pytest.raises(NetError, match='Cannot find device "nope"'):
            with lab.step("a CNI ADD that fails half way"):
                lab.apply(o.LinkAdd("veth1", "veth", peer="eth0", peer_netns="red"))
                lab.apply(o.AddrAdd("eth0", "10.0.0.2/24", netns="red"))
                lab.apply(o.LinkSet("nope", up=True))
        after = lab.snapshot()
        assert after.netns[ROOT].link("veth1") is None and after.netns["red"].link("eth0") is None
        assert sorted(after.netns) == sorted(before.netns)


@kernel
def test_batch_with_a_delete_is_checked_on_the_model_first(kb):
    kb.apply_all([o.NetnsAdd("red"), o.LinkAdd("v1", "veth", peer="v2")])
    with pytest.raises(NetError, match='Cannot find device "nope"'):
        kb.apply_all([o.LinkDel("v1"), o.NetnsDel("red"), o.LinkSet("nope", up=True)])
    s = kb.snapshot()
    assert "red" in s.netns and s.netns[ROOT].link("v1") is not None


# ----------------------------------------------------------------- attach
@kernel
def test_attach_uses_existing_namespaces_and_never_deletes(kb):
    from simlab.kernel import KernelBackend

    kb.apply(o.NetnsAdd("c1"))
    attached = KernelBackend.attach({ROOT: kb.names.node_path, "c1": kb.netns_path("c1")})
    attached.apply_all(
        [o.LinkAdd("cni0", "bridge"), o.LinkAdd("veth9", "veth", peer="eth0", peer_netns="c1")]
    )
    assert attached.snapshot().netns["c1"].link("eth0").peer[0] == ROOT
    with pytest.raises(NetError):
        attached.apply(o.NetnsAdd("c2"))
    attached.close()
    assert kb.snapshot().netns[ROOT].link("cni0") is not None and os.path.exists(
        kb.netns_path("c1")
    )


# ------------------------------------------------------------ exit, SIGTERM
@kernel
@pytest.mark.parametrize("ending", ["exit", "sigterm", "exception"])
def test_labs_are_removed_at_exit_and_on_sigterm(ending):
    code = f"""
        import os, signal, sys
        from simlab.kernel import KernelBackend
        from simlab.model import ops as o
        kb = KernelBackend()
        kb.apply_all([o.NetnsAdd("red"),
                      o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red")])
        print(kb.lab_id, flush=True)
        if {ending!r} == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
            import time; time.sleep(30)
        if {ending!r} == "exception":
            raise SystemExit("boom")
    """
    p = _run_child(code)
    lab_id = p.stdout.split()[0]
    if ending == "sigterm":
        assert p.returncode == -signal.SIGTERM
    assert not os.path.exists(f"/run/simlab/{lab_id}")
    assert not os.path.lexists(f"/run/netns/sl{lab_id}-red")
    assert not os.path.exists(f"/run/simlab/ledger/{lab_id}.json")


@kernel
def test_sigterm_handler_is_not_installed_over_another(tmp_path):
    code = """
        import signal, sys
        def mine(signum, frame):
            print("mine", flush=True); sys.exit(3)
        signal.signal(signal.SIGTERM, mine)
        from simlab.kernel import KernelBackend
        kb = KernelBackend()
        print(kb.lab_id, signal.getsignal(signal.SIGTERM) is mine, flush=True)
        import os; os.kill(os.getpid(), signal.SIGTERM)
    """
    p = _run_child(code)
    lab_id, same = p.stdout.split()[:2]
    assert same == "True" and "mine" in p.stdout and p.returncode == 3
    assert not os.path.exists(f"/run/simlab/{lab_id}")  # atexit still cleaned up


# ------------------------------------------------------------- without root
def test_kernel_lab_without_root_fails_at_once(monkeypatch):
    import simlab
    from simlab.kernel import access

    from simlab.backends import choose

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(access, "_has_net_admin", lambda: False)
    # ...and no user namespaces either (with them, a user gets the rootless kernel)
    monkeypatch.setattr(choose, "rootless_available", lambda: (False, "user namespaces are off"))
    with pytest.raises(PermissionError) as info:
        simlab.Lab(backend="kernel")
    text = str(info.value)
    assert "needs root" in text and "not root" in text and "backend='model'" in text
    lab = simlab.Lab()  # auto falls back to the model, and says why
    assert lab.backend == "model" and "not root" in lab.why


def test_kernel_backend_itself_refuses_without_root(monkeypatch):
    pytest.importorskip("pyroute2")
    from simlab.kernel import KernelBackend, access

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(access, "_has_net_admin", lambda: False)
    with pytest.raises(PermissionError, match="needs root"):
        KernelBackend()


def test_names_map_back():
    from simlab.kernel.names import LabNames, filter_netns_list

    names = LabNames("abc12")
    text = "slabc12-red (id: 1)\nother\nslzz-x\nslabc12-blue (id: 0)\n"
    assert filter_netns_list(text, names, ["red", "blue"]) == "blue (id: 0)\nred (id: 1)\n"
    assert names.unmap("link-netns slabc12-red\n") == "link-netns red\n"
    assert names.unmap("xslabc12-red") == "xslabc12-red"
    assert json.loads(
        filter_netns_list('[{"name":"slabc12-red","id":0},{"name":"q"}]', names, ["red"])
    ) == [{"name": "red", "id": 0}]


@kernel
def test_a_forked_child_does_not_remove_the_parents_lab(kb):
    kb.apply(o.NetnsAdd("red"))
    pid = os.fork()
    if pid == 0:  # what atexit (or SIGTERM) would run in the child
        from simlab.kernel import cleanup

        try:
            cleanup.teardown_all()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.path.exists(kb.netns_path("red")) and os.path.exists(kb.names.node_path)
