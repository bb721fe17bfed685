"""Properties: no input makes the validators raise, and findings always have the same shape."""

import copy
import re
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relais.domain.cerfa import Cerfa
from relais.domain.dates import parse_date, to_wire
from relais.domain.findings import Finding
from relais.domain.referentials import load_referentials
from relais.domain.validation import ValidationReport, validate_cerfa, validate_followup

from .conftest import TODAY, load_example

REFS = load_referentials()
BASE = load_example("initial-11.json")
CODE_RE = re.compile(r"^[A-Z0-9_]+$")
PATH_RE = re.compile(r"^$|^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["2026-02-29", "9999-12-31", "0001-01-01", "2026-12-01T00:00:00+0000", "2A", ""]
    ),
)
json_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def assert_well_formed(result: ValidationReport) -> None:
    assert result.valid is (not result.errors)
    for finding in result.findings:
        assert isinstance(finding, Finding)
        assert CODE_RE.match(finding.code), finding.code
        assert finding.severity in ("error", "warning")
        assert PATH_RE.match(finding.path), finding.path
        assert finding.message.strip()
    assert all(f.severity == "error" for f in result.errors)
    assert all(f.severity == "warning" for f in result.warnings)
    payload = result.to_json()
    assert set(payload) == {"valid", "opco", "errors", "warnings"}


@FAST
@given(json_value)
def test_any_json_never_crashes_the_cerfa_validator(data: Any) -> None:
    assert_well_formed(validate_cerfa(data, today=TODAY, referentials=REFS))


def _leaf_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaf_paths(v, (*prefix, k))] or [prefix]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaf_paths(v, (*prefix, i))] or [prefix]
    return [prefix]


LEAVES = _leaf_paths(BASE)


def _assign(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    """Put ``value`` at ``path`` if the path still exists (earlier mutations may have cut it)."""
    target = doc
    for key in path[:-1]:
        ok = (isinstance(target, dict) and key in target) or (
            isinstance(target, list) and isinstance(key, int) and key < len(target)
        )
        if not ok:
            return
        target = target[key]
    last = path[-1] if path else None
    in_dict = isinstance(target, dict) and isinstance(last, str)
    in_list = isinstance(target, list) and isinstance(last, int) and last < len(target)
    if in_dict or in_list:
        target[last] = value


@FAST
@given(st.lists(st.tuples(st.sampled_from(LEAVES), json_value), min_size=1, max_size=5))
def test_mutated_dossier_never_crashes_and_points_at_real_fields(
    mutations: list[tuple[tuple[Any, ...], Any]],
) -> None:
    doc = copy.deepcopy(BASE)
    for path, value in mutations:
        _assign(doc, path, value)
    result = validate_cerfa(doc, today=TODAY, referentials=REFS)
    assert_well_formed(result)
    for finding in result.findings:
        head = re.split(r"[.\[]", finding.path)[0]
        assert head in {*Cerfa.model_fields, ""}, finding.path


@FAST
@given(st.sampled_from(["convention", "facture", "certificat", "rupture", "other"]), json_value)
def test_any_json_never_crashes_the_followup_validator(kind: str, data: Any) -> None:
    assert_well_formed(validate_followup(kind, data, today=TODAY))


@FAST
@given(
    st.sampled_from(["facture", "convention"]),
    st.dictionaries(
        st.sampled_from(
            ["montantFacture", "couts", "dossiers", "organismeFormation", "dateFacture"]
        ),
        st.one_of(json_value, st.floats(min_value=1e300, max_value=1.7e308)),
    ),
)
def test_extreme_amounts_never_crash(kind: str, data: dict[str, Any]) -> None:
    assert_well_formed(validate_followup(kind, data, today=TODAY))


def test_deeply_nested_input_does_not_crash() -> None:
    deep: Any = {}
    for _ in range(5000):
        deep = {"x": deep}
    doc = {"employeur": {"adresse": {"complement": deep}}, "contrat": [deep]}
    assert_well_formed(validate_cerfa(doc, today=TODAY, referentials=REFS))


def test_huge_input_does_not_crash() -> None:
    doc = copy.deepcopy(BASE)
    doc["contrat"]["remunerationsAnnuelles"] = doc["contrat"]["remunerationsAnnuelles"] * 2000
    doc["apprenti"]["nom"] = "A" * 1_000_000
    result = validate_cerfa(doc, today=TODAY, referentials=REFS)
    assert_well_formed(result)
    assert not result.valid


@FAST
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31)))
def test_dates_round_trip_through_the_wire_form(day: date) -> None:
    assert parse_date(to_wire(day)) == day
    assert parse_date(f"{day.isoformat()}T00:00:00+0000") == day
