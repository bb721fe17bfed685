"""One OPCO's books: duplicates on every kind of object, instruction on the clock, facture rules."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais_simulator.cerfa_facts import digest, natural_key
from relais_simulator.financing import NpecRow, NpecTable
from relais_simulator.instruction import Instruction
from relais_simulator.model import FactureLine
from relais_simulator.states import DossierEtat, FactureEtat
from relais_simulator.store import OpcoStore, Rejection

START = date(2026, 11, 27)
CFA = "73282932000074"
OTHER_CFA = "98765432400019"


def date_of(day: float) -> date:
    return START + timedelta(days=int(day))


def make_store(**instruction: Any) -> OpcoStore:
    counter = itertools.count(1)
    ins = Instruction(refusal_rate=0.0, **instruction)
    npec = NpecTable([NpecRow("*", "*", 800_000, date(2019, 1, 1))])
    return OpcoStore(OpcoCode.ATLAS, lambda: next(counter), ins, npec, date_of)


def cerfa(
    nom: str = "Martin", debut: str = "2026-12-01", siret: str = "73282932000074"
) -> dict[str, Any]:
    return {
        "employeur": {"siret": siret, "codeIdcc": "1486", "adresse": {"codePostal": "69003"}},
        "apprenti": {"nom": nom, "prenom": "Léa", "dateNaissance": "2005-03-02"},
        "contrat": {
            "typeContratApp": 11,
            "dateDebutContrat": debut,
            "dateFinContrat": "2028-11-30",
            "dateConclusion": "2026-11-20",
        },
        "formation": {"rncp": "RNCP1", "dureeFormation": 1200, "typeDiplome": 54},
        "organismeFormation": {"siret": CFA},
    }


def create(store: OpcoStore, c: dict[str, Any] | None = None, day: float = 0.0) -> Any:
    c = c or cerfa()
    key = natural_key(c)
    assert key is not None
    return store.create_dossier(CFA, key, c, day, "v1")


def engaged(store: OpcoStore) -> Any:
    d = create(store)
    store.advance_to(5)  # engaged on day 2-3; E1 opens with the contract on day 4
    assert d.etat is DossierEtat.ENGAGE
    return d


def test_natural_key_ignores_case_spaces_and_date_format() -> None:
    a = cerfa()
    b = cerfa(nom=" MARTIN ", debut="2026-12-01T00:00:00+00:00")
    assert natural_key(a) == natural_key(b)
    assert natural_key(cerfa(nom="Durand")) != natural_key(a)
    assert natural_key({"employeur": {}}) is None


def test_avenants_of_one_contract_differ_by_their_effect_date() -> None:
    first = cerfa()
    first["contrat"].update(typeContratApp=36, dateEffetAvenant="2027-03-01")
    second = cerfa()
    second["contrat"].update(typeContratApp=36, dateEffetAvenant="2027-09-01")
    assert natural_key(first) != natural_key(second)
    assert natural_key(first) != natural_key(cerfa())
    resend = cerfa()
    resend["contrat"].update(typeContratApp=36, dateEffetAvenant="2027-03-01T00:00:00Z")
    assert natural_key(first) == natural_key(resend)


def test_dossier_duplicate_is_found_by_natural_key() -> None:
    store = make_store()
    d = create(store)
    key = natural_key(cerfa(nom="martin"))
    assert key is not None
    found = store.find_duplicate_dossier(digest(key))
    assert found is d
    assert store.find_duplicate_dossier(digest(natural_key(cerfa(nom="Autre")) or ())) is None


def test_instruction_runs_on_the_clock() -> None:
    store = make_store(days_to_instruction=1, days_to_decision_min=2, days_to_decision_max=2)
    d = create(store)
    assert d.etat is DossierEtat.TRANSMIS
    store.advance_to(0.99)
    assert d.etat is DossierEtat.TRANSMIS
    store.advance_to(1)
    assert d.etat is DossierEtat.EN_COURS_INSTRUCTION
    store.advance_to(2)
    assert d.etat is DossierEtat.ENGAGE
    assert d.numero_deca is not None and len(d.numero_deca) == 15
    assert d.engagement_cents == 1_600_000
    assert [h[1] for h in d.history] == ["TRANSMIS", "EN_COURS_INSTRUCTION", "ENGAGE"]


def test_refusal_is_deterministic_by_rule_and_by_seeded_share() -> None:
    store = make_store()
    refused = create(store, cerfa(nom="REFUS-test"))
    store.advance_to(5)
    assert refused.etat is DossierEtat.REFUSE
    assert refused.commentaire

    def fates(seed: int) -> list[bool]:
        s = make_store(seed=seed)
        s.instruction.refusal_rate = 0.5
        return [create(s, cerfa(nom=f"Nom{i}")).refuse for i in range(40)]

    assert fates(7) == fates(7)
    assert 5 < sum(fates(7)) < 35


def test_one_convention_per_dossier() -> None:
    store = make_store()
    d = create(store)
    c = store.add_convention(d, {"coutTotalPedagogieCFA": 7000})
    with pytest.raises(Rejection) as exc:
        store.add_convention(d, {})
    assert exc.value.status == 409
    assert exc.value.ids["idConvention"] == c.id_convention


def test_convention_cost_and_frais_change_the_engagement() -> None:
    store = make_store()
    d = create(store)
    # a total of 5000 € over a two-year contract: 2500 € a year, under the NPEC (8000 €)
    store.add_convention(d, {"coutTotalPedagogieCFA": 5000, "nombreRepasTotaux": 10})
    store.advance_to(3)
    assert d.engagement_cents == pytest.approx(500_000 + 3_000, rel=0.005)  # 731 days: leap year


def test_dossier_of_another_cfa_is_forbidden_and_unknown_is_404() -> None:
    store = make_store()
    d = create(store)
    with pytest.raises(Rejection) as exc:
        store.dossier_for(OTHER_CFA, d.numero_interne)
    assert exc.value.status == 403
    with pytest.raises(Rejection) as exc:
        store.dossier_for(CFA, "nope")
    assert exc.value.status == 404


def facture(store: OpcoStore, ref: str, d: Any, numero: int, cents: int, day: float = 5) -> Any:
    lines = [FactureLine(d.numero_interne, numero, cents)]
    return store.add_facture(CFA, ref, cents, None, None, lines, day)


def test_facture_rules_open_echeance_remaining_amount_and_duplicate() -> None:
    store = make_store()
    d = engaged(store)
    first = d.echeances[0]
    with pytest.raises(Rejection) as exc:
        facture(store, "F-1", d, 2, 100)  # opens in the 7th month
    assert exc.value.status == 422
    assert exc.value.errors[0]["code"] == "ECHEANCE_NON_OUVERTE"
    with pytest.raises(Rejection) as exc:
        facture(store, "F-1", d, 1, first.montant_total + 1)
    assert exc.value.errors[0]["code"] == "MONTANT_SUPERIEUR_RESTANT"
    f = facture(store, "F-1", d, 1, first.montant_total)
    assert first.montant_en_cours == first.montant_total
    with pytest.raises(Rejection) as exc:
        facture(store, "F-1", d, 1, 1)
    assert exc.value.status == 409
    assert exc.value.ids["numeroInterneFacture"] == f.numero_interne_facture
    with pytest.raises(Rejection) as exc:
        facture(store, "F-2", d, 1, 1)  # nothing left on E1
    assert exc.value.status == 422


def test_facture_is_paid_on_the_clock_and_the_last_payment_solde_the_dossier() -> None:
    store = make_store()
    d = engaged(store)
    f = facture(store, "F-1", d, 1, d.echeances[0].montant_total)
    store.advance_to(6)
    assert f.etat is FactureEtat.EN_COURS_INSTRUCTION
    store.advance_to(8)
    assert f.etat is FactureEtat.REGLE
    assert f.reference_virement and f.date_reglement == date_of(8)
    assert d.echeances[0].montant_regle == d.echeances[0].montant_total
    assert d.echeances[0].montant_en_cours == 0
    # pay everything else, once each échéance has opened
    day = 8.0
    for i, e in enumerate(d.echeances[1:], start=2):
        day = max(day, float((e.date_ouverture - START).days))
        store.advance_to(day)
        facture(store, f"F-{i}", d, e.numero, e.montant_total, day)
    store.advance_to(day + 3)
    assert d.etat is DossierEtat.SOLDE


def test_rupture_needs_an_engaged_dossier_and_happens_once() -> None:
    store = make_store()
    d = create(store)
    with pytest.raises(Rejection) as exc:
        store.rupture(d, date(2027, 1, 10), 0)
    assert exc.value.status == 422
    store.advance_to(3)
    store.rupture(d, date(2027, 1, 10), 3)
    assert d.etat is DossierEtat.RUPTURE
    assert d.date_rupture == date(2027, 1, 10)
    # échéances not open at the rupture are cut to what was invoiced (nothing)
    assert all(e.montant_total == 0 for e in d.echeances if e.date_ouverture > date(2027, 1, 10))
    with pytest.raises(Rejection) as exc:
        store.rupture(d, date(2027, 1, 10), 3)
    assert exc.value.status == 409


def test_rupture_prorates_the_echeance_it_falls_in_and_the_engagement_follows() -> None:
    store = make_store()
    d = engaged(store)
    e1 = d.echeances[0]
    before = e1.montant_total
    frais = sum(f.montant_cents for f in d.frais)
    length = (e1.date_fin - e1.date_debut).days + 1
    rupture = e1.date_debut + timedelta(days=length // 2 - 1)  # half of E1's period
    store.rupture(d, rupture, 5)
    assert e1.montant_total == round(before * (length // 2) / length)
    assert all(e.montant_total == 0 for e in d.echeances[1:])
    assert d.engagement_cents == sum(e.montant_total for e in d.echeances) + frais
    # a convention arriving after the rupture does not bring the cut échéances back
    store.add_convention(d, {"coutTotalPedagogieCFA": 9000, "nombreRepasTotaux": 10})
    assert d.echeances[0].montant_total == e1.montant_total
    assert all(e.montant_total == 0 for e in d.echeances[1:])


def test_rupture_never_cuts_below_what_was_invoiced() -> None:
    store = make_store()
    d = engaged(store)
    e1 = d.echeances[0]
    facture(store, "F-1", d, 1, e1.montant_total)
    store.rupture(d, e1.date_debut + timedelta(days=10), 5)
    assert e1.montant_total == e1.montant_regle + e1.montant_en_cours > 0


def test_one_certificat_per_dossier_and_echeance() -> None:
    store = make_store()
    d = engaged(store)
    c = store.add_certificat(d, 1)
    with pytest.raises(Rejection) as exc:
        store.add_certificat(d, 1)
    assert exc.value.status == 409 and exc.value.ids == {"idCertificat": c.id_certificat}
    assert store.add_certificat(d, 2).id_certificat != c.id_certificat
    with pytest.raises(Rejection) as exc:
        store.add_certificat(d, 99)
    assert exc.value.status == 422


def test_documents_attach_to_the_cfas_own_dossiers_and_factures() -> None:
    store = make_store()
    d = engaged(store)
    f = facture(store, "DOC-1", d, 1, d.echeances[0].montant_total)
    assert store.has_object(CFA, "DOSSIER_APPRENTISSAGE", d.numero_interne)
    assert store.has_object(CFA, "FACTURE", f.numero_interne_facture)
    assert not store.has_object(OTHER_CFA, "DOSSIER_APPRENTISSAGE", d.numero_interne)
    assert not store.has_object(OTHER_CFA, "FACTURE", f.numero_interne_facture)
    assert not store.has_object(CFA, "FACTURE", d.numero_interne)  # a dossier's id
    assert not store.has_object(CFA, "dossier", d.numero_interne)  # Opcovia's vocabulary


def test_forced_etat_follows_the_state_machine() -> None:
    store = make_store()
    d = create(store)
    store.force_etat(d, DossierEtat.ANNULE, 0.5, "annulé par l'employeur")
    assert d.etat is DossierEtat.ANNULE
    store.advance_to(5)  # the scheduled instruction no longer applies
    assert d.etat is DossierEtat.ANNULE
    d2 = create(store, cerfa(nom="Autre"))
    store.force_etat(d2, DossierEtat.ENGAGE, 0.1, None)
    assert d2.etat is DossierEtat.ENGAGE and d2.echeances


def test_a_refused_facture_frees_its_amount() -> None:
    store = make_store()
    d = engaged(store)
    amount = d.echeances[0].montant_total
    f = facture(store, "REFUS-1", d, 1, amount)
    assert d.echeances[0].montant_en_cours == amount
    store.advance_to(8)
    assert f.etat is FactureEtat.REFUSE and f.commentaire
    assert d.echeances[0].montant_en_cours == 0 and d.echeances[0].montant_regle == 0
    again = facture(store, "F-2", d, 1, amount, day=8)  # the CFA invoices again
    store.advance_to(11)
    assert again.etat is FactureEtat.REGLE


def test_facture_refusal_share_is_seeded() -> None:
    def refused(seed: int) -> int:
        store = make_store(seed=seed, facture_refusal_rate=0.5)
        d = engaged(store)
        bills = [facture(store, f"F-{i}", d, 1, 1) for i in range(40)]
        store.advance_to(9)
        return sum(f.etat is FactureEtat.REFUSE for f in bills)

    assert refused(3) == refused(3)
    assert 5 < refused(3) < 35
