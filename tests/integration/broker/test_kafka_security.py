"""Security as operators configure it, on Apache Kafka: a SASL/SCRAM-SHA-512 listener over TLS (a
throwaway CA and broker certificate made here), ACLs enforced by KRaft's StandardAuthorizer, and
``relais run`` connecting with exactly the variables the README's "Plugging it into a real network"
section documents (read from the README itself: a variable it stops documenting fails this test).

Each CFA's principal may write its own topic only; relais's principal reads the CFA topics and its
group, and writes the status, rejected and DLQ topics. The broker refuses a CFA writing another
CFA's topic; on its own topic, a CFA claiming another CFA's ``ce_source`` is refused by relais (the
topic -> ce_source binding). The test's admin work (topics, ACLs, reading the results) goes through
the PLAINTEXT listener, whose principal (ANONYMOUS) is the super user, as an operator's would.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import TopicAuthorizationFailedError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from relais.adapters.embedded_broker import create_topics, free_port
from relais.adapters.embedded_kafka import KafkaCluster, run_tool
from relais.sampledata import Generator
from tests.fixtures.broker import Out, consume_all
from tests.integration.pipeline.harness import by_status, out, wait_until
from tests.today import TODAY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[3]
ACL_TOOL = "org.apache.kafka.tools.AclCommand"
PASSWORDS = {"relais": "relais-scram-pw-1f8e", "cfa-a": "cfa-a-scram-pw-77c2", "cfa-b": "b-pw-90d1"}
PATTERN = r"cfa\.[0-9]{14}\.events"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_certificates(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA (PEM) and the broker's PEM key store (its key, then its certificate
    for 127.0.0.1/localhost signed by the CA)."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("relais test CA"))
        .issuer_name(_name("relais test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, keystore = directory / "ca.pem", directory / "broker-keystore.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    keystore.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    keystore.chmod(0o600)
    return ca_file, keystore


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KafkaCluster, Path]]:
    directory = tmp_path_factory.mktemp("kafka-sasl")
    ca_file, keystore = make_certificates(directory)
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    cluster = KafkaCluster(
        directory / "cluster",
        listeners={"SASL_SSL": "SASL_SSL"},
        scram_users=PASSWORDS,
        config={
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:ANONYMOUS",  # PLAINTEXT: inter-broker, controller, the admin
            "allow.everyone.if.no.acl.found": "false",
            "auto.create.topics.enable": "false",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
            "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
            "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
        },
    ).start()
    try:
        yield cluster, ca_file
    finally:
        cluster.stop()


def readme_kafka_variables() -> dict[str, str | None]:
    """The RELAIS_KAFKA__* variables of the README's "Plugging it into a real network" Kafka
    item, with the value it gives (``None``: the operator's own)."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Plugging it into a real network", 1)[1].split("\n## ", 1)[0]
    item = section.split("- **Kafka**", 1)[1].split("\n- **", 1)[0]
    found = re.findall(r"`(RELAIS_KAFKA__[A-Z_]+)(?:=([^`]+))?`", item)
    return {name: value or None for name, value in found}


def relais_env(
    cluster: KafkaCluster, ca_file: Path, tmp: Path, sources: dict[str, list[str]]
) -> dict[str, str]:
    """``relais run``'s environment from the README: its values where it gives one, ours for the
    operator's own (the password as a file in the secrets directory, as the README says)."""
    documented = readme_kafka_variables()
    ours = {
        "RELAIS_KAFKA__BOOTSTRAP_SERVERS": cluster.listener_bootstrap("SASL_SSL"),
        "RELAIS_KAFKA__SASL_USERNAME": "relais",
        "RELAIS_KAFKA__SSL_CAFILE": str(ca_file),
        "RELAIS_KAFKA__INPUT_PATTERN": PATTERN,
        "RELAIS_KAFKA__TOPIC_SOURCES": json.dumps(sources),
    }
    wanted = {
        "RELAIS_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "RELAIS_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "RELAIS_KAFKA__SASL_PASSWORD": None,
        **dict.fromkeys(ours),
    }
    missing = {k for k in wanted if k not in documented}
    assert not missing, f"the README's Kafka item no longer documents {sorted(missing)}"
    wrong = {k: documented[k] for k, v in wanted.items() if v and documented[k] != v}
    assert not wrong, f"the README documents other values: {wrong}"
    secrets = tmp / "secrets"
    secrets.mkdir()
    (secrets / "relais_kafka__sasl_password").write_text(PASSWORDS["relais"])
    (secrets / "relais_kafka__sasl_password").chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAIS_")}
    env |= {k: v for k, v in documented.items() if v is not None}
    env |= ours
    env |= {
        "RELAIS_SECRETS_DIR": str(secrets),
        "RELAIS_LEDGER__URL": f"sqlite:///{tmp / 'ledger.db'}",
        "RELAIS_HTTP__PORT": str(free_port()),
        "RELAIS_LOG__JSON": "true",
    }
    return env


def grant(plain: str, topic_a: str, topic_b: str) -> None:
    """ACLs, as an operator sets them with kafka-acls (run side by side: each is a JVM)."""
    base = ["--bootstrap-server", plain, "--add", "--force"]
    commands = [
        [*base, "--allow-principal", "User:cfa-a", "--operation", "Write", "--topic", topic_a],
        [*base, "--allow-principal", "User:cfa-b", "--operation", "Write", "--topic", topic_b],
        [
            *base,
            *("--allow-principal", "User:relais", "--operation", "Read", "--operation", "Describe"),
            *("--topic", "cfa.", "--resource-pattern-type", "prefixed"),
        ],
        [*base, "--allow-principal", "User:relais", "--operation", "Read", "--group", "relais-"],
        [
            *base,
            *(
                "--allow-principal",
                "User:relais",
                "--operation",
                "Write",
                "--operation",
                "Describe",
            ),
            *("--topic", "relais.", "--resource-pattern-type", "prefixed"),
        ],
    ]
    # The group ACL is prefixed too (relais-ingest is the default group id).
    commands[3] += ["--resource-pattern-type", "prefixed"]
    with ThreadPoolExecutor(len(commands)) as pool:
        list(pool.map(lambda args: run_tool(ACL_TOOL, *args), commands))


async def produce_as(
    cluster: KafkaCluster, ca_file: Path, user: str, topic: str, records: list[Out]
) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=cluster.listener_bootstrap("SASL_SSL"),
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=user,
        sasl_plain_password=PASSWORDS[user],
        ssl_context=ssl.create_default_context(cafile=str(ca_file)),
        acks="all",
        request_timeout_ms=15000,
    )
    await producer.start()
    try:
        for rec in records:
            await producer.send_and_wait(topic, rec.value, key=rec.key, headers=rec.headers)
    finally:
        await producer.stop()


def start_relais(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "relais.entrypoints.cli", "run", "--role", "ingest,relay"],
            env=env,
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


async def test_scram_over_tls_with_acls_as_the_readme_documents(
    secured: tuple[KafkaCluster, Path], tmp_path: Path
) -> None:
    cluster, ca_file = secured
    plain = cluster.bootstrap
    g = Generator(59, TODAY, cfa_count=2)
    cfa_a, cfa_b = g.cfas
    topic_a, topic_b = f"cfa.{cfa_a.siret}.events", f"cfa.{cfa_b.siret}.events"
    await create_topics(plain, [topic_a, topic_b], partitions=1)
    await create_topics(plain, ["relais.status.v1", "relais.rejected.v1", "relais.dlq.v1"], 1)
    await asyncio.to_thread(grant, plain, topic_a, topic_b)

    a_ok, b_ok, b_as_a = g.dossier(cfa=cfa_a), g.dossier(cfa=cfa_b), g.dossier(cfa=cfa_b)
    await produce_as(cluster, ca_file, "cfa-a", topic_a, [out(a_ok.event)])
    await produce_as(cluster, ca_file, "cfa-b", topic_b, [out(b_ok.event)])
    with pytest.raises(TopicAuthorizationFailedError):  # the broker refuses: not B's topic
        await produce_as(cluster, ca_file, "cfa-b", topic_a, [out(b_ok.event)])
    # On its own topic, B claims to be A: the broker lets B write there, relais refuses it.
    forged = out({**b_as_a.event, "source": cfa_a.source})
    await produce_as(cluster, ca_file, "cfa-b", topic_b, [forged])

    sources = {topic_a: [cfa_a.siret], topic_b: [cfa_b.siret]}
    env = relais_env(cluster, ca_file, tmp_path, sources)
    log = tmp_path / "relais.log"
    proc = start_relais(env, log)
    try:
        statuses = await consume_all(plain, "relais.status.v1", at_least=2, timeout_s=90)
        refusals = await consume_all(plain, "relais.rejected.v1", at_least=1, timeout_s=30)
        await wait_until(lambda: proc.poll() is None, timeout_s=1)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    text = log.read_text(errors="replace")
    assert {s.json()["eventId"] for s in by_status(statuses)["received"]} == {
        a_ok.event_id,
        b_ok.event_id,
    }, text[-3000:]
    assert [r.json()["status"] for r in refusals] == ["rejected"], text[-3000:]
    assert PASSWORDS["relais"] not in text  # the SASL password never reaches the log
