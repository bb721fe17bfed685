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

from relais.domain.opco_errors import OpcoErrorDetail
from relais.errors import (
    AmbiguousOpcoError,
    AuthError,
    NotFoundError,
    NotSupportedError,
    OpcoError,
    PermanentOpcoError,
    RetryableOpcoError,
)

MAX_MESSAGES = 20
MAX_MESSAGE_LENGTH = 300

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
    ids: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    details: tuple[OpcoErrorDetail, ...] = ()  # the same messages, as (code, message, field)

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
    messages = extract_messages(body)
    details = extract_details(body)
    if status == 409:
        return Decision(Outcome.DUPLICATE, status, messages, ids=extract_ids(body), details=details)
    if status in _FAILURES:
        return Decision(_FAILURES[status], status, messages, details=details)
    if status >= 500 or status in (408, 425, 429, 503):
        ambiguous = creating and status == 504
        outcome = Outcome.AMBIGUOUS if ambiguous else Outcome.RETRY
        retry_after = parse_retry_after(headers, now=now)
        return Decision(outcome, status, messages, retry_after, details=details)
    return Decision(Outcome.INVALID, status, messages, details=details)


_FAILURES = {
    401: Outcome.UNAUTHORIZED,
    403: Outcome.FORBIDDEN,
    404: Outcome.NOT_FOUND,
    501: Outcome.NOT_SUPPORTED,
}


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
    """The OPCO's own messages: message, description, error_description, error, errors[]."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    found: list[str] = []
    if isinstance(body, str):
        _add(found, body)
    elif isinstance(body, Mapping):
        for key in ("message", "description", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str):
                _add(found, value)
            elif isinstance(value, Mapping):
                found.extend(extract_messages(value))
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            errors = [{"champ": k, "message": v} for k, v in errors.items()]
        if isinstance(errors, list):
            for item in errors:
                _add(found, _error_item(item))
    unique = tuple(dict.fromkeys(m for m in found if m))
    return unique[:MAX_MESSAGES]


def extract_details(body: Any) -> tuple[OpcoErrorDetail, ...]:
    """The OPCO's errors as (code, message, field), from the shapes ``extract_messages`` reads:
    a text, ``{code?, message|description|error_description|error}``, ``errors[]`` of
    ``{code, champ|field|path, description|message|libelle}`` or ``errors{champ: message}``.
    At most ``MAX_MESSAGES``, each text cut at ``MAX_MESSAGE_LENGTH``, duplicates dropped."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    found: list[OpcoErrorDetail] = []
    if isinstance(body, str):
        found.append(OpcoErrorDetail(None, _clean(body), None))
    elif isinstance(body, Mapping):
        code = _clean(body.get("code"))
        for key in ("message", "description", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str):
                found.append(OpcoErrorDetail(code, _clean(value), None))
            elif isinstance(value, Mapping):
                found.extend(extract_details(value))
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            errors = [{"champ": k, "message": v} for k, v in errors.items()]
        if isinstance(errors, list):
            found.extend(_detail_item(item) for item in errors)
    kept = (d for d in found if d.message or d.code or d.field)
    return tuple(dict.fromkeys(kept))[:MAX_MESSAGES]


def _detail_item(item: Any) -> OpcoErrorDetail:
    if not isinstance(item, Mapping):
        return OpcoErrorDetail(None, _clean(item), None)
    text = next((item[k] for k in ("description", "message", "libelle") if k in item), None)
    where = item.get("champ") or item.get("field") or item.get("path")
    return OpcoErrorDetail(_clean(item.get("code")), _clean(text), _clean(where))


def _clean(value: Any) -> str | None:
    """A bounded one-line text (numbers as text), or None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = " ".join(str(value).split())[:MAX_MESSAGE_LENGTH]
    return text or None


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


def _error_item(item: Any) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, Mapping):
        return ""
    text = next(
        (item[k] for k in ("description", "message", "libelle") if isinstance(item.get(k), str)),
        "",
    )
    where = item.get("champ") or item.get("field") or item.get("path")
    code = item.get("code")
    prefix = " ".join(str(p) for p in (code, where) if isinstance(p, str | int) and p != "")
    if prefix and text:
        return f"{prefix}: {text}"
    return text or prefix


def _add(found: list[str], text: str) -> None:
    text = " ".join(text.split())
    if text:
        found.append(text[:MAX_MESSAGE_LENGTH])


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)
