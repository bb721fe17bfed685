"""Limits and tenant isolation fuzzed through the real broker: the fuzz that would have found the
findings of "Poison records and tenant isolation" (a 450 KB ce_subject blocking the relay, a
1.2 MB key blocking ingest, CFA B's ce_id cancelling A's event, B naming A's dossier number,
refusals of forged records echoing the victim's ids).

ONE relais (ingest, dispatch, relay; the real OPCO simulator) runs for the whole test, its topics
and ledger kept across hypothesis examples; each example (``plans.py``) sends a few hostile records
then one valid dossier event of each CFA (A: own topic, signed; B: own topic; C: the shared topic):

- ids (key, ce_id, ce_subject, dossier id, other headers) of 199, 200, 201, 800, 801 characters
  of 1 to 4 bytes (the id limit, ingest's MAX_ID, and its bound in bytes), and of 450 KB / 1.2 MB;
- values of kafka.max_message_bytes - 1, exactly, + 1, + 1 KB, + 1.1 MB (beyond Kafka's 1 MiB);
- MAX_ERRORS +- 1 errors with paths around MAX_PATH: ``rejected`` statuses around
  MAX_STATUS_BYTES;
- one CFA reusing another's ce_id (valid or not) or dossier id, naming another's
  numeroInterneDossier, and copies of a CFA's event forged on a topic or without the signature
  that would establish its source.

After each example, checked: each valid event got exactly one ``received`` on its own CFA's view
(its status topic, or the shared one with its SIRET) and never a ``rejected``; what a plan's
boundary promises (an id of 200 characters accepted, one of 201 not; a value at the limit
accepted, above it dead-lettered; forged records refused on the operators' topic by Kafka
position); nothing stalls (ingest handled every record and is not failing, the outbox is drained,
nothing set aside, ``/health/ready`` answers 200); every status fits MAX_STATUS_BYTES; no log field
copies a long id; no status on a CFA's view names an event, dossier or OPCO number that CFA did not
send or get. At the end: every valid event reached exactly one terminal status (``submitted``),
every OPCO request used its CFA's key.

Twice: one shared status topic (SQLite ledger), and one status topic per CFA
(``kafka.status_topic_pattern``, PostgreSQL ledger).

Examples: ``RELAIS_FUZZ_EXAMPLES`` per test (default 50, so 100 in ``make test``; about 0.3 s each
on a quiet machine), e.g. for a long run::

    RELAIS_FUZZ_EXAMPLES=1000 .venv/bin/pytest tests/integration/fuzz/test_limits_fuzz.py -s

Reproducible: a fixed seed per test and no example database, so CI draws the same examples every
run; ``RELAIS_FUZZ_SEED=<int>`` draws others (a long run with a new seed finds new cases). No
shrinking (each example runs against the live relais, whose state moves on): a failure names the
example's plan and its index (``example N``); ``-s`` prints what the run covered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, Phase, given, seed, settings

from relais.adapters.embedded_broker import create_topics_sync
from relais.bootstrap import App, build
from relais.config import Settings
from relais.domain.events import structured_to_record
from relais.domain.opco import OpcoCode
from relais.sampledata import Cfa, GeneratedDossier, Generator
from relais.services.ingest.signature import sign
from relais.services.ledger_port import OutboxMessage
from relais.services.statuses import MAX_STATUS_BYTES, message_size
from tests.fixtures.broker import In
from tests.fixtures.postgres import PgDatabases
from tests.fixtures.simulator import SimulatorProcess
from tests.integration.fuzz import plans as p
from tests.integration.fuzz.test_broker_fuzz import check_opco_calls
from tests.integration.pipeline.harness import Topics, running, settings_for, wait_until
from tests.ledger_entries import reject

EXAMPLES = int(os.environ.get("RELAIS_FUZZ_EXAMPLES", "50"))
SEED = os.environ.get("RELAIS_FUZZ_SEED")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(240 + 3 * EXAMPLES),
    # relais keeps running between examples, in its own thread: its retry jitter draws from the
    # global random while hypothesis draws a plan, which hypothesis takes for a strategy using it
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

SECRET_A = "limits-fuzz-hmac-secret-a-0123456789"
MAX_BYTES = 128 * 1024  # kafka.max_message_bytes of the fuzzed relais
MAX_LOG_FIELD = 4096  # ids <= 200, error paths <= 256, messages <= 512 characters
TERMINAL = {"submitted", "rejected", "failed", "dead_lettered"}
T = TypeVar("T")


class LoopThread:
    """An event loop in its own thread, kept across hypothesis examples (whose test function is
    synchronous): relais keeps running (heartbeats, relay, dispatch) between them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@dataclasses.dataclass
class Sent:
    """One produced record and what it is expected to earn."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    owner: int | None = None  # the CFA it is established as (None: forged)
    event_id: str | None = None
    dossier_id: str | None = None
    expect: str | None = None  # "received" / "rejected" / "not_received" / "refused" / "dlq"
    codes: frozenset[str] = frozenset()  # rejected: its error codes are among these
    offset: int = -1


@dataclasses.dataclass(frozen=True)
class Seen:
    """A status (or refusal) read, and its JSON body."""

    rec: In
    body: dict[str, Any]


class Collector:
    """Every record of the status, operators' and DLQ topics, read as they come; the statuses
    parsed once and indexed by (topic, cfa, eventId)."""

    def __init__(self, bootstrap: str, topics: list[str], dlq: str) -> None:
        self._bootstrap = bootstrap
        self._topics = topics
        self._dlq = dlq
        self.got: dict[str, list[In]] = {t: [] for t in topics}
        self.seen: dict[str, list[Seen]] = {t: [] for t in topics}
        self.index: dict[tuple[str, Any, Any], list[Seen]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=4 << 20,
        )
        await consumer.start()
        tps = [TopicPartition(t, 0) for t in self._topics]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=100)
                for tp, msgs in batch.items():
                    for m in msgs:
                        headers = tuple((k, v or b"") for k, v in (m.headers or ()))
                        rec = In(m.topic, m.partition, m.offset, m.key, m.value, headers, 0)
                        self.got[tp.topic].append(rec)
                        if tp.topic != self._dlq:
                            seen = Seen(rec, json.loads(m.value))
                            self.seen[tp.topic].append(seen)
                            key = (tp.topic, seen.body.get("cfa"), seen.body.get("eventId"))
                            self.index.setdefault(key, []).append(seen)
        finally:
            await consumer.stop()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _texts(value: Any) -> Iterator[str]:
    """The text leaves of a log field."""
    if isinstance(value, str | bytes):
        yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item)


def _dlq(letter: In) -> dict[str, str]:
    """relais's own headers of a dead letter (the record's own may not be UTF-8)."""
    return {k: v.decode() for k, v in letter.header_list if k.startswith("dlq_")}


def _size(rec: In) -> int:
    return (
        len(rec.key or b"")
        + sum(len(k) + len(v) for k, v in rec.header_list)
        + len(rec.value or b"")
    )


class Harness:
    """One running relais, its topics, and what the examples sent so far."""

    def __init__(
        self,
        bootstrap: str,
        sim: SimulatorProcess,
        tmp: Path,
        ledger_url: str,
        per_cfa_topics: bool,
    ) -> None:
        self.bootstrap, self.sim, self.per_cfa = bootstrap, sim, per_cfa_topics
        self.loop = LoopThread()
        self.prefix = f"lim-{uuid.uuid4().hex[:8]}"
        self.today = date.fromisoformat(sim.clock()["today"])
        self.g = Generator(43, self.today, cfa_count=3)
        self.cfa: tuple[Cfa, ...] = tuple(self.g.cfas)
        self.input = {name: f"{self.prefix}-{name}" for name in ("a", "b", "shared", "unmapped")}
        self.topics = Topics(
            input=self.input["shared"],
            status=f"{self.prefix}.status",
            dlq=f"{self.prefix}.dlq",
            rejected=f"{self.prefix}.rejected",
        )
        self.status_of = {
            i: f"{self.prefix}.{c.siret}.status" if per_cfa_topics else self.topics.status
            for i, c in enumerate(self.cfa)
        }
        outputs = [self.topics.status, self.topics.dlq, self.topics.rejected]
        if per_cfa_topics:
            outputs += list(self.status_of.values())
        create_topics_sync(bootstrap, [*self.input.values(), *outputs], 1)
        self.collector = Collector(bootstrap, outputs, self.topics.dlq)
        keys = tmp / f"keys-{self.prefix}.csv"
        rows = ["siret,opco,key,expiry"] + [
            f"{c.siret},{o.value},{sim.key_for(c.siret, o)},2099-12-31"
            for c in self.cfa
            for o in OpcoCode
        ]
        keys.write_text("\n".join(rows) + "\n")
        keys.chmod(0o600)
        kafka: dict[str, Any] = {
            "input_pattern": rf"{self.prefix}-[a-z]+",
            "topic_sources": {
                self.input["a"]: [self.cfa[p.A].siret],
                self.input["b"]: [self.cfa[p.B].siret],
                self.input["shared"]: ["*"],
            },
            "max_message_bytes": MAX_BYTES,
        }
        if per_cfa_topics:
            kafka["status_topic_pattern"] = self.prefix + ".{siret}.status"
        base = settings_for(
            bootstrap,
            self.topics,
            ledger_url,
            cfa={"hmac_secrets": {self.cfa[p.A].siret: SECRET_A}},
            **kafka,
        )
        self.settings = Settings(
            **{
                **base.model_dump(exclude={"dispatch", "credentials", "kafka", "ledger", "cfa"}),
                "kafka": base.kafka,
                "ledger": base.ledger,
                "cfa": base.cfa,
                "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.1},
                "credentials": {"keys_file": keys, "oauth_clients_file": self.sim.oauth_file},
            }
        )
        self.app: App | None = None
        self._stack = AsyncExitStack()
        self.sent: list[Sent] = []
        self.tails: dict[str, int] = {}  # valid event id -> its CFA
        self.dossiers: dict[int, list[GeneratedDossier]] = {i: [] for i in p.CFAS}
        self.examples = 0
        self.legacy: dict[str, tuple[int, bool]] = {}  # legacy row id -> (CFA, publishable)
        self.kinds: Counter[str] = Counter()  # hostile records sent, by kind (printed at the end)

    # -- running ------------------------------------------------------------------------------

    def start(self) -> None:
        # relais's log events are captured (not printed) for the whole run: no field may copy an
        # unbounded id from a record (ingest's MAX_ID bounds what it copies "anywhere (a status, a
        # log line)")
        self._capture = structlog.testing.capture_logs()
        self.logs = self._capture.__enter__()
        self.loop.run(self._start())

    async def _start(self) -> None:
        base_urls = {o: self.sim.opco_url(o) for o in OpcoCode}
        self.app = build(self.settings, ["ingest", "dispatch", "relay"], base_urls=base_urls)
        await self._stack.enter_async_context(running(self.app))
        await self.collector.start()
        self._stack.push_async_callback(self.collector.stop)
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", max_request_size=8 << 20
        )
        await self.producer.start()
        self._stack.push_async_callback(self.producer.stop)
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.app.http_port}")
        self._stack.push_async_callback(self.http.aclose)

    def close(self) -> None:
        try:
            self.loop.run(self._stack.aclose(), 60)
        finally:
            self.loop.close()
            self._capture.__exit__(None, None, None)

    def run_example(self, plan: list[p.Hostile]) -> None:
        self.examples += 1
        records = self._records(plan)
        self.loop.run(self._run(plan, records))

    async def _run(self, plan: list[p.Hostile], records: list[Sent]) -> None:
        assert self.app is not None
        for i, spec in enumerate(plan):
            if isinstance(spec, p.LegacyRow):
                row = self._legacy_row(spec, f"legacy-{self.examples:04d}-{i}")
                assert await reject(self.app.ledger, row.event_id, [row], self.cfa[spec.cfa].siret)
        for rec in records:
            meta = await self.producer.send_and_wait(
                rec.topic, value=rec.value, key=rec.key, headers=rec.headers
            )
            rec.offset = meta.offset
        self.sent.extend(records)
        settled = True
        try:
            await wait_until(lambda: self._settled(records), timeout_s=60, every_s=0.1)
        except TimeoutError:
            settled = False  # the checks say what is missing
        self.check(records)
        ready = await self.http.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert self.app is not None
        pending = await self.app.ledger.outbox_batch(5)
        assert settled, f"example {self.examples}: outbox not drained after 60 s: {pending}"
        for spec in plan:
            self.kinds[type(spec).__name__] += 1

    async def _settled(self, records: list[Sent]) -> bool:
        app = self.app
        assert app is not None and app.ingest is not None
        if app.ingest.handled < len(self.sent) or not self._expectations_met(records):
            return False
        return self._legacy_done() and await app.ledger.outbox_batch(1) == []

    def _legacy_done(self) -> bool:
        reported = {_dlq(d).get("dlq_status_id") for d in self.collector.got[self.topics.dlq]}
        return all(
            bool(self._of(cfa, row_id)) if publishable else row_id in reported
            for row_id, (cfa, publishable) in self.legacy.items()
        )

    # -- what an example sends ------------------------------------------------------------------

    def _records(self, plan: list[p.Hostile]) -> list[Sent]:
        n = self.examples
        # SANTE offers no dossier route (its profile); AKTO needs OAuth2 clients besides keys
        opcos = [o for o in OpcoCode if o not in (OpcoCode.SANTE, OpcoCode.AKTO)]
        tails = {
            i: self.g.dossier(opcos[(3 * n + i) % len(opcos)], cfa=self.cfa[i], start=self.today)
            for i in p.CFAS
        }
        out: list[Sent] = []
        for j, spec in enumerate(plan):
            out.extend(self._hostile(spec, f"{n:04d}{j}", tails))
        for i, d in tails.items():
            out.append(self._sent(d.event, i, expect="received"))
            self.tails[d.event_id] = i
            self.dossiers[i].append(d)
        seen = {(r.owner, r.event_id) for r in self.sent if r.owner is not None}
        for rec in out:
            if rec.owner is not None and (rec.owner, rec.event_id) in seen:
                rec.expect = None  # the same CFA's event id again: its status again, same id
            seen.add((rec.owner, rec.event_id))
        return out

    def _sent(
        self,
        event: dict[str, Any],
        owner: int | None,
        *,
        topic: str | None = None,
        expect: str | None = None,
        codes: frozenset[str] = frozenset(),
        headers: Callable[[dict[str, str]], None] | None = None,
        key: bytes | bool | None = True,
        value: bytes | None = None,
        signature: str = "valid",
        claimed: int | None = None,
    ) -> Sent:
        rec = structured_to_record(event)
        hdrs = {k: v.decode() for k, v in rec.headers}
        if headers is not None:
            headers(hdrs)
        body = value if value is not None else rec.value
        signer = owner if owner is not None else claimed
        if signer == p.A and signature == "valid":
            hdrs["ce_signature"] = sign(SECRET_A, hdrs, body)
        elif signature == "wrong":
            hdrs["ce_signature"] = sign("not-the-secret", hdrs, body)
        src_topic = topic or p.TOPIC_OF[owner if owner is not None else p.C]
        return Sent(
            topic=self.input[src_topic],
            key=rec.key if key is True else (key or None),
            value=body,
            headers=[(k, v.encode()) for k, v in hdrs.items()],
            owner=owner,
            event_id=str(event["id"]),
            dossier_id=str(event["subject"]),
            expect=expect,
            codes=codes,
        )

    def _legacy_row(self, spec: p.LegacyRow, event_id: str) -> OutboxMessage:
        siret = self.cfa[spec.cfa].siret
        body = {"status": "rejected", "eventId": event_id, "cfa": siret, "errors": []}
        headers = {
            "ce_specversion": "1.0",
            "ce_id": event_id,
            "ce_source": "relais",
            "ce_type": "fr.relais.status.rejected.v1",
            "ce_time": "2026-11-27T08:01:09+01:00",  # a row relais wrote is a whole CloudEvent
            "ce_cfa": siret,
        }
        topic = self.status_of[spec.cfa] if self.per_cfa else None
        bare = OutboxMessage(event_id, "", headers, json.dumps(body).encode(), topic)
        row = dataclasses.replace(bare, key="L" * (spec.size - message_size(bare)))
        assert message_size(row) == spec.size
        self.legacy[event_id] = (spec.cfa, spec.size <= MAX_STATUS_BYTES)
        return row

    def _fresh(self, cfa: int) -> GeneratedDossier:
        return self.g.dossier(OpcoCode.ATLAS, cfa=self.cfa[cfa], start=self.today)

    def _hostile(self, spec: p.Hostile, tag: str, tails: dict[int, GeneratedDossier]) -> list[Sent]:
        if isinstance(spec, p.SizedId):
            return [self._sized_id(spec, tag)]
        if isinstance(spec, p.SizedValue):
            event = self._fresh(spec.cfa).event
            plain = structured_to_record(event).value
            padded = plain + b" " * (MAX_BYTES + spec.delta - len(plain))
            expect = "received" if spec.delta <= 0 else "dlq"
            return [self._sent(event, spec.cfa, value=padded, expect=expect)]
        if isinstance(spec, p.ManyErrors):
            event = self._fresh(spec.cfa).event
            stem = "k" * max(1, spec.path_length - len("data.") - 4)
            data = {**event["data"], **{f"{stem}{i:04d}": "bad\u0000" for i in range(spec.count)}}
            codes = frozenset({"DATA_INVALID_CHARACTER", "TOO_MANY_ERRORS", "STATUS_TRUNCATED"})
            value = json.dumps(data).encode()
            return [self._sent(event, spec.cfa, value=value, expect="rejected", codes=codes)]
        if isinstance(spec, p.ReusedId):
            event = self._fresh(spec.by).event
            event["id"] = tails[spec.victim].event_id
            if spec.valid:
                return [self._sent(event, spec.by, expect="received")]
            invalid = json.dumps({"cerfa": {}}).encode()
            return [self._sent(event, spec.by, value=invalid, expect="rejected")]
        if isinstance(spec, p.ReusedDossier):
            event = self._fresh(spec.by).event
            event["subject"] = tails[spec.victim].dossier_id
            return [self._sent(event, spec.by, expect="received")]
        if isinstance(spec, p.ForeignNumero):
            return self._foreign_numero(spec, tails)
        if isinstance(spec, p.LegacyRow):
            return []  # written to the outbox by _run
        return [self._forged(spec, tails[spec.victim])]

    def _sized_id(self, spec: p.SizedId, tag: str) -> Sent:
        """The id is set on the record (the envelope model would refuse it on the event)."""
        length = spec.length
        if length in p.HUGE:  # in bytes: a record stays under the producer's limit
            length //= len(spec.char.encode())
        long = (tag + "-" + spec.char * length)[:length]
        event = self._fresh(spec.cfa).event
        header = {
            "ce_id": "ce_id",
            "dossier": "ce_subject",
            "ce_subject": "ce_subject",
            "ce_other": "ce_comment",
        }.get(spec.field, "x-note")

        def put(hdrs: dict[str, str]) -> None:
            if spec.field != "key":
                hdrs[header] = long

        key = long.encode() if spec.field in ("key", "dossier") else True
        if spec.field in ("ce_id", "dossier"):  # accepted up to MAX_ID characters, not beyond
            expect = "received" if length <= p.ID_LIMIT else "not_received"
        elif spec.field in ("key", "ce_subject"):  # a key that is not the ce_subject: refused
            expect = "not_received"
        else:  # not an id: whatever its size, never copied anywhere
            expect = None
        rec = self._sent(event, spec.cfa, headers=put, key=key, expect=expect)
        if spec.field == "ce_id":
            rec.event_id = long
        elif spec.field == "dossier":
            rec.dossier_id = long
        return rec

    def _foreign_numero(
        self, spec: p.ForeignNumero, tails: dict[int, GeneratedDossier]
    ) -> list[Sent]:
        known = self.numeros(spec.victim)
        if not known:
            return []
        numero = sorted(known.values())[spec.pick % len(known)]
        mine = {d.dossier_id: d for d in self.dossiers[spec.by]}
        own = sorted(d for d in self.numeros(spec.by) if d in mine)  # its valid dossiers
        if spec.under_victim_id:
            target = dataclasses.replace(tails[spec.by], dossier_id=tails[spec.victim].dossier_id)
        elif own:
            target = mine[own[spec.pick % len(own)]]
        else:
            target = tails[spec.by]
        event = self.g.convention(target, numero_interne=numero)
        codes = frozenset(
            {"DOSSIER_NUMERO_MISMATCH", "DOSSIER_NUMERO_UNVERIFIABLE", "DOSSIER_UNKNOWN"}
        )
        return [self._sent(event, spec.by, expect="rejected", codes=codes)]

    def _forged(self, spec: p.Forged, victim: GeneratedDossier) -> Sent:
        rec = self._sent(
            victim.event,
            None,
            topic=spec.topic,
            expect="refused",
            signature=spec.signature,
            claimed=spec.victim,
        )
        return rec

    # -- what came back ---------------------------------------------------------------------------

    def view(self, cfa: int) -> list[Seen]:
        """The statuses CFA ``cfa`` reads: its topic, or its SIRET's on the shared topic."""
        got = self.collector.seen[self.status_of[cfa]]
        if self.per_cfa:
            return list(got)
        return [s for s in got if s.body.get("cfa") == self.cfa[cfa].siret]

    def numeros(self, cfa: int) -> dict[str, str]:
        """dossier id -> OPCO number of ``cfa``'s submitted dossiers, from its statuses."""
        return {
            s.body["dossierId"]: s.body["numeroInterne"]
            for s in self.view(cfa)
            if s.body["status"] == "submitted" and s.body.get("numeroInterne")
        }

    def _of(self, cfa: int, event_id: str) -> list[Seen]:
        """The statuses of ``cfa``'s event ``event_id`` on its view."""
        key = (self.status_of[cfa], self.cfa[cfa].siret, event_id)
        return self.collector.index.get(key, [])

    def _statuses_of(self, cfa: int, event_id: str) -> list[str]:
        """Its statuses as a consumer keeps them: one per status id (a resent event is answered
        with the status it already has, under the same id: a duplicate delivery, issue 16)."""
        unique = {s.rec.headers["ce_id"]: s.body["status"] for s in self._of(cfa, event_id)}
        return list(unique.values())

    def _refusals(self) -> dict[str, In]:
        return {r.key_str or "": r for r in self.collector.got[self.topics.rejected]}

    def _letters(self) -> set[tuple[str, str]]:
        return {
            (h["dlq_topic"], h["dlq_offset"])
            for d in self.collector.got[self.topics.dlq]
            if "dlq_topic" in (h := _dlq(d))
        }

    def _expectations_met(self, records: list[Sent]) -> bool:
        refusals, letters = self._refusals(), self._letters()
        for rec in records:
            if rec.expect in ("received", "rejected"):
                assert rec.owner is not None and rec.event_id is not None
                if rec.expect not in self._statuses_of(rec.owner, rec.event_id):
                    return False
            elif rec.expect == "refused":
                if f"kafka:{rec.topic}:0:{rec.offset}" not in refusals:
                    return False
            elif rec.expect == "dlq" and (rec.topic, str(rec.offset)) not in letters:
                return False
        return True

    def check(self, records: list[Sent]) -> None:
        app = self.app
        assert app is not None and app.ingest is not None and app.relay is not None
        where = f"example {self.examples}"
        assert app.ingest.handled >= len(self.sent), (where, app.ingest.handled, len(self.sent))
        assert not app.ingest.failing, where
        set_aside = sum(not publishable for _, publishable in self.legacy.values())
        assert app.relay.set_aside == set_aside, (where, "set aside", app.relay.set_aside)
        for row_id, (cfa, publishable) in self.legacy.items():
            published = [s.body["status"] for s in self._of(cfa, row_id)]
            assert published == (["rejected"] if publishable else []), (where, row_id, published)
        assert self._legacy_done(), (where, "a set-aside row not reported on the DLQ topic")
        refusals, letters = self._refusals(), self._letters()
        for rec in records:
            what = (where, rec.expect, rec.topic, rec.offset, (rec.event_id or "")[:40])
            if rec.expect in ("received", "rejected", "not_received"):
                assert rec.owner is not None and rec.event_id is not None
                got = self._statuses_of(rec.owner, rec.event_id)
                if rec.expect == "not_received":
                    assert "received" not in got, (*what, got)
                else:
                    assert got.count(rec.expect) == 1, (*what, got)
                if rec.expect == "rejected" and rec.codes:
                    (status,) = [
                        s.body
                        for s in self._of(rec.owner, rec.event_id)
                        if s.body["status"] == "rejected"
                    ]
                    codes = {e["code"] for e in status["errors"]}
                    assert codes <= rec.codes, (*what, codes)
            elif rec.expect == "refused":
                refusal = refusals.get(f"kafka:{rec.topic}:0:{rec.offset}")
                assert refusal is not None, (*what, "no refusal on the operators' topic")
            elif rec.expect == "dlq":
                assert (rec.topic, str(rec.offset)) in letters, (*what, "no dead letter")
        for event_id, cfa in self.tails.items():
            got = [s for s in self._statuses_of(cfa, event_id) if s in ("received", "rejected")]
            assert got == ["received"], (where, "valid event", event_id, got)
        self.check_isolation(where)
        self.check_logs(where)

    def check_logs(self, where: str) -> None:
        """No log field longer than MAX_LOG_FIELD characters, then forget the example's logs."""
        events, self.logs[:] = list(self.logs), []
        for event in events:
            for name, value in event.items():
                longest = max((len(s) for s in _texts(value)), default=0)
                assert longest <= MAX_LOG_FIELD, (where, event.get("event"), name, longest)

    def check_isolation(self, where: str) -> None:
        sent_ids: dict[int, set[str]] = {i: set() for i in p.CFAS}
        sent_dossiers: dict[int, set[str]] = {i: set() for i in p.CFAS}
        for rec in self.sent:
            if rec.owner is not None and rec.event_id is not None and rec.dossier_id is not None:
                sent_ids[rec.owner].add(rec.event_id)
                sent_dossiers[rec.owner].add(rec.dossier_id)
        for row_id, (cfa, _) in self.legacy.items():
            sent_ids[cfa].add(row_id)
        numeros = {i: set(self.numeros(i).values()) for i in p.CFAS}
        for i in p.CFAS:
            others = set().union(*(numeros[j] for j in p.CFAS if j != i))
            assert not numeros[i] & others, (where, "an OPCO number of two CFAs")
            for s in self.view(i):
                body = s.body
                what = (where, i, body.get("status"), str(body.get("eventId"))[:60])
                assert _size(s.rec) <= MAX_STATUS_BYTES, (*what, _size(s.rec))
                assert body.get("cfa") == self.cfa[i].siret, what
                assert body.get("eventId") in sent_ids[i], (*what, "an event it did not send")
                if "dossierId" in body:
                    assert body["dossierId"] in sent_dossiers[i], (*what, "a dossier not its")
                raw = (s.rec.value or b"").decode()
                # as a JSON string: an id of one shape can sit inside another (ATLAS's
                # numeroExterne 000000016 holds numeroInterne 0000001)
                leaked = [n for n in others if f'"{n}"' in raw]
                assert not leaked, (*what, "another CFA's OPCO number", leaked)
        if self.per_cfa:
            assert self.collector.got[self.topics.status] == [], (where, "shared topic used")
        victims = {rec.event_id for rec in self.sent if rec.owner is None}
        victims |= {rec.dossier_id for rec in self.sent if rec.owner is None}
        for seen in self.collector.seen[self.topics.rejected]:
            r, body = seen.rec, seen.body
            assert r.key_str is not None and r.key_str.startswith("kafka:"), (where, r.key_str)
            assert body["eventId"] == r.key_str, where
            assert "cfa" not in body and "dossierId" not in body, (where, body)
            assert _size(r) <= MAX_STATUS_BYTES, where
            raw = repr((r.key, r.header_list, r.value))
            assert not [v for v in victims if v and v in raw], (where, "a refusal echoes ids")

    def finish(self) -> None:
        """Every valid event reaches exactly one terminal status; OPCO calls used own keys."""

        async def all_terminal() -> bool:
            return all(
                any(s in TERMINAL for s in self._statuses_of(cfa, event_id))
                for event_id, cfa in self.tails.items()
            )

        async def settle() -> None:
            await wait_until(all_terminal, timeout_s=120, every_s=0.2)
            await asyncio.sleep(1.0)  # a late duplicate is seen

        self.loop.run(settle(), 150)
        for event_id, cfa in self.tails.items():
            final = [s for s in self._statuses_of(cfa, event_id) if s in TERMINAL]
            bodies = [s.body for s in self._of(cfa, event_id)]
            assert final == ["submitted"], json.dumps([event_id, final, bodies])
        self.check_isolation("end")
        statuses = [s.rec for i in p.CFAS for s in self.view(i)]
        check_opco_calls(statuses, self.sim.records())


def _run_examples(harness: Harness, default_seed: int) -> None:
    @seed(int(SEED) if SEED is not None else default_seed)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: relais's state moves on
        suppress_health_check=list(HealthCheck),
    )
    @given(plan=p.plans)
    def example(plan: list[p.Hostile]) -> None:
        harness.run_example(plan)

    started = time.monotonic()
    example()
    harness.finish()
    seen = [s for i in p.CFAS for s in harness.view(i)]
    outcomes = Counter(s.body["status"] for s in seen)
    truncated = sum(
        any(e["code"] == "STATUS_TRUNCATED" for e in s.body.get("errors", [])) for s in seen
    )
    largest = max(_size(s.rec) for s in seen)
    print(
        f"{harness.examples} examples in {time.monotonic() - started:.1f} s; hostile records "
        f"{dict(harness.kinds)}; statuses {dict(outcomes)}, largest {largest} bytes, "
        f"{truncated} truncated; "
        f"refusals {len(harness.collector.got[harness.topics.rejected])}, "
        f"dead letters {len(harness.collector.got[harness.topics.dlq])}"
    )


@pytest.fixture
def harness_factory(
    kafka_bootstrap: str, simulator: SimulatorProcess, tmp_path: Path
) -> Iterator[Callable[[str, bool], Harness]]:
    made: list[Harness] = []
    simulator.reset()

    def make(ledger_url: str, per_cfa_topics: bool) -> Harness:
        harness = Harness(kafka_bootstrap, simulator, tmp_path, ledger_url, per_cfa_topics)
        made.append(harness)
        harness.start()
        return harness

    yield make
    for harness in made:
        harness.close()


def test_limits_and_identities_with_the_shared_status_topic(
    harness_factory: Callable[[str, bool], Harness], tmp_path: Path
) -> None:
    _run_examples(harness_factory(f"sqlite:///{tmp_path}/ledger.db", False), 1201)


def test_limits_and_identities_with_a_status_topic_per_cfa(
    harness_factory: Callable[[str, bool], Harness], pg_databases: PgDatabases
) -> None:
    _run_examples(harness_factory(pg_databases.create("relais_fuzz"), True), 1202)
