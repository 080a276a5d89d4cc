"""A learner's server: their own copy of the notebooks, then JupyterHub's single-user server.

``python -m simlab.classroom.learner [jupyterhub-singleuser flags]`` is the entry command of
every learner's server, on one machine (the hub's ``Spawner.cmd``) and in the container image
of ``deploy/z2jh`` (``singleuser.cmd``).  It runs as the learner: the copy is theirs, made
once (a learner's edits survive a restart), and never done by root inside a home the learner
controls.  Standard library only until the exec, so it starts fast.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

__all__ = ["MATERIAL_ENV", "copy_material", "main"]

#: Where the notebooks to copy are (the hub sets it; the image sets it to /srv/simlab/notebooks).
MATERIAL_ENV = "SIMLAB_MATERIAL"
#: The folder in the learner's home (the hub's default_url opens ``simlab/00_start_here.ipynb``).
FOLDER = "simlab"
#: The repository's notebooks/ minus what only authors use.
_NOT_MATERIAL = shutil.ignore_patterns("_src", "_build.py", "conftest.py", "__pycache__",
                                       ".ipynb_checkpoints")


def copy_material(src: Path, dest: Path) -> bool:
    """Copy the notebooks ``src`` to ``dest`` unless ``dest`` exists (even as a link); True if
    copied.  Copied to a sibling first, then renamed: a half copy is never taken for a whole one."""
    if os.path.lexists(dest):
        return False
    part = dest.with_name(f".{dest.name}.part")
    shutil.rmtree(part, ignore_errors=True)
    shutil.copytree(src, part, ignore=_NOT_MATERIAL)
    os.replace(part, dest)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    material = os.environ.get(MATERIAL_ENV)
    if material:
        copy_material(Path(material), Path.home() / FOLDER)
    if argv[:1] == ["--copy-only"]:
        return 0
    os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser", *argv])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
