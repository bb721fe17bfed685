"""A dossier as its OPCO reads it back (``GET /v1/dossiers?numeroInterne=``, convergence-api.md 0
and 2.9): the échéancier with each échéance's amounts and codification, the billing details
(frais annexes already paid, their ceilings, which échéance carries which frais) and the frais
annexes engaged. Lenient: a field missing or of the wrong type is None, an unreadable item is
skipped; bounded (``MAX_ITEMS`` per list). Pure: the OPCO client gives the decoded JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from relais.domain.dates import parse_wire_date

MAX_ITEMS = 200


@dataclass(frozen=True)
class EcheanceLue:
    numero: int
    codification: str | None
    date_ouverture: date | None
    montant_total: float | None
    dont_montant_pedagogie: float | None
    dont_majoration_rqth: float | None
    montant_regle: float | None
    montant_en_cours_instruction: float | None
    siret_cfa: str | None


@dataclass(frozen=True)
class PeriodeFraisAnnexes:
    numero_echeance: int | None
    nature: str | None


@dataclass(frozen=True)
class DetailsFacturation:
    frais_premier_equipement_regles: bool | None
    frais_mobilite_regles: bool | None
    plafond_frais_premier_equipement: float | None
    plafond_frais_mobilite: float | None
    periodes_frais_annexes: tuple[PeriodeFraisAnnexes, ...]


@dataclass(frozen=True)
class FraisAnnexe:
    nature: str | None
    montant_total: float | None
    prix_unitaire: float | None
    quantite: float | None


@dataclass(frozen=True)
class DossierLu:
    numero_interne: str | None
    numero_externe: str | None
    etat: str | None
    echeances: tuple[EcheanceLue, ...]
    details_facturation: DetailsFacturation | None
    frais_annexes: tuple[FraisAnnexe, ...]

    @property
    def derniere_echeance(self) -> int | None:
        """The number of the last échéance (its lines are codified 99 on a facture)."""
        return max((e.numero for e in self.echeances), default=None)


def read_dossier(doc: Any) -> DossierLu:
    """The read model of ``doc`` (``{cerfa, echeances, detailsFacturation,
    engagementsFraisAnnexe}``; keys normalised by the client: ``iban``, upper-case natures)."""
    body: dict[str, Any] = doc if isinstance(doc, dict) else {}
    raw = body.get("cerfa")
    cerfa: dict[str, Any] = raw if isinstance(raw, dict) else {}
    details = body.get("detailsFacturation")
    return DossierLu(
        numero_interne=_text(cerfa.get("numeroInterne")),
        numero_externe=_text(cerfa.get("numeroExterne")),
        etat=_text(cerfa.get("etat")),
        echeances=tuple(_echeance(i) for i in _items(body, "echeances") if _number(i) is not None),
        details_facturation=_details(details) if isinstance(details, dict) else None,
        frais_annexes=tuple(_frais(i) for i in _items(body, "engagementsFraisAnnexe")),
    )


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value[:MAX_ITEMS] if isinstance(item, dict)]


def _echeance(item: dict[str, Any]) -> EcheanceLue:
    numero = _number(item)
    assert numero is not None
    return EcheanceLue(
        numero=numero,
        codification=_text(item.get("codification")),
        date_ouverture=_date(item.get("dateOuverture")),
        montant_total=_amount(item.get("montantTotal")),
        dont_montant_pedagogie=_amount(item.get("dontMontantPedagogie")),
        dont_majoration_rqth=_amount(item.get("dontMajorationRqth")),
        montant_regle=_amount(item.get("montantRegle")),
        montant_en_cours_instruction=_amount(item.get("montantEnCoursInstruction")),
        siret_cfa=_text(item.get("siretCfa")),
    )


def _details(raw: dict[str, Any]) -> DetailsFacturation:
    periodes = _items(raw, "periodesFraisAnnexes")
    return DetailsFacturation(
        frais_premier_equipement_regles=_bool(raw.get("fraisPremierEquipementRegles")),
        frais_mobilite_regles=_bool(raw.get("fraisMobiliteRegles")),
        plafond_frais_premier_equipement=_amount(raw.get("plafondFraisPremierEquipement")),
        plafond_frais_mobilite=_amount(raw.get("plafondFraisMobilite")),
        periodes_frais_annexes=tuple(
            PeriodeFraisAnnexes(_int(p.get("numeroEcheance")), _text(p.get("nature")))
            for p in periodes
        ),
    )


def _frais(item: dict[str, Any]) -> FraisAnnexe:
    return FraisAnnexe(
        nature=_text(item.get("natureFrais")),
        montant_total=_amount(item.get("montantTotal")),
        prix_unitaire=_amount(item.get("prixUnitaire")),
        quantite=_amount(item.get("quantite")),
    )


def _number(item: dict[str, Any]) -> int | None:
    return _int(item.get("numero"))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value.strip())
    return None


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) < 1e12 else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip()[:200] or None if isinstance(value, str) else None


def _date(value: Any) -> date | None:
    try:
        return parse_wire_date(value) if value else None
    except (TypeError, ValueError):
        return None
