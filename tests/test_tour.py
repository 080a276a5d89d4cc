"""``simlab tour``: every scenario in both languages with --no-pause, and the keys."""

from __future__ import annotations

import argparse
import io
import re

import pytest
from rich.console import Console
from test_scenarios import ALL

from simlab import scenarios, timeline_io, tour
from simlab.i18n import t

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _run(argv, keys: str = "", width: int = 100) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    code = tour.main(argv, console=console, stdin=io.StringIO(keys))
    return code, out.getvalue()


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("name", ALL)
def test_no_pause_shows_every_step(name, lang):
    code, text = _run([name, "--no-pause", "--lang", lang])
    assert code == 0, text
    lab = scenarios.run(name)
    n = len(lab.timeline)
    for i in range(1, n + 1):
        assert t("step.counter", lang, i=i, n=n) in text
    for step in lab.timeline:
        assert step.title_in(lang).split()[0] in text
        for command in step.commands:
            assert command in text
    assert t("tour.done", lang, n=n) in text
    assert t("tour.prompt", lang) not in text  # never waited
    if lang == "ja":
        assert JAPANESE.search(text)
        assert scenarios.get(name).title("ja").split()[0] in text


def test_veth_basics_shows_the_changed_ip_a():
    code, text = _run(["veth-basics", "--no-pause"])
    assert code == 0
    assert "$ ip -n red a" in text and "$ ip a" in text
    assert "+     inet 10.0.0.1/24" in text  # a line the step added is marked
    assert "- " in text  # veth1 leaving the node is shown as removed lines
    assert t("label.ns_created", "en") in text


def test_interactive_keys_next_back_quit():
    code, text = _run(["veth-basics"], keys="\nb\nq\n")
    assert code == 0
    counters = re.findall(r"step (\d)/7", text)
    assert counters[:3] == ["1", "2", "1"]
    assert "step 3/7" not in text
    assert t("tour.quit", "en", i=1, n=7) in text
    assert text.count(t("tour.prompt", "en")) == 3


def test_interactive_in_japanese_and_to_the_end():
    code, text = _run(["veth-basics", "--lang", "ja"], keys="7\n\n")
    assert code == 0
    assert re.findall(r"ステップ (\d)/7", text)[:2] == ["1", "7"]
    assert t("tour.prompt_last", "ja") in text
    assert t("tour.done", "ja", n=7) in text


def test_back_at_the_first_step_and_bad_keys():
    code, text = _run(["bridge"], keys="b\nzz\n99\nq\n")
    assert code == 0
    assert t("tour.at_first", "en") in text
    assert text.count(t("tour.bad_key", "en", n=10)) == 2
    assert "step 2/10" not in text


def test_end_of_input_quits():
    code, text = _run(["veth-basics"], keys="\n")
    assert code == 0
    assert "step 2/7" in text and "step 3/7" not in text
    assert t("tour.quit", "en", i=2, n=7) in text


def test_list_and_unknown_scenario():
    code, text = _run(["--list"])
    assert code == 0
    for scenario in scenarios.all_scenarios():
        assert scenario.name in text
    code, text = _run(["no-such-scenario", "--no-pause"])
    assert code == 2 and "no-such-scenario" in text and "veth-basics" in text


def test_unavailable_scenario_says_what_is_missing(monkeypatch):
    broken = scenarios.Scenario("later", {"en": "Later", "ja": "あとで"}, lambda lab: None,
                                needs=(("simlab.no_such_runtime", ""),))
    monkeypatch.setattr(scenarios, "_ALL", scenarios._ALL + (broken,))
    code, text = _run(["later", "--no-pause", "--lang", "ja"])
    assert code == 2 and "simlab.no_such_runtime" in text
    code, text = _run(["--list"])
    assert "later" in text and "simlab.no_such_runtime" in text


def test_save_then_replay(tmp_path):
    path = tmp_path / "bridge.json"
    code, first = _run(["bridge", "--no-pause", "--save", str(path)])
    assert code == 0 and path.exists()
    assert t("tour.saved", "en", path=str(path)) in first
    assert timeline_io.load(path).meta == {"scenario": "bridge", "backend": "model"}
    code, again = _run(["--replay", str(path), "--no-pause"])
    assert code == 0
    assert "replaying" in again
    body = lambda s: s[s.index("simlab tour:"):]  # noqa: E731
    assert body(again) == body(first)


def test_empty_timeline(tmp_path):
    path = tmp_path / "empty.json"
    timeline_io.save(timeline_io.Timeline(), path)
    code, text = _run(["--replay", str(path)])
    assert code == 0 and t("tour.no_steps", "en") in text


def test_kernel_without_root_is_a_clear_error(monkeypatch):
    from simlab.backends import choose

    monkeypatch.setattr(choose, "kernel_available", lambda: (False, "not root (test)"))
    code, text = _run(["veth-basics", "--backend", "kernel", "--no-pause"])
    assert code == 2 and "not root (test)" in text


def test_add_tour_parser_wires_a_subcommand():
    parser = argparse.ArgumentParser(prog="simlab")
    sub = parser.add_subparsers(dest="command")
    tour.add_tour_parser(sub)
    args = parser.parse_args(["tour", "bridge", "--lang", "ja", "--no-pause"])
    assert args.command == "tour" and args.scenario == "bridge" and args.lang == "ja"
    out = io.StringIO()
    code = args.func(args, console=Console(file=out, width=90), stdin=io.StringIO())
    assert code == 0 and "ステップ 10/10" in out.getvalue()


def test_touched_lists_changed_namespaces_node_first():
    lab = scenarios.run("veth-basics")
    steps = list(lab.timeline)
    assert tour.touched(steps[0]) == ["red"]
    assert tour.touched(steps[3]) == ["", "red"]  # veth1 leaves the node for red
    assert tour.touched(steps[6]) == ["red", "blue"]  # in the order they were created


def test_ip_a_command():
    assert tour.ip_a_command("") == "ip a"
    assert tour.ip_a_command("red") == "ip -n red a"


def test_wrap_ja_breaks_between_characters_but_not_words():
    from rich.cells import cell_len

    text = ("解説: ブリッジはカーネルの中のスイッチです。どのポートの先にどの MAC があるかを"
            "学習し (FDB)、ポート間でフレームを転送します。")
    lines = tour.wrap_ja(text, 24).splitlines()
    assert all(cell_len(line) <= 24 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert not any(line.startswith(("、", "。")) for line in lines)
    assert any("MAC" in line for line in lines)  # a narrow word is never split
