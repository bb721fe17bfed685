"""What the pipeline integration tests share: per-test topics, settings, a running app."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from relais.bootstrap import App
from relais.config import Settings
from relais.domain.events import structured_to_record
from relais.domain.opco import OpcoCode
from relais.sampledata.generator import Generator
from relais.services.ingest.signature import sign
from tests.fixtures.broker import In, Out, broker_kind_of, consume_all
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, SimulatorProcess
from tests.today import TODAY


@dataclass(frozen=True)
class Topics:
    input: str
    status: str
    dlq: str
    rejected: str  # the operators' topic: refusals of records whose source is not established


def make_topics(topic_factory: Callable[..., str], partitions: int = 1) -> Topics:
    return Topics(
        input=topic_factory("cfa", partitions),
        status=topic_factory("status", 1),
        dlq=topic_factory("dlq", 1),
        rejected=topic_factory("rejected", 1),
    )


def settings_for(
    bootstrap: str,
    topics: Topics,
    ledger_url: str,
    *,
    group_id: str | None = None,
    cfa: dict[str, Any] | None = None,
    **kafka: Any,
) -> Settings:
    return Settings(
        cfa=cfa or {},
        kafka={
            "bootstrap_servers": bootstrap,
            "input_topic": topics.input,
            "status_topic": topics.status,
            "dlq_topic": topics.dlq,
            "rejected_topic": topics.rejected,
            "group_id": group_id or f"relais-test-{uuid.uuid4().hex[:8]}",
            **broker_timings(bootstrap),
            "auto_offset_reset": "earliest",
            "relay_idle_s": 0.05,
            # Tests that bind topics to CFAs pass topic_sources; the others waive it explicitly.
            "allow_unbound_sources": "topic_sources" not in kafka,
            **kafka,
        },
        ledger={"url": ledger_url},
        http={"port": 0},
        dispatch={"enabled": False},
        poll={"enabled": False},
        shutdown_grace_s=5,
    )


def broker_timings(bootstrap: str) -> dict[str, Any]:
    """Tansu's fast group timings (a join in ~1 s, not 5-18 s) and short fetch wait (it holds
    every fetch that long); on Apache Kafka none: relais runs with its production defaults."""
    if broker_kind_of(bootstrap) == "kafka":
        return {}
    return {"session_timeout_ms": 1000, "heartbeat_interval_ms": 333, "fetch_max_wait_ms": 20}


def generator(seed: int = 7) -> Generator:
    return Generator(seed, TODAY)


def sim_generator(sim: SimulatorProcess, seed: int) -> Generator:
    """A generator on the simulator's today whose one CFA is the one the simulator has keys for."""
    gen = Generator(seed, date.fromisoformat(sim.clock()["today"]), cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    return gen


def sim_urls(sim: SimulatorProcess) -> dict[OpcoCode, str]:
    """Every OPCO's root at the simulator (``build(..., base_urls=)``)."""
    return {opco: sim.opco_url(opco) for opco in OpcoCode}


def out(event: dict[str, Any]) -> Out:
    """A structured CloudEvent as the Kafka record a CFA would produce."""
    record = structured_to_record(event)
    return Out(value=record.value, key=record.key, headers=record.headers)


@asynccontextmanager
async def running(app: App) -> AsyncIterator[App]:
    stop = asyncio.Event()
    task = asyncio.create_task(app.serve(stop))
    try:
        await wait_until(lambda: app._started or task.done(), timeout_s=20)
        if task.done():
            task.result()
        if app.ingest is not None:
            await wait_until(_assigned(app), timeout_s=20)
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def _assigned(app: App) -> Callable[[], bool]:
    def check() -> bool:
        assert app.ingest is not None
        consumer = getattr(app.ingest.subscriber, "consumer", None)
        return bool(consumer is not None and consumer.assignment())

    return check


async def wait_until(
    predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 15.0, every_s: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(every_s)


async def published_statuses(
    app: App, bootstrap: str, *topics: str, timeout_s: float = 20.0
) -> list[In]:
    """Every status the app's relay has published, across ``topics`` (the status topic, and the
    operators' topic where refusals of records whose source is not established go), read once its
    outbox backlog is empty: the total is known, so no "nothing new for N s" guess cuts the read
    short on a slow machine, and a duplicate still shows (the reads go on until the topics are
    idle)."""
    relay = app.relay
    assert relay is not None and topics

    async def drained() -> bool:
        return not (await app.ledger.counts()).get("outbox", 0)

    await wait_until(drained, timeout_s=timeout_s)
    deadline = time.monotonic() + timeout_s
    while True:
        records = [r for topic in topics for r in await consume_all(bootstrap, topic)]
        if len(records) >= relay.published or time.monotonic() > deadline:
            return records


def signed(record: Out, secret: str) -> Out:
    """``record`` with a valid ``ce_signature`` (HMAC-SHA256 of its headers and value)."""
    headers = [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in record.headers]
    text = {k: v.decode() for k, v in headers}
    return Out(
        value=record.value,
        key=record.key,
        headers=[*headers, ("ce_signature", sign(secret, text, record.value).encode())],
    )


def with_header(record: Out, name: str, value: str) -> Out:
    """``record`` with its header ``name`` replaced by ``value``."""
    headers = [(k, v) for k, v in record.headers if k != name]
    return Out(value=record.value, key=record.key, headers=[*headers, (name, value.encode())])


def by_status(statuses: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in statuses:
        out.setdefault(s.json()["status"], []).append(s)
    return out
