"""The OPCO client: ``HttpOpcoGateway`` implements ``relais.services.opco_port.OpcoGateway``.

Where things live:

    gateway.py    HttpOpcoGateway: one httpx pool + semaphore + token bucket + breaker per OPCO
    routes.py     the convergence routes called, each gated by a profile capability
    decisions.py  the HTTP outcome -> decision table (pure), and the decision -> relais error
    oauth.py      OAuth2 client-credentials token per OPCO (AKTO), cached, refreshed on 401
    pages.py      paging through .../etats (numeroPage, AKTO's array wrapping, repeated pages)
    readmodel.py  per-OPCO answer quirks undone (natureFrais case, IBAN/iban), lenient dates
    lookup.py     natural-key matching to resolve an ambiguous dossier creation (promise 2)
    breaker.py    circuit breaker;  ratelimit.py  token bucket (time: relais.domain.clock.Clock)
    observer.py   RequestObserver hooks (metrics plug in here; no prometheus import)
    factory.py    build_gateway(settings, credentials): the composition root's entry point

Credentials (per CFA SIRET and OPCO, OAuth clients per OPCO) come from
``relais.adapters.credentials.CredentialStore``. No httpx exception leaves this package.
"""

from relais.adapters.opco.breaker import BreakerSettings
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.adapters.opco.observer import NullObserver, RequestObserver

__all__ = [
    "BreakerSettings",
    "HttpOpcoGateway",
    "NullObserver",
    "RequestObserver",
]
