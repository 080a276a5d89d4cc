"""Can this user build a rootless lab here: user namespaces allowed, and the tools there?

Standard library only, so ``Lab()`` can ask on any machine.  The answer is
probed once per process (``unshare`` with the flags the lab uses), so that a
restriction the sysctls do not show (a seccomp filter, a container runtime's
policy) is caught as well, and the sysctls say what to do about it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from ..system import PATH, missing, userns_blockers

__all__ = ["UNSHARE", "rootless_available"]

#: How the lab's server starts: its own user (uid 0 inside = this user outside), network and
#: mount namespaces; ``private`` so that no mount of the machine's reaches it later.
UNSHARE = ("--user", "--map-root-user", "--net", "--mount", "--propagation", "private")


@functools.cache
def rootless_available() -> tuple[bool, str]:
    """(ok, the reason in one sentence)."""
    if not os.path.exists("/proc/self/ns/user"):
        return False, "this system has no Linux user namespaces (not Linux?)"
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        return False, "pyroute2 is not installed (pip install pyroute2)"
    unshare = shutil.which("unshare", path=PATH)
    if unshare is None:
        return False, "unshare is missing: apt-get install util-linux"
    lack = missing("kernel")
    if lack:
        return False, "; ".join(n.advice() for n in lack)
    blockers = userns_blockers()
    # The same namespaces and the tmpfs mount the server makes, in a throw-away process.
    try:
        p = subprocess.run(
            [unshare, *UNSHARE, "--", "mount", "-t", "tmpfs", "tmpfs", "/run"],
            capture_output=True, text=True, timeout=30, env={"PATH": PATH, "LC_ALL": "C"},
        )
        failed = p.stderr.strip().splitlines()[-1:] if p.returncode else []
    except (OSError, subprocess.SubprocessError) as err:
        failed = [str(err)]
    if failed:
        why = "; ".join(blockers) or "no sysctl explains it (a container's seccomp policy?)"
        return False, f"unprivileged user namespaces are not available ({failed[0]}): {why}"
    return True, "not root, in a user namespace of its own (rootless)"
