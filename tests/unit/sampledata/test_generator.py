"""The sample-data generator: deterministic, realistic, valid under the control rules."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from functools import cache

import pytest

from relais.domain.events import (
    ConventionSubmittedData,
    DossierSubmittedData,
    EventKind,
    FactureSubmittedData,
    parse_structured,
    structured_to_record,
)
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.referentials import Referentials, load_referentials
from relais.domain.validation import validate_cerfa, validate_followup
from relais.sampledata import GeneratedDossier, Generator, InvalidKind, wages
from relais.sampledata import identifiers as ids

TODAY = date(2026, 11, 27)


@cache
def referentials() -> Referentials:
    return load_referentials()


@cache
def sample(n: int = 400, seed: int = 11) -> tuple[Generator, tuple[GeneratedDossier, ...]]:
    gen = Generator(seed, TODAY)
    return gen, tuple(gen.dossiers(n))


def test_same_seed_same_events_other_seed_other_events() -> None:
    one = [d.event for d in Generator(5, TODAY).dossiers(20)]
    two = [d.event for d in Generator(5, TODAY).dossiers(20)]
    three = [d.event for d in Generator(6, TODAY).dossiers(20)]
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert one != three
    assert len({e["id"] for e in one + three}) == 40
    assert len({e["subject"] for e in one + three}) == 40


def test_hundreds_of_dossiers_pass_every_control_rule() -> None:
    gen, dossiers = sample()
    problems: Counter[tuple[str, str]] = Counter()
    for d in dossiers:
        report = validate_cerfa(d.cerfa, today=gen.today, referentials=referentials())
        problems.update((f.code, f.path) for f in report.errors)
        assert report.opco == d.opco
    assert not problems, problems.most_common(10)


@pytest.mark.parametrize(
    "today", [date(2027, 2, 28), date(2028, 2, 29), date(2026, 12, 31), date(2026, 1, 2)]
)
def test_valid_on_awkward_days(today: date) -> None:
    gen = Generator(today.toordinal(), today)
    for d in gen.dossiers(120):
        report = validate_cerfa(d.cerfa, today=today, referentials=referentials())
        assert report.valid, [(f.code, f.path) for f in report.errors]
        assert {f.code for f in report.warnings} <= {"APPRENTI_MINEUR_HORS_UE"}


@pytest.mark.parametrize("opco", ALL_OPCO)
def test_every_opco_is_reachable_by_idcc(opco: OpcoCode) -> None:
    gen = Generator(int.from_bytes(opco.value.encode()[:4], "big"), TODAY)
    for _ in range(5):
        d = gen.dossier(opco)
        assert referentials().idcc.lookup(d.cerfa["employeur"]["codeIdcc"]) is opco


def test_explicit_opco_is_carried_in_the_event() -> None:
    d = Generator(1, TODAY).dossier(OpcoCode.SANTE, explicit_opco=True)
    data = parse_structured(d.event).data
    assert isinstance(data, DossierSubmittedData)
    assert data.opco is OpcoCode.SANTE


def test_generated_people_are_consistent() -> None:
    _, dossiers = sample()
    departements: Counter[str] = Counter()
    for d in dossiers:
        a = d.cerfa["apprenti"]
        c = d.cerfa["contrat"]
        birth = date.fromisoformat(a["dateNaissance"])
        start = date.fromisoformat(c["dateDebutContrat"])
        end = date.fromisoformat(c["dateFinContrat"])
        assert 16 <= wages.age_on(birth, start) <= 29
        nir = a["nir"]
        assert ids.nir_ok(nir)
        assert nir[0] == ("1" if a["sexe"] == "M" else "2")
        assert nir[1:5] == f"{birth.year % 100:02d}{birth.month:02d}"
        assert nir[5:7] == a["departementNaissance"][-2:]
        departements[a["departementNaissance"]] += 1
        minor = wages.age_on(birth, date.fromisoformat(c["dateConclusion"])) < 18
        assert ("responsableLegal" in a) is minor
        assert ids.siret_ok(d.cerfa["employeur"]["siret"])
        assert ids.siret_ok(d.cerfa["organismeFormation"]["siret"])
        assert ids.uai_ok(d.cerfa["organismeFormation"]["uaiCfa"])
        assert wages.add_months(start, 6) <= end + timedelta(days=1), "at least six months"
        months = (end.year - start.year) * 12 + end.month - start.month
        assert 6 <= months <= 54
        assert date.fromisoformat(c["dateConclusion"]) <= min(start, TODAY)
        assert end >= TODAY
        rows = c["remunerationsAnnuelles"]
        assert rows[0]["dateDebut"] == c["dateDebutContrat"]
        assert rows[-1]["dateFin"] == c["dateFinContrat"]
        for period, row in zip(wages.periods(birth, start, end), rows, strict=True):
            assert row["ordre"] == period.ordre
            assert row["taux"] >= period.minimum
        m1 = date.fromisoformat(d.cerfa["maitre1"]["dateNaissance"])
        assert wages.age_on(m1, start) >= 18
    assert departements["2A"] + departements["2B"] > 0  # Corsica is exercised


def test_events_are_valid_envelopes_and_records() -> None:
    _gen, dossiers = sample()
    for d in dossiers[:50]:
        event = parse_structured(d.event)
        assert event.kind is EventKind.DOSSIER
        assert event.envelope.source_ref.value == d.cfa.siret
        key, _, value = structured_to_record(d.event)
        assert key == d.dossier_id.encode()
        assert json.loads(value) == d.event["data"]


def test_follow_ups_parse_and_pass_their_rules() -> None:
    gen = Generator(21, TODAY)
    cfa = gen.cfas[0]
    dossiers = [gen.dossier(cfa=cfa) for _ in range(3)]
    facture = gen.facture(dossiers, montants={dossiers[0].dossier_id: 1234.5})
    data = parse_structured(facture).data
    assert isinstance(data, FactureSubmittedData)
    assert data.facture.dossier_ids == [d.dossier_id for d in dossiers]
    assert data.facture.lignes[0].montant == 1234.5
    assert data.facture.montantFacture == pytest.approx(sum(x.montant for x in data.facture.lignes))
    convention = gen.convention(dossiers[0], numero_interne="N-1")
    conv_data = parse_structured(convention).data
    assert isinstance(conv_data, ConventionSubmittedData)
    assert conv_data.numeroInterneDossier == "N-1"
    events = {
        "convention": convention,
        "facture": facture,
        "certificat": gen.certificat(dossiers[1], numero_echeance=2),
        "rupture": gen.rupture(dossiers[2]),
    }
    for kind, event in events.items():
        parsed = parse_structured(event)
        assert parsed.kind.value == kind
        report = validate_followup(kind, event["data"][kind], today=TODAY)
        assert report.valid, report.errors
    rupture = date.fromisoformat(events["rupture"]["data"]["rupture"]["dateRupture"])
    assert dossiers[2].start < rupture <= dossiers[2].end


def test_a_facture_is_issued_by_one_cfa() -> None:
    gen = Generator(2, TODAY)
    with pytest.raises(ValueError, match="one CFA"):
        gen.facture([gen.dossier(cfa=gen.cfas[0]), gen.dossier(cfa=gen.cfas[1])])


@pytest.mark.parametrize("type_avenant", [31, 33, 36, 37])
def test_avenants_are_valid_dossiers_on_the_same_cfa_dossier(type_avenant: int) -> None:
    gen = Generator(8, TODAY)
    base = gen.dossier()
    avenant = gen.avenant(base, type_avenant, no_contrat="075202609000123")
    assert avenant.dossier_id == base.dossier_id
    assert avenant.event_id != base.event_id
    contrat = avenant.cerfa["contrat"]
    assert contrat["typeContratApp"] == type_avenant
    assert contrat["numeroContratPrecedent"] == "075202609000123"
    assert base.start <= date.fromisoformat(contrat["dateEffetAvenant"]) <= avenant.end
    report = validate_cerfa(avenant.cerfa, today=TODAY, referentials=referentials())
    assert report.valid, report.errors


@pytest.mark.parametrize("type_succession", [21, 22, 23])
def test_successions_keep_the_apprentice(type_succession: int) -> None:
    gen = Generator(9, TODAY)
    base = gen.dossier(age=20)
    nxt = gen.succession(type_succession, previous=base)
    assert nxt.dossier_id != base.dossier_id
    assert nxt.cerfa["apprenti"]["nir"] == base.cerfa["apprenti"]["nir"]
    same_employer = nxt.cerfa["employeur"]["siret"] == base.cerfa["employeur"]["siret"]
    assert same_employer is (type_succession == 21)
    assert nxt.cerfa["contrat"]["numeroContratPrecedent"]
    report = validate_cerfa(nxt.cerfa, today=TODAY, referentials=referentials())
    assert report.valid, report.errors
    fresh = gen.succession(type_succession)
    assert validate_cerfa(fresh.cerfa, today=TODAY, referentials=referentials()).valid


@pytest.mark.parametrize("kind", list(InvalidKind))
def test_each_invalid_variant_breaks_its_rule(kind: InvalidKind) -> None:
    gen = Generator(13, TODAY)
    broken = gen.invalid_dossier(kind)
    parse_structured(broken.event)  # still a well-formed event: the rules catch it
    report = validate_cerfa(broken.dossier.cerfa, today=TODAY, referentials=referentials())
    found = [(f.code, f.path) for f in report.errors]
    assert (broken.breakage.code, broken.path) in found, found
