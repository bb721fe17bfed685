"""Promise 2 (no duplicate side effect): an ambiguous command (its previous attempt may have
reached the OPCO: a timeout after sending, a crash or a lease lost mid-call, a shutdown) is looked
up at the OPCO before it is sent again, by the best means of its route. Where no read route can
tell, the resend relies on the OPCO's duplicate answer (409 -> ``Created(duplicate=True)``)."""

from __future__ import annotations

from relais.domain.events import EventData
from relais.domain.opco import OpcoCode
from relais.errors import NotSupportedError
from relais.logging import get_logger
from relais.services.calls import OpcoCall, facture_reference, is_avenant, natural_key
from relais.services.ledger_port import Command, CommandKind
from relais.services.opco_port import Created, OpcoGateway

log = get_logger("relais.services.dispatch")


async def look_up(
    gateway: OpcoGateway, command: Command, opco: OpcoCode, call: OpcoCall, data: EventData
) -> Created | None:
    """Resolve the doubt of an ambiguous command by the best means of its route: what the OPCO
    already has (``duplicate=True``), or None (resend; the OPCO's 409 answers a duplicate)."""
    if command.kind is CommandKind.DOSSIER:
        if is_avenant(call.body):
            # An avenant shares its contract's natural key (employer, apprentice, start):
            # a search would find the contract itself. Its resend gets the OPCO's 409.
            log.info("dispatch.doubt_unresolvable", why="avenant")
            return None
        key = natural_key(call.body)
        if key is None:
            log.info("dispatch.doubt_unresolvable", why="incomplete natural key")
            return None
        try:
            return await gateway.find_dossier(command.cfa, opco, key)
        except NotSupportedError:
            return None  # no read route at this OPCO: rely on its duplicate answer (409)
    if command.kind is CommandKind.FACTURE:
        reference = facture_reference(data)
        if reference is None:
            return None
        try:
            return await gateway.find_facture(command.cfa, opco, reference)
        except NotSupportedError:
            return None
    # Conventions, certificats, ruptures: no read route; the resend gets 409 if it was stored.
    # Documents (issue 18): no read route either; the OPCO answers a document it
    # already has (same CFA, typeFichier, objets and file SHA-256) with 409 and its
    # numeroInterneDocument, so the resend of an ambiguous upload (a timeout after sending, a
    # crash mid-upload) leaves exactly one document at the OPCO.
    return None
