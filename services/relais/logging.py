"""Logging: structlog, configured once, JSON when not a TTY, personal data redacted by a processor.

    configure_logging(settings.log)            # once, in the composition root
    log = get_logger(__name__)
    with bound(topic=..., partition=..., offset=..., event_id=..., dossier=..., opco=...):
        log.info("ingest.accepted", kind="dossier")

Event names are stable and dotted (``ingest.accepted``, ``dispatch.call_failed``): dashboards and
alerts search for them. Library logs (aiokafka, faststream, uvicorn) go through the same renderer.

Redaction is not left to the caller's memory (DESIGN promise 6): ``redact`` runs on every event and
replaces the value of any key that names personal data or a secret (nom, prenom, nir, iban,
dateNaissance, courriel, telephone, key, secret, token, password...) and, inside any string,
NIR-like numbers (13 or 15 digits), IBANs, e-mail addresses, bearer tokens, dates (dd/mm/yyyy,
yyyy-mm-dd) and name-like words ("M./Mme X", "Prénom NOM"). A CFA's dossier id is bound as
``dossier``, never as ``key``. The patterns are a safety net, not the rule: text an OPCO wrote is
never logged at all (its length or a count only), and errors are logged as ``CODE:path``.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Normalised key (lower case, no "_" "-" "."): exact matches, then substrings.
_SENSITIVE_KEYS = frozenset(
    {
        "nom",
        "prenom",
        "nir",
        "iban",
        "bic",
        "key",
        "tel",
        "email",
        "mail",
        "authorization",
        "cookie",
        "credentials",
        "dsn",
    }
)
_SENSITIVE_PARTS = (
    "nomnaissance",
    "nomusage",
    "prenom",
    "datenaissance",
    "courriel",
    "telephone",
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "iban",
    "nir",
)
# Keys that contain a sensitive part but are not personal data.
_SAFE_KEYS = frozenset({"numerointerne", "numeroexterne", "numerodeca", "numerointernedossier"})

# Letters of French names (Latin-1 letters; the multiplication/division signs are harmless here).
_UPPER = "A-ZÀ-Þ"
_LOWER = "a-zß-ÿ"
_CIVILITIES = r"M\.|Mr\.?|Mme\.?|Mlle\.?|Monsieur|Madame|Mademoiselle"
_MONTHS = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre"
)

# An all-capitals word of two letters or more, an elided particle allowed ("D'ALMEIDA").
_CAPS = rf"[{_UPPER}](?:'?[{_UPPER}])+"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Bearer / Basic credentials inside a string (an Authorization header echoed by a library).
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # IBAN: country, check digits, 10 to 30 alphanumerics, optionally grouped by 4.
    (re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){10,30}\b"), REDACTED),
    # NIR (numéro de sécurité sociale): 13 digits, or 15 with its key; Corsica 2A/2B; spaces.
    (
        re.compile(
            r"(?<![\dA-Za-z])[1-478][ ]?\d{2}[ ]?\d{2}[ ]?(?:\d{2}|2[AB])[ ]?\d{3}[ ]?\d{3}"
            r"(?:[ ]?\d{2})?(?![\dA-Za-z])"
        ),
        REDACTED,
    ),
    # Any other bare run of exactly 13 or 15 digits (a NIR with an unusual first digit).
    (re.compile(r"(?<!\d)(?:\d{15}|\d{13})(?!\d)"), REDACTED),
    # E-mail addresses.
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), REDACTED),
    # Dates (a birth date): dd/mm/yyyy (also with "." or "-"), yyyy-mm-dd or yyyy/mm/dd alone (an
    # ISO timestamp, "2026-11-27T03:07:06", is relais's own and stays), "14 mars 2006".
    (re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]\d{4}(?![\d/.-])"), REDACTED),
    (re.compile(r"(?<![\d/-])\d{4}[/-]\d{1,2}[/-]\d{1,2}(?![\d/T-])"), REDACTED),
    (re.compile(rf"(?i)(?<!\d)\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}}(?!\d)"), REDACTED),
    # A civility and the capitalised words after it: "M. Jean Dupont", "Madame DURAND".
    (re.compile(rf"\b(?:{_CIVILITIES})\s+[{_UPPER}][\w'-]*(?:\s+[{_UPPER}][\w'-]*)*"), REDACTED),
    # "Prénom NOM" and "NOM Prénom" (a capitalised word next to an all-capitals one).
    # An all-capitals name may carry an elided particle: "D'ALMEIDA", "N'DIAYE", "L'HERMITTE".
    (
        re.compile(
            rf"\b[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)*\s+{_CAPS}"
            rf"(?:[-' ]{_CAPS})*\b"
        ),
        REDACTED,
    ),
    (
        re.compile(
            rf"\b{_CAPS}(?:[-']{_CAPS})*\s+[{_UPPER}][{_LOWER}]+"
            rf"(?:-[{_UPPER}][{_LOWER}]+)*\b"
        ),
        REDACTED,
    ),
)

_MAX_DEPTH = 8


def _normalise(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "").replace(".", "")


def is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    return _sensitive_key(key)


@functools.lru_cache(maxsize=4096)  # log field names: a small, stable set
def _sensitive_key(key: str) -> bool:
    norm = _normalise(key)
    if norm in _SAFE_KEYS:
        return False
    if norm in _SENSITIVE_KEYS:
        return True
    # "apprenti.nom" / "maitre1_nom": the last segment decides too.
    last = re.split(r"[._\-]", key)[-1].lower()
    if last in _SENSITIVE_KEYS:
        return True
    return any(part in norm for part in _SENSITIVE_PARTS)


# Every pattern above needs a digit, an "@", the word bearer/basic, a civility, or a lower case
# letter and an all-capitals word side by side (either order): a string with none of them (most
# log values: event names, topics, codes) is returned after this one scan.
_MAYBE_SENSITIVE = re.compile(
    rf"[\d@]|(?i:bearer|basic)|{_CIVILITIES}"
    rf"|[{_LOWER}]\s+[{_UPPER}]'?[{_UPPER}]|[{_UPPER}]{{2}}\s+[{_UPPER}][{_LOWER}]"
)


def redact_text(text: str) -> str:
    if _MAYBE_SENSITIVE.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """A copy of ``value`` with personal data and secrets replaced."""
    if depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_sensitive_key(k) else redact_value(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    # Anything else (exceptions, paths, pydantic models) is rendered then scanned.
    return redact_text(str(value))


# exc_info: the exception object (rendered, then redacted, by format_exc_info); _record and
# _from_structlog: ProcessorFormatter's, read by the processors after this one.
_PROCESSOR_META = frozenset({"exc_info", "_record", "_from_structlog"})


def redact(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: redacts every key and value of the event (and its exception text)."""
    out: EventDict = {}
    for key, value in event_dict.items():
        if key in ("exception", "exc_info", "stack") and isinstance(value, str):
            out[key] = redact_text(value)
        elif key in _PROCESSOR_META:
            out[key] = value  # structlog's own bookkeeping, removed before rendering
        elif is_sensitive_key(key):
            out[key] = REDACTED
        else:
            out[key] = redact_value(value)
    return out


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.format_exc_info,
        redact,
        # Added after the redaction: relais's own values, nothing to scan (a third of its cost).
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


class _LogConfig(Protocol):
    @property
    def level(self) -> str: ...

    @property
    def json_output(self) -> bool | None: ...


_configured = False


def configure_logging(
    config: _LogConfig | None = None,
    *,
    level: str = "INFO",
    json_output: bool | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> None:
    """Configure structlog and the standard library's root logger, once per process.

    ``json_output=None`` means JSON when ``stream`` is not a TTY.
    """
    global _configured
    if _configured and not force:
        return
    if config is not None:
        level, json_output = config.level, config.json_output
    out = stream if stream is not None else sys.stderr
    as_json = json_output if json_output is not None else not out.isatty()
    renderer: Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_relais", False):
            root.removeHandler(old)
    handler._relais = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs one INFO line per request ("HTTP Request: POST ..."), which dispatch.* lines
    # already say with more context: only its warnings.
    for noisy in ("aiokafka", "kafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    _configured = True


def reset_logging() -> None:
    """Undo ``configure_logging`` (tests)."""
    global _configured
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_relais", False):
            root.removeHandler(old)
    structlog.reset_defaults()
    _configured = False


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (``log.info("ingest.accepted", **fields)``)."""
    return structlog.stdlib.get_logger(name)


@contextmanager
def bound(**context: Any) -> Iterator[None]:
    """Bind context (topic, partition, offset, event_id, dossier, opco, correlation_id) for the
    duration of a block; it appears on every log line emitted inside, library lines included."""
    clean = {k: v for k, v in context.items() if v is not None}
    with structlog.contextvars.bound_contextvars(**clean):
        yield
