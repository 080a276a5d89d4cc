"""Notebook comforts: errors that say what to do, and a cell that shows an expected error.

The first code cell of every notebook calls :func:`install`.  From then on, in that kernel:

- a :class:`simlab.NetError` (a refused `ip` command, a docker or kubelet error) is shown as
  the tool would print it, plus its hint, without a traceback into simlab's code;
- a :class:`simlab.cni.CNIError` is shown with its code, message and details, and what the
  code means in the spec;
- a ``PermissionError`` from ``Lab(backend="kernel")`` and a ``NameError`` for ``lab`` (or
  another name the notebook's first cell defines) come with what to do: run the first cell;
- anything else keeps IPython's usual traceback.

``install(traceback=True)`` keeps the full traceback under the short message (for simlab's
own developers).  Outside IPython, :func:`install` does nothing and returns False.

:func:`expect_error` is for cells that show a mistake on purpose::

    with simlab.notebook.expect_error():
        lab.ip("link set veth9 up")      # prints the error and its hint; the cell succeeds
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from .cni.spec import CNIError
from .fonts import strict_glyphs_from_env
from .i18n import get_language, in_language, set_language
from .model import NetError
from .runtime.kube import KubeError

__all__ = ["install", "uninstall", "format_error", "expect_error", "backend_from_env",
           "SETUP_NAMES"]

#: Names the first cell of a notebook defines; a NameError for one means "run the first cell".
SETUP_NAMES = frozenset({"lab", "simlab", "LANG", "os", "check", "ex"})

_CNI_CODES = {
    1: ("incompatible CNI version", "CNI バージョンの非互換"),
    2: ("unsupported field in the network configuration", "ネットワーク設定の未対応フィールド"),
    3: ("container unknown or does not exist", "コンテナが不明、または存在しない"),
    4: ("invalid necessary environment variables", "必要な環境変数が不正"),
    5: ("I/O failure", "I/O の失敗"),
    6: ("failed to decode content", "内容をデコードできない"),
    7: ("invalid network config", "ネットワーク設定が不正"),
    11: ("try again later", "しばらくして再試行"),
    999: ("an error from the plugin itself (Go: any plain error)",
          "プラグイン自身のエラー（Go の通常のエラー）"),
}

_state = {"installed": False, "traceback": False}


def _lang() -> str:
    return get_language()


def _t(en: str, ja: str) -> str:
    return ja if _lang() == "ja" else en


def backend_from_env(default: str = "auto") -> str:
    """The backend a notebook asks for: ``$SIMLAB_BACKEND`` ("model", "kernel", "auto")."""
    return os.environ.get("SIMLAB_BACKEND", "").strip() or default


# ------------------------------------------------------------------ formatting
def format_error(err: BaseException) -> str | None:
    """The short text simlab shows for ``err``, or None when IPython's traceback is better."""
    if isinstance(err, NetError):
        lines = [in_language(err.message).rstrip("\n")]
        extra = _learner_hint(err.message)
        if extra:
            lines.append(_t("hint: ", "ヒント：") + extra)
        elif err.hint:
            lines.append(_t("hint: ", "ヒント：") + in_language(err.hint))
        return "\n".join(lines)
    if isinstance(err, CNIError):
        en, ja = _CNI_CODES.get(err.code, ("a plugin-specific code (100 and up are free)",
                                           "プラグイン独自のコード（100 以上は自由）"))
        lines = [f"CNI error {err.code} ({_t(en, ja)}): {err}"]
        inv = getattr(err, "invocation", None)
        stderr = getattr(inv, "stderr", "") if inv is not None else ""
        if stderr and stderr.strip():
            lines.append(_t("the plugin's stderr:", "プラグインの stderr:"))
            lines += ["  " + line for line in stderr.strip().splitlines()[-8:]]
        return "\n".join(lines)
    if type(err).__name__ == "KubeError" and type(err).__module__.startswith("simlab."):
        return str(err)  # kubectl's own words, e.g. pods "x" not found
    if isinstance(err, PermissionError) and "kernel backend" in str(err):
        return str(err)
    if isinstance(err, NameError):
        name = getattr(err, "name", None) or _name_from(str(err))
        if name in SETUP_NAMES:
            return (f"NameError: {name!r} " + _t(
                "is not defined yet. Run the notebook's first code cell (the setup cell) first, "
                "then this one (Run > Run All Above Selected Cell).",
                "がまだ定義されていません。先にノートブックの最初のコードセル（準備のセル）を実行して"
                "から、このセルを実行してください（Run > Run All Above Selected Cell）。"))
    return None


# What a notebook cell most often gets wrong, said in the notebook's terms.
_WRAPPERS = {
    "ip": ("lab.ip(...) already means `ip`: leave the leading ip out, "
           "e.g. lab.ip(\"link add veth1 type veth peer name veth2\")",
           "lab.ip(...) が `ip` の意味なので、先頭の ip は書きません。"
           "例: lab.ip(\"link add veth1 type veth peer name veth2\")"),
    "bridge": ("`bridge` is its own tool: lab.bridge(\"link\") or lab.bridge(\"fdb\")",
               "`bridge` は別のコマンドです: lab.bridge(\"link\") や lab.bridge(\"fdb\")"),
    "iptables": ("`iptables` is its own tool: lab.iptables(\"-t nat -S\")",
                 "`iptables` は別のコマンドです: lab.iptables(\"-t nat -S\")"),
}


def _learner_hint(message: str) -> str:
    for word, (en, ja) in _WRAPPERS.items():
        if message.startswith(f'Object "{word}" is unknown'):
            return _t(en, ja)
    return ""


def _name_from(text: str) -> str:
    # "name 'lab' is not defined"
    parts = text.split("'")
    return parts[1] if len(parts) >= 3 else ""


# ------------------------------------------------------------------ IPython
def _handler(shell, etype, value, tb, tb_offset=None):
    # IPython's run_code() calls the custom handler and ignores what it returns: the handler
    # shows the error itself, through _showtraceback (ipykernel sends it as an "error"
    # message, so the cell still fails and the frontend shows it like any traceback).
    text = format_error(value)
    if text is None or _state["traceback"]:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
        if text is not None:
            stb = [*stb, "", _red(text)]
    else:
        stb = [_red(text)]
    shell._showtraceback(etype, value, stb)
    return None


def _red(text: str) -> str:
    lines = text.split("\n")
    return "\n".join([f"\x1b[1;31m{lines[0]}\x1b[0m", *lines[1:]])


def _exception_types() -> tuple[type, ...]:
    return (NetError, PermissionError, NameError, CNIError, KubeError)


def install(lang: str | None = None, *, traceback: bool = False) -> bool:
    """Show simlab's errors with their hints in this IPython kernel; set the language.

    ``lang`` ("en" or "ja") becomes simlab's language (:func:`simlab.i18n.set_language`).
    Returns True when a kernel was found (calling it again is harmless).
    """
    if lang:
        set_language(lang)
    _state["traceback"] = bool(traceback)
    strict_glyphs_from_env()  # under `make test`, a figure with tofu fails the notebook
    ip = _ipython()
    if ip is None:
        return False
    ip.set_custom_exc(_exception_types(), _handler)
    _state["installed"] = True
    return True


def uninstall() -> None:
    """Back to IPython's usual tracebacks."""
    ip = _ipython()
    if ip is not None:
        ip.set_custom_exc((), None)
    _state["installed"] = False


def _ipython():
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    return get_ipython()


# ------------------------------------------------------------------ cells
class _Expected:
    """What :func:`expect_error` caught (``error`` is None if nothing failed)."""

    error: BaseException | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextlib.contextmanager
def expect_error(*types: type[BaseException]) -> Iterator[_Expected]:
    """Run a block that should fail; print the error as the learner would see it.

    The cell does not fail: the point is to read the message.  If nothing fails, say so
    (a stale lab, or the mistake was already fixed).  Default types: simlab's NetError
    (with docker's and the kubelet's errors) and CNIError.
    """
    if not types:
        types = (NetError, CNIError)
    caught = _Expected()
    try:
        yield caught
    except types as err:  # type: ignore[misc]
        caught.error = err
        print(format_error(err) or f"{type(err).__name__}: {err}")
    else:
        print(_t("(no error this time: the command worked)", "（今回はエラーになりませんでした）"))
