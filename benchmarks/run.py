"""Run every benchmark in this folder, one process each, and report which passed.

Each benchmark measures against a baseline in the same run (or a fixed budget
for the model) and exits non-zero when it misses its target.  The kernel
benchmark needs root; without it, it is reported as not run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ("model: 1,000 pods", ["bench_model_pods.py"], False),
    ("redraw: 5/50/200 pods", ["bench_redraw.py"], False),
    ("browser picture: click -> frame, open (5/50/200 pods)", ["bench_click.py"], False),
    ("stepper open from changes vs whole graphs (5/50/200 pods)", ["bench_open.py"], False),
    ("kernel vs shell: 100 pods", ["bench_kernel_vs_shell.py"], True),
    ("model: k8s.run 1,000 pods, growth, memory", ["bench_k8s_model.py"], False),
    ("kernel: typed lab.ip vs shell, one change at 10/100/1,000 pods", ["bench_typed_kernel.py"],
     True),
    ("kernel: k8s.run and one ADD vs Debian's plugins", ["bench_k8s_kernel.py"], True),
    # as root: beside the root backend's ratio, the lab run as nobody; not root: its own user
    ("rootless kernel vs shell in a user namespace: 100 pods", ["bench_rootless.py"], False),
    ("classroom: memory per learner, time to start a learner's server", ["bench_classroom.py"],
     True),
]


def main() -> int:
    failed = []
    for title, argv, needs_root in BENCHES:
        print(f"\n=== {title}", flush=True)
        if needs_root and os.geteuid() != 0:
            print("not run: needs root (network namespaces)")
            continue
        rc = subprocess.call([sys.executable, str(HERE / argv[0]), *argv[1:]])
        if rc != 0:
            failed.append(title)
    print("\n" + ("all benchmarks met their targets" if not failed else f"missed: {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
