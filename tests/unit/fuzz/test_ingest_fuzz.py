"""Hostile input fuzzed against the ingest handler (no broker: a fake ledger and a list DLQ sink).

Whatever a record holds (random or forged headers, invalid UTF-8, oversized or deeply nested
values, wrong JSON types, another CFA's source, a missing or wrong signature), ``handle``:

- returns one of the four outcomes and never raises;
- writes exactly what that outcome promises: ``accepted`` one command + one ``received`` status,
  ``rejected`` one ``rejected`` status, ``dead_lettered`` the raw record to the DLQ unchanged (+ at
  most one ``dead_lettered`` status), ``duplicate`` nothing;
- accepts only an event from a source the topic may carry, with a valid signature when its CFA
  has a secret, and files the command under that source's CFA (never the one a payload names);
- puts no personal value of the cerfa and no secret in any status it writes or DLQ header it adds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from relais.domain.events import structured_to_record
from relais.domain.opco import OpcoCode
from relais.domain.referentials import load_referentials
from relais.domain.status import StatusBody
from relais.sampledata import Generator
from relais.services.ingest import (
    DeadLetter,
    DomainRules,
    IngestHandler,
    IngestPolicy,
    Outcome,
    Record,
)
from relais.services.ingest.signature import sign
from tests.unit.services.fakes import FakeLedger, ManualClock

TODAY = date(2026, 11, 27)
TOPIC_A, TOPIC_B, TOPIC_OPEN = "cfa.a.events.v1", "cfa.b.events.v1", "cfa.shared.events.v1"
SECRET_A = "hmac-secret-of-cfa-a-0123456789"
MAX_BYTES = 64 * 1024
REFERENTIALS = load_referentials()
GEN = Generator(4, TODAY, cfa_count=3)
CFA_A, CFA_B, CFA_C = GEN.cfas
DOSSIERS = [GEN.dossier(opco, cfa=GEN.cfas[i % 3]) for i, opco in enumerate(OpcoCode)]
PERSONAL = sorted({v for d in DOSSIERS for v in d.personal_values() if len(v) >= 4})
POLICY = IngestPolicy(
    max_message_bytes=MAX_BYTES,
    topic_sources={TOPIC_A: [CFA_A.siret], TOPIC_B: [CFA_B.siret], TOPIC_OPEN: ["*"]},
    hmac_secrets={CFA_A.siret: SecretStr(SECRET_A)},
)
TOPICS = [TOPIC_A, TOPIC_B, TOPIC_OPEN, "cfa.unknown.events.v1"]
OWN_TOPIC = {CFA_A.siret: TOPIC_A, CFA_B.siret: TOPIC_B, CFA_C.siret: TOPIC_OPEN}

# a failing example can hold a 64 KB value: hypothesis warns that its repr is large
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class ListSink:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


def valid_record(
    index: int, *, topic: str | None = None, offset: int = 0
) -> tuple[dict[str, str], bytes, bytes, str]:
    """Headers, value and key of a valid dossier event, signed when its CFA has a secret."""
    d = DOSSIERS[index % len(DOSSIERS)]
    rec = structured_to_record(d.event)
    headers = {k: v.decode() for k, v in rec.headers}
    if d.cfa.siret == CFA_A.siret:
        headers["ce_signature"] = sign(SECRET_A, headers, rec.value)
    return headers, rec.value, rec.key or b"", topic or OWN_TOPIC[d.cfa.siret]


async def run(record: Record) -> tuple[Any, FakeLedger, ListSink]:
    ledger, sink = FakeLedger(), ListSink()
    handler = IngestHandler(
        ledger,  # type: ignore[arg-type]
        sink,
        rules=DomainRules(REFERENTIALS),
        policy=POLICY,
        clock=ManualClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
    )
    result = await handler.handle(record)
    return result, ledger, sink


def check_outcome(record: Record, result: Any, ledger: FakeLedger, sink: ListSink) -> None:
    """The promises of every outcome, and no leak."""
    statuses = [StatusBody.model_validate_json(m.value) for m in ledger.statuses()]
    assert result.outcome in set(Outcome)
    if result.outcome is Outcome.ACCEPTED:
        assert len(ledger.rows) == 1 and [s.status for s in statuses] == ["received"]
        assert not sink.letters
        cmd = ledger.rows[0].command
        # the topic may carry this CFA, and the command is filed under the source's CFA
        assert POLICY.topic_may_carry(record.topic, cmd.cfa)
        headers = {k: v.decode(errors="surrogateescape") for k, v in record.headers}
        assert cmd.cfa == headers["ce_source"].rsplit(":", 1)[-1]
        if cmd.cfa == CFA_A.siret:
            assert headers.get("ce_signature", "").lower() == sign(
                SECRET_A, headers, record.value or b""
            )
    elif result.outcome is Outcome.REJECTED:
        assert not ledger.rows and [s.status for s in statuses] == ["rejected"]
        assert statuses[0].errors, "a rejection names at least one problem"
        assert not sink.letters
    elif result.outcome is Outcome.DEAD_LETTERED:
        assert not ledger.rows
        (letter,) = sink.letters
        assert letter.key == record.key
        dropped = dict(letter.headers).get("dlq_value_dropped")
        if dropped is not None:  # too large for the DLQ: the original stays at its position
            assert letter.value is None and int(dropped) == len(record.value or b"")
        else:
            assert letter.value == record.value
        assert [s.status for s in statuses] in (["dead_lettered"], [])
    else:  # a fresh ledger has seen nothing
        raise AssertionError(f"duplicate on a fresh ledger: {result}")
    written = "".join(m.value.decode() + json.dumps(m.headers) for m in ledger.statuses())
    for letter in sink.letters:
        written += json.dumps({k: v.decode(errors="replace") for k, v in letter.headers[-5:]})
    for needle in [*PERSONAL, SECRET_A]:
        if record.value is not None and needle.encode() in record.value:
            assert needle not in written, f"{needle[:3]}… echoed back"


# ------------------------------------------------------------------------------------------------
# strategies
# ------------------------------------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(
    [
        "ce_specversion",
        "ce_id",
        "ce_type",
        "ce_source",
        "ce_subject",
        "ce_time",
        "ce_datacontenttype",
        "ce_signature",
        "content-type",
        "dlq_reason",
        "x-forged",
        "",
    ]
)
HEADER_VALUES = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    st.sampled_from(
        [
            b"1.0",
            b"fr.cfa.dossier.submitted.v1",
            b"fr.cfa.convention.submitted.v1",
            f"urn:siret:{CFA_A.siret}".encode(),
            f"urn:siret:{CFA_B.siret}".encode(),
            b"urn:uai:0751234A",
            b"2026-11-27T10:00:00+01:00",
            b"application/json",
            b"\xff\xfe\xfd",
            b"x" * 300,
        ]
    ),
)


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
VALUES = st.one_of(
    st.none(),
    st.binary(max_size=256),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=50, max_value=100_000).map(nested),
    st.integers(min_value=MAX_BYTES - 10, max_value=MAX_BYTES + 10).map(lambda n: b"{" + b" " * n),
    st.just(b'{"cerfa": "\xff\xfe"}'),
)


@st.composite
def random_records(draw: st.DrawFn) -> Record:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=10))
    return Record(
        topic=draw(st.sampled_from(TOPICS)),
        partition=0,
        offset=draw(st.integers(min_value=0, max_value=10**9)),
        key=draw(st.one_of(st.none(), st.binary(max_size=40))),
        value=draw(VALUES),
        headers=headers,
        timestamp_ms=draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=2**41))),
    )


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _replace(obj: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return {**obj, head: _replace(obj[head], rest, new)}
    copy = list(obj)
    copy[head] = _replace(obj[head], rest, new)
    return copy


@st.composite
def mutated_records(draw: st.DrawFn) -> Record:
    """A valid event with one to three hostile changes to its headers or body."""
    index = draw(st.integers(min_value=0, max_value=len(DOSSIERS) - 1))
    headers, value, key, topic = valid_record(index)
    body: Any = json.loads(value)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(
            st.sampled_from(
                ["drop_header", "set_header", "wrong_type", "deep", "topic", "truncate", "dup"]
            )
        )
        if action == "drop_header" and headers:
            headers.pop(draw(st.sampled_from(sorted(headers))))
        elif action == "set_header":
            name = draw(HEADER_NAMES)
            headers[name] = draw(HEADER_VALUES).decode("utf-8", errors="surrogateescape")
        elif action == "wrong_type" and isinstance(body, dict):
            path = draw(st.sampled_from(_paths(body)))
            body = _replace(body, path, draw(JSON_VALUE))
        elif action == "deep" and isinstance(body, dict):
            path = draw(st.sampled_from(_paths(body)))
            body = _replace(body, path, json.loads(nested(draw(st.integers(5, 400)))))
        elif action == "topic":
            topic = draw(st.sampled_from(TOPICS))
        elif action == "truncate":
            value = value[: draw(st.integers(min_value=0, max_value=len(value)))]
            body = None
        elif action == "dup":
            headers = {**headers}  # a repeated header: the raw list gets two values below
    raw = value if body is None else json.dumps(body).encode()
    items = [(k, v.encode("utf-8", errors="surrogateescape")) for k, v in headers.items()]
    if draw(st.booleans()) and items:
        items.append(draw(st.sampled_from(items)))  # a header sent twice
    return Record(
        topic=topic,
        partition=0,
        offset=draw(st.integers(0, 10**6)),
        key=key,
        value=raw,
        headers=items,
        timestamp_ms=1_790_000_000_000,
    )


# ------------------------------------------------------------------------------------------------
# properties
# ------------------------------------------------------------------------------------------------


@FUZZ
@given(record=random_records())
async def test_random_records_get_one_structured_outcome(record: Record) -> None:
    result, ledger, sink = await run(record)
    check_outcome(record, result, ledger, sink)


@FUZZ
@given(record=mutated_records())
async def test_mutated_valid_events_get_one_structured_outcome(record: Record) -> None:
    result, ledger, sink = await run(record)
    check_outcome(record, result, ledger, sink)


@FUZZ
@given(
    index=st.integers(min_value=0, max_value=len(DOSSIERS) - 1),
    topic=st.sampled_from(TOPICS),
    claimed=st.sampled_from([CFA_A, CFA_B, CFA_C]),
    signature=st.sampled_from(["valid", "missing", "other_secret", "garbage", "stale"]),
)
async def test_a_cfa_cannot_publish_as_another(
    index: int, topic: str, claimed: Any, signature: str
) -> None:
    """Forged ``ce_source`` (another CFA's) and signatures: accepted only when the topic may carry
    the claimed CFA and, for a CFA with a secret, the signature is the right one."""
    headers, value, key, _ = valid_record(index)
    headers.pop("ce_signature", None)
    headers["ce_source"] = f"urn:siret:{claimed.siret}"
    if signature == "valid":
        headers["ce_signature"] = sign(SECRET_A, headers, value)
    elif signature == "other_secret":
        headers["ce_signature"] = sign("not-the-secret", headers, value)
    elif signature == "garbage":
        headers["ce_signature"] = "zz" * 32
    elif signature == "stale":  # signed, then the subject changed
        headers["ce_signature"] = sign(SECRET_A, headers, value)
        headers["ce_time"] = "2026-11-27T09:59:59+01:00"
    record = Record(
        topic=topic,
        partition=0,
        offset=index,
        key=key,
        value=value,
        headers=[(k, v.encode()) for k, v in headers.items()],
    )
    result, ledger, sink = await run(record)
    check_outcome(record, result, ledger, sink)
    allowed = POLICY.topic_may_carry(topic, claimed.siret)
    sig_ok = claimed.siret != CFA_A.siret or signature == "valid"
    if not (allowed and sig_ok):
        assert result.outcome is not Outcome.ACCEPTED
        if result.outcome is Outcome.REJECTED:
            (status,) = [StatusBody.model_validate_json(m.value) for m in ledger.statuses()]
            codes = {e.code for e in status.errors or []}
            refusals = {"SOURCE_NOT_ALLOWED_ON_TOPIC", "SIGNATURE_MISSING", "SIGNATURE_INVALID"}
            if signature == "garbage":  # not hex: refused as a malformed attribute first
                refusals.add("ENVELOPE_INVALID_ATTRIBUTE")
            assert codes & refusals, codes
            assert status.cfa is None  # a refused event is not attributed to the claimed CFA
            # the inbox slot of the real event id stays free
            assert headers["ce_id"] not in ledger.inbox
    else:
        assume(result.outcome is Outcome.ACCEPTED or result.errors)


@pytest.mark.parametrize("depth", [100, 300, 1000, 50_000])  # 300 and 1000: finding F2, fixed
async def test_deep_nesting_is_answered_not_crashed(depth: int) -> None:
    headers, _, key, topic = valid_record(2)
    value = b'{"cerfa": ' + nested(depth) + b"}"
    record = Record(topic, 0, 1, key, value, [(k, v.encode()) for k, v in headers.items()])
    result, ledger, sink = await run(record)
    check_outcome(record, result, ledger, sink)
    assert result.outcome in (Outcome.REJECTED, Outcome.DEAD_LETTERED)


async def test_oversized_record_goes_to_the_dlq() -> None:
    headers, value, key, topic = valid_record(1)
    big = value[:-1] + b', "pad": "' + b"x" * MAX_BYTES + b'"}'
    record = Record(topic, 0, 9, key, big, [(k, v.encode()) for k, v in headers.items()])
    result, ledger, sink = await run(record)
    check_outcome(record, result, ledger, sink)
    assert result.outcome is Outcome.DEAD_LETTERED and result.reason == "TOO_LARGE"
