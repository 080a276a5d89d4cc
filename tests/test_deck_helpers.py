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


def test_path_names_the_places_as_the_learner_knows_them():
    lab = simlab.Lab(backend="model")
    lab.docker.start()
    web = lab.docker.run("web")
    pod = lab.k8s.run("centos1")
    walk = lab.ping(pod.netns, web.ip).walk
    lines = deck.path(walk, lab).split("\n")
    assert lines[0] == "centos1 eth0" and lines[-1] == "→ web eth0"
    assert "→ node cni0" in lines and "→ node docker0" in lines


def test_a_packet_picture_follows_the_packet():
    lab = simlab.Lab(backend="model")
    lab.ip("netns add red")
    lab.ip("link add veth1 type veth peer name veth2 netns red")
    lab.ip("addr add 10.0.0.1/24 dev veth1")
    lab.ip("-n red addr add 10.0.0.2/24 dev veth2")
    lab.ip("link set veth1 up")
    lab.ip("-n red link set veth2 up")
    n0 = len(lab.timeline)
    lab.ping("red", "10.0.0.1")
    doc = _doc(deck.picture(lab, since=n0, packet=True).data)
    assert "s.setHop = (i) => { follow(i); hop(i); };" in doc
    assert "setHop" not in _doc(deck.picture(lab, since=n0).data).split("</script>")[-2]


def test_every_output_on_the_deck_marks_its_key_token_or_is_a_picture():
    """Issue 16: the talk's key token highlighted in each output (deck.show with a token)."""
    import ast
    import json
    from pathlib import Path

    nb = Path(__file__).resolve().parents[1] / "notebooks" / "99_trainer_deck.ipynb"
    bare = []
    for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or "setup" in cell["metadata"].get("tags", ()):
            continue
        src = "".join(cell["source"])
        if src.startswith("lab = deck.fresh(lab)"):
            continue  # a part's first slide: which backend, not the talk's output
        if src.rstrip().endswith(";") or src.strip() == "lab.close()":
            continue  # no output at all (ip prints nothing when it works)
        last = ast.parse(src).body[-1]
        call = last.value if isinstance(last, ast.Expr) else None
        name = ast.unparse(call.func) if isinstance(call, ast.Call) else ""
        if name == "deck.picture" or (name == "deck.show" and len(call.args) >= 2):
            continue
        bare.append(src)
    assert not bare, bare


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


def test_every_slide_has_speaker_notes_with_minutes():
    """Issue 16: speaker notes on every slide (RISE: T), starting with the slide's minutes."""
    import json
    from pathlib import Path

    nbs = Path(__file__).resolve().parents[1] / "notebooks"
    for path, unit in ((nbs / "99_trainer_deck.ipynb", r"\*\*[\d.]+ min\.\*\* \S"),
                       (nbs / "ja" / "99_trainer_deck.ipynb", r"\*\*[\d.]+ 分。\*\* \S")):
        slides: list[list[dict]] = []
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            kind = cell["metadata"].get("slideshow", {}).get("slide_type")
            if kind == "slide":
                slides.append([])
            slides[-1].append(cell)
        assert len(slides) >= 25
        for cells in slides:
            notes = ["".join(c["source"]) for c in cells
                     if c["metadata"]["slideshow"]["slide_type"] == "notes"]
            title = "".join(cells[0]["source"]).split("\n")[0]
            assert len(notes) == 1 and re.match(unit, notes[0]), f"{path.name}: {title}"
