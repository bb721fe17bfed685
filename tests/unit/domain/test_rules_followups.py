import copy
import json
from typing import Any

import pytest

from relais.domain.validation import ValidationReport, validate_followup

from .conftest import EXAMPLES, TODAY, codes, set_path


def example(kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (EXAMPLES / "followups" / f"{kind}.json").read_text(encoding="utf-8")
    )
    return data


def check(kind: str, body: object) -> ValidationReport:
    return validate_followup(kind, body, today=TODAY)


@pytest.mark.parametrize("kind", ["convention", "facture", "certificat", "rupture"])
def test_examples_are_valid(kind: str) -> None:
    result = check(kind, example(kind))
    assert result.findings == []
    assert result.valid and result.opco is None


@pytest.mark.parametrize("kind", ["convention", "facture", "certificat", "rupture"])
def test_empty_bodies_list_what_is_missing(kind: str) -> None:
    result = check(kind, {})
    assert not result.valid
    assert {f.code for f in result.errors} <= {"CHAMP_OBLIGATOIRE", "FACTURE_SANS_LIGNE"}


@pytest.mark.parametrize(
    ("path", "value", "finding"),
    [
        (
            "couts.montantPremierEquipement",
            500.01,
            ("error", "CONVENTION_PREMIER_EQUIPEMENT_PLAFOND", "couts.montantPremierEquipement"),
        ),
        (
            "couts.coutTotalPedagogieCFA",
            0,
            ("error", "CONVENTION_COUT_PEDAGOGIQUE", "couts.coutTotalPedagogieCFA"),
        ),
        ("couts.nombreRepasTotaux", -1, ("error", "MONTANT_NEGATIF", "couts.nombreRepasTotaux")),
        (
            "attestationConventionSigneeCFA",
            False,
            ("error", "CONVENTION_NON_SIGNEE", "attestationConventionSigneeCFA"),
        ),
        (
            "dateSignature",
            "2026-11-28",
            ("warning", "CONVENTION_SIGNATURE_FUTURE", "dateSignature"),
        ),
        ("employeur.siret", "82834757500016", ("error", "EMPLOYEUR_SIRET_CLE", "employeur.siret")),
        (
            "organismeFormation.uaiCfa",
            "0755123A",
            ("error", "CFA_UAI_CLE", "organismeFormation.uaiCfa"),
        ),
        (
            "contrat.dateFinContrat",
            "2026-11-30",
            ("error", "CONTRAT_FIN_AVANT_DEBUT", "contrat.dateFinContrat"),
        ),
        (
            "couts.coutTotalPedagogieCFA",
            "beaucoup",
            ("error", "TYPE_INVALIDE", "couts.coutTotalPedagogieCFA"),
        ),
    ],
)
def test_convention_rules(path: str, value: Any, finding: tuple[str, str, str]) -> None:
    assert finding in codes(check("convention", set_path(example("convention"), path, value)))


@pytest.mark.parametrize(
    ("path", "value", "finding"),
    [
        ("montantFacture", 4200.0, ("error", "FACTURE_MONTANT_TOTAL", "montantFacture")),
        ("montantFacture", 0, ("error", "FACTURE_MONTANT", "montantFacture")),
        (
            "organismeFormation.iban",
            "FR7630006000011234567890188",
            ("error", "FACTURE_IBAN_CLE", "organismeFormation.iban"),
        ),
        (
            "organismeFormation.iban",
            "FR76",
            ("error", "FACTURE_IBAN_FORMAT", "organismeFormation.iban"),
        ),
        (
            "dossiers[1].numeroEcheance",
            0,
            ("error", "FACTURE_NUMERO_ECHEANCE", "dossiers[1].numeroEcheance"),
        ),
        ("dossiers[0].montant", -3000, ("error", "FACTURE_LIGNE_MONTANT", "dossiers[0].montant")),
        (
            "dossiers[1].numeroInterneDossier",
            "AKTO-000123",
            ("error", "FACTURE_LIGNE_DOUBLON", "dossiers[1]"),
        ),
        (
            "dossiers[0].numeroInterneDossier",
            ...,
            ("error", "FACTURE_LIGNE_SANS_DOSSIER", "dossiers[0].numeroInterneDossier"),
        ),
        ("dossiers", [], ("error", "FACTURE_SANS_LIGNE", "dossiers")),
        ("dateFacture", "2026-12-01", ("warning", "FACTURE_DATE_FUTURE", "dateFacture")),
        ("referenceFactureCFA", "R" * 51, ("error", "LONGUEUR_MAX", "referenceFactureCFA")),
    ],
)
def test_facture_rules(path: str, value: Any, finding: tuple[str, str, str]) -> None:
    assert finding in codes(check("facture", set_path(example("facture"), path, value)))


def test_facture_total_tolerates_a_cent_of_rounding() -> None:
    assert check("facture", set_path(example("facture"), "montantFacture", 4200.51)).valid
    assert not check("facture", set_path(example("facture"), "montantFacture", 4200.52)).valid


def test_facture_event_shape_and_uppercase_iban() -> None:
    body = example("facture")
    org = body["organismeFormation"]
    org["IBAN"] = org.pop("iban")
    body["lignes"] = [
        {"dossierId": f"CFA-{i}", "numeroEcheance": 1, "montant": line["montant"]}
        for i, line in enumerate(body.pop("dossiers"))
    ]
    assert check("facture", body).findings == []
    body["organismeFormation"]["IBAN"] = "FR7630006000011234567890188"
    assert ("error", "FACTURE_IBAN_CLE", "organismeFormation.IBAN") in codes(check("facture", body))


@pytest.mark.parametrize(
    ("path", "value", "finding"),
    [
        (
            "typeCertificat",
            "Intermédiaire",
            ("warning", "CERTIFICAT_TYPE_ORTHOGRAPHE", "typeCertificat"),
        ),
        ("typeCertificat", "Partiel", ("error", "CERTIFICAT_TYPE", "typeCertificat")),
        ("echeance.numero", 0, ("error", "CERTIFICAT_NUMERO_ECHEANCE", "echeance.numero")),
        (
            "echeance.dateFin",
            "2026-02-28",
            ("error", "CERTIFICAT_PERIODE_INVERSEE", "echeance.dateFin"),
        ),
        (
            "dateSignature",
            "2026-02-01",
            ("warning", "CERTIFICAT_SIGNE_AVANT_PERIODE", "dateSignature"),
        ),
        (
            "dateSignature",
            "2026-12-01",
            ("warning", "CERTIFICAT_SIGNATURE_FUTURE", "dateSignature"),
        ),
        ("echeance", ..., ("error", "CHAMP_OBLIGATOIRE", "echeance")),
    ],
)
def test_certificat_rules(path: str, value: Any, finding: tuple[str, str, str]) -> None:
    assert finding in codes(check("certificat", set_path(example("certificat"), path, value)))


def test_rupture_rules() -> None:
    body = example("rupture")
    assert ("warning", "RUPTURE_DATE_FUTURE", "dateRupture") in codes(
        check("rupture", set_path(copy.deepcopy(body), "dateRupture", "2026-12-15"))
    )
    assert ("error", "DATE_INVALIDE", "dateRupture") in codes(
        check("rupture", set_path(copy.deepcopy(body), "dateRupture", "15/11/2026"))
    )
    assert ("error", "CHAMP_OBLIGATOIRE", "motif") in codes(
        check("rupture", set_path(copy.deepcopy(body), "motif", ""))
    )
    assert ("error", "LONGUEUR_MAX", "motif") in codes(
        check("rupture", set_path(body, "motif", "x" * 256))
    )
