"""``create_app(config)``: the simulator's Starlette app (11 OPCO + token endpoint + admin API)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais_simulator.admin import admin_routes
from relais_simulator.config import SimulatorConfig
from relais_simulator.convergence import ConvergenceApp, oauth_token
from relais_simulator.openapi import build_openapi
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse


def _openapi_for() -> Callable[[OpcoCode], Json]:
    base = build_openapi()

    @cache
    def for_opco(opco: OpcoCode) -> Json:
        doc = copy.deepcopy(base)
        doc["servers"] = [{"url": f"/{opco.value}/ApiEchangeCFA", "description": opco.value}]
        return doc

    return for_opco


def create_app(config: SimulatorConfig) -> Starlette:
    sim = Simulator(config)
    convergence = ConvergenceApp(sim, _openapi_for())

    async def token(request: Request) -> Response:
        return await oauth_token(sim, request)

    async def health(request: Request) -> Response:
        return JsonResponse({"status": "OK"})

    routes = [
        *admin_routes(),
        Route("/health", health, methods=["GET"]),
        Route("/{opco}/oauth2/token", token, methods=["POST"]),
        Route("/{opco}/ApiEchangeCFA/{rest:path}", convergence, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = sim  # the admin handlers and their token guard read it from here
    return app
