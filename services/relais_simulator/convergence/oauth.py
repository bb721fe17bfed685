"""The OPCO token servers (OAuth2 client credentials), one flavour per profile (``oauth2.server``):

- ``identityserver`` (AKTO, ATLAS, MOBILITES; ``/<OPCO>/SorApiIdentityServer/connect/token``): a
  ``scope`` is required and must be among ``api.read api.write``;
- ``keycloak`` (OPCO EP; ``/<OPCO>/realms/<realm>/protocol/openid-connect/token``): no scope;
- ``okta`` (AFDAS; ``/<OPCO>/oauth2/<server>/v1/token``): a DPoP proof is required and verified
  (signature by the JWK of its header, htm, htu, iat window, jti never seen); the token is bound
  to the proof's key and typed ``DPoP``;
- ``azure_ad`` (the older AKTO notes; ``/<OPCO>/oauth2/token``): any scope.

Client credentials come in the form or as HTTP Basic. An OPCO whose profile has another flavour
(or none) answers 404 on the path.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from relais.domain.profiles import TokenServer
from relais_simulator.convergence.app import OPCO_BY_NAME, record_other
from relais_simulator.dpop import DpopError
from relais_simulator.state import Simulator
from relais_simulator.wire import JsonResponse, error_response

IDENTITYSERVER_SCOPES = frozenset({"api.read", "api.write"})
MAX_FORM_BYTES = 8192


async def oauth_token(sim: Simulator, request: Request, server: TokenServer) -> Response:
    response = await _oauth_token(sim, request, server)
    record_other(
        sim,
        request,
        "oauth2_token",
        response.status_code,
        OPCO_BY_NAME.get(request.path_params.get("opco", "")),
    )
    return response


def _oauth_error(error: str, status: int = 400) -> Response:
    return JsonResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


async def _oauth_token(sim: Simulator, request: Request, server: TokenServer) -> Response:
    opco = OPCO_BY_NAME.get(request.path_params.get("opco", "").upper())
    oauth2 = sim.profiles[opco].auth.oauth2 if opco is not None else None
    if opco is None or oauth2 is None or oauth2.server != server:
        return error_response(404, "Ressource inconnue")
    raw_bytes = await request.body()
    if len(raw_bytes) > MAX_FORM_BYTES:
        return _oauth_error("invalid_request")
    form = {k: v[0] for k, v in parse_qs(raw_bytes.decode("utf-8", errors="replace")).items()}
    client_id, client_secret = _client(form, request.headers.get("authorization", ""))
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type")
    if not sim.oauth.verify(opco, client_id, client_secret):
        return _oauth_error("invalid_client", 401)
    scope_problem = _scope_problem(server, form.get("scope"))
    if scope_problem is not None:
        return _oauth_error(scope_problem)
    jkt = None
    if server == "okta":
        try:
            proof = sim.dpop.verify(
                request.headers.get("dpop", ""), method="POST", url=str(request.url)
            )
        except DpopError as exc:
            return JsonResponse(
                {"error": "invalid_dpop_proof", "error_description": str(exc)}, status_code=400
            )
        jkt = proof.jkt
    issued = sim.oauth.issue(opco, client_id, client_secret, jkt)
    if issued is None:
        return _oauth_error("invalid_client", 401)
    token, ttl = issued
    kind = "DPoP" if jkt is not None else "Bearer"
    body = {"access_token": token, "token_type": kind, "expires_in": ttl}
    if server == "keycloak":
        body["refresh_expires_in"] = 0
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


def _client(form: dict[str, str], authorization: str) -> tuple[str, str]:
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    if authorization.lower().startswith("basic ") and not client_id:
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
            client_id, _, client_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            pass
    return client_id, client_secret


def _scope_problem(server: TokenServer, scope: str | None) -> str | None:
    asked = set((scope or "").split())
    if server == "identityserver" and (not asked or not asked <= IDENTITYSERVER_SCOPES):
        return "invalid_scope"
    if server == "keycloak" and asked:
        return "invalid_scope"
    return None
