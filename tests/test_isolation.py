"""A kernel lab never changes the machine it runs on.

The lab builds what the talk builds (a node with a bridge, five namespaces
wired to it, addresses, routes, forwarding and a NAT rule) and tears it down.
Two proofs:

1. a dump of the machine's own network namespace (links, addresses, routes of
   every table, rules, nftables/iptables, forwarding sysctls, ``/run/netns``)
   is identical before and after;
2. a netlink socket in the machine's namespace, listening to every link,
   address, route, nsid and netconf change, hears nothing while the lab works.
   This is the test that fails if any lab operation reaches the root namespace
   (the pitfall: a socket made after ``setns`` by an event loop thread).
"""

from __future__ import annotations

import os
import shutil
import re
import socket
import subprocess
import time

import pytest

from simlab.model import ROOT
from simlab.model import ops as o

pytestmark = pytest.mark.kernel

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
# links, IPv4/IPv6 addresses, routes and rules
RTMGRP_ALL = 0x1 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800
RTNLGRP_EXTRA = (24, 25, 28)  # IPV4_NETCONF, IPV6_NETCONF, NSID


def _out(argv: list[str]) -> str:
    p = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    # A bridge's running timers (gc_timer 36.49) tick on their own: a clock, not a change.
    text = re.sub(r"(_timer)\s+[\d.]+", r"\1 *", p.stdout + p.stderr)
    return f"$ {' '.join(argv)} [exit {p.returncode}]\n{text}"


def _other_labs_netns() -> set[str]:
    """/run/netns entries of *other* live labs (tests may run in parallel): not ours to compare."""
    from simlab.ledger import LEDGER_DIR, held, read_ledger

    names = set()
    try:
        files = os.listdir(LEDGER_DIR)
    except FileNotFoundError:
        return names
    for name in files:
        try:
            data = read_ledger(os.path.join(LEDGER_DIR, name))
        except (OSError, ValueError):
            continue
        if held(os.path.join(LEDGER_DIR, name)):
            names |= {os.path.basename(e["path"]) for e in data["created"] if e["kind"] == "netns"}
    return names


def machine_state() -> str:
    """Everything a lab could possibly change in the machine's own namespace."""
    parts = [
        _out(["ip", "-d", "link"]),
        _out(["ip", "addr"]),
        _out(["ip", "route", "show", "table", "all"]),
        _out(["ip", "-6", "route", "show", "table", "all"]),
        _out(["ip", "rule"]),
        _out(["ip", "-6", "rule"]),
        _out(["ip", "netns", "list-id"]),
    ]
    if shutil.which("nft"):
        parts.append(_out(["nft", "list", "ruleset"]))
    if shutil.which("iptables-save"):
        save = subprocess.run(["iptables-save"], capture_output=True, text=True, env=ENV).stdout
        parts.append("\n".join(x for x in save.splitlines() if not x.startswith("#")))
    for key in (
        "net/ipv4/ip_forward",
        "net/ipv4/conf/all/forwarding",
        "net/ipv6/conf/all/forwarding",
        "net/ipv6/conf/all/accept_dad",
        "net/ipv6/conf/default/accept_dad",
        "net/core/devconf_inherit_init_net",
    ):
        try:
            with open(f"/proc/sys/{key}") as f:
                parts.append(f"{key} = {f.read().strip()}")
        except FileNotFoundError:  # not every key exists outside the initial namespace
            parts.append(f"{key}: none")
    others = _other_labs_netns()
    netns = (
        sorted(n for n in os.listdir("/run/netns") if n not in others)
        if os.path.isdir("/run/netns")
        else []
    )
    parts.append("/run/netns: " + " ".join(netns))
    return "\n".join(parts)


def build_talk_node(lab) -> None:
    """The node of the talk: a bridge and five containers on it, NAT and forwarding."""
    lab.apply(
        o.LinkAdd("cni0", "bridge"),
        o.AddrAdd("cni0", "10.244.0.1/24"),
        o.LinkSet("cni0", up=True),
        o.SysctlSet("net.ipv4.ip_forward", "1"),
        o.Iptables(
            "nat",
            ("-A", "POSTROUTING", "-s", "10.244.0.0/24", "!", "-o", "cni0", "-j", "MASQUERADE"),
        ),
    )
    for n in range(5):
        pod = f"pod{n}"
        lab.apply(
            o.NetnsAdd(pod),
            o.LinkAdd(f"veth{n}", "veth", peer="eth0", peer_netns=pod),
            o.LinkSet(f"veth{n}", master="cni0", up=True),
            o.AddrAdd("eth0", f"10.244.0.{n + 2}/24", netns=pod),
            o.LinkSet("eth0", netns=pod, up=True),
            o.LinkSet("lo", netns=pod, up=True),
            o.RouteAdd("default", netns=pod, via="10.244.0.1"),
        )
    lab.apply(
        o.LinkSet("veth0", hairpin=True),
        o.LinkSet("eth0", netns="pod1", mtu=1400),
        o.RouteDel("default", netns="pod4"),
        o.LinkDel("veth3"),
        o.NetnsDel("pod2"),
    )


class RootMonitor:
    """Listens in the machine's namespace to every change a lab could make there."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        self.sock.bind((0, RTMGRP_ALL))
        for group in RTNLGRP_EXTRA:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
        self.sock.setblocking(False)

    def heard(self) -> int:
        n = 0
        while True:
            try:
                self.sock.recv(65536)
                n += 1
            except BlockingIOError:
                return n

    def close(self):
        self.sock.close()


def _our_ns_is_the_machines() -> bool:
    """The test process must be in the machine's namespace for the proof to mean something."""
    return os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino


def test_a_lab_leaves_the_machine_unchanged():
    import simlab

    before = machine_state()
    monitor = RootMonitor()
    try:
        quiet_before = monitor.heard()  # whatever the machine itself was doing
        with simlab.Lab(backend="kernel") as lab:
            assert lab.backend == "kernel"
            build_talk_node(lab)
            state = lab.snapshot()
            assert sorted(state.netns) == ["", "pod0", "pod1", "pod3", "pod4"]
            assert state.netns[ROOT].sysctls["net.ipv4.ip_forward"] == "1"
            assert state.netns[ROOT].link("cni0").up
            heard = monitor.heard()
        heard += monitor.heard()
    finally:
        monitor.close()
    assert heard == 0, (
        f"{heard} netlink notifications in the machine's own namespace during the lab"
    )
    # The namespaces are freed asynchronously after the unmount; the machine's view
    # has nothing of them anyway, but give the kernel a moment before comparing.
    deadline = time.monotonic() + 5
    after = machine_state()
    while after != before and time.monotonic() < deadline:
        time.sleep(0.2)
        after = machine_state()
    assert after == before
    del quiet_before


def test_the_proof_would_catch_a_leak():
    """The same monitor hears a change made in its namespace (shown in a throw-away one)."""
    import sys
    import textwrap

    code = textwrap.dedent("""
        import subprocess, sys
        sys.path.insert(0, sys.argv[1])
        from test_isolation import RootMonitor, ENV
        monitor = RootMonitor()
        subprocess.run(["ip", "link", "add", "br9", "type", "bridge"], check=True, env=ENV)
        print(monitor.heard())
    """)
    p = subprocess.run(
        # not root (the rootless run): a user namespace of its own as well
        ["unshare", *(["--user", "--map-root-user"] if os.geteuid() else []), "--net",
         sys.executable, "-c", code, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert int(p.stdout) > 0


def test_no_socket_of_a_lab_is_in_the_machines_namespace():
    """Every netlink socket the backend holds lives in one of the lab's namespaces."""
    from simlab.kernel import KernelBackend

    if os.geteuid() != 0:  # rootless: the KernelBackend and its sockets are in the lab's server
        import simlab

        with simlab.Lab(backend="kernel") as lab:
            lab.apply(o.NetnsAdd("red"))
            pid = lab.raw_backend.server_pid
            for ns in ("user", "net", "mnt"):
                assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}")
        return

    with KernelBackend() as kb:
        kb.apply_all(
            [o.NetnsAdd("red"), o.LinkAdd("veth1", "veth", peer="veth2", peer_netns="red")]
        )
        kb.snapshot()
        machine = os.stat("/proc/self/ns/net").st_ino
        lab = {os.stat(kb.netns_path(k)).st_ino for k in ("", "red")}
        seen = set()
        for handle in kb.k.ns.values():
            for sock in (
                handle.rt.sock,
                handle.mon.sock,
                handle.nfmon.sock if handle.nfmon else None,
            ):
                if sock is None:
                    continue
                # SIOCGSKNS: the namespace of a socket, as an fd.
                import fcntl

                fd = fcntl.ioctl(sock.fileno(), 0x894C)
                try:
                    seen.add(os.fstat(fd).st_ino)
                finally:
                    os.close(fd)
        assert seen == lab and machine not in seen
