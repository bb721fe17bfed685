"""Why relais could not start, in one line with a hint, and the exit code that goes with it.

Used by ``App.serve`` (logged before anything is stopped, so the reason comes first) and by
``relais run`` (the exit code: 78 configuration, 69 a dependency unreachable, 1 anything else).
No traceback for the expected failures: the reason and what to check are enough; an unexpected
one (a bug) keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.errors import ConfigurationError, LedgerError, UnavailableError

EX_SOFTWARE = 1
EX_UNAVAILABLE = 69
EX_CONFIG = 78


@dataclass(frozen=True)
class StartFailure:
    code: int
    reason: str
    hint: str
    expected: bool  # a known cause: no traceback needed

    def fields(self) -> dict[str, str]:
        return {"reason": self.reason, "hint": self.hint}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _from_kafka_client(exc: BaseException) -> bool:
    """FastStream's broker start raises the Kafka client's own error (told apart by its module:
    this module imports no Kafka library)."""
    return type(exc).__module__.split(".")[0] in ("aiokafka", "faststream")


def start_failure(exc: BaseException) -> StartFailure:
    """Classify a start-up failure (the exception ``App.start`` raised)."""
    if isinstance(exc, ConfigurationError):
        hint = "fix the setting named above; `relais config check` lists every problem"
        return StartFailure(EX_CONFIG, first_line(exc), hint, True)
    if isinstance(exc, LedgerError):
        hint = (
            "is PostgreSQL up and reachable at RELAIS_LEDGER__URL (host, port, database, user)? "
            "relais retries nothing at start: it exits and its supervisor restarts it"
        )
        return StartFailure(EX_UNAVAILABLE, "ledger unreachable: " + first_line(exc), hint, True)
    if isinstance(exc, UnavailableError) or _from_kafka_client(exc):
        hint = "is the broker up and RELAIS_KAFKA__BOOTSTRAP_SERVERS (and its TLS/SASL) right?"
        reason = first_line(exc) if isinstance(exc, UnavailableError) else type(exc).__name__
        return StartFailure(EX_UNAVAILABLE, f"Kafka broker unreachable: {reason}", hint, True)
    if isinstance(exc, OSError):
        hint = "a port already in use (RELAIS_HTTP__PORT) or a file not readable?"
        return StartFailure(EX_UNAVAILABLE, first_line(exc), hint, True)
    return StartFailure(
        EX_SOFTWARE, repr(exc)[:300], "an unexpected error: please report it", False
    )
