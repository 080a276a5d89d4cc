"""What a CNI call reports to the lab: plugin steps and whole invocations.

Two records:

- :class:`StepRecord`: one step of a plugin (``setupVeth``), with a why, the Go
  function it mirrors and the operations it applied;
- :class:`Invocation`: one exec of a plugin by a runtime (env, stdin, stdout,
  exit), with the steps the plugin reported.

A plugin reports steps to a *recorder*: any object with ``record(step)``.
In-process the recorder is a Python object; a plugin running as a separate
process writes JSON lines to the file named by ``SIMLAB_CNI_TRACE`` (when that
variable is set), and the runtime reads them back.  Without a recorder (a
plain ``CNI_COMMAND=ADD simlab-bridge < conf``) nothing is reported.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model import ops as o

__all__ = [
    "TRACE_ENV",
    "StepRecord",
    "Invocation",
    "Recorder",
    "ListRecorder",
    "FileRecorder",
    "read_trace",
    "op_to_dict",
    "op_from_dict",
]

#: Environment variable naming the JSON-lines file a plugin process appends its steps to.
TRACE_ENV = "SIMLAB_CNI_TRACE"

_OP_TYPES = {name: getattr(o, name) for name in o.__all__ if isinstance(getattr(o, name), type)}


def op_to_dict(op: o.Op) -> dict:
    d = {"op": type(op).__name__}
    for f in dataclasses.fields(op):
        v = getattr(op, f.name)
        d[f.name] = list(v) if isinstance(v, tuple) else v
    return d


def op_from_dict(d: Mapping) -> o.Op:
    cls = _OP_TYPES[d["op"]]
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in d:
            v = d[f.name]
            kwargs[f.name] = tuple(v) if isinstance(v, list) else v
    return cls(**kwargs)


@dataclass
class StepRecord:
    """One plugin step: ``title`` (the Go name: ``setupVeth``), ``why``, ``mirrors``, ``ops``."""

    title: str
    why: Mapping[str, str]
    mirrors: str
    ops: list = field(default_factory=list)
    plugin: str = ""
    command: str = ""
    error: str = ""  # the error text when the step failed
    detail: dict = field(default_factory=dict)
    #: Snapshots around the step when the recorder asked for them (model backend).
    before: Any = None
    after: Any = None

    @property
    def commands(self) -> list[str]:
        return [o.as_command(op) for op in self.ops]

    def to_dict(self) -> dict:
        return {
            "kind": "step",
            "title": self.title,
            "why": dict(self.why),
            "mirrors": self.mirrors,
            "ops": [op_to_dict(op) for op in self.ops],
            "plugin": self.plugin,
            "command": self.command,
            "error": self.error,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> StepRecord:
        return cls(
            d["title"],
            d.get("why", {}),
            d.get("mirrors", ""),
            [op_from_dict(x) for x in d.get("ops", [])],
            d.get("plugin", ""),
            d.get("command", ""),
            d.get("error", ""),
            dict(d.get("detail", {})),
        )


@dataclass
class Invocation:
    """One exec of a plugin: what went in, what came out."""

    plugin: str  # the config's "type"
    path: str  # the executable, or "in-process:<type>"
    command: str  # ADD, DEL, CHECK, VERSION
    env: dict  # the CNI_* variables
    stdin: str
    stdout: str = ""
    stderr: str = ""
    exit: int = 0
    seconds: float = 0.0
    steps: list = field(default_factory=list)  # StepRecord
    delegated_by: str = ""  # "simlab-bridge" for an IPAM call made by a plugin

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "steps"}
        d["kind"] = "invocation"
        d["steps"] = [s.to_dict() for s in self.steps]
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Invocation:
        names = {f.name for f in dataclasses.fields(cls)} - {"steps"}
        inv = cls(**{k: v for k, v in d.items() if k in names})
        inv.steps = [StepRecord.from_dict(s) for s in d.get("steps", [])]
        return inv


class Recorder(Protocol):
    """Receives plugin steps and delegated invocations as they finish."""

    #: True when the recorder wants snapshots in StepRecord.before/after.
    wants_snapshots: bool

    def record(self, item: StepRecord | Invocation) -> None: ...


class ListRecorder:
    """Keeps everything in a list (tests, notebooks).

    >>> r = ListRecorder()
    >>> r.record(StepRecord("setupBridge", {"en": "..."}, "bridge.go: setupBridge"))
    >>> [s.title for s in r.steps]
    ['setupBridge']
    """

    def __init__(self, wants_snapshots: bool = False):
        self.items: list = []
        self.wants_snapshots = wants_snapshots

    def record(self, item) -> None:
        self.items.append(item)

    @property
    def steps(self) -> list[StepRecord]:
        return [i for i in self.items if isinstance(i, StepRecord)]

    @property
    def invocations(self) -> list[Invocation]:
        return [i for i in self.items if isinstance(i, Invocation)]


class FileRecorder:
    """Appends records as JSON lines (what a plugin process does under ``SIMLAB_CNI_TRACE``)."""

    wants_snapshots = False

    def __init__(self, path: str):
        self.path = path

    def record(self, item) -> None:
        line = json.dumps(item.to_dict(), default=str) + "\n"
        # O_APPEND: lines from the bridge and its IPAM child interleave but never tear.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def read_trace(path: str) -> list:
    """The records a plugin process wrote (StepRecord and Invocation objects)."""
    out: list = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                d = json.loads(line)
                out.append(
                    Invocation.from_dict(d)
                    if d.get("kind") == "invocation"
                    else StepRecord.from_dict(d)
                )
    except FileNotFoundError:
        pass
    return out
