"""OpenTelemetry spans across relais's stages, on the OpenTelemetry API only.

One trace follows a CFA event from its Kafka record to its OPCO call to its status events:

    ingest    a CONSUMER span per record, the child of the record's ``traceparent`` header (the
              ERP's, W3C trace context) or a new root; the command's payload keeps the span's
              context (``CommandPayload.trace``) and its statuses carry it as headers
    dispatch  a span per attempt, the child of the context its payload kept (ingest and dispatch
              run at different times, in different processes: the ledger carries the trace);
              the OPCO call is a CLIENT span in ``adapters/opco/gateway.py``
    relay     a PRODUCER span per status event, the child of the context its outbox row kept;
              the record published carries that span's ``traceparent`` (and ``tracestate``)

``Tracing.off()`` (the default everywhere) starts nothing: ``span`` yields None and
``current_context`` stays empty, so payloads and status headers are what they were without
tracing. ``bootstrap/tracing.py`` builds an enabled one (SDK, OTLP exporter) when configured.

Span attributes name only the CFA SIRET, the OPCO code, event, command and status ids, the topic,
the route template and the HTTP status: never a body, a name, a NIR or a key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NoOpTracer, Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
HEADERS = (TRACEPARENT, TRACESTATE)
MAX_TRACEPARENT = 128  # version 00 is 55 characters; a later version may append fields
MAX_TRACESTATE = 512  # W3C: at most 32 members; 512 characters is what it asks to keep

_PROPAGATOR = TraceContextTextMapPropagator()

Carrier = Mapping[str, str]  # {"traceparent": ..., "tracestate": ...}
Attributes = Mapping[str, AttributeValue]

__all__ = [
    "HEADERS",
    "TRACEPARENT",
    "TRACESTATE",
    "Carrier",
    "Span",
    "SpanKind",
    "StatusCode",
    "Tracing",
    "bounded",
    "context_of",
    "current_context",
    "from_headers",
]


@dataclass(frozen=True)
class Tracing:
    """The tracer the roles use, and whether it records anything."""

    tracer: Tracer
    enabled: bool = True

    @classmethod
    def off(cls) -> Tracing:
        return cls(NoOpTracer(), enabled=False)

    @contextmanager
    def span(
        self,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Carrier | None = None,
        attributes: Attributes | None = None,
    ) -> Iterator[Span | None]:
        """A span made current for the block; None when tracing is off. Given a ``parent``
        carrier (a record's headers, a payload's trace), the child of the context it carries, a
        new root when it carries none; without, the child of the current span."""
        if not self.enabled:
            yield None
            return
        context: Context | None = None
        if parent is not None:
            context = _PROPAGATOR.extract(bounded(parent))
        with self.tracer.start_as_current_span(
            name,
            context=context,
            kind=kind,
            attributes=attributes,
            record_exception=False,  # its message may name what a span must not (a URL...)
            set_status_on_exception=False,
        ) as span:
            try:
                yield span
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(StatusCode.ERROR, type(exc).__name__)
                raise

    def start_linked(
        self,
        name: str,
        *,
        kind: SpanKind,
        parent: Carrier,
        attributes: Attributes | None = None,
    ) -> Span | None:
        """A span the caller ends (not made current), the child of the trace context in
        ``parent``; None when tracing is off or ``parent`` carries none."""
        carrier = bounded(parent) if self.enabled else {}
        if not carrier:
            return None
        context = _PROPAGATOR.extract(carrier)
        return self.tracer.start_span(name, context=context, kind=kind, attributes=attributes)


def context_of(span: Span) -> dict[str, str]:
    """``span``'s context as W3C headers (``traceparent``, ``tracestate`` when it has one)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


def bounded(carrier: Carrier | None) -> dict[str, str]:
    """The trace headers of ``carrier`` within their size bounds (hostile input: longer ones are
    dropped, not cut, as a cut value would name another trace)."""
    if not carrier:
        return {}
    out: dict[str, str] = {}
    for name, limit in ((TRACEPARENT, MAX_TRACEPARENT), (TRACESTATE, MAX_TRACESTATE)):
        value = carrier.get(name)
        if isinstance(value, str) and value and len(value) <= limit and value.isascii():
            out[name] = value
    return out if TRACEPARENT in out else {}


def from_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The W3C trace context of a Kafka record's headers (the last of each name wins), bounded;
    empty when it has none (its ingest span is then a new root). The CloudEvents Kafka binding
    puts the distributed-tracing extension in ``ce_traceparent``/``ce_tracestate``: read when
    the plain header is absent."""
    plain: dict[str, str] = {}
    extension: dict[str, str] = {}
    for name, value in headers:
        if value is None or len(value) > MAX_TRACESTATE:
            continue
        if name in HEADERS:
            plain[name] = value.decode("ascii", "replace")
        elif name.startswith("ce_") and name[3:] in HEADERS:
            extension[name[3:]] = value.decode("ascii", "replace")
    return bounded(plain if "traceparent" in plain else extension)


def current_context() -> dict[str, str]:
    """The current span's context as W3C headers; empty without a recording span (tracing off)."""
    span = trace.get_current_span()
    if not span.get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier
