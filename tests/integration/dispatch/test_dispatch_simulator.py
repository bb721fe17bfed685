"""Dispatch against the real simulator, the real OPCO client and the real ledgers (both engines)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from relais.domain.opco import OpcoCode
from relais.services.ledger_port import CommandState
from relais.services.retry import RetryPolicy
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration

AKTO = OpcoCode.AKTO
AFDAS = OpcoCode.AFDAS
ATLAS = OpcoCode.ATLAS


async def statuses(rig: Rig) -> list[dict[str, object]]:
    return [
        {"id": r.message.event_id, **json.loads(r.message.value)}
        for r in await rig.ledger.outbox_batch(10_000)
    ]


async def test_every_kind_reaches_the_opco(rig: Rig) -> None:
    dispatcher = rig.dispatcher()
    d1 = rig.dossier(AKTO)
    d2 = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    d3 = rig.dossier(AFDAS)
    dossier_cmds = [await rig.send(d.event, d.opco) for d in (d1, d2, d3)]
    convention = await rig.send(rig.gen.convention(d1), AKTO)
    certificat = await rig.send(rig.gen.certificat(d3), AFDAS)
    await rig.settle(dispatcher)
    for command in (*dossier_cmds, convention, certificat):
        assert await rig.state(command) == "done", command.kind

    n1, n2 = await rig.numero(d1), await rig.numero(d2)
    [conv_record] = rig.creations(AKTO, "conventions")
    assert conv_record["ids"]["numeroInterneDossier"] == n1
    [cert_record] = rig.creations(AFDAS, "certificats")
    assert cert_record["ids"]["numeroInterneDossier"] == await rig.numero(d3)

    # The OPCO engages the dossiers; the CFA invoices échéance 1 of both, then ends d1's contract.
    for n in (n1, n2):
        rig.sim.set_etat(AKTO, n, "ENGAGE")
    montants = {}
    for d, n in ((d1, n1), (d2, n2)):
        [e1] = [e for e in rig.sim.dossier(AKTO, n)["echeances"] if e["numero"] == 1]
        montants[d.dossier_id] = min(100.0, float(e1["montantTotal"]))
    rig.sim.advance(80)  # échéance 1 opens at the contract start
    facture = await rig.send(rig.gen.facture([d2, d1], montants=montants), AKTO)
    rupture = await rig.send(rig.gen.rupture(d1, date_rupture=d1.start + timedelta(days=30)), AKTO)
    await rig.settle(dispatcher)
    assert await rig.state(facture) == "done"
    assert await rig.state(rupture) == "done"
    [fac_record] = rig.creations(AKTO, "factures")
    reference = facture.payload.to_json()["data"]["facture"]["referenceFactureCFA"]
    ledger_facture = await rig.ledger.facture(rig.cfa, reference)
    assert ledger_facture is not None
    assert ledger_facture.numero_interne_facture == fac_record["ids"]["numeroInterneFacture"]
    [sim_facture] = rig.sim.factures(opco="AKTO")
    assert sorted(line["numeroInterneDossier"] for line in sim_facture["lines"]) == sorted([n1, n2])
    assert rig.sim.dossier(AKTO, n1)["etat"] == "RUPTURE"

    bodies = await statuses(rig)
    submitted = [b for b in bodies if b["status"] == "submitted"]
    assert len(submitted) == 7
    assert len({b["id"] for b in bodies}) == len(bodies)
    text = json.dumps(bodies)
    for d in (d1, d2, d3):
        for value in d.personal_values():
            assert str(value) not in text


async def test_not_supported_fails_at_once(rig: Rig) -> None:
    d = rig.dossier(OpcoCode.SANTE)  # SANTE has no dossier route
    command = await rig.send(d.event, OpcoCode.SANTE)
    assert await rig.dispatcher().run_once() == 1
    assert await rig.state(command) == "failed"
    [body] = await statuses(rig)
    assert body["status"] == "failed"
    assert body["reason"] == "not_supported"
    assert not rig.creations(OpcoCode.SANTE, "dossiers_post")


async def test_an_opco_refusal_fails_with_its_messages(rig: Rig) -> None:
    d = rig.dossier(ATLAS)
    d.cerfa["employeur"]["siret"] = "123"
    rig.gen._rewrap(d)
    command = await rig.send(d.event, ATLAS)
    await rig.dispatcher().run_once()
    assert await rig.state(command) == "failed"
    [body] = await statuses(rig)
    assert body["reason"] == "rejected_by_opco"
    assert body["opcoMessages"]


async def test_retry_after_is_honoured(rig: Rig) -> None:
    rig.sim.set_faults(AKTO, throttle_rate=1, retry_after_s=1, max_faults=1)
    d = rig.dossier(AKTO)
    command = await rig.send(d.event, AKTO)
    dispatcher = rig.dispatcher(policy=RetryPolicy(rand=lambda: 0.0))
    before = datetime.now(UTC)
    assert await dispatcher.run_once() == 1
    [cmd] = await rig.ledger.commands_for(command.cfa, command.dossier_id)
    assert cmd.state is CommandState.PENDING
    assert cmd.attempts == 1
    assert cmd.next_attempt_at >= before + timedelta(seconds=1)
    assert await dispatcher.run_once() == 0, "not before Retry-After"
    await asyncio.sleep((cmd.next_attempt_at - datetime.now(UTC)).total_seconds() + 0.05)
    assert await dispatcher.run_once() == 1
    assert await rig.state(command) == "done"
    records = rig.sim.records(opco="AKTO", route="dossiers_post")
    assert [r["status"] for r in records] == [429, 200]


async def test_a_dossier_waiting_on_a_retry_never_blocks_the_others(rig: Rig) -> None:
    rig.sim.set_faults(ATLAS, down=True, retry_after_s=60)
    stuck = rig.dossier(ATLAS)
    stuck_cmd = await rig.send(stuck.event, ATLAS)
    stuck_followup = await rig.send(rig.gen.convention(stuck), ATLAS)
    others = [rig.dossier(AKTO) for _ in range(5)]
    other_cmds = [await rig.send(d.event, AKTO) for d in others]
    dispatcher = rig.dispatcher(policy=RetryPolicy(rand=lambda: 0.0))
    for _ in range(3):
        await dispatcher.run_once()
    assert all([await rig.state(c) == "done" for c in other_cmds])
    assert await rig.state(stuck_cmd) == "pending"
    assert await rig.state(stuck_followup) == "pending"
    assert len(rig.sim.records(opco="ATLAS", route="dossiers_post")) == 1
