#!/usr/bin/env python3
"""Record what the real ``ip`` / ``bridge`` print for each golden command script.

Usage (as root, from the repository root)::

    sudo python3 tests/golden/capture.py                  # every cases/*.cmds
    sudo python3 tests/golden/capture.py 05_veth_pair     # only the named ones

Each ``cases/NN_name.cmds`` runs in its own fresh network + mount namespace
(``unshare --net --mount --propagation private``) with a private tmpfs on
``/run/netns``, so nothing reaches this machine's own namespaces, links, routes,
sysctls or ``/run/netns``. The root namespace of that ``unshare`` plays the lab's
"node". The result is written to ``cases/NN_name.out``; see README.md for the
format, the settle rule and the hidden sysctls.

Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"

# linkwatch (operstate) and IPv6 address setup settle asynchronously, and a
# veth whose peer lived in a deleted netns vanishes a moment after `ip netns del`.
SETTLE_SECONDS = 1.2

# A command is a *change* if any of its words is one of these; every other
# command is a *show* and is preceded by a settle sleep (see is_show()).
CHANGE_WORDS = frozenset(
    {"add", "del", "delete", "set", "flush", "change", "replace", "append",
     "prepend", "attach", "detach", "save", "restore"}
)

HIDDEN_DAD = ["net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"]

# Lines in the .out file that are not stdout start with one of these.
MARKERS = ("$ ", "! ", "[exit ", "[no-eol]")

ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "LC_ALL": "C"}


def read_cmds(path: Path) -> list[str]:
    """Commands of a .cmds file: one a line, ``#`` comments and blank lines skipped."""
    cmds = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            cmds.append(line)
    return cmds


def is_show(cmd: str) -> bool:
    """True when ``cmd`` only reads state (so it is run after a settle sleep).

    Rule: a command is a change when any of its words is in CHANGE_WORDS
    (``ip netns exec red ip link set lo up`` is a change, ``ip netns exec red
    ip a`` is a show); every other command (``ip a``, ``ip -d link show br0``,
    ``ip route``, ``ip route get ...``, ``ip netns``, ``bridge link``,
    ``bridge fdb show br br0``) is a show.
    """
    return not any(word in CHANGE_WORDS for word in shlex.split(cmd))


def _netns_verb(argv: list[str]) -> tuple[str, str] | None:
    """('add'|'del', name) for ``ip netns add|del NAME``, else None."""
    if len(argv) == 4 and argv[0] == "ip" and argv[1] == "netns":
        if argv[2] == "add":
            return "add", argv[3]
        if argv[2] in ("del", "delete"):
            return "del", argv[3]
    return None


def run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, env=ENV, stdin=subprocess.DEVNULL)


def header() -> str:
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ipv = run(["ip", "-V"]).stdout.decode().strip()
    return f"# captured: {date} kernel {platform.release()} iproute2 {ipv}\n"


def render(cmd: str, proc: subprocess.CompletedProcess[bytes]) -> str:
    """One command's block in the .out format (see README.md)."""
    out = proc.stdout.decode()
    err = proc.stderr.decode()
    block = [f"$ {cmd}\n"]
    if out:
        for line in out.splitlines():
            if line.startswith(MARKERS):
                raise SystemExit(f"stdout line of {cmd!r} looks like a marker: {line!r}")
        block.append(out if out.endswith("\n") else out + "\n[no-eol]\n")
    for line in err.splitlines():
        block.append(f"! {line}\n")
    if proc.returncode != 0:
        block.append(f"[exit {proc.returncode}]\n")
    return "".join(block)


def capture_inside(cmds_path: Path, host_netns: str) -> None:
    """Run one script; called inside the private namespaces made by main()."""
    if os.readlink("/proc/self/ns/net") == host_netns:
        raise SystemExit("refusing to run: not inside a private network namespace")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/netns"], check=True, env=ENV)
    subprocess.run(["sysctl", "-qw", *HIDDEN_DAD], check=True, env=ENV)
    text = [header()]
    for cmd in read_cmds(cmds_path):
        argv = shlex.split(cmd)
        if argv[0] not in ("ip", "bridge"):
            raise SystemExit(f"{cmds_path.name}: only ip/bridge commands allowed: {cmd!r}")
        if is_show(cmd):
            time.sleep(SETTLE_SECONDS)
        proc = run(argv)
        text.append(render(cmd, proc))
        verb = _netns_verb(argv)
        if verb and proc.returncode == 0:
            if verb[0] == "add":
                # Hidden, like the lab does in every namespace it creates:
                # no DAD, so IPv6 addresses never show `tentative`.
                subprocess.run(
                    ["ip", "netns", "exec", verb[1], "sysctl", "-qw", *HIDDEN_DAD],
                    check=True, env=ENV,
                )
            else:
                time.sleep(SETTLE_SECONDS)  # the netns is destroyed asynchronously
    cmds_path.with_suffix(".out").write_text("".join(text))


def host_state() -> str:
    parts = []
    for argv in (["ip", "netns", "list"], ["ip", "link"], ["ip", "addr"], ["ip", "route"]):
        parts.append(run(argv).stdout.decode())
    parts.append(Path("/proc/sys/net/ipv6/conf/all/accept_dad").read_text())
    return "".join(parts)


def select(names: list[str]) -> list[Path]:
    if not names:
        return sorted(CASES.glob("*.cmds"))
    paths = []
    for name in names:
        stem = Path(name).name.removesuffix(".cmds").removesuffix(".out")
        path = CASES / f"{stem}.cmds"
        if not path.exists():
            matches = sorted(CASES.glob(f"{stem}*.cmds"))
            if len(matches) != 1:
                raise SystemExit(f"no single case matches {name!r}")
            path = matches[0]
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--inside", metavar="HOST_NETNS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("capture.py must run as root (sudo python3 tests/golden/capture.py)", file=sys.stderr)
        return 2
    if args.inside:
        capture_inside(Path(args.cases[0]), args.inside)
        return 0
    # ip netns needs the mount point; make it in the outer mount namespace only
    # if missing (and leave it). Our tmpfs on it lives in the private namespace.
    Path("/run/netns").mkdir(parents=True, exist_ok=True)
    before = host_state()
    host_netns = os.readlink("/proc/self/ns/net")
    for path in select(args.cases):
        print(f"capturing {path.name}", flush=True)
        subprocess.run(
            ["unshare", "--net", "--mount", "--propagation", "private",
             sys.executable, str(Path(__file__).resolve()), "--inside", host_netns, str(path)],
            check=True, env=ENV,
        )
    after = host_state()
    if before != after:
        print("WARNING: the host's network state changed during capture", file=sys.stderr)
        return 1
    print("host network state unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
