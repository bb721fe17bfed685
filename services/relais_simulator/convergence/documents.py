"""``POST /v1/documents`` (convergence-api.md 0): a file attached to the key's CFA's dossiers
(``DOSSIER_APPRENTISSAGE``, by numeroInterne) and factures (``FACTURE``, by
numeroInterneFacture). 200 ``{"numeroInterneDocument"}``; the same upload again (CFA,
typeFichier, objets, file SHA-256) is a 409 carrying the existing id, which is how a client
resolves an upload whose answer it lost."""

from __future__ import annotations

from starlette.responses import Response

from relais.domain.json_types import Json
from relais_simulator.convergence.context import Context, bad_request, json_object
from relais_simulator.document_uploads import read_document
from relais_simulator.documents import DOSSIER, TYPES_FICHIER, TYPES_OBJET
from relais_simulator.rejection import Rejection
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse, error_item

MAX_OBJETS = 10
MAX_ID = 64
RECORD_IDS = {DOSSIER: "numeroInterneDossier", "FACTURE": "numeroInterneFacture"}


async def post_document(sim: Simulator, ctx: Context) -> Response:
    profile = ctx.profile
    upload = await read_document(
        ctx.request, ctx.rec, profile.transport.documents, profile.documents
    )
    type_fichier = type_fichier_of(upload.infos)
    objets = objets_of(upload.infos)
    store = sim.store(ctx.opco)
    for type_objet, id_objet in sorted(objets):
        ctx.rec.ids.setdefault(RECORD_IDS[type_objet], id_objet)
        if not store.has_object(ctx.siret, type_objet, id_objet):  # another CFA's too
            raise Rejection(
                404,
                "Objet introuvable",
                [error_item("OBJET_INCONNU", "objets", f"{type_objet} {id_objet} introuvable")],
            )
    doc = store.documents.add(ctx.siret, type_fichier, objets, upload.file, sim.clock.day())
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["numeroInterneDocument"] = doc.numero_interne_document
    return JsonResponse({"numeroInterneDocument": doc.numero_interne_document}, status_code=200)


def type_fichier_of(infos: Json) -> str:
    value = infos.get("typeFichier")
    if value is None or value == "":
        raise bad_request("typeFichier", "Champ obligatoire")
    if value not in TYPES_FICHIER:
        raise bad_request("typeFichier", f"Un de {', '.join(TYPES_FICHIER)} attendu", "FORMAT")
    return str(value)


def objets_of(infos: Json) -> frozenset[tuple[str, str]]:
    """``objets[{typeObjet, idObjet}]``: 1 to ``MAX_OBJETS`` objects, as a set."""
    raw = infos.get("objets")
    if not isinstance(raw, list) or not raw:
        raise bad_request("objets", "Au moins un objet attendu")
    if len(raw) > MAX_OBJETS:
        raise bad_request("objets", f"{MAX_OBJETS} objets au plus", "FORMAT")
    out: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        item = json_object(item, f"objets[{i}]")
        type_objet, id_objet = item.get("typeObjet"), item.get("idObjet")
        if type_objet not in TYPES_OBJET:
            raise bad_request(
                f"objets[{i}].typeObjet", f"Un de {', '.join(TYPES_OBJET)} attendu", "FORMAT"
            )
        if isinstance(id_objet, int) and not isinstance(id_objet, bool):
            id_objet = str(id_objet)
        if not isinstance(id_objet, str) or not 0 < len(id_objet.strip()) <= MAX_ID:
            raise bad_request(f"objets[{i}].idObjet", "Identifiant attendu")
        out.add((str(type_objet), id_objet.strip()))
    return frozenset(out)
