"""The fault-injection harness: a whole relais installation under test, faults, invariants, report.

One ``Cluster`` is the real thing, each part in its own process with its output captured to a file:

- the OPCO simulator (``relais simulator``), its admin API used to inject faults and read the
  request record;
- a PostgreSQL ledger (a fresh database on the local server);
- the Kafka-protocol broker (Tansu; the session's in-memory one, or one on ``s3://`` for the
  broker-restart phase);
- several ``relais run`` processes, roles split and combined, each with its own HTTP port.

A ``Workload`` is what the CFAs publish (valid dossiers for every OPCO, conventions after their
dossier, invalid dossiers, undecodable records, then several follow-ups per ENGAGE dossier) with
the terminal status each event must end with. The ``Cluster`` keeps the evidence that each fault
took effect (connections terminated, group membership, scrapes, exit codes).
``Timeline`` notes every fault injected (monotonic offset and UTC time). ``check_invariants``
computes the verdict from the status topic, the DLQ topic, the simulator's request record, the
ledger, every captured log line and every scraped ``/metrics`` page; ``write_report`` prints it
and writes JSON + markdown under ``.relais/faults/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from relais.adapters.embedded_broker import create_topics_sync
from relais.demo.processes import RelaisProcess, oauth_client_rows, relais_env, write_profiles
from relais.domain.events import structured_to_record
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.profiles import Capabilities
from relais.domain.referentials import referential
from relais.sampledata import Generator, InvalidKind
from relais.sampledata.generator import GeneratedDossier
from relais.services.ingest.signature import sign
from tests.faults.attacker import (
    ATTACKER_SEED,
    Attack,
    check_accounted,
    check_opco,
    check_statuses,
    victim_numeros,
)
from tests.fixtures.simulator import SimulatorProcess

REPO = Path(__file__).resolve().parents[2]
REPORT_ROOT = REPO / ".relais" / "faults"
TERMINAL = ("submitted", "rejected", "failed", "dead_lettered")
HANDSHAKE = "relais-simulator listening on"
OAUTH_CLIENT_ID = "relais-faults"
MIN_SECRET_LEN = 4  # shorter personal values ("Léa") would match random text


# ------------------------------------------------------------------------------------------------
# Timeline of what was done to the system
# ------------------------------------------------------------------------------------------------


@dataclass
class Timeline:
    t0: float = field(default_factory=time.monotonic)
    entries: list[dict[str, Any]] = field(default_factory=list)
    phase: str = "setup"

    def note(self, kind: str, detail: str = "", **extra: Any) -> None:
        entry = {
            "t_s": round(time.monotonic() - self.t0, 2),
            "utc": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "phase": self.phase,
            "kind": kind,
            "detail": detail,
            **extra,
        }
        self.entries.append(entry)
        print(f"[faults {entry['t_s']:7.2f}s] {self.phase}: {kind} {detail}", flush=True)

    def start_phase(self, name: str) -> None:
        self.phase = name
        self.note("phase", name)

    def faults(self) -> Counter[str]:
        return Counter(e["kind"] for e in self.entries if e["kind"] not in ("phase", "info"))


async def wait_for(
    predicate: Callable[[], Awaitable[bool] | bool],
    *,
    timeout_s: float,
    every_s: float = 0.5,
    what: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not met within {timeout_s:.0f}s")
        await asyncio.sleep(every_s)


# ------------------------------------------------------------------------------------------------
# The simulator, its output in files
# ------------------------------------------------------------------------------------------------


def start_simulator(directory: Path, keys: Path, oauth: Path, token: str) -> SimulatorProcess:
    """``relais simulator --port 0``, its output in files, its URL read from the handshake."""
    out_path, err_path = directory / "simulator.stdout", directory / "simulator.stderr"
    args = [
        sys.executable,
        "-m",
        "relais.entrypoints.cli",
        "simulator",
        *("--port", "0", "--day-seconds", "0"),
        *("--refusal-rate", "0", "--seed", "3"),
        *("--keys", str(keys), "--oauth-clients", str(oauth)),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["RELAIS_SIMULATOR_ADMIN_TOKEN"] = token  # not on the command line: ps shows it
    process = subprocess.Popen(
        args,
        stdout=out_path.open("wb"),
        stderr=err_path.open("wb"),
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    url = None
    while url is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("simulator did not start:\n" + err_path.read_text()[-2000:])
        for line in out_path.read_text(errors="replace").splitlines():
            if line.startswith(HANDSHAKE):
                url = line[len(HANDSHAKE) :].strip()
        time.sleep(0.05)
    sim = SimulatorProcess(base_url=url, admin_token=token, process=None)  # type: ignore[arg-type]
    sim.process = process  # type: ignore[assignment]
    while True:
        try:
            sim.client.get("/_admin/health").raise_for_status()
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    sim.settings(refusal_rate=0.0, rate_limit=False)
    return sim


# ------------------------------------------------------------------------------------------------
# The workload: what the CFAs publish and what each event must end as
# ------------------------------------------------------------------------------------------------


@dataclass
class Workload:
    gen: Generator
    events: list[dict[str, Any]] = field(default_factory=list)  # in publication order
    expected: dict[str, str] = field(default_factory=dict)  # event id -> terminal status
    cfa_of: dict[str, str] = field(default_factory=dict)  # event id -> CFA SIRET
    kind_of: dict[str, str] = field(default_factory=dict)  # event id -> dossier|convention|...
    subject_of: dict[str, str] = field(default_factory=dict)
    # event id -> what names its object at the OPCO beyond the dossier: a facture's
    # referenceFactureCFA, a certificat's échéance number
    object_of: dict[str, str] = field(default_factory=dict)
    submitted: list[GeneratedDossier] = field(default_factory=list)  # valid, expected submitted
    garbage: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    personal: set[str] = field(default_factory=set)
    hmac_secrets: dict[str, str] = field(default_factory=dict)  # CFA SIRET -> secret: signed
    _n: int = 0

    @classmethod
    def create(cls, seed: int, today: date, cfa_count: int = 3) -> Workload:
        return cls(gen=Generator(seed, today, cfa_count=cfa_count))

    def _add(self, event: dict[str, Any], expected: str, kind: str, cfa: str) -> None:
        self.events.append(event)
        self.expected[event["id"]] = expected
        self.cfa_of[event["id"]] = cfa
        self.kind_of[event["id"]] = kind
        self.subject_of[event["id"]] = event["subject"]

    def batch(self, n: int) -> list[dict[str, Any]]:
        """About ``n`` events: dossiers of every OPCO (SANTE has no dossier route: ``failed``),
        a convention after one dossier in four, an invalid dossier in 25, an undecodable record
        (valid headers, garbage value) in 50. Returns the events of this batch, in order."""
        start = len(self.events)
        gen = self.gen
        while len(self.events) - start < n:
            self._n += 1
            i = self._n
            cfa = gen.cfas[i % len(gen.cfas)]
            if i % 25 == 0:
                kinds = list(InvalidKind)
                bad = gen.invalid_dossier(kinds[i % len(kinds)], ALL_OPCO[i % len(ALL_OPCO)])
                self.personal.update(bad.dossier.personal_values())
                self._add(bad.event, "rejected", "dossier", bad.dossier.cfa.siret)
                continue
            if i % 50 == 1:
                d = gen.dossier(ALL_OPCO[i % len(ALL_OPCO)], cfa=cfa, start=gen.today)
                record = structured_to_record(d.event)
                headers = {k: v.decode() for k, v in record.headers}
                headers["ce_id"] = f"garbage-{d.event_id}"
                value = b"\xff\xfe not json " + secrets.token_bytes(16)
                self.garbage.append((headers, value))
                self.expected[headers["ce_id"]] = "dead_lettered"
                self.cfa_of[headers["ce_id"]] = d.cfa.siret
                self.kind_of[headers["ce_id"]] = "garbage"
                self.subject_of[headers["ce_id"]] = d.dossier_id
                self.events.append({"__garbage__": headers["ce_id"], "id": headers["ce_id"]})
                continue
            opco = ALL_OPCO[i % len(ALL_OPCO)]
            d = gen.dossier(opco, cfa=cfa, start=gen.today)
            self.personal.update(d.personal_values())
            expected = "failed" if opco is OpcoCode.SANTE else "submitted"
            self._add(d.event, expected, "dossier", cfa.siret)
            if expected == "submitted":
                self.submitted.append(d)
            if i % 4 == 0 and opco is not OpcoCode.SANTE:
                conv = gen.convention(d)
                self._add(conv, "submitted", "convention", cfa.siret)
        return self.events[start:]

    def followups(
        self,
        targets: Sequence[tuple[GeneratedDossier, float]],
        capabilities: Mapping[OpcoCode, Capabilities],
    ) -> list[dict[str, Any]]:
        """Several follow-ups per dossier, published in this order, each one a new object at the
        OPCO that does not depend on the previous one (so nothing but relais's per-dossier FIFO
        keeps them in order): two factures on échéance 1 (the next échéance opens 6 months after
        the start: the OPCO refuses it before), the certificats of échéances 1 and 2, a rupture.
        Each only where the dossier's OPCO offers the route. ``targets``: ENGAGE dossiers with
        what échéance 1 still has to be invoiced (euros)."""
        start = len(self.events)
        gen = self.gen
        for d, remaining in targets:
            can = capabilities[d.opco]
            cfa = d.cfa.siret
            if can.has("factures") and remaining >= 1.0:
                part = int(remaining * 30) / 100  # 30 % each, in cents, below what is left
                for _ in range(2):
                    facture = gen.facture([d], montants={d.dossier_id: part})
                    self._add(facture, "submitted", "facture", cfa)
                    self.object_of[facture["id"]] = facture["data"]["facture"][
                        "referenceFactureCFA"
                    ]
            if can.has("certificats"):
                for numero in (1, 2):
                    certificat = gen.certificat(d, numero_echeance=numero)
                    self._add(certificat, "submitted", "certificat", cfa)
                    self.object_of[certificat["id"]] = str(numero)
            if can.has("rupture"):
                # dated the start (as late as relais accepts: not after its today)
                rupture = gen.rupture(d, date_rupture=d.start)
                self._add(rupture, "submitted", "rupture", cfa)
            self.personal.update(d.personal_values())  # a certificat names its signatory
        return self.events[start:]

    def records(self, events: Iterable[dict[str, Any]]) -> list[tuple[bytes, bytes, list[Any]]]:
        """(key, value, headers) Kafka records of ``events`` (garbage included)."""
        garbage = {h["ce_id"]: (h, v) for h, v in self.garbage}
        out = []
        for ev in events:
            if "__garbage__" in ev:
                headers, value = garbage[ev["__garbage__"]]
                key = headers["ce_subject"].encode()
            else:
                rec = structured_to_record(ev)
                headers = {k: v.decode() for k, v in rec.headers}
                key, value = rec.key or b"", rec.value
            secret = self.hmac_secrets.get(headers["ce_source"].rsplit(":", 1)[-1])
            if secret is not None:
                headers = {**headers, "ce_signature": sign(secret, headers, value)}
            out.append((key, value, [(k, v.encode()) for k, v in headers.items()]))
        return out


MAX_REQUEST_BYTES = 4 << 20  # the attacker's records: keys and headers over 1 MB


async def produce_records(
    bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes, list[Any]]]
) -> list[tuple[int, int]]:
    """Send records with acks=all, in order per key, batched (linger) to keep it quick; returns
    each record's (partition, offset)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
        max_request_size=MAX_REQUEST_BYTES,
    )
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value=value, key=key, headers=headers)
            for key, value, headers in records
        ]
        sent = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(m.partition, m.offset) for m in sent]


@dataclass(frozen=True)
class Consumed:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def header_map(self) -> dict[str, str]:
        return {k: v.decode(errors="replace") for k, v in self.headers}


async def topic_partitions(bootstrap: str, topic: str, timeout_s: float) -> set[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(KafkaError):
                for desc in await admin.describe_topics([topic]):
                    if not desc["error_code"] and desc["partitions"]:
                        return {p["partition"] for p in desc["partitions"]}
            if time.monotonic() > deadline:
                return set()
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def read_topic(
    bootstrap: str, topic: str, *, idle_s: float = 3.0, timeout_s: float = 180.0
) -> list[Consumed]:
    """Every record of ``topic`` from the beginning (no group), until ``idle_s`` without news."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    got: list[Consumed] = []
    try:
        # From the cluster's metadata: Apache Kafka tells an unsubscribed consumer nothing.
        parts = await topic_partitions(bootstrap, topic, timeout_s=20)
        if not parts:
            return []
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout_s
        last = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - last < idle_s:
            batch = await consumer.getmany(timeout_ms=200, max_records=20000)
            for msgs in batch.values():
                for m in msgs:
                    got.append(
                        Consumed(
                            m.topic,
                            m.partition,
                            m.offset,
                            m.key,
                            m.value,
                            tuple((k, v or b"") for k, v in (m.headers or ())),
                        )
                    )
                    last = time.monotonic()
    finally:
        await consumer.stop()
    return got


# ------------------------------------------------------------------------------------------------
# The cluster
# ------------------------------------------------------------------------------------------------


def with_application_name(url: str, name: str) -> str:
    """``url`` with ``application_name=name`` (asyncpg passes it to the server): the node's
    connections are then named in ``pg_stat_activity``."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "application_name"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("application_name", name)])))


def events_consumed(page: str) -> int:
    """``relais_events_consumed_total`` summed over its outcomes, from a Prometheus text page."""
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in page.splitlines()
            if line.startswith("relais_events_consumed_total{")
        )
    )


def metric_series(page: str) -> int:
    """How many ``relais_*`` samples a Prometheus text page holds."""
    return sum(1 for line in page.splitlines() if line.startswith("relais_"))


@dataclass
class Node:
    name: str
    roles: str
    proc: RelaisProcess
    kills: int = 0
    restarts: int = 0
    wanted: bool = True  # should be running (the supervisor restarts it otherwise)
    crashes: int = 0


class Cluster:
    """Simulator + PostgreSQL ledger + topics + ``relais run`` processes; faults on demand."""

    def __init__(
        self,
        *,
        workdir: Path,
        bootstrap: str,
        pg_url: str,
        timeline: Timeline,
        partitions: int = 4,
        hmac_secrets: dict[str, str] | None = None,
        attacker: str | None = None,
        replication_factor: int = 1,
        tansu_timings: bool = True,
    ) -> None:
        self.workdir = workdir
        # Apache Kafka (tests/faults/test_kafka_cluster.py): replicated topics, and relais with
        # its production consumer timings (the broker refuses Tansu's 1 s session).
        self.replication_factor = replication_factor
        self.tansu_timings = tansu_timings
        self.bootstrap = bootstrap
        self.pg_url = pg_url
        self.timeline = timeline
        self.partitions = partitions
        self.hmac_secrets = hmac_secrets or {}
        suffix = secrets.token_hex(4)
        self.topics = {
            "input": f"faults-cfa-{suffix}",
            "status": f"faults-status-{suffix}",
            "dlq": f"faults-dlq-{suffix}",
            "rejected": f"faults-rejected-{suffix}",  # the operators' topic
        }
        # Tenant binding (no waiver): the legitimate CFAs' topic carries their sources only; the
        # attacker CFA (``tests.faults.attacker``) publishes on a topic of its own.
        self.attacker = attacker
        if attacker is not None:
            self.topics["attacker"] = f"faults-cfa-{suffix}-atk"
        self.cfa_sirets: list[str] = []
        self.group = f"relais-faults-{suffix}"
        self.admin_token = secrets.token_urlsafe(24)
        self.oauth_secret = "oauth-" + secrets.token_urlsafe(18)
        self.api_keys: dict[tuple[str, str], str] = {}
        self.nodes: dict[str, Node] = {}
        self.metrics_pages: list[tuple[str, str]] = []
        self.sim: SimulatorProcess | None = None
        self.sim_today: date | None = None
        self.crashes: list[str] = []
        self._supervisor: asyncio.Task[None] | None = None
        # evidence that each fault took effect (not only that it was asked for)
        self.pg_terminations: list[dict[str, int]] = []  # per drop: relais connections killed
        self.scrapes: list[dict[str, Any]] = []  # per /metrics scrape: node, ok, series, error
        self.exits: list[dict[str, Any]] = []  # per stop: node, signal, exit code, expected
        self.group_changes: list[dict[str, Any]] = []  # a member joined / left the ingest group
        self.joined: dict[str, int] = {}  # a member that joined: events it consumed
        self.ready_at_end: dict[str, int | str] = {}  # node -> /health/ready status at the end
        self.attack: Attack | None = None  # what the attacker published (its phase)

    # ---- setup ----------------------------------------------------------------------------

    def secrets(self) -> list[str]:
        return [
            *self.api_keys.values(),
            self.oauth_secret,
            self.admin_token,
            *self.hmac_secrets.values(),
            *self._dpop_key_lines(),
        ]

    def _dpop_key_lines(self) -> list[str]:
        """A line of each DPoP private key (AFDAS): never in a log, a metric or an event."""
        pems = sorted(self.workdir.glob("dpop-*.pem")) if self.workdir.exists() else []
        return [pem.read_text().splitlines()[3] for pem in pems]

    def start(self, cfa_sirets: Sequence[str]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cfa_sirets = list(cfa_sirets)
        keys = self.workdir / "keys.csv"
        rows = ["siret,opco,key,expiry"]
        for siret in [*cfa_sirets, *([self.attacker] if self.attacker else [])]:
            for opco in ALL_OPCO:
                key = f"fk-{opco.value.lower()}-{secrets.token_hex(12)}"
                self.api_keys[(siret, opco.value)] = key
                rows.append(f"{siret},{opco.value},{key},2099-12-31")
        keys.write_text("\n".join(rows) + "\n")
        keys.chmod(0o600)
        oauth = self.workdir / "oauth.csv"
        clients = oauth_client_rows(
            referential("opco-profiles.json"), self.workdir, OAUTH_CLIENT_ID, self.oauth_secret
        )  # every OPCO whose profile asks for OAuth2 (AFDAS: with a DPoP key file)
        lines = ["opco,client_id,client_secret,dpop_key_file", *(",".join(r) for r in clients)]
        oauth.write_text("\n".join(lines) + "\n")
        oauth.chmod(0o600)
        self.keys_file, self.oauth_file = keys, oauth
        self.sim = start_simulator(self.workdir, keys, oauth, self.admin_token)
        self.sim_today = date.fromisoformat(self.sim.clock()["today"])
        self.profiles = self.workdir / "profiles.json"
        write_profiles(referential("opco-profiles.json"), self.profiles, self.sim.base_url)
        self.create_topics()
        self.timeline.note("info", f"simulator {self.sim.base_url}, topics {self.topics}")

    def input_topics(self) -> list[str]:
        return [self.topics[t] for t in ("input", "attacker") if t in self.topics]

    def topic_sources(self) -> dict[str, list[str]]:
        bound = {self.topics["input"]: list(self.cfa_sirets)}
        if self.attacker is not None:
            bound[self.topics["attacker"]] = [self.attacker]
        return bound

    def create_topics(self) -> None:
        rf = self.replication_factor
        create_topics_sync(
            self.bootstrap, self.input_topics(), self.partitions, replication_factor=rf
        )
        create_topics_sync(self.bootstrap, [self.topics["status"]], 2, replication_factor=rf)
        create_topics_sync(
            self.bootstrap, [self.topics["dlq"], self.topics["rejected"]], 1, replication_factor=rf
        )

    def env(
        self, port: int, extra: dict[str, str] | None = None, name: str = "relais"
    ) -> dict[str, str]:
        env = relais_env(
            bootstrap=self.bootstrap,
            # the node's PostgreSQL connections and Kafka client say whose they are
            ledger_url=with_application_name(self.pg_url, f"relais-{name}"),
            http_port=port,
            profiles_file=self.profiles,
            keys_file=self.keys_file,
            oauth_file=self.oauth_file,
            input_topic=self.topics["input"],
            status_topic=self.topics["status"],
            dlq_topic=self.topics["dlq"],
            group_id=self.group,
            poll_interval_s=1.0,
            topic_sources=self.topic_sources(),
            tansu_timings=self.tansu_timings,
        )
        env.update(
            {
                # Retries never give up during the run: outages here last seconds, not hours.
                "RELAIS_DISPATCH__MAX_ATTEMPTS": "1000",
                # A SIGKILLed dispatcher's leases come back after this long.
                "RELAIS_DISPATCH__LEASE_S": "15",
                "RELAIS_OPCO__READ_TIMEOUT_S": "4",
                "RELAIS_OPCO__CONNECT_TIMEOUT_S": "2",
                "RELAIS_LEDGER__POOL_MAX": "4",
                "RELAIS_SHUTDOWN_GRACE_S": "8",
                "RELAIS_KAFKA__CLIENT_ID": f"relais-{name}",
                "RELAIS_KAFKA__REJECTED_TOPIC": self.topics["rejected"],
            }
        )
        if self.attacker is not None:  # both input topics (the topics exist before the nodes)
            env["RELAIS_KAFKA__INPUT_PATTERN"] = re.escape(self.topics["input"]) + "(-atk)?$"
        if self.hmac_secrets:
            env["RELAIS_CFA__HMAC_SECRETS"] = json.dumps(self.hmac_secrets)
        env.update(extra or {})
        return env

    async def add_node(self, name: str, roles: str, extra: dict[str, str] | None = None) -> Node:
        # HTTP port 0: the process picks a free one and logs it (no race with other programs
        # for a port chosen here and bound there)
        proc = RelaisProcess(
            log_path=self.workdir / f"relais-{name}.log",
            env=self.env(0, extra, name),
            http_port=0,
            args=["--role", roles],
        )
        node = Node(name, roles, proc, wanted=False)
        self.nodes[name] = node
        await self._start(node)
        node.wanted = True
        self.timeline.note("info", f"node {name} ({roles}) ready, pid {proc.pid}")
        return node

    async def _start(self, node: Node, timeout_s: float = 90.0) -> None:
        """Start the node's process, read its HTTP port from its ``relais.started`` line, wait
        until ``/health/ready`` answers 200."""
        log = node.proc.log_path
        offset = log.stat().st_size if log.exists() else 0
        node.proc.start()
        deadline = time.monotonic() + timeout_s
        port = None
        while port is None:
            node.proc.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node.name} did not start in {timeout_s:.0f}s")
            with log.open("rb") as f:
                f.seek(offset)
                for line in f.read().decode(errors="replace").splitlines():
                    if '"relais.started"' in line:
                        port = int(json.loads(line)["http_port"])
            await asyncio.sleep(0.1)
        node.proc.http_port = port
        await node.proc.wait_ready(timeout_s=max(5.0, deadline - time.monotonic()))

    async def supervise(self) -> None:
        """What an orchestrator does: a process that exited on its own is noted and restarted."""
        while True:
            await asyncio.sleep(1.0)
            for node in self.nodes.values():
                process = node.proc.process
                if node.wanted and process is not None and process.poll() is not None:
                    code = process.returncode
                    node.proc.stop()
                    node.crashes += 1
                    self.crashes.append(f"{node.name} exited with {code}")
                    self.timeline.note("crash", f"{node.name} exited on its own (code {code})")
                    try:
                        await self._start(node)
                    except Exception as exc:  # tried again at the next turn
                        self.timeline.note("info", f"{node.name} restart failed: {exc!r}")

    def start_supervisor(self) -> None:
        self._supervisor = asyncio.create_task(self.supervise())

    async def stop_supervisor(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    async def kill9(self, name: str) -> None:
        node = self.nodes[name]
        assert node.proc.process is not None
        await self.scrape(name)
        node.wanted = False
        node.proc.process.send_signal(signal.SIGKILL)
        node.proc.process.wait(10)
        code = node.proc.stop()
        node.kills += 1
        self.exits.append({"node": name, "signal": "SIGKILL", "code": code, "expected": -9})
        self.timeline.note("kill9", f"{name} ({node.roles}) exit {code}")

    async def restart(self, name: str) -> None:
        node = self.nodes[name]
        node.restarts += 1
        await self._start(node)
        node.wanted = True
        self.timeline.note("info", f"{name} restarted, pid {node.proc.pid}")

    async def stop_node(self, name: str, *, note: str = "stop") -> int | None:
        node = self.nodes[name]
        node.wanted = False
        await self.scrape(name)
        code = await asyncio.to_thread(node.proc.stop, 20.0)
        # SIGTERM: a graceful stop within the grace period exits 0 (``relais run``'s EXIT_OK);
        # past 20 s the process is SIGKILLed (-9): a stop that hangs is a finding
        self.exits.append({"node": name, "signal": "SIGTERM", "code": code, "expected": 0})
        self.timeline.note(note, f"{name} ({node.roles}) exit {code}")
        return code

    async def scrape(self, name: str) -> None:
        """``/metrics`` of a running node, kept for the leak scan; every scrape is noted, and one
        that fails (not running, an HTTP error, no ``relais_`` series) is a violation."""
        node = self.nodes[name]
        entry: dict[str, Any] = {"node": name, "ok": False, "series": 0, "error": None}
        self.scrapes.append(entry)
        if not node.proc.running:
            entry["error"] = "not running"
            return
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                resp = await client.get(f"http://127.0.0.1:{node.proc.http_port}/metrics")
        except httpx.HTTPError as exc:
            entry["error"] = repr(exc)
            return
        self.metrics_pages.append((name, resp.text))
        entry["series"] = metric_series(resp.text)
        entry["ok"] = resp.status_code == 200 and entry["series"] > 0
        if not entry["ok"]:
            entry["error"] = f"HTTP {resp.status_code}, {entry['series']} relais series"

    async def stop_all(self) -> dict[str, int | None]:
        codes = {}
        for name, node in self.nodes.items():
            if node.proc.running:
                codes[name] = await self.stop_node(name, note="info")
        return codes

    def close(self) -> None:
        for node in self.nodes.values():
            node.proc.stop(5)
        if self.sim is not None:
            self.sim.close()
            process = self.sim.process
            if process is not None and process.returncode is not None:
                # the simulator (uvicorn) stops gracefully on SIGTERM
                code = process.returncode
                self.exits.append(
                    {"node": "simulator", "signal": "SIGTERM", "code": code, "expected": 0}
                )

    # ---- faults ---------------------------------------------------------------------------

    def set_fault(self, opco: OpcoCode, kind: str, **spec: Any) -> None:
        assert self.sim is not None
        self.sim.set_faults(opco, **spec)
        self.timeline.note(kind, f"{opco.value} {spec}")

    def clear_fault(self, opco: OpcoCode | None = None) -> None:
        assert self.sim is not None
        self.sim.clear_faults(opco)
        self.timeline.note("info", f"faults cleared at {opco.value if opco else 'every OPCO'}")

    async def terminate_pg_connections(self) -> int:
        """``pg_terminate_backend`` of every relais connection (application name ``relais-*``);
        returns how many it did terminate (the function returned true)."""
        conn = await asyncpg.connect(self.pg_url)
        try:
            rows = await conn.fetch(
                "SELECT application_name AS node, pg_terminate_backend(pid) AS killed"
                " FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name LIKE 'relais-%'"
            )
        finally:
            await conn.close()
        by_node = Counter(r["node"] for r in rows if r["killed"])
        n = sum(by_node.values())
        self.pg_terminations.append({"terminated": n, **by_node})
        self.timeline.note("pg_terminate", f"{n} relais connections terminated {dict(by_node)}")
        return n

    async def group_members(self) -> list[str]:
        """The ingest group's member ids, as the group coordinator describes the group (a member
        id starts with the Kafka client id: ``relais-<node>-``). Tansu describes no member's
        assignment, so whether a member got partitions shows in what it consumed."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            responses = await admin.describe_consumer_groups([self.group])
        finally:
            await admin.close()
        return [str(member[0]) for r in responses for group in r.groups for member in group[5]]

    async def wait_member(self, name: str, *, present: bool, timeout_s: float = 30.0) -> bool:
        """Until the node ``name`` is (or is no longer) a member of the ingest group; False if
        that did not happen in time (the verdict says it)."""
        prefix = f"relais-{name}-"
        members: list[str] = []

        async def there() -> bool:
            nonlocal members
            members = await self.group_members()
            return any(m.startswith(prefix) for m in members) is present

        try:
            await wait_for(there, timeout_s=timeout_s, every_s=0.3, what=f"{name} in the group")
        except TimeoutError:
            ok = False
        else:
            ok = True
        self.group_changes.append({"node": name, "joined" if present else "left": ok})
        self.timeline.note("info", f"group members now {len(members)}: {name} present={present}")
        return ok

    def consumed(self, name: str) -> int:
        """Events the node counted as consumed (any outcome), from its last scraped page."""
        pages = [page for node, page in self.metrics_pages if node == name]
        return events_consumed(pages[-1]) if pages else 0

    async def wait_consumed(self, name: str, timeout_s: float = 30.0) -> None:
        """Until the node has consumed an event (its ``/metrics``, not kept: the scrape that
        counts is the one before it stops); no failure here, the verdict reads that scrape."""
        port = self.nodes[name].proc.http_port

        async def some() -> bool:
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.get(f"http://127.0.0.1:{port}/metrics")
            except httpx.HTTPError:
                return False
            return events_consumed(resp.text) > 0

        with contextlib.suppress(TimeoutError):
            await wait_for(some, timeout_s=timeout_s, every_s=0.3, what=f"{name} consumed")

    async def reset_group_to_earliest(self) -> None:
        """Commit offset 0 on every partition for the (empty) ingest group."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [
                TopicPartition(topic, p)
                for topic in self.input_topics()
                for p in range(self.partitions)
            ]
            consumer.assign(tps)
            await consumer.commit({tp: 0 for tp in tps})
            committed = [await consumer.committed(tp) for tp in tps]
        finally:
            await consumer.stop()
        self.timeline.note("group_reset", f"{self.group} -> earliest, committed now {committed}")
        assert committed == [0] * len(tps), f"the group reset did not take: {committed}"

    async def produce(
        self,
        records: Sequence[tuple[bytes, bytes, list[Any]]],
        what: str,
        topic: str = "input",
    ) -> list[tuple[int, int]]:
        """Produce to one of ``self.topics``; returns each record's (partition, offset)."""
        positions = await produce_records(self.bootstrap, self.topics[topic], records)
        self.timeline.note("produce" if what == "events" else what, f"{len(records)} records")
        return positions

    async def committed(self, topic: str) -> dict[int, int]:
        """The ingest group's committed offset of each partition of one of ``self.topics``."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            tps = [TopicPartition(self.topics[topic], p) for p in range(self.partitions)]
            return {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
        finally:
            await consumer.stop()

    async def check_ready(self) -> None:
        """``/health/ready`` of every node that should be running, kept for the verdict."""
        for name, node in self.nodes.items():
            if not node.wanted:
                continue
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    resp = await client.get(f"http://127.0.0.1:{node.proc.http_port}/health/ready")
                self.ready_at_end[name] = resp.status_code
            except httpx.HTTPError as exc:
                self.ready_at_end[name] = repr(exc)
        self.timeline.note("info", f"readiness at the end: {self.ready_at_end}")

    # ---- ledger ---------------------------------------------------------------------------

    async def ledger(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.pg_url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def progress(self, event_ids: Sequence[str]) -> dict[str, int]:
        rows = await self.ledger(
            """
            SELECT
              (SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])) AS inbox,
              (SELECT count(*) FROM commands WHERE state IN ('pending', 'in_flight')) AS open,
              (SELECT count(*) FROM commands WHERE state = 'done') AS done,
              (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished
            """,
            list(event_ids),
        )
        return dict(rows[0])

    async def wait_settled(self, event_ids: Sequence[str], timeout_s: float) -> dict[str, int]:
        """Every event in the inbox, no open command, the outbox published."""
        want = len(set(event_ids))
        state: dict[str, int] = {}
        last_print = 0.0

        async def settled() -> bool:
            nonlocal state, last_print
            try:
                state = await self.progress(event_ids)
            except (OSError, asyncpg.PostgresError):
                return False
            if time.monotonic() - last_print > 10:
                last_print = time.monotonic()
                print(f"[faults] progress {state} / {want}", flush=True)
            return state["inbox"] >= want and state["open"] == 0 and state["unpublished"] == 0

        await wait_for(settled, timeout_s=timeout_s, every_s=1.0, what=f"settle {state}")
        return state

    async def wait_polled(self, timeout_s: float) -> int:
        """Until the ledger's last seen etat of every dossier equals the simulator's."""
        assert self.sim is not None
        mismatch = -1

        async def caught_up() -> bool:
            nonlocal mismatch
            assert self.sim is not None
            sim_dossiers = await asyncio.to_thread(self.sim.dossiers)
            rows = await self.ledger(
                "SELECT opco, numero, etat FROM opco_etats WHERE kind='dossier'"
            )
            seen = {(r["opco"], r["numero"]): r["etat"] for r in rows}
            mismatch = sum(
                1 for d in sim_dossiers if seen.get((d["opco"], d["numeroInterne"])) != d["etat"]
            )
            return mismatch == 0

        await wait_for(caught_up, timeout_s=timeout_s, every_s=1.5, what="poll catch-up")
        return mismatch


# ------------------------------------------------------------------------------------------------
# Invariants
# ------------------------------------------------------------------------------------------------


def _status_body(c: Consumed) -> dict[str, Any]:
    try:
        body = json.loads(c.value or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _key(dossier: dict[str, Any]) -> tuple[str, str]:
    return (dossier["opco"], dossier["numeroInterne"])


# the simulator's route of each kind of event the workload sends
OBJECT_ROUTE = {
    "dossier": "dossiers_post",
    "convention": "conventions",
    "facture": "factures",
    "certificat": "certificats",
    "rupture": "rupture",
}


def _object_key(record: dict[str, Any]) -> tuple[str, ...] | None:
    """The object a creation record is about: OPCO, route, dossier, and what tells apart the
    dossier's objects of one route (a facture's reference, a certificat's échéance)."""
    numero = _numero(record)
    if numero is None:
        return None
    ids = record.get("ids") or {}
    detail = {"factures": "referenceFactureCFA", "certificats": "numeroEcheance"}.get(
        record["route"]
    )
    return (record["opco"], record["route"], numero, str(ids.get(detail, "")) if detail else "")


def _numero(record: dict[str, Any]) -> str | None:
    """The OPCO dossier a request record is about (a dossier's or a follow-up's)."""
    ids = record.get("ids") or {}
    found = ids.get("numeroInterne") or ids.get("numeroInterneDossier")
    return str(found) if found else None


@dataclass
class Verdict:
    counts: dict[str, Any]
    problems: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


_TOKEN = re.compile(r"[\w@.+\-]+")
_WORD = re.compile(r"\w+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # a birth date inside a timestamp token


_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def unescape(text: str) -> str:
    """JSON logs and events escape non-ASCII (``Chlo\\u00e9``): scan what they say."""
    if "\\u" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


class Scanner:
    """Finds needles (personal values, secrets) in text, fast enough for 25,000 needles over
    tens of thousands of log lines and status events: a needle that is one token (letters,
    digits, ``@.+-_``: names, NIRs, dates, IBANs, e-mails, keys) is looked up in the text's token
    set; a needle with other characters (a space, an apostrophe) is searched as a substring."""

    def __init__(self, needles: Iterable[str]) -> None:
        unique = set(needles)
        self.tokens = {n for n in unique if _TOKEN.fullmatch(n)}
        self.phrases = sorted(unique - self.tokens)

    def hits(self, text: str) -> list[str]:
        text = unescape(text)
        found = set(_TOKEN.findall(text))
        found.update(_WORD.findall(text))
        found.update(_DATE.findall(text))
        hits = sorted(self.tokens & found)
        hits += [p for p in self.phrases if p in text]
        return hits


def leaks_in(text: str, needles: Iterable[str] | Scanner) -> list[str]:
    scanner = needles if isinstance(needles, Scanner) else Scanner(needles)
    return scanner.hits(text)


async def check_invariants(
    cluster: Cluster, workload: Workload, *, check_polls: bool = True
) -> Verdict:
    assert cluster.sim is not None
    sim = cluster.sim
    statuses = await read_topic(cluster.bootstrap, cluster.topics["status"])
    dlq = await read_topic(cluster.bootstrap, cluster.topics["dlq"], idle_s=1.5)
    rejected = await read_topic(cluster.bootstrap, cluster.topics["rejected"], idle_s=1.5)
    records = await asyncio.to_thread(sim.records)
    sim_dossiers = await asyncio.to_thread(sim.dossiers)
    problems: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, Any] = {}

    # 1. exactly one terminal status per event, the expected one, under one stable id; an event
    # is (CFA, event id): another CFA's event under the same id (the attacker's) is another one
    terminal_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    terminal_names: dict[tuple[str, str], set[str]] = defaultdict(set)
    body_of: dict[tuple[str, str], dict[str, Any]] = {}
    etat_ids: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    change_of_id: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    status_counter: Counter[str] = Counter()
    for c in statuses:
        body = _status_body(c)
        name = body.get("status")
        status_counter[str(name)] += 1
        ce_id = c.header_map.get("ce_id", "")
        if name in TERMINAL and body.get("eventId"):
            event = (str(body.get("cfa")), body["eventId"])
            terminal_ids[event].add(ce_id)
            terminal_names[event].add(name)
            body_of.setdefault(event, body)
        if name == "etat_changed":
            change = (
                body.get("cfa"),
                body.get("opco"),
                body.get("kind"),
                body.get("numeroInterne") or body.get("numeroInterneFacture"),
                body.get("previousEtat"),
                body.get("etat"),
            )
            etat_ids[change].add(ce_id)
            change_of_id[ce_id].add(change)
    produced = list(workload.expected)
    for event_id in produced:
        event = (workload.cfa_of[event_id], event_id)
        ids = terminal_ids.get(event, set())
        if not ids:
            problems["lost"].append(event_id)
        elif len(ids) > 1 or len(terminal_names[event]) > 1:
            problems["multi_terminal"].append(f"{event_id}: {sorted(terminal_names[event])}")
        got = body_of.get(event, {}).get("status")
        if ids and got != workload.expected[event_id]:
            problems["unexpected_status"].append(
                f"{event_id} ({workload.kind_of[event_id]}): want "
                f"{workload.expected[event_id]}, got {got} {body_of[event].get('errors')}"
            )
    unknown_terminal = set(terminal_ids) - {(workload.cfa_of[e], e) for e in produced}
    counts["events_produced"] = len(produced)
    counts["status_records"] = len(statuses)
    counts["statuses_by_name"] = dict(status_counter)
    counts["terminal_by_name"] = dict(
        Counter(next(iter(v)) for v in terminal_names.values() if len(v) == 1)
    )
    counts["terminal_for_unknown_event_ids"] = len(unknown_terminal)

    # 2. etat changes: one stable id per change, one change per id
    for change, ids in etat_ids.items():
        if len(ids) > 1:
            problems["etat_change_several_ids"].append(f"{change}: {sorted(ids)}")
    for ce_id, changes in change_of_id.items():
        if len(changes) > 1:
            problems["etat_id_several_changes"].append(f"{ce_id}: {sorted(map(str, changes))}")
    counts["etat_changes"] = len(etat_ids)
    counts["etat_changed_records"] = status_counter.get("etat_changed", 0)

    # 3. no duplicate creation at any OPCO
    created = [r for r in records if r["created"]]
    twice = Counter((r["opco"], r["route"], r["naturalKey"]) for r in created if r["naturalKey"])
    problems["created_twice"] += [f"{k}: {n}" for k, n in twice.items() if n > 1]
    # every object the workload sends is created once (its identity at the OPCO: _object_key)
    created_per_object = Counter(_object_key(r) for r in created)
    problems["created_twice"] += [
        f"{k}: {n}" for k, n in created_per_object.items() if n > 1 and k is not None
    ]
    want_dossiers = sum(
        1
        for e, s in workload.expected.items()
        if s == "submitted" and workload.kind_of[e] == "dossier"
    )
    if len(sim_dossiers) != want_dossiers:
        problems["opco_dossier_count"].append(
            f"simulator holds {len(sim_dossiers)} dossiers, {want_dossiers} submitted"
        )
    counts["opco_requests"] = len(records)
    counts["opco_requests_by_outcome"] = dict(Counter(r["outcome"] for r in records))
    counts["opco_dossiers"] = len(sim_dossiers)
    counts["opco_created"] = dict(Counter(r["route"] for r in created))

    # 4. per-dossier order at the OPCO; 5. every request with the key of the event's CFA
    numero_cfa: dict[tuple[str, str], str] = {}
    dossier_numero: dict[tuple[str, str], tuple[str, str]] = {}
    for (_, event_id), body in body_of.items():
        if (
            body.get("status") == "submitted"
            and workload.kind_of.get(event_id) == "dossier"
            and workload.cfa_of.get(event_id) == body.get("cfa")
            and body.get("numeroInterne")
        ):
            numero_cfa[(body["opco"], body["numeroInterne"])] = workload.cfa_of[event_id]
            dossier_numero[(workload.cfa_of[event_id], workload.subject_of[event_id])] = (
                body["opco"],
                body["numeroInterne"],
            )
    problems["out_of_order"], counts["order_checked"] = check_order(
        workload, dossier_numero, created
    )
    for d in sim_dossiers:
        want = numero_cfa.get((d["opco"], d["numeroInterne"]))
        if want is None:
            problems["opco_dossier_without_submitted_status"].append(
                f"{d['opco']}:{d['numeroInterne']}"
            )
        elif d["cfaSiret"] != want:
            problems["wrong_credentials"].append(
                f"dossier {d['opco']}:{d['numeroInterne']} stored under {d['cfaSiret']}"
            )
    for r in records:
        num = _numero(r)
        want = numero_cfa.get((r["opco"], num)) if num else None
        if want is not None and r["cfaSiret"] is not None and r["cfaSiret"] != want:
            problems["wrong_credentials"].append(f"record {r['seq']} {r['route']} {r['cfaSiret']}")
        if r["status"] in (401, 403):
            problems["auth_refused"].append(f"record {r['seq']} {r['route']} {r['status']}")

    # 6. etat changes all seen: the ledger's last etat equals the simulator's for every dossier
    if check_polls:
        rows = await cluster.ledger(
            "SELECT opco, numero, etat FROM opco_etats WHERE kind='dossier'"
        )
        seen = {(r["opco"], r["numero"]): r["etat"] for r in rows}
        missing = [
            f"{d['opco']}:{d['numeroInterne']} {d['etat']} (ledger: {seen.get(_key(d))})"
            for d in sim_dossiers
            if seen.get((d["opco"], d["numeroInterne"])) != d["etat"]
        ]
        problems["etat_not_seen"] += missing
        # each dossier's current etat was published (statuses of one dossier may sit on two
        # partitions when the first ones did not know the CFA's dossier id: no order across them)
        published: dict[tuple[str, str], set[str]] = defaultdict(set)
        for c in statuses:
            body = _status_body(c)
            if body.get("status") == "etat_changed" and body.get("kind") == "dossier":
                published[(body["opco"], body["numeroInterne"])].add(body["etat"])
        problems["etat_not_published"] += [
            f"{d['opco']}:{d['numeroInterne']} {d['etat']} (published {sorted(published[_key(d)])})"
            for d in sim_dossiers
            if d["etat"] != "TRANSMIS" and d["etat"] not in published[_key(d)]
        ]

    # 7. the ledger agrees: every event once in the inbox, no open command, outbox published
    ledger_rows = await cluster.ledger(
        "SELECT (SELECT count(*) FROM inbox) AS inbox,"
        " (SELECT count(*) FROM commands) AS commands,"
        " (SELECT count(DISTINCT event_id) FROM commands) AS command_events,"
        " (SELECT count(*) FROM commands WHERE state IN ('pending','in_flight')) AS open,"
        " (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished,"
        " (SELECT count(*) FROM outbox) AS outbox"
    )
    lc = dict(ledger_rows[0])
    counts["ledger"] = lc
    in_inbox = {
        r["event_id"]
        for r in await cluster.ledger(
            "SELECT event_id FROM inbox WHERE event_id = ANY($1::text[])", produced
        )
    }
    problems["not_in_ledger"] += sorted(set(produced) - in_inbox)
    if lc["open"] or lc["unpublished"] or lc["commands"] != lc["command_events"]:
        problems["ledger_not_settled"].append(str(lc))

    # 8. no personal data, no secret: logs, metrics, status and DLQ events
    needles = sorted({v for v in workload.personal if len(v) >= MIN_SECRET_LEN})
    secret_needles = [s for s in cluster.secrets() if s]
    personal_scan, secret_scan = Scanner(needles), Scanner(secret_needles)
    every_scan = Scanner(needles + secret_needles)
    scanned = {
        "log_files": 0,
        "log_lines": 0,
        "metrics_pages": 0,
        "metrics_series": 0,
        "status": 0,
        "dlq": 0,
    }
    lines_of: dict[str, int] = {}
    log_files = sorted(cluster.workdir.glob("*.log")) + sorted(cluster.workdir.glob("simulator.*"))
    for path in log_files:
        text = path.read_text(errors="replace")
        scanned["log_files"] += 1
        scanned["log_lines"] += text.count("\n")
        lines_of[path.name] = text.count("\n")
        for hit in leaks_in(text, personal_scan):
            problems["personal_data_in_logs"].append(f"{path.name}: {hit[:3]}…")
        for hit in leaks_in(text, secret_scan):
            problems["secret_in_logs"].append(f"{path.name}: {hit[:6]}…")
    for name, page in cluster.metrics_pages:
        scanned["metrics_pages"] += 1
        scanned["metrics_series"] += metric_series(page)
        for hit in leaks_in(page, every_scan):
            problems["leak_in_metrics"].append(f"{name}: {hit[:3]}…")
    for c in statuses:
        scanned["status"] += 1
        text = (c.value or b"").decode(errors="replace") + json.dumps(c.header_map)
        text += (c.key or b"").decode(errors="replace")
        for hit in leaks_in(text, every_scan):
            problems["leak_in_status"].append(f"{c.header_map.get('ce_id')}: {hit[:3]}…")
    for c in dlq:
        scanned["dlq"] += 1
        # The value is the CFA's raw record, kept unchanged by design (replayable); what relais
        # adds (dlq_* headers) and the key must carry nothing personal.
        added = {k: v for k, v in c.header_map.items() if k.startswith("dlq_")}
        text = json.dumps(added) + (c.key or b"").decode(errors="replace")
        for hit in leaks_in(text, every_scan):
            problems["leak_in_dlq_headers"].append(f"{c.offset}: {hit[:3]}…")
    counts["scanned"] = scanned
    counts["personal_values_searched"] = len(needles)
    counts["secrets_searched"] = len(secret_needles)
    counts["dlq_records"] = len(dlq)
    # 9. no relais process died on its own (a fault must be absorbed, not crash a role)
    problems["process_crashed"] += cluster.crashes
    # 10. each scan scanned something: an empty scan finds no leak and proves nothing
    problems["leak_scan_empty"] += empty_scans(
        scanned, lines_of, list(cluster.nodes), len(needles), len(secret_needles)
    )
    # 11. each fault took effect, not only asked for
    check_effects(cluster, problems, counts)
    # 12. the attacker harmed no one, and each of its records was answered
    if cluster.attack is not None:
        check_attack(cluster.attack, workload, statuses, rejected, dlq, records, sim_dossiers)(
            problems, counts
        )
    counts["operators_topic_records"] = len(rejected)
    # 13. every node ready at the end (nothing left stuck), nothing set aside by the relay
    problems["not_ready_at_end"] += [
        f"{name}: {code}" for name, code in cluster.ready_at_end.items() if code != 200
    ]
    if not cluster.ready_at_end:
        problems["not_ready_at_end"].append("readiness not checked")
    set_aside = await cluster.ledger(
        "SELECT set_aside, count(*) AS n FROM outbox WHERE set_aside IS NOT NULL GROUP BY 1"
    )
    counts["outbox_set_aside"] = {r["set_aside"]: r["n"] for r in set_aside}
    return Verdict(counts=counts, problems={k: v for k, v in problems.items()})


def check_attack(
    attack: Attack,
    workload: Workload,
    statuses: Sequence[Consumed],
    rejected: Sequence[Consumed],
    dlq: Sequence[Consumed],
    requests: Sequence[dict[str, Any]],
    sim_dossiers: Sequence[dict[str, Any]],
) -> Callable[[dict[str, list[str]], dict[str, Any]], None]:
    """The attacker's checks (``tests.faults.attacker``) on what the run left behind."""
    legit = {e: cfa for e, cfa in workload.cfa_of.items() if cfa != attack.siret}
    dossiers = {workload.subject_of[e] for e in legit}
    numeros = victim_numeros(sim_dossiers, attack.siret)

    def apply(problems: dict[str, list[str]], counts: dict[str, Any]) -> None:
        problems["attack_unaccounted"], accounted = check_accounted(attack, statuses, rejected, dlq)
        problems["attack_status_leak"], seen = check_statuses(
            attack, statuses, legit, dossiers, numeros
        )
        problems["attack_reached_opco"], opco = check_opco(attack, requests, numeros)
        counts["attack"] = {**accounted, **seen, **opco, "victim_numeros": len(numeros)}

    return apply


def check_order(
    workload: Workload,
    dossier_numero: Mapping[tuple[str, str], tuple[str, str]],
    created: Iterable[dict[str, Any]],
) -> tuple[list[str], dict[str, int]]:
    """The order the OPCO created each dossier's objects in (the simulator's request record:
    ``seq``) must be the order the CFA published them in. ``dossier_numero``: (CFA, CFA dossier
    id) -> (OPCO, numeroInterne); ``created``: the records of requests that created an object.

    A follow-up that needs its dossier's numeroInterne cannot overtake the dossier anyway; one
    follow-up after another (factures, certificats, rupture) can: those "independent" pairs are
    what catches a broken per-dossier FIFO. Returns the problems and what was compared."""
    first_created: dict[tuple[str, ...], int] = {}
    for r in created:
        key = _object_key(r)
        if key is not None:
            first_created.setdefault(key, r["seq"])
    published: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ev in workload.events:  # in publication order (replays produce no new event)
        event_id = ev["id"]
        if workload.expected.get(event_id) == "submitted":
            published[(workload.cfa_of[event_id], workload.subject_of[event_id])].append(event_id)
    problems: list[str] = []
    order = {"dossiers": 0, "pairs": 0, "independent_pairs": 0}
    for (cfa, subject), event_ids in published.items():
        where = dossier_numero.get((cfa, subject))
        if where is None or len(event_ids) < 2:
            continue
        opco, numero = where
        seqs = []
        for event_id in event_ids:
            kind = workload.kind_of[event_id]
            key = (opco, OBJECT_ROUTE[kind], numero, workload.object_of.get(event_id, ""))
            seqs.append((first_created.get(key), kind, event_id))
        order["dossiers"] += 1
        for (seq_a, kind_a, _), (seq_b, kind_b, id_b) in itertools.pairwise(seqs):
            order["pairs"] += 1
            order["independent_pairs"] += kind_a != "dossier"
            if seq_a is None or seq_b is None or seq_b < seq_a:
                problems.append(
                    f"{subject}: {kind_b} {id_b} created at seq {seq_b}, "
                    f"the {kind_a} published before it at seq {seq_a}"
                )
    return problems, order


def empty_scans(
    scanned: Mapping[str, int],
    lines_of: Mapping[str, int],
    nodes: Iterable[str],
    personal_needles: int,
    secret_needles: int,
) -> list[str]:
    """The leak scans that scanned nothing (or searched for nothing): each proves nothing."""
    found = [
        f"{what}: nothing scanned"
        for what in ("log_lines", "metrics_series", "status", "dlq")
        if scanned.get(what, 0) <= 0
    ]
    found += [
        f"relais-{name}.log: no line"
        for name in nodes
        if lines_of.get(f"relais-{name}.log", 0) <= 0
    ]
    if personal_needles <= 0 or secret_needles <= 0:
        found.append(f"needles: {personal_needles} personal values, {secret_needles} secrets")
    return found


def check_effects(cluster: Cluster, problems: dict[str, list[str]], counts: dict[str, Any]) -> None:
    """Evidence that each fault did what it is there for: a PostgreSQL drop terminated relais
    connections, a joining consumer got partitions, every ``/metrics`` scrape answered, every
    stopped process exited with the code of how it was stopped (-9 for SIGKILL, 0 for a graceful
    SIGTERM). The OPCO faults' evidence is the simulator's request record (the test checks it)."""
    for i, drop in enumerate(cluster.pg_terminations, 1):
        if drop["terminated"] <= 0:
            problems["fault_no_effect"].append(f"pg_terminate #{i}: no relais connection")
    joins = [e for e in cluster.timeline.entries if e["kind"] == "rebalance_join"]
    if len(cluster.joined) < len(joins):
        problems["fault_no_effect"].append(f"{len(joins)} joins, {len(cluster.joined)} checked")
    for name, consumed in cluster.joined.items():
        if consumed <= 0:  # it consumed nothing: it got no partition (or came too late)
            problems["fault_no_effect"].append(f"{name} joined the group, consumed nothing")
    for change in cluster.group_changes:
        if False in change.values():
            problems["fault_no_effect"].append(f"group membership did not change: {change}")
    problems["metrics_scrape_failed"] += [
        f"{s['node']}: {s['error']}" for s in cluster.scrapes if not s["ok"]
    ]
    if not cluster.scrapes:
        problems["metrics_scrape_failed"].append("no scrape at all")
    problems["unexpected_exit_code"] += exit_problems(cluster.exits)
    counts["fault_evidence"] = {
        "pg_connections_terminated": [d["terminated"] for d in cluster.pg_terminations],
        "joined_consumed": cluster.joined,
        "group_changes": cluster.group_changes,
        "metrics_scrapes": len(cluster.scrapes),
        "metrics_scrapes_ok": sum(1 for s in cluster.scrapes if s["ok"]),
        "exits": dict(Counter(f"{e['signal']} -> {e['code']}" for e in cluster.exits)),
    }


def exit_problems(exits: Iterable[dict[str, Any]]) -> list[str]:
    return [
        f"{e['node']} after {e['signal']}: exit {e['code']}, want {e['expected']}"
        for e in exits
        if e["code"] != e["expected"]
    ]


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------


def write_report(
    mode: str,
    timeline: Timeline,
    verdict: Verdict,
    cluster: Cluster | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = REPORT_ROOT / f"{stamp}-{mode}"
    out.mkdir(parents=True, exist_ok=True)
    duration = time.monotonic() - timeline.t0
    phases: dict[str, float] = {}
    marks = [e for e in timeline.entries if e["kind"] == "phase"]
    for here, following in zip(marks, [*marks[1:], None], strict=True):
        end = following["t_s"] if following else round(duration, 2)
        phases[here["detail"]] = round(end - here["t_s"], 1)
    doc = {
        "mode": mode,
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "ok": verdict.ok,
        "phase_durations_s": phases,
        "faults_injected": dict(timeline.faults()),
        "counts": verdict.counts,
        "problems": {k: v[:50] for k, v in verdict.problems.items()},
        "problem_counts": {k: len(v) for k, v in verdict.problems.items()},
        "nodes": {
            n.name: {"roles": n.roles, "kills": n.kills, "restarts": n.restarts}
            for n in (cluster.nodes.values() if cluster else [])
        },
        "timeline": timeline.entries,
        "workdir": str(cluster.workdir) if cluster else None,
        **(extra or {}),
    }
    (out / "report.json").write_text(json.dumps(doc, indent=2, default=str))
    lines = [
        f"# relais fault run: {mode}",
        "",
        f"- finished {doc['finished_utc']}, duration {doc['duration_s']} s, verdict "
        f"**{'PASS' if verdict.ok else 'FAIL'}**",
        f"- events produced: {verdict.counts.get('events_produced')}",
        "",
        "## Phases (s)",
        "",
        "| phase | duration |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in phases.items()],
        "",
        "## Faults injected",
        "",
        "| fault | times |",
        "|---|---|",
        *[f"| {k} | {n} |" for k, n in sorted(doc["faults_injected"].items())],
        "",
        "## Evidence that the faults took effect and the checks had something to check",
        "",
        "| evidence | value |",
        "|---|---|",
        *[
            f"| {k} | {json.dumps(v, sort_keys=True)} |"
            for k, v in {
                **verdict.counts.get("fault_evidence", {}),
                "leak_scan": verdict.counts.get("scanned"),
                "order_checked": verdict.counts.get("order_checked"),
                "attack": verdict.counts.get("attack"),
            }.items()
        ],
        "",
        "## Invariants",
        "",
        "| invariant | violations |",
        "|---|---|",
    ]
    names = [
        "lost",
        "multi_terminal",
        "unexpected_status",
        "created_twice",
        "opco_dossier_count",
        "out_of_order",
        "etat_change_several_ids",
        "etat_id_several_changes",
        "etat_not_seen",
        "etat_not_published",
        "wrong_credentials",
        "auth_refused",
        "not_in_ledger",
        "ledger_not_settled",
        "process_crashed",
        "fault_no_effect",
        "metrics_scrape_failed",
        "unexpected_exit_code",
        "leak_scan_empty",
        "personal_data_in_logs",
        "secret_in_logs",
        "leak_in_metrics",
        "leak_in_status",
        "leak_in_dlq_headers",
        "attack_unaccounted",
        "attack_status_leak",
        "attack_reached_opco",
        "not_ready_at_end",
    ]
    names += [k for k in verdict.problems if k not in names]
    lines += [f"| {k} | {len(verdict.problems.get(k, []))} |" for k in names]
    lines += ["", "## Counts", "", "```json", json.dumps(verdict.counts, indent=2), "```", ""]
    lines += ["## Timeline", "", "| t (s) | UTC | phase | what | detail |", "|---|---|---|---|---|"]
    lines += [
        f"| {e['t_s']} | {e['utc']} | {e['phase']} | {e['kind']} | {e['detail']} |"
        for e in timeline.entries
    ]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: lines.index("## Counts")]), flush=True)
    print(f"[faults] report: {out}/report.md", flush=True)
    return out


_SAFE = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SAFE.sub("-", text.lower()).strip("-")


async def run_mode(
    mode: str, sizes: Any, bootstrap: str, pg_url: str, workdir: Path, seed: int = 17
) -> tuple[Verdict, Timeline, Path]:
    """The whole scenario (``tests.faults.scenario``), the invariants, the report."""
    from tests.faults.scenario import run_all
    from tests.today import TODAY

    timeline = Timeline()
    workload = Workload.create(seed, TODAY)
    # the first CFA signs its events (HMAC): its secret is one more needle for the leak scan
    workload.hmac_secrets = {workload.gen.cfas[0].siret: "hmac-" + secrets.token_urlsafe(18)}
    # the attacker: a CFA of its own, on its own topic (phase followups)
    attacker = Generator(ATTACKER_SEED, workload.gen.today, cfa_count=1).cfas[0].siret
    cluster = Cluster(
        workdir=workdir,
        bootstrap=bootstrap,
        pg_url=pg_url,
        timeline=timeline,
        hmac_secrets=workload.hmac_secrets,
        attacker=attacker,
    )
    cluster.attack = Attack(attacker)
    try:
        cluster.start([c.siret for c in workload.gen.cfas])
        try:
            cluster.start_supervisor()
            await run_all(cluster, workload, sizes)
        finally:
            await cluster.stop_supervisor()
            await cluster.stop_all()
        timeline.start_phase("invariants")
        verdict = await check_invariants(cluster, workload)
    finally:
        cluster.close()
    # the simulator stops last (the verdict reads it): its exit code is checked now
    verdict.problems["unexpected_exit_code"] = exit_problems(cluster.exits)
    verdict.counts["fault_evidence"]["exits"] = dict(
        Counter(f"{e['signal']} -> {e['code']}" for e in cluster.exits)
    )
    report = write_report(mode, timeline, verdict, cluster)
    return verdict, timeline, report
