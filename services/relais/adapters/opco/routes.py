"""The convergence routes relais calls, each with the capability that gates it (wire contract:
``schemas/convergence/README.md``). Labels (``POST /v2/dossiers``) are the metrics' route label."""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.profiles import Capability


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to the OPCO's base URL
    capability: Capability
    creating: bool = False

    @property
    def label(self) -> str:
        return f"{self.method} /{self.path}"


DOSSIERS_V1 = Route("POST", "v1/dossiers", "dossiers_v1", creating=True)
DOSSIERS_V2 = Route("POST", "v2/dossiers", "dossiers_v2", creating=True)
DOSSIER_ETATS_V1 = Route("GET", "v1/dossiers/etats", "dossiers_etats")
DOSSIER_ETATS_V2 = Route("GET", "v2/dossiers/etats", "dossiers_etats")
DOSSIERS_LISTE = Route("GET", "v1/dossiers/liste", "dossiers_liste")
DOSSIER_DETAIL_V1 = Route("GET", "v1/dossiers", "dossier_detail")
DOSSIER_DETAIL_V2 = Route("GET", "v2/dossiers", "dossier_detail")
CONVENTIONS = Route("POST", "v1/conventions", "conventions", creating=True)
FACTURES = Route("POST", "v1/factures", "factures", creating=True)
FACTURE_ETATS = Route("GET", "v2/factures/etats", "factures_etats")
CERTIFICATS = Route("POST", "v2/certificats", "certificats", creating=True)
DOCUMENTS = Route("POST", "v1/documents", "documents", creating=True)
RUPTURE = Route("POST", "v2/dossiers/rupture/employeur", "rupture", creating=True)
CFAKEYINFO = Route("GET", "v2/cfakeyinfo", "cfakeyinfo")
