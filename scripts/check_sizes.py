"""Size guard: no module of services/ over 400 lines, no function over 60 lines.

    python scripts/check_sizes.py          # exit 1 and one line per problem (run by `make lint`)

A module that holds one concept stays readable at a few hundred lines, a function at one screen
(../shared/STYLE.md, habit 5). The few that justify more are listed below, each with its reason and
its current size as the ceiling: an allowed module or function may not grow past its ceiling, and
the guard fails when the allow-list no longer tells the truth:

- an entry whose code is gone, or is back within the limit: remove the entry;
- an entry whose code shrank but is still over the limit: lower the ceiling to the new size
  (a ratchet: what one change wins, the next cannot silently spend);
- an entry without a reason, or with a ceiling within the limit: not an exception, remove it.

Lines are physical lines (docstrings and comments count); a function spans from its first decorator
to its last line, and a function nested in another is measured on its own as well. Only services/
is checked (bench/, tests/ and scripts/ are not).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "services"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

Allowances = Mapping[str, tuple[int, str]]

# Shared reasons. Every entry's ceiling is its current size: the guard says when one is gone,
# back within the limit or shrunk, so the list only ever gets shorter.
_RULES = (
    "one section of the standard's control rules, written in the order of convergence-api.md "
    "3.x so it reads side by side with it; each branch is one finding"
)
_DECLARATIONS = "a flat list of declarations (one statement each), no logic to split"
_FOLLOW_UP = (
    "the OPCO client, rewritten next by issue 17 (auth scheme per OPCO, multipart transport, error "
    "shapes): split then, pools/breakers apart from the call routes; no entry may be added here"
)

_MET = (
    "two branches of issues 16 and 19 each kept it within the limit; together they pass it by a "
    "few lines: to split by concept once issue 17's client lands in it"
)

# path (relative to services/) -> (ceiling, why)
ALLOWED_MODULES: dict[str, tuple[int, str]] = {
    "relais/adapters/ledger/postgres.py": (404, _MET + " (pauses + republish)"),
    "relais/domain/status.py": (418, _MET + " (waiting + the status contract + documents)"),
    "relais/services/dispatch/handler.py": (
        404,
        _MET + " (tracing + the status contract; the files and documents moved out, issue 18)",
    ),
    "relais/services/poll.py": (413, _MET + " (pause skip + facture keys and motifs)"),
    # Issue 13, other branches.
    # Catalogues: the standard or a document as code, one entry after another.
    # +12: header_attributes/build_envelope public for the CloudEvents binding (issue 16)
    # +13: the document event (issue 18), its model in domain/document_event.py
    "relais/domain/events.py": (
        738,
        "the event contract: one data model per event type of the standard, with its envelope",
    ),
    "relais/domain/rules/format.py": (580, _RULES + " (3.1: identifiers, codes, lengths)"),
    # This round: the tracing group (issue 19), kafka.status_content_mode and
    # kafka.schema_registry_url (issue 16), the OPCO overrides of base path, auth, identifiers
    # (17; their model moved to domain/profile_overrides.py since)
    # +2: the files group (issue 18), its model in config_files.py
    "relais/config.py": (
        474,
        "the one Settings (STYLE habit 12: the only reader of the environment), every group in "
        "one place",
    ),
    # Too long, no split yet.
    # +11: the exact wire bytes and the profile's quirks (issue 15)
    "relais/adapters/opco/gateway.py": (539, _FOLLOW_UP),
}

# "path:qualified.name" -> (ceiling, why)
ALLOWED_FUNCTIONS: dict[str, tuple[int, str]] = {
    "relais/contracts.py:_events_readme": (63, _MET + " (the binding notes + the reasons table)"),
    # Issue 13, other branches.
    # The standard's control rules.
    "relais/domain/rules/age.py:check_age": (73, _RULES + " (age at the contract's start)"),
    "relais/domain/rules/contract.py:check_contract": (65, _RULES + " (the contract)"),
    "relais/domain/rules/dates.py:check_training_dates": (114, _RULES + " (training dates)"),
    "relais/domain/rules/followups.py:check_convention": (70, _RULES + " (convention)"),
    "relais/domain/rules/followups.py:check_facture": (99, _RULES + " (facture)"),
    "relais/domain/rules/format.py:nir": (64, _RULES + " (the NIR: format, key, consistency)"),
    "relais/domain/rules/wages.py:check_wages": (71, _RULES + " (3.5: the minimum wage schedule)"),
    # Declarations.
    # +6: relais_opco_paused (issue 19, pause an OPCO)
    "relais/metrics.py:Metrics.__init__": (109, _DECLARATIONS + ": every metric, named on purpose"),
    "relais/entrypoints/commands/simulator.py:command": (
        93,
        _DECLARATIONS + ": the simulator's Click options, one decorator each",
    ),
    "relais/demo/processes.py:relais_env": (62, _DECLARATIONS + ": RELAIS_* variables"),
    "relais/adapters/kafka/asyncapi.py:asyncapi_document": (
        111,
        "builds one literal AsyncAPI document (channels, messages, operations) top-down",
    ),
    # Too long, no split yet.
    "relais/adapters/opco/gateway.py:HttpOpcoGateway._exchange": (62, _FOLLOW_UP),
}


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, int]]:
    """(qualified name, lines) of every function and method, nested ones included."""
    found: list[tuple[str, int]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            assert node.end_lineno is not None
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found.append((name, node.end_lineno - start + 1))
            found.extend(_functions(node, f"{name}."))
        elif isinstance(node, ast.ClassDef):
            found.extend(_functions(node, f"{prefix}{node.name}."))
        else:
            found.extend(_functions(node, prefix))  # e.g. a def under `if TYPE_CHECKING:`
    return found


def _measure(sources: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Every module's and function's length under ``sources``, keyed as in the allow-lists."""
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for path in sorted(sources.rglob("*.py")):
        rel = path.relative_to(sources).as_posix()
        text = path.read_text(encoding="utf-8")
        modules[rel] = len(text.splitlines())
        for name, length in _functions(ast.parse(text, filename=rel)):
            # Two defs of one name (e.g. under if/else) are one entry: the longer counts.
            key = f"{rel}:{name}"
            functions[key] = max(length, functions.get(key, 0))
    return modules, functions


def _entry_problem(kind: str, limit: int, ceiling: int, why: str, size: int | None) -> str | None:
    """What is wrong with one allow-list entry, given the current size of its code (if any)."""
    if not why.strip() or ceiling <= limit:
        return f"allow-list entry needs a reason and a ceiling above {limit}; remove it"
    if size is None:
        return f"allowed but no such {kind} any more; remove the entry"
    if size <= limit:
        return f"{size} lines, back within the limit ({limit}); remove the entry"
    if size > ceiling:
        return f"{size} lines (allowed up to {ceiling}: {why})"
    if size < ceiling:
        return f"shrank to {size} lines; lower its ceiling from {ceiling}"
    return None


def _check(kind: str, sizes: Mapping[str, int], limit: int, allowed: Allowances) -> list[str]:
    problems = [
        f"{key}: {size} lines (limit {limit})"
        for key, size in sorted(sizes.items())
        if size > limit and key not in allowed
    ]
    for key, (ceiling, why) in sorted(allowed.items()):
        problem = _entry_problem(kind, limit, ceiling, why, sizes.get(key))
        if problem is not None:
            problems.append(f"{key}: {problem}")
    return problems


def offenders(
    sources: Path = SOURCES,
    allowed_modules: Allowances = ALLOWED_MODULES,
    allowed_functions: Allowances = ALLOWED_FUNCTIONS,
) -> list[str]:
    """One line per problem: over a limit and not allowed, over a ceiling, or a stale entry."""
    if not sources.is_dir():
        return [f"{sources}: no such folder"]
    modules, functions = _measure(sources)
    return _check("module", modules, MAX_MODULE_LINES, allowed_modules) + _check(
        "function", functions, MAX_FUNCTION_LINES, allowed_functions
    )


def main(sources: Path = SOURCES) -> int:
    problems = offenders(sources)
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"size guard: {len(problems)} problem(s); split the module or function, or justify "
            "an entry in scripts/check_sizes.py",
            file=sys.stderr,
        )
        return 1
    allowed = len(ALLOWED_MODULES) + len(ALLOWED_FUNCTIONS)
    print(f"size guard: every module and function within its limit ({allowed} allowed above it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
