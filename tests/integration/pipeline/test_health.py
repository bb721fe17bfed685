"""/health/live, /health/ready and /metrics of a running process."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from relais.bootstrap import build
from tests.integration.pipeline.harness import make_topics, running, settings_for

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_ready_when_broker_and_ledger_answer(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    topics = make_topics(topic_factory)
    app = build(
        settings_for(kafka_bootstrap, topics, f"sqlite:///{tmp_path}/l.db"), ["ingest", "relay"]
    )
    async with (
        running(app),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http,
    ):
        live = await http.get("/health/live")
        ready = await http.get("/health/ready")
        metrics = await http.get("/metrics")
    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"ledger": "ok", "kafka": "ok", "ingest": "ok", "relay": "ok"}
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in (
        "relais_events_consumed_total",
        "relais_outbox_backlog",
        "relais_dlq_messages_total",
    ):
        assert name in metrics.text


async def test_not_ready_when_the_ledger_or_the_broker_is_down(
    kafka_bootstrap: str, topic_factory: Callable[..., str], pg_url: str
) -> None:
    topics = make_topics(topic_factory)
    missing_db = pg_url.rsplit("/", 1)[0] + "/relais_no_such_database"
    settings = settings_for(
        f"127.0.0.1:{_closed_port()}", topics, missing_db, request_timeout_ms=1000
    )
    settings = settings.model_copy(
        update={"ledger": settings.ledger.model_copy(update={"migrate_on_start": False})}
    )
    app = build(settings, ["relay"])
    await app.http.start()  # type: ignore[union-attr]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http_port}") as http:
            live = await http.get("/health/live")
            ready = await http.get("/health/ready", timeout=10)
    finally:
        await app.http.stop()  # type: ignore[union-attr]
        await app.ledger.close()
        if app.producer is not None:
            await app.producer.stop()
    assert live.status_code == 200
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["ledger"].startswith("error") and checks["kafka"].startswith("error")
    assert "relais_no_such_database" not in ready.text  # names of checks, never URLs
