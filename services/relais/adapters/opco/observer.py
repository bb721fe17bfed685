"""Hooks for metrics: the pipeline plugs Prometheus in here; this package imports none."""

from __future__ import annotations

from typing import Literal, Protocol

StatusClass = Literal["1xx", "2xx", "3xx", "4xx", "5xx", "timeout", "error"]
BreakerState = Literal["closed", "open", "half_open"]


class RequestObserver(Protocol):
    def on_request(self, opco: str, route: str, status_class: str, seconds: float) -> None:
        """One HTTP exchange (route is a template such as ``POST /v2/dossiers``: bounded).

        ``status_class``: ``2xx``...``5xx``, or ``timeout`` / ``error`` when no answer came. A call
        refused by the open breaker makes no exchange and is not reported here."""

    def on_breaker(self, opco: str, state: str) -> None:
        """The OPCO's circuit breaker changed state (closed, open, half_open)."""


class NullObserver:
    def on_request(self, opco: str, route: str, status_class: str, seconds: float) -> None:
        return None

    def on_breaker(self, opco: str, state: str) -> None:
        return None


def status_class(status: int) -> StatusClass:
    if 100 <= status < 200:
        return "1xx"
    if status < 300:
        return "2xx"
    if status < 400:
        return "3xx"
    if status < 500:
        return "4xx"
    return "5xx"
