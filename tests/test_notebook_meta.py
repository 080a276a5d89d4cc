"""The tutorial notebooks: generated, bilingual, well-formed, and runnable on the kernel too.

- the committed notebooks are what ``notebooks/_build.py`` writes (no hand edits, no outputs);
- English and Japanese have the same code cells (only the ``LANG = ...`` line differs);
- every notebook opens with a markdown cell saying what, how long, and which backend;
- tasks come with an answer cell, a check and a collapsed solution; the trainer deck is all
  slides and uses no widgets (they do not render in RISE);
- ``simlab.notebook``: errors with hints, and :func:`expect_error`;
- marker ``kernel``: every notebook runs top to bottom with ``SIMLAB_BACKEND=kernel`` (nbclient,
  no error and no stderr output).  The model run is nbmake's (``make test``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simlab
import simlab.notebook as snb

REPO = Path(__file__).resolve().parents[1]
NB_DIR = REPO / "notebooks"
EN = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
STEMS = [p.stem for p in EN]
ALL = EN + sorted((NB_DIR / "ja").glob("*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


# ----------------------------------------------------------------------------- generated
def test_notebooks_are_built_from_build_py():
    r = subprocess.run([sys.executable, str(NB_DIR / "_build.py"), "--check"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_notebook_has_a_japanese_twin():
    assert {p.stem for p in (NB_DIR / "ja").glob("*.ipynb")} == set(STEMS)
    assert {"00_start_here", "01_namespaces_and_veth", "02_docker_network_modes",
            "03_kubernetes_and_cni", "04_write_your_own_cni_plugin",
            "99_trainer_deck"} <= set(STEMS)


def _build_module():
    sys.path.insert(0, str(NB_DIR))
    try:
        import _build
        import _comments_ja
    finally:
        sys.path.remove(str(NB_DIR))
    return _build, _comments_ja.COMMENTS_JA


@pytest.mark.parametrize("stem", STEMS)
def test_same_code_cells_in_both_languages(stem):
    """The same code in both languages; only the comments (and the LANG line) differ."""
    build, _ = _build_module()
    en, ja = load(NB_DIR / f"{stem}.ipynb"), load(NB_DIR / "ja" / f"{stem}.ipynb")
    assert [c["cell_type"] for c in en["cells"]] == [c["cell_type"] for c in ja["cells"]]
    for a, b in zip(en["cells"], ja["cells"]):
        if a["cell_type"] == "code":
            code_en = build.strip_comments(source(a).replace('LANG = "en"', 'LANG = "ja"'))
            assert code_en == build.strip_comments(source(b)), f"{stem} {a['id']}"
            assert len(build.comments_of(source(a))) == len(build.comments_of(source(b)))
            assert a["metadata"] == b["metadata"]
        else:
            assert source(a) != source(b), f"{stem}: a markdown cell is not translated"


def _is_code(comment: str) -> bool:
    """A commented-out line of code (``lab.ip("...")``) or a ``#!`` line, not a sentence."""
    if comment.startswith("!"):
        return True
    try:
        compile(comment, "<comment>", "exec")
    except SyntaxError:
        return False
    return True


_JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("stem", STEMS)
def test_no_english_comment_is_left_in_the_japanese_notebooks(stem):
    build, _ = _build_module()
    left = [(c["id"], text) for c in load(NB_DIR / "ja" / f"{stem}.ipynb")["cells"]
            if c["cell_type"] == "code" for text in build.comments_of(source(c))
            if re.search("[A-Za-z]{2}", text) and not _JA.search(text) and not _is_code(text)]
    assert not left, ("English comments in ja/" + stem + " (add them to "
                      "notebooks/_comments_ja.py):\n" + "\n".join(map(str, left)))


def test_every_comment_translation_is_used():
    build, table = _build_module()
    used = {text for p in EN for c in load(p)["cells"] if c["cell_type"] == "code"
            for text in build.comments_of(source(c))}
    assert not set(table) - used, f"unused entries in _comments_ja.py: {set(table) - used}"


def test_comments_are_found_outside_strings_only():
    build, _ = _build_module()
    text = ('x = "a # b"  # real\n'
            'echo "$#" ${#v} # sh comment\n'
            "p.write_text(f'#!{exe}')\n"
            '# whole line\n'
            'S = r"""\n'
            '    y = 1  # inside a plugin\'s code\n'
            '"""')
    assert build.comments_of(text) == ["real", "sh comment", "whole line",
                                       "inside a plugin's code"]
    table = {"real": "本物", "inside a plugin's code": "プラグインのコード"}
    out = build.localize_comments(text, table)
    assert out.splitlines()[0] == 'x = "a # b"  # 本物'
    assert build.strip_comments(out) == build.strip_comments(text)


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(NB_DIR)))
def test_notebook_shape(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown"
    text = source(first)
    ja = "/ja/" in str(path)
    assert text.startswith("# ")
    assert ("所要時間" if ja else "Time:") in text
    assert "model" in text and "kernel" in text and "SIMLAB_BACKEND" in text
    ids = [c["id"] for c in nb["cells"]]
    assert len(set(ids)) == len(ids)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    codes = [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    setups = [source(c) for c in nb["cells"] if "setup" in c["metadata"].get("tags", ())]
    assert len(setups) == 1, "one setup cell"
    setup = setups[0]
    assert 'simlab.Lab(backend=os.environ.get("SIMLAB_BACKEND", "auto"))' in setup
    assert "print(lab.why)" in setup and "simlab.notebook.install(lang=LANG)" in setup
    assert codes[-1].strip() == "lab.close()"


@pytest.mark.parametrize("stem", [s for s in STEMS if s[:2] in ("01", "02", "03", "04")])
def test_tasks_have_answer_check_and_solution(stem):
    cells = load(NB_DIR / f"{stem}.ipynb")["cells"]
    tags = [tuple(c["metadata"].get("tags", ())) for c in cells]
    tasks = [i for i, t in enumerate(tags) if "task" in t]
    predicts = [i for i, t in enumerate(tags) if "predict" in t]
    assert tasks and predicts, f"{stem} needs tasks and predict-then-reveal questions"
    for i in predicts:
        assert "<details>" in source(cells[i]) and "</details>" in source(cells[i])
    solutions = [i for i, t in enumerate(tags) if "solution" in t]
    assert solutions
    for i in solutions:
        assert cells[i]["metadata"]["jupyter"]["source_hidden"] is True
        assert "# Solution / 解答例" in source(cells[i]).split("\n")[:3]
        checked_here = "ex.check_" in source(cells[i])
        checked_next = i + 1 < len(cells) and "check" in tags[i + 1]
        assert checked_here or checked_next, f"{stem}: solution at cell {i} is never checked"
    for i in tasks:
        later = [j for j in solutions if j > i]
        assert later, f"{stem}: task at cell {i} has no solution after it"


def test_trainer_deck_is_slides_without_widgets():
    for path in (NB_DIR / "99_trainer_deck.ipynb", NB_DIR / "ja" / "99_trainer_deck.ipynb"):
        nb = load(path)
        for cell in nb["cells"]:
            assert "slideshow" in cell["metadata"], f"{path.name}: {source(cell)[:60]!r}"
        kinds = [c["metadata"]["slideshow"]["slide_type"] for c in nb["cells"]]
        assert kinds.count("slide") >= 10
        code = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "code")
        assert "Stepper(" not in code and "compare_modes(" not in code
        assert "ipywidgets" not in code


@pytest.mark.parametrize("path", EN, ids=lambda p: p.stem)
def test_section_steppers_name_earlier_containers(path):
    """A stepper over a plain slice of the steps knows a container made before the slice
    only by its namespace's hex id; `since=` names it, and `live=False` keeps the picture
    to the section (later cells' steps would reframe it)."""
    code = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "Stepper(lab.timeline.steps[" not in code
    for call in re.findall(r"Stepper\(lab, since=[^)]*\)", code):
        assert "live=False" in call, call


# ----------------------------------------------------------------------------- simlab.notebook
def test_format_error_net_error_and_hint():
    lab = simlab.Lab(backend="model")
    with pytest.raises(simlab.NetError) as info:
        lab.ip("link set veth9 up")
    text = snb.format_error(info.value)
    assert text.splitlines()[0] == 'Cannot find device "veth9"'
    assert text.splitlines()[1].startswith("hint: ")


def test_format_error_cni_and_name_error():
    from simlab.cni import CNIError

    text = snb.format_error(CNIError(7, "missing network name"))
    assert text.startswith("CNI error 7 (invalid network config): missing network name")
    assert "first code cell" in snb.format_error(NameError("name 'lab' is not defined"))
    assert snb.format_error(NameError("name 'foo' is not defined")) is None
    assert snb.format_error(ValueError("x")) is None


def test_expect_error_prints_and_swallows(capsys):
    lab = simlab.Lab(backend="model")
    with snb.expect_error() as caught:
        lab.ip("netns add red")
        lab.ip("netns add red")
    assert caught and isinstance(caught.error, simlab.NetError)
    out = capsys.readouterr().out
    assert "File exists" in out or "exists" in out
    with snb.expect_error() as caught:
        pass
    assert not caught and "no error" in capsys.readouterr().out
    with pytest.raises(ZeroDivisionError), snb.expect_error():
        1 / 0  # noqa: B018 - not a simlab error: it propagates


def test_install_outside_ipython_sets_language_only():
    from simlab.i18n import get_language, set_language

    old = get_language()
    try:
        assert snb.install(lang="ja") in (False, True)
        assert get_language() == "ja"
    finally:
        set_language(old)


def test_install_in_an_ipython_shell_shows_the_hint(capsys):
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert snb.install() is True
        result = shell.run_cell(
            "import simlab\nsimlab.Lab(backend='model').ip('link set veth9 up')")
        assert isinstance(result.error_in_exec, simlab.NetError)  # the cell still fails
        out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
        assert 'Cannot find device "veth9"\nhint: ' in out
        assert "Traceback" not in out
        result = shell.run_cell("lab")
        assert isinstance(result.error_in_exec, NameError)
        assert "Run the notebook's first code cell" in capsys.readouterr().out
        result = shell.run_cell("1/0")
        assert "ZeroDivisionError" in capsys.readouterr().out  # others keep IPython's traceback
    finally:
        snb.uninstall()
        InteractiveShell.clear_instance()


def test_backend_from_env(monkeypatch):
    monkeypatch.delenv("SIMLAB_BACKEND", raising=False)
    assert snb.backend_from_env() == "auto"
    monkeypatch.setenv("SIMLAB_BACKEND", "kernel")
    assert snb.backend_from_env() == "kernel"


# ----------------------------------------------------------------------------- kernel runs
def execute(path: Path, backend: str, timeout: int = 120) -> tuple[list[str], float]:
    """Run a notebook with nbclient under SIMLAB_BACKEND=backend; return its bad outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    old = os.environ.get("SIMLAB_BACKEND")
    os.environ["SIMLAB_BACKEND"] = backend  # the kernel inherits the environment
    try:
        start = time.monotonic()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.monotonic() - start
    finally:
        if old is None:
            os.environ.pop("SIMLAB_BACKEND", None)
        else:
            os.environ["SIMLAB_BACKEND"] = old
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            if out.output_type == "error":
                tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(out.traceback))
                bad.append(f"cell {i} ({cell.id}) error:\n{cell.source}\n{tb[-3000:]}")
            elif out.output_type == "stream" and out.name == "stderr":
                bad.append(f"cell {i} ({cell.id}) stderr:\n{cell.source}\n{out.text[-2000:]}")
    return bad, seconds


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(NB_DIR)))
def test_notebook_runs_on_the_kernel_backend(path):
    bad, seconds = execute(path, "kernel")
    assert not bad, "\n\n".join(bad)
    assert seconds < 120 * 4


@pytest.mark.parametrize("typed, expected", [
    ("ip link add veth1 type veth peer name veth2", "leave the leading ip out"),
    ("bridge link", "lab.bridge("),
    ("iptables -t nat -S", "lab.iptables("),
])
def test_format_error_for_a_tool_typed_twice(typed, expected):
    lab = simlab.Lab(backend="model")
    with pytest.raises(simlab.NetError) as info:
        lab.ip(typed)
    assert expected in snb.format_error(info.value)


_J = "[\u3040-\u30ff\u4e00-\u9fff]"
_HALF = re.compile(rf"{_J}\**[,:;!?]|[,:;!?] ?\**{_J}|{_J} ?\((?!\))|\) ?{_J}")
_CODE = re.compile(r"```.*?```|`[^`\n]*`|\]\([^)\n]*\)|<[^>\n]*>", re.S)


@pytest.mark.parametrize("stem", STEMS)
def test_japanese_text_has_full_width_punctuation(stem):
    """``課題：``, ``要求（R）と``: no half-width colon, comma or parenthesis next to Japanese."""
    bad = [(c["id"], m.group()) for c in load(NB_DIR / "ja" / f"{stem}.ipynb")["cells"]
           if c["cell_type"] == "markdown"
           for m in _HALF.finditer(_CODE.sub("`x`", source(c)))]
    assert not bad, bad
