"""What `docker exec` / `kubectl exec` run: a container's command as a lab command line."""

from __future__ import annotations

import shlex

from ..model import ROOT

__all__ = ["PROGRAMS", "in_netns"]

#: The programs a lab container has (besides ``hostname``, which each runtime answers itself).
PROGRAMS = ("ip", "bridge", "iptables", "ping")


def in_netns(key: str, words: list[str]) -> str | None:
    """The lab command line running ``words`` inside namespace ``key``; None: no such program.

    >>> in_netns("web", ["ip", "a"]), in_netns("web", ["ping", "-c", "1", "10.0.0.1"])
    ('ip -n web a', 'ip netns exec web ping -c 1 10.0.0.1')
    """
    program, rest = words[0].rsplit("/", 1)[-1], shlex.join(words[1:])
    if program in ("ip", "bridge"):  # their own -n, as a learner types them
        return f"{program} -n {key} {rest}" if key != ROOT else f"{program} {rest}"
    if program in PROGRAMS:
        return f"ip netns exec {key} {program} {rest}" if key != ROOT else f"{program} {rest}"
    return None
