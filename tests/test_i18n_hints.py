"""Error hints speak both languages: every ``hint`` simlab writes is a ``say(en, ja)`` pair.

The hints are written beside the code that raises them, so this test reads the source:
a bare string (or f-string) given as a hint is English only, and fails here.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from simlab import i18n
from simlab.i18n import Said, in_language, say

PACKAGE = Path(i18n.__file__).parent
JAPANESE = "\u3040-\u30ff\u4e00-\u9fff"


def _literal_texts(node: ast.AST) -> list[ast.AST]:
    """String literals a hint expression can evaluate to (through `or`, `if`/`else`)."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                           and isinstance(node.value, str) and node.value):
        return [node]
    if isinstance(node, ast.BoolOp):
        return [n for v in node.values for n in _literal_texts(v)]
    if isinstance(node, ast.IfExp):
        return _literal_texts(node.body) + _literal_texts(node.orelse)
    return []


def _hint_expressions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "hint":
            yield node.value
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "hint" for t in node.targets):
            yield node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and node.target.id == "hint" and node.value is not None:
            yield node.value


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_hint_is_written_in_both_languages():
    english_only = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for expr in _hint_expressions(tree):
            for lit in _literal_texts(expr):
                english_only.append(f"{path.relative_to(PACKAGE)}:{lit.lineno}")
    assert english_only == [], "hints without a Japanese text (use simlab.i18n.say)"


def _say_calls():
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say":
                yield path, node


def test_say_pairs_are_really_translated():
    import re

    japanese = re.compile(f"[{JAPANESE}]")
    calls = list(_say_calls())
    assert len(calls) > 100  # the hints of the model, the parser, docker and the kernel
    problems = []
    for path, call in calls:
        where = f"{path.relative_to(PACKAGE)}:{call.lineno}"
        if len(call.args) != 2:
            problems.append(f"{where}: say() takes (english, japanese)")
            continue
        en, ja = (ast.unparse(a) for a in call.args)
        if en == ja:
            problems.append(f"{where}: the Japanese text is a copy of the English one")
        if not japanese.search(ja):
            problems.append(f"{where}: the Japanese text has no Japanese in it")
        if japanese.search(en):
            problems.append(f"{where}: the English text has Japanese in it")
    assert problems == []


def test_said_is_the_english_text_and_knows_the_japanese():
    h = say("list them with `ip link`", "`ip link` で一覧できます")
    assert h == "list them with `ip link`" and isinstance(h, str)
    assert h.in_("ja") == "`ip link` で一覧できます" and h.in_("en") == h
    assert in_language(h, "ja") == h.ja and in_language("plain", "ja") == "plain"
    again = pickle.loads(pickle.dumps(h))
    assert isinstance(again, Said) and again.ja == h.ja


@pytest.mark.parametrize("command, en, ja", [
    ("link set veth9 up", "ip link", "一覧"),
    ("netns exec nowhere ip a", "ip netns add nowhere", "ip netns add nowhere"),
    ("addr add 10.0.0.300/24 dev lo", "prefix length", "プレフィックス長"),
])
def test_a_japanese_notebook_shows_the_japanese_hint(command, en, ja):
    from simlab import Lab
    from simlab.model import NetError
    from simlab.notebook import format_error

    lab = Lab(backend="model")
    with pytest.raises(NetError) as caught:
        lab.ip(command)
    saved = i18n.get_language()
    try:
        i18n.set_language("en")
        shown_en = format_error(caught.value)
        i18n.set_language("ja")
        shown_ja = format_error(caught.value)
    finally:
        i18n.set_language(saved)
    assert "hint: " in shown_en and en in shown_en
    assert "ヒント：" in shown_ja and ja in shown_ja
    assert shown_ja.splitlines()[0] == shown_en.splitlines()[0]  # ip's own words stay as ip prints them


def test_simlabs_own_refusal_is_said_in_japanese_too():
    from simlab import Lab
    from simlab.model import NetError
    from simlab.notebook import format_error

    with pytest.raises(NetError) as caught:
        Lab(backend="model").ip("neigh get 10.0.0.1 dev veth1")
    assert caught.value.message.startswith("simlab does not model")
    saved = i18n.get_language()
    try:
        i18n.set_language("ja")
        shown = format_error(caught.value)
    finally:
        i18n.set_language(saved)
    assert shown.startswith('simlab は "ip neigh get" を扱いません')
    assert "ip neigh show" in shown and "ヒント：" in shown
