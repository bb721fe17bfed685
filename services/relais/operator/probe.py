"""``relais opco probe``: how a configured OPCO endpoint really speaks, against its profile.

Read-only calls only: a token (when the profile asks for one), ``GET v1/status``, ``GET
v2/cfakeyinfo`` and one ``dossiers/etats`` page, with the CFA's key. Each finding says what the
profile expects and what came back; a difference is what a federation checks before going live
(a wrong base path, a token server that wants another scope, an API that takes no token, a page
wrapped in an array, identifiers of another shape). No secret, no body is ever printed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco.authorizer import Authorizer, token_url_of
from relais.adapters.opco.factory import apply_overrides
from relais.adapters.opco.oauth import OAuthTokenProvider
from relais.config import Settings
from relais.domain.clock import Clock
from relais.domain.opco import OpcoCode
from relais.domain.profiles import IDENTIFIER_NAMES, OpcoProfile, load_profiles
from relais.errors import MissingCredentialsError, RelaisError
from relais.services.clock import SystemClock

BASE_PATHS = ("/SorApiEchangeCFA", "/ApiEchangeCFA", "")
ALT_SCOPES = (None, "api.read api.write", ".default")
IDS = dict(zip(("numeroInterne", "numeroExterne", "numeroDeca"), IDENTIFIER_NAMES, strict=False))
MAX_ITEMS = 200


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool  # False: it differs from the profile (or failed)
    detail: str
    expected: str | None = None
    found: str | None = None


@dataclass
class ProbeReport:
    opco: str
    url: str
    scheme: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return any(not f.ok for f in self.findings)

    def add(self, check: str, ok: bool, detail: str, **values: str | None) -> None:
        self.findings.append(Finding(check, ok, detail, **values))

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["differs"] = self.differs
        return out

    def text(self) -> str:
        lines = [f"{self.opco} at {self.url} (profile auth: {self.scheme})"]
        for f in self.findings:
            mark = "ok  " if f.ok else "DIFF"
            said = [f"profile: {f.expected}"] if f.expected is not None else []
            said += [f"found: {f.found}"] if f.found is not None else []
            extra = f" ({'; '.join(said)})" if said else ""
            lines.append(f"  {mark} {f.check}: {f.detail}{extra}")
        lines.append(
            "  -> differs from its profile" if self.differs else "  -> as its profile says"
        )
        return "\n".join(lines)


class Prober:
    def __init__(
        self,
        profile: OpcoProfile,
        root: str,
        token_url: str | None,
        credentials: CredentialStore,
        cfa: str,
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self.profile, self.root, self.cfa, self.http = profile, root.rstrip("/"), cfa, http
        self._creds = credentials
        self._clock = clock
        self._token_url = token_url
        self.auth = Authorizer(
            http,
            opco=profile.code.value,
            auth=profile.auth,
            token_url=token_url,
            credentials=credentials,
            clock=clock,
        )
        self.report = ProbeReport(profile.code.value, root + profile.base_path, profile.auth.scheme)
        self._provider: OAuthTokenProvider | None = None
        self._token: str | None = None

    async def run(self) -> ProbeReport:
        key = self._creds.api_key(self.cfa, self.profile.code).value.get_secret_value()
        self._key = {self.profile.auth.api_key_header: key}
        if self.profile.auth.oauth2 is not None:
            await self._probe_token()
        base = await self._probe_base_path()
        if base is None:
            return self.report
        await self._probe_token_needed(base)
        if self.profile.capabilities.cfakeyinfo:
            await self._probe_keyinfo(base)
        if self.profile.capabilities.dossiers_etats:
            await self._probe_etats(base)
        return self.report

    # ---- auth ----------------------------------------------------------------------------

    async def _probe_token(self) -> None:
        oauth2 = self.profile.auth.oauth2
        assert oauth2 is not None
        try:
            self._provider = self.auth.provider(self.cfa)
            assert self._provider is not None
            self._token = await self._provider.token()
        except RelaisError as exc:
            self.report.add("token", False, f"{oauth2.server} token refused: {exc}")
            await self._other_scopes(oauth2.scope)
            return
        dpop = " with a DPoP proof" if self._provider.dpop is not None else ""
        self.report.add("token", True, f"{oauth2.server} token issued{dpop}", expected=oauth2.scope)

    async def _other_scopes(self, scope: str | None) -> None:
        """Which scope the token server takes, when the profile's was refused."""
        if self._provider is None:
            return
        for other in (s for s in ALT_SCOPES if s != scope):
            self._provider.scope = other
            try:
                self._token = await self._provider.token()
            except RelaisError:
                continue
            self.report.add(
                "token.scope", False, "another scope works", expected=scope, found=str(other)
            )
            return

    def _headers(self, method: str, url: str, *, token: bool = True) -> dict[str, str]:
        headers = dict(self._key)
        if token:
            headers.update(self.auth.headers(self._provider, self._token, method, url))
        return headers

    async def _get(
        self, base: str, path: str, *, token: bool = True, params: dict[str, int] | None = None
    ) -> httpx.Response | None:
        url = f"{self.root}{base}/{path}"
        try:
            return await self.http.get(
                url, params=params, headers=self._headers("GET", url, token=token)
            )
        except httpx.HTTPError as exc:
            self.report.add(path, False, f"no answer ({type(exc).__name__})")
            return None

    async def _probe_base_path(self) -> str | None:
        expected = self.profile.base_path
        for base in (expected, *(b for b in BASE_PATHS if b != expected)):
            answer = await self._get(base, "v1/status")
            if answer is None:
                return None
            if answer.status_code != 404:
                ok = base == expected  # the route is there (a 401 is the auth's finding)
                detail = f"GET v1/status answered {answer.status_code}"
                self.report.add("base_path", ok, detail, expected=expected or "(none)", found=base)
                if not answer.is_success:
                    self.report.add("status", False, f"answered {answer.status_code}", found=None)
                return base
        self.report.add("base_path", False, "v1/status not found under any known base path")
        return None

    async def _probe_token_needed(self, base: str) -> None:
        if self.profile.auth.oauth2 is None:
            self.report.add("auth", True, "the API key alone is accepted")
            return
        answer = await self._get(base, "v1/status", token=False)
        if answer is not None and answer.is_success:
            self.report.add(
                "auth", False, "a call without a token is accepted", expected="key + token"
            )
        elif answer is not None:
            self.report.add(
                "auth", True, f"a call without a token is refused ({answer.status_code})"
            )

    # ---- shapes --------------------------------------------------------------------------

    async def _probe_keyinfo(self, base: str) -> None:
        answer = await self._get(base, "v2/cfakeyinfo")
        if answer is None:
            return
        body = _json(answer)
        if isinstance(body, list) and len(body) == 1:
            body = body[0]
        if answer.is_success and isinstance(body, dict) and "status" in body:
            keys = ", ".join(sorted(k for k in body if k in ("status", "dateFinValidite")))
            self.report.add("cfakeyinfo", True, f"{answer.status_code}, an object with {keys}")
        else:
            self.report.add(
                "cfakeyinfo", False, f"{answer.status_code}, {_shape(body)}", expected="object"
            )

    async def _probe_etats(self, base: str) -> None:
        version = "v2" if self.profile.capabilities.dossiers_v2 else "v1"
        answer = await self._get(base, f"{version}/dossiers/etats", params={"numeroPage": 1})
        if answer is None:
            return
        body = _json(answer)
        shape = _shape(body)
        expected = PAGE_SHAPES[self.profile.etats.page_shape]
        ok = answer.is_success and shape == expected
        self.report.add(
            "dossiers/etats", ok, f"{answer.status_code}, {shape}", expected=expected, found=shape
        )
        self._check_ids(_items(body))

    def _check_ids(self, items: list[dict[str, Any]]) -> None:
        formats = self.profile.identifiers
        for wire, name in IDS.items():
            template = getattr(formats, name)
            values = [str(i[wire]) for i in items[:MAX_ITEMS] if i.get(wire) not in (None, "")]
            if template is None or not values:
                detail = "no template in the profile" if template is None else "none to check"
                self.report.add(f"identifiers.{name}", True, f"{len(values)} seen, {detail}")
                continue
            bad = [v for v in values if formats.mismatch(name, v)]
            shown = _pattern_of(bad[0]) if bad else None
            detail = f"{len(values) - len(bad)} of {len(values)} match"
            self.report.add(f"identifiers.{name}", not bad, detail, expected=template, found=shown)


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


# The profile's etats page shape (``EtatsProfile.page_shape``) as ``_shape`` names what came back.
PAGE_SHAPES = {
    "object": "page object",
    "wrapped_object": "page object in an array",
    "array": "top-level array",
}


def _shape(body: Any) -> str:
    if isinstance(body, dict):
        return "page object" if any(isinstance(v, list) for v in body.values()) else "object"
    if isinstance(body, list):
        if len(body) == 1 and isinstance(body[0], dict) and _shape(body[0]) == "page object":
            return "page object in an array"
        return "top-level array"
    return "no JSON" if body is None else type(body).__name__


def _items(body: Any) -> list[dict[str, Any]]:
    if _shape(body) == "page object in an array":
        body = body[0]
    if isinstance(body, dict):
        lists = [v for v in body.values() if isinstance(v, list)]
        body = lists[0] if lists else []
    return [i for i in body if isinstance(i, dict)] if isinstance(body, list) else []


def _pattern_of(value: str) -> str:
    """An id as a template (digits -> #, letters -> @): its shape, never the id itself."""
    return "".join("#" if c.isdigit() else "@" if c.isalpha() else c for c in value[:40])


async def probe(
    settings: Settings,
    credentials: CredentialStore,
    opco: OpcoCode,
    *,
    cfa: str | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeReport:
    """Probe ``opco`` at its configured root (``base_url`` wins) as the CFA ``cfa`` (default: the
    first with a key there), with the profile and overrides of ``settings``."""
    profiles, moved = apply_overrides(load_profiles(settings.profiles_file), settings.opco)
    profile = profiles[opco]
    root = base_url or moved.get(opco) or profile.base_url
    cfa = cfa or first_cfa(credentials, opco)
    if cfa is None:
        raise MissingCredentialsError("(any CFA)", opco.value)
    token_url = token_url_of(profile, root, None)
    o = settings.opco
    headers = {"Accept": "application/json", "EDITEUR": o.editeur, "LOGICIEL": o.logiciel}
    headers["VERSION"] = o.version
    timeout = httpx.Timeout(o.read_timeout_s, connect=o.connect_timeout_s)
    async with httpx.AsyncClient(
        headers=headers, timeout=timeout, transport=transport, trust_env=False
    ) as http:
        prober = Prober(profile, root, token_url, credentials, cfa, http, clock or SystemClock())
        return await prober.run()


def first_cfa(credentials: CredentialStore, opco: OpcoCode) -> str | None:
    """The first CFA (by SIRET) with a key at ``opco``: whom the probe calls as by default."""
    sirets = sorted(e.siret for e in credentials.entries() if e.opco == opco)
    return sirets[0] if sirets else None
