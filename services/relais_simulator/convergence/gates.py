"""The gates before a route's handler: injected faults (delay, drop, timeout, an error status),
the rate limit, the OPCO's capability, then the software headers and the credentials.

The software-header and credential refusals (400, 401, 403) answer in the OPCO's error shape
(``error_shapes.py``; convergence-api.md 0: 401/403 carry ``errors[]`` too); the token servers'
own errors stay OAuth2's ``{error, error_description}`` (``oauth.py``). Faults, 429 and 501 keep
the simulator's ``{message, errors}``."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais_simulator.convergence.context import Context
from relais_simulator.dpop import DpopError
from relais_simulator.error_shapes import route_shape, shaped_error
from relais_simulator.faults import FaultDecision, FaultKind
from relais_simulator.ratelimit import retry_after_header
from relais_simulator.records import RequestRecord
from relais_simulator.routes import RouteSpec, dossier_capability
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse, error_item, error_response

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


async def sit_out_delay(
    sim: Simulator, opco: OpcoCode, decision: FaultDecision, rec: RequestRecord
) -> bool:
    """Sleep the injected latency, if any; False when the simulator was reset meanwhile."""
    if decision.delay_s <= 0:
        return True
    rec.delay_ms = decision.delay_s * 1000
    generation = sim.generation
    sim.delayed[opco] += 1
    try:
        await asyncio.sleep(decision.delay_s)
    finally:
        sim.delayed[opco] -= 1
    return sim.generation == generation


def injected_fault(decision: FaultDecision, rec: RequestRecord) -> Response | None:
    """The answer of an injected fault (none for a stored-then-lost one: that comes after)."""
    kind = decision.kind
    if kind is FaultKind.NONE or kind is FaultKind.STORED_LOST:
        return None
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


def admission(
    sim: Simulator, opco: OpcoCode, spec: RouteSpec, version: str, rec: RequestRecord
) -> Response | None:
    """The rate limit (429), then the OPCO's capability for the route (501)."""
    wait = sim.throttle(opco)
    if wait > 0:
        rec.outcome = "rate_limited"
        return error_response(
            429,
            "Limite de requêtes atteinte",
            headers={"Retry-After": retry_after_header(wait)},
        )
    capability = dossier_capability(version) if spec.name == "dossiers_post" else spec.capability
    if capability is not None and not sim.profiles[opco].capabilities.has(capability):
        rec.outcome = "not_implemented"
        return error_response(501, NOT_IMPLEMENTED)
    return None


def refusal(
    ctx: Context,
    status: int,
    message: str,
    errors: list[Json] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """A gate's refusal in the body shape of the OPCO's profile (of the route)."""
    body = shaped_error(route_shape(ctx.profile.errors, ctx.rec.route), message, errors or [])
    return JsonResponse(body, status_code=status, headers=headers)


def authenticate(sim: Simulator, ctx: Context, *, allow_expired: bool = False) -> Response | None:
    headers = ctx.request.headers
    missing = [h for h in SOFTWARE_HEADERS if not headers.get(h, "").strip()]
    if missing:
        return refusal(
            ctx,
            400,
            "En-têtes obligatoires manquants",
            [error_item("ENTETE_OBLIGATOIRE", h, "En-tête obligatoire") for h in missing],
        )
    if ctx.profile.auth.oauth2 is not None:
        refused = _token_refused(sim, ctx)
        if refused is not None:
            return refused
    key_value = headers.get(ctx.profile.auth.api_key_header, "").strip()
    if not key_value:  # no credential at all: 401 (convergence-api.md, appendix A)
        return refusal(
            ctx,
            401,
            "Clé API CFA absente",
            headers={"WWW-Authenticate": f'ApiKey header="{ctx.profile.auth.api_key_header}"'},
        )
    key = sim.keys.lookup(ctx.opco, key_value)
    if key is None:
        return refusal(ctx, 403, "Clé API CFA absente ou inconnue")
    ctx.cfa = key
    ctx.rec.cfa_siret = key.siret
    if not allow_expired and key.expiry < sim.clock.today():
        return refusal(ctx, 403, "clé API CFA expirée")
    return None


def _token_refused(sim: Simulator, ctx: Context) -> Response | None:
    """The profile's token on the call: ``Bearer``, or ``DPoP`` + a proof (RFC 9449) bound to the
    key the token was issued for."""
    headers = ctx.request.headers
    dpop = ctx.profile.auth.dpop
    scheme, _, token = headers.get("authorization", "").partition(" ")
    wanted = "dpop" if dpop is not None and dpop.calls == "dpop" else "bearer"
    found = sim.oauth.find(ctx.opco, token.strip()) if scheme.lower() == wanted else None
    if found is None:
        return refusal(
            ctx,
            401,
            "Jeton d'accès absent, invalide ou expiré",
            headers={"WWW-Authenticate": f'{wanted.capitalize()} error="invalid_token"'},
        )
    if wanted == "dpop":
        try:
            proof = sim.dpop.verify(
                headers.get("dpop", ""),
                method=ctx.request.method,
                url=str(ctx.request.url),
                access_token=token.strip(),
            )
        except DpopError as exc:
            return _dpop_refused(ctx, str(exc))
        if proof.jkt != found.jkt:
            return _dpop_refused(ctx, "preuve DPoP signée par une autre clé que celle du jeton")
    return None


def _dpop_refused(ctx: Context, message: str) -> Response:
    return refusal(
        ctx, 401, message, headers={"WWW-Authenticate": 'DPoP error="invalid_dpop_proof"'}
    )
