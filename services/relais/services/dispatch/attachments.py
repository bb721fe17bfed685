"""What a convention or a facture brings besides its JSON: the file the event names (the signed
convention, the invoice PDF: sent where the OPCO takes multipart, convergence-api.md 0) and, for a
facture, the numeroExterne of each dossier it invoices (its lines' ``numeroDossier``)."""

from __future__ import annotations

from collections.abc import Mapping

from relais.domain.events import ErrorItem, EventData, FactureSubmittedData
from relais.domain.opco import OpcoCode
from relais.domain.profiles import RouteName
from relais.services.calls import OpcoCall
from relais.services.files_port import FileOpener, FileSource, FileUnavailableError
from relais.services.ledger_port import CommandKind, Ledger
from relais.services.opco_port import OpcoGateway

ROUTE_OF_KIND: dict[CommandKind, RouteName] = {
    CommandKind.CONVENTION: "conventions",
    CommandKind.FACTURE: "factures",
}


async def externes_of(ledger: Ledger, cfa: str, data: EventData) -> Mapping[str, str]:
    """A facture's dossiers -> their numeroExterne in the ledger (absent when unknown)."""
    if not isinstance(data, FactureSubmittedData):
        return {}
    out: dict[str, str] = {}
    for dossier_id in data.facture.dossier_ids:
        record = await ledger.dossier(cfa, dossier_id)
        if record is not None and record.numero_externe:
            out[dossier_id] = record.numero_externe
    return out


def needs_file(gateway: OpcoGateway, opco: OpcoCode, call: OpcoCall) -> bool:
    route = ROUTE_OF_KIND.get(call.kind)
    return route is not None and gateway.transport_is_multipart(opco, route)


def missing_file_error(call: OpcoCall) -> ErrorItem:
    where = "data.fichier" if call.kind is CommandKind.CONVENTION else "data.facture.fichier"
    return ErrorItem(
        code="FILE_MISSING",
        path=where,
        message=(
            "cet OPCO reçoit le fichier signé avec les données (multipart/form-data) : "
            "l'événement doit le nommer (fichier)"
        ),
    )


async def open_file(
    files: FileOpener | None, gateway: OpcoGateway, opco: OpcoCode, call: OpcoCall
) -> FileSource | None:
    """The file to send with ``call``: None where the OPCO takes JSON; checked against its
    reference (size, SHA-256) before anything leaves. Raises ``FileUnavailableError``."""
    if call.file is None or not needs_file(gateway, opco, call):
        return None
    if files is None:
        raise FileUnavailableError(
            "aucun stockage de fichiers n'est configuré : le fichier ne peut pas être lu"
        )
    return await files.open(call.file)
