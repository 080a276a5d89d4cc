"""Import rules: ``import simlab`` stays light, and the layers of design.md hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "simlab"

BLOCK_HEAVY = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"matplotlib", "ipywidgets", "pyroute2", "networkx", "rich"}:
            raise ImportError(f"blocked for this test: {name}")
sys.meta_path.insert(0, Block())
import simlab
lab = simlab.Lab(backend="model")
lab.ip("netns add red")
lab.ip("link add veth1 type veth peer name veth2 netns red")
print(lab.ip("-n red -br a"), end="")
"""


def test_import_simlab_without_heavy_dependencies():
    out = subprocess.run([sys.executable, "-c", BLOCK_HEAVY], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "veth2@if" in out.stdout


def _imports(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    else:
        parts = parts[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    names.update(f"{mod}.{a.name}" for a in node.names)
                else:
                    names.add(mod)
            elif node.module:
                names.add(node.module)
    return names


def _files(sub: str) -> list[Path]:
    target = PKG / sub
    return [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))


@pytest.mark.parametrize("path", _files("model"), ids=lambda p: p.name)
def test_model_uses_the_standard_library_only(path):
    for name in _imports(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("simlab.model"), (
            f"{path.name} imports {name}: the model must stay standard-library only")


BACKEND_SIDE = ("simlab.backends", "simlab.kernel", "simlab.lab", "simlab.runtime")


@pytest.mark.parametrize("path", _files("views") + _files("widgets.py"),
                         ids=lambda p: str(p.relative_to(PKG)))
def test_views_and_widgets_never_touch_a_backend(path):
    for name in _imports(path):
        assert not any(name == m or name.startswith(m + ".") for m in BACKEND_SIDE), (
            f"{path.name} imports {name}: views and widgets take snapshots and timelines, "
            "never a backend, a lab or a runtime")


# ------------------------------------------------- the rest of the layers (issue 13)
#: package -> the simlab modules it must never import (lazily inside a function or not).
LAYERS = {
    "cni": ("simlab.runtime", "simlab.lab"),
    "runtime": ("simlab.kernel",),
    "iproute": ("simlab.lab", "simlab.backends", "simlab.kernel", "simlab.runtime", "simlab.cni"),
    # The kernel backend implements backends.base; the chooser picks it, never the reverse.
    "kernel": ("simlab.backends.choose", "simlab.backends.model", "simlab.lab", "simlab.runtime",
               "simlab.cni", "simlab.views", "simlab.widgets"),
    "backends": ("simlab.lab", "simlab.runtime", "simlab.cni", "simlab.views", "simlab.widgets"),
}


@pytest.mark.parametrize(
    "sub,path",
    [(sub, path) for sub in LAYERS for path in _files(sub)],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_layers_of_the_package(sub, path):
    for name in _imports(path):
        assert not name.startswith(LAYERS[sub]), (
            f"{sub}/{path.name} imports {name}: see ARCHITECTURE.md, 'Layers'")


def test_the_kernel_backend_has_one_home():
    """simlab.kernel is the kernel backend; simlab.backends holds the contract and the chooser."""
    assert not (PKG / "backends" / "kernel.py").exists()
    assert not (PKG / "backends" / "kernel").exists()


def test_no_class_of_the_kernel_backend_is_a_mixin():
    for path in _files("kernel"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                assert "Mixin" not in node.name, f"{path.name}: class {node.name}"
                bases = [ast.unparse(b) for b in node.bases]
                assert all("Mixin" not in b for b in bases), f"{path.name}: {node.name}{bases}"


def test_nothing_outside_the_backends_asks_a_backend_its_name():
    """Capabilities, not names: `lab.capabilities`, `lab.netns_path(key)` (issue 13)."""
    words = ('backend == "model"', 'backend != "model"', 'backend == "kernel"',
             'backend != "kernel"', "hasattr(self._backend", "last_ping", "raw_backend")
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).as_posix()
        if rel.startswith(("backends/", "kernel/")) or rel == "lab.py":
            continue
        text = path.read_text()
        for word in words:
            assert word not in text, f"{rel} uses {word!r}: ask lab.capabilities or the Lab"
# file -> function-level imports allowed without a reason (none: every lazy import says why).
_LAZY_TO_SWEEP: dict[str, set[str]] = {}


def _own_imports_in_functions(path: Path) -> list[tuple[int, str]]:
    """(line, statement) of each import of a simlab module inside a function of ``path``
    that does not say why on its line (``# lazy: <why>``)."""
    source = path.read_text()
    lines = source.splitlines()
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, (ast.Import, ast.ImportFrom)):
                if isinstance(child, ast.ImportFrom):
                    own = child.level > 0 or (child.module or "").split(".")[0] == "simlab"
                else:
                    own = any(a.name.split(".")[0] == "simlab" for a in child.names)
                text = lines[child.lineno - 1 : child.end_lineno]
                if own and not any("# lazy:" in line for line in text):
                    found.append((child.lineno, " ".join(line.strip() for line in text)))
            visit(child, in_function or isinstance(child, (ast.FunctionDef,
                                                            ast.AsyncFunctionDef)))

    visit(ast.parse(source), False)
    return found


def test_function_level_imports_of_simlab_say_why():
    """Lazy imports are for heavy libraries (pyroute2, matplotlib, ipywidgets...) and real
    cycles; an import of a light simlab module belongs at the top, where the graph shows."""
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        rel = str(path.relative_to(PKG))
        allowed = _LAZY_TO_SWEEP.get(rel, set())
        offenders += [f"simlab/{rel}:{line}: {text}"
                      for line, text in _own_imports_in_functions(path) if text not in allowed]
    assert not offenders, ("move these imports to the top of their module, or say why they "
                           "stay lazy with '# lazy: <why>' on the line:\n" + "\n".join(offenders))
