"""The demo's scenario: exact event counts, follow-ups planned where the OPCO can take them."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from relais.demo.scenario import Engaged, Scenario
from relais.domain.events import structured_to_record
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import load_profiles
from relais.domain.referentials import referential
from relais.sampledata import Generator

PROFILES = load_profiles(referential("opco-profiles.json"))


def build(events: int) -> Scenario:
    return Scenario.build(Generator(5, date(2026, 11, 27)), PROFILES, events)


@pytest.mark.parametrize("events", [1, 5, 12, 25, 40, 60, 200])
def test_the_scenario_has_exactly_the_events_asked_for(events: int) -> None:
    s = build(events)

    assert len(s.immediate) + len(s.slots) == events
    for p in s.immediate:
        structured_to_record(p.event)  # every event is well-formed (the broken one by value)


def test_a_stream_covers_every_opco_invalid_input_and_follow_ups() -> None:
    s = build(200)

    labels = Counter(p.label.split()[0] for p in s.immediate)
    assert {p.opco for p in s.immediate if p.kind == "dossier" and p.opco} == {
        o.value for o in ALL_OPCO
    }
    assert labels["invalid"] == 6 and labels["not"] == 1
    assert Counter(x.kind for x in s.slots) == {
        "facture": 26,
        "avenant": 1,
        "rupture": 1,
        "certificat": 1,
    }
    for slot in s.slots:
        for key in slot.targets:
            assert s.fits(slot.kind, s.dossiers[key].opco)
    sante = [p for p in s.immediate if p.opco == "SANTE" and p.kind == "dossier"]
    assert sante and all(p.expected == "failed" for p in sante)  # no dossier route there


def test_a_two_dossier_facture_waits_for_both_and_survives_a_refusal() -> None:
    s = build(60)
    pair = next(x for x in s.slots if len(x.targets) == 2)
    (cfa1, id1), (cfa2, id2) = pair.targets
    opco = s.dossiers[(cfa1, id1)].opco.value

    assert s.place(Engaged(cfa1, id1, opco, "N1")) is None
    ready = s.refused((cfa2, id2))

    assert ready is not None
    kind, dossiers = ready
    assert kind == "facture" and [d.dossier_id for d in dossiers] == [id1]
    assert pair not in s.slots


def test_a_refused_facture_dossier_hands_its_facture_to_another_engaged_one() -> None:
    s = build(60)
    single = next(x for x in s.slots if x.kind == "facture" and len(x.targets) == 1)
    refused = single.targets[0]
    opco = s.dossiers[refused].opco
    spare = next(
        k
        for k, d in s.dossiers.items()
        if d.opco is opco and not any(k in x.targets for x in s.slots)
    )

    assert s.refused(refused) is None
    ready = s.place(Engaged(spare[0], spare[1], opco.value, "N9"))

    assert ready is not None and ready[1][0].dossier_id == spare[1]
    remaining = len(s.slots)
    assert s.give_up() == remaining  # what is left when nothing more gets engaged is skipped
    assert not s.slots


def test_follow_up_events_name_their_dossiers() -> None:
    s = build(60)
    slot = next(x for x in s.slots if x.kind == "rupture")
    d = s.dossiers[slot.targets[0]]

    planned = s.follow_up("rupture", [d], montants={})

    assert planned.kind == "rupture" and planned.subject == d.dossier_id
    assert OpcoCode(planned.opco or "") is d.opco


def test_some_dossiers_get_a_document_after_their_convention_at_opcos_taking_documents() -> None:
    s = build(200)

    docs = [p for p in s.immediate if p.kind == "document"]
    assert len(docs) == len(s.documents) >= 5
    assert {p.event["data"]["typeFichier"] for p in docs} == {
        "CONVENTION_FORMATION",
        "CONVENTION_REDUCTION_DUREE",
        "CONVENTION_MOBILITE",
        "FACTURE",
        "CERTIFICAT_REALISATION",
    }
    position = {p.event_id: i for i, p in enumerate(s.immediate)}
    for doc in docs:
        assert PROFILES[OpcoCode(doc.opco)].capabilities.documents
        same = [p for p in s.immediate if p.subject == doc.subject and p.kind != "document"]
        assert {p.kind for p in same} == {"dossier", "convention"}
        assert all(position[p.event_id] < position[doc.event_id] for p in same)
