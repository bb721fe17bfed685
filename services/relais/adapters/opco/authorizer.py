"""The credentials on one OPCO call, as the OPCO's profile says (``auth``).

- ``api_key``: the CFA's key in ``api_key_header`` only;
- ``oauth2``: that key **and** ``Authorization: Bearer <token>`` (convergence-api.md 0);
- ``oauth2_dpop``: the token is requested with a DPoP proof; calls carry ``Authorization: DPoP
  <token>`` and a fresh proof with ``ath`` (RFC 9449), or a plain Bearer when the profile says so.

Tokens are cached per (OPCO, client): the CFA's own client when it has one, else the software's.
"""

from __future__ import annotations

import httpx

from relais.adapters.credentials import CredentialStore, OAuthClient
from relais.adapters.opco.dpop import DpopSigner
from relais.adapters.opco.oauth import OAuthTokenProvider
from relais.domain.clock import Clock
from relais.domain.profiles import AuthProfile, OpcoProfile
from relais.errors import ConfigurationError, MissingCredentialsError


class Authorizer:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        opco: str,
        auth: AuthProfile,
        token_url: str | None,
        credentials: CredentialStore,
        clock: Clock,
    ) -> None:
        self._http = http
        self._opco = opco
        self.auth = auth
        self._token_url = token_url
        self._credentials = credentials
        self._clock = clock
        self._providers: dict[tuple[str, str | None], OAuthTokenProvider] = {}

    def __repr__(self) -> str:
        return f"Authorizer(opco={self._opco!r}, scheme={self.auth.scheme!r})"

    @property
    def uses_tokens(self) -> bool:
        return self.auth.oauth2 is not None and self._token_url is not None

    def provider(self, cfa: str) -> OAuthTokenProvider | None:
        """The token provider of the client ``cfa`` calls with (None: API key only)."""
        oauth2 = self.auth.oauth2
        if oauth2 is None or self._token_url is None:
            return None
        client = self._credentials.oauth_client(self._opco, cfa)  # type: ignore[arg-type]
        dpop_pem = client.dpop_key.get_secret_value() if client.dpop_key is not None else None
        key = (client.client_id, dpop_pem)
        found = self._providers.get(key)
        if found is None:
            found = self._providers[key] = OAuthTokenProvider(
                self._http,
                opco=self._opco,
                token_url=self._token_url,
                scope=oauth2.scope,
                client=client,
                clock=self._clock,
                dpop=self._signer(client, cfa),
            )
        return found

    def _signer(self, client: OAuthClient, cfa: str) -> DpopSigner | None:
        if self.auth.dpop is None:
            return None
        if client.dpop_key is None:
            raise MissingCredentialsError(cfa, f"{self._opco} (DPoP key of the OAuth2 client)")
        try:
            return DpopSigner(client.dpop_key.get_secret_value(), self.auth.dpop.alg, self._clock)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{self._opco}: {exc}") from None

    def headers(
        self, provider: OAuthTokenProvider | None, token: str | None, method: str, url: str
    ) -> dict[str, str]:
        """The ``Authorization`` (and ``DPoP``) headers of one attempt of a call."""
        if provider is None or token is None:
            return {}
        dpop = self.auth.dpop
        if provider.dpop is None or dpop is None or dpop.calls == "bearer":
            return {"Authorization": f"Bearer {token}"}
        proof = provider.dpop.proof(method, url, access_token=token)
        return {"Authorization": f"DPoP {token}", "DPoP": proof}


def token_url_of(profile: OpcoProfile, base_url: str | None, override: str | None) -> str | None:
    """The OAuth token URL; when the base URL is moved (e.g. a simulator on another port) and the
    profile's token URL lived on the same origin, it moves along."""
    if profile.auth.oauth2 is None:
        return None
    if override:
        return override
    url = profile.auth.oauth2.token_url
    if base_url:
        old, new, token = httpx.URL(profile.base_url), httpx.URL(base_url), httpx.URL(url)
        if (token.scheme, token.host, token.port) == (old.scheme, old.host, old.port):
            url = str(token.copy_with(scheme=new.scheme, host=new.host, port=new.port))
    return url
