"""DESIGN promises 2 and 3 through dispatch, checked on the simulator's own request record."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from relais.domain.opco import OpcoCode
from relais.services.dispatch import Dispatcher, DispatchOptions
from relais.services.retry import RetryPolicy
from tests.integration.dispatch.conftest import Rig
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
    assert not await rig.ledger.accept(command, []), "the inbox refuses a redelivery"
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
    await rig.gateway.submit_dossier(rig.cfa, MOBILITES, claimed.payload["data"]["cerfa"])
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


async def test_order_per_dossier_under_concurrency(rig: Rig) -> None:
    """Many dossiers on three OPCOs, each a dossier then its convention, with latency and 5xx:
    per dossier the simulator sees the creation before the convention; all dossiers progress."""
    opcos = [AKTO, ATLAS, AFDAS]
    for opco in opcos:
        rig.sim.set_faults(opco, latency_ms=5, jitter_ms=20, error_rate=0.15, error_statuses=[500])
    dossiers = [rig.dossier(opcos[i % 3]) for i in range(24)]
    for d in dossiers:
        await rig.send(d.event, d.opco)
        await rig.send(rig.gen.convention(d), d.opco)
    dispatcher = rig.dispatcher(
        policy=RetryPolicy.instant(attempts=50),
        inflight_limit=16,
        idle_min=timedelta(milliseconds=5),
        idle_max=timedelta(milliseconds=20),
    )
    stop = asyncio.Event()
    runner = asyncio.create_task(dispatcher.run(stop))
    try:
        for _ in range(600):
            counts = await rig.ledger.counts()
            if counts.get("pending", 0) == 0 and counts.get("in_flight", 0) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
    counts = await rig.ledger.counts()
    assert counts.get("done") == 48, counts

    seq_by_dossier: dict[str, dict[str, int]] = defaultdict(dict)
    for opco in opcos:
        for r in rig.sim.records(opco=opco.value):
            numero = r["ids"].get("numeroInterne") or r["ids"].get("numeroInterneDossier")
            if numero is None:
                continue
            if r["route"] == "dossiers_post" and r["created"]:
                seq_by_dossier[numero]["created"] = r["seq"]
            elif r["route"] == "conventions":
                seq_by_dossier[numero].setdefault("first_convention", r["seq"])
    assert len(seq_by_dossier) == 24
    for numero, seqs in seq_by_dossier.items():
        assert seqs["created"] < seqs["first_convention"], numero
    errors = sum(
        1
        for opco in opcos
        for r in rig.sim.records(opco=opco.value)
        if r["outcome"].startswith("fault")
    )
    assert errors > 0, "the run did exercise retries"


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
