"""Property: the redaction keeps every finding code and path readable and lets no personal value
through (issue 19: ``ingest.rejected`` once logged ``errors: ["[redacted]"]``).

Codes are the catalogue's and the ingest's own; paths are every field path of the cerfa and of the
follow-up bodies (the paths findings carry); personal values are drawn at random: NIR (13 or 15
digits, Corsica too, with or without spaces), e-mail, IBAN, birth dates in the three written
forms, "Prénom NOM", "NOM Prénom" and civility + name.
"""

from __future__ import annotations

import io
import json
import typing
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from relais.domain.cerfa import Cerfa
from relais.domain.events import DATA_MODELS, ErrorItem, EventError
from relais.domain.rules.catalogue import catalogue_json
from relais.logging import configure_logging, get_logger, redact_text, reset_logging

INGEST_CODES = [
    "ENVELOPE_INVALID",
    "SOURCE_NOT_ALLOWED",
    "EVENEMENT_ENVELOPPE_INVALIDE",
    "EVENEMENT_DONNEES_CHAMP_INCONNU",
    "TYPE_INVALIDE",
    "DATE_INVALIDE",
    "TROP_IMBRIQUE",
]
CODES = sorted({row["code"] for row in catalogue_json()} | set(INGEST_CODES))


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def field_paths(model: type[BaseModel], prefix: str = "", depth: int = 0) -> list[str]:
    out: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        path = f"{prefix}.{key}" if prefix else key
        out.append(path)
        if depth < 5:
            for sub in _models(info.annotation):
                out.extend(field_paths(sub, path, depth + 1))
    return out


PATHS = sorted(
    {p for m in (Cerfa, *DATA_MODELS.values()) for p in field_paths(m)} | {"", "source", "time"}
)

FIRST = ["Jean", "Léa", "Zoé", "Anne-Sophie", "Éric", "Maël", "Chloé"]
LAST = ["DUPONT", "MARTIN", "LE GALL", "D'ALMEIDA", "BÉRANGER", "N'DIAYE"]
MONTHS = ["janvier", "février", "mars", "août", "décembre"]


@st.composite
def nir(draw: st.DrawFn) -> str:
    dept = draw(st.sampled_from(["75", "13", "2A", "2B", "69", "97"]))
    parts = [
        str(draw(st.sampled_from([1, 2]))),
        f"{draw(st.integers(0, 99)):02d}",
        f"{draw(st.integers(1, 12)):02d}",
        dept,
        f"{draw(st.integers(1, 999)):03d}",
        f"{draw(st.integers(1, 999)):03d}",
    ]
    if draw(st.booleans()):
        parts.append(f"{draw(st.integers(1, 97)):02d}")
    return draw(st.sampled_from(["", " "])).join(parts)


@st.composite
def birth_date(draw: st.DrawFn) -> str:
    d, m, y = draw(st.integers(1, 28)), draw(st.integers(1, 12)), draw(st.integers(1950, 2012))
    return draw(
        st.sampled_from(
            [
                f"{d:02d}/{m:02d}/{y}",
                f"{d}.{m}.{y}",
                f"{y}-{m:02d}-{d:02d}",
                f"{d} {MONTHS[m % len(MONTHS)]} {y}",
            ]
        )
    )


PERSONAL = st.one_of(
    nir(),
    birth_date(),
    st.builds(
        lambda u, d: f"{u}@{d}.fr",
        st.from_regex(r"[a-z][a-z0-9.]{0,12}[a-z]", fullmatch=True),
        st.sampled_from(["gmail", "cfa-btp", "orange"]),
    ),
    st.builds(lambda n: f"FR76{n}", st.from_regex(r"[0-9]{23}", fullmatch=True)),
    st.builds(lambda f, n: f"{f} {n}", st.sampled_from(FIRST), st.sampled_from(LAST)),
    st.builds(lambda f, n: f"{n} {f}", st.sampled_from(FIRST), st.sampled_from(LAST)),
    st.builds(lambda n: f"Madame {n.title()}", st.sampled_from(LAST)),
)

FINDINGS = st.lists(
    st.builds(ErrorItem, code=st.sampled_from(CODES), path=st.sampled_from(PATHS)),
    min_size=1,
    max_size=20,
)


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json_output=True, stream=stream, force=True)
    yield stream
    reset_logging()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(findings=FINDINGS)
def test_every_finding_code_and_path_survives(findings: list[ErrorItem]) -> None:
    for item in findings:
        assert redact_text(item.ref) == item.ref
    summary = str(EventError(findings))
    assert redact_text(summary) == summary


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(findings=FINDINGS, values=st.lists(PERSONAL, min_size=1, max_size=4))
def test_a_rejection_log_line_keeps_codes_and_drops_personal_values(
    captured: io.StringIO, findings: list[ErrorItem], values: list[str]
) -> None:
    """The line ``ingest.rejected`` writes, with personal values mixed into its free text."""
    from relais.adapters.kafka.ingest import IngestObserverAdapter
    from relais.metrics import Metrics
    from relais.services.ingest import Outcome, Result

    captured.seek(0)
    captured.truncate()
    reason = "refusé pour " + " ; ".join(values)
    result = Result(
        Outcome.REJECTED, event_id="e-1", dossier_id="D1", errors=tuple(findings), reason=reason
    )
    IngestObserverAdapter(Metrics()).on_result(result, None)
    get_logger("relais.test").warning("opco.said", detail=" / ".join(values))
    text = captured.getvalue()
    rejected = json.loads(text.splitlines()[0])
    assert rejected["errors"] == [f.ref for f in findings[:20]]
    for value in values:
        assert value not in text, value
        assert json.dumps(value)[1:-1] not in text, value  # nor its JSON-escaped form
