"""Tracing for one process: the OpenTelemetry SDK and its OTLP/HTTP exporter, when configured.

Off (the default): ``Tracing.off()``, the API's no-op tracer; the SDK is not even imported. On
(``config.tracing_on``): a ``TracerProvider`` of its own (not the global one) whose resource names
the service (``relais``, or ``relais-<role>`` for a process of one role), a parent-based ratio
sampler, and a batch processor exporting to ``tracing.otlp_endpoint`` + ``/v1/traces``, else to
what the standard ``OTEL_EXPORTER_OTLP_*`` variables say (the exporter reads them itself).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from relais.config import Settings, tracing_on
from relais.errors import ConfigurationError
from relais.tracing import Tracing

SHUTDOWN_S = 5.0  # at most this long to flush the last spans at shutdown


@dataclass(frozen=True)
class ProcessTracing:
    """The roles' ``Tracing`` and what flushes its spans at shutdown (None: nothing to)."""

    tracing: Tracing
    provider: Any = None  # opentelemetry.sdk.trace.TracerProvider when on

    async def shutdown(self) -> None:
        if self.provider is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.to_thread(self.provider.shutdown), SHUTDOWN_S)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relais")
    except PackageNotFoundError:
        return "0+unknown"


def service_name(settings: Settings, roles: Sequence[str]) -> str:
    name = settings.tracing.service_name
    return f"{name}-{roles[0]}" if len(roles) == 1 else name


def build_tracing(settings: Settings, roles: Sequence[str]) -> ProcessTracing:
    """The process's tracing: off, or an SDK provider exporting by OTLP (module docstring)."""
    if not tracing_on(settings):
        return ProcessTracing(Tracing.off())
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise ConfigurationError(
            "RELAIS_TRACING__*: tracing is on but the OpenTelemetry SDK or its OTLP exporter is "
            "not installed: pip install 'relais[tracing]' (or unset the OTLP endpoint)"
        ) from None
    endpoint = settings.tracing.otlp_endpoint
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None)
    return provider_tracing(settings, roles, exporter)


def provider_tracing(settings: Settings, roles: Sequence[str], exporter: Any) -> ProcessTracing:
    """An enabled ``ProcessTracing`` exporting to ``exporter`` (a ``SpanExporter``; the tests
    give an ``InMemorySpanExporter``)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    resource = Resource.create(
        {
            "service.name": service_name(settings, roles),
            "service.version": _version(),
            "relais.roles": ",".join(roles),
        }
    )
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.tracing.sample_ratio))
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return ProcessTracing(Tracing(provider.get_tracer("relais", _version())), provider)
