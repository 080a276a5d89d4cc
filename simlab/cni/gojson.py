"""JSON the way Go's ``encoding/json`` writes and reads it.

The reference plugins are Go programs; a learner diffing simlab's output with
theirs should see the same bytes.  Rules kept here (Go 1.19, the version
Debian's plugins were built with):

- ``MarshalIndent(v, "", "    ")``: 4-space indent, ``": "`` after keys, ``{}``
  and ``[]`` for empty containers; ``Marshal``: no spaces at all;
- strings escape ``<``, ``>``, ``&`` (HTML-safe), control characters other than
  ``\\n \\r \\t`` as ``\\u00XX``, U+2028/U+2029; other non-ASCII stays UTF-8;
- a Go *map* is written with sorted keys, a Go *struct* in field order (the
  caller decides by the order of its ``dict``);
- decoding is strict JSON (no NaN), matches struct fields case-insensitively
  (exact match preferred), keeps the first type error in document order, and
  words errors as Go does (``unexpected end of JSON input``,
  ``json: cannot unmarshal string into Go struct field NetConf.mtu of type int``).
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "marshal",
    "marshal_indent",
    "go_quote",
    "go_quote_list",
    "GoJSONError",
    "GoNumber",
    "unmarshal",
    "decode_struct",
    "IP",
    "IPNET",
    "STR",
    "INT",
    "BOOL",
    "ANY",
    "RAW_MAP",
    "ListOf",
    "MapOf",
    "Struct",
    "Ptr",
]


# ------------------------------------------------------------------ encoding
#: What Go's encoder writes otherwise than as itself (a string without any: copied whole).
_SPECIAL = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029\ud800-\udfff]')


def _escape(s: str) -> str:
    if not _SPECIAL.search(s):
        return '"' + s + '"'
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or ch in "<>&" or o in (0x2028, 0x2029):
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:  # a lone surrogate: Go writes the replacement character
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _encode(v: Any, indent: str | None, level: int) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, GoNumber):
        return v.text
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v != int(v) or abs(v) >= 1e21 else str(int(v))
    if isinstance(v, str):
        return _escape(v)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [(_escape(str(k)), _encode(x, indent, level + 1)) for k, x in v.items()]
        if indent is None:
            return "{" + ",".join(f"{k}:{x}" for k, x in items) + "}"
        pad = "\n" + indent * (level + 1)
        return "{" + ",".join(f"{pad}{k}: {x}" for k, x in items) + "\n" + indent * level + "}"
    if isinstance(v, (list, tuple)):
        if not v:
            return "[]"
        items = [_encode(x, indent, level + 1) for x in v]
        if indent is None:
            return "[" + ",".join(items) + "]"
        pad = "\n" + indent * (level + 1)
        return "[" + ",".join(pad + x for x in items) + "\n" + indent * level + "]"
    raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def marshal(v: Any) -> str:
    """Go's ``json.Marshal``: compact.

    >>> marshal({"b": "<x>", "a": [1, True]})
    '{"b":"\\\\u003cx\\\\u003e","a":[1,true]}'
    """
    return _encode(v, None, 0)


def marshal_indent(v: Any, indent: str = "    ") -> str:
    """Go's ``json.MarshalIndent(v, "", indent)`` (no trailing newline)."""
    return _encode(v, indent, 0)


def go_quote(s: str) -> str:
    """Go's ``%q`` / ``strconv.Quote`` for the strings CNI messages contain."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02x}")
        elif not ch.isprintable() and o > 0x7F:
            out.append(f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_quote_list(items) -> str:
    """Go's ``%q`` of a ``[]string``: ``["a" "b"]``."""
    return "[" + " ".join(go_quote(i) for i in items) + "]"


# ------------------------------------------------------------------ decoding
class GoJSONError(ValueError):
    """A decoding failure worded like Go's encoding/json."""


class GoNumber:
    """A JSON number that is not a plain integer (kept as its literal, like json.Number)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"GoNumber({self.text!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, GoNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def _no_constant(name: str):
    raise ValueError(f"invalid constant {name}")


def _quote_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    q = go_quote(c)
    return "'" + q[1:-1] + "'"


#: encoding/json's scanner refuses nesting deeper than this ("exceeded max depth").
MAX_DEPTH = 10000
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NESTING = re.compile(r"[\[\]{}]")


def _too_deep(text: str) -> str | None:
    """The bracket that takes ``text`` past Go's :data:`MAX_DEPTH`, else None."""
    depth = 0
    for m in _NESTING.finditer(_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return m.group()
    return None


def unmarshal(data: bytes | str) -> Any:
    """Parse JSON strictly, raising :class:`GoJSONError` with Go's words."""
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    deep = _too_deep(text)
    if deep is not None:
        raise GoJSONError(f"invalid character {_quote_char(deep)} exceeded max depth")
    # Python's decoder (and every walk over the value) recurses once per level: allow Go's.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, MAX_DEPTH + 500))
    try:
        return json.loads(text, parse_float=GoNumber, parse_constant=_no_constant)
    except ValueError as err:
        raise GoJSONError(_go_syntax_error(text, err)) from None
    finally:
        sys.setrecursionlimit(limit)


def _go_syntax_error(text: str, err: ValueError) -> str:
    if not isinstance(err, json.JSONDecodeError):
        # NaN/Infinity: Go sees an invalid character where they start.
        for i, ch in enumerate(text):
            if ch in "NI-" and text[i:].lstrip("-")[:3] in ("NaN", "Inf"):
                c = _quote_char(text[i:].lstrip("-")[0])
                return f"invalid character {c} looking for beginning of value"
        return "invalid character looking for beginning of value"
    pos, msg = err.pos, err.msg
    if pos >= len(text.rstrip()) or msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    c = text[pos]
    if msg.startswith("Expecting value"):
        ctx = "looking for beginning of value"
    elif msg.startswith("Expecting property name"):
        ctx = "looking for beginning of object key string"
    elif msg.startswith("Expecting ':'"):
        ctx = "after object key"
    elif msg.startswith("Expecting ','"):
        ctx = (
            "after array element"
            if _innermost_open(text, pos) == "["
            else "after object key:value pair"
        )
    elif msg.startswith("Extra data"):
        ctx = "after top-level value"
    elif msg.startswith("Invalid control character"):
        ctx = "in string literal"
    elif msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        ctx = "in string escape code"
    else:
        ctx = "looking for beginning of value"
    return f"invalid character {_quote_char(c)} {ctx}"


def _innermost_open(text: str, pos: int) -> str:
    stack: list[str] = []
    in_str = esc = False
    for ch in text[:pos]:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


# --------------------------------------------------------- typed decoding
# A schema says what Go type a JSON value lands in.  decode_struct() returns
# plain Python values and raises GoJSONError with the first type mismatch.


class _Kind:
    def __init__(self, name: str, check: Callable[[Any], bool], go: str):
        self.name, self.check, self.go = name, check, go


def _json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, GoNumber)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


STR = _Kind("str", lambda v: isinstance(v, str), "string")
BOOL = _Kind("bool", lambda v: isinstance(v, bool), "bool")
INT = _Kind(
    "int",
    lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63,
    "int",
)
ANY = _Kind("any", lambda v: True, "interface {}")
RAW_MAP = _Kind("map", lambda v: isinstance(v, dict), "map[string]interface {}")
#: net.IP (a TextUnmarshaler): a JSON string holding an address.
IP = _Kind("ip", lambda v: isinstance(v, str), "net.IP")
#: types.IPNet (UnmarshalJSON): a JSON string holding a CIDR.
IPNET = _Kind("ipnet", lambda v: isinstance(v, str), "types.IPNet")


class ListOf:
    def __init__(self, elem, go: str | None = None):
        self.elem = elem
        self.go = go or "[]" + _go_name(elem)


class MapOf:
    def __init__(self, elem, go: str | None = None):
        self.elem = elem
        self.go = go or "map[string]" + _go_name(elem)


class Struct:
    """A Go struct: ``go`` names it in field errors, ``top`` when a whole value does not fit."""

    def __init__(self, go: str, fields: dict, top: str | None = None):
        self.go, self.fields, self.top = go, fields, top


class Ptr:
    def __init__(self, elem):
        self.elem = elem
        self.go = "*" + _go_name(elem)


def _go_name(t) -> str:
    return t.go


def _find_field(fields: dict, key: str):
    if key in fields:
        return key
    folded = key.casefold()
    for name in fields:
        if name.casefold() == folded:
            return name
    return None


def _type_error(v: Any, t, where: str) -> GoJSONError:
    kind = _json_kind(v)
    if kind == "number" and t in (INT,):
        kind = f"number {v.text if isinstance(v, GoNumber) else v}"
    place = f"Go struct field {where}" if where else "Go value"
    return GoJSONError(f"json: cannot unmarshal {kind} into {place} of type {_go_name(t)}")


def _decode(v: Any, t, struct: str, path: str) -> Any:
    where = f"{struct}.{path}" if path else ""
    if v is None:  # null leaves the Go zero value
        return None
    if isinstance(t, _Kind):
        if not t.check(v):
            raise _type_error(v, t, where)
        if t is IP:
            try:
                if "%" in v:  # net.ParseIP has no zones (Python's ipaddress has)
                    raise ValueError(v)
                return str(ipaddress.ip_address(v))
            except ValueError:
                raise GoJSONError(f"invalid IP address: {v}") from None
        if t is IPNET:
            try:
                iface = ipaddress.ip_interface(v) if "/" in v and "%" not in v else None
            except ValueError:
                iface = None
            if iface is None or not v.split("/", 1)[1].isdigit():
                raise GoJSONError(f"invalid CIDR address: {v}")
            return iface
        return v
    if isinstance(t, Ptr):
        return _decode(v, t.elem, struct, path)
    if isinstance(t, ListOf):
        if not isinstance(v, list):
            raise _type_error(v, t, where)
        return [_decode(x, t.elem, struct, path) for x in v]
    if isinstance(t, MapOf):
        if not isinstance(v, dict):
            raise _type_error(v, t, where)
        return {k: _decode(x, t.elem, struct, path) for k, x in v.items()}
    if isinstance(t, Struct):
        if not isinstance(v, dict):
            raise _type_error(v, t, where)
        out: dict[str, Any] = {}
        first: GoJSONError | None = None
        for key, x in v.items():
            name = _find_field(t.fields, key)
            if name is None:
                continue
            sub = f"{path}.{name}" if path else name
            try:
                # Go names the innermost struct and the whole field path
                out[name] = _decode(x, t.fields[name], t.go, sub)
            except GoJSONError as err:
                first = first or err
        if first is not None:
            raise first
        return out
    raise TypeError(f"bad schema {t!r}")


def decode_struct(v: Any, schema: Struct) -> dict:
    """Decode a parsed JSON value into ``schema``; unknown keys are ignored, as in Go.

    >>> s = Struct("NetConf", {"mtu": INT})
    >>> decode_struct({"MTU": 1400, "other": 1}, s)
    {'mtu': 1400}
    >>> try:
    ...     decode_struct({"mtu": "1500"}, s)
    ... except GoJSONError as err:
    ...     print(err)
    json: cannot unmarshal string into Go struct field NetConf.mtu of type int
    """
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise GoJSONError(
            f"json: cannot unmarshal {_json_kind(v)} into Go value of type {_top_name(schema)}"
        )
    out: dict[str, Any] = {}
    first: GoJSONError | None = None
    for key, x in v.items():
        name = _find_field(schema.fields, key)
        if name is None:
            continue
        try:
            out[name] = _decode(x, schema.fields[name], schema.go, name)
        except GoJSONError as err:
            first = first or err
    if first is not None:
        raise first
    return out


def _top_name(schema: Struct) -> str:
    return schema.top or f"main.{schema.go}"
