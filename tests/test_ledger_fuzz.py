"""``simlab clean`` against random, truncated and hostile ledgers (hypothesis).

Properties: clean never raises; it removes nothing that is not one of the two shapes of
path the ledger's own lab creates (``<netns dir>/sl<id>-...``, ``<run dir>/<id>/...``);
and for a well-formed ledger of a dead lab it removes everything listed.  The machine's
directories are replaced by temporary ones and unmounting by a recorder, so nothing real
is touched.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simlab import ledger as ledger_module

IDS = st.sampled_from(["ab1", "zz2", "ack", "9k3x"])
NAMES = st.sampled_from(["red", "node", "vpn", "..", "../x", "", "a/b"])
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**30), st.floats(allow_nan=False),
                   st.text(max_size=8), st.lists(st.integers(), max_size=2))


@st.composite
def ledgers(draw, netns_dir: str, run_dir: str):
    """Mostly well-formed ledgers (so clean acts on them), with hostile and torn ones mixed in."""
    lab_id = draw(IDS)
    hostile = draw(st.integers(0, 3)) == 0  # one in four: any value anywhere
    head = {"id": lab_id, "pid": 2**21 + 7, "start": draw(st.one_of(st.none(), st.integers(0, 99)))}
    if hostile:
        head = {"id": draw(st.one_of(st.just(lab_id), IDS, VALUES)),
                "pid": draw(st.one_of(st.just(2**21 + 7), VALUES)), "start": draw(VALUES)}
    records = [head]
    for _ in range(draw(st.integers(0, 6))):
        owner = draw(st.sampled_from([lab_id] * 3 + ["zz2", "ack"]))
        path = draw(st.sampled_from([
            f"{netns_dir}/sl{owner}-{draw(NAMES)}", f"{run_dir}/{owner}", f"{run_dir}/{owner}/node",
            f"{run_dir}/{owner}/../{draw(IDS)}", "/etc", f"{netns_dir}/other",
        ]))
        kind = draw(st.sampled_from(["netns", "netns", "dir", "", "file"]))
        record = {"add": {"kind": kind, "path": path}}
        if hostile:
            entry = draw(st.sampled_from([{"kind": kind, "path": path}, {"kind": kind},
                                          {"path": path}, path, None]))
            record = draw(st.sampled_from([{"add": entry}, {"remove": path}, entry]))
        elif draw(st.integers(0, 4)) == 0:
            record = {"remove": path}
        records.append(record)
    text = "".join(json.dumps(r) + "\n" for r in records)
    if draw(st.integers(0, 3)) == 0:  # torn: cut anywhere
        text = text[: draw(st.integers(0, len(text)))]
    return lab_id, text


def _allowed_for(lab_id: str, path: str, netns_dir: str, run_dir: str) -> bool:
    path = os.path.normpath(path)
    if os.path.dirname(path) == netns_dir:
        return os.path.basename(path).startswith(f"sl{lab_id}-")
    return path == f"{run_dir}/{lab_id}" or path.startswith(f"{run_dir}/{lab_id}/")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_clean_never_raises_and_removes_only_what_the_lab_made(tmp_path_factory, monkeypatch, data):
    root = tmp_path_factory.mktemp("machine")
    netns_dir, run_dir, ledger_dir = str(root / "netns"), str(root / "run"), root / "ledger"
    monkeypatch.setattr(ledger_module, "NETNS_DIR", netns_dir)
    monkeypatch.setattr(ledger_module, "RUN_DIR", run_dir)
    unmounted: list[str] = []
    monkeypatch.setattr(ledger_module, "unmount", lambda p: unmounted.append(p) or False)
    lab_id, text = data.draw(ledgers(netns_dir, run_dir))
    ledger_dir.mkdir()
    (ledger_dir / f"{lab_id}.json").write_text(text)
    # What exists on the "machine": every path any ledger could name, as files and dirs.
    os.makedirs(netns_dir)
    for owner in ("ab1", "zz2", "ack", "9k3x"):
        os.makedirs(f"{run_dir}/{owner}/node")
        for name in ("red", "node", "vpn"):
            open(f"{netns_dir}/sl{owner}-{name}", "w").close()
    open(f"{netns_dir}/other", "w").close()
    before = {os.path.join(d, f) for d, ds, fs in os.walk(root) for f in ds + fs}
    try:
        listed = ledger_module.read_ledger(str(ledger_dir / f"{lab_id}.json"))["created"]
    except ValueError:
        listed = None

    report = ledger_module.clean(str(ledger_dir))  # never raises

    after = {os.path.join(d, f) for d, ds, fs in os.walk(root) for f in ds + fs}
    gone = before - after - {str(ledger_dir), str(ledger_dir / f"{lab_id}.json")}  # its own
    for path in gone | set(unmounted):
        assert _allowed_for(lab_id, path, netns_dir, run_dir), (path, text)
    if report.labs == [lab_id] and not report.errors:  # a dead lab's ledger, all of it allowed
        for entry in listed:
            assert not os.path.lexists(os.path.normpath(entry["path"])), (entry, text)
