"""``POST /v1/documents`` in process (no sockets): the books' duplicate key and byte budget, the
file's type by its bytes, and the route per profile transport (JSON at OCAPIAT, multipart at
ATLAS), its refusals in the profile's error shape, the admin API's view of what was stored."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from relais.domain.opco import OpcoCode
from relais.domain.profiles import DocumentLimits
from relais.sampledata.pdfs import sample_pdf
from relais_simulator.app import create_app
from relais_simulator.auth import CfaKey, OAuthClient
from relais_simulator.cerfa_facts import natural_key
from relais_simulator.config import SimulatorConfig
from relais_simulator.convergence import app as convergence_app
from relais_simulator.document_uploads import received
from relais_simulator.documents import DocumentShelf, ReceivedFile
from relais_simulator.rejection import Rejection
from relais_simulator.state import Simulator
from tests.unit.simulator.test_store import CFA, OTHER_CFA, cerfa

PDF = sample_pdf("convention signee")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
ADMIN = {"Authorization": "Bearer admin"}
SOFTWARE = {"EDITEUR": "e", "LOGICIEL": "l", "VERSION": "1"}
OCAPIAT_URL = "/OCAPIAT/ApiEchangeCFA/v1/documents"
ATLAS_URL = "/ATLAS/SorApiEchangeCFA/v1/documents"


def file_of(content: bytes, name: str = "f.pdf") -> ReceivedFile:
    return ReceivedFile(content, hashlib.sha256(content).hexdigest(), name, "application/pdf")


def shelf(max_kept_bytes: int = 1 << 20) -> DocumentShelf:
    counter = itertools.count(1)
    return DocumentShelf(lambda: f"D{next(counter)}", max_kept_bytes)


# ---- the books --------------------------------------------------------------------------------


def test_a_document_is_the_same_by_cfa_type_objets_and_digest() -> None:
    books = shelf()
    dossier = frozenset({("DOSSIER_APPRENTISSAGE", "1000001")})
    both = dossier | {("FACTURE", "2000001")}
    first = books.add(CFA, "CONVENTION_FORMATION", dossier, file_of(PDF), 0.0)
    with pytest.raises(Rejection) as exc:
        books.add(CFA, "CONVENTION_FORMATION", frozenset(dossier), file_of(PDF), 1.0)
    assert exc.value.status == 409
    assert exc.value.ids == {"numeroInterneDocument": first.numero_interne_document}
    others = [
        books.add(CFA, "CONVENTION_MOBILITE", dossier, file_of(PDF), 0.0),  # another type
        books.add(CFA, "CONVENTION_FORMATION", both, file_of(PDF), 0.0),  # other objets
        books.add(CFA, "CONVENTION_FORMATION", dossier, file_of(PDF + b" "), 0.0),  # other file
        books.add(OTHER_CFA, "CONVENTION_FORMATION", dossier, file_of(PDF), 0.0),  # other CFA
    ]
    ids = {d.numero_interne_document for d in [first, *others]}
    assert len(ids) == 5 and len(books) == 5
    assert books.get(first.numero_interne_document) is first


def test_the_oldest_bytes_go_past_the_budget_and_the_digest_stays() -> None:
    books = shelf(max_kept_bytes=250)
    objets = frozenset({("DOSSIER_APPRENTISSAGE", "1")})
    docs = [books.add(CFA, "FACTURE", objets, file_of(bytes([n]) * 100), 0.0) for n in range(3)]
    assert [d.content is not None for d in docs] == [False, True, True]
    assert docs[0].sha256 == hashlib.sha256(b"\x00" * 100).hexdigest() and docs[0].size == 100
    with pytest.raises(Rejection):  # still a duplicate without its bytes
        books.add(CFA, "FACTURE", objets, file_of(b"\x00" * 100), 0.0)


def test_the_type_comes_from_the_bytes_not_the_name_nor_the_part() -> None:
    limits = DocumentLimits()
    assert received(PNG, "scan.png", "image/png", limits, "fichier").media_type == "image/png"
    assert received(PDF, "c.pdf", "", limits, "fichier").media_type == "application/pdf"
    for content, declared in ((ELF, "application/pdf"), (PDF, "image/png"), (b"MZ\x90", "")):
        with pytest.raises(Rejection) as exc:
            received(content, "c.pdf", declared, limits, "fichier")
        assert exc.value.status == 400
        assert exc.value.errors[0]["code"] == "FORMAT_FICHIER"
    only_pdf = DocumentLimits(media_types=("application/pdf",))
    with pytest.raises(Rejection):
        received(PNG, "scan.png", "image/png", only_pdf, "fichier")
    with pytest.raises(Rejection) as exc:
        received(b"", "vide.pdf", "", limits, "fichier")
    assert exc.value.errors[0]["champ"] == "fichier"
    odd = received(PDF, "a\x00b\n" + "x" * 300, "", limits, "fichier").name
    assert odd.startswith("abx") and len(odd) == 200


# ---- the route, in process ----------------------------------------------------------------


@pytest.fixture
async def app_client() -> AsyncIterator[tuple[Simulator, httpx.AsyncClient]]:
    config = SimulatorConfig(
        admin_token="admin",
        start_date=date(2026, 11, 27),
        keys=[
            CfaKey(siret, code, f"k-{code.value}-{siret}", date(2099, 1, 1))
            for code in (OpcoCode.OCAPIAT, OpcoCode.ATLAS, OpcoCode.SANTE)
            for siret in (CFA, OTHER_CFA)
        ],
        oauth_clients=[OAuthClient(OpcoCode.ATLAS, "c", "s")],
        use_rules=False,
    )
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as c:
        yield app.state.simulator, c


def dossier_at(sim: Simulator, opco: OpcoCode, siret: str = CFA) -> str:
    c = cerfa()
    key = natural_key(c)
    assert key is not None
    return sim.store(opco).create_dossier(siret, key, c, 0.0, "v1").numero_interne


def headers(opco: OpcoCode, siret: str = CFA) -> dict[str, str]:
    return {**SOFTWARE, "X-API-KEY": f"k-{opco.value}-{siret}"}


def infos(numero: str, type_fichier: str = "CONVENTION_FORMATION") -> dict[str, Any]:
    return {
        "typeFichier": type_fichier,
        "objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero}],
    }


def as_json(info: dict[str, Any], content: bytes = PDF, name: str = "c.pdf") -> dict[str, Any]:
    return {**info, "fichier": base64.b64encode(content).decode(), "nomFichier": name}


async def test_json_documents_at_a_json_opco(
    app_client: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = app_client
    numero = dossier_at(sim, OpcoCode.OCAPIAT)
    body = as_json(infos(numero), name="convention signée.pdf")
    first = await client.post(OCAPIAT_URL, json=body, headers=headers(OpcoCode.OCAPIAT))
    assert first.status_code == 200, first.text
    ident = first.json()["numeroInterneDocument"]
    again = await client.post(OCAPIAT_URL, json=body, headers=headers(OpcoCode.OCAPIAT))
    assert again.status_code == 409
    assert again.json()["numeroInterneDocument"] == ident
    assert set(again.json()) == {"message", "errors", "numeroInterneDocument"}  # its shape
    record = next(r for r in sim.records if r.route == "documents")
    assert record.to_json()["file"] == {
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "name": "convention signée.pdf",
        "mediaType": "application/pdf",
    }
    assert record.ids == {"numeroInterneDossier": numero, "numeroInterneDocument": ident}
    assert base64.b64encode(PDF).decode()[:40] not in json.dumps(record.to_json())
    listed = await client.get("/_admin/documents", params={"opco": "OCAPIAT"}, headers=ADMIN)
    (doc,) = listed.json()["documents"]
    assert doc["numeroInterneDocument"] == ident and doc["fileName"] == "convention signée.pdf"
    content = await client.get(f"/_admin/documents/OCAPIAT/{ident}/content", headers=ADMIN)
    assert content.content == PDF and content.headers["content-type"] == "application/pdf"


@pytest.mark.parametrize(
    ("change", "status", "champ"),
    [
        ({"typeFichier": "CONTRAT"}, 400, "typeFichier"),
        ({"typeFichier": None}, 400, "typeFichier"),
        ({"objets": []}, 400, "objets"),
        ({"objets": [{"typeObjet": "dossier", "idObjet": "1"}]}, 400, "objets[0].typeObjet"),
        ({"objets": [{"typeObjet": "FACTURE", "idObjet": "9999999"}]}, 404, "objets"),
        ({"objets": [{"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": "x" * 65}]}, 400, None),
        ({"fichier": "%%% pas du base64"}, 400, "fichier"),
        ({"nomFichier": None}, 400, "nomFichier"),
    ],
)
async def test_json_refusals(
    app_client: tuple[Simulator, httpx.AsyncClient],
    change: dict[str, Any],
    status: int,
    champ: str | None,
) -> None:
    sim, client = app_client
    body = {**as_json(infos(dossier_at(sim, OpcoCode.OCAPIAT))), **change}
    r = await client.post(OCAPIAT_URL, json=body, headers=headers(OpcoCode.OCAPIAT))
    assert r.status_code == status, r.text
    if champ is not None:
        assert r.json()["errors"][0]["champ"] == champ
    assert len(sim.store(OpcoCode.OCAPIAT).documents) == 0


async def test_another_cfas_dossier_is_unknown_and_a_route_missing_is_501(
    app_client: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = app_client
    theirs = dossier_at(sim, OpcoCode.OCAPIAT, OTHER_CFA)
    r = await client.post(
        OCAPIAT_URL, json=as_json(infos(theirs)), headers=headers(OpcoCode.OCAPIAT)
    )
    assert r.status_code == 404
    sante = await client.post(
        "/SANTE/ApiEchangeCFA/v1/documents",
        json=as_json(infos("1")),
        headers=headers(OpcoCode.SANTE),
    )
    assert sante.status_code == 501  # its profile has no documents route


async def atlas_headers(client: httpx.AsyncClient) -> dict[str, str]:
    grant = {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}
    issued = await client.post(
        "/ATLAS/SorApiIdentityServer/connect/token", data={**grant, "scope": "api.read api.write"}
    )
    token = issued.json()["access_token"]
    return {**headers(OpcoCode.ATLAS), "Authorization": f"Bearer {token}"}


async def test_multipart_documents_at_a_multipart_opco(
    app_client: tuple[Simulator, httpx.AsyncClient],
) -> None:
    sim, client = app_client
    numero = dossier_at(sim, OpcoCode.ATLAS)
    auth = await atlas_headers(client)
    raw = json.dumps(infos(numero, "CERTIFICAT_REALISATION")).encode()
    parts = {
        "infosFichier": (None, raw, "application/json"),
        "fichier": ("s.png", PNG, "image/png"),
    }
    first = await client.post(ATLAS_URL, files=parts, headers=auth)
    assert first.status_code == 200, first.text
    again = await client.post(ATLAS_URL, files=parts, headers=auth)
    assert again.status_code == 409
    assert again.json()["numeroInterneDocument"] == first.json()["numeroInterneDocument"]
    assert set(again.json()) == {"description", "numeroInterneDocument"}  # ATLAS's shape
    record = next(r for r in sim.records if r.route == "documents")
    assert record.json_sha256 == hashlib.sha256(raw).hexdigest()
    assert (record.file_media_type, record.file_size) == ("image/png", len(PNG))
    as_json_body = await client.post(ATLAS_URL, json=as_json(infos(numero)), headers=auth)
    assert as_json_body.status_code == 415  # multipart only at ATLAS
    elf = {**parts, "fichier": ("c.pdf", ELF, "application/pdf")}
    refused = await client.post(ATLAS_URL, files=elf, headers=auth)
    assert refused.status_code == 400
    assert "fichier: Contenu pdf, png, jpeg attendu" in refused.json()["description"]
    assert len(sim.store(OpcoCode.ATLAS).documents) == 1


async def test_a_body_past_the_cap_is_refused_unread_and_recorded(
    app_client: tuple[Simulator, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, client = app_client
    monkeypatch.setattr(convergence_app, "MAX_BODY_BYTES", 4096)
    numero = dossier_at(sim, OpcoCode.OCAPIAT)
    small = as_json(infos(numero))
    assert len(json.dumps(small)) < 4096
    ok = await client.post(OCAPIAT_URL, json=small, headers=headers(OpcoCode.OCAPIAT))
    assert ok.status_code == 200, ok.text

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(10):
            yield b"x" * 1024

    for content in (b"x" * 5000, chunked()):
        r = await client.post(OCAPIAT_URL, content=content, headers=headers(OpcoCode.OCAPIAT))
        assert r.status_code == 413
    records = [r for r in sim.records if r.route == "documents"]
    assert [(r.status, r.outcome, r.body_sha256 is None) for r in records] == [
        (200, "created", False),
        (413, "rejected", True),
        (413, "rejected", True),
    ]
