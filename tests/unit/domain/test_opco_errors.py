"""One normalized OPCO error (code, message, field) from every error-body shape seen on the wire
(convergence-api.md 0), bounded."""

from __future__ import annotations

import pytest

from relais.domain.opco_errors import (
    MAX_DETAILS,
    MAX_TEXT,
    OpcoErrorDetail,
    messages_of,
    normalize_errors,
)

D = OpcoErrorDetail


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # ATLAS 400
        ({"description": "Le SIRET est invalide"}, [D(None, "Le SIRET est invalide", None)]),
        # most OPCOs; 401/403/500 too; more keys than code/description
        (
            {"errors": [{"code": "E12", "description": "NIR invalide", "champ": "apprenti.nir"}]},
            [D("E12", "NIR invalide", "apprenti.nir")],
        ),
        (
            {"errors": [{"code": 401, "description": "Unauthorized", "traceId": "x"}]},
            [D("401", "Unauthorized", None)],
        ),
        # OPCO EP
        ({"comment": "Dossier inconnu"}, [D(None, "Dossier inconnu", None)]),
        # the documents route
        ({"Description": "Fichier illisible"}, [D(None, "Fichier illisible", None)]),
        # the older notes / the simulator's default
        (
            {
                "message": "Dossier invalide",
                "errors": [{"code": "F", "champ": "c", "description": "d"}],
            },
            [D(None, "Dossier invalide", None), D("F", "d", "c")],
        ),
        # a field map, an OAuth2 answer, a bare string, a wrapped object
        ({"errors": {"apprenti.nom": ["obligatoire"]}}, [D(None, "obligatoire", "apprenti.nom")]),
        (
            {"error": "invalid_client", "error_description": "bad secret"},
            [D(None, "bad secret", None), D(None, "invalid_client", None)],
        ),
        ("  plain   text ", [D(None, "plain text", None)]),
        ([{"description": "wrapped"}], [D(None, "wrapped", None)]),
        # nothing readable
        (None, []),
        (42, []),
        ({"errors": [{"foo": "bar"}, 7, None]}, []),
    ],
)
def test_every_shape_is_normalized(body: object, expected: list[OpcoErrorDetail]) -> None:
    assert list(normalize_errors(body)) == expected


def test_top_level_code_goes_with_the_message() -> None:
    assert normalize_errors({"code": "AUTH", "message": "Jeton expiré"}) == (
        D("AUTH", "Jeton expiré", None),
    )


def test_bounded_in_count_and_length_and_whitespace_folded() -> None:
    long = "x" * (MAX_TEXT * 3)
    body = {"errors": [{"code": f"C{i}", "description": f"{long}\n{i}"} for i in range(100)]}
    details = normalize_errors(body)
    assert len(details) == MAX_DETAILS
    assert all(d.message is not None and len(d.message) <= MAX_TEXT for d in details)
    assert all("\n" not in (d.message or "") for d in details)


def test_repeats_are_dropped_in_order() -> None:
    body = {"errors": [{"description": "a"}, {"description": "b"}, {"description": "a"}]}
    assert [d.message for d in normalize_errors(body)] == ["a", "b"]


def test_messages_are_one_line_per_detail() -> None:
    details = (
        D("E1", "NIR invalide", "apprenti.nir"),
        D(None, "refusé", None),
        D("E2", None, None),
    )
    assert messages_of(details) == ("E1 apprenti.nir: NIR invalide", "refusé", "E2")
