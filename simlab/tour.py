"""``simlab tour``: step through a scenario's timeline in the terminal.

For each step the tour shows where it is (step i/n), the title and the why,
the `ip` commands the step made, and the `ip a` text of every namespace the
step changed, rendered from the step's ``after`` snapshot with the lines that
changed marked ``+`` (and the lines that went away marked ``-``).  Keys (one
line read from stdin): Enter for the next step, ``b`` back, ``q`` quit, a
number to jump; ``--no-pause`` shows every step without waiting.

It never touches a backend after the scenario is built: a kernel lab is torn
down before the first step is shown, and ``--replay FILE`` needs no backend.

    simlab tour bridge --lang ja
    simlab tour docker-bridge --backend kernel --save run.json   # as root
    simlab tour --replay run.json                                # anywhere
"""

from __future__ import annotations

import argparse
import difflib
import sys
from typing import TextIO

from . import scenarios, timeline_io
from .backends.choose import KernelUnavailable
from .i18n import LANGUAGES, get_language, t
from .model import ROOT, NetError, NetState
from .timeline import Step, Timeline
from .views.ipa import command_for, ip_a

__all__ = ["add_tour_parser", "build_parser", "main", "run_from_args", "show_step", "touched",
           "ip_a_text", "ip_a_command", "wrap_ja"]

_BAR_WIDTH = 30


# ---------------------------------------------------------------- arguments
def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", default=None,
                        help=t("cli.tour.scenario", default=scenarios.DEFAULT))
    parser.add_argument("--backend", choices=("model", "kernel", "auto"), default="model",
                        help=t("cli.tour.backend"))
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=t("cli.tour.lang"))
    parser.add_argument("--no-pause", action="store_true", help=t("cli.tour.no_pause"))
    parser.add_argument("--list", action="store_true", help=t("cli.tour.list"))
    parser.add_argument("--save", metavar="FILE", default=None, help=t("cli.tour.save"))
    parser.add_argument("--replay", metavar="FILE", default=None, help=t("cli.tour.replay"))


def add_tour_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``tour`` to ``simlab``'s subcommands.

    ``args.func(args)`` then runs the tour and returns the exit code.
    """
    parser = subparsers.add_parser("tour", help=t("cli.tour.help"), description=t("cli.tour.help"))
    _add_arguments(parser)
    parser.set_defaults(func=run_from_args)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """A parser for ``simlab tour`` on its own (``python -m simlab.tour``)."""
    parser = argparse.ArgumentParser(prog="simlab tour", description=t("cli.tour.help"))
    _add_arguments(parser)
    return parser


def main(argv: list[str] | None = None, *, console=None, stdin: TextIO | None = None) -> int:
    """Run the tour with ``argv`` (e.g. ``["bridge", "--no-pause"]``); return the exit code."""
    args = build_parser().parse_args(argv)
    return run_from_args(args, console=console, stdin=stdin)


# ---------------------------------------------------------------- rendering
def ip_a_command(key: str) -> str:
    """The command that shows namespace ``key``'s addresses (the node: plain `ip a`)."""
    return command_for(key)


def ip_a_text(snapshot: NetState, key: str) -> str:
    """What `ip a` prints in namespace ``key`` of ``snapshot``."""
    return ip_a(snapshot, key)


def touched(step: Step) -> list[str]:
    """Keys of the namespaces whose state differs between ``step.before`` and ``step.after``.

    The node comes first, then the others in the order they exist after the step;
    namespaces the step deleted come last.
    """
    before, after = step.before.netns, step.after.netns
    keys = [k for k in after if before.get(k) != after[k]]
    keys += [k for k in before if k not in after]
    return sorted(keys, key=lambda k: (k != ROOT, k not in after))


def _diff(old: str | None, new: str):
    """``new`` with each line marked: ``+`` added or changed, ``-`` gone, blank unchanged."""
    from rich.text import Text

    out = Text()
    old_lines = [] if old is None else old.splitlines()
    new_lines = new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for line in new_lines[j1:j2]:
                out.append(f"  {line}\n")
            continue
        for line in old_lines[i1:i2]:
            out.append(f"- {line}\n", style="red")
        for line in new_lines[j1:j2]:
            out.append(f"+ {line}\n", style="bold green")
    out.rstrip()
    return out


# Kinsoku: these never start a line (closing marks) or end one (opening marks).
_NO_START = set("、。，．）」』】〕・ー：；？！ぁぃぅぇぉっゃゅょァィゥェォッャュョ")
_NO_END = set("（「『【〔")


def _atoms(text: str) -> list[str]:
    """Break points for Japanese: each wide character, each run of narrow ones, each space run."""
    import unicodedata

    atoms: list[str] = []
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in "WF"
        kind = "s" if ch.isspace() else ("w" if wide else "n")
        last = atoms[-1] if atoms else ""
        last_kind = ("s" if last[-1:].isspace() else
                     "w" if last and unicodedata.east_asian_width(last[-1]) in "WF" else "n")
        if last and ((kind == last_kind == "n") or (kind == last_kind == "s")
                     or ch in _NO_START or (last[-1] in _NO_END and kind != "s")):
            atoms[-1] += ch
        else:
            atoms.append(ch)
    return atoms


def wrap_ja(text: str, width: int) -> str:
    """Wrap Japanese text at ``width`` cells: between any two characters, never before
    a closing mark, and between words of narrow text only at spaces."""
    from rich.cells import cell_len

    out_lines = []
    for paragraph in text.split("\n"):
        line = ""
        for atom in _atoms(paragraph):
            if cell_len(line + atom) <= width or not line.strip():
                line += atom
                continue
            out_lines.append(line.rstrip())
            line = "" if atom.isspace() else atom
        out_lines.append(line.rstrip())
    return "\n".join(out_lines)


def _progress(i: int, n: int, lang: str):
    from rich.text import Text

    filled = round(_BAR_WIDTH * (i + 1) / n) if n else 0
    bar = Text(t("step.counter", lang, i=i + 1, n=n) + "  ", style="bold")
    bar.append("━" * filled, style="cyan")
    bar.append("·" * (_BAR_WIDTH - filled), style="grey50")
    return bar


def show_step(console, timeline: Timeline, i: int, lang: str) -> None:
    """Print step ``i`` of ``timeline``: progress, title, why, commands and changed `ip a`."""
    from rich.panel import Panel
    from rich.text import Text

    step = timeline[i]
    console.print()
    console.rule(_progress(i, len(timeline), lang))
    inner = max(20, console.width - 4)  # the panel's border and padding
    fit = (lambda s: wrap_ja(s, inner)) if lang == "ja" else (lambda s: s)  # noqa: E731
    body = Text(fit(step.title_in(lang)), style="bold")
    why = step.why_in(lang)
    if why:
        label = f"{t('label.why', lang)}: "
        body.append("\n\n")
        body.append(label, style="italic magenta")
        body.append(fit(label + why)[len(label):])
    extra = []
    if step.actor:
        extra.append(f"{t('label.actor', lang)}: {step.actor}")
    if step.mirrors:
        extra.append(f"{t('label.mirrors', lang)}: {step.mirrors}")
    if extra:
        body.append("\n" + "  ·  ".join(extra), style="dim")
    console.print(Panel(body, expand=True))
    if step.ops:
        console.print(Text(f"{t('label.commands', lang)}:", style="bold"))
        for command in step.commands:
            console.print(Text(f"  $ {command}", style="cyan"), soft_wrap=True)
    keys = touched(step)
    if not keys:
        console.print(Text(t("label.no_change", lang), style="dim"))
        return
    for key in keys:
        command = ip_a_command(key)
        if key not in step.after.netns:
            console.print(Text(t("label.ns_deleted", lang, ns=key), style="red"))
            continue
        new = ip_a_text(step.after, key)
        old = ip_a_text(step.before, key) if key in step.before.netns else None
        title = f"$ {command}"
        if old is None:
            title += f"  ({t('label.ns_created', lang)})"
        elif old == new:
            title += f"  {t('label.ip_unchanged', lang)}"
        where = t("label.node", lang) if key == ROOT else key
        console.print(Panel(_diff(old, new), title=Text(title), subtitle=Text(where),
                            title_align="left",
                            subtitle_align="right", expand=True))


# ---------------------------------------------------------------- the tour
def _list(console, lang: str) -> None:
    console.print(t("cli.list_header", lang), markup=False, highlight=False)
    for scenario in scenarios.all_scenarios():
        ok, missing = scenario.available()
        line = f"  {scenario.name:<18} {scenario.title(lang)}"
        if not ok:
            line += "  " + t("cli.list_unavailable", lang, needs=missing)
        console.print(line, highlight=False, markup=False)


def _build(args, console, lang: str) -> tuple[Timeline | None, int, str]:
    """Build the timeline to show: (timeline, exit code on failure, title)."""
    if args.replay:
        timeline = timeline_io.replay(args.replay)
        name = timeline.meta.get("scenario", "")
        try:
            title = scenarios.get(name).title(lang)
        except KeyError:
            title = name or args.replay
        console.print(t("tour.replaying", lang, path=args.replay,
                        backend=timeline.meta.get("backend", "?")), highlight=False, markup=False)
        return timeline, 0, title
    name = args.scenario or scenarios.DEFAULT
    try:
        scenario = scenarios.get(name)
    except KeyError:
        known = ", ".join(scenarios.names())
        console.print(t("cli.unknown_scenario", lang, name=name, names=known), style="red",
                      highlight=False, markup=False)
        return None, 2, ""
    ok, missing = scenario.available()
    if not ok:
        console.print(t("cli.unavailable", lang, name=name, needs=missing), style="red",
                      highlight=False, markup=False)
        return None, 2, ""
    try:
        lab = scenarios.run(name, backend=args.backend)
    except (PermissionError, KernelUnavailable) as err:  # kernel: not root, or a tool missing
        console.print(str(err), style="red", highlight=False, markup=False)
        return None, 2, ""
    except NetError as err:
        console.print(t("tour.build_failed", lang, name=name, error=err), style="red",
                      highlight=False, markup=False)
        return None, 1, ""
    try:
        console.print(t("tour.backend", lang, backend=lab.backend, why=lab.why), style="dim",
                      highlight=False, markup=False)
        if args.save:
            timeline_io.save(lab, args.save, meta={"scenario": name})
            console.print(t("tour.saved", lang, path=args.save), highlight=False, markup=False)
    finally:
        lab.close()  # the snapshots are on the timeline: nothing below needs the backend
    return lab.timeline, 0, scenario.title(lang)


def run_from_args(args: argparse.Namespace, *, console=None, stdin: TextIO | None = None) -> int:
    """Run the tour that ``args`` (from :func:`add_tour_parser`) describes; return the exit code."""
    if console is None:
        from rich.console import Console

        console = Console()
    stdin = sys.stdin if stdin is None else stdin
    lang = args.lang or get_language()
    if args.list:
        _list(console, lang)
        return 0
    timeline, code, title = _build(args, console, lang)
    if timeline is None:
        return code
    from rich.text import Text

    console.rule(Text(t("tour.header", lang, title=title), style="bold"))
    n = len(timeline)
    if n == 0:
        console.print(t("tour.no_steps", lang), markup=False, highlight=False)
        return 0
    i = 0
    while True:
        timeline.jump(i)
        show_step(console, timeline, i, lang)
        if args.no_pause:
            if i == n - 1:
                break
            i += 1
            continue
        i, done = _ask(console, stdin, i, n, lang)
        if done == "quit":
            console.print(t("tour.quit", lang, i=i + 1, n=n), markup=False, highlight=False)
            return 0
        if done == "finish":
            break
    console.print()
    console.print(t("tour.done", lang, n=n), style="bold", markup=False, highlight=False)
    return 0


def _ask(console, stdin: TextIO, i: int, n: int, lang: str) -> tuple[int, str]:
    """Read keys until one moves: (next index, "" | "finish" | "quit")."""
    while True:
        prompt = t("tour.prompt_last" if i == n - 1 else "tour.prompt", lang)
        console.print(f"{prompt} > ", end="", style="dim", highlight=False, markup=False)
        line = stdin.readline()
        if line == "":  # end of input: nobody is left to press a key
            console.print()
            return i, "quit"
        key = line.strip().lower()
        if key == "":
            return (i, "finish") if i == n - 1 else (i + 1, "")
        if key in ("q", "quit", "exit"):
            return i, "quit"
        if key in ("b", "back", "p"):
            if i == 0:
                console.print(t("tour.at_first", lang), markup=False, highlight=False)
                continue
            return i - 1, ""
        if key.isdigit() and 1 <= int(key) <= n:
            return int(key) - 1, ""
        console.print(t("tour.bad_key", lang, n=n), markup=False, highlight=False)


if __name__ == "__main__":
    sys.exit(main())
