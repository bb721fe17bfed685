"""The operational HTTP endpoints of every relais process: health and Prometheus metrics.

    GET /health/live    200 while the process's event loop answers
    GET /health/ready   200 when every readiness check passes (ledger reachable, broker
                        reachable...), else 503 with the failing checks named
    GET /metrics        the process's Prometheus registry

Starlette served by uvicorn inside the process's own event loop. uvicorn's signal capture is
switched off: the runtime owns SIGTERM/SIGINT and stops this server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from relais.metrics import CONTENT_TYPE, Metrics

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency is not usable; returns when it is."""

CHECK_TIMEOUT_S = 3.0


async def run_checks(
    checks: Mapping[str, ReadinessCheck], timeout_s: float = CHECK_TIMEOUT_S
) -> dict[str, str]:
    """``{"ledger": "ok", "kafka": "error: TimeoutError"}`` (no messages: they may carry URLs)."""

    async def one(check: ReadinessCheck) -> str:
        try:
            await asyncio.wait_for(check(), timeout_s)
        except Exception as exc:  # noqa: BLE001 - a readiness probe reports, never raises
            return f"error: {type(exc).__name__}"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
    return dict(zip(names, results, strict=True))


def build_app(metrics: Metrics, checks: Mapping[str, ReadinessCheck]) -> Starlette:
    started = time.time()

    async def live(request: Request) -> Response:
        return JSONResponse({"status": "ok", "uptime_s": round(time.time() - started, 1)})

    async def ready(request: Request) -> Response:
        results = await run_checks(checks)
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": results},
            status_code=200 if ok else 503,
        )

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/health/live", live),
            Route("/health/ready", ready),
            Route("/metrics", metrics_endpoint),
        ]
    )


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the runtime handles signals


class HttpServer:
    """Start/stop the endpoints on ``host:port`` (port 0: a free one, see ``port``)."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, lifespan="off"
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        servers = getattr(self._server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return int(self._server.config.port)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="relais-http")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises the bind error
                raise RuntimeError("the HTTP server stopped at start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
