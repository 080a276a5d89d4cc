"""A lab to take home: its timeline as a shell script of the real commands.

:func:`script` writes every operation of every step, in order, as the `ip`, `bridge`,
`iptables`, `sysctl` and `ping` command that does it on a real Linux machine, with the
step's title as a comment.  The node is the namespace the script runs in, so the script
says how to run it in a throw-away one (``unshare``) instead of the machine's own.

The commands are :func:`simlab.model.ops.as_command`'s (what the stepper shows), except
that iptables arguments are quoted for a shell (a CNI comment holds quotes) and a ping
may fail without stopping the script (an unanswered ping is part of some stories).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import replace

from .i18n import get_language
from .model import ROOT
from .model import ops as o
from .model.ops import as_command

__all__ = ["script", "command_line"]

_HEAD = {
    "en": ("simlab lab '{name}': {steps} steps, rebuilt with the real commands.",
           "Run it as root in a throw-away network namespace, not in your machine's own:",
           "The lab's node is the namespace this script runs in."),
    "ja": ("simlab のラボ「{name}」: {steps} ステップを実際のコマンドで再現します。",
           "root で、マシン自身ではなく使い捨てのネットワーク名前空間の中で実行してください:",
           "ラボのノードは、このスクリプトを実行する名前空間です。"),
}
SANDBOX = ("unshare --net --mount sh -c "
           "'mount --make-rprivate / && mkdir -p /run/netns && "
           "mount -t tmpfs tmpfs /run/netns && sh {file}'")


def command_line(op: o.Op, drawn: dict[str, str] | None = None) -> str:
    """The shell line for one operation (``drawn``: shell variables of random MACs)."""
    drawn = drawn or {}
    if isinstance(op, o.LinkSet) and op.mac and op.mac in drawn:
        # A MAC the kernel drew at random earlier in the lab (bridge.go sets the bridge's
        # first MAC back): on this machine it is another, kept in a shell variable.
        op = replace(op, mac=f"${drawn[op.mac]}")
    if isinstance(op, o.Iptables):
        prefix = f"ip netns exec {op.netns} " if op.netns != ROOT else ""
        return f"{prefix}iptables -t {op.table} {shlex.join(op.args)}"
    if isinstance(op, o.Ping):
        return f"{as_command(op)} || true"
    line = as_command(op)
    to_node = (isinstance(op, o.LinkAdd) and op.peer_netns == ROOT != op.netns
               or isinstance(op, o.LinkSet) and op.to_netns == ROOT)
    if to_node:
        # `netns 1` is init's namespace: in a sandbox that is the machine's own.  The
        # node is the namespace of this shell, so name it by the shell's pid.
        words = line.split(" ")
        at = max(i for i, w in enumerate(words[:-1]) if w == "netns" and words[i + 1] == "1")
        words[at + 1] = "$$"
        line = " ".join(words)
    return line


def _drawn_macs(steps: list) -> dict[str, tuple[int, str, str, str]]:
    """MACs a step sets that the kernel had drawn at random for some link in an earlier
    step: ``{mac: (step index, namespace, link, variable)}`` of where it first appeared."""
    typed = {m for step in steps for op in step.ops if isinstance(op, o.LinkAdd)
             for m in (op.mac, op.peer_mac) if m}
    set_at: dict[str, int] = {}
    for n, step in enumerate(steps):
        for op in step.ops:
            if isinstance(op, o.LinkSet) and op.mac and op.mac not in typed:
                set_at.setdefault(op.mac, n)
    first: dict[str, tuple[int, str, str, str]] = {}
    for n, step in enumerate(steps):
        for key, ns in step.after.netns.items():
            for link in ns.links.values():
                if (n < set_at.get(link.mac, -1) and not link.mac_set
                        and link.mac not in first):
                    first[link.mac] = (n, key, link.ifname, f"mac{len(first) + 1}")
    return first


def script(timeline: Iterable, *, name: str = "lab", file: str = "lab.sh",
           lang: str | None = None) -> str:
    """The steps of ``timeline`` as a POSIX shell script (``set -e``: the first error stops it)."""
    lang = lang or get_language()
    steps = list(timeline)
    head, how, node = _HEAD.get(lang, _HEAD["en"])
    lines = ["#!/bin/sh", f"# {head.format(name=name, steps=len(steps))}", f"# {how}",
             f"#   sudo {SANDBOX.format(file=file)}", f"# {node}", "set -e", ""]
    drawn = _drawn_macs(steps)
    names = {mac: var for mac, (_n, _k, _i, var) in drawn.items()}
    for n, step in enumerate(steps):
        if step.ops:
            title = " ".join(step.title_in(lang).split())
            actor = f"  ({step.actor})" if step.actor != "ip" else ""
            lines.append(f"# {n + 1}. {title}{actor}")
            lines += [command_line(op, names) for op in step.ops]
        for _mac, (at, key, ifname, var) in drawn.items():
            if at == n:
                where = f"-n {key} " if key != ROOT else ""
                lines.append(f"{var}=$(ip {where}-br link show dev {ifname} | awk '{{print $3}}')")
        if step.ops:
            lines.append("")
    return "\n".join(lines)
