"""The admin API's view of the documents an OPCO received (``POST /v1/documents``): the list, by
digest and name, and each one's bytes as received (what a test compares with the file it sent)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from relais.domain.json_types import Json
from relais_simulator.admin.inputs import listing, opco_of, simulator
from relais_simulator.model import Document
from relais_simulator.wire import JsonResponse, error_response


def document_admin_view(doc: Document) -> Json:
    return {
        "numeroInterneDocument": doc.numero_interne_document,
        "cfaSiret": doc.cfa_siret,
        "typeFichier": doc.type_fichier,
        "objets": [{"typeObjet": t, "idObjet": i} for t, i in sorted(doc.objets)],
        "sha256": doc.sha256,
        "size": doc.size,
        "fileName": doc.file_name,
        "mediaType": doc.media_type,
        "createdDay": doc.created_day,
        "contentKept": doc.content is not None,
    }


async def documents(request: Request) -> Response:
    """``GET /_admin/documents?opco=&siret=``: every document received, oldest first."""
    out = listing(request, lambda store: store.documents, document_admin_view)
    return JsonResponse({"documents": out})


async def document_content(request: Request) -> Response:
    """``GET /_admin/documents/{opco}/{id}/content``: the file's bytes, in its media type (410
    once the shelf's byte budget dropped them)."""
    opco = opco_of(request.path_params["opco"])
    if opco is None:
        return error_response(404, "OPCO inconnu")
    doc = simulator(request).stores[opco].documents.get(request.path_params["numero"])
    if doc is None:
        return error_response(404, "Document introuvable")
    if doc.content is None:
        return error_response(410, "Contenu du document non conservé")
    disposition = f"attachment; filename*=UTF-8''{quote(doc.file_name, safe='')}"
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={"Content-Disposition": disposition, "X-Content-SHA256": doc.sha256},
    )
