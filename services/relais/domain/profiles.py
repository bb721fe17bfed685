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


class Quirks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    wrap_page_in_array: bool = False
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
