"""Which simlab function mirrors which Go function: ``python -m simlab.cni.mirror_table``.

The table is generated from the ``# mirrors <file>: <GoName>`` marker that
sits on the line above each mirroring ``def``; the rows come in source order,
which follows the Go files' order.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from dataclasses import dataclass

__all__ = ["MODULES", "REPO_PATHS", "Marker", "markers", "markdown", "main"]

#: Modules that carry markers, plugin first.
MODULES = (
    "simlab.cni.plugins.bridge",
    "simlab.cni.plugins.host_local",
    "simlab.cni.plugins.host_local.config",
    "simlab.cni.plugins.host_local.range",
    "simlab.cni.plugins.host_local.allocator",
    "simlab.cni.plugins.host_local.disk",
    "simlab.cni.plugins.host_local.dns",
    "simlab.cni.ip",
    "simlab.cni.ipam",
    "simlab.cni.ns",
    "simlab.cni.utils",
    "simlab.cni.skel",
    "simlab.cni.args",
    "simlab.cni.invoke",
    "simlab.cni.config",
    "simlab.cni.runtime",
)

_P = "containernetworking/plugins"
_C = "containernetworking/cni"
_HL = "plugins/ipam/host-local"
#: Marker file -> (repository, path).
REPO_PATHS = {
    "bridge.go": (_P, "plugins/main/bridge/bridge.go"),
    "link_linux.go": (_P, "pkg/ip/link_linux.go"),
    "cidr.go": (_P, "pkg/ip/cidr.go"),
    "ipforward_linux.go": (_P, "pkg/ip/ipforward_linux.go"),
    "ipmasq_linux.go": (_P, "pkg/ip/ipmasq_linux.go"),
    "utils_linux.go": (_P, "pkg/ip/utils_linux.go"),
    "ipam.go": (_P, "pkg/ipam/ipam.go"),
    "ipam_linux.go": (_P, "pkg/ipam/ipam_linux.go"),
    "ns_linux.go": (_P, "pkg/ns/ns_linux.go"),
    "plugins:pkg/utils/utils.go": (_P, "pkg/utils/utils.go"),
    "main.go": (_P, f"{_HL}/main.go"),
    "dns.go": (_P, f"{_HL}/dns.go"),
    "config.go": (_P, f"{_HL}/backend/allocator/config.go"),
    "range.go": (_P, f"{_HL}/backend/allocator/range.go"),
    "range_set.go": (_P, f"{_HL}/backend/allocator/range_set.go"),
    "allocator.go": (_P, f"{_HL}/backend/allocator/allocator.go"),
    "backend.go": (_P, f"{_HL}/backend/disk/backend.go"),
    "lock.go": (_P, f"{_HL}/backend/disk/lock.go"),
    "skel.go": (_C, "pkg/skel/skel.go"),
    "cni:pkg/utils/utils.go": (_C, "pkg/utils/utils.go"),
    "cni:pkg/types/args.go": (_C, "pkg/types/args.go"),
    "invoke/find.go": (_C, "pkg/invoke/find.go"),
    "invoke/raw_exec.go": (_C, "pkg/invoke/raw_exec.go"),
    "invoke/delegate.go": (_C, "pkg/invoke/delegate.go"),
    "libcni/conf.go": (_C, "libcni/conf.go"),
    "libcni/api.go": (_C, "libcni/api.go"),
}

MARKER = re.compile(r"^(?P<indent>\s*)# mirrors (?P<file>\S+): (?P<func>[A-Za-z_]\w*)\s*$")
_DEF = re.compile(r"^(?P<indent>\s*)def (?P<name>\w+)\(")
_CLASS = re.compile(r"^(?P<indent>\s*)class (?P<name>\w+)\b")


@dataclass(frozen=True)
class Marker:
    module: str
    line: int  # 1-based line of the marker
    go_file: str
    go_func: str
    py_func: str  # qualified name ("" when no def follows the marker)

    @property
    def repo_path(self) -> tuple[str, str]:
        return REPO_PATHS.get(self.go_file, ("?", self.go_file))


def markers(module: str) -> list[Marker]:
    """Every marker of ``module`` with the function defined right below it."""
    lines = inspect.getsource(importlib.import_module(module)).splitlines()
    out: list[Marker] = []
    classes: list[tuple[int, str]] = []  # (indent, name) of enclosing classes
    for i, line in enumerate(lines):
        c = _CLASS.match(line)
        if c:
            indent = len(c["indent"])
            classes = [x for x in classes if x[0] < indent] + [(indent, c["name"])]
            continue
        m = MARKER.match(line)
        if not m:
            continue
        indent = len(m["indent"])
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        d = _DEF.match(nxt)
        py = ""
        if d and len(d["indent"]) == indent:
            owners = [name for ind, name in classes if ind < indent]
            py = ".".join(owners + [d["name"]])
        out.append(Marker(module, i + 1, m["file"], m["func"], py))
    return out


def all_markers() -> list[Marker]:
    return [m for mod in MODULES for m in markers(mod)]


def markdown() -> str:
    """The Markdown table of (Go function, simlab function) pairs."""
    rows = ["| Go file | Go function | simlab function |", "|---|---|---|"]
    for m in all_markers():
        repo, path = m.repo_path
        rows.append(
            f"| {repo.split('/')[-1]}: `{path}` | `{m.go_func}` | `{m.module}.{m.py_func or '?'}` |"
        )
    return "\n".join(rows) + "\n"


def main() -> int:
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
