"""The committed OpenAPI document is exactly what the code generates, and covers every route."""

from __future__ import annotations

import json

from relais.domain.opco import OpcoCode
from relais_simulator.openapi import build_openapi, default_path, render
from relais_simulator.routes import ROUTES


def test_committed_document_matches_the_code() -> None:
    committed = default_path().read_text(encoding="utf-8")
    assert committed == render(), "run: python -m relais_simulator.openapi"


def test_every_route_is_documented_in_both_versions() -> None:
    doc = build_openapi()
    assert doc["openapi"].startswith("3.0.")
    for version in ("v1", "v2"):
        for route in ROUTES:
            operation = doc["paths"][f"/{version}/{route.path}"][route.method.lower()]
            assert "501" in operation["responses"]
            assert operation["operationId"] == f"{route.name}_{version}"


def test_every_reference_resolves() -> None:
    doc = build_openapi()
    text = json.dumps(doc)
    refs = {part.split('"')[0] for part in text.split('"$ref": "#/')[1:]}
    for ref in refs:
        node = doc
        for key in ref.split("/"):
            node = node[key]
        assert node, ref


def test_server_variables_list_the_11_opco_by_base_path() -> None:
    servers = build_openapi()["servers"]
    listed = [code for server in servers for code in server["variables"]["opco"]["enum"]]
    assert sorted(listed) == sorted(c.value for c in OpcoCode)
    urls = {s["url"]: s["variables"]["opco"]["enum"] for s in servers}
    assert urls["http://127.0.0.1:8765/{opco}/SorApiEchangeCFA"] == ["AKTO", "ATLAS", "MOBILITES"]
    assert urls["http://127.0.0.1:8765/{opco}"] == ["AFDAS", "OPCOEP"]


def test_the_documents_route_in_both_transports_with_its_200_and_409() -> None:
    doc = build_openapi()
    operation = doc["paths"]["/v1/documents"]["post"]
    content = operation["requestBody"]["content"]
    multipart = content["multipart/form-data"]
    assert multipart["schema"]["required"] == ["infosFichier", "fichier"]
    assert multipart["encoding"]["infosFichier"]["contentType"] == "application/json"
    schemas = doc["components"]["schemas"]
    infos = schemas["DocumentInfos"]["properties"]
    assert infos["typeFichier"]["enum"] == [
        "CONVENTION_FORMATION",
        "CONVENTION_REDUCTION_DUREE",
        "CONVENTION_MOBILITE",
        "FACTURE",
        "CERTIFICAT_REALISATION",
    ]
    assert infos["objets"]["items"]["properties"]["typeObjet"]["enum"] == [
        "DOSSIER_APPRENTISSAGE",
        "FACTURE",
    ]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/DocumentSubmit"}
    assert {"fichier", "nomFichier"} <= set(schemas["DocumentSubmit"]["required"])
    responses = operation["responses"]
    assert "201" not in responses
    ok = responses["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DocumentCreated"}
    assert schemas["DocumentCreated"]["required"] == ["numeroInterneDocument"]
    duplicate = responses["409"]["content"]["application/json"]["schema"]["allOf"]
    assert duplicate[1]["required"] == ["numeroInterneDocument"]
    assert "TAILLE_FICHIER" in operation["description"]
    assert "FORMAT_FICHIER" in operation["description"]
