"""What a call brings besides its JSON, and the call that carries it: the file the event names
(the signed convention, the invoice PDF: sent where the OPCO takes multipart, convergence-api.md
0; a document's file, always sent) and, for a facture, the numeroExterne of each dossier it
invoices (its lines' ``numeroDossier``).

A file is opened for the command's CFA only (``CfaFileOpener.open(cfa, ref)``: its grants first,
then size, SHA-256 and type by its bytes) and streamed into the request, never held whole. A
refusal (``FileRefusedError``) becomes the ``ErrorItem`` of a terminal ``rejected`` status
(:func:`refusal_error`: its code, the event's path of the reference, the file's name, never its
content); a store out of reach (``FileStoreUnavailableError``) is retried by the handler.
"""

from __future__ import annotations

from collections.abc import Mapping

from relais.domain.events import ErrorItem, EventData, FactureSubmittedData
from relais.domain.file_refusals import FileRefusedError
from relais.domain.opco import OpcoCode
from relais.domain.profiles import RouteName
from relais.errors import ConfigurationError
from relais.services.calls import OpcoCall
from relais.services.files_port import CfaFileOpener, FileSource
from relais.services.ledger_port import Command, CommandKind, Ledger
from relais.services.opco_port import Created, OpcoGateway

ROUTE_OF_KIND: dict[CommandKind, RouteName] = {
    CommandKind.CONVENTION: "conventions",
    CommandKind.FACTURE: "factures",
    CommandKind.DOCUMENT: "documents",
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
    """A document always carries its file (multipart part or base64 JSON); a convention or a
    facture where the OPCO takes that route as multipart."""
    if call.kind is CommandKind.DOCUMENT:
        return True
    route = ROUTE_OF_KIND.get(call.kind)
    return route is not None and gateway.transport_is_multipart(opco, route)


def file_path(kind: CommandKind) -> str:
    """Where the event names its file."""
    return "data.facture.fichier" if kind is CommandKind.FACTURE else "data.fichier"


def missing_file_error(call: OpcoCall) -> ErrorItem:
    return ErrorItem(
        code="FILE_MISSING",
        path=file_path(call.kind),
        message=(
            "cet OPCO reçoit le fichier signé avec les données (multipart/form-data) : "
            "l'événement doit le nommer (fichier)"
        ),
    )


def refusal_error(call: OpcoCall, exc: FileRefusedError) -> ErrorItem:
    """The rejected status's item for a file relais will not send: its code, where the event
    names the file, and a message naming the file by its name, never its content."""
    message = str(exc)
    name = call.file.fileName if call.file is not None else ""
    if name not in message:
        message = f"{name} : {message}"
    return ErrorItem(code=exc.code, path=file_path(call.kind), message=message)


async def open_file(
    files: CfaFileOpener | None, gateway: OpcoGateway, opco: OpcoCode, cfa: str, call: OpcoCall
) -> FileSource | None:
    """The file to send with ``call`` for ``cfa``: None where the OPCO takes JSON; checked
    against its reference before anything leaves. Raises ``FileRefusedError``,
    ``FileStoreUnavailableError``, or ``ConfigurationError`` (no store configured)."""
    if call.file is None or not needs_file(gateway, opco, call):
        return None
    if files is None:
        raise ConfigurationError("no file store is configured: the event's file cannot be read")
    return await files.open(cfa, call.file)


async def send(
    gateway: OpcoGateway,
    files: CfaFileOpener | None,
    command: Command,
    opco: OpcoCode,
    call: OpcoCall,
) -> Created:
    """The OPCO call of ``command``, with its file where it carries one."""
    g, cfa = gateway, command.cfa
    match command.kind:
        case CommandKind.DOSSIER:
            return await g.submit_dossier(cfa, opco, call.body)
        case CommandKind.CONVENTION:
            file = await open_file(files, g, opco, cfa, call)
            return await g.submit_convention(cfa, opco, call.body, file)
        case CommandKind.FACTURE:
            file = await open_file(files, g, opco, cfa, call)
            return await g.submit_facture(cfa, opco, call.body, file)
        case CommandKind.CERTIFICAT:
            return await g.submit_certificat(cfa, opco, call.body)
        case CommandKind.RUPTURE:
            return await g.declare_rupture(cfa, opco, call.body)
        case CommandKind.DOCUMENT:
            document = await open_file(files, g, opco, cfa, call)
            if document is None:  # build_call always names the event's file
                raise ConfigurationError("a document command without its file")
            return await g.submit_document(cfa, opco, call.body, document)
