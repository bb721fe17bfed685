"""The suite's "no silent skip" plugin (tests/fixtures/no_skip.py), run on a throwaway test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOKS = 'pytest_plugins = ["tests.fixtures.no_skip"]\n'
SUITE = """
import pytest

def test_passes():
    assert True is not False

def test_needs_a_tool():
    pytest.skip("the tool is missing")

@pytest.mark.xfail(strict=True, reason="an open finding")
def test_open_finding():
    assert 1 == 2
"""


def run(tmp_path: Path, suite: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(HOOKS)
    (tmp_path / "test_sample.py").write_text(suite)
    environ = {k: v for k, v in os.environ.items() if k != "RELAIS_TEST_ALLOW_SKIP"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
        cwd=tmp_path,
        env={**environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_skip_fails_the_run_and_is_named(tmp_path: Path) -> None:
    done = run(tmp_path, SUITE)
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout
    assert "skipped tests fail the run" in done.stdout
    assert "test_sample.py::test_needs_a_tool: Skipped: the tool is missing" in done.stdout
    assert (
        "test_open_finding"
        not in done.stdout.split("skipped tests fail the run")[1].split("short test summary")[0]
    ), "an xfail is not a skip"


def test_a_skip_at_collection_fails_the_run(tmp_path: Path) -> None:
    done = run(tmp_path, 'import pytest\npytest.importorskip("no_such_module_for_relais")\n')
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout
    assert "no_such_module_for_relais" in done.stdout


def test_the_variable_allows_skips(tmp_path: Path) -> None:
    done = run(tmp_path, SUITE, RELAIS_TEST_ALLOW_SKIP="1")
    assert done.returncode == pytest.ExitCode.OK, done.stdout
    assert "1 skipped, allowed by RELAIS_TEST_ALLOW_SKIP=1" in done.stdout


def test_a_run_without_skips_passes(tmp_path: Path) -> None:
    done = run(tmp_path, SUITE.replace('pytest.skip("the tool is missing")', "pass"))
    assert done.returncode == pytest.ExitCode.OK, done.stdout
    assert "skipped tests fail the run" not in done.stdout
