"""The body of a route that may carry a file: JSON, or multipart/form-data per the OPCO's profile
(convergence-api.md 0: part ``convention`` / ``facture`` = the JSON, part ``fichier`` = the signed
PDF). A multipart route refuses a JSON body and the reverse (415), as a real OPCO would; the file's
SHA-256, size, name and media type go to the request record (never its bytes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from relais.domain.json_types import Json
from relais.domain.profiles import RouteTransport
from relais_simulator.records import RequestRecord
from relais_simulator.store import Rejection
from relais_simulator.wire import error_item

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_JSON_PART = 1024 * 1024
MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
CHUNK = 64 * 1024


async def bounded_body(request: Request, max_bytes: int) -> bytes | None:
    """The whole body, read in chunks, or None as soon as it passes ``max_bytes`` (a hostile body
    is not read to its end). Kept as the request's body: the handlers read it again."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # starlette's cache of the body: body(), form() and stream() read it
    return body


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def media_of(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def unsupported(expected: str) -> Rejection:
    return Rejection(
        415,
        f"Type de contenu non supporté: {expected} attendu",
        [error_item("CONTENT_TYPE", "Content-Type", f"{expected} attendu")],
    )


async def read_route_body(request: Request, rec: RequestRecord, transport: RouteTransport) -> Json:
    """The JSON object of the request, from the body or from the profile's JSON part."""
    if not transport.multipart:
        if media_of(request) == "multipart/form-data":
            raise unsupported("application/json")
        return json_body(await request.body())
    form = await read_form(request)
    try:
        body = await read_json_part(form, transport.json_part, rec)
        upload = form.get(transport.file_part)
        if not isinstance(upload, UploadFile):
            raise missing(transport.file_part, "Fichier attendu")
        await _record_file(rec, upload, transport.file_part)
        return body
    finally:
        await form.close()


async def read_form(request: Request) -> FormData:
    """The multipart form (its file parts spooled to disk past 1 MiB); 415 for another type."""
    if media_of(request) != "multipart/form-data":
        raise unsupported("multipart/form-data")
    try:
        return await request.form(max_files=2, max_fields=4, max_part_size=MAX_JSON_PART)
    except (MultiPartException, HTTPException):  # malformed body or over the limits
        raise Rejection(400, "Corps multipart invalide") from None


async def read_json_part(form: FormData, name: str, rec: RequestRecord) -> Json:
    """The JSON object of part ``name`` (its digest recorded as ``jsonSha256``)."""
    raw = form.get(name)
    if isinstance(raw, UploadFile):  # a JSON part sent with a file name: its bytes as sent
        raw_bytes = await raw.read(MAX_JSON_PART + 1)
    elif isinstance(raw, str):
        raw_bytes = raw.encode()  # the part as sent (starlette decoded it as UTF-8)
    else:
        raise missing(name, f"Partie {name} attendue")
    body = json_body(raw_bytes)
    rec.json_sha256 = hashlib.sha256(raw_bytes).hexdigest()
    return body


def missing(champ: str, description: str) -> Rejection:
    return Rejection(400, "Requête invalide", [error_item("CHAMP_OBLIGATOIRE", champ, description)])


def json_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejection(400, "Corps JSON invalide") from None
    if not isinstance(body, dict):
        raise Rejection(
            400, "Requête invalide", [error_item("FORMAT", "body", "Objet JSON attendu")]
        )
    return body


async def _record_file(rec: RequestRecord, upload: UploadFile, part: str) -> None:
    media = (upload.content_type or "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise Rejection(
            400, "Requête invalide", [error_item("FORMAT", part, "pdf, jpg ou png attendu")]
        )
    sha = hashlib.sha256()
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise Rejection(413, "Fichier trop volumineux")
        sha.update(chunk)
    if size == 0:
        raise missing(part, "Fichier vide")
    rec.file_sha256 = sha.hexdigest()
    rec.file_size = size
    rec.file_name = (upload.filename or "")[:200]
    rec.file_media_type = media
