"""Named scenarios: the talk's examples, built step by step on a lab.

Each scenario is a function that takes a :class:`~simlab.lab.Lab` and makes its
steps, each with a title and a why in English and Japanese (texts from
:mod:`simlab.i18n`).  Scenarios that use a container runtime (``lab.docker``,
``lab.k8s``) need its module; :func:`names` lists only the scenarios whose
modules import, so a tour or a notebook never offers one that cannot run.

A runtime records its own steps; before it acts, the scenario records a step
without operations that says, in the talk's words, what is about to happen
(and, for ``k8s``, one after that says what it means).

>>> import simlab.scenarios as scenarios
>>> "veth-basics" in scenarios.names()
True
>>> lab = scenarios.run("veth-basics")
>>> print(lab.timeline[0].title_in("ja"))
名前空間 red を作る
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .i18n import Text, both, get_language
from .lab import Lab
from .model import AddrAdd, LinkAdd, LinkSet, NetnsAdd

__all__ = ["Scenario", "names", "all_scenarios", "get", "run", "DEFAULT"]

#: The scenario a tour shows when none is named.
DEFAULT = "veth-basics"


@dataclass(frozen=True)
class Scenario:
    """A named way to build a lab step by step.

    ``needs`` are ``(module, attribute)`` pairs that must import for the
    scenario to run (e.g. the docker engine).
    """

    name: str
    titles: Text | Mapping[str, str]
    builder: Callable[[object], None]
    needs: tuple[tuple[str, str], ...] = field(default=())

    def title(self, lang: str | None = None) -> str:
        """The scenario's title in ``lang`` (default: the current language)."""
        return Text.of(self.titles).in_(lang or get_language())

    def available(self) -> tuple[bool, str]:
        """Can this simlab run the scenario?  (ok, what is missing)"""
        missing = []
        for module, attr in self.needs:
            try:
                loaded = importlib.import_module(module)
            except Exception:  # noqa: BLE001 - a half-written module must not break names()
                missing.append(module)
                continue
            if attr and not hasattr(loaded, attr):
                missing.append(f"{module}.{attr}")
        return (not missing), ", ".join(missing)

    def build(self, lab) -> None:
        """Make the scenario's steps on ``lab`` (its timeline keeps them)."""
        self.builder(lab)


# ------------------------------------------------------------------ helpers
def _step(lab, key: str, *ops, mirrors: str = "", actor: str = "ip", **params) -> None:
    """One step whose title and why are the catalogue's ``<key>.title`` / ``<key>.why``."""
    lab.apply(*ops, title=both(f"{key}.title", **params), why=both(f"{key}.why", **params),
              mirrors=mirrors, actor=actor)


def _tell(lab, key: str, actor: str, **params) -> None:
    """A step without operations: what is about to happen, or what just happened."""
    _step(lab, key, actor=actor, **params)


def _dockerd(lab):
    """The docker engine, started (its own steps: uplink, docker0, ip_forward, NAT) so that
    the scenario's words about `docker run` come right before the run's steps."""
    engine = lab.docker
    start = getattr(engine, "start", None)
    if callable(start):
        start()
    return engine


# --------------------------------------------------------------- scenarios
def veth_basics(lab) -> None:
    """Two namespaces joined by a veth pair, addressed and up: ready to ping."""
    k = "sc.veth-basics"
    _step(lab, f"{k}.netns1", NetnsAdd("red"))
    _step(lab, f"{k}.netns2", NetnsAdd("blue"))
    _step(lab, f"{k}.veth", LinkAdd("veth1", "veth", peer="veth2"))
    _step(lab, f"{k}.move1", LinkSet("veth1", to_netns="red"))
    _step(lab, f"{k}.move2", LinkSet("veth2", to_netns="blue"))
    _step(lab, f"{k}.addr",
          AddrAdd("veth1", "10.0.0.1/24", netns="red"),
          AddrAdd("veth2", "10.0.0.2/24", netns="blue"))
    _step(lab, f"{k}.up",
          LinkSet("lo", netns="red", up=True),
          LinkSet("veth1", netns="red", up=True),
          LinkSet("lo", netns="blue", up=True),
          LinkSet("veth2", netns="blue", up=True))


def bridge(lab) -> None:
    """A bridge br0 on the node with three namespaces plugged in, 10.0.0.1-3/24."""
    k = "sc.bridge"
    _step(lab, f"{k}.br", LinkAdd("br0", "bridge"), LinkSet("br0", up=True))
    for i in (1, 2, 3):
        ns, host, ip = f"ns{i}", f"veth{i}", f"10.0.0.{i}/24"
        _step(lab, f"{k}.netns", NetnsAdd(ns), ns=ns)
        _step(lab, f"{k}.veth",
              LinkAdd(host, "veth", peer="eth0", peer_netns=ns),
              LinkSet(host, master="br0"),
              LinkSet(host, up=True), ns=ns, host=host)
        _step(lab, f"{k}.addr",
              AddrAdd("eth0", ip, netns=ns),
              LinkSet("lo", netns=ns, up=True),
              LinkSet("eth0", netns=ns, up=True), ns=ns, host=host, ip=ip)


def _docker_runs(lab, *runs: tuple[str, str, str]) -> None:
    """For each ``(key, name, net)``: the scenario's words, then `docker run --net NET NAME`."""
    docker = _dockerd(lab)
    for key, name, net in runs:
        _tell(lab, key, "docker")
        docker.run(name, net=net)


def docker_none(lab) -> None:
    """`docker run --net none`: a namespace with only lo."""
    _docker_runs(lab, ("sc.docker-none.run", "web", "none"))


def docker_host(lab) -> None:
    """`docker run --net host`: the container uses the node's namespace."""
    _docker_runs(lab, ("sc.docker-host.run", "web", "host"))


def docker_bridge(lab) -> None:
    """`docker run --net bridge`: two containers on docker0."""
    _docker_runs(lab, ("sc.docker-bridge.run", "web", "bridge"),
                 ("sc.docker-bridge.second", "db", "bridge"))


def docker_container(lab) -> None:
    """`docker run --net container:web`: a second container in web's namespace."""
    _docker_runs(lab, ("sc.docker-container.first", "web", "bridge"),
                 ("sc.docker-container.join", "sidecar", "container:web"))


def k8s(lab) -> None:
    """A pod: the kubelet starts it with --net none, then CNI gives it eth0."""
    _tell(lab, "sc.k8s.start", "kubelet")
    lab.k8s.run("centos1")
    _tell(lab, "sc.k8s.result", "kubelet")


_DOCKER = (("simlab.runtime.docker", "DockerEngine"),)
_KUBE = (("simlab.runtime.kube", "Kubelet"),)

_ALL: tuple[Scenario, ...] = tuple(
    Scenario(name, both(f"sc.{name}.title"), builder, needs)
    for name, builder, needs in (
        ("veth-basics", veth_basics, ()),
        ("bridge", bridge, ()),
        ("docker-none", docker_none, _DOCKER),
        ("docker-host", docker_host, _DOCKER),
        ("docker-bridge", docker_bridge, _DOCKER),
        ("docker-container", docker_container, _DOCKER),
        ("k8s", k8s, _KUBE),
    )
)


def all_scenarios() -> list[Scenario]:
    """Every scenario, available or not (see :meth:`Scenario.available`)."""
    return list(_ALL)


def names() -> list[str]:
    """Names of the scenarios this simlab can run (their runtimes import)."""
    return [s.name for s in _ALL if s.available()[0]]


def get(name: str) -> Scenario:
    """The scenario called ``name`` (available or not); KeyError lists the known names."""
    for scenario in _ALL:
        if scenario.name == name:
            return scenario
    raise KeyError(f"unknown scenario {name!r}; known: {', '.join(s.name for s in _ALL)}")


def run(name: str, backend: str = "model", *, seed: int = 0, lab=None):
    """Build scenario ``name`` on a new lab (or on ``lab``) and return the lab.

    The caller closes a kernel lab (``with scenarios.run(..., backend="kernel") as lab:``);
    its timeline keeps every snapshot after it is closed.
    """
    scenario = get(name)
    ok, missing = scenario.available()
    if not ok:
        raise RuntimeError(f"scenario {name!r} needs {missing}, which does not import")
    created = lab is None
    if lab is None:
        lab = Lab(backend=backend, seed=seed)
    lab.timeline.meta.setdefault("scenario", name)
    lab.timeline.meta.setdefault("backend", lab.backend)
    try:
        scenario.build(lab)
    except BaseException:
        if created:  # a failed kernel lab must not leave namespaces behind
            lab.close()
        raise
    return lab
