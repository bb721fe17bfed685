"""The money, checked before any call (issue 15, item 4), through the real ledger, dispatcher and
OPCO client against the real simulator: what relais knows says the OPCO would refuse, so relais
refuses first with a clear code and the OPCO never sees the request."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.domain.referentials import load_npec
from relais.services.ledger_port import NewCommand
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration

AKTO = OpcoCode.AKTO


async def status_of(rig: Rig, command: NewCommand) -> dict[str, Any]:
    bodies = [
        json.loads(r.message.value)
        for r in await rig.ledger.outbox_batch(10_000)
        if json.loads(r.message.value).get("eventId") == command.event_id
    ]
    [terminal] = [b for b in bodies if b["status"] in ("submitted", "failed", "rejected")]
    return terminal


async def test_a_convention_above_its_npec_is_refused_before_any_call(rig: Rig) -> None:
    dispatcher = rig.dispatcher(npec=load_npec())
    within = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    above = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    for d in (within, above):
        await rig.send(d.event, AKTO)
    await rig.settle(dispatcher)
    fair = await rig.send(rig.gen.convention(within), AKTO)
    event = rig.gen.convention(above)
    event["data"]["convention"]["couts"]["coutTotalPedagogieCFA"] = 250_000.0
    costly = await rig.send(event, AKTO)
    await rig.settle(dispatcher)

    assert await rig.state(fair) == "done"  # the generator's cost is within its NPEC
    assert await rig.state(costly) == "failed"
    status = await status_of(rig, costly)
    assert status["status"] == "rejected"
    assert [e["code"] for e in status["errors"] if e["severity"] == "error"] == [
        "CONVENTION_COUT_SUPERIEUR_NPEC"
    ]
    [error] = [e for e in status["errors"] if e["code"] == "CONVENTION_COUT_SUPERIEUR_NPEC"]
    assert error["path"] == "data.convention.couts.coutTotalPedagogieCFA"
    assert "employeur" in error["message"]
    records = rig.sim.records(opco=AKTO.value, route="conventions")
    assert len(records) == 1  # the fair one only: the costly one never reached the OPCO
    assert records[0]["ids"]["numeroInterneDossier"] == await rig.numero(within)


async def test_a_facture_above_what_remains_is_refused_before_any_call(rig: Rig) -> None:
    dispatcher = rig.dispatcher(check_factures=True)
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(AKTO, numero)["echeances"] if e["numero"] == 1]
    remaining = float(e1["montantTotal"]) - float(e1["montantRegle"])
    remaining -= float(e1["montantEnCoursInstruction"])

    too_much = rig.gen.facture(
        [d], montants={d.dossier_id: round(remaining + 0.01, 2)}, date_facture=d.start
    )
    refused = await rig.send(too_much, AKTO)
    await rig.settle(dispatcher)
    assert await rig.state(refused) == "failed"
    status = await status_of(rig, refused)
    assert status["status"] == "rejected"
    errors = [e for e in status["errors"] if e["severity"] == "error"]
    assert [(e["code"], e["path"]) for e in errors] == [
        ("FACTURE_MONTANT_SUPERIEUR_RESTANT", "data.facture.lignes[0].montant")
    ]
    assert rig.sim.records(opco=AKTO.value, route="factures") == []  # never sent

    fair = rig.gen.facture([d], montants={d.dossier_id: remaining}, date_facture=d.start)
    accepted = await rig.send(fair, AKTO)
    await rig.settle(dispatcher)
    assert await rig.state(accepted) == "done"  # exactly what remains passes
    assert len(rig.sim.records(opco=AKTO.value, route="factures")) == 1


async def test_an_echeancier_not_known_is_a_warning_not_a_block(rig: Rig) -> None:
    """A dossier the OPCO has not engaged yet has no échéancier: relais cannot check, and sends."""
    dispatcher = rig.dispatcher(check_factures=True)
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    await rig.settle(dispatcher)
    facture = await rig.send(rig.gen.facture([d], date_facture=d.start), AKTO)
    await rig.settle(dispatcher)
    assert len(rig.sim.records(opco=AKTO.value, route="factures")) == 1  # the call was made
    # the simulator answers for itself (it refuses a facture on a dossier it has not engaged)
    assert (await status_of(rig, facture))["status"] != "rejected"


async def test_an_ambiguous_facture_is_looked_up_not_refused_by_its_own_amount(rig: Rig) -> None:
    """Its first call may have reached the OPCO, whose échéance now counts the amount as under
    instruction: the check is not run again, the lookup finds it (promise 2)."""
    dispatcher = rig.dispatcher(check_factures=True)
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(AKTO, numero)["echeances"] if e["numero"] == 1]
    whole = float(e1["montantTotal"]) - float(e1["montantRegle"])
    whole -= float(e1["montantEnCoursInstruction"])
    event = rig.gen.facture([d], montants={d.dossier_id: whole}, date_facture=d.start)
    facture = await rig.send(event, AKTO)
    rig.sim.set_faults(
        AKTO, routes=["factures"], stored_lost_rate=1.0, stored_lost_mode="drop", max_faults=1
    )
    await rig.settle(dispatcher)
    assert await rig.state(facture) == "done"
    assert len(rig.creations(AKTO, "factures")) == 1
    assert (await status_of(rig, facture))["status"] == "submitted"
