"""Who may publish what: a record's source is established (its CFA SIRET) only when its topic
may carry that source and, for a CFA with a secret (or when signatures are required), when its
``ce_signature`` verifies. Any other record's refusal is named by its Kafka position."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import SecretStr

from relais.domain.events import MAX_EVENT_BYTES, Envelope, ErrorItem
from relais.domain.file_checks import FileLimits
from relais.services.ingest.hygiene import error
from relais.services.ingest.signature import SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class IngestPolicy:
    """What ingest needs from the settings (built by ``bootstrap`` from ``Settings``)."""

    max_message_bytes: int = MAX_EVENT_BYTES  # larger: dead letter (settings: kafka.*)
    # topic -> allowed CFA SIRETs/UAIs ("*": any); empty: any source on any topic.
    topic_sources: Mapping[str, Sequence[str]] = field(default_factory=dict)
    uai_siret: Mapping[str, str] = field(default_factory=dict)
    hmac_secrets: Mapping[str, SecretStr] = field(default_factory=dict)
    require_signature: bool = False
    registry_framing: bool = False  # values framed by a schema registry (settings: kafka.*)
    # the file references' bounds checked at ingest (settings: files.*, issue 18)
    file_limits: FileLimits = field(default_factory=FileLimits)

    def topic_may_carry(self, topic: str, *sources: str) -> bool:
        if not self.topic_sources:
            return True
        allowed = self.topic_sources.get(topic)
        if allowed is None:
            return False
        return "*" in allowed or any(s in allowed for s in sources)


class Refusal(Exception):
    """An event refused with every error found; ``trusted`` False: its source is not established
    (its refusal is then named by the record's position and carries no CFA)."""

    def __init__(self, *errors: ErrorItem, trusted: bool = True) -> None:
        self.errors = errors
        self.trusted = trusted


def authorize(
    policy: IngestPolicy,
    topic: str,
    envelope: Envelope,
    headers: Mapping[str, str],
    value: bytes,
) -> str:
    """The CFA SIRET the event is established to come from; raises an untrusted ``Refusal``."""
    ref = envelope.source_ref
    if ref.scheme == "uai":
        siret = policy.uai_siret.get(ref.value)
        if siret is None:
            raise _untrusted(
                "SOURCE_UNKNOWN_UAI",
                "ce_source",
                "cet UAI n'est associé à aucun SIRET de CFA dans la configuration de relais",
            )
    else:
        siret = ref.value
    if not policy.topic_may_carry(topic, siret, ref.value):
        raise _untrusted(
            "SOURCE_NOT_ALLOWED_ON_TOPIC",
            "ce_source",
            "ce CFA n'est pas autorisé à publier sur ce topic",
        )
    secret = policy.hmac_secrets.get(siret)
    if secret is not None or policy.require_signature:
        given = envelope.signature
        if given is None:
            raise _untrusted("SIGNATURE_MISSING", SIGNATURE_HEADER, "une signature est obligatoire")
        if secret is None:
            raise _untrusted(
                "SIGNATURE_UNVERIFIABLE",
                SIGNATURE_HEADER,
                "relais n'a pas de secret de signature pour ce CFA",
            )
        if not verify(secret.get_secret_value(), headers, value, given):
            raise _untrusted(
                "SIGNATURE_INVALID",
                SIGNATURE_HEADER,
                "la signature ne correspond pas à l'événement",
            )
    return siret


def _untrusted(code: str, path: str, message: str) -> Refusal:
    return Refusal(error(code, path, message), trusted=False)
