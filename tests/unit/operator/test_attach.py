"""``relais send --attach`` before Kafka: what a file is (size, SHA-256, type by its bytes),
refused before anything is copied; where it is stored for a CFA (its local directory, inline),
checked by the gate dispatch uses; the document event that names it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relais.domain.document_event import TYPES_FICHIER
from relais.domain.events import DocumentSubmittedData, parse_structured
from relais.domain.file_checks import FileLimits
from relais.domain.file_policy import CfaFileAccess, FilePolicy
from relais.domain.file_refusals import FileCode, FileRefusedError
from relais.entrypoints.commands import send as send_command
from relais.operator.attach import Attachment, describe, document_event, signed, store
from relais.operator.kafka_io import OutRecord
from relais.sampledata.pdfs import sample_pdf
from relais.services.ingest.signature import verify

CFA = "52880483402584"
PDF = sample_pdf("reduction-duree-D-1")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_pdf_is_described_by_its_bytes(tmp_path: Path) -> None:
    facts = describe(_file(tmp_path, "réduction durée.pdf", PDF), FileLimits())
    assert (facts.size, facts.sha256) == (len(PDF), hashlib.sha256(PDF).hexdigest())
    assert (facts.media_type, facts.file_name) == ("application/pdf", "r-duction-dur-e.pdf")


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 100, FileCode.TYPE_UNSUPPORTED),
        ("tool.pdf", b"\x7fELF" + b"\x00" * 100, FileCode.TYPE_UNSUPPORTED),
        ("image.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, FileCode.TYPE_UNSUPPORTED),
        ("big.pdf", PDF + b"x" * 2000, FileCode.TOO_LARGE),
    ],
)
def test_a_file_relais_would_refuse_is_refused_before_it_is_stored(
    tmp_path: Path, name: str, data: bytes, code: FileCode
) -> None:
    with pytest.raises(FileRefusedError) as refused:
        describe(_file(tmp_path, name, data), FileLimits(max_bytes=len(PDF) + 1000))
    assert refused.value.file_code is code


def _stored(tmp_path: Path, policy: FilePolicy, facture: str | None = None) -> tuple[Path, dict]:
    source = _file(tmp_path, "reduction.pdf", PDF)
    attachment = Attachment(source, "CONVENTION_REDUCTION_DUREE", "D/1", CFA, facture)
    ref = asyncio.run(store(attachment, describe(source, policy.limits), policy, None))
    return source, document_event(attachment, ref, NOW)


def test_stored_under_the_cfa_s_local_directory_and_named_by_its_event(tmp_path: Path) -> None:
    base = tmp_path / "files"
    policy = FilePolicy(local_base=str(base))
    _, event = _stored(tmp_path, policy, facture="FAC-1")
    parsed = parse_structured(event)
    data = parsed.data
    assert isinstance(data, DocumentSubmittedData)
    assert (parsed.dossier_id, parsed.envelope.source) == ("D/1", f"urn:siret:{CFA}")
    assert data.referenceFactureCFA == "FAC-1"
    path = Path(data.fichier.location.removeprefix("file://"))
    assert path.is_relative_to(base / CFA) and path.read_bytes() == PDF
    assert data.fichier.sha256 == hashlib.sha256(PDF).hexdigest()
    policy.authorize(CFA, data.fichier)  # what dispatch's gate says
    assert not list(path.parent.glob(".*.part"))  # no partial copy left


def test_inline_when_the_cfa_has_only_that(tmp_path: Path) -> None:
    policy = FilePolicy(cfas={CFA: CfaFileAccess(inline=True)})
    _, event = _stored(tmp_path, policy)
    location = event["data"]["fichier"]["location"]
    assert location == "data:application/pdf;base64," + base64.b64encode(PDF).decode()


def test_no_store_granted_is_a_refusal_and_nothing_is_written(tmp_path: Path) -> None:
    policy = FilePolicy(cfas={"11111111111111": CfaFileAccess(inline=True)})
    with pytest.raises(FileRefusedError) as refused:
        _stored(tmp_path, policy)
    assert refused.value.file_code is FileCode.LOCATION_FORBIDDEN
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["reduction.pdf"]


def test_the_signature_is_the_one_ingest_verifies() -> None:
    record = OutRecord(b"D-1", b'{"a":1}', [("ce_id", b"e-1"), ("ce_source", CFA.encode())])
    headers = dict(signed(record, "s3cret").headers)
    text = {k: v.decode() for k, v in headers.items()}
    assert verify("s3cret", text, b'{"a":1}', text["ce_signature"])
    assert not verify("other", text, b'{"a":1}', text["ce_signature"])


def test_the_cli_lists_every_type_fichier() -> None:
    assert send_command.TYPES_FICHIER == TYPES_FICHIER


BOTH = ["--dossier", "D-1", "--cfa", CFA]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["send"], "give FILE, or --attach FILE"),
        (["send", "--attach", "{pdf}", "--cfa", CFA], "missing --type-fichier, --dossier"),
        (
            ["send", "{pdf}", "--attach", "{pdf}", "--type-fichier", "FACTURE", *BOTH],
            "FILE and --attach together",
        ),
    ],
)
def test_usage_errors_are_said_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    from relais.entrypoints.cli import main

    pdf = str(_file(tmp_path, "a.pdf", PDF))
    with pytest.raises(SystemExit) as done:
        main([a.replace("{pdf}", pdf) for a in argv])
    assert done.value.code == 2
    assert said in capsys.readouterr().err
