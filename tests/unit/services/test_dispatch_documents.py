"""The document command (issue 18) and the files of every command, against the Protocol-checked
fakes of the ledger and the gateway and a fake ``CfaFileOpener`` (our seam): objets from the
ledger, the facture waited for or refused, a refused file rejected with its code and no call, a
store out of reach retried, an ambiguous upload resent once and answered by the duplicate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.domain.files import FileReference
from relais.domain.opco import OpcoCode
from relais.errors import AmbiguousOpcoError, RetryableOpcoError
from relais.services.dispatch import Dispatcher
from relais.services.files_port import FileStoreUnavailableError
from relais.services.ledger_port import CommandKind, CommandState
from relais.services.retry import RetryPolicy
from tests.unit.services.fakes import FakeGateway
from tests.unit.services.samples import (
    CFA,
    PDF,
    convention_cmd,
    document_cmd,
    dossier_cmd,
    facture_cmd,
    fichier,
    wrap,
)
from tests.unit.services.test_dispatch import World

AKTO = OpcoCode.AKTO


@dataclass(frozen=True)
class Bytes:
    name: str
    media_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.data


@dataclass
class FakeFiles:
    """A ``CfaFileOpener``: every file is ``PDF`` unless a fault is queued for the next open."""

    faults: list[Exception] = field(default_factory=list)
    opened: list[tuple[str, str]] = field(default_factory=list)

    async def open(self, cfa: str, ref: FileReference) -> Bytes:
        self.opened.append((cfa, ref.location))
        if self.faults:
            raise self.faults.pop(0)
        return Bytes(ref.fileName, ref.mediaType, PDF)


class DocWorld(World):
    def __init__(self, **opts: Any) -> None:
        self.files = FakeFiles()
        super().__init__(**opts)

    def make_dispatcher(self, worker: str) -> Dispatcher:
        return Dispatcher(
            self.ledger,
            self.gateway,
            self.options,
            clock=self.clock,
            worker_id=worker,
            metrics=self.metrics,
            files=self.files,
        )

    def last(self, event_id: str) -> dict[str, Any]:
        bodies = [b for b in self.status_bodies() if b.get("eventId") == event_id]
        return bodies[-1]


def infos(w: DocWorld) -> list[Any]:
    return w.gateway.calls_to("submit_document")


async def test_a_document_names_its_dossier_by_numero_interne() -> None:
    w = DocWorld()
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    await w.run_until_quiet()
    assert infos(w) == [
        {
            "typeFichier": "CONVENTION_REDUCTION_DUREE",
            "objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "NI000001"}],
        }
    ]
    body = w.last("e2")
    assert body["status"] == "submitted" and body["kind"] == "document"
    assert body["numeroInterneDocument"] == "DO000002"
    assert w.files.opened == [(CFA, "s3://cfa-docs/reduction.pdf")]


async def test_a_document_for_a_facture_names_its_numero_interne_facture() -> None:
    w = DocWorld()
    await w.accept(dossier_cmd("e1", "D1"), facture_cmd("e2", ["D1"], reference="FAC-7"))
    await w.accept(document_cmd("e3", "D1", type_fichier="FACTURE", reference="FAC-7"))
    await w.run_until_quiet()
    [sent] = infos(w)
    assert sent["objets"] == [
        {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "NI000001"},
        {"typeObjet": "FACTURE", "idObjet": "FA000002"},
    ]
    assert w.state("e3") is CommandState.DONE


async def test_a_facture_never_submitted_is_a_clear_rejection() -> None:
    w = DocWorld()
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1", reference="FAC-404"))
    await w.run_until_quiet()
    body = w.last("e2")
    assert body["status"] == "rejected"
    assert [(e["code"], e["path"]) for e in body["errors"]] == [
        ("FACTURE_NOT_AT_OPCO", "data.referenceFactureCFA")
    ]
    assert infos(w) == [] and w.files.opened == []


async def test_an_opco_without_the_documents_route_rejects_before_any_call() -> None:
    w = DocWorld()
    w.gateway = FakeGateway(unsupported={(AKTO, "documents")})
    w.dispatcher = w.make_dispatcher("w1")
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    await w.run_until_quiet()
    body = w.last("e2")
    assert body["status"] == "rejected"
    assert [e["code"] for e in body["errors"]] == ["OPCO_ROUTE_UNSUPPORTED"]
    assert infos(w) == [] and w.files.opened == []


async def test_a_refused_file_is_rejected_with_its_code_and_path_and_no_call() -> None:
    w = DocWorld()
    w.gateway.multipart.add((AKTO, "conventions"))
    await w.accept(dossier_cmd("e1", "D1"))
    await w.run_until_quiet()
    codes = [FileCode.HASH_MISMATCH, FileCode.LOCATION_FORBIDDEN, FileCode.TYPE_UNSUPPORTED]
    for code in codes:
        w.files.faults.append(FileRefusedError(code, "reduction.pdf : refusé"))
    await w.accept(document_cmd("e2", "D1"), document_cmd("e3", "D1"))
    convention = convention_cmd("e4", "D1")
    data = {**convention.payload.to_json()["data"], "fichier": fichier(name="convention.pdf")}
    await w.accept(replace(convention, payload=wrap(CommandKind.CONVENTION, data)))
    await w.run_until_quiet()
    found = [w.last(e)["errors"][0] for e in ("e2", "e3", "e4")]
    assert [(f["code"], f["path"]) for f in found] == [
        ("FILE_HASH_MISMATCH", "data.fichier"),
        ("FILE_LOCATION_FORBIDDEN", "data.fichier"),
        ("FILE_TYPE_UNSUPPORTED", "data.fichier"),
    ]
    assert all(w.last(e)["status"] == "rejected" for e in ("e2", "e3", "e4"))
    assert infos(w) == [] and w.gateway.calls_to("submit_convention") == []


async def test_a_store_out_of_reach_is_retried_never_lost() -> None:
    w = DocWorld(policy=RetryPolicy.instant())
    w.files.faults.append(FileStoreUnavailableError("s3: unreachable (ConnectError)"))
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    await w.run_until_quiet()
    bodies = [b for b in w.status_bodies() if b.get("eventId") == "e2"]
    assert [b["status"] for b in bodies] == ["retrying", "submitted"]
    assert bodies[0]["reason"] == "file_store_unavailable"
    assert len(infos(w)) == 1


async def test_a_document_waits_behind_its_dossiers_retrying_submission() -> None:
    w = DocWorld()
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    w.gateway.fail_next("submit_dossier", RetryableOpcoError("503", status=503, retry_after=60))
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.PENDING and w.state("e2") is CommandState.PENDING
    assert infos(w) == [] and w.files.opened == []
    w.clock.advance(w.options.retry.timeout / 100)
    await w.run_until_quiet()
    assert w.state("e1") is CommandState.DONE and w.state("e2") is CommandState.DONE
    assert infos(w)[0]["objets"][0]["idObjet"] == "NI000001"


async def test_an_ambiguous_upload_is_resent_once_and_the_duplicate_means_done() -> None:
    w = DocWorld(policy=RetryPolicy.instant())
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    w.gateway.fail_next("submit_document", AmbiguousOpcoError("timeout"), applied=True)
    await w.run_until_quiet()
    assert w.state("e2") is CommandState.DONE
    assert len(infos(w)) == 2 and w.gateway.created["submit_document"] == 1
    body = w.last("e2")
    assert body["reason"] == "already_at_opco" and body["numeroInterneDocument"]


@dataclass(frozen=True)
class Failing(Bytes):
    """A source whose stream fails after its first chunk (the store's bytes changed since they
    were checked, or the store went away mid-upload)."""

    error: Exception | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.data[:10]
        raise self.error or FileStoreUnavailableError("s3: unreachable")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (FileRefusedError(FileCode.HASH_MISMATCH, "reduction.pdf : diffère"), "rejected"),
        (FileStoreUnavailableError("s3: unreachable (ConnectError)"), "retrying"),
    ],
)
async def test_a_failure_mid_upload_is_a_refusal_or_a_retry(error: Exception, status: str) -> None:
    w = DocWorld()

    async def failing_open(cfa: str, ref: FileReference) -> Bytes:
        return Failing(ref.fileName, ref.mediaType, PDF, error)

    w.files.open = failing_open  # type: ignore[method-assign]
    await w.accept(dossier_cmd("e1", "D1"), document_cmd("e2", "D1"))
    await w.run_until_quiet()
    body = w.last("e2")
    assert body["status"] == status
    assert w.gateway.created["submit_document"] == 0
    if status == "retrying":
        assert body["reason"] == "file_store_unavailable"
        assert w.state("e2") is CommandState.PENDING and not w.command("e2").ambiguous
    else:
        assert body["errors"][0]["code"] == "FILE_HASH_MISMATCH"
