"""DESIGN promises 2 and 3 through dispatch, checked on the simulator's own request record."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from relais.domain.opco import OpcoCode
from relais.sampledata import GeneratedDossier
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.retry import RetryPolicy
from tests.integration.dispatch.conftest import Rig
from tests.integration.dispatch.order import published_label, received_order
from tests.ledger_entries import accept
from tests.unit.services.fakes import ManualClock

pytestmark = pytest.mark.integration

AKTO = OpcoCode.AKTO
ATLAS = OpcoCode.ATLAS
AFDAS = OpcoCode.AFDAS
MOBILITES = OpcoCode.MOBILITES

STORED_LOST = {"stored_lost_rate": 1.0, "stored_lost_mode": "drop", "max_faults": 1}


async def test_a_dossier_stored_but_unanswered_is_created_once(rig: Rig) -> None:
    rig.sim.set_faults(AKTO, routes=["dossiers_post"], **STORED_LOST)
    d = rig.dossier(AKTO)
    command = await rig.send(d.event, AKTO)
    dispatcher = rig.dispatcher()
    assert await dispatcher.run_once() == 1
    [cmd] = await rig.ledger.commands_for(command.cfa, command.dossier_id)
    assert cmd.state.value == "pending" and cmd.ambiguous, "a lost answer is a doubt"
    await rig.settle(dispatcher)
    assert await rig.state(command) == "done"
    posts = rig.sim.records(opco="AKTO", route="dossiers_post")
    assert len(posts) == 1, "the doubt was resolved by a lookup, not by a resend"
    [created] = rig.creations(AKTO, "dossiers_post")
    assert await rig.numero(d) == created["ids"]["numeroInterne"]
    assert rig.sim.records(opco="AKTO", route="dossiers_etats"), "looked up in the etats"


async def test_the_same_dossier_event_redelivered_creates_once(rig: Rig) -> None:
    d = rig.dossier(ATLAS)
    command = await rig.send(d.event, ATLAS)
    assert not await accept(rig.ledger, command, []), "the inbox refuses a redelivery"
    await rig.settle(rig.dispatcher())
    assert len(rig.creations(ATLAS, "dossiers_post")) == 1


async def test_a_facture_stored_but_unanswered_is_created_once(rig: Rig) -> None:
    d = rig.dossier(AKTO, start=rig.today - timedelta(days=2))
    await rig.send(d.event, AKTO)
    dispatcher = rig.dispatcher()
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(AKTO, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(AKTO, numero)["echeances"] if e["numero"] == 1]
    rig.sim.advance(3)
    montant = min(100.0, float(e1["montantTotal"]))
    facture = await rig.send(rig.gen.facture([d], montants={d.dossier_id: montant}), AKTO)
    rig.sim.set_faults(AKTO, routes=["factures"], **STORED_LOST)
    await rig.settle(dispatcher)
    assert await rig.state(facture) == "done"
    assert len(rig.sim.records(opco="AKTO", route="factures")) == 1
    assert len(rig.creations(AKTO, "factures")) == 1
    assert rig.sim.records(opco="AKTO", route="factures_etats"), "found by its reference"


async def test_a_convention_stored_but_unanswered_is_resent_and_the_409_means_done(
    rig: Rig,
) -> None:
    d = rig.dossier(AFDAS)
    await rig.send(d.event, AFDAS)
    convention = await rig.send(rig.gen.convention(d), AFDAS)
    rig.sim.set_faults(AFDAS, routes=["conventions"], **STORED_LOST)
    await rig.settle(rig.dispatcher())
    assert await rig.state(convention) == "done"
    records = rig.sim.records(opco="AFDAS", route="conventions")
    assert [(r["outcome"], r["created"]) for r in records] == [
        ("fault:stored_lost", True),
        ("duplicate", False),
    ]
    assert len(rig.creations(AFDAS, "conventions")) == 1


async def test_a_crash_between_the_opco_call_and_the_ledger_commit(rig: Rig) -> None:
    d = rig.dossier(MOBILITES)
    command = await rig.send(d.event, MOBILITES)
    # A worker claims under a short lease, calls the OPCO, and dies before writing the outcome.
    # The survivor's clock is the test's: "before" and "after" the lease end do not depend on
    # how long the OPCO call took on a loaded machine.
    lease = timedelta(milliseconds=300)
    clock = ManualClock(datetime.now(UTC))
    [claimed] = await rig.ledger.claim("dead-worker", 10, clock.now(), lease)
    assert claimed.event_id == command.event_id
    await rig.gateway.submit_dossier(rig.cfa, MOBILITES, claimed.payload.to_json()["data"]["cerfa"])
    dispatcher = Dispatcher(
        rig.ledger, rig.gateway, DispatchOptions(retry=RetryPolicy.instant()), clock, "w1"
    )
    clock.advance(lease - timedelta(milliseconds=1))
    assert await dispatcher.run_once() == 0, "the lease still holds"
    clock.advance(timedelta(milliseconds=2))
    assert await dispatcher.run_once() == 1
    assert await rig.state(command) == "done"
    assert len(rig.sim.records(opco="MOBILITES", route="dossiers_post")) == 1
    [created] = rig.creations(MOBILITES, "dossiers_post")
    assert await rig.numero(d) == created["ids"]["numeroInterne"]


async def run_until_settled(rig: Rig, dispatcher: Dispatcher) -> Mapping[str, int]:
    """Run ``dispatcher`` until no command is pending or in flight; the ledger's counts then."""
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    try:
        for _ in range(1200):
            counts = await rig.ledger.counts()
            if counts.get("pending", 0) == 0 and counts.get("in_flight", 0) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    return await rig.ledger.counts()


async def test_order_per_dossier_under_concurrency(rig: Rig) -> None:
    """Promise 3, FIFO per dossier at the OPCO: dossiers on three OPCOs, each with a convention,
    factures on three successive échéances, a certificat or a rupture (what the OPCO takes) and
    an avenant, published interleaved across dossiers and dispatched many at a time against
    latency and 5xx. Per dossier, what the simulator received comes in publication order.

    None of these follow-ups waits for another (each only needs its dossier's numeroInterne, known
    before they are published), so only the ledger's one-command-per-dossier claim keeps them in
    order: without it this test fails."""
    opcos = [AKTO, ATLAS, AFDAS]
    faults = {"latency_ms": 5, "jitter_ms": 25, "error_rate": 0.15, "error_statuses": [500, 503]}
    dossiers = [rig.dossier(opcos[i % 3], start=rig.today - timedelta(days=2)) for i in range(12)]
    published: dict[str, list[str]] = defaultdict(list)
    dispatcher = rig.dispatcher(
        policy=RetryPolicy.instant(attempts=50),
        inflight_limit=16,
        idle_min=timedelta(milliseconds=5),
        idle_max=timedelta(milliseconds=20),
    )

    # 1. the dossiers, created at the OPCO (and engaged by it, its échéances 1 to 3 opened)
    for opco in opcos:
        rig.sim.set_faults(opco, **faults)
    for d in dossiers:
        await rig.send(d.event, d.opco)
        published[d.dossier_id].append(published_label(d.event))
    counts = await run_until_settled(rig, dispatcher)
    assert counts.get("done") == len(dossiers), counts
    numeros = {await rig.numero(d): d.dossier_id for d in dossiers}
    contracts = set(numeros)
    rig.sim.clear_faults()
    rig.sim.advance(300)  # échéance 2 opens at 6 months, échéance 3 at 9
    for numero, dossier_id in numeros.items():
        opco = next(d.opco for d in dossiers if d.dossier_id == dossier_id)
        if rig.sim.dossier(opco, numero)["etat"] != "ENGAGE":
            rig.sim.set_etat(opco, numero, "ENGAGE")

    # 2. their follow-ups, published round-robin across dossiers (interleaved), step by step
    def followups(d: GeneratedDossier) -> list[dict[str, Any]]:
        events = [rig.gen.convention(d)]
        for echeance in (1, 2, 3):
            montant = {d.dossier_id: 10.0 + echeance}
            events.append(rig.gen.facture([d], numero_echeance=echeance, montants=montant))
        if d.opco is AFDAS:  # AFDAS takes certificats, not ruptures; AKTO and ATLAS the reverse
            events.append(rig.gen.certificat(d))
        else:
            events.append(rig.gen.rupture(d, date_rupture=d.start + timedelta(days=300)))
        events.append(rig.gen.avenant(d).event)  # a new dossier at the OPCO, last of its queue
        return events

    plans = [followups(d) for d in dossiers]
    for step in range(max(len(p) for p in plans)):
        for d, plan in zip(dossiers, plans, strict=True):
            if step < len(plan):
                await rig.send(plan[step], d.opco)
                published[d.dossier_id].append(published_label(plan[step]))
    for opco in opcos:
        rig.sim.set_faults(opco, **faults)
    counts = await run_until_settled(rig, dispatcher)
    for d in dossiers:  # the avenant's own numeroInterne is the dossier's now
        numeros[await rig.numero(d)] = d.dossier_id

    records = sorted(
        (r for opco in opcos for r in rig.sim.records(opco=opco.value)), key=lambda r: r["seq"]
    )
    received = received_order(records, numeros, contracts)
    assert set(received) == set(published)
    for d in dossiers:
        assert received[d.dossier_id] == published[d.dossier_id], d.dossier_id
    assert any(r["outcome"].startswith("fault") for r in records), "the run exercised retries"
    assert counts.get("done") == sum(len(labels) for labels in published.values()), counts


class Tally:
    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def command(self, opco: str, kind: str, outcome: str) -> None:
        self.outcomes.append(outcome)


async def test_two_dispatchers_share_the_work_without_doing_it_twice(rig: Rig) -> None:
    """Scaling out: two workers on one ledger split the commands (row locks / leases); every
    command is handled once, every dossier is created once, follow-ups after their dossier."""
    for opco in (AKTO, ATLAS):
        rig.sim.set_faults(opco, latency_ms=10, jitter_ms=10)
    dossiers = [rig.dossier((AKTO, ATLAS)[i % 2]) for i in range(20)]
    for d in dossiers:
        await rig.send(d.event, d.opco)
        await rig.send(rig.gen.convention(d), d.opco)
    tallies = [Tally(), Tally()]
    workers = [
        rig.dispatcher(
            worker=f"w{i}",
            metrics=tallies[i],
            inflight_limit=6,
            idle_min=timedelta(milliseconds=5),
            idle_max=timedelta(milliseconds=20),
        )
        for i in range(2)
    ]
    stop = asyncio.Event()
    runners = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        for _ in range(600):
            counts = await rig.ledger.counts()
            if counts.get("done", 0) == 40:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*runners), 10)
    assert (await rig.ledger.counts()).get("done") == 40
    assert sorted(len(t.outcomes) for t in tallies)[0] > 0, "both workers took a share"
    assert sum(len(t.outcomes) for t in tallies) == 40, "no command handled twice"
    for opco in (AKTO, ATLAS):
        assert len(rig.creations(opco, "dossiers_post")) == 10
        assert len(rig.creations(opco, "conventions")) == 10
