"""The machine's own programs simlab runs, and how to install what is missing.

One table, read by everyone who needs to know: ``Lab()`` (auto picks the model
when the kernel backend would fail), the kernel backend (a missing tool is a
clear error before anything changes), ``simlab doctor``, the test suite (skip
with the reason) and ``make lab`` / ``make test`` (``main(["install", "lab"])``).
Standard library only: the Makefile runs it before the venv exists.

>>> [n.command for n in NEEDS if n.purpose == "kernel"]
['ip', 'bridge', 'nsenter', 'iptables', 'iptables-save']
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .model.errors import NetError, say

__all__ = ["NEEDS", "PATH", "Need", "env", "missing", "packages", "require", "userns_blockers", "main"]

#: Where the kernel backend looks for the machine's tools (never the venv's or the user's PATH).
PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def env() -> dict[str, str]:
    """The environment the kernel backend runs a tool with: C locale, the system PATH."""
    return {"PATH": PATH, "LANG": "C", "LC_ALL": "C"}


@dataclass(frozen=True)
class Need:
    """One program (or file) simlab runs, the Debian package that has it, and what for."""

    command: str  # a name looked up on PATH, or an absolute path
    package: str
    purpose: str  # "kernel": the kernel backend; "reference": Debian's CNI plugins; "ui": browser tests
    why: str

    def where(self) -> str | None:
        """Its path on this machine, or None."""
        if os.path.isabs(self.command):
            return self.command if os.path.exists(self.command) else None
        if ".so." in self.command:  # a shared library, looked up as the dynamic linker would
            import ctypes.util

            return ctypes.util.find_library(self.command[3:].split(".so.")[0])
        return shutil.which(self.command, path=PATH)

    def advice(self) -> str:
        """``the kernel backend needs iptables for docker's NAT: apt-get install iptables``."""
        return f"{self.why}: apt-get install {self.package}"


NEEDS: tuple[Need, ...] = (
    Need("ip", "iproute2", "kernel", "the kernel backend needs ip (iproute2) for show commands"),
    Need("bridge", "iproute2", "kernel", "the kernel backend needs bridge (iproute2) for bridge link/fdb"),
    Need("nsenter", "util-linux", "kernel", "the kernel backend needs nsenter to run tools in a namespace"),
    Need("iptables", "iptables", "kernel",
         "the kernel backend needs iptables for docker's NAT and the CNI plugins' masquerade"),
    Need("iptables-save", "iptables", "kernel", "the kernel backend needs iptables-save to read NAT rules"),
    Need("/usr/lib/cni/bridge", "containernetworking-plugins", "reference",
         "use_plugin('reference') needs Debian's reference CNI plugins"),
    Need("/usr/lib/cni/host-local", "containernetworking-plugins", "reference",
         "use_plugin('reference') needs Debian's reference host-local IPAM"),
    Need("/usr/bin/chromium", "chromium", "ui", "the browser tests (make test-ui) need Debian's chromium"),
    Need("libatomic.so.1", "libatomic1", "ui",
         "playwright's own node (it drives chromium in the browser tests) needs libatomic"),
    Need("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "fonts-noto-cjk", "ui",
         "Japanese text in the browser tests needs a CJK font"),
)

#: What each make target sets up: ``lab`` the kernel backend and Debian's plugins, ``test`` also the browser.
PURPOSES = {"lab": ("kernel", "reference"), "test": ("kernel", "reference", "ui")}


def missing(*purposes: str) -> list[Need]:
    """The needs of these purposes (all when none given) that this machine lacks."""
    return [n for n in NEEDS if (not purposes or n.purpose in purposes) and n.where() is None]


def packages(needs: list[Need]) -> list[str]:
    """Their Debian packages, each once, in table order."""
    return list(dict.fromkeys(n.package for n in needs))


def require(command: str):
    """Raise a clear :class:`simlab.model.NetError` (exit 127) when ``command`` is missing.

    Called by the kernel backend before it runs a tool, so a tool removed while a
    lab is open fails that step cleanly (and the batch is undone) instead of
    ending in ``nsenter: failed to execute``.
    """
    need = next((n for n in NEEDS if n.command == command), None)
    if need is None or need.where() is not None:
        return
    raise NetError(
        f"simlab: {command} not found on this machine: {need.advice()}",
        errno=errno.ENOENT,
        exit=127,
        hint=say(
            f"install it (apt-get install {need.package}), or use Lab(backend='model')",
            f"インストールするか（apt-get install {need.package}）、Lab(backend='model') を使ってください",
        ),
    )


# ------------------------------------------------------------- unprivileged user namespaces
#: The switches that turn off user namespaces for users other than root: (sysctl, the value
#: that blocks, why, what to do).  Each needs root once; the lab then needs none.
USERNS_SWITCHES: tuple[tuple[str, str, str, str], ...] = (
    ("user.max_user_namespaces", "0", "user namespaces are switched off for everyone",
     "sudo sysctl -w user.max_user_namespaces=15000 (keep it in /etc/sysctl.d/)"),
    ("kernel.unprivileged_userns_clone", "0", "Debian's kernel forbids them to users other than root",
     "sudo sysctl -w kernel.unprivileged_userns_clone=1 (keep it in /etc/sysctl.d/)"),
    ("kernel.apparmor_restrict_unprivileged_userns", "1",
     "AppArmor (Ubuntu 23.10 and later) takes every capability from a user namespace of an "
     "unconfined program",
     "load an AppArmor profile allowing 'userns,' for unshare and python "
     "(see the README, 'What each kind of learner gets'), or, weaker, "
     "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
)


def userns_blockers(proc_sys: str = "/proc/sys") -> list[str]:
    """Why users other than root cannot make user namespaces here, with what to do (empty: nothing
    in the sysctls stops them)."""
    out = []
    for name, bad, why, fix in USERNS_SWITCHES:
        try:
            with open(os.path.join(proc_sys, *name.split("."))) as f:
                value = f.read().strip()
        except OSError:  # not this kernel's switch
            continue
        if value == bad:
            out.append(f"{name} = {value}: {why}; to allow it: {fix}")
    return out


# ------------------------------------------------------------- make system-lab / system-test
def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install(target: str) -> int:
    """Install what ``make TARGET`` needs where root with apt, else say what is missing."""
    lack = missing(*PURPOSES[target])
    if not lack:
        return 0
    names = packages(lack)
    if not _can_apt():
        who = "not root" if os.geteuid() != 0 else "no apt-get"
        print(f"note ({who}): not installing {' '.join(names)}; without them:")
        for n in lack:
            print(f"  - {n.advice()}")
        print("  Lab() uses the model backend where the kernel's tools are missing; "
              "simlab doctor lists what is missing.")
        return 0
    print(f"== installing Debian packages for 'make {target}': {' '.join(names)}")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (["apt-get", "update", "-qq"],
             ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *names])
    for argv in steps:
        if subprocess.run(argv, env=apt_env).returncode != 0:
            print(f"error: {' '.join(argv)} failed", file=sys.stderr)
            return 1
    still = missing(*PURPOSES[target])
    for n in still:
        print(f"warning: still missing after apt-get: {n.command} ({n.package})", file=sys.stderr)
    return 1 if any(n.purpose == "kernel" for n in still) else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "install" and args[1] in PURPOSES:
        return install(args[1])
    if args == ["missing"]:
        for n in missing():
            print(n.advice())
        return 0
    print("usage: main(['install', 'lab' | 'test']) or main(['missing'])", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
