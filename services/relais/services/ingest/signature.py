"""The optional per-CFA HMAC binding an event to its CFA (``ce_signature``): the one place it is
computed, by relais to verify and by producers (``relais send``, tests) to sign.

It is always a Kafka header, in both CloudEvents content modes (``binding.py``):

- binary mode: the ``ce_id``, ``ce_type``, ``ce_source``, ``ce_subject`` and ``ce_time`` headers
  exactly as sent, then the record value as sent (a schema registry's framing included);
- structured mode (``content-type: application/cloudevents+json``): the ``id``, ``type``,
  ``source``, ``subject`` and ``time`` members of the event exactly as they appear in the value
  (JSON strings, decoded), then the whole record value. The value holds the attributes and the
  data, so it is signed as it travels, with no canonical JSON to agree on; a ``signature`` member
  inside the value is refused (``ENVELOPE_SIGNATURE_IN_VALUE``): it would have to sign itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "ce_signature"
SIGNED_ATTRIBUTES = ("id", "type", "source", "subject", "time")


def signing_input(headers: Mapping[str, str], value: bytes) -> bytes:
    """What ``ce_signature`` signs: ce_id, ce_type, ce_source, ce_subject and ce_time exactly as
    sent, one per line, then the record value bytes."""
    parts = [headers.get(f"ce_{name}", "") for name in SIGNED_ATTRIBUTES]
    return ("\n".join(parts) + "\n").encode() + value


def sign(secret: str, headers: Mapping[str, str], value: bytes) -> str:
    """Hex HMAC-SHA256 of ``signing_input`` (CFA producers compute the same)."""
    return hmac.new(secret.encode(), signing_input(headers, value), hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], value: bytes, given: str) -> bool:
    """Whether ``given`` (hex, any case) is the signature of the event (constant time)."""
    return hmac.compare_digest(sign(secret, headers, value), given.lower())
