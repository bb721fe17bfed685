"""DESIGN promise 6: no personal data (names, NIR, birth dates, IBAN, e-mail, phone) in any status
event, whatever the dossier and whatever the control rules found wrong with it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from relais.domain.events import ErrorItem, EventKind, errors_from_validation, parse_structured
from relais.domain.referentials import load_referentials
from relais.domain.status import StatusEvent, Trigger
from relais.domain.status_reasons import StatusReason
from relais.domain.validation import validate_cerfa
from relais.sampledata import GeneratedDossier, Generator, InvalidKind

TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 9, tzinfo=UTC)


def every_status(d: GeneratedDossier, errors: list[ErrorItem]) -> list[StatusEvent]:
    trigger = Trigger.from_envelope(parse_structured(d.event).envelope)
    read_model_echeances = [
        {
            "numero": n,
            "codification": f"E{n}",
            "montantTotal": 1000.0 * n,
            "montantRegle": 0,
            "dateOuverture": (TODAY + timedelta(days=30 * n)).isoformat(),
            "iban": d.cfa.iban,  # the OPCO read model carries it: it must be dropped
        }
        for n in (1, 2, 3, 4)
    ]
    return [
        StatusEvent.received(trigger, occurred_at=NOW, opco=d.opco),
        StatusEvent.rejected(trigger, errors=errors, occurred_at=NOW, opco=d.opco),
        StatusEvent.retrying(
            trigger,
            opco=d.opco,
            attempt=1,
            next_attempt_at=NOW + timedelta(minutes=1),
            reason=StatusReason.RETRYABLE,
            occurred_at=NOW,
        ),
        StatusEvent.submitted(
            trigger, opco=d.opco, occurred_at=NOW, numero_interne="123", numero_externe="EXT-1"
        ),
        StatusEvent.failed(
            trigger,
            opco=d.opco,
            reason=StatusReason.REJECTED_BY_OPCO,
            occurred_at=NOW,
            opco_messages=["Le champ apprenti.nir est invalide"],
            attempts=3,
        ),
        StatusEvent.dead_lettered(trigger, reason=StatusReason.DATA_NOT_JSON, occurred_at=NOW),
        StatusEvent.etat_changed(
            cfa=d.cfa.siret,
            opco=d.opco,
            kind=EventKind.DOSSIER,
            numero="123",
            etat="ENGAGE",
            previous_etat="EN_COURS_INSTRUCTION",
            occurred_at=NOW,
            dossier_id=d.dossier_id,
            engagement=10000.0,
            echeances=read_model_echeances,
        ),
    ]


def leaks(status: StatusEvent, personal: list[str]) -> list[str]:
    wire = status.value().decode() + json.dumps(status.headers(), ensure_ascii=False)
    return [value for value in personal if value and value in wire]


@pytest.mark.parametrize("seed", range(5))
def test_no_status_of_a_valid_dossier_carries_personal_data(seed: int) -> None:
    gen = Generator(seed, TODAY)
    for d in gen.dossiers(11):
        for status in every_status(d, []):
            assert leaks(status, d.personal_values()) == [], status.type


@pytest.mark.parametrize("kind", list(InvalidKind))
def test_rejections_name_fields_never_values(kind: InvalidKind) -> None:
    broken = Generator(99, TODAY).invalid_dossier(kind)
    report = validate_cerfa(broken.dossier.cerfa, today=TODAY, referentials=load_referentials())
    errors = [
        ErrorItem(code=f.code, severity=f.severity, path=f"data.cerfa.{f.path}", message=f.message)
        for f in report.findings
    ]
    assert errors
    rejected = StatusEvent.rejected(
        Trigger.from_envelope(parse_structured(broken.event).envelope),
        errors=errors,
        occurred_at=NOW,
    )
    assert leaks(rejected, broken.dossier.personal_values()) == []


def test_schema_errors_of_the_event_contract_never_echo_values() -> None:
    from pydantic import ValidationError

    from relais.domain.events import FactureSubmittedData

    secret_iban = "FR76-NOT-AN-IBAN-SECRET"
    with pytest.raises(ValidationError) as exc:
        FactureSubmittedData.model_validate(
            {"facture": {"organismeFormation": {"siret": "x", "iban": secret_iban}}}
        )
    items = errors_from_validation(exc.value, "data")
    assert items
    assert all(secret_iban not in item.model_dump_json() for item in items)
