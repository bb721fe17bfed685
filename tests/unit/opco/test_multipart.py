"""The multipart body relais streams to an OPCO: the JSON part keeps the exact bytes of
``wire.encode``, the file is read in chunks from its ``FileSource`` and arrives whole; the
announced length is the length sent."""

from __future__ import annotations

import hashlib
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from relais.adapters.files.local_store import CHUNK
from relais.adapters.opco.multipart import MultipartBody
from relais.domain import wire
from tests.local_files import file_reference, local_opener

CFA = "19350000000011"


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
    source = await local_opener(tmp_path, CFA).open(CFA, file_reference(path))
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
