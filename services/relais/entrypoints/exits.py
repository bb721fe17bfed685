"""The CLI's exit codes (BSD ``sysexits.h``) and which error gets which.

    0   done
    1   the command's own "no": invalid input found, nothing matched, a key unusable
    2   usage: a wrong flag, argument or input file (Click's usage errors)
    69  EX_UNAVAILABLE: a dependency (Kafka broker, ledger database) cannot be reached
    78  EX_CONFIG: the settings, credentials or profiles are wrong

A supervisor can then tell "fix the configuration" (78, restarting will not help) from "wait
for the database" (69, a restart later may work) from a typo on the command line (2).
"""

from __future__ import annotations

import sys

from relais.errors import ConfigurationError, InputError, LedgerError, UnavailableError

EX_OK = 0
EX_FAIL = 1
EX_USAGE = 2
EX_UNAVAILABLE = 69
EX_CONFIG = 78


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, ConfigurationError):
        return EX_CONFIG
    if isinstance(exc, UnavailableError | LedgerError):
        return EX_UNAVAILABLE
    if isinstance(exc, InputError | OSError):
        return EX_USAGE
    return EX_FAIL


def fail(command: str, exc: BaseException) -> int:
    """Print ``relais COMMAND: <one line>`` on stderr; return the exit code for ``exc``."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    print(f"relais {command}: {text}{_hint(exc)}", file=sys.stderr)
    return exit_code_for(exc)


def _hint(exc: BaseException) -> str:
    if isinstance(exc, ConfigurationError):
        return " (check it with `relais config check`)"
    if isinstance(exc, UnavailableError | LedgerError):
        return " (is it running and reachable from here?)"
    return ""
