"""The size guard (scripts/check_sizes.py) on a temporary tree, and on services/ as it is."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_sizes.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_sizes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


guard = _load()


def _module(lines: int) -> str:
    """A module of exactly ``lines`` lines (short statements, no long function)."""
    return "".join(f"x{i} = {i}\n" for i in range(lines))


def _function(name: str, lines: int) -> str:
    """A function of exactly ``lines`` lines (its def line included)."""
    body = "".join(f"    y{i} = {i}\n" for i in range(lines - 2))
    return f"def {name}() -> int:\n{body}    return 0\n"


def _indented(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "small.py").write_text(_module(10) + _function("short", 60))
    return tmp_path


def test_a_tree_within_the_limits_passes(tree: Path) -> None:
    assert guard.offenders(tree, {}, {}) == []


def test_a_module_over_400_lines_fails(tree: Path) -> None:
    (tree / "pkg" / "edge.py").write_text(_module(400))
    assert guard.offenders(tree, {}, {}) == []
    (tree / "pkg" / "big.py").write_text(_module(401))
    assert guard.offenders(tree, {}, {}) == ["pkg/big.py: 401 lines (limit 400)"]


def test_a_function_over_60_lines_fails_nested_and_methods_too(tree: Path) -> None:
    method = "class Box:\n" + _indented(_function("m", 61))
    nested = "def outer() -> None:\n" + _indented(_function("inner", 61))
    (tree / "pkg" / "long.py").write_text(
        "@staticmethod\n"
        + _function("f", 60)
        + method
        + "if True:\n"
        + _indented(_function("g", 61))
    )
    (tree / "pkg" / "nest.py").write_text(nested)
    assert guard.offenders(tree, {}, {}) == [
        "pkg/long.py:Box.m: 61 lines (limit 60)",
        "pkg/long.py:f: 61 lines (limit 60)",  # its decorator counts
        "pkg/long.py:g: 61 lines (limit 60)",
        "pkg/nest.py:outer: 62 lines (limit 60)",
        "pkg/nest.py:outer.inner: 61 lines (limit 60)",
    ]


def test_an_allowed_module_and_function_pass_up_to_their_ceiling(tree: Path) -> None:
    (tree / "pkg" / "big.py").write_text(_module(450) + _function("long", 70))
    modules = {"pkg/big.py": (520, "a reason")}
    functions = {"pkg/big.py:long": (70, "a reason")}
    assert guard.offenders(tree, modules, functions) == []
    (tree / "pkg" / "big.py").write_text(_module(451) + _function("long", 71))
    assert guard.offenders(tree, modules, functions) == [
        "pkg/big.py: 522 lines (allowed up to 520: a reason)",
        "pkg/big.py:long: 71 lines (allowed up to 70: a reason)",
    ]


def test_stale_entries_fail(tree: Path) -> None:
    (tree / "pkg" / "big.py").write_text(_module(420))
    modules = {
        "pkg/gone.py": (500, "a reason"),
        "pkg/small.py": (500, "a reason"),
        "pkg/big.py": (430, "a reason"),
    }
    functions = {"pkg/small.py:short": (70, "a reason"), "pkg/small.py:gone": (70, "a reason")}
    assert guard.offenders(tree, modules, functions) == [
        "pkg/big.py: shrank to 420 lines; lower its ceiling from 430",
        "pkg/gone.py: allowed but no such module any more; remove the entry",
        "pkg/small.py: 70 lines, back within the limit (400); remove the entry",
        "pkg/small.py:gone: allowed but no such function any more; remove the entry",
        "pkg/small.py:short: 60 lines, back within the limit (60); remove the entry",
    ]


def test_an_entry_needs_a_reason_and_a_ceiling_over_the_limit(tree: Path) -> None:
    (tree / "pkg" / "big.py").write_text(_module(420))
    for entry in ((420, " "), (400, "a reason")):
        assert guard.offenders(tree, {"pkg/big.py": entry}, {}) == [
            "pkg/big.py: allow-list entry needs a reason and a ceiling above 400; remove it"
        ]


def test_the_allow_list_is_commented() -> None:
    for key, (ceiling, why) in {**guard.ALLOWED_MODULES, **guard.ALLOWED_FUNCTIONS}.items():
        assert len(why.split()) >= 3, key
        assert ceiling > 0, key


def test_services_pass_the_guard_as_a_script() -> None:
    """What ``make lint`` runs: exit 0 on the tree as it is, a message on stdout."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "within its limit" in done.stdout


def test_the_script_fails_on_a_problem(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "pkg" / "big.py").write_text(_module(401))
    assert guard.main(tree) == 1
    out, err = capsys.readouterr()
    assert "pkg/big.py: 401 lines (limit 400)" in out.splitlines()
    assert "size guard:" in err
