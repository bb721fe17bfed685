"""OAuth2 client credentials: one token per (OPCO, client), cached.

The client is the software publisher's (one per OPCO) or the CFA's own (convergence-api.md 0);
its token goes in ``Authorization`` next to the CFA's ``X-API-KEY``. It is cached until
``expires_in - 60 s``; ``invalidate`` drops it after a 401 so the next call fetches a fresh one
(the client retries a 401 once). The token servers differ (IdentityServer with a scope, Keycloak
without, Okta with a DPoP proof on the token request: ``dpop``); a server asking for a DPoP nonce
(``use_dpop_nonce`` + ``DPoP-Nonce``) is answered once with it. No secret is ever logged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from relais.adapters.credentials import OAuthClient
from relais.adapters.opco.decisions import Outcome, decide
from relais.adapters.opco.dpop import DpopSigner
from relais.domain.clock import Clock
from relais.errors import AuthError, RetryableOpcoError

EXPIRY_MARGIN_S = 60.0
DEFAULT_EXPIRES_IN_S = 3600.0


class OAuthTokenProvider:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        opco: str,
        token_url: str,
        scope: str | None,
        client: OAuthClient,
        clock: Clock,
        dpop: DpopSigner | None = None,
    ) -> None:
        self._http = http
        self._opco = opco
        self._token_url = token_url
        self.scope = scope  # the probe tries others when this one is refused
        self._client = client
        self._clock = clock
        self.dpop = dpop
        self.nonce: str | None = None  # the token server's last DPoP-Nonce
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    def __repr__(self) -> str:
        return (
            f"OAuthTokenProvider(opco={self._opco!r}, client={self._client.client_id!r}, "
            f"token_url={self._token_url!r}, dpop={self.dpop is not None})"
        )

    async def token(self) -> str:
        if self._token is not None and self._clock.monotonic() < self._valid_until:
            return self._token
        async with self._lock:
            if self._token is not None and self._clock.monotonic() < self._valid_until:
                return self._token
            return await self._fetch()

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (unless another caller already replaced it)."""
        if self._token == token:
            self._token = None
            self._valid_until = 0.0

    async def _fetch(self) -> str:
        self.fetches += 1
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client.client_id,
            "client_secret": self._client.client_secret.get_secret_value(),
        }
        if self.scope is not None:
            form["scope"] = self.scope
        response = await self._post(form)
        if self.dpop is not None and _asks_nonce(response):
            response = await self._post(form)
        return self._accept(response)

    async def _post(self, form: dict[str, str]) -> httpx.Response:
        headers = {}
        if self.dpop is not None:
            headers["DPoP"] = self.dpop.proof("POST", self._token_url, nonce=self.nonce)
        try:
            response = await self._http.post(self._token_url, data=form, headers=headers)
        except httpx.RequestError as exc:
            what = f"{self._opco} oauth2 token"
            raise RetryableOpcoError(f"{what}: {type(exc).__name__}", opco=self._opco) from None
        if self.dpop is not None and "DPoP-Nonce" in response.headers:
            self.nonce = response.headers["DPoP-Nonce"][:200]
        return response

    def _accept(self, response: httpx.Response) -> str:
        what = f"{self._opco} oauth2 token"
        body = _json(response)
        decision = decide(response.status_code, response.headers, body, now=self._clock.now())
        if decision.outcome is not Outcome.OK:
            if decision.outcome in (Outcome.INVALID, Outcome.UNAUTHORIZED, Outcome.FORBIDDEN):
                raise AuthError(
                    f"{what}: client credentials refused ({response.status_code})",
                    opco=self._opco,
                    status=response.status_code,
                    messages=decision.messages,
                )
            raise decision.error(self._opco, "POST oauth2 token")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RetryableOpcoError(f"{what}: answer without access_token", opco=self._opco)
        if not all("!" <= ch <= "~" for ch in token):
            # not sendable in a header (httpx would raise UnicodeEncodeError)
            raise RetryableOpcoError(f"{what}: access_token is not visible ASCII", opco=self._opco)
        expires_in = body.get("expires_in", DEFAULT_EXPIRES_IN_S)
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError):
            lifetime = DEFAULT_EXPIRES_IN_S
        self._token = token
        self._valid_until = self._clock.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN_S)
        return token


def _asks_nonce(response: httpx.Response) -> bool:
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    return (
        response.status_code in (400, 401)
        and error == "use_dpop_nonce"
        and bool(response.headers.get("DPoP-Nonce"))
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
