"""What dispatch's money checks read of what relais knows (services/money_checks.py), no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relais.domain.events import ConventionSubmittedData, DossierSubmittedData, EventType
from relais.domain.npec import NpecRow, NpecTable
from relais.services.command_payload import CommandPayload
from relais.services.ledger_port import Command, CommandKind, CommandState
from relais.services.money_checks import convention_verdict, known_dossier, submitted_cerfa

AT = datetime(2026, 12, 3, tzinfo=UTC)


def cerfa(rncp: str, start: str = "2026-12-01", end: str = "2027-11-30") -> dict[str, object]:
    return {
        "employeur": {"codeIdcc": "1486"},
        "formation": {"rncp": rncp},
        "contrat": {"dateDebutContrat": start, "dateFinContrat": end, "dateConclusion": start},
    }


def command(n: int, kind: CommandKind, state: CommandState, data: object) -> Command:
    payload = CommandPayload(
        type=EventType.DOSSIER_SUBMITTED
        if kind is CommandKind.DOSSIER
        else EventType.CONVENTION_SUBMITTED,
        time=AT,
        data=data,  # type: ignore[arg-type]
    )
    return Command(
        id=n,
        event_id=f"e{n}",
        cfa="13098723300017",
        dossier_id="D1",
        opco="AKTO",
        kind=kind,
        payload=payload,
        depends_on=(),
        state=state,
        attempts=0,
        created_at=AT,
        next_attempt_at=AT,
        last_error=None,
        ambiguous=False,
    )


def test_the_cerfa_checked_is_the_last_submitted_one() -> None:
    first = DossierSubmittedData(cerfa=cerfa("RNCP1"))
    avenant = DossierSubmittedData(cerfa=cerfa("RNCP2"))
    refused = DossierSubmittedData(cerfa=cerfa("RNCP3"))
    convention = ConventionSubmittedData(convention={})
    commands = [
        command(1, CommandKind.DOSSIER, CommandState.DONE, first),
        command(2, CommandKind.DOSSIER, CommandState.DONE, avenant),
        command(3, CommandKind.DOSSIER, CommandState.FAILED, refused),
        command(4, CommandKind.CONVENTION, CommandState.IN_FLIGHT, convention),
    ]
    found = submitted_cerfa(commands)
    assert found is not None and found.formation is not None
    assert found.formation.rncp == "RNCP2"
    assert submitted_cerfa(commands[2:]) is None  # nothing submitted: nothing to check against


def test_a_convention_above_the_ceiling_is_an_error_at_its_event_path() -> None:
    table = NpecTable.from_rows([NpecRow("1", "*", 700_000, date(2019, 1, 1))])  # RNCP1
    dossier = submitted_cerfa(
        [
            command(
                1,
                CommandKind.DOSSIER,
                CommandState.DONE,
                DossierSubmittedData(cerfa=cerfa("RNCP1")),
            )
        ]
    )
    costly = ConventionSubmittedData(convention={"couts": {"coutTotalPedagogieCFA": 7000.01}})
    fair = ConventionSubmittedData(convention={"couts": {"coutTotalPedagogieCFA": 7000}})
    verdict = convention_verdict(costly, dossier, table)
    assert [(e.code, e.path) for e in verdict.errors] == [
        ("CONVENTION_COUT_SUPERIEUR_NPEC", "data.convention.couts.coutTotalPedagogieCFA")
    ]
    assert convention_verdict(fair, dossier, table).errors == ()
    assert convention_verdict(costly, None, table).errors == ()  # no dossier known: no check


def test_known_dossier_reads_the_echeancier_and_the_rupture_date() -> None:
    detail = {
        "cerfa": {
            "contrat": {
                "dateDebutContrat": "2026-12-01T00:00:00+01:00",
                "dateFinContrat": "2028-11-30T00:00:00+01:00",
                "dateRupture": "2027-03-01T00:00:00+00:00",
            }
        },
        "echeances": [{"numero": 1, "montantTotal": 1000.0, "montantRegle": 250.0}],
    }
    known = known_dossier(detail)
    assert known.start == date(2026, 12, 1)
    assert known.end == date(2027, 3, 1)  # the rupture ends the contract
    assert known.echeances is not None and known.echeances[0].remaining_cents == 75_000
    not_engaged = known_dossier({"cerfa": {"contrat": {}}, "echeances": []})
    assert not_engaged.echeances is None  # not known yet: a warning, never a block
