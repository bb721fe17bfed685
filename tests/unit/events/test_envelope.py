"""The CFA event envelope: headers <-> structured form, and every problem reported at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relais.domain.events import (
    EnvelopeError,
    EventKind,
    EventType,
    FactureSubmittedData,
    PayloadError,
    RuptureDeclaredData,
    SourceRef,
    decode_data,
    decode_record,
    envelope_from_headers,
    parse_source,
    parse_structured,
    record_to_structured,
    structured_to_record,
    to_structured,
)

SIRET = "73282932000074"


def rupture_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": "evt-1",
        "type": "fr.cfa.rupture.declared.v1",
        "source": f"urn:siret:{SIRET}",
        "subject": "CFA-DOSSIER-1",
        "time": "2026-11-27T10:00:00+01:00",
        "data": {"rupture": {"dateRupture": "2026-12-01", "motif": "commun accord"}},
    }
    event.update(overrides)
    return event


def test_structured_to_record_and_back_round_trips() -> None:
    event = rupture_event()
    record = structured_to_record(event)
    key, headers, value = record
    assert key == b"CFA-DOSSIER-1"
    assert dict(headers)["ce_type"] == b"fr.cfa.rupture.declared.v1"
    assert dict(headers)["ce_datacontenttype"] == b"application/json"
    assert json.loads(value) == event["data"]
    back = record_to_structured(key, headers, value)
    assert {k: v for k, v in back.items() if k != "datacontenttype"} == event


def test_decode_record_gives_typed_data_and_kind() -> None:
    key, headers, value = structured_to_record(rupture_event())
    decoded = decode_record(headers, value, key=key)
    assert decoded.kind is EventKind.RUPTURE
    assert decoded.dossier_id == "CFA-DOSSIER-1"
    assert isinstance(decoded.data, RuptureDeclaredData)
    assert decoded.data.rupture.dateRupture.isoformat() == "2026-12-01"
    assert to_structured(decoded)["data"] == rupture_event()["data"]


def test_headers_may_be_a_mapping_of_text() -> None:
    env = envelope_from_headers(
        {
            "ce_specversion": "1.0",
            "ce_id": "a",
            "ce_type": EventType.DOSSIER_SUBMITTED.value,
            "ce_source": SIRET,
            "ce_subject": "D1",
            "ce_time": "2026-11-27T09:00:00Z",
            "traceparent": "ignored",
        }
    )
    assert env.source_ref == SourceRef("siret", SIRET)
    assert env.kind is EventKind.DOSSIER


def test_every_envelope_problem_is_reported_at_once() -> None:
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_headers(
            [
                ("ce_id", b"evt-9"),
                ("ce_type", b"fr.cfa.unknown.v1"),
                ("ce_source", b"not-a-siret"),
                ("ce_time", b"2026-11-27T10:00:00"),
                ("ce_specversion", b"0.3"),
            ],
            key=b"D1",
        )
    codes = {(e.code, e.path) for e in exc.value.errors}
    assert codes == {
        ("ENVELOPE_UNKNOWN_TYPE", "ce_type"),
        ("ENVELOPE_INVALID_SOURCE", "ce_source"),
        ("ENVELOPE_INVALID_ATTRIBUTE", "ce_time"),
        ("ENVELOPE_UNSUPPORTED_SPECVERSION", "ce_specversion"),
        ("ENVELOPE_MISSING_ATTRIBUTE", "ce_subject"),
    }
    assert not exc.value.undecodable  # it has an id: ingest can answer "rejected"


def test_without_an_id_the_record_is_undecodable() -> None:
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_headers([("content-type", b"application/json")])
    assert exc.value.undecodable
    assert ("ENVELOPE_MISSING_ATTRIBUTE", "ce_id") in {(e.code, e.path) for e in exc.value.errors}


def test_duplicate_and_non_utf8_headers_are_errors() -> None:
    _, headers, _ = structured_to_record(rupture_event())
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_headers([*headers, ("ce_subject", b"other"), ("ce_signature", b"\xff")])
    assert {e.code for e in exc.value.errors} == {"HEADER_DUPLICATE", "HEADER_NOT_UTF8"}


def test_kafka_key_must_equal_subject() -> None:
    _, headers, _ = structured_to_record(rupture_event())
    with pytest.raises(EnvelopeError) as exc:
        envelope_from_headers(headers, key=b"another-dossier")
    assert [e.code for e in exc.value.errors] == ["RECORD_KEY_MISMATCH"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"urn:siret:{SIRET}", SourceRef("siret", SIRET)),
        (SIRET, SourceRef("siret", SIRET)),
        ("URN:SIRET:732 829 320 00074", SourceRef("siret", SIRET)),
        ("urn:uai:0751234j", SourceRef("uai", "0751234J")),
        ("0751234J", SourceRef("uai", "0751234J")),
    ],
)
def test_parse_source_accepts_siret_and_uai_forms(source: str, expected: SourceRef) -> None:
    assert parse_source(source) == expected


@pytest.mark.parametrize("source", ["", "1234", "urn:uai:" + SIRET, "urn:siret:0751234J", "cfa-x"])
def test_parse_source_refuses_anything_else(source: str) -> None:
    with pytest.raises(ValueError, match="ce_source doit être"):
        parse_source(source)


def test_payload_errors_have_data_paths_and_no_values() -> None:
    event = rupture_event(data={"rupture": {"dateRupture": "tomorrow-ish", "extra": 1}})
    with pytest.raises(PayloadError) as exc:
        parse_structured(event)
    paths = {(e.code, e.path) for e in exc.value.errors}
    assert ("SCHEMA_DATE_FROM_DATETIME_PARSING", "data.rupture.dateRupture") in paths
    assert ("SCHEMA_MISSING", "data.rupture.motif") in paths
    assert ("SCHEMA_EXTRA_FORBIDDEN", "data.rupture.extra") in paths
    assert "tomorrow-ish" not in str(exc.value)
    assert all("tomorrow-ish" not in e.message for e in exc.value.errors)
    assert not exc.value.undecodable


def test_a_value_that_is_not_json_is_undecodable() -> None:
    _, headers, _ = structured_to_record(rupture_event())
    env = envelope_from_headers(headers)
    with pytest.raises(PayloadError) as exc:
        decode_data(env, b"\x00not json")
    assert exc.value.undecodable
    with pytest.raises(PayloadError) as exc2:
        decode_data(env, b"[1, 2]")
    assert exc2.value.errors[0].code == "DATA_NOT_OBJECT"


@pytest.mark.parametrize("number", [b"1e999999", b"-1e999999", b"NaN", b"Infinity"])
def test_a_non_finite_number_is_refused_at_decoding(number: bytes) -> None:
    """Python reads these as floats JSON cannot carry: sent on, ``1e999999`` became ``null``."""
    event = rupture_event()
    _, headers, value = structured_to_record(event)
    env = envelope_from_headers(headers)
    decode_data(env, value)  # the event itself is fine
    bad = value.replace(b'"rupture":', b'"x": ' + number + b', "rupture":', 1)
    assert bad != value
    with pytest.raises(PayloadError) as exc:
        decode_data(env, bad)
    (error,) = exc.value.errors
    assert error.code == "DATA_NOT_FINITE" and "non fini" in error.message
    assert exc.value.undecodable


def test_facture_lists_its_dossiers_once() -> None:
    data = FactureSubmittedData.model_validate(
        {
            "facture": {
                "referenceFactureCFA": "F-2026-001",
                "dateFacture": "2026-11-27",
                "montantFacture": 3000.0,
                "organismeFormation": {"siret": SIRET, "iban": "FR7630006000011234567890189"},
                "lignes": [
                    {"dossierId": "D2", "numeroEcheance": 1, "montant": 1000.0},
                    {"dossierId": "D1", "numeroEcheance": 1, "montant": 1000.0},
                    {"dossierId": "D2", "numeroEcheance": 2, "montant": 1000.0},
                ],
            }
        }
    )
    assert data.facture.dossier_ids == ["D2", "D1"]
