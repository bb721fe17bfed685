"""OPCO profiles: what differs between the 11 servers of one contract, as data.

The profile file (``schemas/referentials/opco-profiles.json``) is shared by the relais client and
the simulator. Production overrides base URLs and limits through settings, never through code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class OAuth2Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token_url: str
    scope: str = ".default"


class AuthProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key_header: str = "X-API-KEY"
    oauth2: OAuth2Profile | None = None


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
    capabilities: Capabilities = Field(default_factory=Capabilities)
    auth: AuthProfile = Field(default_factory=AuthProfile)
    quirks: Quirks = Field(default_factory=Quirks)
    transport: TransportProfile = Field(default_factory=TransportProfile)
    errors: ErrorsProfile = Field(default_factory=ErrorsProfile)
    etats: EtatsProfile = Field(default_factory=EtatsProfile)
    sources: dict[str, str] = Field(default_factory=dict)
    """Each value's source and confidence: ``{"<dotted.key>": "<source> (<A|B|C>)"}``."""
    page_size: int = Field(default=50, ge=1)
    rate_limit_per_s: float = Field(default=50.0, gt=0)
    max_concurrency: int = Field(default=32, ge=1)

    @property
    def dossier_version(self) -> int:
        """The protocol version relais uses to submit dossiers: v2 where the OPCO has it."""
        return 2 if self.capabilities.dossiers_v2 else 1


def parse_profiles(text: str) -> dict[OpcoCode, OpcoProfile]:
    raw = json.loads(text)
    return {
        OpcoCode(code): OpcoProfile(code=OpcoCode(code), **body)
        for code, body in raw["opcos"].items()
    }


def load_profiles(path: Path) -> dict[OpcoCode, OpcoProfile]:
    return parse_profiles(path.read_text(encoding="utf-8"))
