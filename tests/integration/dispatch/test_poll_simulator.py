"""Polling the real simulator: exactly one etat_changed per change, none after a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.domain.status import etat_event_id
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration

AKTO = OpcoCode.AKTO
AFDAS = OpcoCode.AFDAS


async def etat_events(rig: Rig) -> list[dict[str, Any]]:
    out = []
    for record in await rig.ledger.outbox_batch(10_000):
        body = json.loads(record.message.value)
        if body["status"] == "etat_changed":
            out.append({"id": record.message.event_id, "key": record.message.key, **body})
    return out


async def test_poll_publishes_each_change_once(rig: Rig) -> None:
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    await rig.settle(rig.dispatcher())
    numero = await rig.numero(d)
    poller = rig.poller([AKTO, AFDAS])

    report = await poller.poll_once()
    assert report.changes == 0, "TRANSMIS is already known from the submission"
    assert set(report.polled) == {(rig.cfa, AKTO), (rig.cfa, AFDAS)}

    rig.sim.set_etat(AKTO, numero, "EN_COURS_INSTRUCTION")
    assert (await poller.poll_once()).changes == 1
    assert (await poller.poll_once()).changes == 0
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    assert (await poller.poll_once()).changes == 1

    restarted = rig.poller([AKTO, AFDAS])
    assert (await restarted.poll_once()).changes == 0, "no new event for an old change"

    events = await etat_events(rig)
    assert [(e.get("previousEtat"), e["etat"]) for e in events] == [
        ("TRANSMIS", "EN_COURS_INSTRUCTION"),
        ("EN_COURS_INSTRUCTION", "ENGAGE"),
    ]
    engaged = events[1]
    assert engaged["key"] == d.dossier_id
    assert engaged["id"] == etat_event_id(
        rig.cfa, "AKTO", "dossier", numero, "EN_COURS_INSTRUCTION", "ENGAGE"
    )
    assert engaged["engagement"] > 0
    assert [e["numero"] for e in engaged["echeances"]][:1] == [1]
    text = json.dumps(events)
    assert "iban" not in text.lower()
    for value in d.personal_values():
        assert str(value) not in text
    record = await rig.ledger.dossier(rig.cfa, d.dossier_id)
    assert record is not None and record.etat == "ENGAGE"


async def test_poll_follows_factures(rig: Rig) -> None:
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    dispatcher = rig.dispatcher()
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(AKTO, numero)["echeances"] if e["numero"] == 1]
    rig.sim.advance(3)
    montant = min(100.0, float(e1["montantTotal"]))
    await rig.send(rig.gen.facture([d], montants={d.dossier_id: montant}), AKTO)
    await rig.settle(dispatcher)
    poller = rig.poller([AKTO])
    await poller.poll_once()  # the dossier's ENGAGE
    before = len(await etat_events(rig))
    rig.sim.advance(60)  # the OPCO instructs and pays the invoice as time passes
    await poller.poll_once()
    await rig.poller([AKTO]).poll_once()
    factures = [e for e in await etat_events(rig) if e["kind"] == "facture"]
    assert factures, "the facture moved on"
    etats = [f["etat"] for f in factures]
    assert len(etats) == len(set(etats)), "one event per facture change"
    [sim_facture] = rig.sim.factures(opco="AKTO")
    assert factures[-1]["etat"] == sim_facture["etatFacture"]
    assert len(await etat_events(rig)) >= before + 1


async def test_one_opco_down_does_not_stop_the_others(rig: Rig) -> None:
    ok = rig.dossier(AFDAS)
    await rig.send(ok.event, AFDAS)
    await rig.settle(rig.dispatcher())
    rig.sim.set_etat(AFDAS, await rig.numero(ok), "EN_COURS_INSTRUCTION")
    rig.sim.set_faults(AKTO, down=True, retry_after_s=90)
    poller = rig.poller([AKTO, AFDAS])
    report = await poller.poll_once()
    assert list(report.failed) == [(rig.cfa, AKTO)]
    assert report.changes == 1
    assert poller.state[(rig.cfa, AKTO)].failures == 1
    next_due = poller.state[(rig.cfa, AKTO)].next_due
    last = poller.state[(rig.cfa, AKTO)].last_error
    assert next_due is not None and last is not None
    assert next_due >= datetime.now(UTC) + timedelta(seconds=85), "Retry-After honoured"
    assert "503" in last
    assert (await poller.poll_due()).polled == (), "neither pair is due yet"
