"""ARCHITECTURE.md stays true: its promise table names tests that exist (a renamed or deleted test
breaks it), and its layout table and the import-linter layers name every package and top-level
module under services/ (a new one without its place breaks it)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

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


# --------------------------------------------------------------------------------------------
# The layout table and the import-linter layers cover every package and top-level module
# --------------------------------------------------------------------------------------------

LAYOUT_PATH = re.compile(r"^\| `(services/[\w/.]+?)`", re.MULTILINE)


def _parts(services: Path) -> set[str]:
    """The packages and modules directly under each package of services/, as paths relative to the
    repository (``services/relais/demo/``, ``services/relais/metrics.py``); a package with none is
    a part itself."""
    found: set[str] = set()
    for root in sorted(p for p in services.iterdir() if (p / "__init__.py").exists()):
        children = {
            f"services/{root.name}/{child.name}" + ("/" if child.is_dir() else "")
            for child in root.iterdir()
            if (child.is_dir() and (child / "__init__.py").exists())
            or (child.suffix == ".py" and child.name not in {"__init__.py", "__main__.py"})
        }
        found |= children or {f"services/{root.name}/"}
    return found


def _dotted(path: str) -> str:
    return path.removeprefix("services/").removesuffix("/").removesuffix(".py").replace("/", ".")


def _layout_rows(text: str) -> set[str]:
    return set(LAYOUT_PATH.findall(text))


def _layered_modules(pyproject: dict[str, Any]) -> set[str]:
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return {
        name.strip().strip("()")
        for layer in layers
        for sibling in layer.split("|")
        for name in sibling.split(":")
    }


def _uncovered(parts: set[str], named: set[str], sep: str) -> list[str]:
    """The parts that neither are named nor sit in a named package (``sep``: "/" or ".")."""
    return sorted(
        p for p in parts if not any(p == n or p.startswith(n.rstrip(sep) + sep) for n in named)
    )


def test_the_layout_table_names_every_package_and_top_level_module() -> None:
    rows = _layout_rows((ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    missing = _uncovered(_parts(ROOT / "services"), rows, "/")
    assert not missing, f"ARCHITECTURE.md's layout table has no row for {missing}"
    stale = sorted(r for r in rows if not (ROOT / r).exists())
    assert not stale, f"ARCHITECTURE.md's layout table names what does not exist: {stale}"


def test_the_import_layers_place_every_package_and_top_level_module() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        layered = _layered_modules(tomllib.load(f))
    missing = _uncovered({_dotted(p) for p in _parts(ROOT / "services")}, layered, ".")
    assert not missing, f"no import-linter layer for {missing}"
    path = ROOT / "services"
    stale = sorted(
        n
        for n in layered
        if not (path / n.replace(".", "/")).is_dir()
        and not (path / (n.replace(".", "/") + ".py")).is_file()
    )
    assert not stale, f"import-linter layers name what does not exist: {stale}"


def test_the_coverage_checks_see_a_missing_package(tmp_path: Path) -> None:
    services = tmp_path / "services"
    for package in ("relais/domain", "relais/newthing", "sim/admin", "empty"):
        (services / package).mkdir(parents=True)
        (services / package / "__init__.py").write_text("")
    for module in ("relais/__init__.py", "relais/config.py", "sim/__init__.py", "sim/app.py"):
        (services / module).write_text("")
    (services / "relais" / "notes.txt").write_text("")
    parts = _parts(services)
    assert parts == {
        "services/relais/domain/",
        "services/relais/newthing/",
        "services/relais/config.py",
        "services/sim/admin/",
        "services/sim/app.py",
        "services/empty/",
    }
    rows = _layout_rows(
        "| `services/relais/domain/` | x | |\n| `services/relais/config.py` | x | |\n"
        "| `services/sim/` | x | |\n| `services/relais/domain/rules/` | x | |\n"
    )
    assert _uncovered(parts, rows, "/") == ["services/empty/", "services/relais/newthing/"]
    layered = {"relais.domain", "relais.config", "sim", "empty"}
    assert _uncovered({_dotted(p) for p in parts}, layered, ".") == ["relais.newthing"]
