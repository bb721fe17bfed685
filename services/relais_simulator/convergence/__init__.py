"""The convergence routes of an OPCO (schemas/convergence/README.md), behind faults, limits, auth.

Order of the gates for a request to ``/<OPCO>/ApiEchangeCFA/vN/<route>``:
fault injection (down, latency, drop, timeout, 5xx, 429) -> rate limit (429) -> capability (501)
-> EDITEUR/LOGICIEL/VERSION (400) -> OAuth2 bearer where the profile asks (401) -> X-API-KEY
(401 missing, 403 unknown or expired)
-> the route's own checks (400/403/404/409/422) -> the answer. Every request leaves one record.

``app.py`` serves a request through the gates (``gates.py``) to its route's handler; the handlers
read the request through ``context.py`` and are grouped by what they touch: ``dossiers.py`` (a
dossier and its reading), ``followups.py`` (convention, facture, certificat, document, rupture);
``oauth.py`` is AKTO's token endpoint.
"""

from relais_simulator.convergence.app import ConvergenceApp
from relais_simulator.convergence.gates import TRANSPORT_KEY
from relais_simulator.convergence.oauth import oauth_token

__all__ = ["TRANSPORT_KEY", "ConvergenceApp", "oauth_token"]
