"""Running the simulator under uvicorn, on a socket we bind ourselves (so ``--port 0`` works).

Once listening, one handshake line goes to stdout (machine-read by fixtures and ``relais demo``):
``relais-simulator listening on http://HOST:PORT``. The protocol class below exposes each
connection's transport to the app so a simulated "dropped connection" really closes the socket
without sending a byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn

from relais_simulator.app import create_app
from relais_simulator.config import SimulatorConfig
from relais_simulator.convergence import TRANSPORT_KEY

HANDSHAKE = "relais-simulator listening on"


def _protocol_class() -> type[asyncio.Protocol]:
    base: type[Any]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    except ImportError:  # httptools not installed
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol

    class TransportExposingProtocol(base):  # type: ignore[misc]
        app: Any

        def connection_made(self, transport: asyncio.Transport) -> None:
            raw = transport.get_extra_info("socket")
            if raw is not None and raw.family in (socket.AF_INET, socket.AF_INET6):
                raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)
            inner = self.app

            async def app(scope: Any, receive: Any, send: Any) -> None:
                scope[TRANSPORT_KEY] = transport
                await inner(scope, receive, send)

            self.app = app

    return TransportExposingProtocol


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else Nagle + delayed ACK
    # add ~40 ms to every keep-alive response written in two parts)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn re-raises a caught SIGTERM/SIGINT after its graceful shutdown (exit status -15);
    a stop asked for is a clean stop here: exit 0, as ``relais run`` does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()


async def serve(config: SimulatorConfig, *, log_level: str = "warning") -> None:
    app = create_app(config)
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    uv_config = uvicorn.Config(
        app,
        http=_protocol_class(),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=2,  # hung (fault-injected) requests must not hold a stop
        backlog=2048,
    )
    server = _Server(uv_config)
    host = f"[{config.host}]" if ":" in config.host else config.host

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 (uvicorn exposes a flag, not an event)
            await asyncio.sleep(0.01)
        print(f"{HANDSHAKE} http://{host}:{port}", flush=True)

    announcer = asyncio.ensure_future(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        sock.close()


def run(config: SimulatorConfig, *, log_level: str = "warning") -> int:
    try:
        asyncio.run(serve(config, log_level=log_level))
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(
            f"relais simulator: cannot listen on {config.host}:{config.port}: {exc}",
            file=sys.stderr,
        )
        return 2
    return 0
