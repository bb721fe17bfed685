"""Sample command payloads (the ``data`` of CFA events, as JSON) for the dispatch tests."""

from __future__ import annotations

from relais.domain.json_types import Json
from relais.services.command_payload import CommandPayload, parse
from relais.services.ledger_port import CommandKind, NewCommand
from tests.local_files import reference_json

CFA = "12345678900011"
OTHER_CFA = "98765432100022"


TYPES = {
    CommandKind.DOSSIER: "fr.cfa.dossier.submitted.v1",
    CommandKind.CONVENTION: "fr.cfa.convention.submitted.v1",
    CommandKind.FACTURE: "fr.cfa.facture.submitted.v1",
    CommandKind.CERTIFICAT: "fr.cfa.certificat.submitted.v1",
    CommandKind.RUPTURE: "fr.cfa.rupture.declared.v1",
    CommandKind.DOCUMENT: "fr.cfa.document.submitted.v1",
}


def wrap(kind: CommandKind, data: Json) -> CommandPayload:
    """A command payload as ingest stores it."""
    return parse(stored(kind, data))


def stored(kind: CommandKind, data: Json) -> Json:
    """The stored JSON form of a command payload."""
    return {"type": TYPES[kind], "time": "2026-11-27T08:00:00+00:00", "data": data}


def cerfa(n: int = 1, *, siret: str = "11122233300015") -> Json:
    """A CERFA with a distinct natural key per ``n``."""
    return {
        "employeur": {"siret": siret, "denomination": "Boulangerie Test", "codeIdcc": "0843"},
        "apprenti": {
            "nom": f"NOM{n}",
            "prenom": f"Prenom{n}",
            "dateNaissance": "2006-03-14",
            "nir": "106037512345678",
        },
        "contrat": {
            "typeContratApp": 11,
            "dateDebutContrat": "2026-09-01",
            "dateFinContrat": "2028-08-31",
        },
        "formation": {"rncp": "RNCP12345"},
    }


def dossier_cmd(
    event_id: str, dossier_id: str, n: int = 1, *, opco: str = "AKTO", cfa: str = CFA
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=CommandKind.DOSSIER,
        payload=wrap(CommandKind.DOSSIER, {"opco": opco, "cerfa": cerfa(n)}),
    )


def convention_cmd(
    event_id: str, dossier_id: str, *, opco: str = "AKTO", cfa: str = CFA
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=CommandKind.CONVENTION,
        payload=wrap(
            CommandKind.CONVENTION,
            {
                "convention": {
                    "couts": {"coutTotalPedagogieCFA": 7000},
                    "dateSignature": "2026-08-20",
                    "attestationConventionSigneeCFA": True,
                }
            },
        ),
    )


def certificat_cmd(
    event_id: str, dossier_id: str, *, opco: str = "AKTO", cfa: str = CFA
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=CommandKind.CERTIFICAT,
        payload=wrap(
            CommandKind.CERTIFICAT,
            {
                "certificat": {
                    "typeCertificat": "Intermediaire",
                    "echeance": {"numero": 1, "dateDebut": "2026-09-01", "dateFin": "2027-02-28"},
                }
            },
        ),
    )


def rupture_cmd(
    event_id: str, dossier_id: str, *, opco: str = "AKTO", cfa: str = CFA
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=CommandKind.RUPTURE,
        payload=wrap(
            CommandKind.RUPTURE,
            {"rupture": {"dateRupture": "2027-01-15", "motif": "commun accord"}},
        ),
    )


def facture_cmd(
    event_id: str,
    dossier_ids: list[str],
    *,
    reference: str = "FAC-2026-001",
    opco: str = "AKTO",
    cfa: str = CFA,
    montant: float = 1000.0,
) -> NewCommand:
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_ids[0],
        opco=opco,
        kind=CommandKind.FACTURE,
        payload=wrap(
            CommandKind.FACTURE,
            {
                "facture": {
                    "referenceFactureCFA": reference,
                    "dateFacture": "2026-11-20",
                    "montantFacture": montant * len(dossier_ids),
                    "organismeFormation": {"siret": CFA, "iban": "FR7630006000011234567890189"},
                    "lignes": [
                        {"dossierId": d, "numeroEcheance": 1, "montant": montant}
                        for d in dossier_ids
                    ],
                }
            },
        ),
        depends_on=[d for d in dossier_ids if d != dossier_ids[0]],
    )


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64


def fichier(data: bytes = PDF, name: str = "reduction.pdf", location: str = "") -> Json:
    """A file reference (its location only read by the opener the test gives)."""
    return reference_json(location or f"s3://cfa-docs/{name}", data, name)


def document_cmd(
    event_id: str,
    dossier_id: str,
    *,
    type_fichier: str = "CONVENTION_REDUCTION_DUREE",
    reference: str | None = None,
    opco: str = "AKTO",
    cfa: str = CFA,
    file: Json | None = None,
) -> NewCommand:
    data: Json = {"typeFichier": type_fichier, "fichier": file or fichier()}
    if reference is not None:
        data["referenceFactureCFA"] = reference
    return NewCommand(
        event_id=event_id,
        cfa=cfa,
        dossier_id=dossier_id,
        opco=opco,
        kind=CommandKind.DOCUMENT,
        payload=wrap(CommandKind.DOCUMENT, data),
    )
