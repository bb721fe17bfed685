"""What the admin API shows: a dossier, a facture, the clock, the settings (JSON objects)."""

from __future__ import annotations

from relais.domain.json_types import Json
from relais_simulator.model import Dossier, Facture
from relais_simulator.state import Simulator
from relais_simulator.wire import euros, wire_date


def dossier_admin_view(d: Dossier) -> Json:
    return {
        "numeroInterne": d.numero_interne,
        "numeroExterne": d.numero_externe,
        "numeroDeca": d.numero_deca,
        "cfaSiret": d.cfa_siret,
        "naturalKey": d.natural_key,
        "etat": d.etat.value,
        "commentaireEtat": d.commentaire,
        "version": d.version,
        "createdDay": d.created_day,
        "decisionDay": d.decision_day,
        "engagement": None if d.engagement_cents is None else euros(d.engagement_cents),
        "npec": None if d.npec_cents is None else euros(d.npec_cents),
        "echeances": [
            {
                "numero": e.numero,
                "montantTotal": euros(e.montant_total),
                "montantRegle": euros(e.montant_regle),
                "montantEnCoursInstruction": euros(e.montant_en_cours),
                "dateOuverture": wire_date(e.date_ouverture),
            }
            for e in d.echeances
        ],
        "idConvention": d.convention_id,
        "dateRupture": wire_date(d.date_rupture),
        "history": [{"day": day, "etat": etat} for day, etat in d.history],
    }


def facture_admin_view(f: Facture) -> Json:
    return {
        "numeroInterneFacture": f.numero_interne_facture,
        "referenceFactureCFA": f.reference,
        "cfaSiret": f.cfa_siret,
        "montantFacture": euros(f.montant),
        "etatFacture": f.etat.value,
        "lines": [
            {
                "numeroInterneDossier": line.numero_interne_dossier,
                "numeroEcheance": line.numero_echeance,
                "montant": euros(line.montant),
            }
            for line in f.lines
        ],
        "history": [{"day": day, "etat": etat} for day, etat in f.history],
    }


def clock_view(sim: Simulator) -> Json:
    return {
        "day": sim.clock.day(),
        "today": sim.clock.today().isoformat(),
        "start": sim.clock.start.isoformat(),
        "day_seconds": sim.clock.day_seconds,
    }


def settings_view(sim: Simulator) -> Json:
    ins = sim.instruction
    return {
        "refusal_rate": ins.refusal_rate,
        "days_to_instruction": ins.days_to_instruction,
        "days_to_decision_min": ins.days_to_decision_min,
        "days_to_decision_max": ins.days_to_decision_max,
        "facture_days_to_instruction": ins.facture_days_to_instruction,
        "facture_days_to_payment": ins.facture_days_to_payment,
        "facture_refusal_rate": ins.facture_refusal_rate,
        "rate_limit": sim.rate_limit,
        "followup_rules": sim.followup_rules,
        "validation": sim.checker.source,
    }
