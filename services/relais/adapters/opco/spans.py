"""The CLIENT span of one HTTP exchange with an OPCO (tracing on; ``relais.tracing``).

Manual, not ``opentelemetry-instrumentation-httpx``: its spans name the full URL (a dossier's
number in the path, the query) where ours name the route template, and it would propagate our
trace context to the OPCO, a third party that does not take part in it. The span names the OPCO,
the route (``POST /v2/dossiers``) and the HTTP status; a failure without an answer is its error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relais.adapters.opco.routes import Route
from relais.tracing import Span, SpanKind, StatusCode, Tracing


class CallSpan:
    """What the exchange tells its span once answered (nothing when tracing is off)."""

    def __init__(self, span: Span | None) -> None:
        self._span = span

    def answered(self, status: int) -> None:
        if self._span is None:
            return
        self._span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self._span.set_status(StatusCode.ERROR, str(status))


@contextmanager
def client_span(tracing: Tracing, opco: str, route: Route) -> Iterator[CallSpan]:
    """A CLIENT span around one HTTP exchange, the child of the current (dispatch or poll) span."""
    if not tracing.enabled:
        yield CallSpan(None)
        return
    with tracing.span(
        route.label,
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": route.method,
            "url.template": f"/{route.path}",
            "relais.opco": opco,
        },
    ) as span:
        yield CallSpan(span)
