"""The status contract (issue 16): an example of every status kind, valid against the published
schema; ``reason`` one enumerated set that the code keeps to; every message to a CFA in French."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field, ValidationError

import relais
from relais.domain.events import errors_from_validation
from relais.domain.referentials import default_schemas_dir
from relais.domain.status_kinds import StatusName
from relais.domain.status_reasons import REASON_STATUSES, StatusReason
from relais.errors import AuthError, NotFoundError, NotSupportedError, PermanentOpcoError
from relais.services.dispatch.outcomes import permanent_reason
from relais.services.ingest.hygiene import VALUE_PROBLEMS
from relais.services.retry import GiveUpReason

SERVICES = Path(relais.__file__).parent
STATUS_EXAMPLES = default_schemas_dir() / "examples" / "status"


@cache
def status_schema() -> Draft202012Validator:
    doc = json.loads((default_schemas_dir() / "events" / "status.v1.json").read_text("utf-8"))
    return Draft202012Validator(doc)


def examples() -> list[dict[str, Any]]:
    files = sorted(STATUS_EXAMPLES.glob("*.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def test_every_status_kind_has_a_valid_example() -> None:
    seen = set()
    for record in examples():
        value = record["value"]
        assert list(status_schema().iter_errors(value)) == [], record
        assert record["headers"]["ce_type"] == StatusName(value["status"]).event_type
        assert record["key"] == record["headers"]["ce_subject"] == value["dossierId"]
        seen.add(value["status"])
    assert seen == {name.value for name in StatusName}


def test_the_schema_enumerates_and_describes_every_reason() -> None:
    reason = status_schema().schema["$defs"]["StatusReason"]
    assert reason["enum"] == [r.value for r in StatusReason]
    assert set(reason["x-enum-descriptions"]) == set(reason["enum"])
    readme = (default_schemas_dir() / "events" / "README.md").read_text(encoding="utf-8")
    for r in StatusReason:
        assert f"| `{r.value}` | {REASON_STATUSES[r]} | {r.description} |" in readme


def test_reasons_have_one_style_and_a_status() -> None:
    for r in StatusReason:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", r.value), r
        assert REASON_STATUSES[r] in {"retrying", "waiting", "submitted", "failed", "dead_lettered"}


# -- every reason the code emits is in the enum ----------------------------------------------


def _calls(path: Path) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            yield node


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def dead_letter_reasons() -> set[str]:
    """Every literal reason ingest dead-letters with, and the ones it computes."""
    found = set(VALUE_PROBLEMS)
    for path in (SERVICES / "services" / "ingest").glob("*.py"):
        for call in _calls(path):
            if _name(call) == "dead_lettered" and len(call.args) >= 3:
                reason = call.args[2]
                if isinstance(reason, ast.Constant) and isinstance(reason.value, str):
                    found.add(reason.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "_undecodable_envelope":
                found |= {
                    n.value.value
                    for n in ast.walk(node)
                    if isinstance(n, ast.Return)
                    and isinstance(n.value, ast.Constant)
                    and isinstance(n.value.value, str)
                }
    return found


def test_every_dead_letter_reason_is_a_status_reason() -> None:
    reasons = dead_letter_reasons()
    assert {"EMPTY_VALUE", "TOO_LARGE", "UNPROCESSABLE", "ENVELOPE_UNDECODABLE"} <= reasons
    for reason in reasons:
        assert StatusReason.of_dead_letter(reason).status == "dead_lettered", reason


def test_no_status_is_built_with_a_bare_string_reason() -> None:
    """A status constructor's ``reason`` is a ``StatusReason`` member (or computed into one),
    never a string literal that could escape the enum."""
    builders = {"retrying", "failed", "dead_lettered", "fail"}
    offenders = []
    for path in SERVICES.rglob("*.py"):
        for call in _calls(path):
            for kw in call.keywords:
                literal = isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
                if kw.arg == "reason" and _name(call) in builders and literal:
                    offenders.append(f"{path.name}:{call.lineno}")
            if _name(call) == "fail" and len(call.args) >= 2:
                reason = call.args[1]
                if isinstance(reason, ast.Constant):
                    offenders.append(f"{path.name}:{call.lineno}")
    assert offenders == []


def test_computed_reasons_are_in_the_enum() -> None:
    for give_up in GiveUpReason:
        assert StatusReason(f"retries_exhausted_{give_up.value}").status == "failed"
    for error in (PermanentOpcoError, AuthError, NotFoundError, NotSupportedError):
        assert permanent_reason(error("x")).status == "failed"


# -- every message to a CFA in French --------------------------------------------------------

ENGLISH = re.compile(
    r"\b(the|is|must|should|be|field|required|input|valid|value|characters?|at least|"
    r"at most|expected|not|has|have|with|than|or|and|of|record|number|string|"
    r"greater|less|should)\b",
    re.IGNORECASE,
)


def english_words(text: str) -> list[str]:
    # codes, paths and quoted forms ('urn:siret:<siret>') are not prose
    prose = re.sub(r"'[^']*'|`[^`]*`|\b[A-Z0-9_]{3,}\b|\b[\w.]+\.[\w.]+\b", " ", text)
    return ENGLISH.findall(prose)


def test_the_heuristic_catches_english() -> None:
    assert english_words("Field required")
    assert english_words("String should have at least 1 character")
    assert not english_words("Champ obligatoire absent.")
    assert not english_words("Au moins 3 caractère(s) attendu(s).")


def test_status_examples_and_reason_descriptions_are_french() -> None:
    texts = [r.description for r in StatusReason]
    for record in examples():
        value = record["value"]
        texts += [e["message"] for e in value.get("errors", [])]
        texts += [e.get("message", "") for e in value.get("opcoErrors", [])]
        texts += [*value.get("opcoMessages", []), value.get("motif", "")]
    assert {t: english_words(t) for t in texts if english_words(t)} == {}


class _Sample(BaseModel):
    code: int
    nom: str = Field(min_length=2, max_length=5)
    taux: float = Field(ge=0, le=100)
    naissance: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    items: list[int] = Field(min_length=1)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "x", "nom": "a", "taux": 120, "naissance": "1/2/2000", "items": []},
        {"code": 1.5, "nom": "abcdefgh", "taux": -1, "naissance": 3, "items": ["a"]},
        {"code": True, "nom": 3, "taux": "beaucoup", "naissance": None, "items": {}, "x": 1},
    ],
)
def test_schema_errors_reach_the_cfa_in_french(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample.model_validate(data)
    items = errors_from_validation(caught.value, "data")
    assert items
    assert {i.message: english_words(i.message) for i in items if english_words(i.message)} == {}


def _texts(node: ast.AST) -> list[str]:
    """The prose of a message expression: a literal, the literal parts of an f-string, both
    sides of a concatenation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [" ".join(v.value for v in node.values if isinstance(v, ast.Constant))]
    if isinstance(node, ast.BinOp):
        return _texts(node.left) + _texts(node.right)
    return []


MESSAGE_FACTORIES = {"error", "_error", "_untrusted", "unresolved_error", "shared_numero_warning"}


def catalogue() -> dict[str, list[str]]:
    """Every message text relais writes into a status's ``errors`` outside the control rules
    (which are French by construction: ``schemas/conformance.md``): ``ErrorItem(message=...)``
    and the message argument of the helpers that build one, in the services and the event
    contract; and the module-level texts they use."""
    paths = [*(SERVICES / "services").rglob("*.py"), SERVICES / "domain" / "events.py"]
    found: dict[str, list[str]] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            texts: list[str] = []
            if isinstance(node, ast.Call) and _name(node) == "ErrorItem":
                texts += [
                    t for kw in node.keywords if kw.arg == "message" for t in _texts(kw.value)
                ]
            elif isinstance(node, ast.Call) and _name(node) in MESSAGE_FACTORIES:
                texts += [t for arg in node.args[2:3] for t in _texts(arg)]
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in {"BAD_CHARACTER", "NOT_FINITE", "message"}
                for t in node.targets
            ):
                texts += _texts(node.value)
            for text in texts:
                found.setdefault(f"{path.name}:{getattr(node, 'lineno', 0)}", []).append(text)
    found["VALUE_PROBLEMS"] = list(VALUE_PROBLEMS.values())
    return found


def test_the_catalogue_of_messages_to_a_cfa_is_french() -> None:
    texts = catalogue()
    assert sum(len(v) for v in texts.values()) > 30, "the scan finds the messages"
    english = {
        where: words
        for where, found in texts.items()
        for text in found
        if (words := english_words(text))
    }
    assert english == {}
