"""``POST /v1/documents`` by the OPCO client (over httpx.MockTransport): multipart ``infosFichier``
+ ``fichier`` or JSON with the file in base64, as the profile's ``transport.documents`` says,
both streamed; 200 and the 409 of a document already there (in each error shape) give
``numeroInterneDocument``."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email import message_from_bytes
from typing import Any

import httpx
import pytest

from relais.adapters.opco.base64_json import Base64JsonBody
from relais.domain import wire
from relais.domain.opco import OpcoCode
from relais.domain.profiles import RouteTransport, TransportProfile
from relais.errors import NotSupportedError
from tests.unit.opco.conftest import CFA, GatewayFactory, reply

INFOS = {
    "typeFichier": "CONVENTION_REDUCTION_DUREE",
    "objets": [
        {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "N-1"},
        {"typeObjet": "FACTURE", "idObjet": "F-9"},
    ],
}
PDF = b"%PDF-1.7\n" + bytes(i % 253 for i in range(200_003))


@dataclass
class Source:
    """A ``FileSource`` handing its bytes in uneven chunks; counts how often it was read."""

    data: bytes
    chunk: int = 65_537
    name: str = "réduction durée.pdf"
    media_type: str = "application/pdf"
    reads: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    async def chunks(self) -> AsyncIterator[bytes]:
        self.reads += 1
        for start in range(0, len(self.data), self.chunk):
            yield self.data[start : start + self.chunk]


def transport(kind: str) -> dict[OpcoCode, dict[str, Any]]:
    documents = RouteTransport(kind=kind, json_part="infosFichier")  # type: ignore[arg-type]
    return {OpcoCode.OPCOEP: {"transport": TransportProfile(documents=documents)}}


async def test_multipart_infos_and_file_streamed(make_gateway: GatewayFactory) -> None:
    gateway, recorder, _ = make_gateway(
        lambda r: reply(200, {"numeroInterneDocument": "DOC-1"}),
        profile_overrides=transport("multipart"),
    )
    created = await gateway.submit_document(CFA, OpcoCode.OPCOEP, INFOS, Source(PDF))
    assert created.ids == {"numeroInterneDocument": "DOC-1"} and not created.duplicate
    (request,) = recorder.requests
    assert recorder.paths() == ["POST /OPCOEP/v1/documents"]
    assert int(request.headers["Content-Length"]) == len(request.content)
    message = message_from_bytes(
        f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode() + request.content
    )
    infos, fichier = message.get_payload()  # type: ignore[misc]
    assert infos.get_param("name", header="content-disposition") == "infosFichier"
    assert infos.get_payload(decode=True) == wire.encode(INFOS)
    assert fichier.get_param("name", header="content-disposition") == "fichier"
    assert fichier.get_content_type() == "application/pdf"
    assert fichier.get_payload(decode=True) == PDF


@pytest.mark.parametrize("size", [1, 2, 3, 4, 65_537, 200_003])
async def test_json_variant_carries_the_file_in_base64(
    make_gateway: GatewayFactory, size: int
) -> None:
    gateway, recorder, _ = make_gateway(
        lambda r: reply(200, {"numeroInterneDocument": "DOC-2"}),
        profile_overrides=transport("json"),
    )
    data = PDF[:size]
    created = await gateway.submit_document(CFA, OpcoCode.OPCOEP, INFOS, Source(data, chunk=7001))
    assert created.ids == {"numeroInterneDocument": "DOC-2"}
    (request,) = recorder.requests
    assert request.headers["Content-Type"] == "application/json"
    assert int(request.headers["Content-Length"]) == len(request.content)
    body = json.loads(request.content)
    assert body == {**INFOS, "nomFichier": "réduction durée.pdf", "fichier": body["fichier"]}
    assert base64.b64decode(body["fichier"], validate=True) == data


async def test_json_variant_memory_stays_bounded() -> None:
    """A 10 MiB file (the profile's limit) goes out in pieces of about one chunk: the body never
    holds the file (nor its base64) whole."""
    big = Source(b"%PDF-1.7\n" + bytes(10 * 1024 * 1024 - 9), chunk=256 * 1024)
    body = Base64JsonBody(INFOS, big)
    sizes: list[int] = []
    digest = hashlib.sha256()
    async for piece in body.stream():
        sizes.append(len(piece))
        digest.update(piece)
    assert sum(sizes) == body.length
    assert max(sizes) <= 4 * (256 * 1024 + 2) // 3 + 4  # one chunk's base64, never the file's
    assert len(sizes) > 40


@pytest.mark.parametrize(
    "answer",
    [
        {
            "errors": [{"code": "DOUBLON", "description": "déjà reçu"}],
            "numeroInterneDocument": "D7",
        },
        {"Description": "Document déjà reçu", "numeroInterneDocument": "D7"},
        [{"comment": "déjà reçu", "numeroInterneDocument": "D7"}],
        {"message": "doublon", "errors": [{"code": "DOUBLON", "numeroInterneDocument": "D7"}]},
    ],
)
async def test_a_duplicate_409_gives_the_existing_id(
    make_gateway: GatewayFactory, answer: Any
) -> None:
    gateway, _, _ = make_gateway(lambda r: reply(409, answer), profile_overrides=transport("json"))
    created = await gateway.submit_document(CFA, OpcoCode.OPCOEP, INFOS, Source(PDF))
    assert created.duplicate and created.ids == {"numeroInterneDocument": "D7"}


async def test_no_documents_route_no_call(make_gateway: GatewayFactory) -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    gateway, recorder, _ = make_gateway(never)
    source = Source(PDF)
    with pytest.raises(NotSupportedError):
        await gateway.submit_document(CFA, OpcoCode.SANTE, INFOS, source)
    assert recorder.requests == [] and source.reads == 0
