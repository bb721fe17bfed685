"""Every ``reason`` a relais status event can carry: one enum, one style (lower snake case), each
with its French description (``StatusReason.description``) and the status it goes with
(``REASON_STATUSES``).

The JSON Schema of the status body (``schemas/events/status.v1.json``) lists them as an enum and
the README of ``schemas/events`` as a table, both generated from here; a unit test checks that
every reason the code emits is one of them. A new reason is a contract change: add it here.

Dead-letter reasons are the lower-case form of the ``dlq_reason`` header of the dead letter
(``TOO_LARGE`` -> ``too_large``): the header is for operators, the status for the CFA.
"""

from __future__ import annotations

from enum import StrEnum


class StatusReason(StrEnum):
    # retrying
    RETRYABLE = "retryable"
    AMBIGUOUS = "ambiguous"
    FILE_STORE_UNAVAILABLE = "file_store_unavailable"
    # waiting
    OPCO_PAUSED = "opco_paused"
    # submitted
    ALREADY_AT_OPCO = "already_at_opco"
    # failed
    REJECTED_BY_OPCO = "rejected_by_opco"
    NOT_SUPPORTED = "not_supported"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    OPCO_ERROR = "opco_error"
    RETRIES_EXHAUSTED_ATTEMPTS = "retries_exhausted_attempts"
    RETRIES_EXHAUSTED_TIMEOUT = "retries_exhausted_timeout"
    RETRIES_EXHAUSTED_NOT_RETRYABLE = "retries_exhausted_not_retryable"
    DOSSIER_NOT_AT_OPCO = "dossier_not_at_opco"
    INVALID_PAYLOAD = "invalid_payload"
    MISSING_CREDENTIALS = "missing_credentials"
    CONFIGURATION = "configuration"
    FILE_MISSING = "file_missing"
    FILE_UNAVAILABLE = "file_unavailable"
    # dead_lettered
    EMPTY_VALUE = "empty_value"
    TOO_LARGE = "too_large"
    ENVELOPE_INVALID_CHARACTER = "envelope_invalid_character"
    ENVELOPE_UNDECODABLE = "envelope_undecodable"
    ENVELOPE_HEADERS_MISSING = "envelope_headers_missing"
    ENVELOPE_UNSUPPORTED_CONTENT_TYPE = "envelope_unsupported_content_type"
    DATA_REGISTRY_FRAMED = "data_registry_framed"
    DATA_NOT_JSON = "data_not_json"
    DATA_NOT_FINITE = "data_not_finite"
    DATA_NOT_OBJECT = "data_not_object"
    DATA_TOO_DEEP = "data_too_deep"
    UNPROCESSABLE = "unprocessable"

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]

    @property
    def status(self) -> str:
        """The status name this reason goes with."""
        return REASON_STATUSES[self]

    @classmethod
    def of_dead_letter(cls, dlq_reason: str) -> StatusReason:
        """The status reason of a dead letter's ``dlq_reason`` (``TOO_LARGE`` -> ``too_large``)."""
        return cls(dlq_reason.lower())


DESCRIPTIONS: dict[StatusReason, str] = {
    StatusReason.RETRYABLE: "L'OPCO a répondu par une erreur temporaire (indisponibilité, "
    "limite de débit) : relais réessaiera à l'heure indiquée.",
    StatusReason.AMBIGUOUS: "La requête a pu atteindre l'OPCO sans que sa réponse soit reçue : "
    "relais vérifiera auprès de l'OPCO avant de la renvoyer.",
    StatusReason.FILE_STORE_UNAVAILABLE: "Le stockage qui contient le fichier de l'événement "
    "(S3, répertoire local) est momentanément inaccessible : relais réessaiera à l'heure "
    "indiquée ; le fichier n'a pas été transmis à l'OPCO.",
    StatusReason.OPCO_PAUSED: "L'OPCO est suspendu par l'exploitant (sa fenêtre de "
    "maintenance) : rien n'est envoyé et aucune tentative n'est comptée jusqu'à nextAttemptAt "
    "(absent : jusqu'à sa reprise).",
    StatusReason.ALREADY_AT_OPCO: "L'OPCO avait déjà cet objet (réponse 409 ou objet retrouvé "
    "par une recherche) : ses identifiants sont ceux de l'objet existant.",
    StatusReason.REJECTED_BY_OPCO: "L'OPCO a refusé la demande ; ses motifs sont dans "
    "opcoErrors et opcoMessages.",
    StatusReason.NOT_SUPPORTED: "Cet OPCO ne propose pas ce service dans l'API convergence.",
    StatusReason.AUTH: "L'OPCO a refusé l'authentification ou les droits de relais pour ce CFA.",
    StatusReason.NOT_FOUND: "L'OPCO ne connaît pas l'objet visé (dossier ou facture).",
    StatusReason.OPCO_ERROR: "L'OPCO a répondu par une erreur non classée ; ses messages sont "
    "joints.",
    StatusReason.RETRIES_EXHAUSTED_ATTEMPTS: "Abandon après le nombre maximal de tentatives "
    "auprès de l'OPCO.",
    StatusReason.RETRIES_EXHAUSTED_TIMEOUT: "Abandon : aucune réponse favorable de l'OPCO dans "
    "le délai maximal.",
    StatusReason.RETRIES_EXHAUSTED_NOT_RETRYABLE: "Abandon : la dernière erreur de l'OPCO ne "
    "permet pas de réessayer.",
    StatusReason.DOSSIER_NOT_AT_OPCO: "Le dossier visé n'a pas (encore) de numeroInterne à "
    "l'OPCO : l'événement ne peut pas lui être transmis.",
    StatusReason.INVALID_PAYLOAD: "Le contenu enregistré de l'événement ne permet pas de "
    "construire l'appel à l'OPCO ; le détail est dans errors.",
    StatusReason.MISSING_CREDENTIALS: "relais n'a pas d'identifiants pour cet OPCO et ce CFA : "
    "à signaler à l'exploitant.",
    StatusReason.CONFIGURATION: "La configuration de relais ne permet pas cet appel : à "
    "signaler à l'exploitant.",
    StatusReason.FILE_MISSING: "L'OPCO attend le fichier signé dans le même appel et "
    "l'événement n'en donne pas (champ fichier) ; le détail est dans errors.",
    StatusReason.FILE_UNAVAILABLE: "Le fichier nommé par l'événement est introuvable ou ne "
    "correspond pas à sa référence (taille ou SHA-256).",
    StatusReason.EMPTY_VALUE: "L'enregistrement Kafka n'a pas de valeur.",
    StatusReason.TOO_LARGE: "L'enregistrement Kafka dépasse la taille maximale acceptée.",
    StatusReason.ENVELOPE_INVALID_CHARACTER: "Un en-tête ce_* ou la clé contient un caractère "
    "interdit.",
    StatusReason.ENVELOPE_UNDECODABLE: "Les en-têtes CloudEvents ne sont pas lisibles (pas en "
    "UTF-8 ou ce_id inutilisable).",
    StatusReason.ENVELOPE_HEADERS_MISSING: "Un en-tête CloudEvents obligatoire manque.",
    StatusReason.ENVELOPE_UNSUPPORTED_CONTENT_TYPE: "L'enregistrement est dans un format "
    "d'événement que relais ne lit pas (seuls application/json et application/cloudevents+json "
    "sont acceptés).",
    StatusReason.DATA_REGISTRY_FRAMED: "La valeur est encadrée par un registre de schémas "
    "(octet magique et identifiant de schéma) mais ce déploiement n'en a pas de configuré.",
    StatusReason.DATA_NOT_JSON: "La valeur de l'enregistrement n'est pas du JSON (UTF-8).",
    StatusReason.DATA_NOT_FINITE: "La valeur contient un nombre non fini (NaN, Infinity ou "
    "hors limites).",
    StatusReason.DATA_NOT_OBJECT: "La valeur de l'enregistrement doit être un objet JSON.",
    StatusReason.DATA_TOO_DEEP: "La valeur de l'enregistrement est trop imbriquée.",
    StatusReason.UNPROCESSABLE: "relais n'a pas pu traiter cet enregistrement ; il est conservé "
    "dans la file des lettres mortes pour l'exploitant.",
}

_RETRYING = frozenset(
    {StatusReason.RETRYABLE, StatusReason.AMBIGUOUS, StatusReason.FILE_STORE_UNAVAILABLE}
)
_SUBMITTED = frozenset({StatusReason.ALREADY_AT_OPCO})
_FAILED = frozenset(
    {
        StatusReason.REJECTED_BY_OPCO,
        StatusReason.NOT_SUPPORTED,
        StatusReason.AUTH,
        StatusReason.NOT_FOUND,
        StatusReason.OPCO_ERROR,
        StatusReason.RETRIES_EXHAUSTED_ATTEMPTS,
        StatusReason.RETRIES_EXHAUSTED_TIMEOUT,
        StatusReason.RETRIES_EXHAUSTED_NOT_RETRYABLE,
        StatusReason.DOSSIER_NOT_AT_OPCO,
        StatusReason.INVALID_PAYLOAD,
        StatusReason.MISSING_CREDENTIALS,
        StatusReason.CONFIGURATION,
        StatusReason.FILE_MISSING,
        StatusReason.FILE_UNAVAILABLE,
    }
)


def _status_of(reason: StatusReason) -> str:
    if reason in _RETRYING:
        return "retrying"
    if reason is StatusReason.OPCO_PAUSED:
        return "waiting"
    if reason in _SUBMITTED:
        return "submitted"
    if reason in _FAILED:
        return "failed"
    return "dead_lettered"


REASON_STATUSES: dict[StatusReason, str] = {reason: _status_of(reason) for reason in StatusReason}
