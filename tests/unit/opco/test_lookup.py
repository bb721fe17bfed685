"""Natural-key matching and candidate order (pure parts of the ambiguity lookup)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from relais.adapters.opco.lookup import cerfa_of, matches, order_candidates
from relais.adapters.opco.readmodel import normalise, parse_date, same_name
from relais.services.opco_port import DossierEtat, DossierNaturalKey

KEY = DossierNaturalKey(
    "11111111100011", "Lefèvre", "Jean-Luc", date(2007, 3, 14), date(2026, 9, 1)
)


def cerfa(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "employeur": {"siret": "111 111 111 00011"},
        "apprenti": {
            "nom": "LEFEVRE",
            "prenom": "jean luc",
            "dateNaissance": "2007-03-14T00:00:00Z",
        },
        "contrat": {"dateDebutContrat": "2026-09-01T00:00:00+0000"},
    }
    base.update(changes)
    return base


def test_matches_leniently() -> None:
    assert matches(cerfa(), KEY)
    assert matches(cerfa(employeurV2={"siret": "11111111100011"}, employeur=None), KEY)


@pytest.mark.parametrize(
    "changes",
    [
        {"employeur": {"siret": "22222222200022"}},
        {"apprenti": {"nom": "Martin", "prenom": "Jean-Luc", "dateNaissance": "2007-03-14"}},
        {"apprenti": {"nom": "Lefèvre", "prenom": "Jean", "dateNaissance": "2007-03-14"}},
        {"apprenti": {"nom": "Lefèvre", "prenom": "Jean-Luc", "dateNaissance": "2007-03-15"}},
        {"contrat": {"dateDebutContrat": "2026-09-02"}},
        {"contrat": None},
        {"apprenti": {"nom": "", "prenom": "", "dateNaissance": None}},
    ],
)
def test_does_not_match(changes: dict[str, Any]) -> None:
    assert not matches(cerfa(**changes), KEY)


def test_same_name() -> None:
    assert same_name("D'Artagnan-Élise", "dartagnan elise")
    assert not same_name("", "")
    assert not same_name(None, "x")


def test_parse_date() -> None:
    assert parse_date("2026-09-01T00:00:00+00:00") == date(2026, 9, 1)
    assert parse_date("2026-09-01") == date(2026, 9, 1)
    assert parse_date("01/09/2026") is None
    assert parse_date(20260901) is None


def test_cerfa_of() -> None:
    assert cerfa_of([{"cerfa": {"a": 1}}]) == {"a": 1}
    assert cerfa_of({"a": 1}) == {"a": 1}
    assert cerfa_of("x") is None
    assert cerfa_of({"cerfa": "x"}) is None


def test_fresh_and_recent_first() -> None:
    etats = [
        DossierEtat("1", None, None, "ENGAGE"),
        DossierEtat("2", None, None, "TRANSMIS"),
        DossierEtat("3", None, None, "REFUSE"),
        DossierEtat("4", None, None, "EN_COURS_INSTRUCTION"),
    ]
    assert [e.numero_interne for e in order_candidates(etats)] == ["4", "2", "3", "1"]


def test_normalise_leaves_other_values() -> None:
    body = {"IBAN": "FR1", "iban_other": "x", "nature": " hebergement ", "list": [{"IBAN": "FR2"}]}
    assert normalise(body) == {
        "iban": "FR1",
        "iban_other": "x",
        "nature": "HEBERGEMENT",
        "list": [{"iban": "FR2"}],
    }
    both = {"IBAN": "A", "iban": "B"}
    assert normalise(both) == both
