"""Read the golden captures in ``cases/*.out`` (see README.md for the format).

Standard library only. Load this file by path so that its name cannot clash::

    spec = importlib.util.spec_from_file_location("simlab_golden", "tests/golden/golden.py")

>>> case = load(cases_dir() / "01_node_fresh.out")[0]
>>> case.cmd, case.exit
('ip a', 0)
>>> case.stdout.splitlines()[0]
'1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Case", "all_cases", "cases_dir", "header", "load", "read_cmds"]

_EXIT = re.compile(r"\[exit (\d+)\]\Z")


@dataclass(frozen=True)
class Case:
    """One recorded command: what ``ip``/``bridge`` printed and its exit status."""

    cmd: str  # exactly as in the .cmds file
    stdout: str  # verbatim (trailing spaces kept), "" when nothing was printed
    stderr: str  # each line ends with "\n"; "" when nothing was printed
    exit: int  # 0 unless an "[exit N]" line was recorded


def cases_dir() -> Path:
    """The folder that holds the ``NN_name.cmds`` scripts and their ``.out`` captures."""
    return Path(__file__).resolve().parent / "cases"


def read_cmds(path: str | Path) -> list[str]:
    """Commands of a ``.cmds`` file: one a line; ``#`` comments and blank lines skipped."""
    lines = (line.strip() for line in Path(path).read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def header(path: str | Path) -> list[str]:
    """The ``# ...`` lines before the first command (``# captured: <date> kernel ...``)."""
    out = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("$ "):
            break
        out.append(line)
    return out


def load(path: str | Path) -> list[Case]:
    """Parse one ``.out`` file into its cases, in order."""
    cases: list[Case] = []
    cmd: str | None = None
    out: list[str] = []
    err: list[str] = []
    status = 0
    eol = True

    def flush() -> None:
        if cmd is not None:
            stdout = "".join(line + "\n" for line in out)
            if not eol:
                stdout = stdout[:-1]
            cases.append(Case(cmd, stdout, "".join(line + "\n" for line in err), status))

    for n, line in enumerate(Path(path).read_text().split("\n")[:-1], 1):
        if line.startswith("$ "):
            flush()
            cmd, out, err, status, eol = line[2:], [], [], 0, True
        elif cmd is None:
            if not line.startswith("#"):
                raise ValueError(f"{path}:{n}: text before the first command: {line!r}")
        elif line.startswith("! ") or line == "!":
            err.append(line[2:])
        elif m := _EXIT.match(line):
            status = int(m.group(1))
        elif line == "[no-eol]":
            eol = False
        elif err or status or not eol:
            raise ValueError(f"{path}:{n}: stdout after stderr/exit: {line!r}")
        else:
            out.append(line)
    flush()
    return cases


def all_cases() -> dict[str, list[Case]]:
    """Every capture, keyed by its stem (``"05_veth_pair"``), in name order."""
    return {p.stem: load(p) for p in sorted(cases_dir().glob("*.out"))}
