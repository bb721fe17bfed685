"""Logs: JSON lines, bound context, and personal data / secrets redacted by a processor."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from relais.logging import (
    REDACTED,
    bound,
    configure_logging,
    get_logger,
    redact_text,
    redact_value,
    reset_logging,
)

NIR = "185057800608436"  # 15 digits (13 + key)
IBAN = "FR7630006000011234567890189"


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(level="DEBUG", json_output=True, stream=stream, force=True)
    yield stream
    reset_logging()


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_with_bound_context(captured: io.StringIO) -> None:
    log = get_logger("relais.test")
    with bound(topic="cfa.events.v1", partition=0, offset=42, event_id="e-1", dossier="D1"):
        log.info("ingest.accepted", opco="AKTO")
    (line,) = _lines(captured)
    assert line["event"] == "ingest.accepted"
    assert line["level"] == "info"
    assert (line["topic"], line["partition"], line["offset"]) == ("cfa.events.v1", 0, 42)
    assert (line["event_id"], line["dossier"], line["opco"]) == ("e-1", "D1", "AKTO")
    assert "timestamp" in line


def test_personal_data_and_secrets_never_rendered(captured: io.StringIO) -> None:
    log = get_logger("relais.test")
    log.warning(
        "ingest.rejected",
        apprenti={"nom": "Dupont", "prenom": "Léa", "nir": NIR, "dateNaissance": "2007-03-01"},
        employeur={
            "siret": "12345678901234",
            "courriel": "rh@example.fr",
            "telephone": "0102030405",
        },
        reason=f"bad value {NIR} and iban {IBAN}",
        api_key="k-123",
        client_secret="s-456",
        token="t-789",
        password="p-000",
        key="D1",
        numeroInterne="AKTO-1",
    )
    text = captured.getvalue()
    for leaked in (
        "Dupont",
        "Léa",
        NIR,
        "2007-03-01",
        "rh@example.fr",
        "0102030405",
        IBAN,
        "k-123",
        "s-456",
        "t-789",
        "p-000",
    ):
        assert leaked not in text, leaked
    (line,) = _lines(captured)
    assert line["employeur"]["siret"] == "12345678901234"  # an organisation id stays
    assert line["numeroInterne"] == "AKTO-1"
    assert line["key"] == REDACTED


def test_library_logs_are_redacted_too(captured: io.StringIO) -> None:
    logging.getLogger("aiokafka.test").error("header Authorization: Bearer abc.def.ghi for %s", NIR)
    text = captured.getvalue()
    assert "abc.def.ghi" not in text and NIR not in text
    assert "aiokafka.test" in text


def test_exceptions_are_redacted(captured: io.StringIO) -> None:
    log = get_logger("relais.test")
    try:
        raise ValueError(f"nir {NIR} invalid")
    except ValueError:
        log.exception("dispatch.call_failed")
    assert NIR not in captured.getvalue()
    assert "dispatch.call_failed" in captured.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "185057800608436",
        "1850578006084",
        "1 85 05 78 006 084 36",
        "2 85 05 2A 006 084",
        "FR76 3000 6000 0112 3456 7890 189",
        IBAN,
        "a.b@example.org",
    ],
)
def test_patterns(text: str) -> None:
    assert redact_text(f"x {text} y") == f"x {REDACTED} y"


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234",
        "2026-11-27T03:07:06+00:00",
        "AKTO-000123",
        "550e8400-e29b-41d4-a716-446655440000",
    ],
)
def test_identifiers_that_are_not_personal_stay(text: str) -> None:
    assert redact_text(text) == text


def test_nested_structures() -> None:
    out = redact_value(
        {"cerfa": {"apprenti": {"nom": "X", "adresse": {"ville": "Lyon"}}}, "l": [NIR]}
    )
    assert out == {
        "cerfa": {"apprenti": {"nom": REDACTED, "adresse": {"ville": "Lyon"}}},
        "l": [REDACTED],
    }


def test_httpx_request_lines_are_not_logged(captured: io.StringIO) -> None:
    """One INFO line per OPCO call duplicates dispatch.*: httpx and httpcore log warnings only."""
    logging.getLogger("httpx").info('HTTP Request: POST http://opco/v2/dossiers "HTTP/1.1 201"')
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")
    logging.getLogger("httpx").warning("something odd")
    assert [line["event"] for line in _lines(captured)] == ["something odd"]


def test_level_logger_and_timestamp_are_added_after_the_redaction(captured: io.StringIO) -> None:
    get_logger("relais.test").info("ingest.accepted", dossier="D1")
    logging.getLogger("aiokafka.test").warning("library line")
    first, second = _lines(captured)
    assert (first["level"], first["logger"]) == ("info", "relais.test")
    assert (second["level"], second["logger"]) == ("warning", "aiokafka.test")
    assert str(first["timestamp"]).endswith("Z") and str(second["timestamp"]).endswith("Z")


def _full_scan(text: str) -> str:
    from relais.logging import _PATTERNS

    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.parametrize(
    "text",
    [
        "ingest.accepted",
        "cfa.events.v1",
        f"nir {NIR}",
        f"iban {IBAN}",
        "mail jean.dupont@example.org",
        "Authorization: BEARER abc.def",
        "basic dXNlcjpwdw==",
        "١٢٣٤٥٦٧٨٩٠١٢٣",  # digits of another script are digits for the patterns too
        "no digit, no at sign, no credential word",
    ],
)
def test_the_quick_check_never_skips_what_a_full_scan_redacts(text: str) -> None:
    assert redact_text(text) == _full_scan(text)


def test_the_quick_check_agrees_with_a_full_scan_on_random_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from("0123456789 @.AZaz-_:/FRbearBASIC١٢")

    @settings(max_examples=400, deadline=None)
    @given(st.text(alphabet, max_size=40) | st.text(max_size=40))
    def check(text: str) -> None:
        assert redact_text(text) == _full_scan(text)

    check()


@pytest.mark.parametrize(
    "text",
    [
        "14/03/2006",
        "4.3.2006",
        "2006-03-14",
        "14 mars 2006",
        "1er août 2006",
        "M. Jean Dupont",
        "Madame DURAND",
        "Mme Léa",
        "Jean DUPONT",
        "Jean-Pierre LE-GOFF",
        "DUPONT Jean",
        "Élodie MARTIN",
    ],
)
def test_dates_and_names_are_redacted(text: str) -> None:
    assert text not in redact_text(f"x {text} y")
    assert redact_text(f"x {text} y").startswith("x ")


def test_an_opco_message_naming_an_apprentice_keeps_nothing_personal() -> None:
    message = (
        "Dossier refusé : l'apprenti Jean DUPONT né le 14/03/2006 (NIR 1 06 03 75 123 456 78) "
        "est déjà sous contrat ; Madame Léa Martin, née le 2006-03-14"
    )
    out = redact_text(message)
    for leaked in ("Jean", "DUPONT", "14/03/2006", "456", "Léa", "Martin", "2006-03-14"):
        assert leaked not in out, leaked
    assert out.startswith("Dossier refusé")


@pytest.mark.parametrize(
    "text",
    [
        "REQUIRED:apprenti.nom",
        "DATE_FORMAT:contrat.dateDebutContrat",
        "ENVELOPE_INVALID: SOURCE_NOT_ALLOWED:ce_source",
        "AKTO POST /v2/dossiers answered 422 (2 OPCO message(s), in the CFA's status)",
        "poll.pair_failed",
    ],
)
def test_codes_paths_and_relais_texts_stay(text: str) -> None:
    assert redact_text(text) == text


def test_rejection_codes_and_paths_survive_the_redaction(captured: io.StringIO) -> None:
    """``ingest.rejected`` used to log ``errors: ["[redacted]"]``: "CODE@path" read as an e-mail."""
    from relais.adapters.kafka.ingest import IngestObserverAdapter
    from relais.domain.events import ErrorItem, EventError
    from relais.metrics import Metrics
    from relais.services.ingest import Outcome, Result

    items = (
        ErrorItem(code="REQUIRED", path="apprenti.nom", message="missing"),
        ErrorItem(code="NIR_FORMAT", path="apprenti.nir"),
        ErrorItem(code="ENVELOPE_TIME"),
    )
    result = Result(Outcome.REJECTED, event_id="e-1", dossier_id="D1", errors=items)
    IngestObserverAdapter(Metrics()).on_result(result, None)
    (line,) = _lines(captured)
    assert line["event"] == "ingest.rejected"
    assert line["errors"] == ["REQUIRED:apprenti.nom", "NIR_FORMAT:apprenti.nir", "ENVELOPE_TIME"]
    assert "REQUIRED:apprenti.nom, NIR_FORMAT:apprenti.nir" in redact_text(str(EventError(items)))
