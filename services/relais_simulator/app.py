"""``create_app(config)``: the simulator's Starlette app (11 OPCO at their profiles' base paths,
their token servers, the admin API)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from functools import cache

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, TokenServer
from relais_simulator.admin import admin_routes
from relais_simulator.config import SimulatorConfig
from relais_simulator.convergence import ConvergenceApp, oauth_token
from relais_simulator.openapi import build_openapi
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse


def _openapi_for(profiles: Mapping[OpcoCode, OpcoProfile]) -> Callable[[OpcoCode], Json]:
    base = build_openapi()

    @cache
    def for_opco(opco: OpcoCode) -> Json:
        doc = copy.deepcopy(base)
        path = profiles[opco].base_path
        doc["servers"] = [{"url": f"/{opco.value}{path}", "description": opco.value}]
        return doc

    return for_opco


def create_app(config: SimulatorConfig) -> Starlette:
    sim = Simulator(config)
    convergence = ConvergenceApp(sim, _openapi_for(sim.profiles))

    def token(server: TokenServer) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await oauth_token(sim, request, server)

        return endpoint

    async def health(request: Request) -> Response:
        return JsonResponse({"status": "OK"})

    routes = [
        *admin_routes(),
        Route("/health", health, methods=["GET"]),
        Route("/{opco}/oauth2/token", token("azure_ad"), methods=["POST"]),
        Route(
            "/{opco}/SorApiIdentityServer/connect/token", token("identityserver"), methods=["POST"]
        ),
        Route(
            "/{opco}/realms/{realm}/protocol/openid-connect/token",
            token("keycloak"),
            methods=["POST"],
        ),
        Route("/{opco}/oauth2/{server}/v1/token", token("okta"), methods=["POST"]),
        # the profile's base path is matched by the app, case-insensitively
        Route("/{opco}/{rest:path}", convergence, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = sim  # the admin handlers and their token guard read it from here
    return app
