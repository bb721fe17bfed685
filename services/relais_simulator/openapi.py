"""The OpenAPI 3.0 document of the convergence API as relais models it (generated from this code).

``build_openapi()`` is the single source; ``schemas/convergence/openapi.json`` is its output
(``python -m relais_simulator.openapi`` writes it; a test fails when the file drifts). The simulator
serves it at ``/<OPCO><base path>/openapi.json`` with that OPCO's server URL (its profile's base
path: ``/SorApiEchangeCFA`` at AKTO, ATLAS, MOBILITES, none at AFDAS and OPCO EP). Bodies follow
schemas/convergence/README.md; what the official spec would say more is unknown (convergence-api.md,
open questions), so objects stay open (``additionalProperties``) where the standard is vague.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from relais.domain.json_types import Json
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import default_schemas_dir, referential
from relais_simulator import openapi_documents as documents_doc
from relais_simulator.openapi_documents import DOCUMENT_DUPLICATE, document_request_body
from relais_simulator.openapi_schemas import SCHEMAS, maybe_wrapped, ref
from relais_simulator.routes import ROUTES, RouteSpec

OPENAPI_VERSION = "3.0.3"
DOC_VERSION = "1.0.0"


_ERRORS = {
    "400": "Missing EDITEUR/LOGICIEL/VERSION header, malformed body or parameter",
    "401": "CFA key (X-API-KEY) missing; where the profile asks for OAuth2: token missing, "
    "invalid or expired (AFDAS: DPoP proof missing, invalid or replayed)",
    "403": "CFA key unknown or expired; or the object belongs to another CFA",
    "429": "Rate limit exceeded (Retry-After)",
    "501": "Route not implemented by this OPCO",
    "503": "OPCO unavailable (Retry-After)",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}


def _error(description: str, retry_after: bool = False) -> Json:
    out: Json = {
        "description": description,
        "content": {"application/json": {"schema": ref("Error")}},
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
    "status": ("Liveness and version", None, "200", ref("Status"), (), []),
    "dossiers_post": (
        "Submit a dossier (contrat d'apprentissage)",
        "DossierSubmit",
        "200",
        ref("DossierCreated"),
        ("409", "422"),
        [],
    ),
    "dossiers_etats": (
        "States of the CFA's dossiers, paged",
        None,
        "200",
        maybe_wrapped("DossierEtatsPage", "EtatDossierResult"),
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
        {"type": "array", "items": ref("DossierListeItem")},
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
        ref("DossierRead"),
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
        "200",
        ref("ConventionCreated"),
        ("404", "409", "413", "415", "422"),
        [],
    ),
    "factures": (
        "Submit a facture on open échéances",
        "FactureSubmit",
        "200",
        ref("FactureCreated"),
        ("404", "409", "413", "415", "422"),
        [],
    ),
    "factures_etats": (
        "States of the CFA's factures, paged",
        None,
        "200",
        maybe_wrapped("FactureEtatsPage", "factures"),
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
        ref("CertificatCreated"),
        ("404", "409", "422"),
        [],
    ),
    "documents": (
        "Attach a file to dossiers / factures",
        None,  # openapi_documents.py: multipart or JSON per profile
        "200",
        ref("DocumentCreated"),
        ("404", "409", "415"),
        [],
    ),
    "rupture": (
        "Declare the employer's rupture of an engaged contract",
        "RuptureSubmit",
        "200",
        ref("RuptureDone"),
        ("404", "409", "422"),
        [],
    ),
    "cfakeyinfo": ("Validity of the CFA key", None, "200", ref("KeyInfo"), (), []),
}

_EXTRA = {
    "404": "Missing resource (dossier, facture or object unknown)",
    "409": "Duplicate: the object already exists; the body carries its ids",
    "413": "The file is over the size limit",
    "415": (
        "JSON sent where the OPCO's profile takes multipart (transport.<route>.kind), or the "
        "reverse"
    ),
    "422": "Refused by the OPCO's control rules (field errors)",
}

# The routes whose body may be multipart (profile transport), with their JSON part's name.
_MULTIPART = {"conventions": "convention", "factures": "facture"}
_MULTIPART_SOURCE = (
    "multipart/form-data where the OPCO's profile says transport.<route>.kind = multipart: the "
    "JSON part (its name in transport.<route>.json_part) and the signed file in 'fichier' "
    "(convergence-api.md 0, a working ERP client, A-); application/json elsewhere (older notes, B)"
)


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
        content: Json = {"application/json": {"schema": ref(request)}}
        part = _MULTIPART.get(spec.name)
        if part is not None:
            content["multipart/form-data"] = {
                "schema": {
                    "type": "object",
                    "properties": {
                        part: ref(request),
                        "fichier": {"type": "string", "format": "binary"},
                    },
                    "required": [part, "fichier"],
                },
                "encoding": {
                    part: {"contentType": "application/json"},
                    "fichier": {"contentType": "application/pdf, image/jpeg, image/png"},
                },
            }
        op["requestBody"] = {"required": True, "content": content}
        if part is not None:
            op["requestBody"]["description"] = _MULTIPART_SOURCE
    if ok_status == "200" and spec.creates is not None:
        op["description"] = "Success is 200 (convergence-api.md 0, a working ERP client, A-)."
    if spec.name == "documents":
        op["requestBody"] = document_request_body()
        op["responses"]["409"] = DOCUMENT_DUPLICATE
        op["description"] = documents_doc.DESCRIPTION
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
                "under its own base URL and base path and implements a subset of the routes (501 "
                "otherwise). Where the profile says so (AKTO, ATLAS, MOBILITES, OPCO EP, AFDAS: "
                "convergence-api.md section 0, a working ERP client, confidence A-), every call "
                "carries an OAuth2 client-credentials token as well as X-API-KEY; AFDAS's token is "
                "DPoP-bound (RFC 9449; the proof on calls is an assumption, C). Each OPCO's values "
                "and their sources: schemas/referentials/opco-profiles.json. Generated by "
                "relais_simulator.openapi; do not edit by hand."
            ),
        },
        "servers": _servers(),
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
                **_token_schemes(),
            },
        },
    }


# The token servers, with their sources (convergence-api.md; the profiles' "sources" say the same).
_TOKEN_SERVERS: dict[str, Json] = {
    "identityServer": {
        "description": "AKTO, ATLAS, MOBILITES: IdentityServer, scope api.read api.write, in "
        "addition to X-API-KEY (convergence-api.md 0, A-)",
        "tokenUrl": "/AKTO/SorApiIdentityServer/connect/token",
        "scopes": {"api.read": "read", "api.write": "write"},
    },
    "keycloak": {
        "description": "OPCO EP: Keycloak, realm interopco-partenaires, no scope, in addition to "
        "X-API-KEY (convergence-api.md 0, A-)",
        "tokenUrl": "/OPCOEP/realms/interopco-partenaires/protocol/openid-connect/token",
        "scopes": {},
    },
    "oktaDpop": {
        "description": "AFDAS: Okta with a DPoP proof (RS256, typ dpop+jwt, public JWK; jti, htm, "
        "htu, iat) on the token request (convergence-api.md 0, A-); calls carry Authorization: "
        "DPoP and a proof with ath (RFC 9449; C), and X-API-KEY",
        "tokenUrl": "/AFDAS/oauth2/default/v1/token",
        "scopes": {},
    },
}


def _servers() -> list[Json]:
    """One server per base path, naming its OPCOs and the source of that path (the profiles)."""
    by_path: dict[str, list[OpcoProfile]] = {}
    for profile in load_profiles(referential("opco-profiles.json")).values():
        by_path.setdefault(profile.base_path, []).append(profile)
    return [
        {
            "url": "http://127.0.0.1:8765/{opco}" + path,
            "description": f"{', '.join(p.code.value for p in group)}: "
            + group[0].sources.get("base_path", "source not given"),
            "variables": {
                "opco": {"default": group[0].code.value, "enum": [p.code.value for p in group]}
            },
        }
        for path, group in by_path.items()
    ]


def _token_schemes() -> Json:
    return {
        name: {
            "type": "oauth2",
            "description": server["description"],
            "flows": {
                "clientCredentials": {"tokenUrl": server["tokenUrl"], "scopes": server["scopes"]}
            },
        }
        for name, server in _TOKEN_SERVERS.items()
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
