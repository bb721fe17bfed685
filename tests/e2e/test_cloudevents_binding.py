"""End to end through the real broker, as ERP developers would publish with mainstream libraries:

- a structured-mode event from the Python CloudEvents SDK (``cloudevents.core.bindings.kafka``)
  and one from the JavaScript SDK (npm ``cloudevents``) sent by KafkaJS: accepted, submitted to
  the OPCO simulator, answered with statuses in the deployment's content mode (binary, with
  ``content-type: application/json``, or structured), read back by the JavaScript SDK;
- a binary-mode event with ``content-type: application/xml``: rejected with
  ``ENVELOPE_UNSUPPORTED_CONTENT_TYPE``;
- a binary-mode event whose value @kafkajs/confluent-schema-registry framed (magic byte, schema
  id) against a real Apicurio Registry on loopback, after ``relais schemas register``: accepted.

``relais run`` is a child process (configured by ``RELAIS_*`` only), the simulator and the
registry too; the JavaScript side shares no code with relais.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from relais.adapters.embedded_broker import create_topics_sync, free_port
from relais.demo.processes import RelaisProcess, relais_env, write_profiles
from relais.domain.opco import OpcoCode
from relais.domain.referentials import referential
from relais.sampledata import Generator
from tests.fixtures.simulator import OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, SimulatorProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

NODE_DIR = Path(__file__).parent / "kafkajs"
NODE_PACKAGES = ("kafkajs", "cloudevents", "@kafkajs/confluent-schema-registry", "ajv")


@pytest.fixture(scope="session")
def erp_producer() -> Path:
    """The Node producer with its packages; a missing one FAILS the test (never a skip)."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed: install Node.js >= 18, then bash scripts/setup.sh")
    for package in NODE_PACKAGES:
        if not (NODE_DIR / "node_modules" / package).is_dir():
            pytest.fail(
                f"npm package {package} is missing in {NODE_DIR / 'node_modules'}: run bash "
                "scripts/setup.sh (npm ci from package-lock.json)",
                pytrace=False,
            )
    return NODE_DIR / "ce_producer.mjs"


def python_sdk_records(structured: dict[str, Any], xml: dict[str, Any]) -> list[Any]:
    """The Python SDK's records: one event in structured mode, one in binary mode whose data
    content type is XML."""

    def cloudevent(event: dict[str, Any], data: Any, content_type: str) -> CloudEvent:
        attributes = {k: v for k, v in event.items() if k not in {"data", "datacontenttype"}}
        attributes["time"] = datetime.fromisoformat(attributes["time"])
        attributes["datacontenttype"] = content_type
        attributes["partitionkey"] = event["subject"]
        return CloudEvent(attributes, data)

    fmt = JSONFormat()
    return [
        ce_kafka.to_structured(cloudevent(structured, structured["data"], "application/json"), fmt),
        ce_kafka.to_binary(cloudevent(xml, "<cerfa/>", "application/xml"), fmt),
    ]


async def produce(bootstrap: str, topic: str, messages: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for m in messages:
            key = m.key.encode() if isinstance(m.key, str) else m.key
            await producer.send_and_wait(topic, m.value, key=key, headers=list(m.headers.items()))
    finally:
        await producer.stop()


@pytest.mark.parametrize("status_mode", ["binary", "structured"])
def test_sdk_events_in_both_modes_xml_refused_registry_framed_accepted(
    status_mode: str,
    erp_producer: Path,
    kafka_bootstrap: str,
    fresh_simulator: SimulatorProcess,
    apicurio_registry: str,
    tmp_path: Path,
) -> None:
    sim = fresh_simulator
    gen = Generator(seed=16, today=date.fromisoformat(sim.clock()["today"]), cfa_count=1)
    cfa = gen.cfas[0]
    py_structured, py_xml, js_structured, js_framed = (
        gen.dossier(OpcoCode.AKTO, cfa=cfa, start=gen.today).event for _ in range(4)
    )
    suffix = uuid.uuid4().hex[:8]
    topics = {k: f"e2e-ce-{k}-{suffix}" for k in ("input", "status", "dlq")}
    create_topics_sync(kafka_bootstrap, list(topics.values()), 1)
    register = subprocess.run(
        [
            sys.executable,
            "-m",
            "relais.entrypoints.cli",
            "schemas",
            "register",
            "--registry",
            apicurio_registry,
            "--topic",
            topics["input"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert register.returncode == 0, register.stderr
    assert f"{topics['input']}-fr.cfa.dossier.submitted.v1: id" in register.stdout

    keys = tmp_path / "keys.csv"
    key = sim.key_for(cfa.siret, OpcoCode.AKTO)
    keys.write_text(f"siret,opco,key,expiry\n{cfa.siret},AKTO,{key},2099-12-31\n")
    keys.chmod(0o600)
    oauth = tmp_path / "oauth.csv"  # AKTO's OAuth2 client credentials
    oauth.write_text(
        f"opco,client_id,client_secret\nAKTO,{OAUTH_CLIENT_ID},{OAUTH_CLIENT_SECRET}\n"
    )
    oauth.chmod(0o600)
    profiles = tmp_path / "profiles.json"
    write_profiles(referential("opco-profiles.json"), profiles, sim.base_url)
    port = free_port()
    relais = RelaisProcess(
        log_path=tmp_path / "relais.log",
        http_port=port,
        env=relais_env(
            bootstrap=kafka_bootstrap,
            ledger_url=f"sqlite:///{tmp_path / 'ledger.db'}",
            http_port=port,
            profiles_file=profiles,
            keys_file=keys,
            oauth_file=oauth,
            input_topic=topics["input"],
            status_topic=topics["status"],
            dlq_topic=topics["dlq"],
            group_id=f"relais-e2e-ce-{suffix}",
            extra={
                "RELAIS_KAFKA__SCHEMA_REGISTRY_URL": apicurio_registry,
                "RELAIS_KAFKA__STATUS_CONTENT_MODE": status_mode,
            },
            tansu_timings=True,
        ),
    )
    spec = {
        "structured": [js_structured],
        "framed": [js_framed],
        "expect": [e["id"] for e in (py_structured, py_xml, js_structured, js_framed)],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    report_file = tmp_path / "report.json"
    relais.start()
    try:
        asyncio.run(relais.wait_ready(timeout_s=60))
        asyncio.run(
            produce(kafka_bootstrap, topics["input"], python_sdk_records(py_structured, py_xml))
        )
        run = subprocess.run(
            [
                "node",
                str(erp_producer),
                "--brokers",
                kafka_bootstrap,
                "--topic",
                topics["input"],
                "--status-topic",
                topics["status"],
                "--events",
                str(tmp_path / "spec.json"),
                "--report",
                str(report_file),
                "--registry",
                apicurio_registry,
                "--timeout-ms",
                "120000",
            ],
            capture_output=True,
            text=True,
            timeout=200,
            check=False,
        )
    finally:
        relais.stop()
    log_tail = (tmp_path / "relais.log").read_text(errors="replace")[-3000:]
    assert run.returncode == 0, f"{run.stderr[-3000:]}\nrelais log:\n{log_tail}"
    report = json.loads(report_file.read_text())
    assert report["complete"], f"statuses: {report['statuses']}\nrelais log:\n{log_tail}"
    terminal = {
        st["eventId"]: st
        for st in report["statuses"]
        if st["status"] in {"submitted", "rejected", "failed", "dead_lettered"}
    }
    for event in (py_structured, js_structured, js_framed):
        assert terminal[event["id"]]["status"] == "submitted", terminal[event["id"]]
    refused = terminal[py_xml["id"]]
    assert refused["status"] == "rejected"
    assert [e["code"] for e in refused["errors"]] == ["ENVELOPE_UNSUPPORTED_CONTENT_TYPE"]
    wire = {"binary": "application/json", "structured": "application/cloudevents+json"}
    assert {st["contentType"] for st in report["statuses"]} == {wire[status_mode]}
    assert all(st["ceType"] == f"fr.relais.status.{st['status']}.v1" for st in report["statuses"])
    assert report["schemaIds"][js_framed["id"]] > 0
    created = [r for r in sim.records() if r["created"]]
    assert len(created) == 3, created  # the three accepted dossiers, once each
