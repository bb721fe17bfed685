"""Wire helpers: error bodies, JSON responses, dates and money as the convergence API has them."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from starlette.responses import Response

from relais.domain.dates import parse_date, to_wire
from relais.domain.json_types import Json

MAX_EUROS = 1e12


class JsonResponse(Response):
    """A compact JSON response (no pretty printing, UTF-8, no NaN)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(
            content, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()


def error_item(code: str, champ: str, description: str) -> Json:
    return {"code": code, "champ": champ, "description": description}


def error_body(message: str, errors: list[Json] | None = None) -> Json:
    return {"message": message, "errors": errors or []}


def error_response(
    status: int,
    message: str,
    errors: list[Json] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    return JsonResponse(error_body(message, errors), status_code=status, headers=headers)


def wire_date(value: date | None) -> str | None:
    return None if value is None else to_wire(value)


def read_date(value: object) -> date | None:
    """A lenient date or ``None`` when absent or unreadable (validation reports it separately)."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None


def euros(cents: int) -> float:
    return cents / 100


def cents(value: object) -> int | None:
    """Euros on the wire (a JSON number) -> integer cents; ``None`` if not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or abs(value) > MAX_EUROS:
        return None
    return round(value * 100)
