"""What a document command needs before its call (``fr.cfa.document.submitted.v1``, issue 18):
an OPCO that takes documents, and the OPCO ids of the objects the file attaches to.

    route:    the OPCO's profile lacks the documents capability -> a terminal ``rejected``
              (``OPCO_ROUTE_UNSUPPORTED``) before any call, the dossier waited for or not
    dossier:  its numeroInterne, resolved like every follow-up's (``handler._resolve_dossiers``:
              a document whose dossier's submission is still retrying waits behind it, in its
              dossier's queue)
    facture:  with ``referenceFactureCFA``, that facture's numeroInterneFacture from the ledger's
              ``factures`` row of (CFA, reference); a facture command for it still open in the
              dossier's queue ahead of the document -> wait; none at the OPCO -> rejected
              (``FACTURE_NOT_AT_OPCO``)

The ledger finds a facture's command by the dossier that carried it (its Kafka key): a facture
event keyed by another of its dossiers and still in flight is not seen, and the document is
rejected; the CFA sends it again once the facture is submitted (its status says so).
"""

from __future__ import annotations

from relais.domain.events import DocumentSubmittedData, ErrorItem, EventData
from relais.domain.opco import OpcoCode
from relais.services.command_payload import CommandPayload
from relais.services.dispatch.outcomes import Wait
from relais.services.ledger_port import Command, CommandKind, CommandState, Ledger
from relais.services.opco_port import OpcoGateway

ROUTE_UNSUPPORTED = "OPCO_ROUTE_UNSUPPORTED"
FACTURE_NOT_AT_OPCO = "FACTURE_NOT_AT_OPCO"
FACTURE_AT_OTHER_OPCO = "FACTURE_AT_OTHER_OPCO"
OPEN = (CommandState.PENDING, CommandState.IN_FLIGHT)


def route_refusal(gateway: OpcoGateway, opco: OpcoCode, kind: CommandKind) -> ErrorItem | None:
    """Why the OPCO cannot take this command's route at all (None: it can). Documents only: the
    other routes keep their answer from the gateway (``not_supported``)."""
    if kind is not CommandKind.DOCUMENT or gateway.supports(opco, "documents"):
        return None
    return ErrorItem(
        code=ROUTE_UNSUPPORTED,
        path="type",
        message=(
            f"l'OPCO {opco} ne reçoit pas de documents par l'API convergence "
            "(POST /v1/documents) : transmettez ce fichier par un autre canal"
        ),
    )


async def facture_numero(
    ledger: Ledger, command: Command, data: EventData
) -> str | Wait | ErrorItem | None:
    """The numeroInterneFacture of the facture a document names (None: it names none), or wait
    for it, or why it will never be known."""
    if not isinstance(data, DocumentSubmittedData) or data.referenceFactureCFA is None:
        return None
    reference = data.referenceFactureCFA
    record = await ledger.facture(command.cfa, reference)
    if record is not None and record.numero_interne_facture:
        if record.opco != command.opco:
            return _facture_error(
                FACTURE_AT_OTHER_OPCO,
                "la facture nommée (referenceFactureCFA) a été transmise à un autre OPCO",
            )
        return record.numero_interne_facture
    ahead = [
        other
        for other in await ledger.commands_for(command.cfa, command.dossier_id)
        if other.kind is CommandKind.FACTURE
        and other.state in OPEN
        and other.id < command.id
        and _reference_of(other) == reference
    ]
    if ahead:
        return Wait((command.dossier_id,))
    return _facture_error(
        FACTURE_NOT_AT_OPCO,
        "la facture nommée (referenceFactureCFA) n'a pas de numeroInterneFacture à l'OPCO : "
        "transmettez d'abord la facture (fr.cfa.facture.submitted.v1), puis le document",
    )


def _reference_of(command: Command) -> str | None:
    payload = command.payload
    if not isinstance(payload, CommandPayload):
        return None
    facture = getattr(payload.data, "facture", None)
    reference = getattr(facture, "referenceFactureCFA", None)
    return reference if isinstance(reference, str) else None


def _facture_error(code: str, message: str) -> ErrorItem:
    return ErrorItem(code=code, path="data.referenceFactureCFA", message=message)
