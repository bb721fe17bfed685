"""``relais dlq`` and ``relais dossier show`` against the embedded broker and a SQLite ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from relais.adapters.ledger import open_ledger
from relais.config import KafkaSettings, LedgerSettings, Settings
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent, Trigger
from relais.operator.dlq import list_dead_letters, replay, select, unreplayable
from relais.operator.dossier import render_text, show
from relais.services.ledger_port import CommandKind, NewCommand, OutboxMessage
from tests.fixtures.broker import Out, consume_all, produce
from tests.ledger_entries import accept
from tests.payloads import payload_of

pytestmark = pytest.mark.integration

CFA = "12345678900011"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def dead_letter(n: int, reason: str) -> Out:
    return Out(
        value=b"{not json",
        key=f"DOS-{n}",
        headers=[
            ("ce_id", f"evt-{n}"),
            ("ce_type", "fr.cfa.dossier.submitted.v1"),
            ("dlq_reason", reason),
            ("dlq_topic", "cfa.origin"),
            ("dlq_partition", "2"),
            ("dlq_offset", str(40 + n)),
            ("dlq_errors", json.dumps([{"code": reason, "path": "data", "message": "x"}])),
        ],
    )


async def test_dead_letters_are_listed_and_replayed_without_dlq_headers(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    kafka = KafkaSettings(
        bootstrap_servers=kafka_bootstrap,
        dlq_topic=topic_factory("dlq"),
        input_topic=topic_factory("in"),
    )
    too_large = dead_letter(2, "TOO_LARGE")
    too_large = Out(
        value=None,
        key=too_large.key,
        headers=[*too_large.headers, ("dlq_value_dropped", "5000000")],
    )
    await produce(
        kafka_bootstrap,
        kafka.dlq_topic,
        [dead_letter(0, "DATA_NOT_JSON"), dead_letter(1, "X"), too_large],
    )

    letters = await list_dead_letters(kafka, idle_s=0.5)

    assert [d.reason for d in letters] == ["DATA_NOT_JSON", "X", "TOO_LARGE"]
    assert unreplayable(letters) == [letters[2]]
    assert "5000000 bytes left at the origin" in letters[2].text()
    assert letters[0].origin == "cfa.origin:2:40"
    assert letters[0].as_dict()["errors"] == [{"code": "DATA_NOT_JSON", "path": "data"}]
    assert "not json" not in letters[0].text()  # values are not shown

    chosen = select(letters, reason="DATA_NOT_JSON", every=True)
    sent = await replay(kafka, chosen, topic=kafka.input_topic)
    sent += await replay(
        kafka, select(letters, offsets=[1, 2]), topic=kafka.input_topic, new_id=True
    )  # offset 2 has no value to send: skipped

    got = await consume_all(kafka_bootstrap, kafka.input_topic, at_least=2)
    assert len(got) == 2
    assert [(s[0].offset, s[1]) for s in sent] == [(0, kafka.input_topic), (1, kafka.input_topic)]
    by_key = {r.key_str: r for r in got}
    assert by_key["DOS-0"].value == b"{not json"
    assert by_key["DOS-0"].headers == {"ce_id": "evt-0", "ce_type": "fr.cfa.dossier.submitted.v1"}
    assert by_key["DOS-1"].headers["ce_replayof"] == "evt-1"
    assert by_key["DOS-1"].headers["ce_id"] != "evt-1"
    assert not any(k.startswith("dlq_") for k in by_key["DOS-1"].headers)


async def test_dossier_show_joins_ledger_commands_and_statuses(
    kafka_bootstrap: str, topic_factory: Callable[..., str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    await ledger.migrate()
    trig = Trigger(event_id="evt-1", cfa=CFA, dossier_id="DOS-1")
    received = StatusEvent.received(trig, occurred_at=NOW, opco=OpcoCode.AKTO)
    msg = OutboxMessage(
        event_id=received.id, key=received.key, headers=received.headers(), value=received.value()
    )
    await accept(
        ledger,
        NewCommand(
            event_id="evt-1",
            cfa=CFA,
            dossier_id="DOS-1",
            opco="AKTO",
            kind=CommandKind.DOSSIER,
            payload=payload_of({"apprenti": {"nom": "SECRET-NAME"}}),
        ),
        [msg],
    )
    await ledger.close()
    settings = Settings(
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, status_topic=topic_factory("st")),
        ledger=LedgerSettings(url=SecretStr(url)),
    )
    submitted = StatusEvent.submitted(
        trig, opco=OpcoCode.AKTO, occurred_at=NOW, numero_interne="N-7", etat="TRANSMIS"
    )
    other = StatusEvent.received(
        Trigger(event_id="evt-9", cfa=CFA, dossier_id="DOS-9"), occurred_at=NOW
    )
    await produce(
        kafka_bootstrap,
        settings.kafka.status_topic,
        [
            Out(value=s.value(), key=s.key, headers=s.headers())
            for s in (received, submitted, other)
        ],
    )

    view = await show(settings, "DOS-1")

    assert view.cfa == CFA
    doc = view.as_dict()
    assert [c["kind"] for c in doc["commands"]] == ["dossier"]
    assert doc["commands"][0]["state"] == "pending"
    statuses = [e["what"] for e in doc["timeline"] if e["source"] == "status"]
    assert statuses == ["received", "submitted"]
    text = render_text(view)
    assert "N-7" in text and "DOS-9" not in text
    assert "SECRET-NAME" not in text + json.dumps(doc)
