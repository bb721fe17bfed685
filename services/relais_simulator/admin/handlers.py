"""The admin API's handlers: plain functions of the request, one per route and method.

Each reads the simulator from the app's state (``inputs.simulator``); the token guard and the route
table are in ``relais_simulator.admin``. Sections: credentials, faults, clock and settings, books.
"""

from __future__ import annotations

import json
from collections import Counter

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from relais.domain.dates import parse_date
from relais.domain.opco import OpcoCode
from relais_simulator.admin.inputs import (
    AdvanceIn,
    AgeIn,
    EtatIn,
    KeyIn,
    OAuthClientIn,
    ResetIn,
    ScaleIn,
    SettingsIn,
    TtlIn,
    listing,
    opco_of,
    read_body,
    simulator,
    validation_errors,
)
from relais_simulator.admin.views import (
    clock_view,
    dossier_admin_view,
    facture_admin_view,
    settings_view,
)
from relais_simulator.auth import CfaKey, OAuthClient
from relais_simulator.faults import FaultSpec, parse_faults
from relais_simulator.states import TransitionError
from relais_simulator.wire import JsonResponse, error_response


async def health(request: Request) -> Response:
    return JsonResponse({"status": "OK", "validation": simulator(request).checker.source})


# --------------------------------------------------------------------------------------------
# Credentials: CFA keys, OAuth2 clients and tokens
# --------------------------------------------------------------------------------------------


async def list_keys(request: Request) -> Response:
    return JsonResponse({"keys": [k.masked() for k in simulator(request).keys.all()]})


async def add_key(request: Request) -> Response:
    body = await read_body(request, KeyIn)
    if isinstance(body, Response):
        return body
    try:
        expiry = parse_date(body.expiry)
    except ValueError:
        return error_response(400, "expiry: date attendue")
    simulator(request).keys.add(CfaKey(body.siret, body.opco, body.key, expiry))
    return JsonResponse({"added": True}, status_code=201)


async def delete_key(request: Request) -> Response:
    opco = opco_of(request.path_params["opco"])
    if opco is None or not simulator(request).keys.remove(opco, request.path_params["key"]):
        return error_response(404, "Clé inconnue")
    return JsonResponse({"deleted": True})


async def list_clients(request: Request) -> Response:
    clients = simulator(request).oauth.clients()
    return JsonResponse(
        {"clients": [{"opco": c.opco.value, "client_id": c.client_id} for c in clients]}
    )


async def add_client(request: Request) -> Response:
    body = await read_body(request, OAuthClientIn)
    if isinstance(body, Response):
        return body
    simulator(request).oauth.add(OAuthClient(body.opco, body.client_id, body.client_secret))
    return JsonResponse({"added": True}, status_code=201)


async def expire_tokens(request: Request) -> Response:
    return JsonResponse({"expired": simulator(request).oauth.expire_all()})


async def age_tokens(request: Request) -> Response:
    body = await read_body(request, AgeIn)
    if isinstance(body, Response):
        return body
    return JsonResponse({"aged": simulator(request).oauth.age(body.seconds)})


async def set_ttl(request: Request) -> Response:
    body = await read_body(request, TtlIn)
    if isinstance(body, Response):
        return body
    simulator(request).oauth.ttl_s = body.ttl_s
    return JsonResponse({"ttl_s": body.ttl_s})


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


async def get_faults(request: Request) -> Response:
    faults = simulator(request).faults
    return JsonResponse(
        {
            code.value: {**spec.model_dump(), "injected": faults.injected(code)}
            for code, spec in faults.specs().items()
        }
    )


async def clear_faults(request: Request) -> Response:
    simulator(request).faults.clear()
    return JsonResponse({"cleared": True})


async def put_fault(request: Request) -> Response:
    name = request.path_params["opco"]
    opco = opco_of(name)
    if opco is None and name != "*":
        return error_response(404, "OPCO inconnu")
    body = await read_body(request, FaultSpec)
    if isinstance(body, Response):
        return body
    targets = list(OpcoCode) if opco is None else [opco]
    faults = simulator(request).faults
    for code in targets:
        faults.set(code, body.model_copy())
    return JsonResponse({code.value: body.model_dump() for code in targets})


async def put_faults(request: Request) -> Response:
    """The ``--faults`` file's shape at run time: ``{"AKTO": {...}, "*": {...}}``; the OPCO
    it names (every OPCO with ``*``) get their spec, the others keep theirs."""
    try:
        raw = json.loads(await request.body() or b"{}")
        if not isinstance(raw, dict):
            raise ValueError("an object {OPCO: FaultSpec} is expected")
        specs = parse_faults(raw)
    except ValidationError as exc:
        return error_response(400, "Corps invalide", validation_errors(exc))
    except ValueError as exc:
        return error_response(400, f"Corps invalide: {exc}")
    named = set(OpcoCode) if "*" in raw else {c for c in OpcoCode if c.value in raw}
    faults = simulator(request).faults
    for code in named:
        faults.set(code, specs[code])
    return JsonResponse({c.value: specs[c].model_dump() for c in sorted(named)})


async def delete_fault(request: Request) -> Response:
    opco = opco_of(request.path_params["opco"])
    if opco is None:
        return error_response(404, "OPCO inconnu")
    simulator(request).faults.clear(opco)
    return JsonResponse({"cleared": opco.value})


# --------------------------------------------------------------------------------------------
# Clock and settings
# --------------------------------------------------------------------------------------------


async def get_clock(request: Request) -> Response:
    return JsonResponse(clock_view(simulator(request)))


async def advance(request: Request) -> Response:
    body = await read_body(request, AdvanceIn)
    if isinstance(body, Response):
        return body
    sim = simulator(request)
    sim.clock.advance(body.days)
    sim.tick_all()
    return JsonResponse(clock_view(sim))


async def scale(request: Request) -> Response:
    body = await read_body(request, ScaleIn)
    if isinstance(body, Response):
        return body
    sim = simulator(request)
    sim.clock.set_scale(body.day_seconds)
    return JsonResponse(clock_view(sim))


async def get_settings(request: Request) -> Response:
    return JsonResponse(settings_view(simulator(request)))


async def put_settings(request: Request) -> Response:
    body = await read_body(request, SettingsIn)
    if isinstance(body, Response):
        return body
    sim = simulator(request)
    for name, value in body.model_dump(exclude_none=True).items():
        if name == "rate_limit":
            sim.rate_limit = value
        elif name == "followup_rules":
            sim.followup_rules = value
        else:
            setattr(sim.instruction, name, value)
    return JsonResponse(settings_view(sim))


async def reset(request: Request) -> Response:
    body = await read_body(request, ResetIn)
    if isinstance(body, Response):
        return body
    simulator(request).reset(credentials=body.credentials)
    return JsonResponse({"reset": True})


# --------------------------------------------------------------------------------------------
# Books: the request record, counts, dossiers and factures
# --------------------------------------------------------------------------------------------


async def records(request: Request) -> Response:
    sim = simulator(request)
    q = request.query_params
    try:
        after = int(q.get("after", "0"))
        limit = max(1, min(int(q.get("limit", "1000")), 100_000))
    except ValueError:
        return error_response(400, "after/limit: entiers attendus")
    found = sim.records.query(
        after=after,
        limit=limit,
        opco=q.get("opco"),
        route=q.get("route"),
        cfa_siret=q.get("siret"),
        numero_interne=q.get("numeroInterne"),
    )
    return JsonResponse(
        {
            "records": [r.to_json() for r in found],
            "next_after": found[-1].seq if found else after,
            "total": len(sim.records),
            "dropped": sim.records.dropped,
        }
    )


async def stats(request: Request) -> Response:
    sim = simulator(request)
    sim.tick_all()
    by: Counter[str] = Counter()
    for r in sim.records:
        by[f"{r.opco} {r.route} {r.status} {r.outcome}"] += 1
    return JsonResponse(
        {
            "requests": len(sim.records),
            "by_opco_route_status_outcome": dict(sorted(by.items())),
            "delayed": {code.value: n for code, n in sorted(sim.delayed.items()) if n},
            "dossiers": {
                code.value: dict(Counter(d.etat.value for d in s.dossiers.values()))
                for code, s in sim.stores.items()
                if s.dossiers
            },
            "factures": {
                code.value: dict(Counter(f.etat.value for f in s.factures.values()))
                for code, s in sim.stores.items()
                if s.factures
            },
            "documents": {
                code.value: len(s.documents) for code, s in sim.stores.items() if s.documents
            },
        }
    )


async def dossiers(request: Request) -> Response:
    sim = simulator(request)
    sim.tick_all()
    out = listing(request, lambda store: store.dossiers.values(), dossier_admin_view)
    return JsonResponse({"dossiers": out})


async def dossier(request: Request) -> Response:
    opco = opco_of(request.path_params["opco"])
    if opco is None:
        return error_response(404, "OPCO inconnu")
    d = simulator(request).store(opco).dossiers.get(request.path_params["numero"])
    if d is None:
        return error_response(404, "Dossier introuvable")
    return JsonResponse({"opco": opco.value, **dossier_admin_view(d)})


async def set_etat(request: Request) -> Response:
    opco = opco_of(request.path_params["opco"])
    if opco is None:
        return error_response(404, "OPCO inconnu")
    sim = simulator(request)
    store = sim.store(opco)
    d = store.dossiers.get(request.path_params["numero"])
    if d is None:
        return error_response(404, "Dossier introuvable")
    body = await read_body(request, EtatIn)
    if isinstance(body, Response):
        return body
    try:
        store.force_etat(d, body.etat, sim.clock.day(), body.commentaire)
    except TransitionError as exc:
        return error_response(409, str(exc))
    return JsonResponse({"opco": opco.value, **dossier_admin_view(d)})


async def factures(request: Request) -> Response:
    sim = simulator(request)
    sim.tick_all()
    out = listing(request, lambda store: store.factures.values(), facture_admin_view)
    return JsonResponse({"factures": out})
