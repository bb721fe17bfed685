"""The port through which the services talk to the OPCO (implemented by ``relais.adapters.opco``).

Every method either returns one of the result types below or raises an ``relais.errors.OpcoError``
subclass / ``MissingCredentialsError``. The CFA is named by its SIRET: the adapter picks that CFA's
credentials itself, so a caller can never send one CFA's data with another CFA's key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import Quirks, RouteName
from relais.services.files_port import FileSource


@dataclass(frozen=True)
class Created:
    """Something the OPCO created (or already had: ``duplicate=True`` after a 409)."""

    ids: Mapping[str, str]  # e.g. {"numeroInterne": "...", "numeroExterne": "..."}
    duplicate: bool = False
    etat: str | None = None
    body: Json = field(default_factory=dict)


@dataclass(frozen=True)
class DossierEtat:
    numero_interne: str
    numero_externe: str | None
    numero_deca: str | None
    etat: str
    commentaire: str | None = None  # commentaireEtat, when the etats page gives it


@dataclass(frozen=True)
class FactureEtat:
    numero_interne_facture: str
    reference_facture_cfa: str | None
    etat: str
    body: Json = field(default_factory=dict)


@dataclass(frozen=True)
class KeyInfo:
    valid: bool
    date_fin_validite: date | None
    comment: str = ""


@dataclass(frozen=True)
class DossierNaturalKey:
    """What identifies a dossier at an OPCO before it has an id (DESIGN promise 2)."""

    employeur_siret: str
    apprenti_nom: str
    apprenti_prenom: str
    apprenti_date_naissance: date
    date_debut_contrat: date


class OpcoGateway(Protocol):
    async def submit_dossier(self, cfa: str, opco: OpcoCode, cerfa: Json) -> Created: ...

    async def submit_convention(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        """``file``: the signed convention, sent where the OPCO takes multipart."""
        ...

    async def submit_facture(
        self, cfa: str, opco: OpcoCode, body: Json, file: FileSource | None = None
    ) -> Created:
        """``file``: the invoice PDF, sent where the OPCO takes multipart."""
        ...

    def transport_is_multipart(self, opco: OpcoCode, route: RouteName) -> bool: ...

    async def submit_certificat(self, cfa: str, opco: OpcoCode, body: Json) -> Created: ...

    async def declare_rupture(self, cfa: str, opco: OpcoCode, body: Json) -> Created: ...

    async def submit_document(
        self, cfa: str, opco: OpcoCode, infos: Json, file: FileSource
    ) -> Created:
        """``POST /v1/documents``: ``infos`` (``infosFichier``: typeFichier, objets) and the file,
        as the profile's ``transport.documents`` says (multipart, or JSON with the file in
        base64), streamed. ``Created.ids``: ``{"numeroInterneDocument": ...}``; a 409 (the same
        file already attached: same CFA, typeFichier, objets, SHA-256) is ``duplicate=True``
        with the existing id."""
        ...

    def dossier_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[DossierEtat]: ...

    def facture_etats(self, cfa: str, opco: OpcoCode) -> AsyncIterator[FactureEtat]: ...

    async def get_dossier(self, cfa: str, opco: OpcoCode, numero_interne: str) -> Json: ...

    async def find_dossier(
        self, cfa: str, opco: OpcoCode, key: DossierNaturalKey
    ) -> Created | None: ...

    async def find_facture(self, cfa: str, opco: OpcoCode, reference: str) -> Created | None: ...

    async def key_info(self, cfa: str, opco: OpcoCode) -> KeyInfo: ...

    def has_credentials(self, cfa: str, opco: OpcoCode) -> bool: ...

    def supports(self, opco: OpcoCode, capability: str) -> bool: ...

    def quirks(self, opco: OpcoCode) -> Quirks:
        """The OPCO profile's quirks the bodies are built with (``ConfigurationError``: no
        profile)."""
        ...

    async def aclose(self) -> None: ...
