"""AKTO's OAuth2 token endpoint (client credentials, in the form or as HTTP Basic)."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from relais_simulator.convergence.app import OPCO_BY_NAME, record_other
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse, error_response


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
