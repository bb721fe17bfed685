"""``HttpOpcoGateway``: the ``OpcoGateway`` port over the convergence API, one pool per OPCO.

Each OPCO gets its own ``httpx.AsyncClient`` (pooled, explicit timeouts, limits from the profile's
``max_concurrency``), concurrency semaphore, token bucket and circuit breaker, so a slow or failing
OPCO costs nobody else anything. A call goes:

    capability check (NotSupportedError, no HTTP) -> credentials (MissingCredentialsError)
    -> breaker (fail fast: RetryableOpcoError(retry_after=cool-down left)) -> semaphore
    -> OAuth token (per the profile's auth: ``authorizer.py``) -> token bucket -> HTTP
    -> ``decisions.decide`` -> result or relais error

The routes live at the profile's ``base_url`` + ``base_path`` (``/SorApiEchangeCFA`` at AKTO, none
at AFDAS). A 401 on an OAuth OPCO drops the token and retries once; a second 401 is an AuthError.
The client never retries anything else: the dispatcher owns the one retry policy. No httpx
exception leaves.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco import bodies, lookup, routes
from relais.adapters.opco.authorizer import Authorizer, token_url_of
from relais.adapters.opco.bodies import StreamedBody
from relais.adapters.opco.breaker import BreakerSettings, CircuitBreaker
from relais.adapters.opco.decisions import (
    Decision,
    Outcome,
    TransportFailure,
    decide,
    decide_transport,
)
from relais.adapters.opco.lookup import LISTE_BATCH, cerfa_of, matches, order_candidates
from relais.adapters.opco.observer import NullObserver, RequestObserver, status_class
from relais.adapters.opco.pages import paginate, unwrap
from relais.adapters.opco.ratelimit import TokenBucket
from relais.adapters.opco.readmodel import dossier_etat, facture_etat, normalise, parse_date
from relais.adapters.opco.routes import Route
from relais.adapters.opco.spans import client_span
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import Capabilities, OpcoProfile, Quirks, RouteName
from relais.errors import (
    AuthError,
    ConfigurationError,
    NotFoundError,
    NotSupportedError,
    RetryableOpcoError,
)
from relais.services.clock import Clock, SystemClock
from relais.services.files_port import FileSource
from relais.services.opco_port import (
    Created,
    DossierEtat,
    DossierNaturalKey,
    FactureEtat,
    KeyInfo,
)
from relais.tracing import Tracing

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=10.0)
KEEPALIVE_EXPIRY_S = 4.0


@dataclass
class _Channel:
    """Everything relais holds for one OPCO."""

    profile: OpcoProfile
    http: httpx.AsyncClient
    semaphore: asyncio.Semaphore
    bucket: TokenBucket
    breaker: CircuitBreaker
    authorizer: Authorizer


class HttpOpcoGateway:
    def __init__(
        self,
        profiles: Mapping[OpcoCode, OpcoProfile],
        credentials: CredentialStore,
        *,
        editeur: str,
        logiciel: str,
        version: str,
        base_urls: Mapping[OpcoCode, str] | None = None,
        token_urls: Mapping[OpcoCode, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        observer: RequestObserver | None = None,
        clock: Clock | None = None,
        breaker: BreakerSettings | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        for name, value in (("EDITEUR", editeur), ("LOGICIEL", logiciel), ("VERSION", version)):
            if not value or not value.isascii():
                raise ConfigurationError(f"{name} header must be non-empty ASCII")
        self._credentials = credentials
        self._observer: RequestObserver = observer or NullObserver()
        self._clock: Clock = clock or SystemClock()
        self._tracing = tracing if tracing is not None else Tracing.off()
        base_urls = base_urls or {}
        token_urls = token_urls or {}
        headers = {
            "EDITEUR": editeur,
            "LOGICIEL": logiciel,
            "VERSION": version,
            "Accept": "application/json",
        }
        self._channels: dict[OpcoCode, _Channel] = {}
        # One TLS context for every OPCO: building one loads the CA bundle (~20 ms each).
        tls: ssl.SSLContext | bool = httpx.create_ssl_context() if transport is None else True
        for code, profile in profiles.items():
            root = base_urls.get(code, profile.base_url)
            base_url = root.rstrip("/") + profile.base_path
            limits = httpx.Limits(
                max_connections=profile.max_concurrency,
                max_keepalive_connections=profile.max_concurrency,
                # below common server idle timeouts (uvicorn 5 s): reusing a connection the
                # server is closing would turn a POST into an ambiguous failure
                keepalive_expiry=KEEPALIVE_EXPIRY_S,
            )
            http = httpx.AsyncClient(
                base_url=base_url,
                headers=headers,
                timeout=timeout or DEFAULT_TIMEOUT,
                limits=limits,
                transport=transport,
                verify=tls,
                follow_redirects=False,
                trust_env=False,
            )
            token_url = token_url_of(profile, base_urls.get(code), token_urls.get(code))
            self._channels[code] = self._channel_for(code, profile, http, token_url, breaker)

    def _channel_for(
        self,
        code: OpcoCode,
        profile: OpcoProfile,
        http: httpx.AsyncClient,
        token_url: str | None,
        breaker: BreakerSettings | None,
    ) -> _Channel:
        return _Channel(
            profile=profile,
            http=http,
            semaphore=asyncio.Semaphore(profile.max_concurrency),
            bucket=TokenBucket(profile.rate_limit_per_s, self._clock),
            breaker=CircuitBreaker(
                breaker or BreakerSettings(), self._clock, on_change=self._breaker_hook(code)
            ),
            authorizer=Authorizer(
                http,
                opco=code.value,
                auth=profile.auth,
                token_url=token_url,
                credentials=self._credentials,
                clock=self._clock,
            ),
        )

    def _breaker_hook(self, code: OpcoCode) -> Callable[[str], None]:
        def hook(state: str) -> None:
            self._observer.on_breaker(code.value, state)

        return hook

    def __repr__(self) -> str:
        return f"HttpOpcoGateway(opcos={sorted(self._channels)})"

    # ---- the port ------------------------------------------------------------------------

    async def submit_dossier(self, cfa: str, opco: OpcoCode, cerfa: Json) -> Created:
        profile = self._channel(opco).profile
        route = routes.DOSSIERS_V2 if profile.capabilities.dossiers_v2 else routes.DOSSIERS_V1
        body = cerfa if set(cerfa) == {"cerfa"} else {"cerfa": cerfa}
        return await self._create(cfa, opco, route, body)

    async def submit_convention(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        """JSON, or multipart (part ``convention`` + the signed file) where the profile says."""
        transport = self._channel(opco).profile.transport.conventions
        upload = bodies.multipart_upload(str(opco), routes.CONVENTIONS, transport, body, file)
        return await self._create(cfa, opco, routes.CONVENTIONS, body, upload)

    async def submit_facture(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        """JSON, or multipart (part ``facture`` + the invoice PDF) where the profile says."""
        transport = self._channel(opco).profile.transport.factures
        upload = bodies.multipart_upload(str(opco), routes.FACTURES, transport, body, file)
        return await self._create(cfa, opco, routes.FACTURES, body, upload)

    async def submit_certificat(self, cfa: str, opco: OpcoCode, body: Json) -> Created:
        return await self._create(cfa, opco, routes.CERTIFICATS, body)

    async def submit_document(
        self, cfa: str, opco: OpcoCode, infos: Json, file: FileSource
    ) -> Created:
        """Multipart ``infosFichier`` + ``fichier``, or JSON + base64, as the profile says."""
        transport = self._channel(opco).profile.transport.documents
        upload = bodies.document_upload(str(opco), routes.DOCUMENTS, transport, infos, file)
        return bodies.document_created(
            await self._create(cfa, opco, routes.DOCUMENTS, infos, upload)
        )

    async def declare_rupture(self, cfa: str, opco: OpcoCode, body: Json) -> Created:
        return await self._create(cfa, opco, routes.RUPTURE, body)

    async def dossier_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[DossierEtat]:
        profile = self._channel(opco).profile
        route = (
            routes.DOSSIER_ETATS_V2 if profile.capabilities.dossiers_v2 else routes.DOSSIER_ETATS_V1
        )
        async for item in self._paginate(cfa, opco, route, "EtatDossierResult"):
            yield dossier_etat(item)

    async def facture_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[FactureEtat]:
        async for item in self._paginate(cfa, opco, routes.FACTURE_ETATS, "factures"):
            yield facture_etat(item)

    async def get_dossier(self, cfa: str, opco: OpcoCode, numero_interne: str) -> Json:
        profile = self._channel(opco).profile
        route = (
            routes.DOSSIER_DETAIL_V2
            if profile.capabilities.dossiers_v2
            else routes.DOSSIER_DETAIL_V1
        )
        _, body = await self._exchange(cfa, opco, route, params={"numeroInterne": numero_interne})
        body = unwrap(body)
        if not isinstance(body, dict):
            raise NotFoundError(f"{opco} {route.label}: no dossier in the answer", opco=str(opco))
        result: Json = normalise(body)
        return result

    async def find_dossier(
        self, cfa: str, opco: OpcoCode, key: DossierNaturalKey
    ) -> Created | None:
        """The dossier matching ``key`` among the CFA's dossiers at ``opco``, or None.

        None also when the OPCO lacks the listing or every detail route (nothing can be searched):
        the caller then resends and relies on the OPCO's duplicate answer (409).
        """
        caps = self._channel(opco).profile.capabilities
        if not caps.dossiers_etats or not (caps.dossiers_liste or caps.dossier_detail):
            return None
        etats = [etat async for etat in self.dossier_etats(cfa, opco)]
        candidates = order_candidates(etats)
        if caps.dossiers_liste:
            for start in range(0, len(candidates), LISTE_BATCH):
                batch = candidates[start : start + LISTE_BATCH]
                found = await self._match_liste(cfa, opco, batch, key)
                if found is not None:
                    return found
            return None
        for etat in candidates:
            try:
                detail = await self.get_dossier(cfa, opco, etat.numero_interne)
            except NotFoundError:
                continue
            cerfa = cerfa_of(detail)
            if cerfa is not None and matches(cerfa, key):
                return lookup.found_dossier(etat)
        return None

    async def find_facture(self, cfa: str, opco: OpcoCode, reference: str) -> Created | None:
        """The facture with the CFA's ``referenceFactureCFA``, or None (also when the OPCO has
        no factures/etats route: the caller then relies on the duplicate answer)."""
        if not self._channel(opco).profile.capabilities.factures_etats:
            return None
        wanted = reference.strip()
        async for facture in self.facture_etats(cfa, opco):
            if (facture.reference_facture_cfa or "").strip() == wanted:
                ids = {"numeroInterneFacture": facture.numero_interne_facture}
                ids["referenceFactureCFA"] = wanted
                return Created(ids=ids, duplicate=True, etat=facture.etat)
        return None

    async def key_info(self, cfa: str, opco: OpcoCode) -> KeyInfo:
        """The key's validity. An OPCO refusing the key (403: unknown or expired) gives
        ``valid=False`` with its message; a refused OAuth client still raises AuthError."""
        try:
            _, body = await self._exchange(cfa, opco, routes.CFAKEYINFO)
        except AuthError as exc:
            if exc.status != 403:
                raise
            return KeyInfo(valid=False, date_fin_validite=None, comment=_first(exc.messages))
        body = unwrap(body)
        if not isinstance(body, dict):
            return KeyInfo(valid=False, date_fin_validite=None, comment="unreadable answer")
        end = parse_date(body.get("dateFinValidite"))
        today = self._clock.now().astimezone(PARIS).date()
        valid = str(body.get("status", "")).lower() == "success" and (end is None or end >= today)
        return KeyInfo(valid=valid, date_fin_validite=end, comment=str(body.get("comment") or ""))

    def has_credentials(self, cfa: str, opco: OpcoCode) -> bool:
        channel = self._channels.get(OpcoCode(opco))
        if channel is None or not self._credentials.has_key(cfa, opco):
            return False
        auth = channel.profile.auth
        return auth.oauth2 is None or self._credentials.has_oauth(
            cfa, opco, dpop=auth.dpop is not None
        )

    def quirks(self, opco: OpcoCode) -> Quirks:
        return self._channel(opco).profile.quirks

    def supports(self, opco: OpcoCode, capability: str) -> bool:
        channel = self._channels.get(OpcoCode(opco))
        if channel is None:
            return False
        caps = channel.profile.capabilities
        if capability == "dossiers":
            return caps.dossiers_v1 or caps.dossiers_v2
        if capability not in Capabilities.model_fields:
            return False
        return bool(getattr(caps, capability))

    def breaker_state(self, opco: OpcoCode) -> str:
        return self._channel(opco).breaker.state

    async def aclose(self) -> None:
        for channel in self._channels.values():
            await channel.http.aclose()

    # ---- internals -----------------------------------------------------------------------

    def _channel(self, opco: OpcoCode) -> _Channel:
        try:
            return self._channels[OpcoCode(opco)]
        except (KeyError, ValueError):
            raise ConfigurationError(f"no profile for OPCO {opco}") from None

    def transport_is_multipart(self, opco: OpcoCode, route: RouteName) -> bool:
        """Whether the OPCO takes ``route`` as multipart (its body then needs a file)."""
        return self._channel(opco).profile.transport.route(route).multipart

    async def _create(
        self,
        cfa: str,
        opco: OpcoCode,
        route: Route,
        body: Json,
        upload: StreamedBody | None = None,
    ) -> Created:
        payload = upload if upload is not None else body
        decision, answer = await self._exchange(cfa, opco, route, json=payload)
        answer = unwrap(answer)
        data: Json = normalise(answer) if isinstance(answer, dict) else {}
        etat = data.get("etat", data.get("etatFacture"))
        return Created(
            ids=dict(decision.ids),
            duplicate=decision.outcome is Outcome.DUPLICATE,
            etat=str(etat) if isinstance(etat, str) else None,
            body=data,
        )

    async def _paginate(
        self, cfa: str, opco: OpcoCode, route: Route, items_key: str
    ) -> AsyncIterator[dict[str, Any]]:
        channel = self._channel(opco)
        self._check_capability(opco, channel, route)

        async def fetch(number: int) -> Any:
            _, body = await self._exchange(cfa, opco, route, params={"numeroPage": number})
            return body

        async for item in paginate(
            fetch,
            items_key,
            page_size=channel.profile.page_size,
            opco=str(opco),
            route=route.label,
            shape=channel.profile.etats.page_shape,
        ):
            yield item

    async def _match_liste(
        self, cfa: str, opco: OpcoCode, batch: list[DossierEtat], key: DossierNaturalKey
    ) -> Created | None:
        by_id = {etat.numero_interne: etat for etat in batch}
        params = {"numerosInternes": ",".join(by_id)}
        try:
            _, body = await self._exchange(cfa, opco, routes.DOSSIERS_LISTE, params=params)
        except NotFoundError:
            return None
        items = unwrap(body) if not isinstance(body, list) else body
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            return None
        for position, item in enumerate(items):
            cerfa = cerfa_of(item)
            if cerfa is None or not matches(cerfa, key):
                continue
            numero = str(cerfa.get("numeroInterne", ""))
            etat = by_id.get(numero)
            if etat is None and len(items) == len(batch):
                etat = batch[position]
            if etat is not None:
                return lookup.found_dossier(etat)
        return None

    def _check_capability(self, opco: OpcoCode, channel: _Channel, route: Route) -> None:
        if not channel.profile.capabilities.has(route.capability):
            raise NotSupportedError(
                f"{opco} does not offer {route.label} (profile capability {route.capability})",
                opco=str(opco),
            )

    async def _exchange(
        self,
        cfa: str,
        opco: OpcoCode,
        route: Route,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Json | StreamedBody | None = None,
    ) -> tuple[Decision, Any]:
        """One logical call: checks, protection, at most two HTTP attempts (401 refresh)."""
        channel = self._channel(opco)
        name = str(OpcoCode(opco))
        self._check_capability(opco, channel, route)
        key = self._credentials.api_key(cfa, opco)
        key_value = key.value.get_secret_value()
        if not is_header_value(key_value):
            # httpx would raise UnicodeEncodeError (non-ASCII) or send a broken request
            raise ConfigurationError(
                f"the API key of CFA {cfa} at {name} is not a valid HTTP header value "
                "(non-ASCII, space or control character)"
            )
        if isinstance(json, dict):
            bodies.check_json(name, route, json)
        oauth = channel.authorizer.provider(cfa)
        wait = channel.breaker.before_call()
        if wait is not None:
            raise RetryableOpcoError(
                f"{name} circuit breaker open: not calling {route.label}",
                opco=name,
                retry_after=wait,
            )
        headers = {channel.profile.auth.api_key_header: key_value}
        try:
            async with channel.semaphore:
                for attempt in (1, 2):
                    token = await oauth.token() if oauth is not None else None
                    url = f"{channel.http.base_url}{route.path}"
                    headers.update(channel.authorizer.headers(oauth, token, route.method, url))
                    await channel.bucket.acquire()
                    decision, body = await self._once(name, channel, route, headers, params, json)
                    if (
                        decision.outcome is Outcome.UNAUTHORIZED
                        and oauth is not None
                        and token is not None
                        and attempt == 1
                    ):
                        oauth.invalidate(token)
                        continue
                    break
        except RetryableOpcoError:
            channel.breaker.on_failure()
            raise
        except BaseException:
            channel.breaker.release()
            raise
        if decision.outcome in (Outcome.RETRY, Outcome.AMBIGUOUS):
            channel.breaker.on_failure()
        else:
            channel.breaker.on_success()
        if decision.ok:
            return decision, body
        raise decision.error(name, route.label)

    async def _once(
        self,
        name: str,
        channel: _Channel,
        route: Route,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None,
        payload: Json | StreamedBody | None,
    ) -> tuple[Decision, Any]:
        started = self._clock.monotonic()
        content, sent_headers = bodies.request_content(payload, headers)
        try:
            # The exact bytes relais validated and the golden tests pin (``request_content``:
            # ``wire.encode`` as the body or the JSON part of a multipart body).
            with client_span(self._tracing, name, route) as call:
                response = await channel.http.request(
                    route.method, route.path, params=params, content=content, headers=sent_headers
                )
                call.answered(response.status_code)
        except httpx.RequestError as exc:
            elapsed = self._clock.monotonic() - started
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "error"
            self._observer.on_request(name, route.label, kind, elapsed)
            return decide_transport(_failure(exc), creating=route.creating), None
        elapsed = self._clock.monotonic() - started
        self._observer.on_request(name, route.label, status_class(response.status_code), elapsed)
        body = bodies.json_body(response)
        decision = decide(
            response.status_code,
            response.headers,
            body,
            creating=route.creating,
            now=self._clock.now(),
        )
        return decision, body


def is_header_value(value: str) -> bool:
    """Visible ASCII only: what a key or token can be sent as (no encoding, no injection)."""
    return bool(value) and all("!" <= ch <= "~" for ch in value)


def _failure(exc: httpx.RequestError) -> TransportFailure:
    if isinstance(exc, httpx.UnsupportedProtocol):
        raise ConfigurationError(f"bad OPCO base URL ({type(exc).__name__})") from None
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return TransportFailure.NOT_SENT
    if isinstance(exc, httpx.ProxyError):
        return TransportFailure.NOT_SENT
    if isinstance(exc, httpx.WriteError | httpx.WriteTimeout):
        return TransportFailure.WRITE
    return TransportFailure.READ


def _first(messages: tuple[str, ...]) -> str:
    return messages[0] if messages else "key refused (403)"
