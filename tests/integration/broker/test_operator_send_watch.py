"""``relais send`` and ``relais watch`` against the embedded broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relais.config import KafkaSettings
from relais.domain.events import EventError
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusEvent, Trigger
from relais.entrypoints.cli import main
from relais.operator.send import send
from relais.operator.watch import StatusFilter, statuses
from tests.fixtures.broker import Out, consume_all, produce

pytestmark = pytest.mark.integration

CFA = "12345678900011"


def event(n: int, subject: str = "DOS-1") -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"evt-{n}",
        "type": "fr.cfa.dossier.submitted.v1",
        "source": f"urn:siret:{CFA}",
        "subject": subject,
        "time": "2026-11-27T09:00:00+01:00",
        "data": {"cerfa": {"contrat": {"typeContratApp": 11}}},
    }


def kafka(bootstrap: str, topic_factory: Callable[..., str]) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        input_topic=topic_factory("in", partitions=2),
        status_topic=topic_factory("status", partitions=2),
    )


async def test_send_publishes_binary_mode_records_keyed_by_subject(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    settings = kafka(kafka_bootstrap, topic_factory)

    sent = await send(settings, [event(1), event(2, "DOS-2"), event(3)])

    got = await consume_all(kafka_bootstrap, settings.input_topic, at_least=3)
    assert len(got) == 3
    assert sorted(s.event_id for s in sent) == ["evt-1", "evt-2", "evt-3"]
    by_id = {r.headers["ce_id"]: r for r in got}
    assert by_id["evt-2"].key_str == "DOS-2"
    assert by_id["evt-1"].headers["ce_type"] == "fr.cfa.dossier.submitted.v1"
    assert by_id["evt-1"].headers["ce_source"] == f"urn:siret:{CFA}"
    assert by_id["evt-1"].headers["ce_datacontenttype"] == "application/json"
    assert by_id["evt-1"].json() == {"cerfa": {"contrat": {"typeContratApp": 11}}}
    # one dossier, one partition, in the given order
    assert [r.headers["ce_id"] for r in got if r.key_str == "DOS-1"] == ["evt-1", "evt-3"]


async def test_send_refuses_an_invalid_event_unless_told_not_to_check(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    settings = kafka(kafka_bootstrap, topic_factory)
    bad = {**event(9), "type": "fr.cfa.unknown.v1"}

    with pytest.raises(EventError) as caught:
        await send(settings, [event(8), bad])
    assert any(e.path.startswith("[1].") for e in caught.value.errors)

    await send(settings, [bad], check=False)
    got = await consume_all(kafka_bootstrap, settings.input_topic, at_least=1)
    assert [r.headers["ce_type"] for r in got] == ["fr.cfa.unknown.v1"]


async def test_watch_filters_status_events(
    kafka_bootstrap: str, topic_factory: Callable[..., str]
) -> None:
    settings = kafka(kafka_bootstrap, topic_factory)
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    records = []
    for n, opco in enumerate([OpcoCode.AKTO, OpcoCode.ATLAS, OpcoCode.AKTO]):
        trig = Trigger(event_id=f"evt-{n}", cfa=CFA, dossier_id=f"DOS-{n}")
        st = StatusEvent.submitted(trig, opco=opco, occurred_at=now, numero_interne=f"N{n}")
        records.append(Out(value=st.value(), key=st.key, headers=st.headers()))
    await produce(kafka_bootstrap, settings.status_topic, records)

    lines = [
        line
        async for line in statuses(
            settings,
            keep=StatusFilter(opco="akto"),
            from_beginning=True,
            follow=False,
            idle_s=0.5,
        )
    ]

    assert sorted(line.event_id or "" for line in lines) == ["evt-0", "evt-2"]
    assert all(line.status == "submitted" for line in lines)
    assert "numeroInterne=N0" in next(li.text() for li in lines if li.event_id == "evt-0")


def test_send_and_watch_commands(
    kafka_bootstrap: str,
    topic_factory: Callable[..., str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = topic_factory("cli")
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(json.dumps(event(n)) for n in range(2)))

    with pytest.raises(SystemExit) as done:
        main(["send", str(file), "--bootstrap", kafka_bootstrap, "--topic", topic, "--no-demo"])
    assert done.value.code == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["evt-0", "evt-1"]
    assert [o["offset"] for o in out] == [0, 1]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**event(5), "time": "yesterday"}))
    with pytest.raises(SystemExit) as refused:
        main(["send", str(bad), "--bootstrap", kafka_bootstrap, "--topic", topic, "--no-demo"])
    assert refused.value.code == 1
    assert "ENVELOPE_INVALID_ATTRIBUTE [0].time" in capsys.readouterr().err

    status_topic = topic_factory("cli-status")
    trig = Trigger(event_id="evt-0", cfa=CFA, dossier_id="DOS-1")
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    st = StatusEvent.received(trig, occurred_at=now, opco=OpcoCode.OPCO2I)
    record = Out(value=st.value(), key=st.key, headers=st.headers())
    asyncio.run(produce(kafka_bootstrap, status_topic, [record]))
    with pytest.raises(SystemExit) as watched:
        main(
            [
                *("watch", "--bootstrap", kafka_bootstrap, "--no-demo", "--no-follow", "--json"),
                *("--topic", status_topic, "--dossier", "DOS-1", "--timeout", "10"),
            ]
        )
    assert watched.value.code == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["status"], s["eventId"], s["opco"]) for s in shown] == [
        ("received", "evt-0", "OPCO2I")
    ]
    assert shown[0]["id"] == st.id
