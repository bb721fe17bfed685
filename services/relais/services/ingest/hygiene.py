"""Record hygiene: every size cap of what comes from a record, and the checks that keep what
cannot be stored or echoed (a NUL, a lone surrogate, absurd nesting) out of the ledger and the
statuses. Each limit has one name, defined here once.

Ids from headers or the key are bounded to ``MAX_ID`` (the envelope's limit) before any
use; a value is parsed once, refused beyond ``MAX_DEPTH`` levels before the models recurse into
it; the errors of a status are capped (``MAX_ERRORS``, ``MAX_PATH``, ``MAX_MESSAGE``) so that a
status stays far below the broker's record size limit whatever the input. The record value itself
is capped by ``IngestPolicy.max_message_bytes`` (the broker's, from the settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relais.domain.events import MAX_ID, ErrorItem, NonFiniteNumberError, loads_json

# MAX_ID (ids from headers or the key) is the envelope's own limit, named in relais.domain.events
MAX_DEPTH = 32  # a cerfa is 5 levels deep; deeper JSON is refused before any recursion
MAX_ERRORS = 200  # errors listed in one status (then one TOO_MANY_ERRORS)
MAX_PATH = 256  # characters of an error's path
MAX_MESSAGE = 512  # characters of an error's message

BAD_CHARACTER = "contient un caractère NUL ou un demi-codet (surrogate) invalide"

VALUE_PROBLEMS = {
    "DATA_NOT_JSON": "la valeur de l'enregistrement n'est pas du JSON (UTF-8)",
    "DATA_NOT_FINITE": "la valeur de l'enregistrement contient un nombre non fini (NaN, Infinity "
    "ou hors limites)",
    "DATA_NOT_OBJECT": "la valeur de l'enregistrement doit être un objet JSON",
    "DATA_TOO_DEEP": f"la valeur de l'enregistrement dépasse {MAX_DEPTH} niveaux d'imbrication",
}


def error(code: str, path: str, message: str) -> ErrorItem:
    return ErrorItem(code=code, path=path, message=message)


# ---------------------------------------------------------------------------- ids and headers


def text_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The ce_* headers that decode as UTF-8 (first occurrence), for correlation only. A value
    longer than ``MAX_ID`` characters is left out, its size checked before it is decoded: what
    comes from a record is bounded before it is copied anywhere (a status, a log line)."""
    out: dict[str, str] = {}
    for name, raw in headers:
        lname = name.lower()
        if not lname.startswith("ce_") or lname in out:
            continue
        text = _bounded_text(
            raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")
        )
        if text is not None:
            out[lname] = text
    return out


def key_text(key: bytes | None) -> str | None:
    """The Kafka key as text when it is usable as an id (UTF-8, at most ``MAX_ID`` characters,
    storable), else None: the caller then uses ce_subject or the record's position."""
    return _bounded_text(key) if key else None


def usable_id(value: str | None) -> bool:
    return value is not None and 0 < len(value) <= MAX_ID


def _bounded_text(raw: bytes | None) -> str | None:
    if raw is None or len(raw) > 4 * MAX_ID:  # at most 4 bytes a character in UTF-8
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if len(text) > MAX_ID or unsafe_text(text) else text


def unsafe_text(text: str) -> bool:
    """A NUL or a lone surrogate: valid in JSON, refused by PostgreSQL text and jsonb (and a
    record that cannot be written would come back forever)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# ---------------------------------------------------------------------------- the value


def parse_value(value: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The record value as a JSON object, or why not (a ``VALUE_PROBLEMS`` code). Never raises:
    absurdly nested JSON is refused here, before the models and serializers recurse into it."""
    try:
        obj = loads_json(value)
    except RecursionError:
        return None, "DATA_TOO_DEEP"
    except NonFiniteNumberError:
        return None, "DATA_NOT_FINITE"
    except (UnicodeDecodeError, ValueError):
        return None, "DATA_NOT_JSON"
    if not isinstance(obj, dict):
        return None, "DATA_NOT_OBJECT"
    if _depth_exceeds(obj, MAX_DEPTH):
        return None, "DATA_TOO_DEEP"
    return obj, None


def _depth_exceeds(obj: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def bad_characters(obj: Any, root: str) -> list[ErrorItem]:
    """Every string (key or value) of a decoded JSON value that is ``unsafe_text``."""
    found: list[ErrorItem] = []
    stack: list[tuple[Any, str]] = [(obj, root)]
    while stack and len(found) <= MAX_ERRORS:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if unsafe_text(key):
                    found.append(error("DATA_INVALID_CHARACTER", path, BAD_CHARACTER))
                    continue
                stack.append((value, f"{path}.{key}"))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]") for i, value in enumerate(node))
        elif isinstance(node, str) and unsafe_text(node):
            found.append(error("DATA_INVALID_CHARACTER", path, BAD_CHARACTER))
    return sorted(found, key=lambda e: e.path)


# ---------------------------------------------------------------------------- the errors


def capped(errors: Sequence[ErrorItem]) -> list[ErrorItem]:
    """Every error, up to ``MAX_ERRORS`` (then one saying how many more), each path and message
    cut to a bounded length: a status event (or a dead letter's header) stays far below the
    broker's record size limit whatever the input (a field name can be a megabyte long)."""
    out = [_bounded(e) for e in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        more = len(errors) - MAX_ERRORS + 1
        out[-1] = error("TOO_MANY_ERRORS", "", f"{more} autres erreurs ne sont pas listées")
    return out


def _bounded(item: ErrorItem) -> ErrorItem:
    if len(item.path) <= MAX_PATH and len(item.message) <= MAX_MESSAGE:
        return item
    return item.model_copy(
        update={
            "path": item.path[: MAX_PATH - 1] + "…" if len(item.path) > MAX_PATH else item.path,
            "message": item.message[:MAX_MESSAGE],
        }
    )
