"""The raw ASGI app of the convergence routes: one request through the gates to its handler, and
its record (kept unless the simulator was reset meanwhile)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais_simulator.convergence import documents, dossiers, followups
from relais_simulator.convergence.context import Context, Handler
from relais_simulator.convergence.gates import (
    LostResponse,
    admission,
    authenticate,
    injected_fault,
    sit_out_delay,
)
from relais_simulator.error_shapes import route_shape, shaped_error
from relais_simulator.faults import FaultKind
from relais_simulator.records import RequestRecord
from relais_simulator.routes import RouteSpec, match
from relais_simulator.state import Simulator
from relais_simulator.store import Rejection
from relais_simulator.uploads import bounded_body
from relais_simulator.wire import JsonResponse, error_response

logger = logging.getLogger("relais_simulator")
OPCO_BY_NAME: dict[str, OpcoCode] = {c.value: c for c in OpcoCode}
MAX_BODY_BYTES = 32 * 1024 * 1024
"""A POST body past this is refused (413) unread: above a 10 MiB file in base64 with its JSON."""


class ConvergenceApp:
    """The raw ASGI app mounted at ``/{opco}/{rest:path}``: ``rest`` starts with the OPCO's base
    path (``SorApiEchangeCFA`` at AKTO, nothing at AFDAS), matched case-insensitively."""

    def __init__(self, sim: Simulator, openapi: Callable[[OpcoCode], Json]) -> None:
        self.sim = sim
        self._openapi = openapi
        self._handlers: dict[str, Handler] = {
            "status": dossiers.status,
            "dossiers_post": dossiers.post_dossier,
            "dossiers_etats": dossiers.dossiers_etats,
            "dossiers_liste": dossiers.dossiers_liste,
            "dossier_detail": dossiers.dossier_detail,
            "conventions": followups.post_convention,
            "factures": followups.post_facture,
            "factures_etats": followups.factures_etats,
            "certificats": followups.post_certificat,
            "documents": documents.post_document,
            "rupture": followups.post_rupture,
            "cfakeyinfo": dossiers.cfakeyinfo,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.dispatch(request)
        await response(scope, receive, send)

    async def dispatch(self, request: Request) -> Response:
        sim = self.sim
        params = request.path_params
        opco = OPCO_BY_NAME.get(params.get("opco", "").upper())
        if opco is None:
            return self._other(request, "unknown", error_response(404, "OPCO inconnu"))
        rest = strip_base_path(params.get("rest", ""), sim.profiles[opco].base_path)
        if rest is None:
            return self._other(request, "unknown", error_response(404, "Ressource inconnue"), opco)
        if rest.lower() == "openapi.json" and request.method == "GET":
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
            base_path=sim.profiles[opco].base_path,
        )
        body: bytes | None = b""
        if request.method == "POST":  # a digest of the exact bytes received, never the body
            body = await bounded_body(request, MAX_BODY_BYTES)
            rec.content_type = request.headers.get("content-type")
            if body is not None:
                rec.body_sha256 = hashlib.sha256(body).hexdigest()
        generation = sim.generation
        response: Response
        try:
            if body is None:
                rec.outcome = "rejected"
                response = error_response(413, "Corps de requête trop volumineux")
            else:
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
        if not await sit_out_delay(sim, opco, decision, rec):
            # reset while it slept: it must not act on (nor be recorded in) the new state
            return LostResponse()
        fault = injected_fault(decision, rec)
        if fault is not None:
            return fault
        refused = admission(sim, opco, spec, version, rec)
        if refused is not None:
            return refused
        ctx = Context(request, opco, sim.profiles[opco], version, rec)
        denied = authenticate(sim, ctx, allow_expired=spec.name == "cfakeyinfo")
        if denied is not None:
            rec.outcome = "rejected"
            return denied
        response = await self._answer(spec, ctx)
        if decision.kind is FaultKind.STORED_LOST:
            # processed (stored when it was a valid creation), then the answer is lost
            rec.outcome = "fault:stored_lost"
            return LostResponse(hang_s=decision.hang_s if decision.lost_mode == "hang" else 0.0)
        return response

    async def _answer(self, spec: RouteSpec, ctx: Context) -> Response:
        """The route's handler; a ``Rejection`` becomes its answer (409: a duplicate)."""
        try:
            return await self._handlers[spec.name](self.sim, ctx)
        except Rejection as exc:
            ctx.rec.outcome = "duplicate" if exc.status == 409 else "rejected"
            ctx.rec.ids.update(exc.ids)
            shape = route_shape(ctx.profile.errors, spec.name)
            body: Json = shaped_error(shape, exc.message, exc.errors)
            body.update(exc.ids)
            return JsonResponse(body, status_code=exc.status)


def strip_base_path(rest: str, base_path: str) -> str | None:
    """The path after the OPCO's base path (case-insensitive), or None when it is not there."""
    prefix = base_path.strip("/")
    if not prefix:
        return rest
    head, _, tail = rest.partition("/")
    return tail if head.lower() == prefix.lower() else None


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
