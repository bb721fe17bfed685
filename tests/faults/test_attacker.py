"""The attacker's checks catch what they are there for: an attacker record left unanswered or
answered the wrong way, a status that names a legitimate CFA's ids or answers the attacker to a
legitimate CFA, a request reaching the OPCO with the attacker's key on another CFA's dossier."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.faults.attacker import (
    Attack,
    Builder,
    check_accounted,
    check_opco,
    check_statuses,
    victim_numeros,
)
from tests.faults.harness import Consumed

ATTACKER, VICTIM = "99999999900017", "12345678900011"
TOPIC = "faults-cfa-x-atk"
VICTIM_EVENT, VICTIM_DOSSIER, VICTIM_NUMERO = "ev-victim-1", "CFA-2026-00001-abcdef", "AT-778899"


def _status(body: dict[str, Any], key: str = "ATK-DOSSIER") -> Consumed:
    headers = (("ce_id", b"st-" + str(body.get("eventId")).encode()),)
    return Consumed("status", 0, 0, key.encode(), json.dumps(body).encode(), headers)


def _dlq(partition: int, offset: int) -> Consumed:
    headers = (
        ("dlq_reason", b"NOT_JSON"),
        ("dlq_topic", TOPIC.encode()),
        ("dlq_partition", str(partition).encode()),
        ("dlq_offset", str(offset).encode()),
    )
    return Consumed("dlq", 0, 0, None, None, headers)


def _attack() -> Attack:
    """One record of each way of being answered, at positions 0..3 of partition 1."""
    attack = Attack(ATTACKER)
    attack.add("collide_before", b"ATK-DOSSIER", b"{}", {"ce_id": VICTIM_EVENT}, VICTIM_EVENT)
    attack.add("forged", VICTIM_DOSSIER.encode(), b"{}", {"ce_id": VICTIM_EVENT}, VICTIM_EVENT)
    attack.add("huge_key_garbage", b"G" * 10, b"\xff", {"ce_id": "atk-3"}, None)
    attack.add("foreign_numero", b"ATK-DOSSIER", b"{}", {"ce_id": "atk-4"}, "atk-4")
    for offset, record in enumerate(attack.records):
        record.topic, record.partition, record.offset = TOPIC, 1, offset
    return attack


def _answers(attack: Attack) -> tuple[list[Consumed], list[Consumed], list[Consumed]]:
    _, forged, garbage, _ = attack.records
    statuses = [
        _status({"cfa": ATTACKER, "eventId": VICTIM_EVENT, "status": "rejected"}),
        _status({"cfa": VICTIM, "eventId": VICTIM_EVENT, "status": "submitted"}, VICTIM_DOSSIER),
        _status({"cfa": ATTACKER, "eventId": garbage.position, "status": "dead_lettered"}),
        _status(
            {
                "cfa": ATTACKER,
                "eventId": "atk-4",
                "status": "rejected",
                "errors": [{"code": "DOSSIER_NUMERO_MISMATCH", "path": "data", "message": "no"}],
            }
        ),
    ]
    rejected = [_status({"eventId": forged.position, "status": "rejected"}, forged.position)]
    return statuses, rejected, [_dlq(1, garbage.offset)]


def test_every_attacker_record_answered_its_way_passes() -> None:
    attack = _attack()
    problems, counts = check_accounted(attack, *_answers(attack))
    assert problems == []
    assert counts["attack_answered_by"] == {"own": 3, "operators": 1, "dlq": 1}


def test_an_unanswered_attacker_record_fails() -> None:
    attack = _attack()
    statuses, rejected, _ = _answers(attack)
    problems, _ = check_accounted(attack, statuses, rejected, [])
    assert problems == []  # the dead-lettered status still answers the garbage record
    without = [statuses[0], statuses[1], statuses[3]]  # nor the dead-lettered status
    problems, _ = check_accounted(attack, without, rejected, [])
    assert problems == [f"huge_key_garbage at kafka:{TOPIC}:1:2: no refusal, dead letter or status"]


def test_a_forged_record_not_refused_on_the_operators_topic_fails() -> None:
    attack = _attack()
    statuses, _, dlq = _answers(attack)
    # answered as an event of the CFA it claims (what relais did before): no refusal by position
    # (the status it earned is the victim's second terminal status: "multi_terminal")
    problems, _ = check_accounted(attack, statuses, [], dlq)
    assert problems == [f"forged at kafka:{TOPIC}:1:1: no refusal, dead letter or status"]
    # answered to the attacker by its position on the CFAs' topic: not where it belongs
    forged = attack.records[1]
    wrong = _status({"cfa": ATTACKER, "eventId": forged.position, "status": "rejected"})
    problems, _ = check_accounted(attack, [*statuses, wrong], [], dlq)
    assert problems == [
        f"forged at kafka:{TOPIC}:1:1: answered by ['own'], want operators",
        f"forged at kafka:{TOPIC}:1:1: a forged record earned a status on the CFAs' topic",
    ]


def test_a_foreign_numero_refused_for_something_else_fails() -> None:
    attack = _attack()
    statuses, rejected, dlq = _answers(attack)
    statuses[3] = _status({"cfa": ATTACKER, "eventId": "atk-4", "status": "rejected"})
    problems, _ = check_accounted(attack, statuses, rejected, dlq)
    assert problems == [f"foreign_numero at kafka:{TOPIC}:1:3: refused for [], not its number"]


def _statuses_check(statuses: list[Consumed]) -> list[str]:
    problems, _ = check_statuses(
        _attack(), statuses, {VICTIM_EVENT: VICTIM}, [VICTIM_DOSSIER], [VICTIM_NUMERO]
    )
    return problems


def test_statuses_answering_each_cfa_its_own_events_pass() -> None:
    statuses, _, _ = _answers(_attack())
    assert _statuses_check(statuses) == []


@pytest.mark.parametrize(
    ("status", "problem"),
    [
        # the forged record's refusal addressed to the victim, under the victim's event id
        # (what relais did before): a second terminal status, caught by "multi_terminal"; under
        # an id the victim never used:
        (
            _status({"cfa": VICTIM, "eventId": "atk-9", "status": "rejected"}, VICTIM_DOSSIER),
            f"status for {VICTIM} names an event it did not publish: atk-9",
        ),
        # the attacker told about the victim's dossier or OPCO number
        (
            _status({"cfa": ATTACKER, "eventId": "atk-4", "status": "rejected"}, VICTIM_DOSSIER),
            f"attacker status atk-4 names ['{VICTIM_DOSSIER}']",
        ),
        (
            _status(
                {
                    "cfa": ATTACKER,
                    "eventId": "atk-4",
                    "status": "rejected",
                    "errors": [{"message": f"numeroInterneDossier {VICTIM_NUMERO} is not yours"}],
                }
            ),
            f"attacker status atk-4 names ['{VICTIM_NUMERO}']",
        ),
        # a victim's event id the attacker never sent under its own source
        (
            _status({"cfa": ATTACKER, "eventId": "ev-victim-2", "status": "rejected"}),
            "",
        ),
        # a refusal without a CFA on the CFAs' topic (the operators' topic is for those)
        (
            _status({"eventId": "kafka:t:0:1", "status": "rejected"}),
            "status without a CFA on the CFAs' topic: kafka:t:0:1",
        ),
    ],
)
def test_a_status_that_reveals_or_misaddresses_fails(status: Consumed, problem: str) -> None:
    if not problem:  # ev-victim-2 is a legitimate event too
        problems, _ = check_statuses(
            _attack(),
            [status],
            {VICTIM_EVENT: VICTIM, "ev-victim-2": VICTIM},
            [VICTIM_DOSSIER],
            [VICTIM_NUMERO],
        )
        assert problems == [f"attacker status names the event ev-victim-2 of {VICTIM}"]
        return
    assert _statuses_check([status]) == [problem]


def _request(seq: int, cfa: str, route: str, **ids: str) -> dict[str, Any]:
    return {"seq": seq, "cfaSiret": cfa, "route": route, "ids": ids}


def test_opco_requests_on_own_dossiers_pass() -> None:
    requests = [
        _request(1, VICTIM, "dossiers_post", numeroInterne=VICTIM_NUMERO),
        _request(2, ATTACKER, "dossiers_post", numeroInterne="AT-000001"),
        _request(3, ATTACKER, "dossier_get", numeroInterne="AT-000001"),
        _request(4, VICTIM, "conventions", numeroInterneDossier=VICTIM_NUMERO),
    ]
    assert check_opco(_attack(), requests, [VICTIM_NUMERO]) == ([], {"attacker_opco_requests": 2})


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (
            _request(5, ATTACKER, "conventions", numeroInterneDossier=VICTIM_NUMERO),
            f"request 5 conventions: attacker key on {VICTIM_NUMERO}",
        ),
        (
            _request(6, ATTACKER, "conventions", numeroInterneDossier="AT-000001"),
            "request 6 conventions: the foreign follow-up",
        ),
    ],
)
def test_an_attacker_request_on_a_victim_dossier_fails(
    request_: dict[str, Any], problem: str
) -> None:
    assert check_opco(_attack(), [request_], [VICTIM_NUMERO])[0] == [problem]


def test_victim_numeros_leave_out_the_attackers() -> None:
    dossiers = [
        {"cfaSiret": VICTIM, "numeroInterne": VICTIM_NUMERO},
        {"cfaSiret": ATTACKER, "numeroInterne": "AT-000001"},
    ]
    assert victim_numeros(dossiers, ATTACKER) == [VICTIM_NUMERO]


def test_the_builder_makes_each_kind_of_record() -> None:
    from relais.sampledata import Generator

    attack = Attack("")
    gen = Generator(71, date(2026, 12, 3), cfa_count=1)
    attack.siret = gen.cfas[0].siret
    build = Builder(attack, gen)
    build.oversized(300_000, 400_000, 1_200_000)
    build.collide("collide_after", [VICTIM_EVENT])
    victim = Generator(3, date(2026, 12, 3), cfa_count=1)
    event = victim.dossier(cfa=victim.cfas[0]).event
    build.forge([event], [victim.cfas[0].siret])
    build.forge([event], [], tamper=True)
    own = gen.dossier(cfa=gen.cfas[0])
    build.foreign_numero(own, VICTIM_NUMERO)
    kinds = [r.kind for r in attack.records]
    assert kinds == [
        "huge_subject",
        "huge_key",
        "huge_key_garbage",
        "collide_after",
        "forged_signed",
        "forged",
        "foreign_numero",
    ]
    subject, key, garbage, collide, forged, tampered, foreign = attack.records
    assert len(dict(subject.headers)["ce_subject"]) == 300_000
    assert len(key.key) == 400_000 and len(garbage.key) == 1_200_000
    assert dict(collide.headers)["ce_id"] == VICTIM_EVENT.encode()
    assert dict(collide.headers)["ce_source"] == gen.cfas[0].source.encode()
    assert dict(forged.headers)["ce_source"] == victim.cfas[0].source.encode()
    assert json.loads(foreign.value)["numeroInterneDossier"] == VICTIM_NUMERO
    claimed = {k: dict(tampered.headers)[k] for k in ("ce_source", "ce_id", "ce_subject")}
    assert claimed == {k: dict(forged.headers)[k] for k in claimed}
    assert tampered.value != forged.value and "ce_signature" not in dict(tampered.headers)
    assert attack.own_claims() == {r.ce_id for r in (subject, key, collide, foreign)}
