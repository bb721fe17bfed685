"""The HTTP outcome -> decision table (DESIGN "OPCO side"), as one pure function.

    status / failure                   decision          error (``Decision.error``)
    2xx                                OK                -
    409                                DUPLICATE         - (done: body carries the existing ids)
    400, 422, other 4xx, 3xx           INVALID           PermanentOpcoError + the OPCO's messages
    401                                UNAUTHORIZED      AuthError (client refreshes token once)
    403                                FORBIDDEN         AuthError (bad/expired key, rights)
    404                                NOT_FOUND         NotFoundError
    501                                NOT_SUPPORTED     NotSupportedError
    408, 425, 429, 503                 RETRY             RetryableOpcoError(retry_after=...)
    500, other 5xx                     RETRY             RetryableOpcoError
    504 on a creating route            AMBIGUOUS         AmbiguousOpcoError (a gateway timed
                                                         out after forwarding the request)
    connect error / pool timeout       RETRY             RetryableOpcoError (nothing sent)
    write/read timeout, dropped resp.  RETRY (GET)       RetryableOpcoError
                                       AMBIGUOUS (POST)  AmbiguousOpcoError: look up first

Nothing here does I/O: the client maps httpx exceptions to a ``TransportFailure`` and calls
``decide_transport``; responses go through ``decide``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from relais.domain.opco_errors import (
    MAX_DETAILS,
    MAX_TEXT,
    OpcoErrorDetail,
    messages_of,
    normalize_errors,
)
from relais.errors import (
    AmbiguousOpcoError,
    AuthError,
    NotFoundError,
    NotSupportedError,
    OpcoError,
    PermanentOpcoError,
    RetryableOpcoError,
)

MAX_MESSAGES = MAX_DETAILS
MAX_MESSAGE_LENGTH = MAX_TEXT

# Identifier fields an OPCO returns on creation (or in a 409 body, for the existing object).
ID_FIELDS: tuple[str, ...] = (
    "numeroInterne",
    "numeroExterne",
    "numeroDeca",
    "numeroInterneDossier",
    "numeroInterneFacture",
    "referenceFactureCFA",
    "idConvention",
    "idCertificat",
    "idDocument",
    "numeroInterneDocument",
)


class Outcome(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NOT_SUPPORTED = "not_supported"
    RETRY = "retry"
    AMBIGUOUS = "ambiguous"


class TransportFailure(StrEnum):
    """What went wrong below HTTP, as far as "was the request sent?" is concerned."""

    NOT_SENT = "not_sent"  # connect error, connect/pool timeout: the OPCO never saw the request
    WRITE = "write"  # failed while sending: the OPCO may have received all of it
    READ = "read"  # sent; the response timed out or the connection dropped


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    status: int | None = None
    messages: tuple[str, ...] = ()
    retry_after: float | None = None
    details: tuple[OpcoErrorDetail, ...] = ()
    ids: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.DUPLICATE)

    def error(self, opco: str, route: str) -> OpcoError:
        """The relais error for a failed decision (never called for OK / DUPLICATE)."""
        what = f"{opco} {route}"
        status = f" answered {self.status}" if self.status is not None else f": {self.reason}"
        head = f"{what}{status}"
        if self.messages:
            # The OPCO's own text may name the apprentice: it travels in ``messages`` (to the
            # CFA's own status event only), never in the error's text, which is logged.
            head = f"{head} ({len(self.messages)} OPCO message(s), in the CFA's status)"
        common: dict[str, Any] = {
            "opco": opco,
            "status": self.status,
            "messages": self.messages,
            "details": self.details,
        }
        match self.outcome:
            case Outcome.INVALID:
                return PermanentOpcoError(head, **common)
            case Outcome.UNAUTHORIZED | Outcome.FORBIDDEN:
                return AuthError(head, **common)
            case Outcome.NOT_FOUND:
                return NotFoundError(head, **common)
            case Outcome.NOT_SUPPORTED:
                return NotSupportedError(head, **common)
            case Outcome.RETRY:
                return RetryableOpcoError(head, retry_after=self.retry_after, **common)
            case Outcome.AMBIGUOUS:
                return AmbiguousOpcoError(head, retry_after=self.retry_after, **common)
            case Outcome.OK | Outcome.DUPLICATE:
                raise ValueError(f"{what}: a successful decision is not an error")


def decide(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    creating: bool = False,
    now: datetime | None = None,
) -> Decision:
    """Classify one HTTP response. ``creating``: the route creates something (POST)."""
    if 200 <= status < 300:
        return Decision(Outcome.OK, status, ids=extract_ids(body))
    details = normalize_errors(body)
    messages = messages_of(details)

    def refused(outcome: Outcome, retry_after: float | None = None) -> Decision:
        return Decision(outcome, status, messages, retry_after, details=details)

    if status == 409:
        return Decision(Outcome.DUPLICATE, status, messages, ids=extract_ids(body), details=details)
    if status == 401:
        return refused(Outcome.UNAUTHORIZED)
    if status == 403:
        return refused(Outcome.FORBIDDEN)
    if status == 404:
        return refused(Outcome.NOT_FOUND)
    if status == 501:
        return refused(Outcome.NOT_SUPPORTED)
    if status in (408, 425, 429, 503):
        return refused(Outcome.RETRY, parse_retry_after(headers, now=now))
    if status >= 500:
        ambiguous = creating and status == 504
        outcome = Outcome.AMBIGUOUS if ambiguous else Outcome.RETRY
        return refused(outcome, parse_retry_after(headers, now=now))
    return refused(Outcome.INVALID)


def decide_transport(failure: TransportFailure, *, creating: bool) -> Decision:
    """Classify a failure without an HTTP response."""
    if failure is TransportFailure.NOT_SENT:
        return Decision(Outcome.RETRY, reason="connection failed before sending")
    reason = "send failed" if failure is TransportFailure.WRITE else "no response (timeout or drop)"
    if creating:
        return Decision(Outcome.AMBIGUOUS, reason=f"{reason} after the request left")
    return Decision(Outcome.RETRY, reason=reason)


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or HTTP date); None when absent or unreadable."""
    raw = _header(headers, "retry-after")
    if raw is None or not raw.strip():
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def extract_messages(body: Any) -> tuple[str, ...]:
    """The OPCO's own messages, one line each, from any error shape (``domain/opco_errors``)."""
    return messages_of(normalize_errors(body))


def extract_ids(body: Any) -> dict[str, str]:
    """Identifier fields of a creation answer (top level, or one nested object for a 409)."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, Mapping):
        return {}
    ids = _ids_of(body)
    for value in body.values():
        if isinstance(value, Mapping):
            for key, item in _ids_of(value).items():
                ids.setdefault(key, item)
    return ids


def _ids_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: str(obj[key])
        for key in ID_FIELDS
        if isinstance(obj.get(key), str | int) and not isinstance(obj.get(key), bool)
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)
