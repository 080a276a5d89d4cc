"""The ``simlab`` command: ``simlab clean``, ``simlab doctor``, ``simlab classroom`` (others add
their own).

Adding a subcommand: write ``def cmd_NAME(args) -> int`` and register it with
:func:`command`, giving a function that adds its arguments::

    @command("tour", help="walk through the talk in the terminal")
    def cmd_tour(args):
        ...

    @cmd_tour.arguments
    def _(parser):
        parser.add_argument("--lang", default="en")

Heavy imports stay inside the commands, so ``simlab --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import simlab

from .backends.choose import kernel_available
from .export import add_export_parser
from .ledger import LEDGER_DIR, clean
from .rootless.access import rootless_available
from .system import NEEDS, packages, userns_blockers
from .tour import add_tour_parser

__all__ = ["main", "command", "build_parser"]


@dataclass
class _Command:
    name: str
    run: Callable[[argparse.Namespace], int]
    help: str
    add_arguments: list[Callable[[argparse.ArgumentParser], None]] = field(default_factory=list)

    def arguments(self, fn: Callable[[argparse.ArgumentParser], None]):
        self.add_arguments.append(fn)
        return fn

    def __call__(self, args: argparse.Namespace) -> int:
        return self.run(args)


_COMMANDS: dict[str, _Command] = {}


def command(name: str, *, help: str):
    """Register ``fn(args) -> int`` as ``simlab NAME``."""

    def register(fn: Callable[[argparse.Namespace], int]) -> _Command:
        cmd = _Command(name, fn, help)
        _COMMANDS[name] = cmd
        return cmd

    return register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simlab", description="simlab: Linux container networking, simulated and for real."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in _COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for add in cmd.add_arguments:
            add(p)
        p.set_defaults(_run=cmd)
    add_tour_parser(sub)
    add_export_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None) or getattr(args, "func", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)


# -------------------------------------------------------------------- clean
@command("clean", help="remove what crashed kernel labs left behind (their ledgers say what)")
def cmd_clean(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        # A rootless lab's namespaces live only as long as its server process: nothing is left.
        print(
            "simlab clean: your labs (rootless) leave nothing behind: their namespaces end with "
            "their process. Labs run as root: sudo simlab clean"
        )
        return 0
    report = clean(args.ledger_dir)
    for path in report.removed:
        print(f"removed {path}")
    for lab_id in report.labs:
        print(f"cleaned lab {lab_id} (its process is gone)")
    for lab_id in report.live:
        print(f"left lab {lab_id} alone: its process is still running")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.nothing:
        print(
            "nothing to clean: no lab left anything behind"
            + (f" ({len(report.live)} running)" if report.live else "")
        )
    return 1 if report.errors else 0


@cmd_clean.arguments
def _clean_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ledger-dir", default=LEDGER_DIR, help=argparse.SUPPRESS)


# ---------------------------------------------------------------- classroom
@command("classroom", help="run a JupyterHub class on this machine (as root; make classroom)")
def cmd_classroom(args: argparse.Namespace) -> int:
    from .classroom.hub import serve  # lazy: the classroom extra (packaging) is optional
    from .classroom.spec import ClassSpec, SpecError, parse_learners  # lazy: as above

    text = " ".join(args.learners or [])
    if args.learners_file:
        try:
            text += "\n" + Path(args.learners_file).read_text()
        except OSError as e:
            print(f"simlab classroom: cannot read the learners file: {e}", file=sys.stderr)
            return 2
    spec = ClassSpec(learners=tuple(parse_learners(text)), trainer=args.trainer,
                     run_dir=Path(args.run_dir).resolve(), ip=args.ip, port=args.port,
                     create_accounts=args.create_accounts, auth=args.auth, backend=args.backend)
    try:
        return serve(spec, password=args.password or None, remove=args.remove_accounts)
    except (SpecError, RuntimeError) as e:
        print(f"simlab classroom: {e}", file=sys.stderr)
        return 2


@cmd_classroom.arguments
def _classroom_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("learners", nargs="*", help="learner names (or --learners-file)")
    parser.add_argument("--learners-file", metavar="FILE",
                        help="one name a line, # comments")
    parser.add_argument("--trainer", default="trainer", help="the admin (default: trainer)")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="where the hub listens (default 127.0.0.1; 0.0.0.0 = everywhere, "
                             "then put TLS in front)")
    parser.add_argument("--port", type=int, default=8000,
                        help="the learners' URL port; the next two are the proxy's and hub's APIs")
    parser.add_argument("--run-dir", default="/var/lib/simlab-classroom",
                        help="the hub's database, passwords, the learners' venv and notebooks")
    parser.add_argument("--create-accounts", action="store_true",
                        help="useradd the missing accounts (homes 0700)")
    parser.add_argument("--remove-accounts", action="store_true",
                        help="at the end, userdel -r the accounts this run dir created")
    parser.add_argument("--auth", choices=("shared", "pam"), default="shared",
                        help="shared: one class password (default); pam: the accounts' own")
    parser.add_argument("--password", default=os.environ.get("SIMLAB_CLASS_PASSWORD", ""),
                        help="the class password (default: a random one, kept in the run dir)")
    parser.add_argument("--backend", choices=("auto", "kernel", "model"), default="auto",
                        help="the learners' Lab(): auto = rootless kernel where allowed, else model")


# ------------------------------------------------------------------- doctor
def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        try:
            mod = __import__(module)
            return getattr(mod, "__version__", "installed")
        except ImportError:
            return "not installed"


def _userns_lines(root: bool) -> list[str]:
    """Whether a user other than root gets the kernel (rootless), and what to do if not."""
    blockers = userns_blockers()
    if root:  # root's own probe says nothing of its learners: the sysctls do
        head = "user namespaces for other users: " + ("blocked" if blockers else "allowed (sysctls)")
    else:
        ok, why = rootless_available()
        head = "user namespaces (rootless kernel): " + ("allowed" if ok else f"not available: {why}")
        blockers = [] if not ok else blockers  # the reason already names them
    return [head] + [f"  {b}" for b in blockers]


def doctor_lines() -> list[str]:
    """What a trainer reads aloud before a session: versions, privileges, backend."""
    lines = [
        f"simlab {simlab.__version__} on Python {platform.python_version()} ({sys.executable})",
        "packages: "
        + ", ".join(
            f"{name} {_version(name)}"
            for name in ("pyroute2", "networkx", "matplotlib", "ipywidgets", "jupyterlab")
        ),
    ]
    root = os.geteuid() == 0
    lines.append(f"user: uid {os.geteuid()}" + (" (root)" if root else " (not root)"))
    netns = os.path.exists("/proc/self/ns/net")
    lines.append("network namespaces: " + ("supported" if netns else "not available (not Linux?)"))
    ip = shutil.which("ip")
    if ip:
        out = subprocess.run([ip, "-V"], capture_output=True, text=True).stdout.strip()
        lines.append(f"ip: {out} ({ip})")
    else:
        lines.append("ip: not found (apt-get install iproute2)")
    lines.append("system tools:")
    lack = []
    for need in NEEDS:
        where = need.where()
        lines.append(f"  {need.command}: " + (where if where else f"missing: {need.advice()}"))
        if not where:
            lack.append(need)
    if lack:
        lines.append("install what is missing: apt-get install " + " ".join(packages(lack))
                     + " (as root, make test installs them all)")
    lines.extend(_userns_lines(root))
    ok, reason = kernel_available()
    if ok:
        lines.append(f"Lab() will use the kernel backend: {reason}.")
    else:
        lines.append(f"Lab() will use the model backend: {reason}.")
    return lines


_LOCAL = ("127.0.0.1", "localhost", "::1", "[::1]")
_OPEN_TOKEN = ("--IdentityProvider.token=", "--ServerApp.token=", "--NotebookApp.token=")


def lab_server_warnings(args: list[str], root: bool | None = None) -> list[str]:
    """What ``make lab ARGS=...`` would expose: JupyterLab runs code and terminals as its
    user (root on a kernel lab), so anyone who reaches it owns the machine."""
    root = os.geteuid() == 0 if root is None else root
    who = "root" if root else "your user"
    out = []
    flat = " ".join(args).replace("=", " ").split()
    for flag in ("--ip", "--ServerApp.ip"):
        if flag in flat[:-1]:
            ip = flat[flat.index(flag) + 1]
            if ip not in _LOCAL:
                out.append(f"warning: --ip {ip} lets other machines reach this JupyterLab, which "
                           f"runs code and terminals as {who}; keep 127.0.0.1 (an SSH tunnel "
                           "reaches it from elsewhere) or put it behind JupyterHub")
    for arg in args:
        if arg in _OPEN_TOKEN:
            out.append(f"warning: {arg} drops the login token: anyone who reaches the port runs "
                       f"code as {who}; keep the token jupyter prints")
    return out


def doctor() -> None:
    """Print what this machine offers simlab: versions, root, the programs the kernel
    backend runs (each missing one with its ``apt-get install``) and the backend Lab() picks.

    Linux: `simlab doctor`.
    """
    print("\n".join(doctor_lines()))


@command("doctor", help="what this machine offers simlab (versions, root, tools, backend)")
def cmd_doctor(args: argparse.Namespace) -> int:
    if args.lab_args is not None:  # make lab: only the warnings, before the server starts
        for line in lab_server_warnings(args.lab_args.split()):
            print(line, file=sys.stderr)
        return 0
    doctor()
    return 0


@cmd_doctor.arguments
def _doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lab-args", metavar="ARGS", default=None,
                        help="warn about `make lab ARGS=...` that would expose the server")


if __name__ == "__main__":
    sys.exit(main())
