"""The convergence routes of an OPCO (schemas/convergence/README.md), behind faults, limits, auth.

Order of the gates for a request to ``/<OPCO>/ApiEchangeCFA/vN/<route>``:
fault injection (down, latency, drop, timeout, 5xx, 429) -> rate limit (429) -> capability (501)
-> EDITEUR/LOGICIEL/VERSION (400) -> OAuth2 bearer where the profile asks (401) -> X-API-KEY
(401 missing, 403 unknown or expired)
-> the route's own checks (400/403/404/409/422) -> the answer. Every request leaves one record.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile
from relais_simulator.auth import CfaKey
from relais_simulator.faults import FaultKind
from relais_simulator.model import Dossier, Echeance, Facture, FactureLine
from relais_simulator.ratelimit import retry_after_header
from relais_simulator.records import RequestRecord
from relais_simulator.routes import RouteSpec, dossier_capability, match
from relais_simulator.state import Simulator
from relais_simulator.states import DossierEtat
from relais_simulator.store import Rejection, digest, natural_key
from relais_simulator.validation import structural_errors
from relais_simulator.wire import (
    JsonResponse,
    cents,
    error_item,
    error_response,
    euros,
    read_date,
    wire_date,
)

logger = logging.getLogger("relais_simulator")
OPCO_BY_NAME: dict[str, OpcoCode] = {c.value: c for c in OpcoCode}
TRANSPORT_KEY = "relais_sim.transport"
SOFTWARE_HEADERS = ("EDITEUR", "LOGICIEL", "VERSION")
NOT_IMPLEMENTED = "Route non implémentée par cet OPCO"


class LostResponse(Response):
    """No answer at all: optionally hang, then close the connection without a byte."""

    def __init__(self, hang_s: float = 0.0) -> None:
        super().__init__(status_code=0)
        self.hang_s = hang_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hang_s > 0:
            await asyncio.sleep(self.hang_s)
        transport = scope.get(TRANSPORT_KEY)
        if transport is None:
            raise ConnectionAbortedError("simulated dropped connection")
        transport.close()
        # let the server see the connection lost before the app returns (no 500 written)
        await asyncio.sleep(0)
        await asyncio.sleep(0)


class Context:
    """One request being served: who, what, and its record."""

    __slots__ = ("cfa", "opco", "profile", "rec", "request", "version")

    def __init__(
        self,
        request: Request,
        opco: OpcoCode,
        profile: OpcoProfile,
        version: str,
        rec: RequestRecord,
    ) -> None:
        self.request = request
        self.opco = opco
        self.profile = profile
        self.version = version
        self.rec = rec
        self.cfa: CfaKey | None = None

    @property
    def siret(self) -> str:
        assert self.cfa is not None
        return self.cfa.siret


Handler = Callable[[Simulator, Context], Awaitable[Response]]


class ConvergenceApp:
    """The raw ASGI app mounted at ``/{opco}/ApiEchangeCFA/{rest:path}``."""

    def __init__(self, sim: Simulator, openapi: Callable[[OpcoCode], Json]) -> None:
        self.sim = sim
        self._openapi = openapi
        self._handlers: dict[str, Handler] = {
            "status": status,
            "dossiers_post": post_dossier,
            "dossiers_etats": dossiers_etats,
            "dossiers_liste": dossiers_liste,
            "dossier_detail": dossier_detail,
            "conventions": post_convention,
            "factures": post_facture,
            "factures_etats": factures_etats,
            "certificats": post_certificat,
            "documents": post_document,
            "rupture": post_rupture,
            "cfakeyinfo": cfakeyinfo,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.dispatch(request)
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        sim = self.sim
        params = request.path_params
        opco = OPCO_BY_NAME.get(params.get("opco", ""))
        rest: str = params.get("rest", "")
        if opco is None:
            return self._other(request, "unknown", error_response(404, "OPCO inconnu"))
        if rest == "openapi.json" and request.method == "GET":
            return self._other(request, "openapi", JsonResponse(self._openapi(opco)), opco)
        spec, version, exists = match(request.method, rest)
        if spec is None or version is None:
            if exists:
                answer = error_response(405, "Méthode non autorisée")
            else:
                answer = error_response(404, "Ressource inconnue")
            return self._other(request, "unknown", answer, opco)
        rec = RequestRecord(
            at=time.time(),
            day=sim.clock.day(),
            method=request.method,
            opco=opco.value,
            route=spec.name,
            version=version,
        )
        if request.method == "POST":  # a digest of the exact bytes received, never the body
            rec.body_sha256 = hashlib.sha256(await request.body()).hexdigest()
            rec.content_type = request.headers.get("content-type")
        generation = sim.generation
        try:
            response = await self._serve(request, opco, spec, version, rec)
        except Exception:  # a server answers even on its own bugs (logged, recorded as "error")
            logger.exception("simulator bug on %s %s", request.method, spec.name)
            rec.outcome = "error"
            response = error_response(500, "Erreur interne du simulateur")
        finally:
            if sim.generation == generation:  # a request from before a reset leaves no record
                sim.records.append(rec)
        rec.status = 0 if isinstance(response, LostResponse) else response.status_code
        return response

    def _other(
        self, request: Request, route: str, response: Response, opco: OpcoCode | None = None
    ) -> Response:
        """Record a request that is not a convergence route's, and answer it."""
        record_other(self.sim, request, route, response.status_code, opco)
        return response

    async def _serve(
        self, request: Request, opco: OpcoCode, spec: RouteSpec, version: str, rec: RequestRecord
    ) -> Response:
        sim = self.sim
        decision = sim.faults.decide(opco, spec.name)
        if decision.delay_s > 0:
            rec.delay_ms = decision.delay_s * 1000
            generation = sim.generation
            sim.delayed[opco] += 1
            try:
                await asyncio.sleep(decision.delay_s)
            finally:
                sim.delayed[opco] -= 1
            if sim.generation != generation:
                # reset while it slept: it must not act on (nor be recorded in) the new state
                return LostResponse()
        kind = decision.kind
        if kind is not FaultKind.NONE and kind is not FaultKind.STORED_LOST:
            rec.outcome = f"fault:{kind.value}"
            if kind is FaultKind.DROP:
                return LostResponse()
            if kind is FaultKind.TIMEOUT:
                return LostResponse(hang_s=decision.hang_s)
            headers = None
            if decision.status in (429, 503):
                headers = {"Retry-After": str(decision.retry_after_s)}
            message = {
                FaultKind.DOWN: "Service indisponible",
                FaultKind.THROTTLE: "Limite de requêtes atteinte",
            }.get(kind, "Erreur interne du serveur")
            return error_response(decision.status, message, headers=headers)
        wait = sim.throttle(opco)
        if wait > 0:
            rec.outcome = "rate_limited"
            return error_response(
                429,
                "Limite de requêtes atteinte",
                headers={"Retry-After": retry_after_header(wait)},
            )
        profile = sim.profiles[opco]
        capability = (
            dossier_capability(version) if spec.name == "dossiers_post" else spec.capability
        )
        if capability is not None and not profile.capabilities.has(capability):
            rec.outcome = "not_implemented"
            return error_response(501, NOT_IMPLEMENTED)
        ctx = Context(request, opco, profile, version, rec)
        denied = authenticate(sim, ctx, allow_expired=spec.name == "cfakeyinfo")
        if denied is not None:
            rec.outcome = "rejected"
            return denied
        try:
            response: Response = await self._handlers[spec.name](sim, ctx)
        except Rejection as exc:
            rec.outcome = "duplicate" if exc.status == 409 else "rejected"
            rec.ids.update(exc.ids)
            body: Json = {"message": exc.message, "errors": exc.errors}
            body.update(exc.ids)
            response = JsonResponse(body, status_code=exc.status)
        if kind is FaultKind.STORED_LOST:
            # processed (stored when it was a valid creation), then the answer is lost
            rec.outcome = "fault:stored_lost"
            return LostResponse(hang_s=decision.hang_s if decision.lost_mode == "hang" else 0.0)
        return response


# ---- gates ------------------------------------------------------------------------------------


def authenticate(sim: Simulator, ctx: Context, *, allow_expired: bool = False) -> Response | None:
    headers = ctx.request.headers
    missing = [h for h in SOFTWARE_HEADERS if not headers.get(h, "").strip()]
    if missing:
        return error_response(
            400,
            "En-têtes obligatoires manquants",
            [error_item("ENTETE_OBLIGATOIRE", h, "En-tête obligatoire") for h in missing],
        )
    if ctx.profile.auth.oauth2 is not None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not sim.oauth.check(ctx.opco, token.strip()):
            return error_response(
                401,
                "Jeton d'accès absent, invalide ou expiré",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
    key_value = headers.get(ctx.profile.auth.api_key_header, "").strip()
    if not key_value:  # no credential at all: 401 (convergence-api.md, appendix A)
        return error_response(
            401,
            "Clé API CFA absente",
            headers={"WWW-Authenticate": f'ApiKey header="{ctx.profile.auth.api_key_header}"'},
        )
    key = sim.keys.lookup(ctx.opco, key_value)
    if key is None:
        return error_response(403, "Clé API CFA absente ou inconnue")
    ctx.cfa = key
    ctx.rec.cfa_siret = key.siret
    if not allow_expired and key.expiry < sim.clock.today():
        return error_response(403, "clé API CFA expirée")
    return None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def read_json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body, parse_constant=_no_constants)  # no NaN / Infinity
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Rejection(400, "Corps JSON invalide") from None


def _bad_request(champ: str, description: str, code: str = "CHAMP_OBLIGATOIRE") -> Rejection:
    return Rejection(400, "Requête invalide", [error_item(code, champ, description)])


def _string(body: Json, name: str) -> str:
    value = body.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise _bad_request(name, "Champ obligatoire")
    return value.strip()


def _object(value: Any, champ: str) -> Json:
    if not isinstance(value, dict):
        raise _bad_request(champ, "Objet JSON attendu", "FORMAT")
    return value


def _page(request: Request) -> int:
    raw = request.query_params.get("numeroPage", "1")
    try:
        page = int(raw)
    except ValueError:
        raise _bad_request("numeroPage", "Entier attendu", "FORMAT") from None
    if page < 1 or page > 1_000_000:
        raise _bad_request("numeroPage", "Numéro de page à partir de 1", "FORMAT")
    return page


def _wrap(ctx: Context, body: Json) -> Response:
    if ctx.profile.quirks.wrap_page_in_array:
        return JsonResponse([body])
    return JsonResponse(body)


# ---- routes -----------------------------------------------------------------------------------


async def status(sim: Simulator, ctx: Context) -> Response:
    return JsonResponse({"status": "OK", "opco": ctx.opco.value, "version": sim.config.version})


async def cfakeyinfo(sim: Simulator, ctx: Context) -> Response:
    assert ctx.cfa is not None
    expired = ctx.cfa.expiry < sim.clock.today()
    return JsonResponse(
        {
            "status": "error" if expired else "success",
            "dateFinValidite": wire_date(ctx.cfa.expiry),
            "comment": "clé API CFA expirée" if expired else "",
        }
    )


async def post_dossier(sim: Simulator, ctx: Context) -> Response:
    body = await read_json(ctx.request)
    body_bytes = await ctx.request.body()  # cached: the bytes just parsed, kept as the record
    # no await below this line: the duplicate check and the creation are one atomic step
    if not isinstance(body, dict) or not isinstance(body.get("cerfa"), dict):
        raise _bad_request("cerfa", "Objet cerfa attendu")
    cerfa: Json = body["cerfa"]
    structural = structural_errors(cerfa)
    if structural:
        raise Rejection(400, "Dossier invalide", structural)
    of_siret = str(cerfa["organismeFormation"].get("siret", "")).strip()
    if of_siret != ctx.siret:
        raise Rejection(
            403,
            "La clé API ne correspond pas à l'organisme de formation du dossier",
            [error_item("HABILITATION", "organismeFormation.siret", "SIRET différent de la clé")],
        )
    key = natural_key(cerfa)
    if key is None:
        raise _bad_request("cerfa", "Clé naturelle du dossier incomplète")
    store = sim.store(ctx.opco)
    ctx.rec.natural_key = digest(key)
    existing = store.find_duplicate_dossier(ctx.rec.natural_key)
    if existing is not None:
        raise Rejection(409, "Dossier déjà transmis", ids=store.dossier_ids(existing))
    rule_errors = sim.checker.rules(cerfa, sim.clock.today())
    if rule_errors:
        raise Rejection(422, "Dossier non conforme aux règles de contrôle", rule_errors)
    d = store.create_dossier(ctx.siret, key, cerfa, sim.clock.day(), ctx.version, body_bytes)
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids = {"numeroInterne": d.numero_interne, "numeroExterne": d.numero_externe}
    return JsonResponse(
        {
            "numeroInterne": d.numero_interne,
            "numeroExterne": d.numero_externe,
            "etat": d.etat.value,
        },
        status_code=201,
    )


def etat_item(d: Dossier) -> Json:
    return {
        "numeroInterne": d.numero_interne,
        "numeroExterne": d.numero_externe,
        "numeroDeca": d.numero_deca,
        "etat": d.etat.value,
    }


async def dossiers_etats(sim: Simulator, ctx: Context) -> Response:
    page = _page(ctx.request)
    store = sim.store(ctx.opco)
    ids = store.dossiers_of(ctx.siret)
    size = ctx.profile.page_size
    chunk = ids[(page - 1) * size : page * size]
    items = [etat_item(store.dossiers[i]) for i in chunk]
    return _wrap(
        ctx, {"total": len(ids), "count": len(items), "page": page, "EtatDossierResult": items}
    )


def read_cerfa(d: Dossier) -> Json:
    cerfa = dict(d.cerfa)
    if d.numero_deca is not None or d.date_rupture is not None:
        contrat = dict(cerfa.get("contrat") or {})
        if d.numero_deca is not None:
            contrat["noContrat"] = d.numero_deca
        if d.date_rupture is not None:
            contrat["dateRupture"] = wire_date(d.date_rupture)
        cerfa["contrat"] = contrat
    cerfa["numeroInterne"] = d.numero_interne
    cerfa["numeroExterne"] = d.numero_externe
    cerfa["numeroDeca"] = d.numero_deca
    cerfa["etat"] = d.etat.value
    cerfa["commentaireEtat"] = d.commentaire
    return cerfa


async def dossiers_liste(sim: Simulator, ctx: Context) -> Response:
    wanted: list[str] = []
    for raw in ctx.request.query_params.getlist("numerosInternes"):
        wanted.extend(x.strip() for x in raw.split(",") if x.strip())
    if not wanted:
        raise _bad_request("numerosInternes", "Au moins un numéro interne attendu")
    store = sim.store(ctx.opco)
    out: list[Json] = []
    for ident in wanted[:500]:
        d = store.dossiers.get(ident)
        if d is not None and d.cfa_siret == ctx.siret:
            out.append({"cerfa": read_cerfa(d)})
    return JsonResponse(out)


def echeance_item(ctx: Context, e: Echeance, iban: str | None) -> Json:
    return {
        "numero": e.numero,
        "codification": e.codification,
        "montantTotal": euros(e.montant_total),
        "montantRegle": euros(e.montant_regle),
        "montantEnCoursInstruction": euros(e.montant_en_cours),
        "dateOuverture": wire_date(e.date_ouverture),
        "dateDebut": wire_date(e.date_debut),
        "dateFin": wire_date(e.date_fin),
        ctx.profile.quirks.iban_field: iban,
    }


def nature_frais(ctx: Context, nature: str) -> str:
    return nature.title() if ctx.profile.quirks.nature_frais_title_case else nature


async def dossier_detail(sim: Simulator, ctx: Context) -> Response:
    ident = ctx.request.query_params.get("numeroInterne", "").strip()
    if not ident:
        raise _bad_request("numeroInterne", "Paramètre obligatoire")
    store = sim.store(ctx.opco)
    d = store.dossier_for(ctx.siret, ident)
    ctx.rec.ids = {"numeroInterne": d.numero_interne}
    iban = sim.iban_by_cfa.get((ctx.opco, d.cfa_siret))
    iban_field = ctx.profile.quirks.iban_field
    return JsonResponse(
        {
            "cerfa": read_cerfa(d),
            "engagement": None if d.engagement_cents is None else euros(d.engagement_cents),
            "echeances": [echeance_item(ctx, e, iban) for e in d.echeances],
            "engagementsFraisAnnexe": [
                {
                    "natureFrais": nature_frais(ctx, f.nature),
                    "quantite": f.quantite,
                    "prixUnitaire": euros(f.prix_unitaire_cents),
                    "montantTotal": euros(f.montant_cents),
                }
                for f in d.frais
            ],
            "detailsFacturation": {
                iban_field: iban,
                "plafondFraisPremierEquipement": 500.0,
                "fraisPremierEquipementRegles": 0.0,
                "plafondFraisMobilite": 600.0,
                "fraisMobiliteRegles": 0.0,
                "periodesFraisAnnexes": [],
            },
        }
    )


async def post_convention(sim: Simulator, ctx: Context) -> Response:
    body = _object(await read_json(ctx.request), "body")
    ident = _string(body, "numeroInterneDossier")
    couts = body.get("couts")
    if couts is not None and not isinstance(couts, dict):
        raise _bad_request("couts", "Objet attendu", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterneDossier": ident}
    d = store.dossier_for(ctx.siret, ident)
    if d.numero_interne not in store.conventions:
        sim.check_followup("convention", body)
    c = store.add_convention(d, couts or {})
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["idConvention"] = c.id_convention
    return JsonResponse(
        {"idConvention": c.id_convention, "numeroInterneDossier": d.numero_interne},
        status_code=201,
    )


def _facture_lines(body: Json) -> list[FactureLine]:
    raw = body.get("dossiers")
    if not isinstance(raw, list) or not raw:
        raise _bad_request("dossiers", "Au moins une ligne de dossier attendue")
    lines: list[FactureLine] = []
    for i, item in enumerate(raw[:200]):
        item = _object(item, f"dossiers[{i}]")
        ident = item.get("numeroInterneDossier")
        numero = item.get("numeroEcheance")
        montant = cents(item.get("montant"))
        if not isinstance(ident, str) or not ident.strip():
            raise _bad_request(f"dossiers[{i}].numeroInterneDossier", "Champ obligatoire")
        if isinstance(numero, bool) or not isinstance(numero, int) or numero < 1:
            raise _bad_request(f"dossiers[{i}].numeroEcheance", "Entier positif attendu", "FORMAT")
        if montant is None or montant <= 0 or montant > 10**11:
            raise _bad_request(f"dossiers[{i}].montant", "Montant positif attendu", "FORMAT")
        lines.append(FactureLine(ident.strip(), numero, montant))
    return lines


async def post_facture(sim: Simulator, ctx: Context) -> Response:
    body = _object(await read_json(ctx.request), "body")
    reference = _string(body, "referenceFactureCFA")
    montant = cents(body.get("montantFacture"))
    if montant is None or montant <= 0 or montant > 10**11:
        raise _bad_request("montantFacture", "Montant positif attendu", "FORMAT")
    of = body.get("organismeFormation")
    iban: str | None = None
    if of is not None:
        of = _object(of, "organismeFormation")
        siret = of.get("siret")
        if siret is not None and str(siret).strip() != ctx.siret:
            raise Rejection(
                403,
                "La clé API ne correspond pas à l'organisme de formation de la facture",
                [error_item("HABILITATION", "organismeFormation.siret", "SIRET différent")],
            )
        raw_iban = of.get("iban", of.get("IBAN"))
        iban = raw_iban if isinstance(raw_iban, str) else None
    lines = _facture_lines(body)
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"referenceFactureCFA": reference}
    if len({line.numero_interne_dossier for line in lines}) == 1:
        ctx.rec.ids["numeroInterneDossier"] = lines[0].numero_interne_dossier
    if store.find_facture(ctx.siret, reference) is None:
        sim.check_followup("facture", body)
    f = store.add_facture(
        ctx.siret,
        reference,
        montant,
        read_date(body.get("dateFacture")),
        iban,
        lines,
        sim.clock.day(),
    )
    if iban:
        sim.iban_by_cfa[(ctx.opco, ctx.siret)] = iban
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["numeroInterneFacture"] = f.numero_interne_facture
    return JsonResponse(
        {
            "numeroInterneFacture": f.numero_interne_facture,
            "referenceFactureCFA": f.reference,
            "etatFacture": f.etat.value,
        },
        status_code=201,
    )


def facture_item(ctx: Context, f: Facture, dossiers: dict[str, Dossier]) -> Json:
    return {
        "numeroInterneFacture": f.numero_interne_facture,
        "referenceFactureCFA": f.reference,
        "montantFacture": euros(f.montant),
        "etatFacture": f.etat.value,
        "referenceVirement": f.reference_virement,
        "dateReglement": wire_date(f.date_reglement),
        "commentaire": f.commentaire,
        "organismeFormation": {"siret": f.cfa_siret, ctx.profile.quirks.iban_field: f.iban},
        "dossiers": [
            {
                "numeroInterneDossier": line.numero_interne_dossier,
                "numeroExterneDossier": (
                    dossiers[line.numero_interne_dossier].numero_externe
                    if line.numero_interne_dossier in dossiers
                    else None
                ),
                "numeroEcheance": line.numero_echeance,
                "montant": euros(line.montant),
            }
            for line in f.lines
        ],
    }


async def factures_etats(sim: Simulator, ctx: Context) -> Response:
    page = _page(ctx.request)
    store = sim.store(ctx.opco)
    ids = store.factures_of(ctx.siret)
    size = ctx.profile.page_size
    chunk = ids[(page - 1) * size : page * size]
    items = [facture_item(ctx, store.factures[i], store.dossiers) for i in chunk]
    return _wrap(ctx, {"total": len(ids), "count": len(items), "page": page, "factures": items})


async def post_certificat(sim: Simulator, ctx: Context) -> Response:
    body = _object(await read_json(ctx.request), "body")
    ident = _string(body, "numeroInterneDossier")
    echeance = _object(body.get("echeance"), "echeance")
    numero = echeance.get("numero")
    if isinstance(numero, bool) or not isinstance(numero, int) or numero < 1:
        raise _bad_request("echeance.numero", "Entier positif attendu", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterneDossier": ident, "numeroEcheance": str(numero)}
    d = store.dossier_for(ctx.siret, ident)
    if (d.numero_interne, numero) not in store.certificats:
        sim.check_followup("certificat", body)
    c = store.add_certificat(d, numero)
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["idCertificat"] = c.id_certificat
    return JsonResponse({"idCertificat": c.id_certificat}, status_code=201)


async def post_document(sim: Simulator, ctx: Context) -> Response:
    body = _object(await read_json(ctx.request), "body")
    type_fichier = _string(body, "typeFichier")
    objets = body.get("objets")
    if not isinstance(objets, list) or not objets:
        raise _bad_request("objets", "Au moins un objet attendu")
    pairs: list[tuple[str, str]] = []
    for i, o in enumerate(objets[:50]):
        o = _object(o, f"objets[{i}]")
        type_objet, id_objet = o.get("typeObjet"), o.get("idObjet")
        if not isinstance(type_objet, str) or not isinstance(id_objet, str) or not id_objet:
            raise _bad_request(f"objets[{i}]", "typeObjet et idObjet attendus")
        pairs.append((type_objet, id_objet))
    fichier = body.get("fichier")
    if not isinstance(fichier, str):
        raise _bad_request("fichier", "Fichier en base64 attendu")
    try:
        content = base64.b64decode(fichier, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_request("fichier", "Base64 invalide", "FORMAT") from None
    store = sim.store(ctx.opco)
    for type_objet, id_objet in pairs:
        if not store.has_object(ctx.siret, type_objet, id_objet):
            raise Rejection(404, "Objet introuvable", [error_item("OBJET", "objets", type_objet)])
    dossier_ids = [i for t, i in pairs if t == "dossier"]
    if dossier_ids:
        ctx.rec.ids = {"numeroInterneDossier": dossier_ids[0]}
    key = "\x1f".join(
        [type_fichier, *sorted(f"{t}:{i}" for t, i in pairs), hashlib.sha256(content).hexdigest()]
    )
    doc = store.add_document(
        ctx.siret, hashlib.sha256(key.encode()).hexdigest(), type_fichier, len(content)
    )
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["idDocument"] = doc.id_document
    return JsonResponse({"idDocument": doc.id_document}, status_code=201)


async def post_rupture(sim: Simulator, ctx: Context) -> Response:
    body = _object(await read_json(ctx.request), "body")
    ident = _string(body, "numeroInterne")
    date_rupture = read_date(body.get("dateRupture"))
    if date_rupture is None:
        raise _bad_request("dateRupture", "Date attendue", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterne": ident}
    d = store.dossier_for(ctx.siret, ident)
    if d.etat is not DossierEtat.RUPTURE:
        sim.check_followup("rupture", body)
    store.rupture(d, date_rupture, sim.clock.day())
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    return JsonResponse({"numeroInterne": d.numero_interne, "etat": d.etat.value})


# ---- OAuth2 token endpoint (AKTO) ------------------------------------------------------------


def record_other(
    sim: Simulator, request: Request, route: str, status: int, opco: OpcoCode | None = None
) -> None:
    """One record for a request outside the convergence routes (no CFA, no ids; the path is cut
    so a junk request cannot bloat the log)."""
    name = opco.value if opco is not None else request.path_params.get("opco", "")[:40]
    sim.records.append(
        RequestRecord(
            at=time.time(),
            day=sim.clock.day(),
            method=request.method,
            opco=name,
            route=route,
            version="",
            status=status,
            outcome="ok" if status < 400 else "rejected",
            path=request.url.path[:200],
        )
    )


async def oauth_token(sim: Simulator, request: Request) -> Response:
    response = await _oauth_token(sim, request)
    record_other(
        sim,
        request,
        "oauth2_token",
        response.status_code,
        OPCO_BY_NAME.get(request.path_params.get("opco", "")),
    )
    return response


async def _oauth_token(sim: Simulator, request: Request) -> Response:
    opco = OPCO_BY_NAME.get(request.path_params.get("opco", ""))
    if opco is None or sim.profiles[opco].auth.oauth2 is None:
        return error_response(404, "Ressource inconnue")
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = {k: v[0] for k, v in parse_qs(raw).items() if v}
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    basic = request.headers.get("authorization", "")
    if basic.lower().startswith("basic ") and not client_id:
        try:
            decoded = base64.b64decode(basic[6:].strip()).decode()
            client_id, _, client_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            pass
    if form.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status_code=400)
    issued = sim.oauth.issue(opco, client_id, client_secret)
    if issued is None:
        return JsonResponse({"error": "invalid_client"}, status_code=401)
    token, ttl = issued
    return JsonResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )
