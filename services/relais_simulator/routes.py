"""The convergence routes the simulator serves, as data: path, method, capability, creation kind.

Every route is served under ``/<OPCO><base path>/v1/...`` and ``/v2/...`` (the profile's base
path; paths match case-insensitively: a working client wrote ``v1/Factures``). Posting a dossier is
versioned by capability (``dossiers_v1`` / ``dossiers_v2``); the other routes need one capability
whatever the version (the profiles do not distinguish versions for them).
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.profiles import Capability


@dataclass(frozen=True, slots=True)
class RouteSpec:
    name: str
    method: str
    path: str  # after /vN/
    capability: Capability | None
    creates: str | None = None  # the kind of object a 2xx creates (for records and stored-lost)


ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("status", "GET", "status", None),
    RouteSpec("dossiers_post", "POST", "dossiers", None, creates="dossier"),
    RouteSpec("dossiers_etats", "GET", "dossiers/etats", "dossiers_etats"),
    RouteSpec("dossiers_liste", "GET", "dossiers/liste", "dossiers_liste"),
    RouteSpec("dossier_detail", "GET", "dossiers", "dossier_detail"),
    RouteSpec("conventions", "POST", "conventions", "conventions", creates="convention"),
    RouteSpec("factures", "POST", "factures", "factures", creates="facture"),
    RouteSpec("factures_etats", "GET", "factures/etats", "factures_etats"),
    RouteSpec("certificats", "POST", "certificats", "certificats", creates="certificat"),
    RouteSpec("documents", "POST", "documents", "documents", creates="document"),
    RouteSpec("rupture", "POST", "dossiers/rupture/employeur", "rupture", creates="rupture"),
    RouteSpec("cfakeyinfo", "GET", "cfakeyinfo", "cfakeyinfo"),
)

ROUTE_NAMES: frozenset[str] = frozenset(r.name for r in ROUTES)
VERSIONS: tuple[str, ...] = ("v1", "v2")

_BY_KEY: dict[tuple[str, str], RouteSpec] = {(r.method, r.path.lower()): r for r in ROUTES}
_PATHS: frozenset[str] = frozenset(r.path.lower() for r in ROUTES)


def match(method: str, rest: str) -> tuple[RouteSpec | None, str | None, bool]:
    """``rest`` is the path after the base path: -> (route, version, path_exists)."""
    version, _, path = rest.partition("/")
    version = version.lower()
    if version not in VERSIONS:
        return None, None, False
    path = path.rstrip("/").lower()
    spec = _BY_KEY.get((method, path))
    return spec, version, spec is not None or path in _PATHS


def dossier_capability(version: str) -> Capability:
    return "dossiers_v2" if version == "v2" else "dossiers_v1"
