"""A dossier's engagement at its decision: from its facts and its convention's costs to the
échéances and frais annexes (financing.py), its DECA number, and the prorata at a rupture."""

from __future__ import annotations

from datetime import date, timedelta

from relais.domain.json_types import Json
from relais_simulator.financing import (
    ContractTerms,
    NpecTable,
    compute_engagement,
    frais_from_convention,
)
from relais_simulator.model import Dossier, Echeance
from relais_simulator.wire import cents

DEFAULT_NPEC_CENTS = 700_000


def numero_deca(d: Dossier, today: date) -> str:
    """The DECA number given at the engagement: department, start month, the dossier's number."""
    n = int("".join(c for c in d.numero_interne if c.isdigit()) or "0")  # MOBILITES: MO-0000042-7
    cp = d.facts.code_postal
    dept = "0" + cp[:2] if cp[:2].isdigit() else "075"
    debut = d.facts.date_debut or today
    return f"{dept}{debut.year:04d}{debut.month:02d}{n % 100:02d}{n % 10000:04d}"


def compute_dossier_engagement(d: Dossier, couts: Json, npec_table: NpecTable, today: date) -> None:
    """Set the dossier's NPEC, engagement, échéances and frais; ``today``: its creation day."""
    facts = d.facts
    debut = facts.date_debut or today
    fin = max(facts.date_fin or (debut + timedelta(days=730)), debut)
    conclusion = facts.date_conclusion or debut
    npec = npec_table.lookup(facts.certifications, facts.idcc, conclusion)
    cout_total = cents(couts.get("coutTotalPedagogieCFA"))
    # the convention states a total for the contract; the cap applies per contract year
    days = (fin - debut).days + 1
    cout = None if cout_total is None else cout_total * 365 // max(1, days)
    terms = ContractTerms(
        date_debut=debut,
        date_fin=fin,
        date_conclusion=conclusion,
        npec_cents=npec if npec is not None else DEFAULT_NPEC_CENTS,
        duree_formation_h=facts.duree_formation_h,
        heures_distanciel=facts.heures_distanciel,
        type_diplome=facts.type_diplome or None,
        cout_pedagogie_cents=cout if cout and cout > 0 else None,
    )
    engagement = compute_engagement(terms, frais_from_convention(couts))
    d.npec_cents = engagement.npec_cents
    d.engagement_cents = engagement.total_cents
    d.echeances = [
        Echeance(
            e.numero,
            e.codification,
            e.montant_cents,
            e.date_ouverture,
            e.date_debut,
            e.date_fin,
        )
        for e in engagement.echeances
    ]
    d.frais = list(engagement.frais)


def prorate_at_rupture(d: Dossier, date_rupture: date) -> None:
    """The OPCO pays up to the rupture date (convergence-api.md §3.6, appendix A: "remaining
    échéances prorated"): an échéance not open at the rupture is cut to what was already invoiced,
    one whose period straddles the rupture is prorated by day over that period; never below what
    was invoiced. The engagement follows (échéances + frais annexes)."""
    for e in d.echeances:
        floor = e.montant_regle + e.montant_en_cours
        if e.date_ouverture > date_rupture:
            e.montant_total = floor
        elif e.date_fin > date_rupture:
            length = (e.date_fin - e.date_debut).days + 1
            kept = max(0, (date_rupture - e.date_debut).days + 1)
            e.montant_total = max(floor, round(e.montant_total * kept / length))
    if d.engagement_cents is not None:
        frais = sum(f.montant_cents for f in d.frais)
        d.engagement_cents = sum(e.montant_total for e in d.echeances) + frais
