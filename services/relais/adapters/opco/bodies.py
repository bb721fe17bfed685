"""What a request to an OPCO carries and what its answer gives back: the JSON body (the exact
bytes of ``wire.encode``), or a multipart body around those same bytes and the file where the
OPCO's profile takes multipart (``transport``); the answer's JSON, or None."""

from __future__ import annotations

import json as json_module
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from relais.adapters.opco.multipart import MultipartBody
from relais.adapters.opco.routes import Route
from relais.domain import wire
from relais.domain.json_types import Json
from relais.domain.profiles import RouteTransport
from relais.errors import PermanentOpcoError
from relais.services.files_port import FileSource

JSON_TYPE = "application/json"


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


def request_content(
    payload: Json | MultipartBody | None, headers: Mapping[str, str]
) -> tuple[bytes | AsyncIterator[bytes] | None, dict[str, str]]:
    """The request's body and headers: the exact bytes relais validated and the golden tests pin
    (``wire.encode``: UTF-8, compact; httpx's ``json=`` would re-encode them ASCII-escaped), or a
    multipart stream around those same bytes and the file, with its length known upfront."""
    if payload is None:
        return None, dict(headers)
    if isinstance(payload, MultipartBody):
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
