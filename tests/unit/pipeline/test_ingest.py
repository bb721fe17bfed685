"""The ingest handler against a Protocol-checked fake ledger: one outcome per record, every time."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import SecretStr

from relais.domain.events import DossierSubmittedData, ErrorItem, EventType
from relais.domain.opco import OpcoCode
from relais.domain.status import StatusBody, status_event_id
from relais.services.command_payload import CommandPayload
from relais.services.ingest import (
    DeadLetter,
    IngestHandler,
    IngestPolicy,
    Outcome,
    Record,
    RuleCheck,
)
from relais.services.ledger_port import CommandKind, DossierRecord, Ledger
from tests.unit.pipeline.rules import ExplicitOpcoRules
from tests.unit.pipeline.samples import CFA, OTHER_CFA, event, facture, record, signed
from tests.unit.services.fakes import FakeLedger, ManualClock


class ListSink:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class BrokenSink:
    async def dead_letter(self, letter: DeadLetter) -> None:
        raise ConnectionError("dlq topic unreachable")


@pytest.fixture()
def ledger() -> FakeLedger:
    fake = FakeLedger()
    _: Ledger = fake  # the fake keeps the Protocol
    return fake


@pytest.fixture()
def sink() -> ListSink:
    return ListSink()


def handler(ledger: FakeLedger, sink: ListSink | BrokenSink, **policy: object) -> IngestHandler:
    return IngestHandler(
        ledger,
        sink,
        rules=ExplicitOpcoRules(),
        policy=IngestPolicy(**policy),  # type: ignore[arg-type]
        clock=ManualClock(),
    )  # type: ignore[arg-type]


def bodies(ledger: FakeLedger) -> list[StatusBody]:
    return [StatusBody.model_validate_json(m.value) for m in ledger.statuses()]


async def test_dossier_accepted_with_received_status(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-1", subject="D-1")
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert result.outcome is Outcome.ACCEPTED and result.opco is OpcoCode.AKTO
    (cmd,) = [r.command for r in ledger.rows]
    assert (cmd.event_id, cmd.cfa, cmd.dossier_id, cmd.opco, cmd.kind) == (
        "e-1",
        CFA,
        "D-1",
        "AKTO",
        CommandKind.DOSSIER,
    )
    assert isinstance(cmd.payload, CommandPayload)
    assert cmd.payload.type is EventType.DOSSIER_SUBMITTED
    data = cmd.payload.data
    assert isinstance(data, DossierSubmittedData) and data.cerfa["employeur"]["siret"]
    (status,) = ledger.statuses()
    assert status.event_id == status_event_id("e-1", "received", cfa=CFA)
    assert status.key == "D-1"
    assert status.headers["ce_type"] == "fr.relais.status.received.v1"
    (body,) = bodies(ledger)
    assert (body.status, body.eventId, body.cfa, body.opco) == ("received", "e-1", CFA, "AKTO")
    assert not sink.letters


async def test_same_event_twice_is_one_command(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-2")
    h = handler(ledger, sink)
    first = await h.handle(record(hdrs, value, offset=0))
    again = await h.handle(record(hdrs, value, offset=0))
    replay = await h.handle(record(hdrs, value, offset=7))
    assert [first.outcome, again.outcome, replay.outcome] == [
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
        Outcome.DUPLICATE,
    ]
    assert len(ledger.rows) == 1 and len(ledger.statuses()) == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "DATA_NOT_JSON"),
        (b"[1, 2]", "DATA_NOT_OBJECT"),
        (b"\xff\xfe{}", "DATA_NOT_JSON"),
        (b'{"cerfa": {"contrat": {"salaireEmbauche": 1e999999}}}', "DATA_NOT_FINITE"),
        (b'{"cerfa": {"contrat": {"salaireEmbauche": NaN}}}', "DATA_NOT_FINITE"),
        (b'{"cerfa": {"contrat": {"salaireEmbauche": -Infinity}}}', "DATA_NOT_FINITE"),
        (b"", "EMPTY_VALUE"),
        (b"{" + b" " * 5000 + b"}", "TOO_LARGE"),
    ],
)
async def test_undecodable_value_goes_to_the_dlq(
    ledger: FakeLedger, sink: ListSink, value: bytes, reason: str
) -> None:
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, event_id="e-3", subject="D-3")
    rec = record(hdrs, value, topic="cfa.events.v1", partition=0, offset=12)
    result = await handler(ledger, sink, max_message_bytes=4096).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED and result.reason == reason
    (letter,) = sink.letters
    h = dict(letter.headers)
    if reason == "TOO_LARGE":  # would not fit the DLQ either: its size, not its value
        assert letter.value is None and h["dlq_value_dropped"] == str(len(value)).encode()
    else:
        assert letter.value == value  # the raw record, unchanged
    assert letter.key == b"D-3"
    assert h["dlq_reason"] == reason.encode()
    assert (h["dlq_topic"], h["dlq_partition"], h["dlq_offset"]) == (b"cfa.events.v1", b"0", b"12")
    assert h["ce_id"] == b"e-3"  # the original headers travel along
    (body,) = bodies(ledger)
    if reason in ("EMPTY_VALUE", "TOO_LARGE"):  # read before the envelope: source not established
        position = "kafka:cfa.events.v1:0:12"
        assert (body.status, body.eventId, body.reason) == (
            "dead_lettered",
            position,
            reason.lower(),
        )
        assert body.dossierId is None and body.cfa is None
    else:
        assert (body.status, body.dossierId, body.reason) == (
            "dead_lettered",
            "D-3",
            reason.lower(),
        )
    assert ledger.rows == []


async def test_no_event_id_dead_letter_keyed_by_position(
    ledger: FakeLedger, sink: ListSink
) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject="D-4")
    del hdrs["ce_id"]
    h = handler(ledger, sink)
    result = await h.handle(record(hdrs, value, offset=3))
    assert result.outcome is Outcome.DEAD_LETTERED
    assert result.event_id == "kafka:cfa.events.v1:0:3"
    (body,) = bodies(ledger)
    assert body.status == "dead_lettered" and body.eventId == "kafka:cfa.events.v1:0:3"
    assert body.dossierId is None and ledger.statuses()[0].key == "kafka:cfa.events.v1:0:3"
    assert ledger.statuses()[0].event_id == status_event_id(
        "kafka:cfa.events.v1:0:3", "dead_lettered"
    )
    # Redelivered: the DLQ may see it again (at least once), the status is not written twice.
    assert (await h.handle(record(hdrs, value, offset=3))).outcome is Outcome.DUPLICATE
    assert len(ledger.statuses()) == 1


async def test_no_headers_no_key_dead_letter_with_an_operators_status(
    ledger: FakeLedger, sink: ListSink
) -> None:
    rec = Record(topic="cfa.events.v1", partition=0, offset=0, key=None, value=b'{"a":1}')
    result = await handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED
    assert len(sink.letters) == 1
    (status,) = ledger.statuses()  # for the operators: no CFA, named by its position
    assert status.key == "kafka:cfa.events.v1:0:0" and "ce_cfa" not in status.headers
    assert ("", "kafka:cfa.events.v1:0:0") in ledger.inbox


async def test_garbled_header_bytes_dead_letter(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject="D-5")
    rec = record({**hdrs, "ce_id": b"\xff\xfe"}, value)
    result = await handler(ledger, sink).handle(rec)
    assert result.outcome is Outcome.DEAD_LETTERED
    assert bodies(ledger)[0].dossierId is None  # source not established: no claimed id echoed
    assert bodies(ledger)[0].eventId == "kafka:cfa.events.v1:0:0"


async def test_schema_errors_rejected_with_every_error(ledger: FakeLedger, sink: ListSink) -> None:
    bad = {"opco": "NOPE", "cerfa": "not an object", "extra": 1}
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, bad, event_id="e-6")
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    (body,) = bodies(ledger)
    assert body.status == "rejected" and body.errors is not None
    assert {e.path for e in body.errors} == {"data.opco", "data.cerfa", "data.extra"}
    assert ledger.rows == [] and not sink.letters


async def test_envelope_errors_with_a_usable_id_are_rejected(
    ledger: FakeLedger, sink: ListSink
) -> None:
    hdrs, value = event(
        EventType.DOSSIER_SUBMITTED, event_id="e-7", subject="D-7", time="yesterday"
    )
    hdrs["ce_type"] = "fr.cfa.unknown.v1"
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    (body,) = bodies(ledger)
    # source not established: named by its position, no claimed id echoed, no CFA
    assert body.eventId == "kafka:cfa.events.v1:0:0" and body.dossierId is None
    assert body.cfa is None
    assert {e.code for e in body.errors or []} >= {
        "ENVELOPE_UNKNOWN_TYPE",
        "ENVELOPE_INVALID_ATTRIBUTE",
    }


async def test_key_must_match_subject(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-8", subject="D-8")
    result = await handler(ledger, sink).handle(record(hdrs, value, key="OTHER"))
    assert result.outcome is Outcome.REJECTED
    assert [e.code for e in result.errors] == ["RECORD_KEY_MISMATCH"]


async def test_forged_source_on_a_topic_rejected_and_cannot_squat_the_id(
    ledger: FakeLedger, sink: ListSink
) -> None:
    topics = {"cfa.a.v1": [CFA], "cfa.b.v1": [OTHER_CFA]}
    h = handler(ledger, sink, topic_sources=topics)
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-9", source=CFA)
    forged = await h.handle(record(hdrs, value, topic="cfa.b.v1", offset=5))
    assert forged.outcome is Outcome.REJECTED
    assert [e.code for e in forged.errors] == ["SOURCE_NOT_ALLOWED_ON_TOPIC"]
    body = bodies(ledger)[0]
    assert body.cfa is None  # not attributed to the CFA it pretends to be
    # The real CFA's event with the same id, on its own topic, is still accepted.
    real = await h.handle(record(hdrs, value, topic="cfa.a.v1"))
    assert real.outcome is Outcome.ACCEPTED
    unknown_topic = await h.handle(record(hdrs, value, topic="cfa.c.v1"))
    assert unknown_topic.outcome is Outcome.REJECTED


async def test_uai_source_mapped_to_siret(ledger: FakeLedger, sink: ListSink) -> None:
    h = handler(ledger, sink, uai_siret={"0751234A": CFA}, topic_sources={"cfa.events.v1": [CFA]})
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, source="urn:uai:0751234A")
    assert (await h.handle(record(hdrs, value))).outcome is Outcome.ACCEPTED
    assert ledger.rows[0].command.cfa == CFA
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, source="0759999Z")
    result = await h.handle(record(hdrs, value))
    assert [e.code for e in result.errors] == ["SOURCE_UNKNOWN_UAI"]


async def test_hmac_signature(ledger: FakeLedger, sink: ListSink) -> None:
    h = handler(ledger, sink, hmac_secrets={CFA: SecretStr("s3cret")})
    hdrs, value = event(EventType.DOSSIER_SUBMITTED)
    ok = await h.handle(record(signed("s3cret", hdrs, value), value))
    assert ok.outcome is Outcome.ACCEPTED
    hdrs, value = event(EventType.DOSSIER_SUBMITTED)
    wrong = await h.handle(record(signed("other", hdrs, value), value, offset=1))
    assert [e.code for e in wrong.errors] == ["SIGNATURE_INVALID"]
    tampered_hdrs = signed("s3cret", hdrs, value)
    tampered = await h.handle(record(tampered_hdrs, value.replace(b"AKTO", b"ATLAS"), offset=2))
    assert [e.code for e in tampered.errors] == ["SIGNATURE_INVALID"]
    hdrs, value = event(EventType.DOSSIER_SUBMITTED)
    missing = await h.handle(record(hdrs, value, offset=3))
    assert [e.code for e in missing.errors] == ["SIGNATURE_MISSING"]


async def test_followups_take_the_opco_of_their_dossier(ledger: FakeLedger, sink: ListSink) -> None:
    h = handler(ledger, sink)
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject="D-10")
    assert (await h.handle(record(hdrs, value))).outcome is Outcome.ACCEPTED
    for etype in (
        EventType.CONVENTION_SUBMITTED,
        EventType.CERTIFICAT_SUBMITTED,
        EventType.RUPTURE_DECLARED,
    ):
        hdrs, value = event(etype, subject="D-10")
        result = await h.handle(record(hdrs, value))
        assert result.outcome is Outcome.ACCEPTED, result.errors
        assert result.opco is OpcoCode.AKTO
    kinds = [r.command.kind for r in ledger.rows]
    assert kinds == ["dossier", "convention", "certificat", "rupture"]
    assert all(r.command.opco == "AKTO" for r in ledger.rows)


async def test_followup_of_unknown_dossier_rejected(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, value = event(EventType.CONVENTION_SUBMITTED, subject="D-404")
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    assert [(e.code, e.path) for e in result.errors] == [("DOSSIER_UNKNOWN", "ce_subject")]


async def test_facture_over_several_dossiers(ledger: FakeLedger, sink: ListSink) -> None:
    h = handler(ledger, sink)
    for dossier in ("D-11", "D-12"):
        hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject=dossier)
        await h.handle(record(hdrs, value))
    hdrs, value = event(EventType.FACTURE_SUBMITTED, facture("F-1", "D-11", "D-12"), subject="F-1")
    result = await h.handle(record(hdrs, value))
    assert result.outcome is Outcome.ACCEPTED, result.errors
    cmd = ledger.rows[-1].command
    assert cmd.kind == "facture" and set(cmd.depends_on) == {"D-11", "D-12"}
    hdrs, value = event(EventType.FACTURE_SUBMITTED, facture("F-2", "D-11", "D-99"), subject="F-2")
    result = await h.handle(record(hdrs, value))
    assert [(e.code, e.path) for e in result.errors] == [
        ("DOSSIER_UNKNOWN", "data.facture.lignes[1].dossierId")
    ]


class StrictRules:
    def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
        assert today == date(2026, 11, 27)
        return RuleCheck(
            errors=(
                ErrorItem(code="NIR_INVALID", path="cerfa.apprenti.nir", message="NIR invalide"),
                ErrorItem(code="AGE_MAX", path="cerfa.apprenti.dateNaissance", message="trop âgé"),
            )
        )

    def check_followup(self, event: object, today: date) -> RuleCheck:
        return RuleCheck()


async def test_control_rule_errors_all_in_one_rejected_status(
    ledger: FakeLedger, sink: ListSink
) -> None:
    h = IngestHandler(ledger, sink, rules=StrictRules(), clock=ManualClock())
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-13")
    result = await h.handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    (status,) = ledger.statuses()
    body = json.loads(status.value)
    assert [e["code"] for e in body["errors"]] == ["NIR_INVALID", "AGE_MAX"]
    # No personal data from the payload ends in the status event.
    assert b"285057800608436" not in status.value and b"Martin" not in status.value


async def test_dlq_unreachable_raises_and_writes_nothing(ledger: FakeLedger) -> None:
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED)
    with pytest.raises(ConnectionError):
        await handler(ledger, BrokenSink()).handle(record(hdrs, b"{oops"))
    assert ledger.inbox == set() and ledger.statuses() == []


async def test_missing_headers_dead_letter_even_with_an_id(
    ledger: FakeLedger, sink: ListSink
) -> None:
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, event_id="e-14", subject="D-14")
    del hdrs["ce_type"], hdrs["ce_source"]
    result = await handler(ledger, sink).handle(record(hdrs, value, offset=9))
    assert result.outcome is Outcome.DEAD_LETTERED
    assert result.reason == "ENVELOPE_HEADERS_MISSING"
    assert dict(sink.letters[0].headers)["dlq_reason"] == b"ENVELOPE_HEADERS_MISSING"
    (status,) = ledger.statuses()
    # Its source is not established: keyed by position, inbox and status id alike (F3), and the
    # body names that position, not the event id it claims.
    assert status.event_id == status_event_id("kafka:cfa.events.v1:0:9", "dead_lettered")
    assert StatusBody.model_validate_json(status.value).eventId == "kafka:cfa.events.v1:0:9"
    assert ("", "kafka:cfa.events.v1:0:9") in ledger.inbox
    assert not any(event_id == "e-14" for _, event_id in ledger.inbox)


async def test_a_forged_refusal_does_not_take_the_real_events_status_id(
    ledger: FakeLedger, sink: ListSink
) -> None:
    """F3: B's copy of A's event (same ce_id) on a topic that may not carry A, then A's own
    (invalid) event: both refusals reach the outbox, each under its own status id."""
    h = handler(ledger, sink, topic_sources={"cfa.a": [CFA], "cfa.b": [OTHER_CFA]})
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, {"cerfa": "x"}, event_id="e-a", subject="D")
    forged = await h.handle(record(hdrs, value, topic="cfa.b", offset=3))
    real = await h.handle(record(hdrs, value, topic="cfa.a", offset=3))
    assert forged.outcome is real.outcome is Outcome.REJECTED
    first, second = ledger.statuses()
    assert first.event_id == status_event_id("kafka:cfa.b:0:3", "rejected")
    assert second.event_id == status_event_id("e-a", "rejected", cfa=CFA)
    forged_body, real_body = bodies(ledger)
    assert forged_body.eventId == "kafka:cfa.b:0:3" and real_body.eventId == "e-a"
    assert forged_body.dossierId is None and first.key == "kafka:cfa.b:0:3"
    assert [e.code for e in forged_body.errors] == ["SOURCE_NOT_ALLOWED_ON_TOPIC"]
    assert forged_body.cfa is None and real_body.cfa == CFA
    assert "SOURCE_NOT_ALLOWED_ON_TOPIC" not in {e.code for e in real_body.errors}


async def test_wrong_envelope_and_bad_json_dead_letter(ledger: FakeLedger, sink: ListSink) -> None:
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, time="not a time")
    result = await handler(ledger, sink).handle(record(hdrs, b"{oops"))
    assert result.outcome is Outcome.DEAD_LETTERED and result.reason == "DATA_NOT_JSON"


async def test_signatures_required_for_every_cfa(ledger: FakeLedger, sink: ListSink) -> None:
    h = handler(ledger, sink, require_signature=True, hmac_secrets={CFA: SecretStr("s")})
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, source=OTHER_CFA)
    no_secret = await h.handle(record(signed("guess", hdrs, value), value))
    assert [e.code for e in no_secret.errors] == ["SIGNATURE_UNVERIFIABLE"]
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, source=OTHER_CFA)
    unsigned = await h.handle(record(hdrs, value, offset=1))
    assert [e.code for e in unsigned.errors] == ["SIGNATURE_MISSING"]


async def test_thousands_of_errors_stay_a_small_status(ledger: FakeLedger, sink: ListSink) -> None:
    class ManyErrors(StrictRules):
        def check_dossier(self, data: DossierSubmittedData, today: date) -> RuleCheck:
            items = [ErrorItem(code="X", path=f"cerfa.l[{i}]", message="m") for i in range(5000)]
            return RuleCheck(errors=tuple(items))

    h = IngestHandler(ledger, sink, rules=ManyErrors(), clock=ManualClock())
    hdrs, value = event(EventType.DOSSIER_SUBMITTED)
    result = await h.handle(record(hdrs, value))
    assert len(result.errors) == 200  # what was published is what the logs see
    (status,) = ledger.statuses()
    errors = json.loads(status.value)["errors"]
    assert len(errors) == 200 and errors[-1]["code"] == "TOO_MANY_ERRORS"
    assert "4801 autres" in errors[-1]["message"]
    assert len(status.value) < 64_000


async def test_a_megabyte_field_name_does_not_make_a_megabyte_status(
    ledger: FakeLedger, sink: ListSink
) -> None:
    data = {"opco": "AKTO", "cerfa": {}, "x" * 500_000: 1}
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, data)
    result = await handler(ledger, sink, max_message_bytes=2_000_000).handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    (status,) = ledger.statuses()
    assert len(status.value) < 2_000


async def test_characters_a_database_cannot_store_are_refused(
    ledger: FakeLedger, sink: ListSink
) -> None:
    h = handler(ledger, sink)
    data = {"opco": "AKTO", "cerfa": {"employeur": {"denomination": "a\x00b", "\ud800k": 1}}}
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, event_id="e-15")
    value = json.dumps(data).encode()  # JSON escapes: \u0000 and a lone \ud800 are valid JSON
    result = await h.handle(record(hdrs, value))
    assert result.outcome is Outcome.REJECTED
    assert [(e.code, e.path) for e in result.errors] == [
        ("DATA_INVALID_CHARACTER", "data.cerfa.employeur"),
        ("DATA_INVALID_CHARACTER", "data.cerfa.employeur.denomination"),
    ]
    assert ledger.rows == []
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject="D\x00")
    nul_subject = await h.handle(record(hdrs, value, offset=4))
    assert nul_subject.outcome is Outcome.DEAD_LETTERED
    assert nul_subject.reason == "ENVELOPE_INVALID_CHARACTER"
    assert nul_subject.event_id == "kafka:cfa.events.v1:0:4"
    assert "\x00" not in "".join(m.key + m.event_id for m in ledger.statuses())


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "DATA_TOO_DEEP"),
        (b'{"cerfa":' + b'{"a":' * 40 + b"1" + b"}" * 41, "DATA_TOO_DEEP"),
    ],
)
async def test_absurdly_nested_json_is_dead_lettered(
    ledger: FakeLedger, sink: ListSink, value: bytes, reason: str
) -> None:
    hdrs, _ = event(EventType.DOSSIER_SUBMITTED, subject="D-16")
    result = await handler(ledger, sink).handle(record(hdrs, value))
    assert result.outcome is Outcome.DEAD_LETTERED and result.reason == reason
    assert bodies(ledger)[0].dossierId == "D-16"


async def test_an_explicit_numero_interne_must_be_the_one_of_the_cfas_dossier(
    ledger: FakeLedger, sink: ListSink
) -> None:
    """A follow-up naming the OPCO's dossier id itself: accepted only if it is the ledger's for
    (CFA, dossier id); refused while the ledger does not know it (ownership cannot be proven)."""
    h = handler(ledger, sink)
    hdrs, value = event(EventType.DOSSIER_SUBMITTED, subject="D-20")
    assert (await h.handle(record(hdrs, value))).outcome is Outcome.ACCEPTED

    def convention(numero: str) -> tuple[dict[str, str], bytes]:
        data = {"numeroInterneDossier": numero, "convention": {"couts": {"total": 6000}}}
        return event(EventType.CONVENTION_SUBMITTED, data, subject="D-20")

    def certificat(numero: str) -> tuple[dict[str, str], bytes]:
        data = {"certificat": {"numeroInterneDossier": numero, "echeance": {"numero": 1}}}
        return event(EventType.CERTIFICAT_SUBMITTED, data, subject="D-20")

    # the dossier command is not done yet: the ledger knows no OPCO id for it
    unverifiable = await h.handle(record(*convention("NI-OWN"), offset=1))
    assert [(e.code, e.path) for e in unverifiable.errors] == [
        ("DOSSIER_NUMERO_UNVERIFIABLE", "data.numeroInterneDossier")
    ]
    ledger.dossiers[(CFA, "D-20")] = DossierRecord(
        cfa=CFA,
        dossier_id="D-20",
        opco="AKTO",
        numero_interne="NI-OWN",
        numero_externe=None,
        etat=None,
        updated_at=ledger.clock.now(),
    )
    for make, path in (
        (convention, "data.numeroInterneDossier"),
        (certificat, "data.certificat.numeroInterneDossier"),
    ):
        other = await h.handle(record(*make("NI-OTHER-CFA"), offset=2))
        assert [(e.code, e.path) for e in other.errors] == [("DOSSIER_NUMERO_MISMATCH", path)]
        assert "NI-OTHER-CFA" not in repr(other.errors)
        own = await h.handle(record(*make("NI-OWN"), offset=3))
        assert own.outcome is Outcome.ACCEPTED, own.errors
    assert [r.command.kind for r in ledger.rows] == [
        CommandKind.DOSSIER,
        CommandKind.CONVENTION,
        CommandKind.CERTIFICAT,
    ]
