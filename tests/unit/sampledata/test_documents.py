"""The generator's document events: one of each ``typeFichier``, each naming a small valid PDF
it wrote (size, SHA-256 and type by magic bytes as the reference says), taken by ingest's checks;
the example ``schemas/examples/document.json`` names a generated PDF by its real hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from relais.domain.document_event import TYPES_FICHIER
from relais.domain.events import DocumentSubmittedData, EventKind, parse_structured
from relais.domain.file_checks import FileCheck, FileLimits
from relais.domain.file_policy import FilePolicy
from relais.sampledata.generator import Generator
from relais.sampledata.pdfs import sample_pdf
from relais.services.ingest.file_refs import file_errors
from tests.today import TODAY

EXAMPLE = Path(__file__).parents[3] / "schemas" / "examples" / "document.json"


def test_one_document_of_each_type_each_naming_the_pdf_written_for_it(tmp_path: Path) -> None:
    g = Generator(5, TODAY, files_dir=tmp_path)
    dossier = g.dossier()
    events = g.documents(dossier, reference_facture="FAC-1")
    parsed = [parse_structured(e) for e in events]
    assert [p.kind for p in parsed] == [EventKind.DOCUMENT] * len(TYPES_FICHIER)
    assert all(p.dossier_id == dossier.dossier_id for p in parsed)
    datas = [p.data for p in parsed]
    assert all(isinstance(d, DocumentSubmittedData) for d in datas)
    assert [d.typeFichier for d in datas] == list(TYPES_FICHIER)  # type: ignore[union-attr]
    assert {d.referenceFactureCFA for d in datas} == {None, "FAC-1"}  # type: ignore[union-attr]
    policy = FilePolicy(local_base=str(tmp_path))  # each CFA reads <base>/<its SIRET>/
    for data in datas:
        assert isinstance(data, DocumentSubmittedData)
        ref = data.fichier
        policy.authorize(dossier.cfa.siret, ref)  # under the CFA's local root, within limits
        body = Path(ref.location.removeprefix("file://")).read_bytes()
        check = FileCheck(ref)
        check.feed(body)
        check.finish()  # size, SHA-256 and type by magic bytes
        assert body.startswith(b"%PDF-") and ref.fileName.endswith(".pdf")
        assert file_errors(data, FileLimits()) == ()
    assert len({d.fichier.sha256 for d in datas}) == len(datas)  # type: ignore[union-attr]


def test_the_example_document_names_a_generated_pdf_by_its_real_hash() -> None:
    example = json.loads(EXAMPLE.read_text())
    fichier = example["data"]["fichier"]
    body = sample_pdf(fichier["fileName"].removesuffix(".pdf"))
    assert fichier["sha256"] == hashlib.sha256(body).hexdigest()
    assert fichier["size"] == len(body)
    assert fichier["location"].endswith("/" + fichier["fileName"])
