"""A facture against its dossiers' échéances: the checks of its lines (each finding a 422 item),
then the amounts it moves: in instruction when received, released when refused, paid when
settled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from relais.domain.json_types import Json
from relais_simulator.model import Dossier, Echeance, Facture, FactureLine
from relais_simulator.states import DossierEtat
from relais_simulator.wire import error_item


def check_lines(
    lines: list[FactureLine],
    montant: int,
    dossier_for: Callable[[str], Dossier],
    today: date,
) -> tuple[list[tuple[Echeance, int]], list[Json]]:
    """(the échéances to charge with their amounts, the findings); ``dossier_for`` raises for a
    dossier that is unknown or another CFA's."""
    errors: list[Json] = []
    targets: list[tuple[Echeance, int]] = []
    for i, line in enumerate(lines):
        champ = f"dossiers[{i}]"
        d = dossier_for(line.numero_interne_dossier)
        if d.etat not in (DossierEtat.ENGAGE, DossierEtat.RUPTURE):
            errors.append(error_item("ETAT_DOSSIER", champ, "Dossier non engagé"))
            continue
        e = next((x for x in d.echeances if x.numero == line.numero_echeance), None)
        if e is None:
            errors.append(
                error_item("ECHEANCE_INCONNUE", f"{champ}.numeroEcheance", "Échéance inconnue")
            )
        elif e.date_ouverture > today:
            errors.append(
                error_item(
                    "ECHEANCE_NON_OUVERTE",
                    f"{champ}.numeroEcheance",
                    "Échéance pas encore ouverte",
                )
            )
        elif line.montant > e.remaining:
            errors.append(
                error_item(
                    "MONTANT_SUPERIEUR_RESTANT",
                    f"{champ}.montant",
                    "Montant supérieur au restant dû",
                )
            )
        else:
            targets.append((e, line.montant))
    if abs(sum(line.montant for line in lines) - montant) > 1:
        errors.append(
            error_item(
                "MONTANT_INCOHERENT", "montantFacture", "Somme des lignes différente du montant"
            )
        )
    return targets, errors


def release(f: Facture, dossiers: dict[str, Dossier]) -> None:
    """A refused facture: its amounts are no longer in instruction."""
    for line in f.lines:
        d = dossiers.get(line.numero_interne_dossier)
        for e in d.echeances if d is not None else ():
            if e.numero == line.numero_echeance:
                e.montant_en_cours = max(0, e.montant_en_cours - line.montant)


def settle(f: Facture, dossiers: dict[str, Dossier]) -> dict[str, Dossier]:
    """A paid facture: its amounts move from in instruction to paid; the dossiers it touched."""
    touched: dict[str, Dossier] = {}
    for line in f.lines:
        d = dossiers.get(line.numero_interne_dossier)
        if d is None:
            continue
        for e in d.echeances:
            if e.numero == line.numero_echeance:
                e.montant_en_cours = max(0, e.montant_en_cours - line.montant)
                e.montant_regle += line.montant
        touched[d.numero_interne] = d
    return touched
