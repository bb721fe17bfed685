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
POST   /_admin/reset {credentials: true}
"""

from __future__ import annotations

import hmac
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relais.domain.dates import parse_date
from relais.domain.opco import OpcoCode
from relais_simulator.auth import CfaKey, OAuthClient
from relais_simulator.faults import FaultSpec, parse_faults
from relais_simulator.model import Dossier, Facture
from relais_simulator.state import Simulator
from relais_simulator.states import DossierEtat, TransitionError
from relais_simulator.wire import JsonResponse, error_response, euros, wire_date

Json = dict[str, Any]
Endpoint = Callable[[Request], Awaitable[Response]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyIn(_Body):
    siret: str = Field(pattern=r"^[0-9]{14}$")
    opco: OpcoCode
    key: str = Field(min_length=1)
    expiry: str


class OAuthClientIn(_Body):
    opco: OpcoCode
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)


class AdvanceIn(_Body):
    days: float = Field(ge=0)


class ScaleIn(_Body):
    day_seconds: float = Field(ge=0)


class TtlIn(_Body):
    ttl_s: float = Field(gt=0)


class AgeIn(_Body):
    seconds: float = Field(ge=0)


class EtatIn(_Body):
    etat: DossierEtat
    commentaire: str | None = None


class ResetIn(_Body):
    credentials: bool = True


class SettingsIn(_Body):
    refusal_rate: float | None = Field(default=None, ge=0, le=1)
    days_to_instruction: float | None = Field(default=None, ge=0)
    days_to_decision_min: int | None = Field(default=None, ge=0)
    days_to_decision_max: int | None = Field(default=None, ge=0)
    facture_days_to_instruction: float | None = Field(default=None, ge=0)
    facture_days_to_payment: float | None = Field(default=None, ge=0)
    facture_refusal_rate: float | None = Field(default=None, ge=0, le=1)
    rate_limit: bool | None = None
    followup_rules: bool | None = None


def _opco(value: str) -> OpcoCode | None:
    try:
        return OpcoCode(value.upper())
    except ValueError:
        return None


async def _body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
        return model.model_validate(data)
    except (ValueError, ValidationError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        return error_response(
            400,
            "Corps invalide",
            [
                {"code": e["type"], "champ": ".".join(map(str, e["loc"])), "description": e["msg"]}
                for e in errors
            ],
        )


def dossier_admin_view(d: Dossier) -> Json:
    return {
        "numeroInterne": d.numero_interne,
        "numeroExterne": d.numero_externe,
        "numeroDeca": d.numero_deca,
        "cfaSiret": d.cfa_siret,
        "naturalKey": d.natural_key,
        "etat": d.etat.value,
        "commentaireEtat": d.commentaire,
        "version": d.version,
        "createdDay": d.created_day,
        "decisionDay": d.decision_day,
        "engagement": None if d.engagement_cents is None else euros(d.engagement_cents),
        "npec": None if d.npec_cents is None else euros(d.npec_cents),
        "echeances": [
            {
                "numero": e.numero,
                "montantTotal": euros(e.montant_total),
                "montantRegle": euros(e.montant_regle),
                "montantEnCoursInstruction": euros(e.montant_en_cours),
                "dateOuverture": wire_date(e.date_ouverture),
            }
            for e in d.echeances
        ],
        "idConvention": d.convention_id,
        "dateRupture": wire_date(d.date_rupture),
        "history": [{"day": day, "etat": etat} for day, etat in d.history],
    }


def facture_admin_view(f: Facture) -> Json:
    return {
        "numeroInterneFacture": f.numero_interne_facture,
        "referenceFactureCFA": f.reference,
        "cfaSiret": f.cfa_siret,
        "montantFacture": euros(f.montant),
        "etatFacture": f.etat.value,
        "lines": [
            {
                "numeroInterneDossier": line.numero_interne_dossier,
                "numeroEcheance": line.numero_echeance,
                "montant": euros(line.montant),
            }
            for line in f.lines
        ],
        "history": [{"day": day, "etat": etat} for day, etat in f.history],
    }


def admin_routes(sim: Simulator) -> list[Route]:
    token = sim.config.admin_token.encode()

    def guarded(fn: Endpoint) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            auth = request.headers.get("authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
                return error_response(
                    401, "Jeton d'administration requis", headers={"WWW-Authenticate": "Bearer"}
                )
            return await fn(request)

        return endpoint

    async def health(request: Request) -> Response:
        return JsonResponse({"status": "OK", "validation": sim.checker.source})

    async def list_keys(request: Request) -> Response:
        return JsonResponse({"keys": [k.masked() for k in sim.keys.all()]})

    async def add_key(request: Request) -> Response:
        body = await _body(request, KeyIn)
        if isinstance(body, Response):
            return body
        try:
            expiry = parse_date(body.expiry)
        except ValueError:
            return error_response(400, "expiry: date attendue")
        sim.keys.add(CfaKey(body.siret, body.opco, body.key, expiry))
        return JsonResponse({"added": True}, status_code=201)

    async def delete_key(request: Request) -> Response:
        opco = _opco(request.path_params["opco"])
        if opco is None or not sim.keys.remove(opco, request.path_params["key"]):
            return error_response(404, "Clé inconnue")
        return JsonResponse({"deleted": True})

    async def list_clients(request: Request) -> Response:
        return JsonResponse(
            {
                "clients": [
                    {"opco": c.opco.value, "client_id": c.client_id} for c in sim.oauth.clients()
                ]
            }
        )

    async def add_client(request: Request) -> Response:
        body = await _body(request, OAuthClientIn)
        if isinstance(body, Response):
            return body
        sim.oauth.add(OAuthClient(body.opco, body.client_id, body.client_secret))
        return JsonResponse({"added": True}, status_code=201)

    async def expire_tokens(request: Request) -> Response:
        return JsonResponse({"expired": sim.oauth.expire_all()})

    async def age_tokens(request: Request) -> Response:
        body = await _body(request, AgeIn)
        if isinstance(body, Response):
            return body
        return JsonResponse({"aged": sim.oauth.age(body.seconds)})

    async def set_ttl(request: Request) -> Response:
        body = await _body(request, TtlIn)
        if isinstance(body, Response):
            return body
        sim.oauth.ttl_s = body.ttl_s
        return JsonResponse({"ttl_s": body.ttl_s})

    async def get_faults(request: Request) -> Response:
        return JsonResponse(
            {
                code.value: {**spec.model_dump(), "injected": sim.faults.injected(code)}
                for code, spec in sim.faults.specs().items()
            }
        )

    async def clear_faults(request: Request) -> Response:
        sim.faults.clear()
        return JsonResponse({"cleared": True})

    async def put_fault(request: Request) -> Response:
        name = request.path_params["opco"]
        opco = _opco(name)
        if opco is None and name != "*":
            return error_response(404, "OPCO inconnu")
        body = await _body(request, FaultSpec)
        if isinstance(body, Response):
            return body
        targets = list(OpcoCode) if opco is None else [opco]
        for code in targets:
            sim.faults.set(code, body.model_copy())
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
            return error_response(
                400,
                "Corps invalide",
                [
                    {
                        "code": e["type"],
                        "champ": ".".join(map(str, e["loc"])),
                        "description": e["msg"],
                    }
                    for e in exc.errors()
                ],
            )
        except ValueError as exc:
            return error_response(400, f"Corps invalide: {exc}")
        named = set(OpcoCode) if "*" in raw else {c for c in OpcoCode if c.value in raw}
        for code in named:
            sim.faults.set(code, specs[code])
        return JsonResponse({c.value: specs[c].model_dump() for c in sorted(named)})

    async def delete_fault(request: Request) -> Response:
        opco = _opco(request.path_params["opco"])
        if opco is None:
            return error_response(404, "OPCO inconnu")
        sim.faults.clear(opco)
        return JsonResponse({"cleared": opco.value})

    def clock_view() -> Json:
        return {
            "day": sim.clock.day(),
            "today": sim.clock.today().isoformat(),
            "start": sim.clock.start.isoformat(),
            "day_seconds": sim.clock.day_seconds,
        }

    async def get_clock(request: Request) -> Response:
        return JsonResponse(clock_view())

    async def advance(request: Request) -> Response:
        body = await _body(request, AdvanceIn)
        if isinstance(body, Response):
            return body
        sim.clock.advance(body.days)
        sim.tick_all()
        return JsonResponse(clock_view())

    async def scale(request: Request) -> Response:
        body = await _body(request, ScaleIn)
        if isinstance(body, Response):
            return body
        sim.clock.set_scale(body.day_seconds)
        return JsonResponse(clock_view())

    def settings_view() -> Json:
        ins = sim.instruction
        return {
            "refusal_rate": ins.refusal_rate,
            "days_to_instruction": ins.days_to_instruction,
            "days_to_decision_min": ins.days_to_decision_min,
            "days_to_decision_max": ins.days_to_decision_max,
            "facture_days_to_instruction": ins.facture_days_to_instruction,
            "facture_days_to_payment": ins.facture_days_to_payment,
            "facture_refusal_rate": ins.facture_refusal_rate,
            "rate_limit": sim.rate_limit,
            "followup_rules": sim.followup_rules,
            "validation": sim.checker.source,
        }

    async def get_settings(request: Request) -> Response:
        return JsonResponse(settings_view())

    async def put_settings(request: Request) -> Response:
        body = await _body(request, SettingsIn)
        if isinstance(body, Response):
            return body
        for name, value in body.model_dump(exclude_none=True).items():
            if name == "rate_limit":
                sim.rate_limit = value
            elif name == "followup_rules":
                sim.followup_rules = value
            else:
                setattr(sim.instruction, name, value)
        return JsonResponse(settings_view())

    async def records(request: Request) -> Response:
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
            }
        )

    async def dossiers(request: Request) -> Response:
        sim.tick_all()
        q = request.query_params
        opco = _opco(q["opco"]) if "opco" in q else None
        siret = q.get("siret")
        out: list[Json] = []
        for code, s in sim.stores.items():
            if opco is not None and code is not opco:
                continue
            for d in s.dossiers.values():
                if siret is None or d.cfa_siret == siret:
                    out.append({"opco": code.value, **dossier_admin_view(d)})
        return JsonResponse({"dossiers": out})

    async def dossier(request: Request) -> Response:
        opco = _opco(request.path_params["opco"])
        if opco is None:
            return error_response(404, "OPCO inconnu")
        d = sim.store(opco).dossiers.get(request.path_params["numero"])
        if d is None:
            return error_response(404, "Dossier introuvable")
        return JsonResponse({"opco": opco.value, **dossier_admin_view(d)})

    async def set_etat(request: Request) -> Response:
        opco = _opco(request.path_params["opco"])
        if opco is None:
            return error_response(404, "OPCO inconnu")
        store = sim.store(opco)
        d = store.dossiers.get(request.path_params["numero"])
        if d is None:
            return error_response(404, "Dossier introuvable")
        body = await _body(request, EtatIn)
        if isinstance(body, Response):
            return body
        try:
            store.force_etat(d, body.etat, sim.clock.day(), body.commentaire)
        except TransitionError as exc:
            return error_response(409, str(exc))
        return JsonResponse({"opco": opco.value, **dossier_admin_view(d)})

    async def factures(request: Request) -> Response:
        sim.tick_all()
        q = request.query_params
        opco = _opco(q["opco"]) if "opco" in q else None
        siret = q.get("siret")
        out: list[Json] = []
        for code, s in sim.stores.items():
            if opco is not None and code is not opco:
                continue
            for f in s.factures.values():
                if siret is None or f.cfa_siret == siret:
                    out.append({"opco": code.value, **facture_admin_view(f)})
        return JsonResponse({"factures": out})

    async def reset(request: Request) -> Response:
        body = await _body(request, ResetIn)
        if isinstance(body, Response):
            return body
        sim.reset(credentials=body.credentials)
        return JsonResponse({"reset": True})

    table: list[tuple[str, Endpoint, list[str]]] = [
        ("/health", health, ["GET"]),
        ("/keys", list_keys, ["GET"]),
        ("/keys", add_key, ["POST"]),
        ("/keys/{opco}/{key}", delete_key, ["DELETE"]),
        ("/oauth-clients", list_clients, ["GET"]),
        ("/oauth-clients", add_client, ["POST"]),
        ("/oauth/expire-tokens", expire_tokens, ["POST"]),
        ("/oauth/ttl", set_ttl, ["PUT", "POST"]),
        ("/oauth/age", age_tokens, ["POST"]),
        ("/faults", get_faults, ["GET"]),
        ("/faults", clear_faults, ["DELETE"]),
        ("/faults", put_faults, ["PUT", "POST"]),
        ("/faults/{opco}", put_fault, ["PUT", "POST"]),
        ("/faults/{opco}", delete_fault, ["DELETE"]),
        ("/clock", get_clock, ["GET"]),
        ("/clock/advance", advance, ["POST"]),
        ("/clock/scale", scale, ["POST"]),
        ("/settings", get_settings, ["GET"]),
        ("/settings", put_settings, ["PUT", "POST"]),
        ("/records", records, ["GET"]),
        ("/stats", stats, ["GET"]),
        ("/dossiers", dossiers, ["GET"]),
        ("/dossiers/{opco}/{numero}", dossier, ["GET"]),
        ("/dossiers/{opco}/{numero}/etat", set_etat, ["POST"]),
        ("/factures", factures, ["GET"]),
        ("/reset", reset, ["POST"]),
    ]
    return [Route("/_admin" + path, guarded(fn), methods=methods) for path, fn, methods in table]
