"""The read model of a dossier as the OPCO answers it (convergence-api.md 0): échéances with their
amounts and codification, billing details and frais annexes, read leniently and bounded."""

from __future__ import annotations

from datetime import date
from typing import Any

from relais.domain.dossier_read import MAX_ITEMS, PeriodeFraisAnnexes, read_dossier

ANSWER: dict[str, Any] = {
    "cerfa": {"numeroInterne": "1234567", "numeroExterne": "2026AK000123", "etat": "ENGAGE"},
    "echeances": [
        {
            "numero": 1,
            "codification": "1",
            "dateOuverture": "2026-09-01T00:00:00+02:00",
            "montantTotal": 3200.5,
            "dontMajorationRqth": 0,
            "dontMontantPedagogie": 3000.5,
            "montantRegle": 1000,
            "montantEnCoursInstruction": 200,
            "siretCfa": "13098723300017",
        },
        {"numero": "4", "codification": "99", "dateOuverture": "not a date", "montantTotal": "x"},
        {"numero": True},
        "junk",
    ],
    "detailsFacturation": {
        "fraisPremierEquipementRegles": True,
        "fraisMobiliteRegles": "yes",
        "plafondFraisPremierEquipement": 500,
        "plafondFraisMobilite": 600.0,
        "periodesFraisAnnexes": [{"numeroEcheance": 1, "nature": "RESTAURATION"}, 3],
    },
    "engagementsFraisAnnexe": [
        {"natureFrais": "HEBERGEMENT", "montantTotal": 300, "prixUnitaire": 6, "quantite": 50}
    ],
}


def test_the_read_model_is_parsed() -> None:
    d = read_dossier(ANSWER)
    assert (d.numero_interne, d.numero_externe, d.etat) == ("1234567", "2026AK000123", "ENGAGE")
    first, last = d.echeances
    assert first.date_ouverture == date(2026, 9, 1)
    assert (first.montant_total, first.dont_montant_pedagogie, first.dont_majoration_rqth) == (
        3200.5,
        3000.5,
        0.0,
    )
    assert (first.montant_regle, first.montant_en_cours_instruction) == (1000.0, 200.0)
    assert first.siret_cfa == "13098723300017"
    assert (last.numero, last.codification, last.date_ouverture, last.montant_total) == (
        4,
        "99",
        None,
        None,
    )
    assert d.derniere_echeance == 4
    details = d.details_facturation
    assert details is not None
    assert details.frais_premier_equipement_regles is True
    assert details.frais_mobilite_regles is None  # not a boolean
    assert (details.plafond_frais_premier_equipement, details.plafond_frais_mobilite) == (500, 600)
    assert details.periodes_frais_annexes == (PeriodeFraisAnnexes(1, "RESTAURATION"),)
    [frais] = d.frais_annexes
    assert (frais.nature, frais.montant_total, frais.prix_unitaire, frais.quantite) == (
        "HEBERGEMENT",
        300,
        6,
        50,
    )


def test_anything_else_reads_as_empty_and_lists_are_bounded() -> None:
    for junk in (None, [], "x", {"cerfa": 3, "echeances": {}, "detailsFacturation": []}):
        d = read_dossier(junk)
        assert d.echeances == () and d.details_facturation is None and d.frais_annexes == ()
        assert d.derniere_echeance is None
    many = {"echeances": [{"numero": i} for i in range(MAX_ITEMS * 5)]}
    assert len(read_dossier(many).echeances) == MAX_ITEMS
