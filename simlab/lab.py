"""``Lab``: the one object a notebook talks to.

It owns a backend (model or kernel), turns typed `ip`/`bridge` commands into
operations, records every action as a step on its timeline, and answers show
commands with iproute2's text.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from typing import Iterator

from .backends.base import Backend, Capabilities
from .backends.choose import choose, why_in
from .i18n import get_language, why_text
from .iproute import Change, parse, render
from .model import NetError, NetState, ROOT
from .model.ops import Op, Ping, as_command
from .model.ping import check_target, model_report
from .runtime.docker import DockerEngine
from .runtime.kube import Kubelet
from .script import script
from .timeline import Step, Timeline, text

__all__ = ["Lab", "Result"]


@dataclass(frozen=True)
class Result:
    """What a command printed, as a terminal would show it."""

    stdout: str
    stderr: str = ""
    exit: int = 0

    def __str__(self) -> str:
        return self.stdout + self.stderr


class Lab:
    """A network lab on the model or the kernel.

    >>> lab = Lab(backend="model")
    >>> _ = lab.ip("netns add red")
    >>> print(lab.ip("netns list"), end="")
    red
    """

    def __init__(self, backend: str = "auto", *, seed: int = 0, tunnels: tuple[str, ...] = (),
                 lang: str | None = None):
        self._backend, self.backend, self._why = choose(backend, seed=seed, tunnels=tunnels)
        self.timeline = Timeline()
        self.lang = lang
        self._group: list[Op] | None = None
        self._docker = None
        self._k8s = None

    @property
    def why(self) -> str:
        """Which backend and why, in the lab's language (else simlab's: ``print(lab.why)``)."""
        return why_in(self._why, self.lang or get_language())

    # ------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Remove everything the lab created (kernel: namespaces, links, rules)."""
        if self._k8s is not None:
            with contextlib.suppress(Exception):
                self._k8s.close()
        self._backend.close()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<simlab.Lab backend={self.backend!r}: {self.why}>"

    # ---------------------------------------------------------------- state
    def snapshot(self) -> NetState:
        return self._backend.snapshot()

    @property
    def capabilities(self) -> Capabilities:
        """What this lab's backend can do (e.g. run CNI plugins in-process): ask this,
        not :attr:`backend`'s name."""
        return self._backend.capabilities

    def netns_path(self, key: str) -> str | None:
        """Where a process can open namespace ``key`` (``nsenter --net=PATH``, ``CNI_NETNS``);
        None on the model, whose namespaces are not files."""
        return self._backend.netns_path(key)

    def watch_sysctl(self, netns: str, key: str) -> None:
        """A plugin process set sysctl ``key`` in ``netns`` (portmap's route_localnet): the
        lab's snapshots show it from now on."""
        self._backend.watch_sysctl(netns, key)

    def netns_key(self, name: str) -> str | None:
        """The key of a namespace as the machine names it under /run/netns (kernel:
        ``sl<lab>-red`` gives ``red``), or None when it is not one of this lab's."""
        return self._backend.netns_key(name)

    @property
    def raw_backend(self) -> Backend:
        """The backend object itself, for tests that inject a fault or turn a knob
        (the kernel's ``precheck``); simlab's own code asks the Lab instead."""
        return self._backend

    # ------------------------------------------------------------- commands
    def ip(self, args: str) -> str:
        """Run `ip ARGS`; return what it prints.  Changes become a step.

        Raises :class:`NetError` with iproute2's message when the command fails.
        """
        return self._checked("ip " + args)

    def bridge(self, args: str) -> str:
        """Run `bridge ARGS` (``link``, ``fdb``)."""
        return self._checked("bridge " + args)

    def iptables(self, args: str, netns: str = ROOT) -> str:
        """Run `iptables ARGS` inside ``netns`` (the node by default)."""
        prefix = f"ip netns exec {netns} " if netns != ROOT else ""
        return self._checked(prefix + "iptables " + args)

    def run(self, line: str) -> Result:
        """Run one command line as a terminal would: never raises for a failing command."""
        try:
            return self._execute(line)
        except NetError as err:
            msg = err.message if err.message.endswith("\n") else err.message + "\n"
            return Result("", msg, err.exit)

    def _checked(self, line: str) -> str:
        return self._execute(line).stdout

    def _execute(self, line: str) -> Result:
        cmd = parse(line)
        if isinstance(cmd, Change):
            if len(cmd.ops) == 1 and isinstance(cmd.ops[0], Ping):
                op = cmd.ops[0]  # traffic: ping prints, and its exit status says how it went
                report = self.ping(op.netns, op.dst, op.count)
                return Result(report.text, "", report.exit)
            self.apply(*cmd.ops, title=text(line.strip()), actor="ip")
            return Result(cmd.stdout, cmd.stderr)
        real = self._backend.show(cmd.tool, list(cmd.argv), cmd.netns)
        return Result(real if real is not None else render(cmd, self.snapshot()))

    # ----------------------------------------------------------- operations
    def apply(self, *ops: Op, title=None, why=None, mirrors: str = "", actor: str = "python",
              detail=None) -> Step | None:
        """Apply operations as one step, all or nothing (inside :meth:`step`: part of its step)."""
        return self._apply(ops, title, why, mirrors, actor, detail)[0]

    def _apply(self, ops, title, why, mirrors, actor, detail) -> tuple[Step | None, list]:
        """The step recorded (None inside :meth:`step`) and the backend's outcomes."""
        if self._group is not None:
            outcomes = self._backend.apply_all(ops)
            self._group.extend(ops)
            return None, outcomes
        before = self.snapshot()
        outcomes = self._backend.apply_all(ops)
        return self._record(title, why, tuple(ops), before, mirrors, actor, detail), outcomes

    def preflight(self, *ops: Op) -> None:
        """Fail now, with the backend's clear error, if it could not carry out ``ops`` for
        want of a program (the kernel runs iptables); changes nothing."""
        self._backend.preflight(list(ops))

    @contextlib.contextmanager
    def step(self, title, why=None, *, mirrors: str = "", actor: str = "python",
             detail=None) -> Iterator[list[Op]]:
        """Group the operations applied inside the block into one step.

        Nested use is flattened into the outermost step.
        """
        if self._group is not None:
            yield self._group
            return
        before = self.snapshot()
        self._group = group = []
        try:
            yield group
        except BaseException:
            # A step is all or nothing: undo what the block already applied.
            if group:
                self._backend.restore(before)
            raise
        finally:
            self._group = None
        self._record(title, why, tuple(group), before, mirrors, actor, detail)

    def _record(self, title, why, ops, before, mirrors, actor, detail) -> Step:
        if not title:
            title = "; ".join(as_command(op) for op in ops)
        if isinstance(title, str):
            title = text(title)
        if isinstance(why, str) or why is None:
            why = text(why or "")
        step = Step(title=title or text(""), why=why, ops=ops, before=before, after=self.snapshot(),
                    mirrors=mirrors, actor=actor, detail=dict(detail or {}))
        return self.timeline.record(step)

    # ------------------------------------------------------------- traffic
    def ping(self, src: str, dst: str, count: int = 1, *, capture: bool = False):
        """`ip netns exec SRC ping -c COUNT DST`; returns a :class:`~simlab.model.ping.PingReport`.

        The kernel backend sends real echoes; the model walks the packets.  Either way
        ``report.text`` is what ping prints (without times), ``report.walk`` the model's
        story of the first echo, and the step shows what the traffic taught the machines
        on the way: ``ip neigh`` entries and learned ``bridge fdb`` entries.  ``src`` is a
        namespace name ("" for the lab's node).  With ``capture=True``, ``report.captured``
        lists the echoes as seen on every interface they crossed (real packets on the kernel,
        the walk's on the model).
        """
        op = Ping(dst, netns=src, count=count, capture=capture)
        before = self.snapshot()
        if src not in before.netns:  # ping's own checks, before anything runs
            raise NetError.no_netns(src)
        check_target(op)
        report = self._apply((op,), None, why_text(op), "", "ping", None)[1][0]
        if report.walk is None:  # real echoes: the model tells the story of the first one
            report = replace(report, walk=model_report(before, op).walk)
        return report

    def script(self, *, lang: str | None = None) -> str:
        """The lab as a shell script of the real commands that rebuild it on a Linux machine
        (see :mod:`simlab.script`); ``simlab export SCENARIO --sh FILE`` writes one too."""
        return script(self.timeline, name=self.timeline.meta.get("scenario", "lab"), lang=lang)

    # ------------------------------------------------------------ runtimes
    @property
    def docker(self):
        """A small docker engine on the lab's node (``run``, ``inspect``, ``exec``...)."""
        if self._docker is None:
            self._docker = DockerEngine(self)
        return self._docker

    @property
    def k8s(self):
        """A kubelet on the lab's node that wires pods through CNI."""
        if self._k8s is None:
            self._k8s = Kubelet(self)
        return self._k8s
