"""Save a timeline to a JSON file and load it back, so anyone can replay a lab without root.

A kernel lab needs root; what it did does not.  :func:`save` writes every step
(title, why, operations, mirrors, actor, detail) and the snapshots around it;
:func:`load` gives back an equal :class:`~simlab.timeline.Timeline` that the
views and ``simlab tour --replay`` show with no backend at all.

Rules of the format (``"format": "simlab-timeline"``, :data:`VERSION`):

- snapshots are written once each in ``"snapshots"`` and steps refer to them
  by index (a step's ``after`` is usually the next step's ``before``);
- a snapshot is the frozen dataclasses of :mod:`simlab.model.state`, field by
  field; the dataclass type hints say how to read each value back (JSON lists
  become tuples, the string keys of ``links`` become ifindexes again);
- an operation is ``{"op": "LinkAdd", <fields>}`` as in :mod:`simlab.cni.trace`;
- a step's ``detail`` may hold anything: tuples, non-string keys and simlab
  dataclasses are tagged (``{"__tuple__": [...]}``...), other objects are kept
  as their ``repr``;
- a field missing from the file takes its default (older files load); a field
  the file has and this simlab does not know is ignored; a file whose version
  is newer than :data:`VERSION` is refused.
- a path ending in ``.gz`` is gzip-compressed.

>>> from simlab.lab import Lab
>>> from simlab.model import NetnsAdd
>>> lab = Lab(backend="model")
>>> _ = lab.apply(NetnsAdd("red"), title="ip netns add red")
>>> again = loads(dumps(lab.timeline))
>>> again[0].after == lab.timeline[0].after and again[0].ops == lab.timeline[0].ops
True
"""

from __future__ import annotations

import base64
import collections.abc
import dataclasses
import gzip
import importlib
import json
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Union

import simlab

from .model import ops as _ops
from .model.state import NetState
from .model.text import Text
from .timeline import Step, Timeline

__all__ = ["FORMAT", "VERSION", "save", "load", "replay", "dumps", "loads", "to_dict",
           "from_dict", "encode_state", "decode_state", "encode_op", "decode_op"]

FORMAT = "simlab-timeline"
#: Version of the file format; bump it when a change cannot be read by older code.
VERSION = 1


# ------------------------------------------------------------ typed values
def _encode_typed(value: Any) -> Any:
    """A dataclass tree as JSON-ready data (the reader knows the types from the hints)."""
    if isinstance(value, Text):  # {"en": ..., "ja": ...}, as steps have always been written
        return value.as_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # init=False fields are caches (e.g. Netns._by_name): not part of the value.
        return {f.name: _encode_typed(getattr(value, f.name))
                for f in dataclasses.fields(value) if f.init}
    if isinstance(value, Mapping):
        return {str(k): _encode_typed(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_encode_typed(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode_dataclass(cls: type, data: Mapping) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"expected an object for {cls.__name__}, got {data!r}")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data and f.init:
            kwargs[f.name] = _decode_typed(hints.get(f.name, Any), data[f.name])
    return cls(**kwargs)


def _decode_typed(tp: Any, data: Any) -> Any:
    """Read ``data`` back as type ``tp`` (the inverse of :func:`_encode_typed`)."""
    if tp is Any or tp is object:
        return data
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, data)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:
            if _fits(option, data):
                return _decode_typed(option, data)
        return _decode_typed(options[0], data) if options else data
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode_typed(args[0], v) for v in data)
        if args:
            return tuple(_decode_typed(a, v) for a, v in zip(args, data, strict=False))
        return tuple(data)
    if origin in (list, collections.abc.Sequence):
        return [_decode_typed(args[0] if args else Any, v) for v in data]
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) or tp in (
            dict, Mapping):
        ktype, vtype = args if len(args) == 2 else (Any, Any)
        return {_decode_key(ktype, k): _decode_typed(vtype, v) for k, v in data.items()}
    if tp is int and isinstance(data, str):
        return int(data)
    if tp is float and isinstance(data, int):
        return float(data)
    return data


def _decode_key(tp: Any, key: str) -> Any:
    if tp is int:
        return int(key)
    return key


def _fits(tp: Any, data: Any) -> bool:
    """Could ``data`` be the JSON form of a ``tp``?  (picks the branch of a union)"""
    origin = typing.get_origin(tp) or tp
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return isinstance(data, Mapping)
    if origin in (tuple, list, collections.abc.Sequence):
        return isinstance(data, list)
    if origin in (dict, collections.abc.Mapping):
        return isinstance(data, Mapping)
    if tp is bool:
        return isinstance(data, bool)
    if tp in (int, float):
        return isinstance(data, (int, float)) and not isinstance(data, bool)
    if tp is str:
        return isinstance(data, str)
    return True


def encode_state(state: NetState) -> dict:
    """A snapshot as JSON-ready data."""
    return _encode_typed(state)


def decode_state(data: Mapping) -> NetState:
    """The snapshot :func:`encode_state` wrote."""
    return _decode_dataclass(NetState, data)


def _op_types() -> dict[str, type]:
    return {name: obj for name, obj in vars(_ops).items()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj)}


def encode_op(op) -> dict:
    """``{"op": "LinkAdd", "ifname": ..., ...}``."""
    return {"op": type(op).__name__, **_encode_typed(op)}


def decode_op(data: Mapping):
    """The operation :func:`encode_op` wrote."""
    name = data.get("op")
    cls = _op_types().get(name)
    if cls is None:
        raise ValueError(f"unknown operation {name!r} in the timeline file")
    return _decode_dataclass(cls, {k: v for k, v in data.items() if k != "op"})


# ------------------------------------------------------------- any values
_TAGS = ("__tuple__", "__dict__", "__dataclass__", "__bytes__", "__repr__")


def _encode_any(value: Any) -> Any:
    """Anything a step's ``detail`` may hold, tagged where JSON would lose its type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode_any(v) for v in value]}
    if isinstance(value, list):
        return [_encode_any(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value) and not any(k in _TAGS for k in value):
            return {k: _encode_any(v) for k, v in value.items()}
        return {"__dict__": [[_encode_any(k), _encode_any(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {"__dataclass__": f"{cls.__module__}:{cls.__qualname__}",
                "fields": {f.name: _encode_any(getattr(value, f.name))
                           for f in dataclasses.fields(value)}}
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        return [_encode_any(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return {"__repr__": repr(value)}


def _simlab_class(name: str) -> type | None:
    module, _, qualname = name.partition(":")
    if module != "simlab" and not module.startswith("simlab."):
        return None  # never import code a file names outside simlab
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) and dataclasses.is_dataclass(obj) else None


def _decode_any(data: Any) -> Any:
    if isinstance(data, list):
        return [_decode_any(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(_decode_any(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {_hashable(_decode_any(k)): _decode_any(v) for k, v in data["__dict__"]}
    if "__bytes__" in data:
        return base64.b64decode(data["__bytes__"])
    if "__repr__" in data:
        return data["__repr__"]
    if "__dataclass__" in data:
        fields = {k: _decode_any(v) for k, v in data.get("fields", {}).items()}
        cls = _simlab_class(data["__dataclass__"])
        if cls is None:
            return fields
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        try:
            return cls(**{k: v for k, v in fields.items() if k in known})
        except TypeError:
            return fields
    return {k: _decode_any(v) for k, v in data.items()}


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


# ---------------------------------------------------------------- timeline
def to_dict(timeline: Timeline, *, meta: Mapping | None = None) -> dict:
    """The timeline as JSON-ready data (see the module docstring for the format)."""
    snapshots: list[dict] = []
    index_of: dict[str, int] = {}
    by_id: dict[int, int] = {}

    def snapshot_index(state: NetState) -> int:
        if id(state) in by_id:
            return by_id[id(state)]
        encoded = encode_state(state)
        key = json.dumps(encoded)
        if key not in index_of:
            index_of[key] = len(snapshots)
            snapshots.append(encoded)
        by_id[id(state)] = index_of[key]
        return index_of[key]

    steps = []
    for step in timeline.steps:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(Step):
            value = getattr(step, f.name)
            if f.name in ("before", "after"):
                out[f.name] = snapshot_index(value)
            elif f.name == "ops":
                out[f.name] = [encode_op(op) for op in value]
            elif f.name == "detail":
                out[f.name] = _encode_any(dict(value))
            else:
                out[f.name] = _encode_typed(value)
        steps.append(out)
    return {
        "format": FORMAT,
        "version": VERSION,
        "simlab": simlab.__version__,
        "meta": _encode_any({**getattr(timeline, "meta", {}), **dict(meta or {})}),
        "position": timeline.position,
        "snapshots": snapshots,
        "steps": steps,
    }


def from_dict(data: Mapping) -> Timeline:
    """The timeline :func:`to_dict` wrote."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise ValueError("not a simlab timeline (the \"format\" field is missing or wrong)")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise ValueError(f"this timeline file has format version {version!r}; this simlab "
                         f"reads versions up to {VERSION}: upgrade simlab to replay it")
    snapshots = [decode_state(s) for s in data.get("snapshots", [])]
    hints = _hints(Step)
    steps = []
    for raw in data.get("steps", []):
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(Step):
            if f.name not in raw:
                continue
            value = raw[f.name]
            if f.name in ("before", "after"):
                kwargs[f.name] = snapshots[value]
            elif f.name == "ops":
                kwargs[f.name] = tuple(decode_op(op) for op in value)
            elif f.name == "detail":
                kwargs[f.name] = _decode_any(value)
            else:
                kwargs[f.name] = _decode_typed(hints.get(f.name, Any), value)
        steps.append(Step(**kwargs))
    timeline = Timeline(steps, meta=_decode_any(data.get("meta") or {}))
    position = data.get("position")
    if isinstance(position, int) and steps:
        timeline.jump(position)
    return timeline


def dumps(timeline: Timeline, *, meta: Mapping | None = None, indent: int | None = 1) -> str:
    """The timeline as a JSON string."""
    return json.dumps(to_dict(timeline, meta=meta), ensure_ascii=False, indent=indent)


def loads(text: str | bytes) -> Timeline:
    """The timeline in a JSON string."""
    return from_dict(json.loads(text))


def save(timeline, path: str | os.PathLike, *, meta: Mapping | None = None) -> None:
    """Write ``timeline`` (or a Lab's timeline) to ``path`` as JSON (gzip if it ends in .gz).

    A :class:`~simlab.lab.Lab` may be passed instead of a timeline: its backend
    name is then kept in ``meta``.
    """
    if not isinstance(timeline, Timeline) and isinstance(getattr(timeline, "timeline", None),
                                                         Timeline):
        meta = {"backend": getattr(timeline, "backend", ""), **dict(meta or {})}
        timeline = timeline.timeline
    text = dumps(timeline, meta=meta)
    path = os.fspath(path)
    if path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")


def load(path: str | os.PathLike) -> Timeline:
    """Read a timeline that :func:`save` wrote; its cursor is where it was saved."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return loads(f.read())


def replay(path: str | os.PathLike) -> Timeline:
    """Load a saved timeline with its cursor on the first step, ready to be stepped through.

    It needs no backend: views and ``simlab tour --replay FILE`` read only its snapshots.
    """
    timeline = load(path)
    timeline.jump(0)
    return timeline
