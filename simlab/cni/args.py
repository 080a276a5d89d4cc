"""``CNI_ARGS`` parsing, as ``types.LoadArgs`` does it (cni ``pkg/types/args.go``).

``K=V;K2=V2``; a key must name a field the plugin knows, else the whole call
fails with ``ARGS: unknown args [...]`` unless ``IgnoreUnknown=1`` (or
``true``) is among the pairs.  Keys are case-sensitive Go field names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .gojson import go_quote, go_quote_list

__all__ = ["ArgsError", "load_args", "unmarshallable_bool", "unmarshallable_string"]


class ArgsError(ValueError):
    """A plain Go error from LoadArgs (the plugin reports it as code 999)."""


def unmarshallable_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true"):
        return True
    if low in ("0", "false"):
        return False
    raise ArgsError(f"boolean unmarshal error: invalid input {text}")


def unmarshallable_string(text: str) -> str:
    return text


# mirrors cni:pkg/types/args.go: LoadArgs
def load_args(args: str, fields: Mapping[str, Callable[[str], object]]) -> dict:
    """Parse ``args`` into the known ``fields`` (name -> text parser).

    ``IgnoreUnknown`` is always known.


    >>> load_args("IgnoreUnknown=1;K8S_POD_NAME=web;MAC=c2:11:22:33:44:55", {"MAC": str})
    {'IgnoreUnknown': True, 'MAC': 'c2:11:22:33:44:55'}
    >>> load_args("FOO=bar", {"MAC": str})
    Traceback (most recent call last):
    ...
    simlab.cni.args.ArgsError: ARGS: unknown args ["FOO=bar"]
    """
    if args == "":
        return {}
    known = {"IgnoreUnknown": unmarshallable_bool, **fields}
    out: dict = {}
    unknown: list[str] = []
    for pair in args.split(";"):
        kv = pair.split("=")
        if len(kv) != 2:
            raise ArgsError(f"ARGS: invalid pair {go_quote(pair)}")
        key, value = kv
        parse = known.get(key)
        if parse is None:
            unknown.append(pair)
            continue
        try:
            out[key] = parse(value)
        except (ValueError, ArgsError) as err:
            raise ArgsError(f"ARGS: error parsing value of pair {go_quote(pair)}: {err}") from None
    if unknown and not out.get("IgnoreUnknown", False):
        raise ArgsError(f"ARGS: unknown args {go_quote_list(unknown)}")
    return out
