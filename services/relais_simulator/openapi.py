"""The OpenAPI 3.0 document of the convergence API as relais models it (generated from this code).

``build_openapi()`` is the single source; ``schemas/convergence/openapi.json`` is its output
(``python -m relais_simulator.openapi`` writes it; a test fails when the file drifts). The simulator
serves it at ``/<OPCO>/ApiEchangeCFA/openapi.json`` with that OPCO's server URL. Bodies follow
schemas/convergence/README.md; what the official spec would say more is unknown (convergence-api.md,
open questions), so objects stay open (``additionalProperties``) where the standard is vague.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.referentials import default_schemas_dir
from relais_simulator.routes import ROUTES, RouteSpec

OPENAPI_VERSION = "3.0.3"
DOC_VERSION = "1.0.0"
ETATS_DOSSIER = [
    "TRANSMIS",
    "EN_COURS_INSTRUCTION",
    "ENGAGE",
    "REFUSE",
    "ANNULE",
    "RUPTURE",
    "SOLDE",
]
ETATS_FACTURE = ["TRANSMIS", "EN_COURS_INSTRUCTION", "REGLE", "REFUSE"]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(**extra: Any) -> Json:
    return {"type": "string", **extra}


def _nullable(schema: Json) -> Json:
    return {**schema, "nullable": True}


DATE = _str(description="YYYY-MM-DDT00:00:00+00:00 (lenient on input: Z, +0000, plain date)")
MONEY = {"type": "number", "description": "euros"}


def _obj(properties: Json, required: list[str] | None = None, **extra: Any) -> Json:
    out: Json = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _page(items_name: str, item: Json) -> Json:
    return _obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            items_name: {"type": "array", "items": item},
        },
        ["total", "count", "page", items_name],
    )


def _maybe_wrapped(name: str) -> Json:
    """A page, or (AKTO quirk) the same page wrapped in a one-element array."""
    return {
        "oneOf": [
            _ref(name),
            {"type": "array", "items": _ref(name), "minItems": 1, "maxItems": 1},
        ]
    }


SCHEMAS: Json = {
    "ErrorItem": _obj(
        {"code": _str(), "champ": _str(), "description": _str()}, ["code", "champ", "description"]
    ),
    "Error": _obj(
        {"message": _str(), "errors": {"type": "array", "items": _ref("ErrorItem")}},
        ["message"],
        description="Error body; a 409 also carries the existing object's ids (extra properties).",
    ),
    "Status": _obj({"status": _str(), "opco": _str(), "version": _str()}, ["status", "opco"]),
    "Adresse": _obj(
        {
            "numero": {"type": "integer"},
            "repetitionVoie": _str(),
            "voie": _str(),
            "complement": _str(),
            "label": _str(),
            "codePostal": _str(pattern="^[0-9]{5}$"),
            "commune": _str(),
        }
    ),
    "Employeur": _obj(
        {
            "denomination": _str(),
            "siret": _str(pattern="^[0-9]{14}$"),
            "naf": _str(),
            "nombreDeSalaries": {"type": "integer"},
            "codeIdcc": _str(),
            "typeEmployeur": {"type": "integer"},
            "employeurSpecifique": {"type": "integer"},
            "adresse": _ref("Adresse"),
        },
        ["siret"],
    ),
    "Apprenti": _obj(
        {
            "nom": _str(),
            "prenom": _str(),
            "sexe": _str(enum=["M", "F"]),
            "dateNaissance": DATE,
            "nir": _str(),
            "adresse": _ref("Adresse"),
        },
        ["nom", "prenom", "dateNaissance"],
    ),
    "Contrat": _obj(
        {
            "typeContratApp": {"type": "integer"},
            "typeDerogation": _nullable({"type": "integer"}),
            "noContrat": _nullable(_str()),
            "numeroContratPrecedent": _nullable(_str()),
            "dateConclusion": DATE,
            "dateDebutContrat": DATE,
            "dateFinContrat": DATE,
            "dateRupture": _nullable(DATE),
            "salaireEmbauche": {"type": "number"},
            "remunerationsAnnuelles": {"type": "array", "items": {"type": "object"}},
        },
        ["typeContratApp", "dateDebutContrat", "dateFinContrat"],
    ),
    "Formation": _obj(
        {
            "rncp": _str(),
            "codeDiplome": _str(),
            "typeDiplome": {"type": "integer"},
            "intituleQualification": _str(),
            "dateDebutFormation": DATE,
            "dateFinFormation": DATE,
            "dureeFormation": {"type": "integer"},
            "nombreHeuresEnDistanciel": {"type": "integer"},
        }
    ),
    "OrganismeFormation": _obj(
        {
            "denomination": _str(),
            "siret": _str(pattern="^[0-9]{14}$"),
            "uaiCfa": _str(),
            "adresse": _ref("Adresse"),
        },
        ["siret"],
    ),
    "Cerfa": _obj(
        {
            "versionCERFA": _str(),
            "CERFASignatureProbante": {"type": "boolean"},
            "employeur": _ref("Employeur"),
            "apprenti": _ref("Apprenti"),
            "maitre1": {"type": "object"},
            "maitre2": {"type": "object"},
            "formation": _ref("Formation"),
            "contrat": _ref("Contrat"),
            "organismeFormation": _ref("OrganismeFormation"),
            "organismeFormationLieuFormationPrincipal": {"type": "object"},
        },
        ["employeur", "apprenti", "contrat", "formation", "organismeFormation"],
        description="The CERFA 10103 data (convergence-api.md §2); open to more fields.",
    ),
    "CerfaRead": {
        "allOf": [
            _ref("Cerfa"),
            _obj(
                {
                    "numeroInterne": _str(),
                    "numeroExterne": _str(),
                    "numeroDeca": _nullable(_str()),
                    "etat": _str(enum=ETATS_DOSSIER),
                    "commentaireEtat": _nullable(_str()),
                },
                ["numeroInterne", "numeroExterne", "etat"],
            ),
        ]
    },
    "DossierSubmit": _obj({"cerfa": _ref("Cerfa")}, ["cerfa"]),
    "DossierCreated": _obj(
        {"numeroInterne": _str(), "numeroExterne": _str(), "etat": _str(enum=ETATS_DOSSIER)},
        ["numeroInterne", "numeroExterne", "etat"],
    ),
    "EtatDossierResult": _obj(
        {
            "numeroInterne": _str(),
            "numeroExterne": _str(),
            "numeroDeca": _nullable(_str()),
            "etat": _str(enum=ETATS_DOSSIER),
        },
        ["numeroInterne", "numeroExterne", "etat"],
    ),
    "DossierEtatsPage": _page("EtatDossierResult", _ref("EtatDossierResult")),
    "DossierListeItem": _obj({"cerfa": _ref("CerfaRead")}, ["cerfa"]),
    "Echeance": _obj(
        {
            "numero": {"type": "integer"},
            "codification": _str(),
            "montantTotal": MONEY,
            "montantRegle": MONEY,
            "montantEnCoursInstruction": MONEY,
            "dateOuverture": DATE,
            "dateDebut": DATE,
            "dateFin": DATE,
            "iban": _nullable(_str()),
            "IBAN": _nullable(_str()),
        },
        ["numero", "montantTotal", "montantRegle", "montantEnCoursInstruction", "dateOuverture"],
    ),
    "FraisAnnexe": _obj(
        {
            "natureFrais": _str(
                description="RESTAURATION, HEBERGEMENT, PREMIEREQUIPEMENT, "
                "MOBILITE; case varies by OPCO (compare case-insensitively)"
            ),
            "quantite": {"type": "integer"},
            "prixUnitaire": MONEY,
            "montantTotal": MONEY,
        },
        ["natureFrais", "montantTotal"],
    ),
    "DossierRead": _obj(
        {
            "cerfa": _ref("CerfaRead"),
            "engagement": _nullable(MONEY),
            "echeances": {"type": "array", "items": _ref("Echeance")},
            "engagementsFraisAnnexe": {"type": "array", "items": _ref("FraisAnnexe")},
            "detailsFacturation": _obj(
                {
                    "iban": _nullable(_str()),
                    "IBAN": _nullable(_str()),
                    "plafondFraisPremierEquipement": MONEY,
                    "fraisPremierEquipementRegles": MONEY,
                    "plafondFraisMobilite": MONEY,
                    "fraisMobiliteRegles": MONEY,
                    "periodesFraisAnnexes": {"type": "array", "items": {"type": "object"}},
                }
            ),
        },
        ["cerfa", "echeances", "engagementsFraisAnnexe", "detailsFacturation"],
    ),
    "ConventionSubmit": _obj(
        {
            "numeroInterneDossier": _str(minLength=1),
            "couts": _obj(
                {
                    "coutTotalPedagogieCFA": MONEY,
                    "nombreRepasTotaux": {"type": "integer", "minimum": 0},
                    "nombreHebergementTotaux": {"type": "integer", "minimum": 0},
                    "montantPremierEquipement": MONEY,
                    "mentionMobiliteInternationale": {"type": "boolean"},
                }
            ),
            "dateSignature": DATE,
            "mandatEmployeur": {"type": "boolean"},
        },
        ["numeroInterneDossier"],
        description="Convention de formation (convergence-api.md §2.10).",
    ),
    "ConventionCreated": _obj(
        {"idConvention": _str(), "numeroInterneDossier": _str()},
        ["idConvention", "numeroInterneDossier"],
    ),
    "FactureLine": _obj(
        {
            "numeroInterneDossier": _str(minLength=1),
            "numeroEcheance": {"type": "integer", "minimum": 1},
            "montant": {**MONEY, "exclusiveMinimum": True, "minimum": 0},
        },
        ["numeroInterneDossier", "numeroEcheance", "montant"],
    ),
    "FactureSubmit": _obj(
        {
            "referenceFactureCFA": _str(minLength=1),
            "dateFacture": DATE,
            "montantFacture": {**MONEY, "exclusiveMinimum": True, "minimum": 0},
            "organismeFormation": _obj(
                {"siret": _str(), "iban": _str(), "IBAN": _str(description="AKTO casing")}
            ),
            "dossiers": {"type": "array", "items": _ref("FactureLine"), "minItems": 1},
        },
        ["referenceFactureCFA", "montantFacture", "dossiers"],
        description="Facture (shape assumed, convergence-api.md §2.11).",
    ),
    "FactureCreated": _obj(
        {
            "numeroInterneFacture": _str(),
            "referenceFactureCFA": _str(),
            "etatFacture": _str(enum=ETATS_FACTURE),
        },
        ["numeroInterneFacture", "referenceFactureCFA", "etatFacture"],
    ),
    "FactureEtat": _obj(
        {
            "numeroInterneFacture": _str(),
            "referenceFactureCFA": _str(),
            "montantFacture": MONEY,
            "etatFacture": _str(enum=ETATS_FACTURE),
            "referenceVirement": _nullable(_str()),
            "dateReglement": _nullable(DATE),
            "commentaire": _nullable(_str()),
            "organismeFormation": _obj(
                {"siret": _str(), "iban": _nullable(_str()), "IBAN": _nullable(_str())}
            ),
            "dossiers": {
                "type": "array",
                "items": _obj(
                    {
                        "numeroInterneDossier": _str(),
                        "numeroExterneDossier": _nullable(_str()),
                        "numeroEcheance": {"type": "integer"},
                        "montant": MONEY,
                    }
                ),
            },
        },
        ["numeroInterneFacture", "referenceFactureCFA", "montantFacture", "etatFacture"],
    ),
    "FactureEtatsPage": _page("factures", _ref("FactureEtat")),
    "CertificatSubmit": _obj(
        {
            "typeCertificat": _str(enum=["Intermediaire", "Final"]),
            "numeroInterneDossier": _str(minLength=1),
            "numeroInterneFacture": _str(),
            "dateSignature": DATE,
            "echeance": _obj(
                {
                    "numero": {"type": "integer", "minimum": 1},
                    "codification": _str(),
                    "duree": {"type": "number"},
                    "dateDebut": DATE,
                    "dateFin": DATE,
                    "echeancePartielle": {"type": "boolean"},
                },
                ["numero"],
            ),
        },
        ["numeroInterneDossier", "echeance"],
        description="Certificat de réalisation (convergence-api.md §2.12).",
    ),
    "CertificatCreated": _obj({"idCertificat": _str()}, ["idCertificat"]),
    "DocumentSubmit": _obj(
        {
            "typeFichier": _str(minLength=1, description="convention, facture, cerfa..."),
            "objets": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {"typeObjet": _str(enum=["dossier", "facture"]), "idObjet": _str(minLength=1)},
                    ["typeObjet", "idObjet"],
                ),
            },
            "fichier": _str(format="byte", description="the file, base64"),
        },
        ["typeFichier", "objets", "fichier"],
    ),
    "DocumentCreated": _obj({"idDocument": _str()}, ["idDocument"]),
    "RuptureSubmit": _obj(
        {"numeroInterne": _str(minLength=1), "dateRupture": DATE, "motif": _str()},
        ["numeroInterne", "dateRupture"],
        description="Rupture by the employer (body assumed, convergence-api.md §2.14).",
    ),
    "RuptureDone": _obj(
        {"numeroInterne": _str(), "etat": _str(enum=ETATS_DOSSIER)}, ["numeroInterne", "etat"]
    ),
    "KeyInfo": _obj(
        {
            "status": _str(enum=["success", "error"]),
            "dateFinValidite": _nullable(DATE),
            "comment": _str(),
        },
        ["status"],
    ),
    "Token": _obj(
        {
            "access_token": _str(),
            "token_type": _str(enum=["Bearer"]),
            "expires_in": {"type": "integer"},
        },
        ["access_token", "token_type", "expires_in"],
    ),
}

_ERRORS = {
    "400": "Missing EDITEUR/LOGICIEL/VERSION header, malformed body or parameter",
    "401": "CFA key (X-API-KEY) missing; AKTO: bearer token missing, invalid or expired",
    "403": "CFA key unknown or expired; or the object belongs to another CFA",
    "429": "Rate limit exceeded (Retry-After)",
    "501": "Route not implemented by this OPCO",
    "503": "OPCO unavailable (Retry-After)",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}


def _error(description: str, retry_after: bool = False) -> Json:
    out: Json = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if retry_after:
        out["headers"] = _RETRY_AFTER
    return out


def _ok(description: str, schema: Json) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_SOFTWARE_HEADERS = [
    {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }
    for name, description in (
        ("EDITEUR", "software publisher"),
        ("LOGICIEL", "software product"),
        ("VERSION", "software version"),
    )
]

# route name -> (summary, request schema, success status, success schema, extra statuses, params)
_OPERATIONS: dict[str, tuple[str, str | None, str, Json, tuple[str, ...], list[Json]]] = {
    "status": ("Liveness and version", None, "200", _ref("Status"), (), []),
    "dossiers_post": (
        "Submit a dossier (contrat d'apprentissage)",
        "DossierSubmit",
        "201",
        _ref("DossierCreated"),
        ("409", "422"),
        [],
    ),
    "dossiers_etats": (
        "States of the CFA's dossiers, paged",
        None,
        "200",
        _maybe_wrapped("DossierEtatsPage"),
        (),
        [
            {
                "name": "numeroPage",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1},
            }
        ],
    ),
    "dossiers_liste": (
        "Several dossiers by numeroInterne",
        None,
        "200",
        {"type": "array", "items": _ref("DossierListeItem")},
        (),
        [
            {
                "name": "numerosInternes",
                "in": "query",
                "required": True,
                "description": "comma list or repeated parameter",
                "style": "form",
                "explode": True,
                "schema": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            }
        ],
    ),
    "dossier_detail": (
        "One dossier with its engagement and échéancier (read model §2.9)",
        None,
        "200",
        _ref("DossierRead"),
        ("404",),
        [
            {
                "name": "numeroInterne",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
        ],
    ),
    "conventions": (
        "Deposit the convention de formation of a dossier",
        "ConventionSubmit",
        "201",
        _ref("ConventionCreated"),
        ("404", "409", "422"),
        [],
    ),
    "factures": (
        "Submit a facture on open échéances",
        "FactureSubmit",
        "201",
        _ref("FactureCreated"),
        ("404", "409", "422"),
        [],
    ),
    "factures_etats": (
        "States of the CFA's factures, paged",
        None,
        "200",
        _maybe_wrapped("FactureEtatsPage"),
        (),
        [
            {
                "name": "numeroPage",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 1000000, "default": 1},
            }
        ],
    ),
    "certificats": (
        "Certificat de réalisation for an échéance",
        "CertificatSubmit",
        "201",
        _ref("CertificatCreated"),
        ("404", "409", "422"),
        [],
    ),
    "documents": (
        "Attach a file to dossiers / factures",
        "DocumentSubmit",
        "201",
        _ref("DocumentCreated"),
        ("404", "409"),
        [],
    ),
    "rupture": (
        "Declare the employer's rupture of an engaged contract",
        "RuptureSubmit",
        "200",
        _ref("RuptureDone"),
        ("404", "409", "422"),
        [],
    ),
    "cfakeyinfo": ("Validity of the CFA key", None, "200", _ref("KeyInfo"), (), []),
}

_EXTRA = {
    "404": "Missing resource (dossier, facture or object unknown)",
    "409": "Duplicate: the object already exists; the body carries its ids",
    "422": "Refused by the OPCO's control rules (field errors)",
}


def _operation(spec: RouteSpec, version: str) -> Json:
    summary, request, ok_status, ok_schema, extra, params = _OPERATIONS[spec.name]
    responses: Json = {ok_status: _ok("Success", ok_schema)}
    for status in ("400", "401", "403", *extra, "429", "501", "503"):
        responses[status] = {"$ref": f"#/components/responses/E{status}"}
    op: Json = {
        "operationId": f"{spec.name}_{version}",
        "summary": summary,
        "tags": [spec.name.split("_")[0]],
        "parameters": [
            *({"$ref": f"#/components/parameters/{h['name']}"} for h in _SOFTWARE_HEADERS),
            *params,
        ],
        "responses": dict(sorted(responses.items())),
    }
    if spec.capability is not None:
        op["x-relais-capability"] = spec.capability
    elif spec.name == "dossiers_post":
        op["x-relais-capability"] = f"dossiers_{version}"
    if request is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(request)}},
        }
    return op


def build_openapi() -> Json:
    paths: Json = {}
    for version in ("v1", "v2"):
        for spec in ROUTES:
            item = paths.setdefault(f"/{version}/{spec.path}", {})
            item[spec.method.lower()] = _operation(spec, version)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "API convergence CFA / OPCO (as relais models it)",
            "version": DOC_VERSION,
            "description": (
                "The inter-OPCO exchange standard as relais's client and simulator share it "
                "(schemas/convergence/README.md). One contract, 11 servers: each OPCO serves it "
                "under its own base URL and implements a subset of the routes (501 otherwise). "
                "AKTO also requires an OAuth2 client-credentials bearer token. Generated by "
                "relais_simulator.openapi; do not edit by hand."
            ),
        },
        "servers": [
            {
                "url": "http://127.0.0.1:8765/{opco}/ApiEchangeCFA",
                "variables": {"opco": {"default": "ATLAS", "enum": [c.value for c in OpcoCode]}},
            }
        ],
        "security": [{"cfaKey": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": {h["name"]: h for h in _SOFTWARE_HEADERS},
            "responses": {
                f"E{status}": _error(description, retry_after=status in ("429", "503"))
                for status, description in sorted({**_ERRORS, **_EXTRA}.items())
            },
            "securitySchemes": {
                "cfaKey": {"type": "apiKey", "in": "header", "name": "X-API-KEY"},
                "aktoOAuth2": {
                    "type": "oauth2",
                    "description": "AKTO only, in addition to X-API-KEY",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "/AKTO/oauth2/token",
                            "scopes": {".default": "default scope"},
                        }
                    },
                },
            },
        },
    }


def default_path() -> Path:
    return default_schemas_dir() / "convergence" / "openapi.json"


def render() -> str:
    return json.dumps(build_openapi(), ensure_ascii=False, indent=2) + "\n"


def openapi_documents() -> dict[str, str]:
    """For ``relais schemas write|check``: the document, by its path under ``schemas/``."""
    return {"convergence/openapi.json": render()}


def main(argv: list[str] | None = None) -> int:
    """``python -m relais_simulator.openapi [--check] [PATH]``: write (or check) the document."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    path = Path(rest[0]) if rest else default_path()
    text = render()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m relais_simulator.openapi", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
