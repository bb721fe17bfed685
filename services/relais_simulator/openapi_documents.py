"""The documents route in the simulator's OpenAPI document (convergence-api.md 0): its request
body in both transports a profile may name, its 200 and its 409 (the existing document's id)."""

from __future__ import annotations

from typing import Any

from relais.domain.json_types import Json
from relais.domain.profiles import DOCUMENT_MAX_BYTES
from relais_simulator.documents import TYPES_FICHIER, TYPES_OBJET


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(**extra: Any) -> Json:
    return {"type": "string", **extra}


def _obj(properties: Json, required: list[str], **extra: Any) -> Json:
    return {"type": "object", "properties": properties, "required": required, **extra}


_INFOS = {
    "typeFichier": _str(enum=list(TYPES_FICHIER)),
    "objets": {
        "type": "array",
        "minItems": 1,
        "maxItems": 10,
        "items": _obj(
            {
                "typeObjet": _str(enum=list(TYPES_OBJET)),
                "idObjet": _str(
                    minLength=1,
                    maxLength=64,
                    description="DOSSIER_APPRENTISSAGE: the dossier's numeroInterne; FACTURE: "
                    "numeroInterneFacture (objects of the key's CFA only)",
                ),
            },
            ["typeObjet", "idObjet"],
        ),
    },
}

DOCUMENT_SCHEMAS: Json = {
    "DocumentInfos": _obj(
        _INFOS,
        ["typeFichier", "objets"],
        description="Part infosFichier (convergence-api.md 0, a working ERP client, A-)",
    ),
    "DocumentSubmit": _obj(
        {
            **_INFOS,
            "fichier": _str(format="byte", description="the file, base64"),
            "nomFichier": _str(minLength=1, maxLength=200),
        },
        ["typeFichier", "objets", "fichier", "nomFichier"],
        description="The JSON variant: the infos with the file in base64 (older notes, "
        "convergence-api.md 1.6 and 2.13, B)",
    ),
    "DocumentCreated": _obj(
        {"numeroInterneDocument": _str()},
        ["numeroInterneDocument"],
        description="The id key is an assumption (C), taken from the facture's answer",
    ),
}

DESCRIPTION = (
    "Success is 200 (convergence-api.md 0, a working ERP client, A-). multipart/form-data where "
    "the OPCO's profile says transport.documents.kind = multipart (part infosFichier = the JSON, "
    "part fichier = the file with its name and media type: A-), application/json with the file "
    "in base64 elsewhere (B). The file: at most the profile's documents.max_bytes "
    f"({DOCUMENT_MAX_BYTES} by default; over: 400 code TAILLE_FICHIER), its bytes of one of "
    "documents.media_types (pdf, png, jpeg by magic bytes, not the name; else 400 code "
    "FORMAT_FICHIER): the state's model's limits (C). The same upload again (CFA, typeFichier, "
    "objets, file SHA-256) is a 409 carrying the existing numeroInterneDocument."
)


def document_request_body() -> Json:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": _obj(
                    {
                        "infosFichier": _ref("DocumentInfos"),
                        "fichier": _str(format="binary"),
                    },
                    ["infosFichier", "fichier"],
                ),
                "encoding": {
                    "infosFichier": {"contentType": "application/json"},
                    "fichier": {"contentType": "application/pdf, image/jpeg, image/png"},
                },
            },
            "application/json": {"schema": _ref("DocumentSubmit")},
        },
    }


DOCUMENT_DUPLICATE: Json = {
    "description": "The same document was received before: the error body in the profile's "
    "shape, with the existing document's id",
    "content": {
        "application/json": {
            "schema": {
                "allOf": [
                    _ref("Error"),
                    _obj({"numeroInterneDocument": _str()}, ["numeroInterneDocument"]),
                ]
            }
        }
    },
}
