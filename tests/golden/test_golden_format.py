"""The golden captures are well formed and match their command scripts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).with_name("golden.py")
_spec = importlib.util.spec_from_file_location("simlab_golden", _PATH)
golden = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("simlab_golden", golden)
_spec.loader.exec_module(golden)

CMDS = sorted(golden.cases_dir().glob("*.cmds"))


def test_enough_scripts():
    assert len(CMDS) >= 32


def test_every_out_has_a_script():
    outs = {p.stem for p in golden.cases_dir().glob("*.out")}
    assert outs == {p.stem for p in CMDS}


@pytest.mark.parametrize("cmds", CMDS, ids=lambda p: p.stem)
def test_capture_matches_script(cmds: Path):
    out = cmds.with_suffix(".out")
    assert out.exists(), f"run: sudo python3 tests/golden/capture.py {cmds.stem}"
    cases = golden.load(out)
    assert [c.cmd for c in cases] == golden.read_cmds(cmds)
    assert golden.header(out)[0].startswith("# captured: ")
    # 56+ are a learner's sessions after notebook 01: setup and follow-ups, up to 50 commands.
    assert 3 <= len(cases) <= (15 if cmds.stem < "56" else 50)
    for case in cases:
        assert case.cmd.split()[0] in ("ip", "bridge")
        assert case.exit == 0 or case.stderr, case.cmd  # a failure always says why
        assert case.stdout == "" or case.stdout.endswith("\n")


def test_round_trip_of_markers(tmp_path: Path):
    text = (
        "# captured: x\n"
        "$ ip a\n1: lo \n\n"
        "$ ip link set x up\n! Cannot find device \"x\"\n! \n[exit 1]\n"
        "$ ip -j a\n[]\n[no-eol]\n"
    )
    path = tmp_path / "t.out"
    path.write_text(text)
    a, b, c = golden.load(path)
    assert (a.cmd, a.stdout, a.stderr, a.exit) == ("ip a", "1: lo \n\n", "", 0)
    assert (b.stdout, b.stderr, b.exit) == ("", 'Cannot find device "x"\n\n', 1)
    assert (c.stdout, c.exit) == ("[]", 0)


def test_doctests():
    import doctest

    assert doctest.testmod(golden).failed == 0
