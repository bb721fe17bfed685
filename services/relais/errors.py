"""relais's one error tree.

Every failure that crosses a module boundary is one of these. Adapters translate library exceptions
(httpx, asyncpg, aiokafka...) into them; nothing else leaves an adapter.

    RelaisError
    ├── ConfigurationError          wrong settings, missing profile/credentials: fix, no retry
    │   └── MissingCredentialsError no key for this (CFA, OPCO) pair
    ├── InputError                  the CFA's event itself is wrong: rejected, never retried
    ├── LedgerError                 the ledger database failed (unreachable, lock timeout, I/O):
    │                               retry later; a write may or may not have committed
    ├── UnavailableError            a dependency (the Kafka broker) cannot be reached: retry later
    └── OpcoError                   an OPCO call did not succeed
        ├── RetryableOpcoError      try again later (5xx, 429/503 + Retry-After, connection error)
        │   └── AmbiguousOpcoError  the request may have been applied (timeout/drop after send):
        │                           resolve by a lookup before resending (DESIGN promise 2)
        └── PermanentOpcoError      retrying cannot help: 400/422 with the OPCO's messages
            ├── AuthError           401 after one token refresh, 403 (bad key / rights)
            ├── NotSupportedError   501: the OPCO has not implemented this route
            └── NotFoundError       404: the resource does not exist at the OPCO

Messages never contain personal data nor secrets: they carry codes, field paths and HTTP statuses.
An OPCO's own text (``OpcoError.messages``) is treated as personal data: it may echo an apprentice's
name, birth date or NIR. It is kept out of ``str(error)`` (which is logged) and only travels to the
CFA's own status event (``opcoMessages``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RelaisError(Exception):
    """Base of every relais error."""

    code: str = "RELAIS_ERROR"


class ConfigurationError(RelaisError):
    code = "CONFIGURATION"


class MissingCredentialsError(ConfigurationError):
    code = "MISSING_CREDENTIALS"

    def __init__(self, cfa: str, opco: str) -> None:
        super().__init__(f"no credentials configured for CFA {cfa} at OPCO {opco}")
        self.cfa = cfa
        self.opco = opco


class InputError(RelaisError):
    code = "INPUT"


class LedgerError(RelaisError):
    """The ledger could not do the operation. Every ledger write is guarded (inbox, lease, compare-
    and-set), so retrying one whose commit was in doubt is safe: it then reports "already done"."""

    code = "LEDGER"


class UnavailableError(RelaisError):
    """A dependency relais needs (the Kafka broker) cannot be reached. The CLI exits 69."""

    code = "UNAVAILABLE"


class OpcoError(RelaisError):
    code = "OPCO_ERROR"

    def __init__(
        self,
        message: str,
        *,
        opco: str | None = None,
        status: int | None = None,
        messages: Sequence[str] = (),
        details: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.opco = opco
        self.status = status
        self.messages: tuple[str, ...] = tuple(messages)
        # ``relais.domain.opco_errors.OpcoErrorDetail`` items (this module imports nothing of
        # relais): the OPCO's problems normalized; personal data like ``messages``.
        self.details: tuple[Any, ...] = tuple(details)


class RetryableOpcoError(OpcoError):
    code = "OPCO_RETRYABLE"

    def __init__(
        self,
        message: str,
        *,
        opco: str | None = None,
        status: int | None = None,
        messages: Sequence[str] = (),
        details: Sequence[Any] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, opco=opco, status=status, messages=messages, details=details)
        self.retry_after = retry_after


class AmbiguousOpcoError(RetryableOpcoError):
    code = "OPCO_AMBIGUOUS"


class PermanentOpcoError(OpcoError):
    code = "OPCO_PERMANENT"


class AuthError(PermanentOpcoError):
    code = "OPCO_AUTH"


class NotSupportedError(PermanentOpcoError):
    code = "OPCO_NOT_SUPPORTED"


class NotFoundError(PermanentOpcoError):
    code = "OPCO_NOT_FOUND"
