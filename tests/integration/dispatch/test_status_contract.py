"""The status contract (issue 16) on the real simulator, OPCO client and ledgers (both engines):
the OPCO's own refusal reasons in ``failed`` and ``etat_changed``, a duplicate reported as such,
a facture's ``etat_changed`` keyed by its dossier id."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.services.dispatch.outcomes import SHARED_NUMERO
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration

AKTO = OpcoCode.AKTO
ATLAS = OpcoCode.ATLAS


async def statuses(rig: Rig) -> list[dict[str, Any]]:
    return [
        {"id": r.message.event_id, "key": r.message.key, **json.loads(r.message.value)}
        for r in await rig.ledger.outbox_batch(10_000)
    ]


async def test_an_opco_refusal_carries_its_codes_messages_and_fields(rig: Rig) -> None:
    # OCAPIAT answers {message, errors[{code, champ, description}]} (ATLAS one description)
    d = rig.dossier(OpcoCode.OCAPIAT)
    d.cerfa["employeur"]["siret"] = "123"
    rig.gen._rewrap(d)
    command = await rig.send(d.event, OpcoCode.OCAPIAT)
    await rig.dispatcher().run_once()
    assert await rig.state(command) == "failed"
    [body] = await statuses(rig)
    assert body["reason"] == "rejected_by_opco"
    [record] = rig.sim.records(opco="OCAPIAT", route="dossiers_post")
    assert record["status"] == 400
    errors = body["opcoErrors"]
    # the OPCO's own message, then each of its field errors with its code and field
    assert errors[0] == {"message": "Dossier invalide"}
    fields = {e.get("field") for e in errors[1:]}
    assert "employeur.siret" in fields, errors
    assert all(e.get("code") for e in errors[1:]), errors


async def test_a_refused_dossier_carries_the_opcos_motif(rig: Rig) -> None:
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    await rig.settle(rig.dispatcher())
    numero = await rig.numero(d)
    motif = "Refus de prise en charge : contrat non signé par l'employeur"
    rig.sim.set_etat(AKTO, numero, "REFUSE", commentaire=motif)
    assert (await rig.poller([AKTO]).poll_once()).changes == 1
    [refused] = [s for s in await statuses(rig) if s["status"] == "etat_changed"]
    assert (refused["etat"], refused["motif"]) == ("REFUSE", motif)
    assert refused["key"] == refused["dossierId"] == d.dossier_id


async def test_an_opco_duplicate_is_reported_as_such_with_a_warning(rig: Rig) -> None:
    d = rig.dossier(ATLAS, start=rig.today - timedelta(days=2))
    dispatcher = rig.dispatcher()
    await rig.send(d.event, ATLAS)
    await rig.settle(dispatcher)
    # The CFA sends the same contract again under another dossier id of its own: the OPCO
    # answers 409 with its existing dossier.
    twin = {**d.event, "id": str(uuid.uuid4()), "subject": f"{d.dossier_id}-BIS"}
    await rig.send(twin, ATLAS)
    await rig.settle(dispatcher)
    assert [r["status"] for r in rig.sim.records(opco="ATLAS", route="dossiers_post")] == [
        200,  # convergence-api.md 0: a creation answers 200
        409,
    ]
    first, second = [s for s in await statuses(rig) if s["status"] == "submitted"]
    assert "reason" not in first and "errors" not in first
    assert second["reason"] == "already_at_opco"
    assert second["numeroInterne"] == first["numeroInterne"] == await rig.numero(d)
    [warning] = second["errors"]
    assert (warning["code"], warning["severity"]) == (SHARED_NUMERO, "warning")
    assert d.dossier_id in warning["message"]


async def test_a_facture_etat_changed_is_keyed_by_its_dossier_id(rig: Rig) -> None:
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    dispatcher = rig.dispatcher()
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(AKTO, numero)["echeances"] if e["numero"] == 1]
    rig.sim.advance(3)
    montant = min(100.0, float(e1["montantTotal"]))
    facture = rig.gen.facture([d], montants={d.dossier_id: montant})
    await rig.send(facture, AKTO)
    await rig.settle(dispatcher)
    poller = rig.poller([AKTO])
    await poller.poll_once()  # the dossier's ENGAGE
    rig.sim.advance(60)  # the OPCO instructs and pays the invoice as time passes
    await poller.poll_once()
    factures = [
        s for s in await statuses(rig) if s["status"] == "etat_changed" and s["kind"] == "facture"
    ]
    assert factures, "the facture moved on"
    for event in factures:
        assert event["key"] == event["dossierId"] == d.dossier_id, event
        assert event["referenceFactureCFA"] == facture["data"]["facture"]["referenceFactureCFA"]
        assert event["numeroInterneFacture"]
