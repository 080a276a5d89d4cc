"""A Python the learners may run: a venv of their own, copied from this one.

The hub runs as root from the project's venv; each learner's server runs as that learner,
who often cannot read it (a venv whose Python lives under /root, a checkout in a 0700
directory).  So the class gets a venv in a directory everyone can read: the system Python
of the same version and a copy of the installed distributions it needs, with their data files
(JupyterLab's static assets, kernel specs, the server extensions they enable) and console
scripts.  Copied, not pip-installed: it works offline and runs the very versions the tests ran.  simlab itself is copied from its
source tree (an editable install holds only a finder that points into the checkout).
"""

from __future__ import annotations

import compileall
import importlib.metadata as md
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

__all__ = ["closure", "copy_simlab", "copy_venv", "system_python"]

_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc")


def closure(requirements: Iterable[str], exclude: Iterable[str] = ()) -> list[md.Distribution]:
    """These installed distributions (``"simlab[lab]"`` takes the extra too) and everything
    they require on this platform, except ``exclude`` (and what only they require)."""
    todo = [Requirement(r) for r in requirements]
    skip = {canonicalize_name(n) for n in exclude}
    seen: set[tuple[str, frozenset]] = set()
    dists: dict[str, md.Distribution] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen or name in skip:
            continue
        seen.add(key)
        try:
            dist = dists.get(name) or md.distribution(name)
        except md.PackageNotFoundError:
            raise RuntimeError(f"{req.name} is not installed in {sys.prefix}: "
                               "make classroom installs what the class needs") from None
        dists[name] = dist
        for sub in map(Requirement, dist.requires or []):
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in ("", *req.extras)):
                todo.append(sub)
    return list(dists.values())


def system_python() -> str:
    """The machine's own Python of this version (a venv's base may be unreadable, e.g. pyenv
    under /root)."""
    exe = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not exe.exists():
        raise RuntimeError(f"{exe} is missing: the learners need a Python {sys.version_info.major}."
                           f"{sys.version_info.minor} they can run (apt-get install python3)")
    return str(exe)


def _link(src: str, dst: str) -> None:
    """A hard link (instant, same bytes and mtime, so the compiled .pyc stay valid: the
    learners cannot write new ones), else a copy that keeps the mtime."""
    if os.path.lexists(dst):  # two distributions share a folder (e.g. __pycache__)
        return
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


def _copy_dist(dist: md.Distribution, site: Path, dest: Path) -> None:
    root = Path(dist.locate_file("")).resolve()
    prefix = Path(sys.prefix).resolve()
    editable_simlab = canonicalize_name(dist.metadata["Name"]) == "simlab"
    tops: set[str] = set()
    for rel in dist.files or []:
        src = Path(dist.locate_file(rel)).resolve()
        if src.is_relative_to(root):
            top = src.relative_to(root).parts[0]
            if not (editable_simlab and ".dist-info" not in top):
                tops.add(top)  # the finder into the checkout: the package is copied below
        elif (src.is_file() and src.is_relative_to(prefix)
              and src.relative_to(prefix).parts[0] in ("share", "etc")):
            # data files: lab assets, kernel specs (share/), the server extensions each
            # package enables (etc/jupyter/jupyter_server_config.d: without them no /lab)
            target = dest / src.relative_to(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                _link(str(src), str(target))
        # else bin/: written anew below, for the new Python
    for top in tops:  # whole top-level folders: with the .pyc compiled after install too
        src = root / top
        if src.is_dir():
            shutil.copytree(src, site / top, copy_function=_link, dirs_exist_ok=True)
        elif src.is_file() and not (site / top).exists():
            _link(str(src), str(site / top))
    for ep in dist.entry_points:
        if ep.group == "console_scripts":
            exe = dest / "bin" / ep.name
            top = ep.attr.split(".")[0]  # "App.launch_instance": import App, call the rest
            exe.write_text(f"#!{dest}/bin/python\nimport sys\nfrom {ep.module} import {top}\n"
                           f"sys.exit({ep.attr}())\n")
            exe.chmod(0o755)


def copy_simlab(site: Path) -> None:
    """This simlab's package into ``site``, compiled (its learners cannot write .pyc)."""
    shutil.copytree(Path(__file__).resolve().parent.parent, site / "simlab", ignore=_SKIP,
                    dirs_exist_ok=True)
    compileall.compile_dir(site / "simlab", quiet=1)


def copy_venv(dest: Path, requirements: Iterable[str], exclude: Iterable[str] = ()) -> str:
    """Make ``dest`` a venv holding ``requirements`` (and simlab, always) but not ``exclude``;
    return its python."""
    dest = Path(dest).resolve()
    subprocess.run([system_python(), "-m", "venv", "--without-pip", str(dest)], check=True,
                   timeout=120)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = dest / "lib" / version / "site-packages"
    for dist in closure(["simlab", *requirements], exclude):
        _copy_dist(dist, site, dest)
    copy_simlab(site)
    return str(dest / "bin" / "python")
