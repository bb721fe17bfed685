"""The OPCO says no: what a handler or the books raise, answered in the profile's error shape."""

from __future__ import annotations

from relais.domain.json_types import Json


class Rejection(Exception):
    """The OPCO says no: an HTTP status, a message, field errors and (409) the existing ids."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[Json] | None = None,
        ids: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.ids = ids or {}
