"""The fault scenario, in phases, sized by ``Sizes`` (CI mode: small; long mode: >= 5,000 events).

Processes: ``ingest`` (ingest only), ``dispatch`` (dispatch only), ``relay-poll`` (relay + poll),
``all`` (every role, combined). Every phase produces a batch while faults are injected, then waits
until the ledger has settled (every event answered, no open command, outbox published).

| phase | faults |
|---|---|
| kills | kill -9 of each process mid-flight (each role), restarted |
| postgres | pg_terminate_backend of every relais connection, several times |
| opco | one OPCO down, one slow (+ hangs past the read timeout), a 429 storm with |
|      | Retry-After, 5xx bursts, connections dropped, responses lost after the OPCO stored |
|      | the dossier (drop and hang) |
| replays | the same records produced again; the ingest group reset to earliest (full replay) |
| rebalance | a second ingest process joins mid-batch, then leaves |
| polls | OPCO state changes while the poller is killed and PostgreSQL connections dropped |
| followups | several follow-ups per ENGAGE dossier (factures, certificats, rupture) under |
|           | OPCO faults and PostgreSQL drops: their order at the OPCO is checked per dossier |
| (attacker)| during followups, an attacker CFA on its own topic: oversized subject and keys, |
|           | the legitimate CFAs' event ids reused (before and after them), forged sources, |
|           | a follow-up naming another CFA's OPCO number (``tests.faults.attacker``) |

The broker restart (Tansu on ``s3://``) is its own test (``test_broker_restart.py``).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from dataclasses import dataclass
from typing import Any

from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import load_profiles
from relais.sampledata import Generator
from relais.sampledata.generator import GeneratedDossier
from tests.faults.attacker import ATTACKER_SEED, AttackRecord, Builder
from tests.faults.harness import Cluster, Workload, wait_for

NODES = {"ingest": "ingest", "dispatch": "dispatch", "relay-poll": "relay,poll", "all": ""}


@dataclass(frozen=True)
class Sizes:
    batch: int  # events per phase (6 phases)
    kill_rounds: int = 1
    pg_drops: int = 2
    replay_fraction: float = 0.2
    opco_fault_s: float = 12.0
    settle_s: float = 300.0
    followup_dossiers: int = 20  # ENGAGE dossiers that get several follow-ups each
    # the attacker (during the followups phase): event ids reused before / after the
    # legitimate event, forged records before / after, follow-ups naming another CFA's number
    attack_collisions: int = 3
    attack_forged: int = 2
    attack_foreign: int = 1
    attack_subject_bytes: int = 300_000
    attack_key_bytes: int = 400_000
    attack_garbage_key_bytes: int = 1_200_000


CI = Sizes(
    batch=70, kill_rounds=1, pg_drops=2, opco_fault_s=10.0, settle_s=240.0, followup_dossiers=16
)
LONG = Sizes(
    batch=900,
    kill_rounds=3,
    pg_drops=4,
    opco_fault_s=45.0,
    settle_s=1500.0,
    followup_dossiers=250,
    attack_collisions=15,
    attack_forged=8,
    attack_foreign=4,
    attack_subject_bytes=1_100_000,
    attack_key_bytes=900_000,
)


async def start_nodes(cluster: Cluster) -> None:
    # One after the other: the first migrates the ledger, the others find it ready.
    for name, roles in NODES.items():
        await cluster.add_node(name, roles or "ingest,dispatch,relay,poll")


async def _done_at_least(cluster: Cluster, n: int) -> bool:
    try:
        rows = await cluster.ledger("SELECT count(*) AS n FROM commands WHERE state='done'")
    except Exception:
        return False
    return int(rows[0]["n"]) >= n


async def _inbox_at_least(cluster: Cluster, n: int) -> bool:
    try:
        rows = await cluster.ledger("SELECT count(*) AS n FROM inbox")
    except Exception:
        return False
    return int(rows[0]["n"]) >= n


async def _inbox_count(cluster: Cluster) -> int:
    rows = await cluster.ledger("SELECT count(*) AS n FROM inbox")
    return int(rows[0]["n"])


async def _done_count(cluster: Cluster) -> int:
    rows = await cluster.ledger("SELECT count(*) AS n FROM commands WHERE state='done'")
    return int(rows[0]["n"])


async def wait_inbox(cluster: Cluster, n: int) -> None:
    await wait_for(lambda: _inbox_at_least(cluster, n), timeout_s=120, what=f"inbox >= {n}")


async def wait_done(cluster: Cluster, n: int) -> None:
    await wait_for(lambda: _done_at_least(cluster, n), timeout_s=120, what=f"done >= {n}")


async def settle(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    state = await cluster.wait_settled(list(wl.expected), timeout_s=sizes.settle_s)
    cluster.timeline.note("info", f"settled: {state}")


async def phase_kills(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    cluster.timeline.start_phase("kills")
    for _ in range(sizes.kill_rounds):
        batch = wl.batch(sizes.batch)
        inbox0, done0 = await _inbox_count(cluster), await _done_count(cluster)
        producing = asyncio.create_task(cluster.produce(wl.records(batch), "events"))
        # ingest: killed once it has taken a few events of the batch
        await wait_inbox(cluster, inbox0 + max(3, len(batch) // 8))
        await cluster.kill9("ingest")
        await cluster.restart("ingest")
        await producing
        # dispatch: killed with commands in flight
        await wait_done(cluster, done0 + max(2, len(batch) // 8))
        await cluster.kill9("dispatch")
        await cluster.kill9("relay-poll")  # relay (the leader or not) and poll
        await asyncio.sleep(1.0)
        await cluster.restart("dispatch")
        await cluster.restart("relay-poll")
        await wait_done(cluster, done0 + max(4, len(batch) // 4))
        await cluster.kill9("all")  # every role at once
        await cluster.restart("all")
    await settle(cluster, wl, sizes)


async def phase_postgres(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    cluster.timeline.start_phase("postgres")
    batch = wl.batch(sizes.batch)
    done0 = await _done_count(cluster)
    producing = asyncio.create_task(cluster.produce(wl.records(batch), "events"))
    for i in range(sizes.pg_drops):
        await wait_done(cluster, done0 + (i + 1) * max(2, len(batch) // (sizes.pg_drops + 2)))
        await cluster.terminate_pg_connections()
        await asyncio.sleep(2.0)  # the pools reconnect and work resumes before the next drop
    await producing
    await settle(cluster, wl, sizes)


async def phase_opco(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    cluster.timeline.start_phase("opco")
    cluster.set_fault(OpcoCode.ATLAS, "opco_down", down=True, retry_after_s=1)
    cluster.set_fault(
        OpcoCode.OCAPIAT, "opco_slow", latency_ms=1500, jitter_ms=500, timeout_rate=0.15, hang_s=6
    )
    cluster.set_fault(OpcoCode.AKTO, "opco_429_storm", throttle_rate=0.8, retry_after_s=1)
    cluster.set_fault(OpcoCode.OPCO2I, "opco_5xx_burst", error_rate=0.6)
    cluster.set_fault(
        OpcoCode.OPCOEP, "opco_stored_lost", stored_lost_rate=0.5, stored_lost_mode="drop"
    )
    cluster.set_fault(
        OpcoCode.CONSTRUCTYS,
        "opco_stored_lost",
        stored_lost_rate=0.4,
        stored_lost_mode="hang",
        hang_s=6,
    )
    cluster.set_fault(OpcoCode.MOBILITES, "opco_connection_drop", drop_rate=0.4)
    batch = wl.batch(sizes.batch)
    await cluster.produce(wl.records(batch), "events")
    t0 = time.monotonic()
    await asyncio.sleep(sizes.opco_fault_s / 2)
    cluster.clear_fault(OpcoCode.ATLAS)  # back up after a while
    await asyncio.sleep(max(0.0, sizes.opco_fault_s - (time.monotonic() - t0)))
    cluster.clear_fault()
    await settle(cluster, wl, sizes)


async def phase_replays(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    cluster.timeline.start_phase("replays")
    rng = random.Random(5)
    sample = rng.sample(wl.events, max(5, int(len(wl.events) * sizes.replay_fraction)))
    # also a batch of new events, so the replays interleave with fresh work
    batch = wl.batch(sizes.batch // 2)
    await cluster.produce(wl.records(sample), "duplicate_produce")
    await cluster.produce(wl.records(batch), "events")
    await settle(cluster, wl, sizes)
    # the whole topic again: the ingest group reset to earliest while its members are away
    await cluster.stop_node("ingest", note="info")
    await cluster.stop_node("all", note="info")
    await asyncio.sleep(2.0)  # the group's session expires (1 s) even if a leave was lost
    await cluster.reset_group_to_earliest()
    await cluster.restart("ingest")
    await cluster.restart("all")
    await settle(cluster, wl, sizes)


async def phase_rebalance(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    """A second ingest process joins mid-batch, then leaves mid-batch. The join took effect if
    the group lists it and it consumed events produced once it was a member (its partitions)."""
    cluster.timeline.start_phase("rebalance")
    batch = wl.batch(sizes.batch)
    half, three_quarters = len(batch) // 2, len(batch) * 3 // 4
    inbox0 = await _inbox_count(cluster)
    producing = asyncio.create_task(cluster.produce(wl.records(batch[:half]), "events"))
    await wait_inbox(cluster, inbox0 + max(3, len(batch) // 6))
    await cluster.add_node("ingest-2", "ingest")
    cluster.timeline.note("rebalance_join", "ingest-2 joined the group")
    await producing
    await cluster.wait_member("ingest-2", present=True)
    await cluster.produce(wl.records(batch[half:three_quarters]), "events")
    await cluster.wait_consumed("ingest-2")
    producing = asyncio.create_task(cluster.produce(wl.records(batch[three_quarters:]), "events"))
    await cluster.stop_node("ingest-2", note="rebalance_leave")  # scraped first
    await producing
    cluster.joined["ingest-2"] = cluster.consumed("ingest-2")
    await cluster.wait_member("ingest-2", present=False)
    cluster.timeline.note("info", f"ingest-2 consumed {cluster.joined['ingest-2']} events")
    await settle(cluster, wl, sizes)


async def phase_polls(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    """OPCO state changes (the simulator's clock moves) under a killed poller and PG drops."""
    cluster.timeline.start_phase("polls")
    assert cluster.sim is not None
    cluster.sim.advance(1.2)  # TRANSMIS -> EN_COURS_INSTRUCTION
    cluster.timeline.note("info", "simulator clock +1.2 days")
    await asyncio.sleep(1.5)
    await cluster.kill9("relay-poll")
    await cluster.kill9("all")
    await cluster.restart("relay-poll")
    await cluster.terminate_pg_connections()
    await cluster.restart("all")
    cluster.sim.advance(2.5)  # -> ENGAGE
    cluster.timeline.note("info", "simulator clock +2.5 days")
    await asyncio.sleep(1.5)
    await cluster.kill9("relay-poll")
    await cluster.restart("relay-poll")
    await cluster.wait_polled(timeout_s=sizes.settle_s)
    await settle(cluster, wl, sizes)
    cluster.timeline.note("info", "every OPCO state change seen by the poller")


async def engaged_targets(
    cluster: Cluster, wl: Workload, n: int
) -> list[tuple[GeneratedDossier, float]]:
    """Up to ``n`` ENGAGE dossiers, OPCOs taken in turn, each with what its échéance 1 still has
    to be invoiced (euros), read from the simulator."""
    assert cluster.sim is not None
    sim = cluster.sim
    rows = await cluster.ledger(
        "SELECT cfa, dossier_id, opco, numero_interne FROM dossiers"
        " WHERE numero_interne IS NOT NULL"
    )
    numero = {(r["cfa"], r["dossier_id"]): (r["opco"], r["numero_interne"]) for r in rows}
    by_opco: dict[str, list[GeneratedDossier]] = {}
    for d in wl.submitted:
        if (d.cfa.siret, d.dossier_id) in numero:
            by_opco.setdefault(d.opco.value, []).append(d)
    turns = [d for group in itertools.zip_longest(*by_opco.values()) for d in group if d]
    targets: list[tuple[GeneratedDossier, float]] = []
    for d in turns:
        if len(targets) >= n:
            break
        opco, numero_interne = numero[(d.cfa.siret, d.dossier_id)]
        detail = await asyncio.to_thread(sim.dossier, opco, numero_interne)
        if detail["etat"] != "ENGAGE" or not detail["echeances"]:
            continue
        e1 = detail["echeances"][0]
        remaining = e1["montantTotal"] - e1["montantRegle"] - e1["montantEnCoursInstruction"]
        targets.append((d, float(remaining)))
    return targets


async def phase_followups(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    """Several follow-ups per dossier, in order, under OPCO faults and a PostgreSQL drop: only
    the per-dossier FIFO keeps successive follow-ups of a dossier in order (checked)."""
    cluster.timeline.start_phase("followups")
    capabilities = {code: p.capabilities for code, p in load_profiles(cluster.profiles).items()}
    targets = await engaged_targets(cluster, wl, sizes.followup_dossiers)
    batch = wl.followups(targets, capabilities)
    cluster.timeline.note("info", f"{len(batch)} follow-ups of {len(targets)} ENGAGE dossiers")
    # On the follow-up routes only (the poller, not backed off, sees the ruptures at once):
    # every OPCO answers after a random 0-400 ms, so follow-ups of one dossier sent together
    # would reach the OPCO in any order (only the FIFO sends them one at a time); and a few
    # faults each at three OPCOs (a retry waits 1 s, 2 s, 4 s...: more would only take longer).
    routes = ["factures", "certificats", "rupture"]
    extra: dict[OpcoCode, tuple[str, dict[str, Any]]] = {
        OpcoCode.OPCO2I: ("opco_5xx_burst", {"error_rate": 0.5}),
        OpcoCode.OPCOEP: (
            "opco_stored_lost",
            {"stored_lost_rate": 0.5, "stored_lost_mode": "drop"},
        ),
        OpcoCode.AKTO: ("opco_429_storm", {"throttle_rate": 0.5, "retry_after_s": 1}),
    }
    for opco in ALL_OPCO:
        kind, spec = extra.get(opco, ("opco_jitter", {}))
        cluster.set_fault(opco, kind, routes=routes, jitter_ms=400, max_faults=4, **spec)
    done0 = await _done_count(cluster)
    attacking = None
    if cluster.attack is not None:  # the attacker strikes first, then along with the CFAs
        first_strike = asyncio.Event()
        attacking = asyncio.create_task(attack(cluster, wl, sizes, batch, first_strike))
        striking = attacking
        await wait_for(lambda: first_strike.is_set() or striking.done(), timeout_s=180)
    await cluster.produce(wl.records(batch), "events")
    await wait_done(cluster, done0 + max(2, len(batch) // 4))
    await cluster.terminate_pg_connections()
    if attacking is not None:
        await attacking
    await settle(cluster, wl, sizes)
    cluster.clear_fault()
    await cluster.wait_polled(timeout_s=sizes.settle_s)  # the ruptures' new etat
    cluster.timeline.note("info", "every follow-up answered, every rupture seen by the poller")


async def _produce_attack(cluster: Cluster, records: list[AttackRecord], what: str) -> None:
    """Produce the attacker's records on its topic (each keeps its position), then wait until
    ingest has committed past them (it keeps up: nothing poisons the topic)."""
    t0 = time.monotonic()
    positions = await cluster.produce(
        [(r.key, r.value, r.headers) for r in records], what, "attacker"
    )
    ends: dict[int, int] = {}
    for r, (partition, offset) in zip(records, positions, strict=True):
        r.topic, r.partition, r.offset = cluster.topics["attacker"], partition, offset
        ends[partition] = max(ends.get(partition, 0), offset + 1)

    async def past() -> bool:
        committed = await cluster.committed("attacker")
        return all(committed.get(p, 0) >= end for p, end in ends.items())

    await wait_for(past, timeout_s=120, every_s=0.3, what=f"ingest past {what}")
    cluster.timeline.note(
        "info", f"{what}: ingest committed past them in {time.monotonic() - t0:.1f}s"
    )


async def attack(
    cluster: Cluster,
    wl: Workload,
    sizes: Sizes,
    upcoming: list[dict[str, Any]],
    first_strike: asyncio.Event,
) -> None:
    """The attacker CFA (``tests.faults.attacker``), on its own topic, while the legitimate
    follow-ups (``upcoming``, not produced yet) flow under OPCO faults and a PostgreSQL drop."""
    assert cluster.attack is not None and cluster.sim_today is not None
    build = Builder(cluster.attack, Generator(ATTACKER_SEED, wl.gen.today, cfa_count=1))
    n = sizes.attack_collisions
    # 1. before the legitimate events: their ids reused, and forged
    mark = len(cluster.attack.records)
    build.collide("collide_before", [e["id"] for e in upcoming[:n]])
    unsigned = [e for e in upcoming[n:] if wl.cfa_of[e["id"]] not in wl.hmac_secrets]
    signed = [e for e in upcoming[n:] if wl.cfa_of[e["id"]] in wl.hmac_secrets]
    forged = [*unsigned[: sizes.attack_forged - 1], *signed[:1]]
    build.forge(forged, wl.hmac_secrets, tamper=True)
    await _produce_attack(cluster, cluster.attack.records[mark:], "attack_collide")
    first_strike.set()
    # 2. along with them: its own dossier, oversized records, ids of answered events reused,
    # answered events forged
    profiles = load_profiles(cluster.profiles)
    rows = await cluster.ledger(
        "SELECT opco, numero_interne FROM dossiers WHERE numero_interne IS NOT NULL ORDER BY 1, 2"
    )
    by_opco: dict[str, list[str]] = {}
    for r in rows:
        by_opco.setdefault(r["opco"], []).append(r["numero_interne"])
    opco = next(
        code
        for code in ALL_OPCO
        if profiles[code].capabilities.has("conventions") and by_opco.get(code.value)
    )
    own = build.gen.dossier(opco, cfa=build.gen.cfas[0], start=wl.gen.today)
    wl._add(own.event, "submitted", "dossier", own.cfa.siret)
    wl.personal.update(own.personal_values())
    await cluster.produce(wl.records([own.event]), "events", "attacker")
    answered = [e for e in wl.events if "__garbage__" not in e and e["id"] in wl.expected]
    answered = [e for e in answered if wl.cfa_of[e["id"]] != own.cfa.siret]
    mark = len(cluster.attack.records)
    build.oversized(
        sizes.attack_subject_bytes, sizes.attack_key_bytes, sizes.attack_garbage_key_bytes
    )
    build.collide("collide_after", [e["id"] for e in answered[:n]])
    build.forge(answered[n : n + sizes.attack_forged], wl.hmac_secrets)
    await _produce_attack(cluster, cluster.attack.records[mark:], "attack_poison")
    # 3. once its dossier has its OPCO number: follow-ups naming other CFAs' numbers there
    await wait_for(
        lambda: _numero_known(cluster, own.cfa.siret, own.dossier_id),
        timeout_s=sizes.settle_s,
        what="the attacker's dossier numbered",
    )
    mark = len(cluster.attack.records)
    for numero in by_opco[opco.value][: sizes.attack_foreign]:
        build.foreign_numero(own, numero)
    await _produce_attack(cluster, cluster.attack.records[mark:], "attack_foreign_numero")


async def _numero_known(cluster: Cluster, cfa: str, dossier_id: str) -> bool:
    rows = await cluster.ledger(
        "SELECT numero_interne FROM dossiers WHERE cfa = $1 AND dossier_id = $2", cfa, dossier_id
    )
    return bool(rows and rows[0]["numero_interne"])


async def run_all(cluster: Cluster, wl: Workload, sizes: Sizes) -> None:
    await start_nodes(cluster)
    await phase_kills(cluster, wl, sizes)
    await phase_postgres(cluster, wl, sizes)
    await phase_opco(cluster, wl, sizes)
    await phase_replays(cluster, wl, sizes)
    await phase_rebalance(cluster, wl, sizes)
    await phase_polls(cluster, wl, sizes)
    await phase_followups(cluster, wl, sizes)
    cluster.timeline.start_phase("final")
    for name, node in cluster.nodes.items():
        if node.wanted:  # ingest-2 left the group (and was scraped) in the rebalance phase
            await cluster.scrape(name)
    await cluster.check_ready()
    await cluster.stop_all()
