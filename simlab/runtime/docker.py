"""A small docker engine on the lab's node: ``--net bridge | none | host | container:X``.

It does, step by step and on either backend, what dockerd 17.x and libnetwork
do to the kernel (slides 7 to 11 of the talk), and records each kernel-level
step on the lab's timeline with its reason in English and Japanese.

>>> import simlab
>>> lab = simlab.Lab(backend="model")
>>> web = lab.docker.run("web")
>>> web.ip, web.mac
('172.17.0.2', '02:42:ac:11:00:02')
>>> settings = lab.docker.inspect("web")["NetworkSettings"]
>>> settings["SandboxKey"] == "/var/run/docker/netns/" + web.netns
True
>>> lab.docker.reach("web", "192.168.1.254").seen_src
'192.168.1.1'

Rules kept here (docker's own):
- the engine's start gives the node its docker0 bridge (``bip``, default
  172.17.0.1/16, a fixed 02:42 MAC, up but NO-CARRIER until a port joins),
  ``net.ipv4.ip_forward=1`` and the nat rules of :mod:`.docker_nat`; the node
  itself gets the slides' uplink ``em1`` 192.168.1.1/24, a veth whose other
  end ``eth0`` 192.168.1.254/24 is in the namespace ``lan``;
- a bridge container gets a new namespace (key: its sandbox ID's first 12 hex,
  the basename of its SandboxKey), a veth pair created in the node
  (``veth`` + 7 hex, the container end under a temporary name), the host end
  enslaved to docker0 and up, the other end moved in and renamed ``eth0``,
  the next free address with MAC ``02:42`` + the address, lo up, and a default
  route via the gateway; ``--net none`` gets the namespace and lo only;
  ``--net host`` gets nothing (it runs in the node's namespace);
  ``container:X`` shares X's namespace, which X must have running;
- everything is checked before anything changes; if a kernel step still
  fails, the steps done are undone in reverse, so an error leaves nothing.
- IDs and names are deterministic (sha256 of the lab's seed and a counter).

Choices (where simlab differs from, or picks among, what docker does):
- a container's namespace key is its sandbox ID's first 12 hex (docker's
  netns file name), so ``lab.ip(f"-n {web.netns} a")`` is what
  `nsenter --net=/var/run/docker/netns/<12 hex> ip a` shows on a docker host;
- docker leaves a "Created" container behind when *starting* it fails (port
  taken, no address left, missing ``container:`` target); simlab keeps
  nothing, so a failed ``run`` can simply be retried;
- ``stop`` releases the network as docker does (sandbox and veth deleted,
  ``Ports`` null, the SandboxID kept); there is no ``start`` again;
- removing a container whose namespace another one joined (``container:X``)
  deletes its veth and DNAT rules but keeps the namespace, with its lo, for
  the joiner (a namespace lives while a process is in it);
- ``publish`` with ``--net host`` is discarded with docker's warning
  (``Container.warnings``); with ``container:X`` it is refused, as docker does.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any

from ..i18n import say
from ..model import ROOT, NetError
from ..model import ops as o
from ..model.forward import Walk, reach
from . import docker_inspect as dj
from . import docker_steps as steps
from .docker_errors import DockerError
from .docker_nat import EPHEMERAL_START, PortBinding, parse_publish
from .docker_net import DockerNetwork, stamp
from .exec_line import in_netns

__all__ = ["DockerEngine", "Container", "DockerError"]

_NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ADJECTIVES = ("admiring", "brave", "clever", "eager", "festive", "gallant", "happy", "keen",
               "loving", "nifty", "quirky", "serene", "trusting", "vibrant", "wizardly", "zen")
_SURNAMES = ("albattani", "babbage", "curie", "darwin", "einstein", "feynman", "galileo", "hopper",
             "kilby", "lovelace", "meitner", "noether", "pasteur", "ritchie", "torvalds", "wozniak")
_COMMANDS = {"centos": ("bash",), "busybox": ("sh",), "nginx": ("nginx", "-g", "daemon off;"),
             "k8s.gcr.io/pause": ("/pause",),
             "gcr.io/google_containers/pause-amd64:3.0": ("/pause",)}


@dataclass(eq=False)
class Container:
    """One container: its IDs, its network mode and where its network lives.

    ``netns`` is the namespace key its processes use (``ROOT`` for host mode).
    """

    engine: DockerEngine = field(repr=False)
    id: str
    name: str
    image: str
    command: tuple[str, ...]
    mode: str  # "bridge", "none", "host" or "container"
    network_mode: str  # as docker stores it: "default", "none", "host", "container:<id>"
    netns: str
    sandbox_id: str = ""
    endpoint_id: str = ""
    ip: str = ""
    mac: str = ""
    host_veth: str = ""
    ports: tuple[PortBinding, ...] = ()
    created: str = ""
    finished: str = ""
    pid: int = 0
    hostname: str = ""
    running: bool = True
    owns_netns: bool = False  # deletes the namespace when it goes
    warnings: tuple[str, ...] = ()

    @property
    def short_id(self) -> str:
        return self.id[:12]

    def exec(self, command: str) -> str:
        """Linux: `docker exec NAME COMMAND` (``ip``, ``bridge``, ``iptables``, ``ping``, ``hostname``)."""
        return self.engine.exec(self.name, command)

    def inspect(self) -> dict[str, Any]:
        return self.engine.inspect(self.name)

    def reach(self, dst: str, proto: str = "icmp", dport: int | None = None) -> Walk:
        """Can this container reach ``dst`` (an address, a container name, "lan" or "node")?"""
        return self.engine.reach(self.name, dst, proto, dport)

    def __repr__(self) -> str:
        where = f" {self.ip}" if self.ip else ""
        return f"<Container {self.name} {self.short_id} --net {self.network_mode}{where}>"


class DockerEngine:
    """dockerd on the lab's node: ``run``, ``rm``, ``stop``, ``ps``, ``inspect``, ``exec``.

    Nothing changes until :meth:`start` (called by :meth:`run` and
    :meth:`network_inspect`): constructing an engine is free.
    """

    def __init__(self, lab, *, bip: str = "172.17.0.1/16", uplink: str = "em1",
                 uplink_cidr: str = "192.168.1.1/24", lan: str = "lan",
                 lan_cidr: str = "192.168.1.254/24",
                 host_hostname: str = "kagaribi"):
        self.lab = lab
        self._net = DockerNetwork(bip=bip, uplink=uplink, uplink_cidr=uplink_cidr, lan=lan,
                                  lan_cidr=lan_cidr)
        self.host_hostname = host_hostname
        self.started = False
        self._containers: dict[str, Container] = {}  # by id, in creation order
        self._named: dict[str, Container] = {}  # by name (a node's thousand pods: no scans)
        self._counter = 0

    @property
    def net(self) -> DockerNetwork:
        """The default network's settings and the lab's seed, as one frozen value."""
        seed = self.lab.snapshot().seed
        if self._net.seed != seed:
            self._net = replace(self._net, seed=seed)
        return self._net

    bridge = property(lambda self: self._net.bridge)
    bip = property(lambda self: self._net.bip)
    gateway = property(lambda self: self._net.gateway)
    subnet = property(lambda self: self._net.subnet)
    prefixlen = property(lambda self: self._net.prefixlen)
    uplink = property(lambda self: self._net.uplink)
    uplink_cidr = property(lambda self: self._net.uplink_cidr)
    lan = property(lambda self: self._net.lan)
    lan_cidr = property(lambda self: self._net.lan_cidr)

    # ----------------------------------------------------------- identities
    @property
    def seed(self) -> int:
        return self.lab.snapshot().seed

    def hex_id(self, *what) -> str:
        """A stable 64-hex ID: sha256 of the lab's seed and ``what``."""
        return self.net.hex_id(*what)

    def network_id(self, name: str) -> str:
        return self.net.network_id(name)

    def image_id(self, image: str) -> str:
        return self.net.image_id(image)

    @property
    def started_at(self) -> str:
        return self.net.created

    # ---------------------------------------------------------------- start
    def start(self, bip: str | None = None) -> DockerEngine:
        """Start dockerd: the node's uplink, docker0, ip_forward and the nat rules.

        Linux: `systemctl start docker` on the slides' host.  Idempotent; a
        ``bip`` given before the first start replaces the constructor's.
        """
        if self.started:
            if bip is not None and bip != self.bip:
                raise ValueError(f"docker is already running with bip {self.bip}")
            return self
        if bip is not None:
            self._net = replace(self._net, bip=bip)
        try:  # dockerd programs iptables first: without it, it fails before building anything
            self.lab.preflight(o.Iptables("nat", ("-S",)))
        except NetError as err:
            raise DockerError.daemon(f"failed to program the nat table: {err.message}", at_create=False,
                                     hint=err.hint) from None
        steps.start_daemon(self.lab, self.net)
        self.started = True
        return self

    # ------------------------------------------------------------ lookups
    def containers(self, all: bool = True) -> list[Container]:  # noqa: A002 (docker's flag name)
        return [c for c in self._containers.values() if all or c.running]

    def _find(self, name: str) -> Container | None:
        name = name.lstrip("/")
        by_name, by_id = self._named.get(name), self._containers.get(name)
        if (by_name is None) != (by_id is None) or by_name is by_id is not None:
            return by_name or by_id  # one exact match: the scan below would find it first
        for c in self._containers.values():
            if c.name == name or c.id == name:
                return c
        hits = [c for c in self._containers.values() if name and c.id.startswith(name)]
        return hits[0] if len(hits) == 1 else None

    def get(self, name: str) -> Container:
        """The container called ``name`` (or with that ID or unique ID prefix)."""
        c = self._find(name)
        if c is None:
            raise DockerError.no_such_container(name)
        return c

    def __getitem__(self, name: str) -> Container:
        return self.get(name)

    # ------------------------------------------------------------------ run
    def run(self, name: str | None = None, net: str = "default", publish=(), image: str = "centos",
            command: str | None = None) -> Container:
        """Linux: `docker run -d --name NAME --net NET -p PUBLISH IMAGE [COMMAND]`.

        ``net`` is ``bridge`` (also ``default``), ``none``, ``host`` or
        ``container:<name|id>``; ``publish`` a list like ``["8080:80"]``.
        """
        if isinstance(publish, str):
            publish = [publish]
        # --- checked while docker creates the container (the CLI adds --help)
        if name is not None and not _NAME_RE.match(name):
            raise DockerError.invalid_name(name)
        if name is not None:
            name = name.lstrip("/")
            other = self._find_name(name)
            if other is not None:
                raise DockerError.name_conflict(name, other.id)
        mode, target_name = _parse_mode(net)
        bindings = [parse_publish(p) for p in publish]
        if mode == "container" and bindings:
            raise DockerError.publish_with_container_mode()
        # --- checked while docker starts it
        target = None
        if mode == "container":
            target = self._find(target_name)
            if target is None:
                raise DockerError.join_missing(target_name)
            if not target.running:
                raise DockerError.join_not_running(target_name)
        n = self._counter + 1
        cid = self.hex_id("container", n)
        name = name or self._free_name(n)
        sandbox = self.hex_id("sandbox", n)
        endpoint = self.hex_id("endpoint", n)
        warnings = ()
        if mode == "host" and bindings:
            warnings = ("WARNING: Published ports are discarded when using host network mode",)
            bindings = []
        c = Container(self, id=cid, name=name, image=image,
                      command=tuple(shlex.split(command)) if command else _COMMANDS.get(image, ("ba"
                                                                                                "sh",)),
                      mode=mode, network_mode="default" if net == "default" else
                      (f"container:{target.id}" if target else mode),
                      netns=ROOT, sandbox_id=sandbox if mode != "container" else "",
                      endpoint_id=endpoint if mode in ("bridge", "none", "host") else "",
                      created=stamp(n, cid), pid=2000 + 17 * n, warnings=warnings,
                      hostname=cid[:12])
        if mode == "bridge":
            c.ip = self._free_ip()
            c.mac = _mac_of(c.ip)
            c.ports = tuple(self._bind_ports(c, bindings))
        if mode in ("bridge", "none") and sandbox[:12] in self.lab.snapshot().netns:
            raise DockerError.daemon(f"failed to create the sandbox: namespace {sandbox[:12]} "
                                     "exists",
                                     at_create=False,
                                     hint=say("a lab namespace has this sandbox's name",
                                              "ラボの名前空間に、このサンドボックスと同じ名前の"
                                              "ものがあります"))
        self.start()
        self._counter = n
        net, tx = self.net, steps.Steps(self.lab)
        if mode in ("bridge", "none"):
            c.netns, c.owns_netns = sandbox[:12], True
            steps.create_sandbox(tx, c)
        if mode == "bridge":
            steps.wire_bridge(self.lab, net, tx, c)
            if c.ports:
                steps.publish(net, tx, c)
        elif mode == "host":
            c.hostname = self.host_hostname
            steps.join_host(self.lab, net, c)
        elif mode == "container":
            c.netns, c.hostname = target.netns, target.hostname
            steps.join_container(self.lab, c, target)
        self._containers[cid] = c
        self._named[c.name] = c
        return c

    def _find_name(self, name: str) -> Container | None:
        return self._named.get(name)

    def _free_name(self, n: int) -> str:
        digest = self.hex_id("name", n)
        base = f"{_ADJECTIVES[int(digest[:2], 16) % 16]}_{_SURNAMES[int(digest[2:4], 16) % 16]}"
        name, i = base, 1
        while self._find_name(name) is not None:
            i += 1
            name = f"{base}{i}"
        return name

    def _free_ip(self) -> str:
        used = {c.ip for c in self._containers.values() if c.running and c.ip}
        net = ipaddress.ip_network(self.subnet)
        for host in net.hosts():
            ip = str(host)
            if ip != self.gateway and ip not in used:
                return ip
        raise DockerError.pool_exhausted("bridge", self.network_id("bridge"), self.subnet)

    def _bind_ports(self, c: Container, bindings: list[PortBinding]) -> list[PortBinding]:
        """Host ports for ``bindings``: a port is taken on an address, or on all (0.0.0.0)."""
        taken = [(b, other.name) for other in self.containers(all=False) for b in other.ports]

        def holder(b: PortBinding) -> str | None:
            for have, owner in taken:
                if (have.proto, have.host_port) == (b.proto, b.host_port) and (
                        "0.0.0.0" in (have.bound_ip, b.bound_ip) or have.bound_ip == b.bound_ip):
                    return owner
            return None

        out: list[PortBinding] = []
        for b in bindings:
            if b.host_port is None:
                port = EPHEMERAL_START
                while holder(PortBinding(b.host_ip, port, b.container_port, b.proto)) is not None:
                    port += 1
                b = PortBinding(b.host_ip, port, b.container_port, b.proto)
            owner = holder(b)
            if owner is not None:
                raise DockerError.port_allocated(c.name, c.endpoint_id, b.bound_ip, b.host_port,
                                                 owner)
            taken.append((b, c.name))
            out.append(b)
        return out

    # ------------------------------------------------------ kernel steps
    # --------------------------------------------------------- stop and rm
    def stop(self, name: str) -> Container:
        """Linux: `docker stop NAME`: the network goes (sandbox deleted), the record stays."""
        c = self.get(name)
        if c.running:
            steps.release(self.lab, self.net, c, "stop", self.containers(all=False))
            c.running = False
            c.finished = stamp(self._counter + 1, c.id + ":finished")
        return c

    def rm(self, name: str, force: bool = True) -> None:
        """Linux: `docker rm -f NAME` (``force=False``: `docker rm NAME`, refused while running)."""
        c = self.get(name)
        if c.running and not force:
            raise DockerError(
                f"Error response from daemon: You cannot remove a running container {c.id}. "
                "Stop the container before attempting removal or force remove", exit=1,
                hint=say(f"lab.docker.stop({c.name!r}) first, or rm(..., force=True)",
                         f"先に lab.docker.stop({c.name!r}) で停止するか、"
                         "rm(..., force=True) を使ってください"))
        if c.running:
            steps.release(self.lab, self.net, c, "rm", self.containers(all=False))
        del self._containers[c.id]
        self._named.pop(c.name, None)

    # ---------------------------------------------------------- show
    def ps(self, all: bool = False) -> str:  # noqa: A002 (docker's flag name)
        """Linux: `docker ps` (``all=True``: `docker ps -a`), newest first."""
        rows = [("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES")]
        for c in reversed(self.containers(all)):
            cmd = " ".join(c.command)
            cmd = f'"{cmd}"' if len(cmd) <= 18 else f'"{cmd[:17]}…"'
            ports = ", ".join(f"{b.bound_ip}:{b.host_port}->{b.key}" for b in c.ports if c.running)
            status = "Up About a minute" if c.running else "Exited (0) About a minute ago"
            rows.append((c.short_id, c.image, cmd, "About a minute ago", status, ports, c.name))
        widths = [max(20, max(len(r[i]) for r in rows) + 3) for i in range(6)]
        return "".join("".join(cell.ljust(w) for cell, w in zip(r[:6], widths, strict=True))
                       + r[6] + "\n" for r in rows)

    def inspect(self, name: str) -> dict[str, Any]:
        """Linux: `docker inspect NAME | jq '.[0]'` (a dict in docker's key order)."""
        c = self._find(name)
        if c is None:
            raise DockerError.no_such_object(name)
        return dj.container_json(self.net, c)

    def inspect_json(self, name: str, jq: str | None = None) -> str:
        """`docker inspect NAME` as docker prints it, or with ``jq`` applied.

        ``jq=".[].NetworkSettings"`` is `docker inspect NAME | jq '.[].NetworkSettings'`.
        """
        doc = [self.inspect(name)]
        return dj.render(doc) if jq is None else dj.render(dj.jq(doc, jq), indent=2)

    def network_inspect(self, name: str = "bridge") -> dict[str, Any]:
        """Linux: `docker network inspect NAME | jq '.[0]'` (bridge, host or none)."""
        if name not in ("bridge", "host", "none"):
            raise DockerError.no_such_network(name)
        self.start()
        return dj.network_json(self.net, name, self.containers(all=False))

    # ---------------------------------------------------------- exec
    def exec(self, name: str, command: str) -> str:
        """Linux: `docker exec NAME COMMAND`: ``ip``/``bridge``/``iptables``/``ping`` in its namespace.

        Returns what the command prints (stdout, then stderr), as a terminal shows it.
        """
        c = self.get(name)
        if not c.running:
            raise DockerError.not_running(c.id)
        words = shlex.split(command)
        if not words:
            raise DockerError("docker: exec needs a command", exit=1,
                              hint=say("e.g. exec('web', 'ip a')", "例: exec('web', 'ip a')"))
        if words[0].rsplit("/", 1)[-1] == "hostname":
            return c.hostname + "\n"
        line = in_netns(c.netns, words)
        if line is None:
            raise DockerError.not_in_path(words[0])
        return str(self.lab.run(line.strip()))

    # ---------------------------------------------------------- reach
    def address_of(self, what: str) -> str:
        """An address for a container name, "lan", "node", or an address as is."""
        if what == self.lan:
            return self.lan_cidr.split("/")[0]
        if what == "node":
            return self.uplink_cidr.split("/")[0]
        c = self._find(what)
        if c is not None:
            if not c.ip:
                joined = c.network_mode.split(":", 1)[1] if c.mode == "container" else ""
                target = self._find(joined) if joined else None
                if target is not None and target.ip:
                    return target.ip
                raise DockerError(f"container {c.name} has no address of its own (--net "
                                  f"{c.network_mode})",
                                  exit=1,
                                  hint=say("reach it through the namespace it runs in",
                                           "このコンテナが動いている名前空間を通して"
                                           "到達してください"))
            return c.ip
        return what

    def netns_of(self, what: str) -> str:
        """The namespace key of a container name, "lan" or "node"."""
        if what == "node":
            return ROOT
        c = self._find(what)
        if c is not None:
            return c.netns
        return what

    def reach(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> Walk:
        """Walk a packet from ``src`` (a container, "lan" or "node") to ``dst``."""
        return reach(self.lab.snapshot(), self.netns_of(src), self.address_of(dst), proto, dport)


def _parse_mode(net: str) -> tuple[str, str]:
    if net in ("bridge", "default"):
        return "bridge", ""
    if net in ("none", "host"):
        return net, ""
    if net.startswith("container:"):
        target = net.split(":", 1)[1]
        if not target:
            raise DockerError.bad_container_mode()
        return "container", target
    if net == "container":
        raise DockerError.bad_container_mode()
    raise DockerError.network_not_found(net)


def _mac_of(ip: str) -> str:
    """docker's MAC for an address: 02:42 and the four bytes (libnetwork electMacAddress)."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.ip_address(ip).packed)

