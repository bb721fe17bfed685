"""The body of ``POST /v1/documents`` in the OPCO profile's transport (convergence-api.md 0):

    multipart  part ``infosFichier`` = {typeFichier, objets}, part ``fichier`` = the file (its name
               and media type on the part), read in chunks from the spooled part
    json       the same object plus ``fichier`` (base64) and ``nomFichier`` (older notes, B)

The file must keep to the profile's ``DocumentLimits``: at most ``max_bytes`` (else 400
``TAILLE_FICHIER``, found without reading past the limit), and its first bytes one of
``media_types`` (else 400 ``FORMAT_FICHIER``: an executable renamed ``.pdf`` is refused; a
declared media type that contradicts the bytes too). The file's SHA-256, size, name and media type
go to the request record, its bytes to the books only."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request

from relais.domain.file_checks import SNIFF_BYTES, sniff
from relais.domain.json_types import Json
from relais.domain.profiles import DocumentLimits, RouteTransport
from relais_simulator.documents import ReceivedFile
from relais_simulator.records import RequestRecord
from relais_simulator.rejection import Rejection
from relais_simulator.uploads import (
    CHUNK,
    json_body,
    media_of,
    missing,
    read_form,
    read_json_part,
    unsupported,
)
from relais_simulator.wire import error_item

MAX_NAME = 200
UNDECLARED = frozenset({"", "application/octet-stream"})


@dataclass(frozen=True, slots=True)
class DocumentUpload:
    infos: Json  # {typeFichier, objets}, not yet checked
    file: ReceivedFile


async def read_document(
    request: Request, rec: RequestRecord, transport: RouteTransport, limits: DocumentLimits
) -> DocumentUpload:
    """The document's infos and file, checked against the limits and recorded by digest."""
    if transport.multipart:
        upload = await _read_multipart(request, rec, transport, limits)
    else:
        upload = await _read_json(request, transport, limits)
    f = upload.file
    rec.file_sha256, rec.file_size = f.sha256, f.size
    rec.file_name, rec.file_media_type = f.name, f.media_type
    return upload


async def _read_multipart(
    request: Request, rec: RequestRecord, transport: RouteTransport, limits: DocumentLimits
) -> DocumentUpload:
    form = await read_form(request)
    try:
        infos = await read_json_part(form, transport.json_part, rec)
        part = form.get(transport.file_part)
        if not isinstance(part, UploadFile):
            raise missing(transport.file_part, "Fichier attendu")
        content = await _read_bounded(part, limits.max_bytes, transport.file_part)
        declared = (part.content_type or "").split(";", 1)[0].strip().lower()
        file = received(content, part.filename, declared, limits, transport.file_part)
        return DocumentUpload(infos, file)
    finally:
        await form.close()


async def _read_bounded(part: UploadFile, max_bytes: int, champ: str) -> bytes:
    """The part's bytes, read in chunks; refused as soon as they pass ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(champ, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_json(
    request: Request, transport: RouteTransport, limits: DocumentLimits
) -> DocumentUpload:
    if media_of(request) == "multipart/form-data":
        raise unsupported("application/json")
    champ = transport.file_part
    raw = await request.body()
    if len(raw) > _base64_length(limits.max_bytes) + 64 * 1024:  # the file and its infos
        raise too_large(champ, limits.max_bytes)
    infos = json_body(raw)
    encoded, name = infos.pop(champ, None), infos.pop("nomFichier", None)
    if not isinstance(encoded, str) or not encoded:
        raise missing(champ, "Fichier en base64 attendu")
    if not isinstance(name, str) or not name.strip():
        raise missing("nomFichier", "Nom du fichier attendu")
    if len(encoded) > _base64_length(limits.max_bytes):
        raise too_large(champ, limits.max_bytes)
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise Rejection(
            400, "Requête invalide", [error_item("FORMAT", champ, "Base64 invalide")]
        ) from None
    if len(content) > limits.max_bytes:
        raise too_large(champ, limits.max_bytes)
    return DocumentUpload(infos, received(content, name, "", limits, champ))


def _base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def received(
    content: bytes, name: str | None, declared: str, limits: DocumentLimits, champ: str
) -> ReceivedFile:
    """The file once its type is known from its first bytes (and agrees with its declaration)."""
    if not content:
        raise missing(champ, "Fichier vide")
    media = sniff(content[:SNIFF_BYTES])
    if media is None or media not in limits.media_types or declared not in UNDECLARED | {media}:
        accepted = ", ".join(t.split("/")[1] for t in limits.media_types)
        raise Rejection(
            400,
            "Format de fichier non accepté",
            [error_item("FORMAT_FICHIER", champ, f"Contenu {accepted} attendu")],
        )
    clean = "".join(ch for ch in (name or "").strip() if ch.isprintable())[:MAX_NAME]
    return ReceivedFile(content, hashlib.sha256(content).hexdigest(), clean or "fichier", media)


def too_large(champ: str, max_bytes: int) -> Rejection:
    return Rejection(
        400,
        "Fichier trop volumineux",
        [error_item("TAILLE_FICHIER", champ, f"{max_bytes} octets au plus")],
    )
