"""What a request to an OPCO carries and what its answer gives back: the JSON body (the exact
bytes of ``wire.encode``), or a streamed body with a file: multipart around those same bytes and
the file where the OPCO's profile takes multipart (``transport``), or, for a document at an OPCO
taking JSON, the JSON with the file in base64 (``base64_json.py``); the answer's JSON, or None."""

from __future__ import annotations

import json as json_module
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import httpx

from relais.adapters.opco.base64_json import Base64JsonBody
from relais.adapters.opco.multipart import MultipartBody
from relais.adapters.opco.routes import Route
from relais.domain import wire
from relais.domain.json_types import Json
from relais.domain.profiles import RouteTransport
from relais.errors import PermanentOpcoError
from relais.services.files_port import FileSource
from relais.services.opco_port import Created

JSON_TYPE = "application/json"
DOCUMENT_ID = "numeroInterneDocument"


class StreamedBody(Protocol):
    """A body sent as a stream of known length (``MultipartBody``, ``Base64JsonBody``)."""

    @property
    def content_type(self) -> str: ...

    @property
    def length(self) -> int: ...

    def stream(self) -> AsyncIterator[bytes]: ...


def multipart_upload(
    opco: str, route: Route, transport: RouteTransport, body: Json, file: FileSource | None
) -> MultipartBody | None:
    """The multipart body of a route the OPCO takes as multipart; None for a JSON route (the
    file, if any, is then not part of the body). A multipart route without a file is refused
    before any call."""
    if not transport.multipart:
        return None
    if file is None:
        raise PermanentOpcoError(
            f"{opco} {route.label} takes a multipart body with the signed file "
            f"(part {transport.file_part}): the event names no file",
            opco=opco,
        )
    check_json(opco, route, body)
    return MultipartBody(transport.json_part, wire.encode(body), transport.file_part, file)


def document_upload(
    opco: str, route: Route, transport: RouteTransport, infos: Json, file: FileSource
) -> StreamedBody:
    """The documents route's body (convergence-api.md 0): multipart ``infosFichier`` + ``fichier``,
    or, where the profile says ``json``, the same JSON with ``nomFichier`` and the file in base64
    (streamed both ways)."""
    check_json(opco, route, infos)
    if transport.multipart:
        return MultipartBody(transport.json_part, wire.encode(infos), transport.file_part, file)
    return Base64JsonBody(infos, file)


def document_created(created: Created) -> Created:
    """A document's answer with its one id: ``numeroInterneDocument`` of a 200, or of the 409
    that names the document already there, found in whatever error shape the OPCO answers in
    (top level, one object or one item of a list down)."""
    found = created.ids.get(DOCUMENT_ID) or _find_id(created.body, depth=0)
    ids = {DOCUMENT_ID: found} if found else {}
    return Created(ids=ids, duplicate=created.duplicate, etat=created.etat, body=created.body)


def _find_id(body: Any, *, depth: int) -> str | None:
    if isinstance(body, Mapping):
        value = body.get(DOCUMENT_ID)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
        items: list[Any] = list(body.values())
    elif isinstance(body, list):
        items = body[:20]
    else:
        return None
    if depth >= 2:
        return None
    return next((found for item in items if (found := _find_id(item, depth=depth + 1))), None)


def request_content(
    payload: Json | StreamedBody | None, headers: Mapping[str, str]
) -> tuple[bytes | AsyncIterator[bytes] | None, dict[str, str]]:
    """The request's body and headers: the exact bytes relais validated and the golden tests pin
    (``wire.encode``: UTF-8, compact; httpx's ``json=`` would re-encode them ASCII-escaped), or a
    stream (multipart around those same bytes and the file; a document's base64 JSON), with its
    length known upfront."""
    if payload is None:
        return None, dict(headers)
    if not isinstance(payload, dict):
        return payload.stream(), {
            **headers,
            "Content-Type": payload.content_type,
            "Content-Length": str(payload.length),
        }
    return wire.encode(payload), {**headers, "Content-Type": JSON_TYPE}


def check_json(name: str, route: Route, body: Json) -> None:
    """A body httpx cannot encode (NaN, Infinity, a non-JSON value) is refused before any call:
    the encoder's TypeError/ValueError must not leave the client."""
    try:
        json_module.dumps(body, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise PermanentOpcoError(
            f"{name} {route.label}: the body is not valid JSON ({type(exc).__name__}: "
            "NaN, Infinity or a non-JSON value)",
            opco=name,
        ) from None


def json_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
