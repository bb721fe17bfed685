"""The samples of docs/erp-integration.md, run as an ERP would run them: the Python (aiokafka),
TypeScript (KafkaJS, compiled by tsc) and Java (kafka-clients, compiled by javac) clients of
``docs/samples/`` each sign and publish a dossier in CloudEvents binary mode to the real broker,
``relais run`` (a child process requiring that CFA's signature) sends it to the OPCO simulator, and
the sample reads its statuses back to the terminal one. The reference signature code of the three
languages gives relais's own signature (services/relais/services/ingest/signature.py).

One broker, one simulator, one relais for the module; the TypeScript and Java samples are built
once. Node, npm packages (scripts/setup.sh: npm ci in docs/samples/typescript), a JDK and the Kafka
jars (setup.sh) are required: a missing one FAILS with what to run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from relais.adapters.embedded_broker import create_topics_sync, free_port
from relais.adapters.kafka_dist import ensure_kafka_libs
from relais.demo.processes import RelaisProcess, relais_env, write_profiles
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.domain.referentials import referential
from relais.sampledata import Generator, InvalidKind
from relais.services.ingest.signature import sign
from tests.fixtures.broker import broker_kind_of
from tests.fixtures.simulator import SimulatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "docs" / "samples"
TS_DIR = SAMPLES / "typescript"
JAVA_SOURCES = sorted((SAMPLES / "java" / "src" / "main" / "java").rglob("*.java"))
SECRET = "erp-sample-secret-" + "0" * 16


def _need(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: {hint}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def python_sample() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "erp_client", SAMPLES / "python" / "erp_client.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ts_sample() -> list[str]:
    """``node dist/erpClient.js``, built once by the sample's own tsc."""
    node = _need("node", "install Node.js >= 18, then run bash scripts/setup.sh")
    tsc = TS_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    if not (TS_DIR / "node_modules" / "kafkajs").is_dir() or not tsc.exists():
        pytest.fail(f"kafkajs/typescript missing in {TS_DIR}: run bash scripts/setup.sh", False)
    built = subprocess.run(
        [node, str(tsc), "-p", str(TS_DIR)], capture_output=True, text=True, timeout=180
    )
    assert built.returncode == 0, built.stdout[-3000:]
    return [node, str(TS_DIR / "dist" / "erpClient.js")]


@pytest.fixture(scope="module")
def java_sample(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """``java -cp ... fr.cfa.erp.ErpClient``, compiled once against the Kafka jars."""
    javac = _need("javac", "install a JDK 17+ (Debian: openjdk-17-jdk-headless)")
    java = _need("java", "install a JDK 17+")
    classes = tmp_path_factory.mktemp("erp-java")
    libs = f"{ensure_kafka_libs()}/*"
    built = subprocess.run(
        [javac, "-d", str(classes), "-cp", libs, *map(str, JAVA_SOURCES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    return [java, "-cp", f"{classes}:{libs}", "fr.cfa.erp.ErpClient"]


# --------------------------------------------------------------------------------------------
# The signature: one scheme, three languages
# --------------------------------------------------------------------------------------------

SIGNING_CASES: list[tuple[dict[str, str], bytes]] = [
    (
        {
            "ce_id": "e-1",
            "ce_type": "fr.cfa.dossier.submitted.v1",
            "ce_source": "urn:siret:52880483402584",
            "ce_subject": "CFA01-2026-00001",
            "ce_time": "2026-11-27T09:00:00+01:00",
            "content-type": "application/json",
        },
        json.dumps({"cerfa": {"apprenti": {"nom": "Éloïse Ünal"}}}, ensure_ascii=False).encode(),
    ),
    ({"ce_id": "e-2", "ce_type": "fr.cfa.rupture.declared.v1"}, b""),  # missing attributes
    ({"ce_id": "∑-3", "ce_subject": "dossier 3 ✓", "ce_time": "t"}, bytes(range(256))),
]


@pytest.mark.parametrize("case", range(len(SIGNING_CASES)))
def test_reference_signatures_agree_with_relais(
    case: int,
    tmp_path: Path,
    python_sample: ModuleType,
    ts_sample: list[str],
    java_sample: list[str],
) -> None:
    headers, value = SIGNING_CASES[case]
    expected = sign(SECRET, headers, value)
    assert python_sample.sign(SECRET, headers, value) == expected
    (tmp_path / "headers.json").write_text(json.dumps(headers), encoding="utf-8")
    (tmp_path / "value.bin").write_bytes(value)
    args = ["sign", "--secret", SECRET, "--headers", str(tmp_path / "headers.json")]
    args += ["--value", str(tmp_path / "value.bin")]
    for command in (ts_sample, java_sample):
        done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == expected, command[0]


# --------------------------------------------------------------------------------------------
# Publish and follow, against the real broker, relais and the simulator
# --------------------------------------------------------------------------------------------


@dataclass
class Stack:
    bootstrap: str
    topics: dict[str, str]
    generator: Generator
    workdir: Path
    tansu: bool

    def event_file(self, name: str, invalid: InvalidKind | None = None) -> tuple[Path, str]:
        if invalid is None:
            event = self.generator.dossier(OpcoCode.OCAPIAT, cfa=self.generator.cfas[0]).event
        else:
            event = self.generator.invalid_dossier(invalid, OpcoCode.OCAPIAT).event
        path = self.workdir / f"{name}.json"
        path.write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
        return path, str(event["id"])

    def args(self, event: Path, secret: str = SECRET) -> list[str]:
        out = ["--bootstrap", self.bootstrap, "--event", str(event), "--secret", secret]
        return [
            *out,
            "--input-topic",
            self.topics["input"],
            "--status-topic",
            self.topics["status"],
        ]

    def group_timings(self) -> list[str]:
        """The embedded broker's fast consumer-group timings (a real Kafka: the clients' own)."""
        if not self.tansu:
            return []
        return ["--session-timeout-ms", "6000", "--heartbeat-interval-ms", "500"]

    def rejected_records(self) -> list[bytes]:
        """The operators' topic of refusals whose source is not established."""

        async def read() -> list[bytes]:
            consumer = AIOKafkaConsumer(
                self.topics["rejected"],
                bootstrap_servers=self.bootstrap,
                group_id=None,
                auto_offset_reset="earliest",
            )
            await consumer.start()
            try:
                batches = await consumer.getmany(timeout_ms=5000)
                return [r.value or b"" for records in batches.values() for r in records]
            finally:
                await consumer.stop()

        return asyncio.run(read())


@pytest.fixture(scope="module")
def stack(
    kafka_bootstrap: str, simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("erp-samples")
    gen = Generator(seed=16, today=date.fromisoformat(simulator.clock()["today"]), cfa_count=1)
    siret = gen.cfas[0].siret
    keys = work / "keys.csv"
    rows = [f"{siret},{o.value},{simulator.key_for(siret, o)},2099-12-31" for o in ALL_OPCO]
    keys.write_text("siret,opco,key,expiry\n" + "\n".join(rows) + "\n")
    keys.chmod(0o600)
    profiles = work / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, simulator.base_url)
    suffix = uuid.uuid4().hex[:8]
    topics = {k: f"erp-{k}-{suffix}" for k in ("input", "status", "dlq", "rejected")}
    create_topics_sync(kafka_bootstrap, list(topics.values()), 1)
    tansu = broker_kind_of(kafka_bootstrap) == "tansu"
    port = free_port()
    relais = RelaisProcess(
        log_path=work / "relais.log",
        http_port=port,
        env=relais_env(
            bootstrap=kafka_bootstrap,
            ledger_url=f"sqlite:///{work / 'ledger.db'}",
            http_port=port,
            profiles_file=profiles,
            keys_file=keys,
            input_topic=topics["input"],
            status_topic=topics["status"],
            dlq_topic=topics["dlq"],
            group_id=f"relais-erp-{suffix}",
            topic_sources={topics["input"]: [siret]},
            extra={
                "RELAIS_CFA__HMAC_SECRETS": json.dumps({siret: SECRET}),
                "RELAIS_KAFKA__REJECTED_TOPIC": topics["rejected"],
            },
            tansu_timings=tansu,
        ),
    )
    relais.start()
    try:
        asyncio.run(relais.wait_ready(timeout_s=60))
        yield Stack(kafka_bootstrap, topics, gen, work, tansu)
    finally:
        relais.stop()


def _statuses(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _judge(done: subprocess.CompletedProcess[str], expected_terminal: str) -> list[dict[str, Any]]:
    statuses = _statuses(done.stdout)
    assert statuses, f"no status read: {done.stderr[-2000:]}"
    assert statuses[-1]["status"] == expected_terminal, statuses
    assert len({s["ce_id"] for s in statuses}) == len(statuses)  # one line per status id
    return statuses


def test_python_sample_publishes_and_reads_submitted(stack: Stack) -> None:
    event, event_id = stack.event_file("python")
    done = subprocess.run(
        [sys.executable, str(SAMPLES / "python" / "erp_client.py"), *stack.args(event)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    statuses = _judge(done, "submitted")
    assert done.returncode == 0
    assert statuses[-1]["body"]["numeroInterne"]
    assert statuses[-1]["body"]["eventId"] == event_id


def test_typescript_sample_publishes_and_reads_submitted(
    stack: Stack, ts_sample: list[str]
) -> None:
    event, event_id = stack.event_file("typescript")
    group = (
        ["--session-timeout-ms", "6000", "--heartbeat-interval-ms", "500"] if stack.tansu else []
    )
    done = subprocess.run(
        [*ts_sample, *stack.args(event), *group], capture_output=True, text=True, timeout=120
    )
    statuses = _judge(done, "submitted")
    assert done.returncode == 0
    assert statuses[-1]["body"]["eventId"] == event_id


def test_java_sample_publishes_and_reads_submitted(stack: Stack, java_sample: list[str]) -> None:
    event, event_id = stack.event_file("java")
    done = subprocess.run(
        [*java_sample, *stack.args(event), *stack.group_timings()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    statuses = _judge(done, "submitted")
    assert done.returncode == 0
    assert statuses[-1]["body"]["eventId"] == event_id


def _python(stack: Stack, event: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SAMPLES / "python" / "erp_client.py"), *stack.args(event), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_invalid_dossier_is_answered_rejected_with_its_codes(stack: Stack) -> None:
    event, event_id = stack.event_file("invalid", InvalidKind.NIR_KEY)
    done = _python(stack, event)
    statuses = _judge(done, "rejected")
    assert done.returncode == 1
    assert statuses[-1]["body"]["eventId"] == event_id
    assert "APPRENTI_NIR_CLE" in {e["code"] for e in statuses[-1]["body"]["errors"]}


def test_a_wrong_signature_goes_to_the_operators_not_to_the_cfa(stack: Stack) -> None:
    event, _ = stack.event_file("forged")
    done = _python(stack, event, "--secret", "not-the-secret", "--timeout", "8")
    assert done.returncode == 2, done.stdout  # no status: the claimed ids cannot be trusted
    assert any(b"SIGNATURE_INVALID" in value for value in stack.rejected_records())
