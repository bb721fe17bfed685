"""The HTTP outcome -> decision table, row by row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relais.adapters.opco.decisions import (
    MAX_MESSAGE_LENGTH,
    MAX_MESSAGES,
    Decision,
    Outcome,
    TransportFailure,
    decide,
    decide_transport,
    extract_ids,
    extract_messages,
    parse_retry_after,
)
from relais.domain.opco_errors import OpcoErrorDetail
from relais.errors import (
    AmbiguousOpcoError,
    AuthError,
    NotFoundError,
    NotSupportedError,
    OpcoError,
    PermanentOpcoError,
    RetryableOpcoError,
)

NOW = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)
ERROR_BODY = {
    "message": "Dossier invalide",
    "errors": [{"code": "FRM_01", "champ": "apprenti.nir", "description": "NIR invalide"}],
}


@pytest.mark.parametrize(
    ("status", "creating", "outcome", "error_type"),
    [
        (200, False, Outcome.OK, None),
        (201, True, Outcome.OK, None),
        (204, True, Outcome.OK, None),
        (409, True, Outcome.DUPLICATE, None),
        (400, True, Outcome.INVALID, PermanentOpcoError),
        (422, True, Outcome.INVALID, PermanentOpcoError),
        (405, False, Outcome.INVALID, PermanentOpcoError),
        (413, True, Outcome.INVALID, PermanentOpcoError),
        (302, False, Outcome.INVALID, PermanentOpcoError),
        (401, False, Outcome.UNAUTHORIZED, AuthError),
        (403, True, Outcome.FORBIDDEN, AuthError),
        (404, False, Outcome.NOT_FOUND, NotFoundError),
        (501, True, Outcome.NOT_SUPPORTED, NotSupportedError),
        (408, True, Outcome.RETRY, RetryableOpcoError),
        (425, True, Outcome.RETRY, RetryableOpcoError),
        (429, True, Outcome.RETRY, RetryableOpcoError),
        (503, True, Outcome.RETRY, RetryableOpcoError),
        (500, True, Outcome.RETRY, RetryableOpcoError),
        (502, True, Outcome.RETRY, RetryableOpcoError),
        (504, False, Outcome.RETRY, RetryableOpcoError),
        (504, True, Outcome.AMBIGUOUS, AmbiguousOpcoError),
        (599, False, Outcome.RETRY, RetryableOpcoError),
    ],
)
def test_status_table(
    status: int, creating: bool, outcome: Outcome, error_type: type[OpcoError] | None
) -> None:
    decision = decide(status, {}, ERROR_BODY, creating=creating, now=NOW)
    assert decision.outcome is outcome
    assert decision.status == status
    if error_type is None:
        assert decision.ok
        with pytest.raises(ValueError, match="not an error"):
            decision.error("AFDAS", "POST /v1/dossiers")
        return
    assert not decision.ok
    error = decision.error("AFDAS", "POST /v1/dossiers")
    assert type(error) is error_type
    assert error.opco == "AFDAS"
    assert error.status == status
    assert error.messages == ("Dossier invalide", "FRM_01 apprenti.nir: NIR invalide")
    assert "AFDAS POST /v1/dossiers answered" in str(error)


def test_non_retryable_classes_are_permanent() -> None:
    for status in (400, 401, 403, 404, 422, 501):
        error = decide(status, {}, None).error("X", "GET /r")
        assert isinstance(error, PermanentOpcoError), status
        assert not isinstance(error, RetryableOpcoError), status


def test_duplicate_carries_the_existing_ids() -> None:
    body = {"message": "Dossier déjà transmis", "numeroInterne": "A1", "numeroExterne": "E1"}
    decision = decide(409, {}, body, creating=True)
    assert decision.ok
    assert decision.ids == {"numeroInterne": "A1", "numeroExterne": "E1"}
    assert decision.messages == ("Dossier déjà transmis",)


def test_duplicate_ids_nested_one_level() -> None:
    body = {"message": "doublon", "existant": {"numeroInterneFacture": 77, "etat": "TRANSMIS"}}
    assert decide(409, {}, body).ids == {"numeroInterneFacture": "77"}


def test_created_ids_from_a_wrapped_answer() -> None:
    body = [{"numeroInterne": "N1", "numeroExterne": "X1", "etat": "TRANSMIS", "flag": True}]
    assert decide(201, {}, body).ids == {"numeroInterne": "N1", "numeroExterne": "X1"}


def test_ids_ignore_booleans_and_objects() -> None:
    assert extract_ids({"numeroInterne": True, "idConvention": {"a": 1}}) == {}
    assert extract_ids("text") == {}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": " 2.5 "}, 2.5),
        ({"RETRY-AFTER": "0"}, 0.0),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Fri, 27 Nov 2026 09:00:30 GMT"}, 30.0),
        ({"Retry-After": "Fri, 27 Nov 2026 08:59:00 GMT"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": ""}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize("status", [429, 503, 500])
def test_retry_after_reaches_the_error(status: int) -> None:
    decision = decide(status, {"Retry-After": "12"}, None, now=NOW)
    error = decision.error("AKTO", "GET /v2/dossiers/etats")
    assert isinstance(error, RetryableOpcoError)
    assert error.retry_after == 12.0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "m"}, ("m",)),
        ({"description": "d"}, ("d",)),
        ({"error_description": "ed", "error": "invalid_client"}, ("ed", "invalid_client")),
        ({"error": {"message": "nested"}}, ("nested",)),
        ({"errors": [{"message": "a"}, {"description": "b", "champ": "x.y"}]}, ("a", "x.y: b")),
        ({"errors": ["plain", 3, None]}, ("plain",)),
        ({"errors": {"apprenti.nom": "obligatoire"}}, ("apprenti.nom: obligatoire",)),
        ([{"message": "wrapped"}], ("wrapped",)),
        ("Bad Gateway", ("Bad Gateway",)),
        ({"message": "same", "description": "same"}, ("same",)),
        ({"message": "  many\n  spaces "}, ("many spaces",)),
        (None, ()),
        ({"errors": [{"code": "C1"}]}, ("C1",)),
    ],
)
def test_messages(body: object, expected: tuple[str, ...]) -> None:
    assert extract_messages(body) == expected


def test_messages_are_bounded() -> None:
    body = {"errors": [{"message": f"m{i} " + "x" * 1000} for i in range(50)]}
    messages = extract_messages(body)
    assert len(messages) == 20
    assert all(len(m) <= 300 for m in messages)


@pytest.mark.parametrize(
    ("failure", "creating", "outcome"),
    [
        (TransportFailure.NOT_SENT, True, Outcome.RETRY),
        (TransportFailure.NOT_SENT, False, Outcome.RETRY),
        (TransportFailure.WRITE, True, Outcome.AMBIGUOUS),
        (TransportFailure.WRITE, False, Outcome.RETRY),
        (TransportFailure.READ, True, Outcome.AMBIGUOUS),
        (TransportFailure.READ, False, Outcome.RETRY),
    ],
)
def test_transport_table(failure: TransportFailure, creating: bool, outcome: Outcome) -> None:
    decision = decide_transport(failure, creating=creating)
    assert decision.outcome is outcome
    error = decision.error("ATLAS", "POST /v2/dossiers")
    assert isinstance(error, RetryableOpcoError)
    assert isinstance(error, AmbiguousOpcoError) is (outcome is Outcome.AMBIGUOUS)
    assert error.status is None
    assert "ATLAS POST /v2/dossiers:" in str(error)


def test_decision_is_a_value() -> None:
    assert decide(503, {"Retry-After": "1"}, None, now=NOW) == Decision(Outcome.RETRY, 503, (), 1.0)


@pytest.mark.parametrize("creating", [False, True])
def test_every_status_has_one_consistent_decision(creating: bool) -> None:
    """All of 100..599: successes are ok, every failure maps to exactly one error class, only
    408/425/429 among 4xx are retryable, only 501 among 5xx is permanent."""
    for status in range(100, 600):
        decision = decide(status, {}, None, creating=creating)
        if 200 <= status < 300 or status == 409:
            assert decision.ok, status
            continue
        error = decision.error("X", "GET /r")
        retryable = isinstance(error, RetryableOpcoError)
        assert retryable is not isinstance(error, PermanentOpcoError), status
        if 400 <= status < 500:
            assert retryable is (status in (408, 425, 429)), status
        if status >= 500:
            assert retryable is (status != 501), status
        assert isinstance(error, AmbiguousOpcoError) is (creating and status == 504), status


D = OpcoErrorDetail


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            ERROR_BODY,
            (D(None, "Dossier invalide", None), D("FRM_01", "NIR invalide", "apprenti.nir")),
        ),
        ("  Service\n indisponible ", (D(None, "Service indisponible", None),)),
        ({"code": "E42", "message": "Refusé"}, (D("E42", "Refusé", None),)),
        (
            {"errors": {"contrat.dateDebut": "Date manquante"}},
            (D(None, "Date manquante", "contrat.dateDebut"),),
        ),
        (
            [{"errors": [{"code": 7, "field": "siret", "libelle": "SIRET inconnu"}]}],
            (D("7", "SIRET inconnu", "siret"),),
        ),
        (
            {"error": "invalid_grant", "error_description": "expired"},
            (D(None, "expired", None), D(None, "invalid_grant", None)),
        ),
        ({"unrelated": True}, ()),
        (None, ()),
    ],
)
def test_the_opcos_errors_are_kept_as_code_message_field(
    body: object, details: tuple[OpcoErrorDetail, ...]
) -> None:
    decision = decide(422, {}, body, creating=True, now=NOW)
    assert decision.details == details
    assert decision.error("ATLAS", "dossiers_post").details == details


def test_the_opcos_errors_are_bounded() -> None:
    body = {"errors": [{"code": f"C{i}", "message": "x" * 1000} for i in range(50)]}
    details = decide(400, {}, body, now=NOW).details
    assert len(details) == MAX_MESSAGES
    assert all(len(d.message or "") == MAX_MESSAGE_LENGTH for d in details)
