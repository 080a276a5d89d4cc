#!/usr/bin/env python3
"""A class on this machine: memory per learner and the time to start a learner's server.

As root: the hub of ``make classroom`` (simlab.classroom) for ``--learners`` accounts it
creates (``sl-class-b*``, removed after) on 127.0.0.1:18670.  For each learner, one after the
other:

* **start**: ``POST /hub/api/users/U/server`` until the hub says ready (the learner's first
  visit: pre_spawn_hook copy, then JupyterLab), goal <= 5 s;
* **memory**: their server, after serving JupyterLab's page, with one kernel that made a
  ``Lab()`` (the rootless kernel where the machine allows it) of 5 namespaces, then idle: PSS
  and RSS summed over the server, the kernel and the lab's helper (each learner's own
  processes; the hub and the proxy are the class's, printed apart), goal <= 200 MiB PSS.

The start is wall time, so it grows with the machine's load (printed); the server's own CPU
seconds until ready are printed beside it, as the floor an idle core would reach.

PSS splits shared pages between the processes that map them, so it is what one more learner
costs; RSS counts shared libraries in full for each.  Exits 1 when the median start or the
largest per-learner PSS misses its goal.  Usage::

    .venv/bin/python benchmarks/bench_classroom.py [--learners 3] [--port 18670]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MiB = 1 << 20
LAB = """
import simlab
lab = simlab.Lab()
for i in range(5):
    lab.ip(f"netns add ns{i}")
print(lab.backend, len(lab.ip("netns").split(chr(10))) - 1)
"""


def tree_memory(pid: int) -> tuple[float, float, int]:
    """(PSS MiB, RSS MiB, processes) of ``pid`` and all its descendants."""
    import psutil

    root = psutil.Process(pid)
    pss = rss = 0
    procs = [root, *root.children(recursive=True)]
    for p in procs:
        m = p.memory_full_info()
        pss, rss = pss + m.pss, rss + m.rss
    return pss / MiB, rss / MiB, len(procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--learners", type=int, default=3)
    ap.add_argument("--port", type=int, default=18670)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("not run: the hub needs root (it starts each learner's server as that learner)")
        return 0
    try:
        import psutil

        from simlab.classroom.client import HubClient
        from simlab.classroom.hub import Hub, prepare, remove_accounts
        from simlab.classroom.hubconfig import paths
        from simlab.classroom.spec import ClassSpec
    except ImportError as e:
        print(f"not run: {e} (pip install -e '.[classroom]'; make venv does)")
        return 0

    tag = secrets.token_hex(2)
    run_dir = Path(tempfile.mkdtemp(prefix="simlab-bench-class-", dir="/var/tmp"))
    spec = ClassSpec(learners=tuple(f"sl-class-b{tag}-{i}" for i in range(args.learners)),
                     trainer=f"sl-class-b{tag}-t", run_dir=run_dir, port=args.port,
                     create_accounts=True)
    starts, cpus, mems, backends = [], [], [], set()
    hub = None
    try:
        t0 = time.perf_counter()
        prepare(spec)
        prep = time.perf_counter() - t0
        hub = Hub(spec, log_to_file=True)
        hub_up = hub.start()
        client = HubClient(spec.url, hub.token)
        for name in spec.learners:
            starts.append(client.start(name))
            server = psutil.Process(client.user(name)["servers"][""]["state"]["pid"])
            cpu = server.cpu_times()
            cpus.append(cpu.user + cpu.system)  # the server's own work to get ready
            token = client.token(name)
            page = client.http.get(f"{spec.url}user/{name}/lab", timeout=60,
                                   headers={"Authorization": f"token {token}"})
            assert page.status_code == 200, page.status_code  # what the browser loads first
            kernel = client.kernel(name, token)
            backend, count = kernel.run(LAB).split()
            assert count == "5", count
            backends.add(backend)
            time.sleep(3)  # idle: the kernel's and server's start-up garbage settled
            pid = client.user(name)["servers"][""]["state"]["pid"]
            mems.append(tree_memory(pid))
            kernel.ws.close()
        hub_pss = psutil.Process(hub.proc.pid).memory_full_info().pss / MiB
        load = os.getloadavg()[0]
        left = hub.stop()
        hub = None
        assert not left, left
    finally:
        if hub is not None:
            hub.stop()
        remove_accounts(paths(run_dir)["created"])
        shutil.rmtree(run_dir, ignore_errors=True)

    start_med = statistics.median(starts)
    pss_max = max(m[0] for m in mems)
    print(f"class of {args.learners} (labs on the {'/'.join(sorted(backends))} backend; "
          f"load average {load:.1f} on {os.cpu_count()} cpus): prepare {prep:.1f} s, "
          f"hub up {hub_up:.1f} s, hub PSS {hub_pss:.0f} MiB")
    for name, s, cpu, (pss, rss, n) in zip(spec.learners, starts, cpus, mems):
        print(f"  {name}: server start {s:.2f} s ({cpu:.2f} s of CPU in the server); server + "
              f"kernel + lab of 5 namespaces ({n} processes): PSS {pss:.0f} MiB, "
              f"RSS {rss:.0f} MiB")
    print(f"start a learner's server: median {start_med:.2f} s (goal <= 5 s; the server's own "
          f"CPU time, what an idle core would take at least: median "
          f"{statistics.median(cpus):.2f} s); "
          f"memory per learner: PSS max {pss_max:.0f} MiB, RSS max "
          f"{max(m[1] for m in mems):.0f} MiB (goal <= 200 MiB PSS)")
    ok = start_med <= 5 and pss_max <= 200
    print("met" if ok else "missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
