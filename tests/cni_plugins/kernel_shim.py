"""A stand-in for ``KernelBackend.attach`` built on the `ip` command, for the CNI kernel tests only.

It speaks the :class:`simlab.backends.base.Backend` protocol for namespaces
that already exist (``{key: path}``): ``apply(op)`` runs the `ip`/`bridge`/
`iptables`/sysctl command the operation names inside the namespace, and
``snapshot()`` reads the namespaces back with ``ip -j`` into a
:class:`simlab.model.NetState`.  It never creates or deletes a namespace.

It is slow (one process per call) and handles only what simlab-bridge uses;
the real kernel backend (pyroute2) replaces it: the plugin finds this one only
through ``SIMLAB_CNI_KERNEL_BACKEND=kernel_shim:attach``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import time

from simlab.model import NetError
from simlab.model import ops as o
from simlab.backends.base import Capabilities
from simlab.model.state import Addr, Link, Netns, NetState, Route

_ERRNO_BY_TEXT = {os.strerror(e): e for e in range(1, 134)}


def attach(namespaces: dict) -> ShimBackend:
    return ShimBackend(namespaces)


class ShimBackend:
    name = "kernel"
    capabilities = Capabilities(in_process_plugins=False, seeded=False)

    def __init__(self, namespaces: dict):
        self.paths = dict(namespaces)
        self._cache: tuple[float, NetState] | None = None

    # ---------------------------------------------------------- running
    def _argv(self, key: str, argv: list[str]) -> list[str]:
        path = self.paths[key]
        if path == f"/proc/{os.getpid()}/ns/net" or path == "/proc/self/ns/net":
            return argv
        return ["nsenter", f"--net={path}", "--", *argv]

    def _run(self, key: str, argv: list[str], check: bool = True) -> str:
        p = subprocess.run(self._argv(key, argv), capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise self._error(p.stderr.strip() or p.stdout.strip(), p.returncode)
        return p.stdout

    @staticmethod
    def _error(text: str, code: int) -> NetError:
        m = re.search(r"RTNETLINK answers: (.*)$", text, re.M)
        if m and m.group(1) in _ERRNO_BY_TEXT:
            return NetError(text, errno=_ERRNO_BY_TEXT[m.group(1)], exit=code)
        for t, e in _ERRNO_BY_TEXT.items():
            if t in text:
                return NetError(text, errno=e, exit=code)
        return NetError(text, errno=0, exit=code)

    def _netns_arg(self, key: str) -> str:
        path = self.paths[key]
        m = re.match(r"^/proc/(\d+)/ns/net$", path)
        if m:
            return m.group(1)
        m = re.match(r"^(?:/var)?/run/netns/([^/]+)$", path)
        if m:
            return m.group(1)
        raise NetError(f"cannot name namespace {path} for ip", errno=errno.EINVAL)

    # ------------------------------------------------------------ apply
    def apply(self, op) -> None:
        self._cache = None
        key = op.netns
        if isinstance(op, o.LinkAdd):
            argv = ["ip", "link", "add", op.ifname]
            if op.mac:
                argv += ["address", op.mac]
            if op.mtu:
                argv += ["mtu", str(op.mtu)]
            argv += ["type", op.kind]
            if op.kind == "veth" and op.peer:
                argv += ["peer", "name", op.peer]
                if op.peer_mac:
                    argv += ["address", op.peer_mac]
                if op.peer_netns is not None and op.peer_netns != op.netns:
                    argv += ["netns", self._netns_arg(op.peer_netns)]
            self._run(key, argv)
        elif isinstance(op, o.LinkDel):
            self._run(key, ["ip", "link", "del", "dev", op.ifname])
        elif isinstance(op, o.LinkSet):
            if op.hairpin is not None:
                self._run(
                    key,
                    [
                        "bridge",
                        "link",
                        "set",
                        "dev",
                        op.ifname,
                        "hairpin",
                        "on" if op.hairpin else "off",
                    ],
                )
            argv = []
            if op.mac is not None:
                argv += ["address", op.mac]
            if op.mtu is not None:
                argv += ["mtu", str(op.mtu)]
            if op.master is not None:
                argv += ["master", op.master] if op.master else ["nomaster"]
            if op.promisc is not None:
                argv += ["promisc", "on" if op.promisc else "off"]
            if op.up is not None:
                argv += ["up" if op.up else "down"]
            if argv:
                self._run(key, ["ip", "link", "set", "dev", op.ifname, *argv])
        elif isinstance(op, o.AddrAdd):
            argv = ["ip", "addr", "add", op.cidr]
            if op.broadcast:
                argv += ["brd", op.broadcast]
            self._run(key, argv + ["dev", op.ifname])
        elif isinstance(op, o.AddrDel):
            self._run(key, ["ip", "addr", "del", op.cidr, "dev", op.ifname])
        elif isinstance(op, o.RouteAdd):
            fam = ["-6"] if ":" in (op.dst + (op.via or "")) else []
            argv = ["ip", *fam, "route", "add", op.dst]
            if op.via:
                argv += ["via", op.via]
            if op.dev:
                argv += ["dev", op.dev]
            self._run(key, argv)
        elif isinstance(op, o.SysctlSet):
            path = "/proc/sys/" + op.key.replace(".", "/")
            self._run(key, ["sh", "-c", f"echo {op.value} > {path}"])
        elif isinstance(op, o.Iptables):
            self._run(key, ["iptables", "-t", op.table, *op.args])
        else:
            raise NetError(f"the shim does not do {type(op).__name__}", errno=errno.EOPNOTSUPP)

    # --------------------------------------------------------- snapshot
    def snapshot(self) -> NetState:
        if self._cache is not None and time.monotonic() - self._cache[0] < 0.02:
            return self._cache[1]
        spaces = {key: self._read(key) for key in self.paths}
        # veth peers: the other end is in the namespace where an end points back at us
        by_key = {}
        for key, (_, raw_links) in spaces.items():
            by_key[key] = raw_links
        out = {}
        for key, (ns, raw_links) in spaces.items():
            links = dict(ns.links)
            for index, raw in raw_links.items():
                link = links[index]
                if link.kind != "veth" or "link_index" not in raw:
                    continue
                peer_index = raw["link_index"]
                if "link_netnsid" not in raw:
                    links[index] = _replace(link, peer=(key, peer_index))
                    continue
                for other, other_links in by_key.items():
                    if (
                        other != key
                        and peer_index in other_links
                        and other_links[peer_index].get("link_index") == index
                    ):
                        links[index] = _replace(link, peer=(other, peer_index))
            out[key] = Netns(ns.name, links, ns.addrs, ns.routes, (), (), ns.sysctls, ns.iptables)
        state = NetState(netns=out)
        self._cache = (time.monotonic(), state)
        return state

    def _read(self, key: str):
        links_j = json.loads(self._run(key, ["ip", "-d", "-j", "link", "show"]) or "[]")
        addrs_j = json.loads(self._run(key, ["ip", "-j", "addr", "show"]) or "[]")
        routes_j = json.loads(self._run(key, ["ip", "-j", "route", "show"]) or "[]")
        routes6_j = json.loads(self._run(key, ["ip", "-6", "-j", "route", "show"]) or "[]")
        links, raw = {}, {}
        names = {}
        for j in links_j:
            info = j.get("linkinfo", {})
            kind = info.get("info_kind") or (
                "loopback" if j.get("link_type") == "loopback" else "unknown"
            )
            names[j["ifname"]] = j["ifindex"]
        for j in links_j:
            info = j.get("linkinfo", {})
            kind = info.get("info_kind") or (
                "loopback" if j.get("link_type") == "loopback" else "unknown"
            )
            slave = info.get("info_slave_data", {})
            flags = j.get("flags", [])
            links[j["ifindex"]] = Link(
                j["ifindex"],
                j["ifname"],
                kind,
                j.get("address", ""),
                mtu=j.get("mtu", 1500),
                up="UP" in flags,
                txqlen=j.get("txqlen", 0),
                master=names.get(j.get("master")) if j.get("master") else None,
                hairpin=bool(slave.get("hairpin", False)),
                promisc="PROMISC" in flags,
                **_state_fields(j, flags),
            )
            raw[j["ifindex"]] = j
        addrs = []
        for j in addrs_j:
            for a in j.get("addr_info", []):
                fam = 4 if a["family"] == "inet" else 6
                addrs.append(
                    Addr(
                        j["ifindex"],
                        fam,
                        a["local"],
                        a["prefixlen"],
                        a.get("scope", "global"),
                        a.get("broadcast"),
                    )
                )
        routes = []
        for fam, rows in ((4, routes_j), (6, routes6_j)):
            for r in rows:
                if r.get("dev") not in names:
                    continue
                routes.append(
                    Route(
                        r["dst"],
                        names[r["dev"]],
                        fam,
                        r.get("gateway"),
                        r.get("protocol", "boot"),
                        r.get("scope", "global"),
                        r.get("prefsrc"),
                        r.get("metric"),
                    )
                )
        sysctls = {}
        for k in ("net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"):
            sysctls[k] = self._run(
                key, ["cat", "/proc/sys/" + k.replace(".", "/")], check=False
            ).strip()
        nat = tuple(
            line
            for line in self._run(key, ["iptables", "-t", "nat", "-S"], check=False).splitlines()
            if line and not line.startswith("-P ")
        )
        return Netns(
            key, links, tuple(addrs), tuple(routes), sysctls=sysctls, iptables={"nat": nat}
        ), raw

    def show(self, tool, argv, netns):
        return None

    def close(self) -> None:
        self._cache = None


def _state_fields(j: dict, flags: list) -> dict:
    """Fields of the model's Link that exist in this version of it (the model is evolving)."""
    from dataclasses import fields

    have = {f.name for f in fields(Link)}
    out = {"oper": j.get("operstate", "UNKNOWN"), "carrier_ok": "NO-CARRIER" not in flags}
    return {k: v for k, v in out.items() if k in have}


def _replace(link: Link, **kw) -> Link:
    from dataclasses import replace

    return replace(link, **kw)
