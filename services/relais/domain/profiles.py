"""OPCO profiles: what differs between the 11 servers of one contract, as data.

The profile file (``schemas/referentials/opco-profiles.json``) is shared by the relais client and
the simulator. Production overrides base URLs and limits through settings, never through code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relais.domain.opco import OpcoCode

Capability = Literal[
    "dossiers_v1",
    "dossiers_v2",
    "dossiers_etats",
    "dossiers_liste",
    "dossier_detail",
    "conventions",
    "factures",
    "factures_etats",
    "certificats",
    "documents",
    "rupture",
    "cfakeyinfo",
]


class Capabilities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dossiers_v1: bool = True
    dossiers_v2: bool = False
    dossiers_etats: bool = True
    dossiers_liste: bool = True
    dossier_detail: bool = True
    conventions: bool = True
    factures: bool = True
    factures_etats: bool = False
    certificats: bool = False
    documents: bool = True
    rupture: bool = False
    cfakeyinfo: bool = True

    def has(self, capability: Capability) -> bool:
        return bool(getattr(self, capability))


TokenServer = Literal["azure_ad", "identityserver", "keycloak", "okta"]
"""The token server's flavour: what the simulator reproduces and the probe names."""

AuthScheme = Literal["api_key", "oauth2", "oauth2_dpop"]


class OAuth2Profile(BaseModel):
    """OAuth2 client credentials (convergence-api.md 0: every OPCO the working client used)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str
    scope: str | None = ".default"
    """Sent as ``scope`` in the token request; None: no scope at all (Keycloak at OPCO EP)."""
    server: TokenServer = "azure_ad"


class DpopProfile(BaseModel):
    """OAuth2 + DPoP (RFC 9449): the token request carries a proof signed with the CFA's key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alg: Literal["RS256", "ES256"] = "RS256"
    calls: Literal["dpop", "bearer"] = "dpop"
    """How API calls carry the token: ``Authorization: DPoP`` + a proof with ``ath`` (RFC 9449),
    or a plain ``Bearer`` (what a client that binds only the token request would send)."""


class AuthProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key_header: str = "X-API-KEY"
    oauth2: OAuth2Profile | None = None
    dpop: DpopProfile | None = None

    @model_validator(mode="after")
    def _dpop_needs_oauth2(self) -> AuthProfile:
        if self.dpop is not None and self.oauth2 is None:
            raise ValueError("auth.dpop needs auth.oauth2 (DPoP binds an OAuth2 token)")
        return self

    @property
    def scheme(self) -> AuthScheme:
        if self.oauth2 is None:
            return "api_key"
        return "oauth2_dpop" if self.dpop is not None else "oauth2"


IDENTIFIER_NAMES = (
    "numero_interne",
    "numero_externe",
    "numero_deca",
    "numero_interne_facture",
    "numero_interne_document",
)


class IdentifierFormats(BaseModel):
    """The shapes of the ids an OPCO issues, as templates: ``#`` a digit, ``@`` an upper-case
    letter, anything else itself (``@@-#######-#``). None: not known (any id is accepted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numero_interne: str | None = None
    numero_externe: str | None = None
    numero_deca: str | None = None
    numero_interne_facture: str | None = None
    numero_interne_document: str | None = None
    """No OPCO's document id has been seen (convergence-api.md 0 names none): None everywhere."""

    @field_validator(*IDENTIFIER_NAMES)
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is not None and not 0 < len(value) <= 40:
            raise ValueError("an identifier template has 1 to 40 characters")
        return value

    def pattern(self, name: str) -> re.Pattern[str] | None:
        template = getattr(self, name)
        return None if template is None else template_pattern(template)

    def mismatch(self, name: str, value: str) -> bool:
        """True when ``value`` does not have the shape the profile gives (False when unknown)."""
        pattern = self.pattern(name)
        return pattern is not None and pattern.fullmatch(value) is None


def template_pattern(template: str) -> re.Pattern[str]:
    parts = {"#": r"\d", "@": "[A-Z]"}
    return re.compile("".join(parts.get(ch, re.escape(ch)) for ch in template))


RouteName = Literal["conventions", "factures", "documents"]


class RouteTransport(BaseModel):
    """How one creating route takes its body: JSON, or multipart/form-data with the JSON in part
    ``json_part`` and the file in ``file_part`` (convergence-api.md 0: ``convention`` / ``facture``
    / ``infosFichier`` + ``fichier``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["json", "multipart"] = "json"
    json_part: str = Field(default="data", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")
    file_part: str = Field(
        default="fichier", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$"
    )

    @property
    def multipart(self) -> bool:
        return self.kind == "multipart"


class TransportProfile(BaseModel):
    """The transport of the routes that carry a file; the others are always JSON."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conventions: RouteTransport = Field(
        default_factory=lambda: RouteTransport(json_part="convention")
    )
    factures: RouteTransport = Field(default_factory=lambda: RouteTransport(json_part="facture"))
    documents: RouteTransport = Field(
        default_factory=lambda: RouteTransport(json_part="infosFichier")
    )

    def route(self, name: RouteName) -> RouteTransport:
        transport: RouteTransport = getattr(self, name)
        return transport


DocumentMediaType = Literal["application/pdf", "image/png", "image/jpeg"]
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024  # 10 485 760: the state's model's ~10 MB


class DocumentLimits(BaseModel):
    """What an OPCO takes as a file on the documents route: at most ``max_bytes``, of one of
    ``media_types`` read from its first bytes, not its name (the state's CELIA model: pdf, png,
    jpg, <= 10 MB; convergence-api.md 1.6, A for CELIA, C for the OPCOs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=DOCUMENT_MAX_BYTES, ge=1, le=4 * DOCUMENT_MAX_BYTES)
    media_types: tuple[DocumentMediaType, ...] = Field(
        default=("application/pdf", "image/png", "image/jpeg"), min_length=1
    )


ErrorShape = Literal["message_errors", "description", "errors", "comment", "Description"]
"""The body of an OPCO's error answers (convergence-api.md 0):

- ``message_errors``: ``{"message", "errors": [{code, champ, description}]}`` (older notes, 1.x);
- ``description``: ``{"description": ...}`` (ATLAS 400);
- ``errors``: ``{"errors": [{code, description}]}`` (most, 401/403/500 too);
- ``comment``: ``{"comment": ...}`` (OPCO EP, beside ``errors``);
- ``Description``: ``{"Description": ...}`` (the documents route, capital D).
The client reads every shape whatever the profile says (``domain/opco_errors.py``); the profile
says what to expect (the simulator answers in it, a probe compares)."""


class ErrorsProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: ErrorShape = "message_errors"
    documents_shape: ErrorShape | None = None
    """The documents route's own shape, when it differs (``Description``)."""


class EtatsProfile(BaseModel):
    """The page of ``dossiers/etats`` / ``factures/etats``: ``object`` (``{total, count, page,
    <items>}``), ``wrapped_object`` (that object in a one-element array: the older AKTO notes),
    ``array`` (a top-level array of items, no page wrapper: convergence-api.md 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_shape: Literal["object", "wrapped_object", "array"] = "object"


class Quirks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nature_frais_title_case: bool = False
    iban_field: Literal["iban", "IBAN"] = "iban"
    cerfa_signature_key: Literal["CERFASignatureProbante", "CERFAsignatureProbante"] = (
        "CERFASignatureProbante"
    )
    """How the OPCO spells the cerfa's probative-signature flag (convergence-api.md 0)."""
    pratique_field: Literal["dateDebutFormationPratique", "dateFormationPratiqueEmployeur"] = (
        "dateDebutFormationPratique"
    )
    """The key of the practical-training start date the OPCO reads (convergence-api.md 0)."""


class OpcoProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: OpcoCode
    name: str
    base_url: str
    """The OPCO's root (scheme, host, an optional prefix); the routes live under ``base_path``."""
    base_path: str = "/ApiEchangeCFA"
    capabilities: Capabilities = Field(default_factory=Capabilities)
    auth: AuthProfile = Field(default_factory=AuthProfile)
    quirks: Quirks = Field(default_factory=Quirks)
    transport: TransportProfile = Field(default_factory=TransportProfile)
    errors: ErrorsProfile = Field(default_factory=ErrorsProfile)
    etats: EtatsProfile = Field(default_factory=EtatsProfile)
    documents: DocumentLimits = Field(default_factory=DocumentLimits)
    identifiers: IdentifierFormats = Field(default_factory=IdentifierFormats)
    page_size: int = Field(default=50, ge=1)
    rate_limit_per_s: float = Field(default=50.0, gt=0)
    max_concurrency: int = Field(default=32, ge=1)
    sources: dict[str, str] = Field(default_factory=dict)
    """Where each value comes from and its confidence: ``{"base_path": "convergence-api.md 0,
    working ERP client (A-)"}`` (keys are dotted paths of this model)."""

    @field_validator("base_path")
    @classmethod
    def _path(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("base_path starts with '/' (or is empty: no prefix)")
        return value

    @model_validator(mode="after")
    def _sources_name_fields(self) -> OpcoProfile:
        for key in self.sources:
            if not _has_path(self, key):
                raise ValueError(f"sources: {key!r} is not a field of the profile")
        return self

    @property
    def api_url(self) -> str:
        """Where the routes are: ``base_url`` + ``base_path`` (``v1/dossiers`` is relative)."""
        return self.base_url.rstrip("/") + self.base_path

    @property
    def dossier_version(self) -> int:
        """The protocol version relais uses to submit dossiers: v2 where the OPCO has it."""
        return 2 if self.capabilities.dossiers_v2 else 1


def _has_path(model: BaseModel, dotted: str) -> bool:
    node: object = model
    for part in dotted.split("."):
        fields = type(node).model_fields if isinstance(node, BaseModel) else None
        if fields is None or part not in fields:
            return False
        node = getattr(node, part)
    return True


def parse_profiles(text: str) -> dict[OpcoCode, OpcoProfile]:
    raw = json.loads(text)
    return {
        OpcoCode(code): OpcoProfile(code=OpcoCode(code), **body)
        for code, body in raw["opcos"].items()
    }


def load_profiles(path: Path) -> dict[OpcoCode, OpcoProfile]:
    return parse_profiles(path.read_text(encoding="utf-8"))
