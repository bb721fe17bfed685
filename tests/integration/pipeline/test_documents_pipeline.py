"""Documents end to end (issue 18): a CFA puts its files in its S3 prefix and publishes events that
name them; ingest, dispatch and relay run in one process on the real broker, the real ledger, a
real S3-compatible server on loopback (moto) and the real OPCO simulator.

- each typeFichier reaches an OPCO that takes documents, multipart (ATLAS) or JSON (OPCOMMERCE),
  and its ``submitted`` carries the OPCO's ``numeroInterneDocument``: the simulator holds the very
  bytes put in S3;
- a 9 MB PDF is streamed from S3 to the OPCO with flat memory;
- a wrong hash, a missing object, another CFA's bucket, an ``http://`` location and an executable
  renamed ``.pdf`` are each ``rejected`` with their code, and the OPCO receives none of them;
- an answer lost after the OPCO stored the document (timeout after the upload) ends ``submitted``
  with exactly one document at the OPCO;
- a document published with its dossier waits behind the dossier's retrying submission.
"""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import obstore
import pytest
from obstore.store import S3Store

from relais.adapters.files.s3 import S3Files, s3_connection
from relais.bootstrap import build
from relais.config import Settings
from relais.domain.document_event import TYPES_FICHIER
from relais.domain.events import EventType
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.sampledata import GeneratedDossier, Generator
from relais.sampledata.pdfs import sample_pdf
from tests.fixtures.broker import consume_all, produce
from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    SimulatorProcess,
    write_default_credentials,
)
from tests.integration.pipeline.harness import (
    make_topics,
    out,
    running,
    settings_for,
    sim_generator,
    sim_urls,
    wait_until,
)
from tests.local_files import reference_json as ref

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ATLAS = OpcoCode.ATLAS  # documents as multipart (infosFichier + fichier)
OPCOMMERCE = OpcoCode.OPCOMMERCE  # documents as JSON with the file in base64
OTHER_CFA = "35600000000048"
TERMINAL = {"submitted", "rejected", "failed", "dead_lettered"}
BIG = 9 * 1024 * 1024


@dataclass
class World:
    sim: SimulatorProcess
    gen: Generator
    bootstrap: str
    input_topic: str
    status_topic: str
    mine: S3Store  # the CFA's bucket (its prefix: <SIRET>/)
    bucket: str
    theirs: S3Store  # another CFA's bucket

    async def put(self, key: str, data: bytes, *, other: bool = False) -> Json:
        """``data`` stored under the CFA's prefix (or in the other CFA's bucket); its reference."""
        store = self.theirs if other else self.mine
        await obstore.put_async(store, key, data)
        bucket = self.bucket if not other else f"other-{self.bucket}"
        return ref(f"s3://{bucket}/{key}", data, key.rsplit("/", 1)[-1])

    def document(self, d: GeneratedDossier, type_fichier: str, fichier: Json) -> Json:
        data: Json = {"typeFichier": type_fichier, "fichier": fichier}
        return self.gen.event(EventType.DOCUMENT_SUBMITTED, d.cfa, d.dossier_id, data)

    async def publish(self, *events: Json) -> None:
        await produce(self.bootstrap, self.input_topic, [out(e) for e in events])

    async def terminal(self, events: list[Json], timeout_s: float = 60) -> dict[str, Json]:
        """The terminal status body of each of ``events``, once all have one."""
        wanted = {str(e["id"]) for e in events}
        found: dict[str, Json] = {}

        async def done() -> bool:
            for s in await consume_all(self.bootstrap, self.status_topic, timeout_s=5, idle_s=0.3):
                body = s.json()
                if body["eventId"] in wanted and body["status"] in TERMINAL:
                    found.setdefault(body["eventId"], body)
            return wanted <= found.keys()

        await wait_until(done, timeout_s=timeout_s, every_s=0.5)
        return found


def big_pdf(size: int) -> bytes:
    head = sample_pdf("neuf mégaoctets")
    return head + b"%" + bytes(range(32, 127)) * ((size - len(head)) // 95 + 1)


def app_settings(
    bootstrap: str,
    topic_factory: Callable[..., str],
    tmp_path: Path,
    sim: SimulatorProcess,
    s3: S3Server,
    bucket: str,
) -> tuple[Settings, str]:
    topics = make_topics(topic_factory)
    keys, oauth = write_default_credentials(tmp_path)
    base = settings_for(bootstrap, topics, f"sqlite:///{tmp_path}/ledger.db")
    files = {
        "cfas": {
            DEFAULT_CFA_SIRET: {"s3": [{"bucket": bucket, "prefix": f"{DEFAULT_CFA_SIRET}/"}]},
            OTHER_CFA: {"s3": [{"bucket": f"other-{bucket}"}]},
        },
        "s3": {
            "endpoint_url": s3.endpoint,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "allow_http": True,
            "max_retries": 0,
        },
    }
    settings = Settings(
        **{
            **base.model_dump(exclude={"dispatch", "credentials", "kafka", "ledger", "files"}),
            "kafka": base.kafka,
            "ledger": base.ledger,
            "dispatch": {"enabled": True, "idle_s": 0.05, "backoff_base_s": 0.05},
            "credentials": {"keys_file": keys, "oauth_clients_file": oauth},
            "files": files,
        }
    )
    return settings, topics.status


@pytest.fixture
def world_parts(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    fresh_simulator: SimulatorProcess,
    s3_server: S3Server,
    tmp_path: Path,
) -> tuple[World, Settings]:
    sim = fresh_simulator
    gen = sim_generator(sim, 20261218)
    bucket = s3_server.bucket(f"cfa-docs-{uuid.uuid4().hex[:8]}")
    s3_server.bucket(f"other-{bucket}")
    settings, status_topic = app_settings(
        kafka_bootstrap, topic_factory, tmp_path, sim, s3_server, bucket
    )
    s3 = S3Files(s3_connection(settings.files))
    world = World(
        sim,
        gen,
        kafka_bootstrap,
        settings.kafka.input_topic,
        status_topic,
        s3.store(bucket),
        bucket,
        s3.store(f"other-{bucket}"),
    )
    return world, settings


def dossier(w: World, opco: OpcoCode) -> GeneratedDossier:
    start = w.gen.today - timedelta(days=2)
    return w.gen.dossier(opco, cfa=w.gen.cfas[0], explicit_opco=True, start=start)


def documents_of(w: World, sha256: str) -> list[dict[str, Any]]:
    return [d for d in w.sim.documents(siret=DEFAULT_CFA_SIRET) if d["sha256"] == sha256]


async def test_documents_from_s3_reach_the_opco_and_bad_files_are_refused(
    world_parts: tuple[World, Settings],
) -> None:
    w, settings = world_parts
    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=sim_urls(w.sim))
    async with running(app):
        dossiers = {opco: dossier(w, opco) for opco in (ATLAS, OPCOMMERCE)}
        await w.publish(*(d.event for d in dossiers.values()))
        assert {
            b["status"] for b in (await w.terminal([d.event for d in dossiers.values()])).values()
        } == {"submitted"}

        # 1. each typeFichier at each OPCO, from the CFA's S3 prefix
        sent: list[tuple[OpcoCode, Json, bytes]] = []
        for opco, d in dossiers.items():
            for type_fichier in TYPES_FICHIER:
                data = sample_pdf(f"{type_fichier} {opco.value} {d.dossier_id}")
                key = f"{DEFAULT_CFA_SIRET}/{d.dossier_id}/{type_fichier}.pdf"
                sent.append((opco, w.document(d, type_fichier, await w.put(key, data)), data))
        await w.publish(*(e for _, e, _ in sent))
        answers = await w.terminal([e for _, e, _ in sent])
        for opco, event, data in sent:
            body = answers[str(event["id"])]
            assert body["status"] == "submitted", body
            numero = body["numeroInterneDocument"]
            (at_opco,) = documents_of(w, hashlib.sha256(data).hexdigest())
            assert at_opco["numeroInterneDocument"] == numero and at_opco["opco"] == opco.value
            assert at_opco["typeFichier"] == event["data"]["typeFichier"]
            assert w.sim.document_content(opco, numero) == data

        # 2. every refusal with its code, nothing at the OPCO
        d = dossiers[ATLAS]
        good = sample_pdf(f"bon {d.dossier_id}")
        wrong_hash = await w.put(f"{DEFAULT_CFA_SIRET}/{d.dossier_id}/hash.pdf", good)
        wrong_hash["sha256"] = hashlib.sha256(b"autre chose").hexdigest()
        missing = ref(f"s3://{w.bucket}/{DEFAULT_CFA_SIRET}/absent.pdf", good, "absent.pdf")
        theirs = await w.put("theirs.pdf", good, other=True)
        elf = b"\x7fELF\x02\x01\x01" + bytes(600)
        renamed = await w.put(f"{DEFAULT_CFA_SIRET}/{d.dossier_id}/facture.pdf", elf)
        http = ref("http://169.254.169.254/latest/meta-data.pdf", good, "meta-data.pdf")
        refused = {
            "FILE_HASH_MISMATCH": w.document(d, "FACTURE", wrong_hash),
            "FILE_NOT_FOUND": w.document(d, "FACTURE", missing),
            "FILE_LOCATION_FORBIDDEN": w.document(d, "FACTURE", theirs),
            "FILE_TYPE_UNSUPPORTED": w.document(d, "FACTURE", renamed),
            "http": w.document(d, "FACTURE", http),
        }
        await w.publish(*refused.values())
        answers = await w.terminal(list(refused.values()))
        for code, event in refused.items():
            body = answers[str(event["id"])]
            assert body["status"] == "rejected", (code, body)
            codes = {e["code"] for e in body["errors"]}
            if code == "http":
                assert codes & {"FILE_LOCATION_INVALID", "FILE_LOCATION_FORBIDDEN"}, body
            else:
                assert code in codes, body
            assert all(e.get("path", "").startswith("data.fichier") for e in body["errors"])
        for data in (good, elf):
            assert documents_of(w, hashlib.sha256(data).hexdigest()) == []


async def test_a_big_file_streams_a_lost_answer_leaves_one_document_and_order_holds(
    world_parts: tuple[World, Settings],
) -> None:
    w, settings = world_parts
    app = build(settings, ["ingest", "dispatch", "relay"], base_urls=sim_urls(w.sim))
    async with running(app):
        d = dossier(w, ATLAS)
        await w.publish(d.event)
        assert (await w.terminal([d.event]))[str(d.event["id"])]["status"] == "submitted"

        # 1. 9 MB from S3 to the OPCO: never held whole in memory
        data = big_pdf(BIG)
        event = w.document(
            d, "CONVENTION_FORMATION", await w.put(f"{DEFAULT_CFA_SIRET}/big.pdf", data)
        )
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            await w.publish(event)
            body = (await w.terminal([event]))[str(event["id"])]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert body["status"] == "submitted", body
        assert peak - base < BIG // 2, f"peak {peak - base} bytes above the start for a {BIG} file"
        (at_opco,) = documents_of(w, hashlib.sha256(data).hexdigest())
        assert at_opco["size"] == len(data)

        # 2. the OPCO stores the document, its answer is lost: one document, submitted
        w.sim.set_faults(
            ATLAS, stored_lost_rate=1.0, stored_lost_mode="drop", max_faults=1, routes=["documents"]
        )
        lost = sample_pdf(f"réponse perdue {d.dossier_id}")
        event = w.document(
            d, "CONVENTION_MOBILITE", await w.put(f"{DEFAULT_CFA_SIRET}/lost.pdf", lost)
        )
        await w.publish(event)
        body = (await w.terminal([event]))[str(event["id"])]
        assert body["status"] == "submitted", body
        (at_opco,) = documents_of(w, hashlib.sha256(lost).hexdigest())
        assert body["numeroInterneDocument"] == at_opco["numeroInterneDocument"]
        posts = [
            r
            for r in w.sim.records(opco=ATLAS.value)
            if r.get("route") == "documents"
            and (r.get("file") or {}).get("sha256") == at_opco["sha256"]
        ]
        assert len(posts) >= 2, posts  # the lost answer, then the resend the OPCO recognised

        # 3. a document published with its dossier waits behind the dossier's retrying submission
        w.sim.clear_faults(ATLAS)
        w.sim.set_faults(
            OPCOMMERCE, error_rate=1.0, error_statuses=[503], max_faults=2, routes=["dossiers_post"]
        )
        later = dossier(w, OPCOMMERCE)
        behind = sample_pdf(f"derrière {later.dossier_id}")
        event = w.document(
            later,
            "CONVENTION_REDUCTION_DUREE",
            await w.put(f"{DEFAULT_CFA_SIRET}/behind.pdf", behind),
        )
        await w.publish(later.event, event)
        answers = await w.terminal([later.event, event])
        assert answers[str(later.event["id"])]["status"] == "submitted"
        assert answers[str(event["id"])]["status"] == "submitted"
        records = w.sim.records(opco=OPCOMMERCE.value)
        created = [
            r["seq"] for r in records if r.get("route") == "dossiers_post" and r.get("created")
        ]
        errors = [
            r for r in records if r.get("route") == "dossiers_post" and r.get("status") == 503
        ]
        document_posts = [r["seq"] for r in records if r.get("route") == "documents"]
        assert len(errors) == 2 and created and document_posts
        assert min(document_posts) > max(created), (created, document_posts)
