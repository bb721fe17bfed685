"""``POST /v1/documents`` through the real HTTP simulator (convergence-api.md 0): each typeFichier
at an OPCO taking multipart (AKTO) and one taking JSON (OCAPIAT), the duplicate by hash, the
refusals (unknown object, an executable renamed .pdf, a file over 10 MiB streamed), an answer
lost after the document was stored, and the admin API giving back the very bytes sent."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import httpx
import pytest

from relais.domain.opco import OpcoCode
from relais.domain.profiles import DOCUMENT_MAX_BYTES
from relais.sampledata.pdfs import sample_pdf
from tests.fixtures.simulator import SimulatorProcess
from tests.integration.simulator.helpers import (
    PROFILES,
    advance_until,
    engaged,
    facture_for,
    send,
)

pytestmark = pytest.mark.integration

TYPES = (
    "CONVENTION_FORMATION",
    "CONVENTION_REDUCTION_DUREE",
    "CONVENTION_MOBILITE",
    "FACTURE",
    "CERTIFICAT_REALISATION",
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
IBAN = "FR7630006000011234567890189"


def post_document(
    sim: SimulatorProcess,
    opco: str,
    infos: dict[str, Any],
    file: Any,
    name: str = "document.pdf",
    media_type: str = "application/pdf",
    timeout: httpx.Timeout | float = 10,
) -> httpx.Response:
    """The document in the OPCO profile's transport: multipart (``infosFichier`` + ``fichier``,
    ``file`` bytes or a file object read in chunks) or JSON (the file in base64)."""
    url = f"{sim.api_url(opco)}/v1/documents"
    headers = sim.headers(opco, method="POST", url=url)
    transport = PROFILES[OpcoCode(opco)].transport.documents
    if not transport.multipart:
        body = {**infos, "fichier": base64.b64encode(file).decode(), "nomFichier": name}
        return httpx.post(url, json=body, headers=headers, timeout=timeout)
    files = {
        transport.json_part: (None, json.dumps(infos).encode(), "application/json"),
        transport.file_part: (name, file, media_type),
    }
    return httpx.post(url, files=files, headers=headers, timeout=timeout)


def infos(type_fichier: str, *objets: tuple[str, str]) -> dict[str, Any]:
    return {
        "typeFichier": type_fichier,
        "objets": [{"typeObjet": t, "idObjet": i} for t, i in objets],
    }


def with_facture(sim: SimulatorProcess, opco: str) -> tuple[str, str]:
    """An engaged dossier of the default CFA and a facture on its first échéance."""
    detail = engaged(sim, opco)
    e1 = detail["echeances"][0]
    body = facture_for("FAC-DOC-1", detail["cerfa"]["numeroExterne"], [(1, e1["montantTotal"])])
    body["ibanEmetteur"] = IBAN
    body["dateEmission"] = e1["dateOuverture"]
    advance_until(sim, e1["dateOuverture"])
    created = send(sim, opco, "v1/factures", body)
    assert created.status_code == 200, created.text
    return detail["cerfa"]["numeroInterne"], created.json()["numeroInterneFacture"]


@pytest.mark.parametrize("opco", ["AKTO", "OCAPIAT"])
def test_each_type_fichier_is_stored_once_with_its_bytes(
    fresh_simulator: SimulatorProcess, opco: str
) -> None:
    sim = fresh_simulator
    multipart = PROFILES[OpcoCode(opco)].transport.documents.multipart
    assert multipart is (opco == "AKTO")  # one OPCO of each transport
    numero, facture = with_facture(sim, opco)
    dossier = ("DOSSIER_APPRENTISSAGE", numero)
    sent: dict[str, bytes] = {}
    for type_fichier in TYPES:
        objets = [dossier, ("FACTURE", facture)] if type_fichier == "FACTURE" else [dossier]
        content = sample_pdf(f"{opco} {type_fichier}")
        r = post_document(sim, opco, infos(type_fichier, *objets), content, f"{type_fichier}.pdf")
        assert r.status_code == 200, r.text
        sent[r.json()["numeroInterneDocument"]] = content
    assert len(sent) == len(TYPES)
    first_id, first = next(iter(sent.items()))
    again = post_document(sim, opco, infos(TYPES[0], dossier), first, "renamed.pdf")
    assert again.status_code == 409, again.text
    assert again.json()["numeroInterneDocument"] == first_id
    listed = sim.documents(opco=opco)
    assert {d["numeroInterneDocument"] for d in listed} == set(sent)
    facture_doc = next(d for d in listed if d["typeFichier"] == "FACTURE")
    assert facture_doc["objets"] == [
        {"typeObjet": "DOSSIER_APPRENTISSAGE", "idObjet": numero},
        {"typeObjet": "FACTURE", "idObjet": facture},
    ]
    for ident, content in sent.items():
        assert sim.document_content(opco, ident) == content
    records = sim.records(opco=opco, route="documents")
    assert [(r["status"], r["outcome"]) for r in records] == [(200, "created")] * 5 + [
        (409, "duplicate")
    ]
    assert records[0]["file"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert records[0]["file"]["mediaType"] == "application/pdf"
    assert (records[0]["jsonSha256"] is not None) is multipart


class LazyPdf(io.RawIOBase):
    """``size`` bytes starting ``%PDF-``, made as they are read (never the whole file at once)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.head = b"%PDF-1.4\n"
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.largest_read = max(self.largest_read, n)
        chunk = (self.head + b"\x00" * n)[:n] if self.head else b"\x00" * n
        self.head = self.head[len(chunk) :]
        self.left -= len(chunk)
        return chunk


def test_refusals_leave_nothing_stored(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    numero, _ = with_facture(sim, "AKTO")
    dossier = ("DOSSIER_APPRENTISSAGE", numero)
    pdf = sample_pdf("refusals")
    unknown = post_document(sim, "AKTO", infos("FACTURE", ("FACTURE", "9999999")), pdf)
    assert unknown.status_code == 404
    elf = post_document(sim, "AKTO", infos("CONVENTION_FORMATION", dossier), ELF, "convention.pdf")
    assert elf.status_code == 400
    assert elf.json()["errors"][0]["code"] == "FORMAT_FICHIER"  # AKTO's errors[] shape
    big = LazyPdf(11 * 1024 * 1024)
    too_large = post_document(
        sim, "AKTO", infos("CONVENTION_FORMATION", dossier), big, "big.pdf", timeout=60
    )
    assert big.left == 0 and big.largest_read <= 1024 * 1024  # streamed, in chunks
    assert too_large.status_code == 400
    assert too_large.json()["errors"][0]["code"] == "TAILLE_FICHIER"
    at_limit = post_document(
        sim, "AKTO", infos("CONVENTION_FORMATION", dossier), LazyPdf(DOCUMENT_MAX_BYTES), timeout=60
    )
    assert at_limit.status_code == 200, at_limit.text  # the limit itself is allowed
    json_elf = post_document(sim, "OCAPIAT", infos("FACTURE", ("FACTURE", "1")), ELF, "x.pdf")
    assert json_elf.status_code == 400
    assert json_elf.json()["errors"][0]["code"] == "FORMAT_FICHIER"
    sante = post_document(sim, "SANTE", infos("FACTURE", dossier), pdf)
    assert sante.status_code == 501
    assert [d["size"] for d in sim.documents()] == [DOCUMENT_MAX_BYTES]


def test_an_answer_lost_after_storing_is_resolved_by_the_409(
    fresh_simulator: SimulatorProcess,
) -> None:
    sim = fresh_simulator
    numero, facture = with_facture(sim, "AKTO")
    sim.set_faults("AKTO", stored_lost_rate=1, routes=["documents"], max_faults=1)
    body = infos("FACTURE", ("DOSSIER_APPRENTISSAGE", numero), ("FACTURE", facture))
    pdf = sample_pdf("facture lost")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post_document(sim, "AKTO", body, pdf, "facture.pdf")
    again = post_document(sim, "AKTO", body, pdf, "facture.pdf")
    assert again.status_code == 409, again.text
    (doc,) = sim.documents(opco="AKTO")
    assert again.json()["numeroInterneDocument"] == doc["numeroInterneDocument"]
    assert sim.document_content("AKTO", doc["numeroInterneDocument"]) == pdf
    assert sim.stats()["documents"] == {"AKTO": 1}
    lost, dup = sim.records(opco="AKTO", route="documents")
    assert lost["outcome"] == "fault:stored_lost" and lost["created"]
    assert dup["outcome"] == "duplicate" and not dup["created"]
