"""iproute2's JSON writer (lib/json_writer.c): compact, or ``-p`` pretty.

Compact is ``[{"a":1,"b":[]}]``.  Pretty puts each object member on its own
line, indented four spaces per level, keeps arrays on one line
(``[ "UP","LOWER_UP" ]``, empty ``[ ]``) and glues consecutive objects
(``},{``).  Floats that iproute2 prints with ``%.2f`` are passed as
:class:`Fixed`.
"""

from __future__ import annotations

import json

__all__ = ["Fixed", "dumps"]


class Fixed(float):
    """A number printed with two decimals (bridge timers)."""

    def __repr__(self) -> str:
        return f"{float(self):.2f}"


def _scalar(value) -> str:
    if isinstance(value, Fixed):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _compact(value) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    return _scalar(value)


def _pretty(value, depth: int) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "    " * (depth + 1)
        members = [f"\n{inner}{json.dumps(k)}: {_pretty(v, depth + 1)}" for k, v in value.items()]
        return "{" + ",".join(members) + "\n" + "    " * depth + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        return "[ " + ",".join(_pretty(v, depth + 1) for v in value) + " ]"
    return _scalar(value)


def dumps(value, pretty: bool = False) -> str:
    """The text `ip -j` (``pretty``: `ip -j -p`) prints for ``value``, newline included."""
    return (_pretty(value, 0) if pretty else _compact(value)) + "\n"
