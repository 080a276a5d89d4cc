"""simlab.deck: what the trainer deck's slides show (the browser side is tests/ui/test_deck.py)."""

from __future__ import annotations

import html
import re

import simlab
import simlab.deck as deck


def _doc(frame_html: str) -> str:
    return html.unescape(re.search(r'srcdoc="(.*)"></iframe>', frame_html, re.S).group(1))


def test_show_marks_tokens_escapes_and_keeps_lines():
    out = deck.show("1: lo: <LOOPBACK>\n4: eth0@if5: <UP>\n    link-netnsid 0\n", r"eth0@if\d+",
                    keep=r"^4:").data
    assert "<mark>eth0@if5</mark>" in out and "&lt;UP&gt;" in out
    assert "lo:" not in out and "link-netnsid 0" in out and out.count("…") == 1


def test_show_lines_marks_the_gaps():
    out = deck.show("a\nb\nc\nd", lines=[1, 2]).data
    assert out.endswith("…\nb\nc\n…</pre>")


def test_picture_is_a_page_that_opens_at_the_first_step_and_shows_the_last():
    lab = simlab.Lab(backend="model")
    lab.ip("netns add red")
    n0 = len(lab.timeline)
    lab.ip("link add veth1 type veth peer name veth2 netns red")
    doc = _doc(deck.picture(lab, since=n0).data)
    assert '"compact": true' in doc and '"presenter": true' in doc
    assert "window.simlab.show(0);" in doc  # one step since n0: the last is index 0
    assert 'src="http' not in doc
    full = _doc(deck.picture(lab, full=True, whole=True).data)
    assert '"compact": true' not in full and "window.simlab.show(1);window.simlab.fit(true)" in full


def test_fresh_closes_the_old_lab_and_starts_an_empty_one(monkeypatch):
    monkeypatch.setenv("SIMLAB_BACKEND", "model")
    lab = simlab.Lab(backend="model")
    lab.ip("netns add red")
    new = deck.fresh(lab)
    assert new is not lab and "red" not in new.ip("netns list")
    assert not any("red" in " ".join(s.commands) for s in new.timeline.steps)


def test_fallback_html_is_the_whole_deck_with_outputs_and_no_network(tmp_path, monkeypatch):
    import os
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", repo + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = deck.fallback_html(tmp_path / "deck.html", lang="ja")
    text = out.read_text(encoding="utf-8")
    assert text.count('class="simlab-deck-out"') >= 8  # the marked outputs
    assert text.count("<iframe") >= 4  # the pictures
    assert "パート A" in text and "Traceback" not in text
    assert not re.search(r'src="https?://', text)
