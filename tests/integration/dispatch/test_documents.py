"""Documents (issue 18) through dispatch with real parts: the ledger (both engines), the OPCO
simulator's documents route and a real S3-compatible server on loopback (moto, through obstore):
each typeFichier reaches an OPCO in its profile's transport; a refused file is rejected with its
FILE_* code and no OPCO call; an answer lost after the OPCO stored the document leaves exactly one
document there; a document waits behind its dossier's retrying submission."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import obstore
import pytest
import pytest_asyncio

from relais.adapters.embedded_broker import free_port
from relais.adapters.files.opener import StoreFileOpener
from relais.adapters.files.s3 import S3Files
from relais.domain.document_event import TYPES_FICHIER
from relais.domain.events import EventType
from relais.domain.file_policy import FilePolicy, policy_from
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.sampledata import GeneratedDossier
from relais.sampledata.pdfs import default_files_dir, sample_pdf
from relais.services.ledger_port import NewCommand
from tests.fixtures.s3 import S3Server
from tests.integration.dispatch.conftest import Rig
from tests.local_files import reference_json as reference

pytestmark = pytest.mark.integration

ATLAS = OpcoCode.ATLAS  # documents as multipart (infosFichier + fichier)
OPCOMMERCE = OpcoCode.OPCOMMERCE  # documents as JSON, the file in base64
OTHER_CFA = "35600000000048"
STORED_LOST = {"stored_lost_rate": 1.0, "stored_lost_mode": "drop", "max_faults": 1}


@dataclass
class Store:
    policy: FilePolicy
    opener: StoreFileOpener
    s3: S3Files
    mine: str  # the rig's CFA's bucket (prefix cfa/)
    theirs: str  # another CFA's bucket

    async def put(self, key: str, data: bytes, *, bucket: str | None = None) -> Json:
        bucket = bucket or self.mine
        await obstore.put_async(self.s3.store(bucket), key, data)
        return reference(f"s3://{bucket}/{key}", data, key.rsplit("/", 1)[-1])


@pytest_asyncio.fixture(loop_scope="function")
async def store(rig: Rig, s3_server: S3Server) -> Store:
    suffix = uuid.uuid4().hex[:8]
    mine = s3_server.bucket(f"cfa-docs-{suffix}")
    theirs = s3_server.bucket(f"other-docs-{suffix}")
    policy = policy_from(
        {
            "cfas": {
                rig.cfa: {
                    "s3": [{"bucket": mine, "prefix": "cfa/"}],
                    "local_root": str(default_files_dir().resolve()),  # the generator's PDFs
                },
                OTHER_CFA: {"s3": [{"bucket": theirs}]},
            }
        }
    )
    s3 = S3Files(s3_server.connection())
    return Store(policy, StoreFileOpener(policy, s3), s3, mine, theirs)


def document(rig: Rig, d: GeneratedDossier, type_fichier: str, fichier: Json) -> Json:
    data: Json = {"typeFichier": type_fichier, "fichier": fichier}
    return rig.gen.event(EventType.DOCUMENT_SUBMITTED, rig.gen.cfas[0], d.dossier_id, data)


async def submitted(rig: Rig, opco: OpcoCode, store: Store) -> GeneratedDossier:
    d = rig.dossier(opco)
    await rig.send(d.event, opco)
    await rig.settle(rig.dispatcher(files=store.opener))
    return d


async def last_status(rig: Rig, command: NewCommand) -> dict[str, Any]:
    bodies = [
        json.loads(r.message.value)
        for r in await rig.ledger.outbox_batch(10_000)
        if r.message.event_id and json.loads(r.message.value).get("eventId") == command.event_id
    ]
    return bodies[-1]


@pytest.mark.parametrize("opco", [ATLAS, OPCOMMERCE])
async def test_each_type_of_document_reaches_the_opco(
    rig: Rig, store: Store, opco: OpcoCode
) -> None:
    d = await submitted(rig, opco, store)
    numero = await rig.numero(d)
    sent: dict[str, tuple[NewCommand, bytes]] = {}
    for type_fichier in TYPES_FICHIER:
        data = sample_pdf(f"{type_fichier} {d.dossier_id}")
        fichier = await store.put(f"cfa/{d.dossier_id}/{type_fichier}.pdf", data)
        command = await rig.send(document(rig, d, type_fichier, fichier), opco)
        sent[type_fichier] = (command, data)
    await rig.settle(rig.dispatcher(files=store.opener))

    docs = {doc["typeFichier"]: doc for doc in rig.sim.documents(opco=opco.value)}
    assert sorted(docs) == sorted(TYPES_FICHIER)
    for type_fichier, (command, data) in sent.items():
        doc = docs[type_fichier]
        assert doc["objets"] == [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero}]
        assert doc["sha256"] == hashlib.sha256(data).hexdigest()
        assert doc["cfaSiret"] == rig.cfa
        status = await last_status(rig, command)
        assert status["status"] == "submitted" and "reason" not in status
        assert status["numeroInterneDocument"] == doc["numeroInterneDocument"]
    some = docs["CONVENTION_MOBILITE"]
    assert (
        rig.sim.document_content(opco, some["numeroInterneDocument"])
        == (sent["CONVENTION_MOBILITE"][1])
    )


async def test_each_refused_file_is_rejected_with_its_code_and_no_opco_call(
    rig: Rig, store: Store
) -> None:
    d = await submitted(rig, ATLAS, store)
    pdf = sample_pdf("the real one")
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(4000)
    wrong_hash = {**await store.put("cfa/changed.pdf", pdf), "sha256": "0" * 64}
    missing = reference(f"s3://{store.mine}/cfa/absent.pdf", pdf, "absent.pdf")
    theirs = await store.put("theirs.pdf", pdf, bucket=store.theirs)
    http = reference("http://169.254.169.254/latest/meta-data.pdf", pdf, "meta.pdf")
    renamed = await store.put("cfa/outil.pdf", elf)
    cases = [  # (what, its code, the reference)
        ("wrong hash", "FILE_HASH_MISMATCH", wrong_hash),
        ("missing object", "FILE_NOT_FOUND", missing),
        ("other CFA's bucket", "FILE_LOCATION_FORBIDDEN", theirs),
        ("http:// location", "FILE_LOCATION_FORBIDDEN", http),  # no scheme but granted ones
        ("ELF renamed .pdf", "FILE_TYPE_UNSUPPORTED", renamed),
    ]
    commands = [
        await rig.send(document(rig, d, "CERTIFICAT_REALISATION", ref), ATLAS)
        for _, _, ref in cases
    ]
    await rig.settle(rig.dispatcher(files=store.opener))

    for (what, code, ref), command in zip(cases, commands, strict=True):
        assert await rig.state(command) == "failed", what
        status = await last_status(rig, command)
        assert status["status"] == "rejected", what
        [error] = status["errors"]
        assert (error["code"], error["path"]) == (code, "data.fichier"), what
        assert ref["fileName"] in error["message"], what
    assert rig.sim.records(opco=ATLAS.value, route="documents") == []
    assert rig.sim.documents(opco=ATLAS.value) == []


async def test_an_answer_lost_after_the_upload_leaves_exactly_one_document(
    rig: Rig, store: Store
) -> None:
    d = await submitted(rig, ATLAS, store)
    data = sample_pdf("convention de mobilité")
    fichier = await store.put(f"cfa/{d.dossier_id}/mobilite.pdf", data)
    command = await rig.send(document(rig, d, "CONVENTION_MOBILITE", fichier), ATLAS)
    rig.sim.set_faults(ATLAS, routes=["documents"], **STORED_LOST)
    dispatcher = rig.dispatcher(files=store.opener)
    assert await dispatcher.run_once() == 1
    [held] = [c for c in await rig.ledger.commands_for(rig.cfa, d.dossier_id) if c.attempts]
    assert held.ambiguous, "a lost answer to an upload is a doubt"
    await rig.settle(dispatcher)

    assert await rig.state(command) == "done"
    [doc] = rig.sim.documents(opco=ATLAS.value)
    assert len(rig.sim.records(opco=ATLAS.value, route="documents")) == 2, "resent once"
    status = await last_status(rig, command)
    assert status["status"] == "submitted" and status["reason"] == "already_at_opco"
    assert status["numeroInterneDocument"] == doc["numeroInterneDocument"]


async def test_a_document_waits_behind_its_dossiers_retrying_submission(
    rig: Rig, store: Store
) -> None:
    d = rig.dossier(ATLAS)
    dossier = await rig.send(d.event, ATLAS)
    fichier = await store.put(f"cfa/{d.dossier_id}/reduction.pdf", sample_pdf("réduction"))
    doc = await rig.send(document(rig, d, "CONVENTION_REDUCTION_DUREE", fichier), ATLAS)
    rig.sim.set_faults(
        ATLAS, routes=["dossiers_post"], error_rate=1.0, error_statuses=[503], max_faults=2
    )
    dispatcher = rig.dispatcher(files=store.opener)
    for _ in range(2):
        assert await dispatcher.run_once() == 1  # the dossier only: the document is behind it
        assert await rig.state(dossier) == "pending"
        assert (await last_status(rig, dossier))["status"] == "retrying"
        assert await rig.state(doc) == "pending"
        assert rig.sim.records(opco=ATLAS.value, route="documents") == []
    await rig.settle(dispatcher)

    assert [await rig.state(c) for c in (dossier, doc)] == ["done", "done"]
    [sent] = rig.sim.documents(opco=ATLAS.value)
    assert sent["objets"][0]["idObjet"] == await rig.numero(d)


async def test_a_document_for_a_facture_names_its_numero_interne_facture(
    rig: Rig, store: Store
) -> None:
    akto = OpcoCode.AKTO  # documents and factures as multipart (the invoice PDF: local root)
    d = rig.dossier(akto, start=rig.today - timedelta(days=2))
    await rig.send(d.event, akto)
    dispatcher = rig.dispatcher(files=store.opener)
    await rig.settle(dispatcher)
    numero = await rig.numero(d)
    rig.sim.set_etat(akto, numero, "ENGAGE")
    [e1] = [e for e in rig.sim.dossier(akto, numero)["echeances"] if e["numero"] == 1]
    rig.sim.advance(3)
    montant = min(100.0, float(e1["montantTotal"]))
    event = rig.gen.facture([d], montants={d.dossier_id: montant})
    reference = event["data"]["facture"]["referenceFactureCFA"]
    fichier = await store.put(f"cfa/{d.dossier_id}/facture-annexe.pdf", sample_pdf("annexe"))
    doc = document(rig, d, "FACTURE", fichier)
    doc["data"]["referenceFactureCFA"] = reference
    unknown = document(rig, d, "FACTURE", fichier)
    unknown["data"]["referenceFactureCFA"] = "FAC-NEVER-SENT"
    facture = await rig.send(event, akto)
    commands = [await rig.send(e, akto) for e in (doc, unknown)]
    await rig.settle(dispatcher)

    assert await rig.state(facture) == "done"
    record = await rig.ledger.facture(rig.cfa, reference)
    assert record is not None and record.numero_interne_facture
    [sent] = rig.sim.documents(opco=akto.value)
    assert sent["objets"] == sorted(
        [
            {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero},
            {"typeObjet": "FACTURE", "idObjet": record.numero_interne_facture},
        ],
        key=lambda o: (o["typeObjet"], o["idObjet"]),
    )
    assert (await last_status(rig, commands[0]))["status"] == "submitted"
    refused = await last_status(rig, commands[1])
    assert refused["status"] == "rejected"
    assert [e["code"] for e in refused["errors"]] == ["FACTURE_NOT_AT_OPCO"]


async def test_a_store_out_of_reach_is_retried_then_sent(
    rig: Rig, store: Store, s3_server: S3Server
) -> None:
    d = await submitted(rig, ATLAS, store)
    data = sample_pdf("certificat")
    fichier = await store.put(f"cfa/{d.dossier_id}/certificat.pdf", data)
    command = await rig.send(document(rig, d, "CERTIFICAT_REALISATION", fichier), ATLAS)
    dead = S3Files(s3_server.connection(endpoint=f"http://127.0.0.1:{free_port()}"))
    down = StoreFileOpener(store.policy, dead)
    assert await rig.dispatcher(files=down).run_once() == 1
    status = await last_status(rig, command)
    assert (status["status"], status["reason"]) == ("retrying", "file_store_unavailable")
    assert await rig.state(command) == "pending"
    assert rig.sim.records(opco=ATLAS.value, route="documents") == []
    await rig.settle(rig.dispatcher(files=store.opener))  # the store is back
    assert await rig.state(command) == "done"
    [sent] = rig.sim.documents(opco=ATLAS.value)
    assert sent["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("opco", [ATLAS, OPCOMMERCE])
async def test_a_9_mb_file_is_streamed_with_flat_memory(
    rig: Rig, store: Store, opco: OpcoCode
) -> None:
    """The file is read from S3 and sent in chunks (multipart, or base64 JSON): relais's Python
    allocations while it checks and uploads 9 MB stay a small fraction of the file."""
    d = await submitted(rig, opco, store)
    size = 9 * 1024 * 1024
    data = b"%PDF-1.7\n" + bytes(i % 251 for i in range(size - 9))
    digest = hashlib.sha256(data).hexdigest()
    fichier = await store.put(f"cfa/{d.dossier_id}/gros.pdf", data)
    del data
    command = await rig.send(document(rig, d, "CONVENTION_FORMATION", fichier), opco)
    dispatcher = rig.dispatcher(files=store.opener)
    tracemalloc.start()
    try:
        await rig.settle(dispatcher)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert await rig.state(command) == "done"
    [sent] = rig.sim.documents(opco=opco.value)
    assert (sent["sha256"], sent["size"]) == (digest, size)
    assert peak < size // 3, f"peak {peak} bytes for a {size}-byte file"
