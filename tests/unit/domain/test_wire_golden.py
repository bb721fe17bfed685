"""Send what was validated (issue 15, item 3): the exact bytes of each route's body, per OPCO quirk.

Each golden file under ``golden/`` is the body relais sends for the messy input below (numbers as
strings, spaces in identifiers, lower-case codes, timestamps, an unknown key, WEDOF's field
name). The assertions before each comparison say, in words, what the bytes must show; the bytes
themselves are reviewed by hand when a golden file changes (``UPDATE_GOLDEN=1`` rewrites them).
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from relais.domain.cerfa import Cerfa
from relais.domain.followups import Certificat, Convention, Facture, Rupture
from relais.domain.profiles import Quirks
from relais.domain.wire import (
    certificat_body,
    convention_body,
    dossier_body,
    encode,
    facture_body,
    rupture_body,
)

from .conftest import load_example

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str, body: dict[str, Any]) -> None:
    path = GOLDEN / name
    data = encode(body)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_bytes(data + b"\n")
    assert data + b"\n" == path.read_bytes(), f"{name} differs from the bytes relais sends"


def messy_cerfa() -> dict[str, Any]:
    doc = copy.deepcopy(load_example("initial-11.json"))
    doc["employeur"]["siret"] = "828 347 575 00015"
    doc["employeur"]["codeIdcc"] = 1486
    doc["employeur"]["naf"] = "6202a"
    doc["employeur"]["telephone"] = "01.45.67.89.01"
    doc["employeur"]["nombreDeSalaries"] = "42"
    doc["apprenti"]["nir"] = "1 07 03 75 123 456 80"
    doc["apprenti"]["nationalite"] = "1"
    doc["apprenti"]["dateNaissance"] = "2007-03-14T23:00:00.000Z"  # Paris midnight of the 15th
    doc["organismeFormation"]["uaiCfa"] = "0755123l"
    doc["formation"]["rncp"] = "35340"
    doc["contrat"]["typeContratApp"] = "11"
    doc["contrat"]["dateFormationPratiqueEmployeur"] = doc["contrat"].pop(
        "dateDebutFormationPratique"
    )
    doc["contrat"]["champMaison"] = "never sent"
    doc["apprenti"]["nom"] = "  Martin "
    return doc


def test_dossier_body_is_the_validated_cerfa_in_wire_form() -> None:
    body = dossier_body(Cerfa.model_validate(messy_cerfa()))
    cerfa = body["cerfa"]
    assert cerfa["employeur"]["siret"] == "82834757500015"
    assert cerfa["employeur"]["codeIdcc"] == "1486"
    assert cerfa["employeur"]["naf"] == "6202A"
    assert cerfa["employeur"]["telephone"] == "0145678901"
    assert cerfa["employeur"]["nombreDeSalaries"] == 42
    assert cerfa["apprenti"]["nir"] == "107037512345680"
    assert cerfa["apprenti"]["nationalite"] == 1
    assert cerfa["apprenti"]["nom"] == "Martin"
    assert cerfa["apprenti"]["dateNaissance"] == "2007-03-15T00:00:00+01:00"
    assert cerfa["apprenti"]["handicap"] is False
    assert cerfa["organismeFormation"]["uaiCfa"] == "0755123L"
    assert cerfa["formation"]["rncp"] == "RNCP35340"
    assert cerfa["contrat"]["typeContratApp"] == 11
    assert cerfa["contrat"]["dateDebutContrat"] == "2026-12-01T00:00:00+01:00"
    assert cerfa["contrat"]["dateDebutFormationPratique"] == "2026-12-01T00:00:00+01:00"
    assert "champMaison" not in cerfa["contrat"]
    assert "dateFormationPratiqueEmployeur" not in cerfa["contrat"]
    assert cerfa["contrat"]["remunerationsAnnuelles"][0] == {
        "ordre": "1.1",
        "dateDebut": "2026-12-01T00:00:00+01:00",
        "dateFin": "2027-11-30T00:00:00+01:00",
        "taux": 43.0,
        "typeSalaire": "SMIC",
    }
    golden("dossier.json", body)


def test_summer_dates_carry_the_summer_offset() -> None:
    doc = messy_cerfa()
    doc["contrat"]["dateFinContrat"] = "2028-08-31"
    body = dossier_body(Cerfa.model_validate(doc))
    assert body["cerfa"]["contrat"]["dateFinContrat"] == "2028-08-31T00:00:00+02:00"


def test_dossier_quirks_signature_spelling_and_pratique_field() -> None:
    quirks = Quirks(
        cerfa_signature_key="CERFAsignatureProbante",
        pratique_field="dateFormationPratiqueEmployeur",
    )
    body = dossier_body(Cerfa.model_validate(messy_cerfa()), quirks)
    assert body["cerfa"]["CERFAsignatureProbante"] is True
    assert "CERFASignatureProbante" not in body["cerfa"]
    assert body["cerfa"]["contrat"]["dateFormationPratiqueEmployeur"] == (
        "2026-12-01T00:00:00+01:00"
    )
    golden("dossier-quirks.json", body)


CONVENTION = {
    "numeroInterneDossier": "1234567",
    "employeur": {"siret": "828 347 575 00015"},
    "apprenti": {"nom": "Martin", "prenom": "Lucas", "dateNaissance": "2007-03-15"},
    "contrat": {"dateDebutContrat": "2026-12-01", "dateFinContrat": "2028-08-31"},
    "organismeFormation": {"siret": "13098723300017", "uaiCfa": "0755123l"},
    "formation": {"rncp": "RNCP35340", "dureeFormation": "1350"},
    "couts": {"coutTotalPedagogieCFA": 14500, "nombreRepasTotaux": 120, "autre": 1},
    "dateSignature": "2026-11-25T10:00:00+01:00",
    "attestationConventionSigneeEntreprise": True,
    "attestationConventionSigneeCFA": True,
}


def test_convention_body() -> None:
    body = convention_body(Convention.model_validate(CONVENTION), "ignored")
    assert body["numeroInterneDossier"] == "1234567"
    assert body["formation"]["dureeFormation"] == 1350
    assert body["dateSignature"] == "2026-11-25T00:00:00+00:00"
    assert "autre" not in body["couts"]
    golden("convention.json", body)


FACTURE = {
    "referenceFactureCFA": "FAC-2027-0042 ",
    "dateFacture": "2027-06-02",
    "montantFacture": 4350.5,
    "organismeFormation": {
        "siret": "130 987 233 00017",
        "IBAN": "fr76 3000 6000 0112 3456 7890 189",
    },
    "lignes": [
        {"dossierId": "D-1", "numeroEcheance": "2", "montant": 2850.5},
        {
            "dossierId": "D-1",
            "numeroEcheance": 4,
            "codificationEcheance": 99,
            "natureLigne": "restauration",
            "quantite": "3",
            "montant": 300,
        },
        {"dossierId": "D-2", "numeroEcheance": 1, "montant": 1200, "natureLigne": "PEDAGOGIE"},
    ],
}


def test_facture_body_on_several_echeances() -> None:
    """convergence-api.md 0's facture (the ``facture`` part of a multipart body): the CFA's
    invoice number as ``numero``, the dossiers by their numeroExterne, 99 for a last échéance,
    the certificat de réalisation flag true past échéance 1; the IBAN as ``ibanEmetteur``
    whatever key the CFA used."""
    externes = {"D-1": "2026AK000123", "D-2": "2026AK000456"}
    body = facture_body(Facture.model_validate(FACTURE), externes)
    assert list(body) == [
        "montantTotal",
        "numero",
        "dateEmission",
        "ibanEmetteur",
        "siretEmetteur",
        "estCertificatRealisation",
        "lignes",
    ]
    assert body["numero"] == "FAC-2027-0042"
    assert body["dateEmission"] == "2027-06-02T00:00:00+00:00"
    assert body["ibanEmetteur"] == "FR7630006000011234567890189"
    assert body["siretEmetteur"] == "13098723300017"
    assert body["estCertificatRealisation"] is True
    assert [line["numeroDossier"] for line in body["lignes"]] == [
        "2026AK000123",
        "2026AK000123",
        "2026AK000456",
    ]
    assert [line["codificationEcheance"] for line in body["lignes"]] == [2, 99, 1]
    assert [line["natureLigne"] for line in body["lignes"]] == [
        "PEDAGOGIE",
        "RESTAURATION",
        "PEDAGOGIE",
    ]
    assert body["lignes"][1]["quantite"] == 3
    golden("facture.json", body)


def test_facture_on_the_first_echeance_is_no_certificat() -> None:
    first = {**FACTURE, "lignes": [FACTURE["lignes"][2]]}  # type: ignore[index]
    body = facture_body(Facture.model_validate(first), {"D-2": "X"})
    assert body["estCertificatRealisation"] is False
    told = {**first, "estCertificatRealisation": True}
    assert facture_body(Facture.model_validate(told), {"D-2": "X"})["estCertificatRealisation"]


def test_certificat_and_rupture_bodies() -> None:
    certificat = Certificat.model_validate(
        {
            "typeCertificat": "Intermediaire",
            "dateSignature": "2027-06-30",
            "echeance": {"numero": "2", "dateDebut": "2027-06-01", "dateFin": "2027-08-31"},
            "representantLegal": {"nom": "Durand", "prenom": "Sophie", "qualite": "Directrice"},
        }
    )
    body = certificat_body(certificat, "1234567")
    assert body["echeance"]["numero"] == 2 and body["numeroInterneDossier"] == "1234567"
    golden("certificat.json", body)
    rupture = Rupture.model_validate(
        {"dateRupture": "2027-03-14T23:30:00Z", "motif": " Démission "}
    )
    body = rupture_body(rupture, "1234567")
    assert body == {
        "numeroInterne": "1234567",
        "dateRupture": "2027-03-15T00:00:00+00:00",
        "motif": "Démission",
    }
    golden("rupture.json", body)


def test_encoding_is_utf8_compact_and_refuses_nan() -> None:
    assert (
        encode({"a": "é", "b": [1, 2.5, True, None]}) == '{"a":"é","b":[1,2.5,true,null]}'.encode()
    )
    with pytest.raises(ValueError):
        encode({"x": float("nan")})
    assert json.loads(encode(dossier_body(Cerfa.model_validate(messy_cerfa()))))
