"""The dispatch role: ledger commands -> OPCO calls -> outcomes + status events.

``scheduler.Dispatcher`` claims commands into slots (per-OPCO shares, leases); each one runs in
``handler.CommandHandler`` (payload, dossiers, doubt, OPCO call; ``documents`` a document's
route and facture, ``doubt`` the look-up of an ambiguous command, ``attachments`` the file opened
for the CFA and the call that carries it); ``outcomes.Outcomes`` writes how it ended with its
status events in one ledger transaction; ``pauses.PauseWatch`` reports the OPCOs the operators
paused and notes the commands they hold. ``options`` holds what it is given.
"""

from relais.services.dispatch.handler import CommandHandler, CommandMetrics, LatencyMetrics
from relais.services.dispatch.options import AUTO_SHARE, DispatchOptions, default_worker_id
from relais.services.dispatch.scheduler import Dispatcher

__all__ = [
    "AUTO_SHARE",
    "CommandHandler",
    "CommandMetrics",
    "DispatchOptions",
    "Dispatcher",
    "LatencyMetrics",
    "default_worker_id",
]
