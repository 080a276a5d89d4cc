"""A step's snapshots are what a full read gives, though they are made incrementally.

The kernel backend reads back only what its monitors say changed (and shares the
rest with the previous snapshot); the model builds each snapshot by copy-on-write
from the previous one.  After every step of every scenario (the golden command
scripts and the catalogue's scenarios):

- kernel: the step's ``after`` equals every namespace read whole
  (:func:`simlab.kernel.snapshot.full_read`), and its ``before`` the previous
  step's ``after``;
- model: the step's ``after`` equals the lab's operations so far applied one by one
  to a new state, and no earlier snapshot changed (each is compared with a copy
  taken when it was recorded).
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

import simlab
from simlab import scenarios
from simlab.model import apply, new_state

_PATH = Path(__file__).parent / "golden" / "golden.py"
_spec = importlib.util.spec_from_file_location("simlab_golden", _PATH)
golden = sys.modules.get("simlab_golden") or importlib.util.module_from_spec(_spec)
if "simlab_golden" not in sys.modules:
    sys.modules["simlab_golden"] = golden
    _spec.loader.exec_module(golden)

CASES = golden.all_cases()
SCENARIOS = [s.name for s in scenarios.all_scenarios() if s.available()[0]]


def _watch(lab, check) -> list:
    """Call ``check(lab, step)`` on every step as it is recorded; returns the failures."""
    record, failures = lab.timeline.record, []

    def checked(step):
        try:
            check(lab, step)
        except AssertionError as err:
            failures.append(f"step {len(lab.timeline)} ({step.title}): {err}")
        return record(step)

    lab.timeline.record = checked
    return failures


def _build(lab, kind: str, name: str) -> None:
    if kind == "golden":
        for case in CASES[name]:
            lab.run(case.cmd)
    else:
        scenarios.get(name).build(lab)


ALL_CASES = [("golden", stem) for stem in CASES] + [("scenario", name) for name in SCENARIOS]
IDS = [f"{kind}-{name}" for kind, name in ALL_CASES]


# ------------------------------------------------------------------- model
def _model_check():
    kept = []  # (step, its snapshots deep-copied when recorded)

    def check(lab, step):
        state = new_state(seed=lab.raw_backend.state.seed, tunnels=lab.raw_backend.state.tunnels)
        for earlier in [s for s, _ in kept] + [step]:
            for op in earlier.ops:
                state = apply(state, op)
        assert state == step.after, "the step's snapshot is not its operations replayed"
        if kept:
            assert step.before is kept[-1][0].after or step.before == kept[-1][0].after
        for earlier, (before, after) in kept:
            assert earlier.before == before and earlier.after == after, (
                f"the snapshots of {earlier.title} changed after they were recorded")
        kept.append((step, (copy.deepcopy(step.before), copy.deepcopy(step.after))))

    return check


@pytest.mark.parametrize(("kind", "name"), ALL_CASES, ids=IDS)
def test_model_snapshots_are_replays_and_never_change(kind, name):
    lab = simlab.Lab(backend="model")
    failures = _watch(lab, _model_check())
    _build(lab, kind, name)
    assert len(lab.timeline) > 0 or kind == "golden"  # some scripts only show
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------ kernel
def _kernel_check(lab, step):
    from simlab.kernel.snapshot import full_read

    k = lab.raw_backend.k
    with lab.raw_backend._lock:
        whole = full_read(k)
    assert set(whole) == set(step.after.netns), "not the same namespaces"
    for key, ns in whole.items():
        assert step.after.netns[key] == ns, f"namespace {key!r} differs from a full read:\n" \
            f"  incremental {step.after.netns[key]}\n  full        {ns}"


@pytest.mark.kernel
@pytest.mark.parametrize(("kind", "name"), ALL_CASES, ids=IDS)
def test_kernel_snapshots_equal_a_full_read(kind, name):
    pytest.importorskip("pyroute2")
    try:
        lab = simlab.Lab(backend="kernel")
    except PermissionError as err:
        pytest.skip(str(err))
    with lab:
        failures = _watch(lab, _kernel_check)
        _build(lab, kind, name)
        assert len(lab.timeline) > 0 or kind == "golden"  # some scripts only show
    assert not failures, "\n".join(failures)
