"""The model reproduces every golden capture of the real `ip` / `bridge` (tests/golden).

Each case runs its commands, in order, through a fresh ``Lab(backend="model")``
with ``lab.run`` and compares stdout, stderr and exit status with what the real
kernel printed, after :func:`simlab.normalize.normalize` (random MACs and what
derives from them; MACs typed in the commands stay literal).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import simlab
from simlab.normalize import macs_in, normalize

_PATH = Path(__file__).parent / "golden" / "golden.py"
_spec = importlib.util.spec_from_file_location("simlab_golden", _PATH)
golden = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("simlab_golden", golden)
_spec.loader.exec_module(golden)

CASES = golden.all_cases()

#: stem -> why the model cannot reproduce it yet (strict: an unexpected pass fails).
XFAIL: dict[str, str] = {}


def _transcript(cmds: list[str], results: list[tuple[str, str, int]]) -> list[str]:
    """One block per command, in the .out format, so a failure shows a readable diff."""
    blocks = []
    for cmd, (out, err, status) in zip(cmds, results):
        block = f"$ {cmd}\n{out}" + "".join(f"! {line}\n" for line in err.splitlines())
        if status:
            block += f"[exit {status}]\n"
        blocks.append(block)
    return blocks


def run_case(cases) -> tuple[list[str], list[str]]:
    """(expected, got) transcripts of one case, normalized."""
    cmds = [c.cmd for c in cases]
    lab = simlab.Lab(backend="model")
    got = []
    for cmd in cmds:
        r = lab.run(cmd)
        got.append((r.stdout, r.stderr, r.exit))
    want = [(c.stdout, c.stderr, c.exit) for c in cases]
    keep = macs_in("\n".join(cmds))
    return (normalize(_transcript(cmds, want), keep), normalize(_transcript(cmds, got), keep))


def test_there_are_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    "stem",
    [pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=XFAIL[s])) if s in XFAIL else s
     for s in CASES],
)
def test_golden_case(stem):
    want, got = run_case(CASES[stem])
    assert "".join(got) == "".join(want)


# ------------------------------------------------------------ the normalization
def test_normalize_numbers_macs_and_what_derives_from_them():
    got = normalize(["link/ether 0a:11:22:33:44:55 brd ff:ff:ff:ff:ff:ff",
                     "inet6 fe80::811:22ff:fe33:4455/64 scope link ",
                     "33:33:ff:33:44:55 dev br0 self permanent",
                     "bridge_id 8000.a:11:22:33:44:55 designated_root 8000.2:0:0:0:0:5 gc_timer  298.81",
                     "2: veth2: link/ether 02:00:00:00:00:05 and 33:33:00:00:00:01 and 00:00:00:00:00:00"])
    assert got == ["link/ether <mac1> brd ff:ff:ff:ff:ff:ff",
                   "inet6 fe80::<mac1>/64 scope link ",
                   "33:33:ff:<mac1> dev br0 self permanent",
                   "bridge_id 8000.<mac1> designated_root 8000.<mac2> gc_timer <timer>",
                   "2: veth2: link/ether <mac2> and 33:33:00:00:00:01 and 00:00:00:00:00:00"]


def test_normalize_keeps_typed_macs_and_keeps_pairings_apart():
    keep = macs_in("ip link set dev eth0 address 02:42:ac:11:00:02")
    assert normalize(["02:42:ac:11:00:02 fe80::42:acff:fe11:2/64"], keep) == ["02:42:ac:11:00:02 fe80::42:acff:fe11:2/64"]
    # A link-local that belongs to another MAC than in the reference does not normalize alike.
    real = normalize(["a 0a:00:00:00:00:01 fe80::800:ff:fe00:1", "b 0a:00:00:00:00:02"])
    swapped = normalize(["a 0a:00:00:00:00:01 fe80::800:ff:fe00:2", "b 0a:00:00:00:00:02"])
    assert real != swapped
    assert normalize(["forward_delay_timer    0.00"]) == ["forward_delay_timer    0.00"]


def test_model_differs_when_it_should():
    """The comparison is not vacuous: a model mistake shows up after normalization."""
    cases = CASES["05_veth_pair"]
    want, got = run_case(cases)
    assert "".join(got) == "".join(want)
    broken = [c if c.cmd != "ip link" else type(c)(c.cmd, c.stdout.replace("M-DOWN", "UP"), c.stderr, c.exit)
              for c in cases]
    want, got = run_case(broken)
    assert "".join(got) != "".join(want)
