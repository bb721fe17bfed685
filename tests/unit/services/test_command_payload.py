"""The command payload: the stored JSON of every row written so far still reads, and a payload
ingest makes is stored byte for byte as before it was typed."""

from __future__ import annotations

import json
from datetime import datetime

from relais.domain.events import ConventionSubmittedData, EventType
from relais.services import command_payload
from relais.services.command_payload import CommandPayload, UnreadablePayload, load, parse

# A row as ingest stored it before the payload had a type (a convention of a known dossier).
STORED = (
    '{"type":"fr.cfa.convention.submitted.v1","time":"2026-11-27T09:00:00+01:00",'
    '"data":{"convention":{"couts":{"coutTotalPedagogieCFA":7000},"lieu":"Montréal"}},'
    '"numeroInterneDossier":"NI-7"}'
)


def test_a_stored_row_reads_back_and_is_stored_again_byte_for_byte() -> None:
    payload = command_payload.decode(STORED)
    assert isinstance(payload, CommandPayload)
    assert payload.type is EventType.CONVENTION_SUBMITTED
    assert payload.time == datetime.fromisoformat("2026-11-27T09:00:00+01:00")
    assert payload.numero_interne == "NI-7" and payload.dossier_numero == "NI-7"
    assert command_payload.encode(payload) == STORED


def test_ingest_s_payload_is_the_old_dict_form() -> None:
    data = ConventionSubmittedData.model_validate({"convention": {"lieu": "Évry"}})
    time = datetime.fromisoformat("2026-11-27T09:00:00+01:00")
    payload = CommandPayload(EventType.CONVENTION_SUBMITTED, time, data)
    old = {
        "type": EventType.CONVENTION_SUBMITTED.value,
        "time": time.isoformat(),
        "data": data.model_dump(mode="json", exclude_none=True),
    }
    assert command_payload.encode(payload) == json.dumps(
        old, separators=(",", ":"), ensure_ascii=False
    )


def test_an_explicit_numero_is_the_dossier_s_own() -> None:
    payload = parse(
        {
            "type": "fr.cfa.convention.submitted.v1",
            "time": "2026-11-27T09:00:00+01:00",
            "data": {"convention": {}, "numeroInterneDossier": "GIVEN"},
        }
    )
    assert payload.numero_interne is None and payload.dossier_numero == "GIVEN"


def test_a_row_no_model_reads_loads_as_unreadable_with_its_errors() -> None:
    for stored in ({}, {"type": "fr.cfa.autre.v1"}, {"nope": 1}, []):
        payload = load(stored)
        assert isinstance(payload, UnreadablePayload), stored
        assert payload.errors and payload.message.startswith("PAYLOAD_INVALID")
    bad_data = load(
        {"type": "fr.cfa.rupture.declared.v1", "time": "2026-11-27T09:00:00Z", "data": {}}
    )
    assert isinstance(bad_data, UnreadablePayload)
    assert [e.path for e in bad_data.errors] == ["data.rupture"]
