"""The files for running simlab elsewhere agree with the code: Zero to JupyterHub's values and
image (deploy/z2jh; no cluster or docker here, so they are read, not run) and Binder's
(binder/: what repo2docker installs covers what the notebooks import)."""

from __future__ import annotations

import ast
import json
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own dependency
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
Z2JH = REPO / "deploy" / "z2jh"
BINDER = REPO / "binder"
ENTRY = ["python", "-m", "simlab.classroom.learner"]


def _values(name: str) -> dict:
    data = yaml.safe_load((Z2JH / name).read_text())
    assert isinstance(data, dict), name
    return data


def _dockerfile() -> tuple[list[str], dict[str, str], list[str]]:
    """(CMD, ENV, COPY sources) of the learners' image."""
    text = re.sub(r"\\\n\s*", " ", (Z2JH / "Dockerfile").read_text())
    cmd, env, sources = [], {}, []
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word == "CMD":
            cmd = json.loads(rest)
        elif word == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
        elif word == "COPY":
            sources += rest.split()[:-1]
    return cmd, env, sources


def test_z2jh_values_parse_and_run_the_local_hubs_entry_command():
    values = _values("values.yaml")
    rootless = _values("values-rootless.yaml")
    single = values["singleuser"]
    assert single["cmd"] == ENTRY
    assert single["extraEnv"]["SIMLAB_BACKEND"] == "model"
    assert rootless["singleuser"]["extraEnv"]["SIMLAB_BACKEND"] == "auto"
    assert rootless["singleuser"]["extraPodConfig"]["hostUsers"] is False
    ctx = rootless["hub"]["config"]["KubeSpawner"]["container_security_context"]
    assert ctx["allowPrivilegeEscalation"] is False and ctx["capabilities"] == {"drop": ["ALL"]}

    # The local hub's spawner runs the same module, and opens the same notebook.
    from simlab.classroom import hubconfig

    src = Path(hubconfig.__file__).read_text()
    assert '"-m", "simlab.classroom.learner"]' in src
    assert f'c.Spawner.default_url = "{single["defaultUrl"]}"' in src

    cmd, env, sources = _dockerfile()
    assert cmd == ENTRY
    assert env["SIMLAB_BACKEND"] == "model"
    assert env["SIMLAB_MATERIAL"] == single["extraEnv"]["SIMLAB_MATERIAL"]
    for src_path in sources:  # the build context is the repository's root
        assert (REPO / src_path).exists(), f"the Dockerfile copies {src_path}, which is missing"


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def _notebook_imports() -> set[str]:
    """Top-level modules imported by the code cells of every notebook (English and Japanese)."""
    found = set()
    for nb in (REPO / "notebooks").rglob("*.ipynb"):
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            if source.lstrip().startswith("%%"):  # a cell magic: not Python (%%bash, %%writefile)
                continue
            code = "\n".join(line for line in source.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.add(node.module.split(".")[0])
    return found


def test_binder_installs_what_the_notebooks_import():
    reqs = _requirements(BINDER / "requirements.txt")
    names = {canonicalize_name(r.name) for r in reqs}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # postBuild installs simlab with --no-deps: its requirements must all be here.
    needed = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"]]
    assert {canonicalize_name(r.name) for r in needed} <= names

    from simlab.classroom.venv import closure

    installed = {canonicalize_name(d.metadata["Name"]) for d in closure([str(r) for r in reqs])}
    owners = packages_distributions()
    imports = _notebook_imports()
    assert "simlab" in imports
    missing = []
    for module in sorted(imports - set(sys.stdlib_module_names) - {"simlab"}):
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        if not dists & installed:
            missing.append(f"{module} ({', '.join(sorted(dists)) or 'not installed here'})")
    assert not missing, f"notebooks import what binder/requirements.txt does not install: {missing}"

    post = (BINDER / "postBuild").read_text()
    assert "pip install" in post and "--no-deps ." in post
    assert "SIMLAB_BACKEND=model" in (BINDER / "start").read_text()
    for script in ("postBuild", "start"):
        assert (BINDER / script).stat().st_mode & 0o111, f"binder/{script} is not executable"


@pytest.mark.parametrize("name", ["requirements.txt", "runtime.txt", "postBuild", "start"])
def test_binder_files_exist(name):
    assert (BINDER / name).is_file()
