"""Admin API under ``/_admin`` (``Authorization: Bearer <admin token>``; 401 otherwise).

GET    /_admin/health                       liveness (no data)
GET    /_admin/keys            POST /_admin/keys {siret,opco,key,expiry}
DELETE /_admin/keys/{opco}/{key}
GET    /_admin/oauth-clients   POST /_admin/oauth-clients {opco,client_id,client_secret}
POST   /_admin/oauth/expire-tokens          every issued token becomes invalid (-> 401)
PUT    /_admin/oauth/ttl {ttl_s}            lifetime of tokens issued from now on
POST   /_admin/oauth/age {seconds}          every issued token is that much older (tests: expiry
                                            without waiting for it on the wall clock)
GET    /_admin/faults          DELETE /_admin/faults
PUT    /_admin/faults {"AKTO": {FaultSpec}, "*": {...}}   (the --faults file's shape)
PUT    /_admin/faults/{opco} {FaultSpec}    DELETE /_admin/faults/{opco}   ({opco} "*": all)
       (POST is accepted wherever PUT is)
GET    /_admin/clock           POST /_admin/clock/advance {days}
POST   /_admin/clock/scale {day_seconds}
GET    /_admin/settings        PUT /_admin/settings {refusal_rate, days..., rate_limit}
GET    /_admin/records?after=&limit=&opco=&route=&siret=&numeroInterne=
GET    /_admin/stats                        counts; "delayed": requests sleeping their latency now
GET    /_admin/dossiers?opco=&siret=        GET /_admin/dossiers/{opco}/{numeroInterne}
POST   /_admin/dossiers/{opco}/{numeroInterne}/etat {etat, commentaire}
GET    /_admin/factures?opco=&siret=
GET    /_admin/documents?opco=&siret=       GET /_admin/documents/{opco}/{id}/content (the bytes)
POST   /_admin/reset {credentials: true}

The handlers are plain functions of the request (``handlers.py``; the documents' in
``documents.py``); each reads the simulator from
the app's state (``app.state.simulator``, set by ``create_app``), and so does the token guard.
"""

from __future__ import annotations

import hmac
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relais_simulator.admin import documents as docs
from relais_simulator.admin import handlers as h
from relais_simulator.admin.inputs import Endpoint, simulator
from relais_simulator.wire import error_response

# path under /_admin, handler, methods (one path may appear on several rows, one per method set)
TABLE: tuple[tuple[str, Endpoint, list[str]], ...] = (
    ("/health", h.health, ["GET"]),
    ("/keys", h.list_keys, ["GET"]),
    ("/keys", h.add_key, ["POST"]),
    ("/keys/{opco}/{key}", h.delete_key, ["DELETE"]),
    ("/oauth-clients", h.list_clients, ["GET"]),
    ("/oauth-clients", h.add_client, ["POST"]),
    ("/oauth/expire-tokens", h.expire_tokens, ["POST"]),
    ("/oauth/ttl", h.set_ttl, ["PUT", "POST"]),
    ("/oauth/age", h.age_tokens, ["POST"]),
    ("/faults", h.get_faults, ["GET"]),
    ("/faults", h.clear_faults, ["DELETE"]),
    ("/faults", h.put_faults, ["PUT", "POST"]),
    ("/faults/{opco}", h.put_fault, ["PUT", "POST"]),
    ("/faults/{opco}", h.delete_fault, ["DELETE"]),
    ("/clock", h.get_clock, ["GET"]),
    ("/clock/advance", h.advance, ["POST"]),
    ("/clock/scale", h.scale, ["POST"]),
    ("/settings", h.get_settings, ["GET"]),
    ("/settings", h.put_settings, ["PUT", "POST"]),
    ("/records", h.records, ["GET"]),
    ("/stats", h.stats, ["GET"]),
    ("/dossiers", h.dossiers, ["GET"]),
    ("/dossiers/{opco}/{numero}", h.dossier, ["GET"]),
    ("/dossiers/{opco}/{numero}/etat", h.set_etat, ["POST"]),
    ("/factures", h.factures, ["GET"]),
    ("/documents", docs.documents, ["GET"]),
    ("/documents/{opco}/{numero}/content", docs.document_content, ["GET"]),
    ("/reset", h.reset, ["POST"]),
)


def authorized(request: Request) -> bool:
    """``Authorization: Bearer <the simulator's admin token>``, compared in constant time."""
    token = simulator(request).config.admin_token.encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def guarded(handler: Endpoint) -> Endpoint:
    """The handler behind the admin token: 401 (and no work done) without it."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        if not authorized(request):
            return error_response(
                401, "Jeton d'administration requis", headers={"WWW-Authenticate": "Bearer"}
            )
        return await handler(request)

    return endpoint


def admin_routes() -> list[Route]:
    """Every admin route, each behind the token guard."""
    return [Route("/_admin" + path, guarded(fn), methods=methods) for path, fn, methods in TABLE]
