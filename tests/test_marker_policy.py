"""The skip policy of tests/conftest.py, checked in a child pytest run.

The child gets a copy of our conftest whose kernel_available()/ui_available() are replaced by
answers taken from environment variables, so both answers can be checked on any machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

FAKE_AVAILABILITY = """

def kernel_available():
    return os.environ.get("FAKE_KERNEL") == "1", "faked kernel answer"


def ui_available():
    return os.environ.get("FAKE_UI") == "1", "faked ui answer"
"""

CHILD_TESTS = """
import pytest

def test_plain():
    pass

def test_plain_skip():
    pytest.skip("plain skip")

@pytest.mark.kernel
def test_kernel():
    pass

@pytest.mark.kernel
def test_kernel_skips_itself():
    pytest.skip("no veth today")

@pytest.mark.kernel
@pytest.mark.xfail(reason="known kernel difference", strict=True)
def test_kernel_xfail():
    assert False

@pytest.mark.ui
def test_ui():
    pass
"""

CHILD_INI = """
[pytest]
markers =
    kernel: k
    ui: u
"""


def run_child(tmp_path: Path, **env: str) -> dict[str, str]:
    """Run the child suite; return {test name: passed|failed|skipped|xfailed}."""
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text() + FAKE_AVAILABILITY)
    (tmp_path / "test_child.py").write_text(CHILD_TESTS)
    (tmp_path / "pytest.ini").write_text(CHILD_INI)
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SIMLAB_REQUIRE_KERNEL", "SIMLAB_REQUIRE_UI", "PYTEST_ADDOPTS")
        and not k.startswith("PYTEST_XDIST")
    }
    child_env.update(env, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # fast start-up: ~0.3 s, not ~3 s
    xml = tmp_path / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            f"--junitxml={xml}",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    outcomes = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        if not kinds:
            outcome = "passed"
        elif kinds[0] == "skipped":
            outcome = "xfailed" if case.find("skipped").get("type") == "pytest.xfail" else "skipped"
        else:
            outcome = "failed"
        outcomes[case.get("name")] = outcome
    return outcomes


@pytest.mark.parametrize("kernel", ["0", "1"])
def test_kernel_skips_unless_required(tmp_path, kernel):
    got = run_child(tmp_path, FAKE_KERNEL=kernel, FAKE_UI="0")
    assert got["test_plain"] == "passed"
    assert got["test_plain_skip"] == "skipped"
    assert got["test_kernel"] == ("passed" if kernel == "1" else "skipped")
    assert got["test_kernel_skips_itself"] == "skipped"
    assert got["test_kernel_xfail"] == ("xfailed" if kernel == "1" else "skipped")
    assert got["test_ui"] == "skipped"


@pytest.mark.parametrize("kernel", ["0", "1"])
def test_required_kernel_turns_skips_into_failures(tmp_path, kernel):
    got = run_child(tmp_path, FAKE_KERNEL=kernel, FAKE_UI="1", SIMLAB_REQUIRE_KERNEL="1")
    assert got["test_plain"] == "passed"
    assert got["test_plain_skip"] == "skipped"  # not a kernel test: still a plain skip
    assert got["test_kernel"] == ("passed" if kernel == "1" else "failed")
    assert got["test_kernel_skips_itself"] == "failed"
    assert got["test_kernel_xfail"] == ("xfailed" if kernel == "1" else "failed")
    assert got["test_ui"] == "passed"


def test_required_ui_turns_skips_into_failures(tmp_path):
    got = run_child(tmp_path, FAKE_KERNEL="1", FAKE_UI="0", SIMLAB_REQUIRE_UI="1")
    assert got["test_ui"] == "failed"
    assert got["test_kernel"] == "passed"


def test_kernel_available_answers(request):
    ours = [
        p
        for p in request.config.pluginmanager.get_plugins()
        if getattr(p, "__file__", None) == str(CONFTEST)
    ]
    assert len(ours) == 1
    for ok, reason in (ours[0].kernel_available(), ours[0].ui_available()):
        assert isinstance(ok, bool) and isinstance(reason, str) and reason
