"""The multipart body relais streams to an OPCO: the JSON part keeps the exact bytes of
``wire.encode``, the file is read in chunks from its ``FileSource`` and arrives whole; the
announced length is the length sent."""

from __future__ import annotations

import hashlib
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

from relais.adapters.local_files import CHUNK, LocalFileOpener, file_ref
from relais.adapters.opco.multipart import MultipartBody
from relais.domain import wire
from relais.domain.files import FileRef
from relais.services.files_port import FileUnavailableError


def pdf(tmp_path: Path, size: int = 3 * CHUNK + 17) -> Path:
    path = tmp_path / "facture FAC-1.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(i % 251 for i in range(size)) + b"\n%%EOF\n")
    return path


def parts(content_type: str, raw: bytes) -> list[Message]:
    message = message_from_bytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    assert message.is_multipart()
    payload = message.get_payload()
    assert isinstance(payload, list)
    return payload


async def test_json_part_bytes_and_file_arrive_exactly(tmp_path: Path) -> None:
    path = pdf(tmp_path)
    source = await LocalFileOpener().open(file_ref(path))
    body = {"numero": "FAC-1", "libellé": "Pédagogie", "montantTotal": 1200.5}
    encoded = wire.encode(body)
    upload = MultipartBody("facture", encoded, "fichier", source)
    chunks = [chunk async for chunk in upload.stream()]
    raw = b"".join(chunks)
    assert len(raw) == upload.length
    assert len(chunks) >= 4  # the file came in several chunks, never as one read
    json_part, file_part = parts(upload.content_type, raw)
    assert json_part.get_param("name", header="content-disposition") == "facture"
    assert json_part.get_content_type() == "application/json"
    assert json_part.get_payload(decode=True) == encoded  # not re-encoded, not escaped
    assert file_part.get_param("name", header="content-disposition") == "fichier"
    assert file_part.get_filename() == "facture FAC-1.pdf"
    assert file_part.get_content_type() == "application/pdf"
    data = file_part.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    # a second stream (a retried request) sends the same bytes again
    assert b"".join([c async for c in upload.stream()]) == raw


async def test_a_file_that_differs_from_its_reference_is_refused(tmp_path: Path) -> None:
    path = pdf(tmp_path)
    ref = file_ref(path)
    path.write_bytes(path.read_bytes()[:-1] + b"X")  # same size, other bytes
    with pytest.raises(FileUnavailableError, match="SHA-256"):
        await LocalFileOpener().open(ref)
    path.write_bytes(b"%PDF short")
    with pytest.raises(FileUnavailableError, match="octets"):
        await LocalFileOpener().open(ref)
    path.unlink()
    with pytest.raises(FileUnavailableError, match="introuvable"):
        await LocalFileOpener().open(ref)


async def test_a_file_outside_the_allowed_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    ref = file_ref(pdf(tmp_path))
    with pytest.raises(FileUnavailableError, match="hors du répertoire"):
        await LocalFileOpener(tmp_path / "root").open(ref)


@pytest.mark.parametrize(
    "location", ["relative/file.pdf", "s3://bucket/file.pdf", "/tmp/../etc/passwd", "file://x.pdf"]
)
def test_a_file_ref_is_a_local_absolute_path_for_now(location: str) -> None:
    with pytest.raises(ValueError, match="location"):
        FileRef.model_validate(
            {"location": location, "sha256": "0" * 64, "size": 1, "fileName": "f.pdf"}
        )
