"""ARCHITECTURE.md's promise table names tests that exist: a renamed or deleted test breaks it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE_ROW = re.compile(r"^\| [1-6] \|.*\|$", re.MULTILINE)
TEST_REF = re.compile(r"`(tests/[\w/.]+?)(?:::(\w+))?`")


def _rows() -> list[str]:
    return TABLE_ROW.findall((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_every_promise_names_tests_that_exist() -> None:
    rows = _rows()
    assert len(rows) == 6
    for row in rows:
        tested_by = row.rsplit(" | ", 1)[1]
        refs = TEST_REF.findall(tested_by)
        assert refs, row[:40]
        for path_text, function in refs:
            path = ROOT / path_text
            assert path.exists(), path_text
            if function:
                assert function in _test_names(path), f"{path_text}::{function}"
