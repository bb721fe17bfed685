"""The simulator speaks each OPCO's profile (convergence-api.md 0): multipart conventions and
factures where the profile says (the file's digest, size and name recorded, JSON refused), JSON
elsewhere (multipart refused), its error-body shape, its etats page shape."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from tests.fixtures.simulator import SimulatorProcess
from tests.integration.simulator.helpers import PDF, get, post, send, submit

pytestmark = pytest.mark.integration


def multipart(
    sim: SimulatorProcess, opco: str, path: str, parts: dict[str, tuple[str | None, bytes, str]]
) -> httpx.Response:
    url = f"{sim.api_url(opco)}/{path}"  # under the profile's base path
    headers = sim.headers(opco, method="POST", url=url)
    return httpx.post(url, files=parts, headers=headers, timeout=10)


def test_a_multipart_route_takes_the_json_part_and_the_file(
    fresh_simulator: SimulatorProcess,
) -> None:
    sim = fresh_simulator
    numero = submit(sim, "AKTO")["numeroInterne"]
    body = {"numeroInterneDossier": numero, "couts": {"nombreRepasTotaux": 2}}
    raw = json.dumps(body, separators=(",", ":")).encode()
    parts = {
        "convention": (None, raw, "application/json"),
        "fichier": ("convention signée.pdf", PDF, "application/pdf"),
    }
    r = multipart(sim, "AKTO", "v1/conventions", parts)
    assert r.status_code == 200, r.text
    [record] = sim.records(opco="AKTO", route="conventions")
    assert record["contentType"].startswith("multipart/form-data")
    assert record["jsonSha256"] == hashlib.sha256(raw).hexdigest()
    assert record["file"] == {
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "size": len(PDF),
        "name": "convention signée.pdf",
        "mediaType": "application/pdf",
    }


def test_each_route_refuses_the_other_transport(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    numero = submit(sim, "AKTO")["numeroInterne"]
    as_json = post(sim, "AKTO", "v1/conventions", {"numeroInterneDossier": numero})
    assert as_json.status_code == 415
    assert as_json.json()["errors"][0]["code"] == "CONTENT_TYPE"  # AKTO's errors[] shape
    no_file = multipart(
        sim, "AKTO", "v1/conventions", {"convention": (None, b"{}", "application/json")}
    )
    assert no_file.status_code == 400
    assert no_file.json()["errors"][0]["champ"] == "fichier"
    not_pdf = {
        "convention": (None, json.dumps({"numeroInterneDossier": numero}).encode(), "text/plain"),
        "fichier": ("x.exe", b"MZ", "application/octet-stream"),
    }
    assert multipart(sim, "AKTO", "v1/conventions", not_pdf).status_code == 400
    other = submit(sim, "OCAPIAT")["numeroInterne"]
    parts = {
        "convention": (
            None,
            json.dumps({"numeroInterneDossier": other}).encode(),
            "application/json",
        ),
        "fichier": ("c.pdf", PDF, "application/pdf"),
    }
    assert multipart(sim, "OCAPIAT", "v1/conventions", parts).status_code == 415  # a JSON OPCO
    assert (
        send(sim, "OCAPIAT", "v1/conventions", {"numeroInterneDossier": other}).status_code == 200
    )


@pytest.mark.parametrize(
    ("opco", "shape"),
    [
        ("ATLAS", {"description"}),
        ("OPCOEP", {"comment"}),
        ("AKTO", {"errors"}),
        ("OCAPIAT", {"message", "errors"}),
    ],
)
def test_errors_come_in_the_profiles_shape(
    fresh_simulator: SimulatorProcess, opco: str, shape: set[str]
) -> None:
    r = get(fresh_simulator, opco, "v1/dossiers", {"numeroInterne": "0000000"})
    assert r.status_code == 404
    assert set(r.json()) == shape


def test_etats_pages_come_in_the_profiles_shape(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    for opco in ("MOBILITES", "ATLAS", "AKTO"):
        submit(sim, opco)
    mobilites = get(sim, "MOBILITES", "v1/dossiers/etats").json()
    assert isinstance(mobilites, list) and set(mobilites[0]) >= {"numeroInterne", "numeroDeca"}
    atlas = get(sim, "ATLAS", "v1/dossiers/etats").json()
    assert isinstance(atlas, dict) and atlas["total"] == 1
    akto = get(sim, "AKTO", "v1/dossiers/etats").json()
    assert isinstance(akto, list) and akto[0]["total"] == 1
