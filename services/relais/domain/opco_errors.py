"""One normalized OPCO error (code, message, field) from every OPCO's error-body shape.

The shapes seen on the wire (convergence-api.md 0, [ERP-WIRE]; the older notes in 1.x):

- ``{"description": "..."}`` (ATLAS 400);
- ``{"comment": "..."}`` (OPCO EP);
- ``{"Description": "..."}`` (the documents route, capital D);
- ``{"errors": [{"code": ..., "description": ...}]}`` (most OPCOs, 401/403/500 too), items possibly
  with more keys (``champ``/``field``/``path``, ``message``, ``libelle``);
- ``{"message": ..., "errors": [...]}`` (relais's simulator and the older notes);
- ``{"errors": {"<field>": "<message>"}}`` (a field map), ``{"error", "error_description"}``
  (OAuth2 token servers), a bare string, a one-element array wrapping any of these.

An OPCO's text may echo an apprentice's name: every value is bounded here (``MAX_DETAILS`` items,
``MAX_TEXT`` characters, whitespace folded) and the caller keeps it out of logs and error texts (it
travels in the CFA's own status only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_DETAILS = 20
MAX_TEXT = 300
MAX_CODE = 64
MAX_FIELD = 200

# Top-level keys read as a message, in this order (the first ones carry the OPCO's sentence).
MESSAGE_KEYS: tuple[str, ...] = (
    "message",
    "description",
    "Description",
    "comment",
    "error_description",
    "detail",
    "title",
    "error",
)
_ITEM_TEXT_KEYS: tuple[str, ...] = ("description", "Description", "message", "libelle", "detail")
_ITEM_FIELD_KEYS: tuple[str, ...] = ("champ", "field", "path", "propertyName")
_ITEM_CODE_KEYS: tuple[str, ...] = ("code", "Code", "errorCode")
_ERRORS_KEYS: tuple[str, ...] = ("errors", "Errors", "erreurs")


@dataclass(frozen=True)
class OpcoErrorDetail:
    """One problem an OPCO reported: its code, its text, the field it names (each may be None)."""

    code: str | None
    message: str | None
    field: str | None

    def text(self) -> str:
        """One line, ``code field: message`` (what the older ``messages`` tuple carried)."""
        prefix = " ".join(p for p in (self.code, self.field) if p)
        if prefix and self.message:
            return f"{prefix}: {self.message}"
        return self.message or prefix


def normalize_errors(body: Any) -> tuple[OpcoErrorDetail, ...]:
    """Every problem of an OPCO error body, whatever its shape; ``()`` when none is readable.
    Never raises; bounded in count and length; no duplicates, order kept."""
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    found: list[OpcoErrorDetail] = []
    if isinstance(body, str):
        _append(found, None, body, None)
    elif isinstance(body, Mapping):
        _from_object(found, body, depth=0)
    elif isinstance(body, list):
        for item in body[:MAX_DETAILS]:
            _from_item(found, item)
    return tuple(dict.fromkeys(found))[:MAX_DETAILS]


def _from_object(found: list[OpcoErrorDetail], body: Mapping[str, Any], *, depth: int) -> None:
    code = _bounded(_first_scalar(body, _ITEM_CODE_KEYS), MAX_CODE)
    for key in MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, str):
            _append(found, code, value, None)
        elif isinstance(value, Mapping) and depth < 2:
            _from_object(found, value, depth=depth + 1)
    errors = next((body[k] for k in _ERRORS_KEYS if k in body), None)
    if isinstance(errors, Mapping):
        for name, text in list(errors.items())[:MAX_DETAILS]:
            texts = text if isinstance(text, list) else [text]
            for one in texts[:MAX_DETAILS]:
                if isinstance(one, str):
                    _append(found, None, one, str(name))
    elif isinstance(errors, list):
        for item in errors[: MAX_DETAILS * 2]:
            _from_item(found, item)


def _from_item(found: list[OpcoErrorDetail], item: Any) -> None:
    if isinstance(item, str):
        _append(found, None, item, None)
        return
    if not isinstance(item, Mapping):
        return
    text = _first_scalar(item, _ITEM_TEXT_KEYS)
    code = _first_scalar(item, _ITEM_CODE_KEYS)
    field = _first_scalar(item, _ITEM_FIELD_KEYS)
    if text is None and code is None and field is None:
        return
    found.append(
        OpcoErrorDetail(
            code=_bounded(code, MAX_CODE),
            message=_bounded(text, MAX_TEXT),
            field=_bounded(field, MAX_FIELD),
        )
    )


def _append(found: list[OpcoErrorDetail], code: str | None, text: str, field: str | None) -> None:
    message = _bounded(text, MAX_TEXT)
    if message:
        found.append(OpcoErrorDetail(code=code, message=message, field=_bounded(field, MAX_FIELD)))


def _first_scalar(obj: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, str | int) and str(value).strip():
            return str(value)
    return None


def _bounded(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    folded = " ".join(text.split())[:limit]
    return folded or None


def messages_of(details: tuple[OpcoErrorDetail, ...]) -> tuple[str, ...]:
    """The details as one line each (bounded, no repeats): the ``messages`` of a relais error."""
    lines = (d.text()[:MAX_TEXT] for d in details)
    return tuple(dict.fromkeys(line for line in lines if line))[:MAX_DETAILS]
