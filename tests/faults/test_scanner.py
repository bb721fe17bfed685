"""The leak scanner of the fault suite finds what a log line, a metric or an event may say."""

from __future__ import annotations

from tests.faults.harness import Scanner

NEEDLES = [
    "Chloé",
    "Le Gall",
    "207112A00439167",
    "fk-atlas-0a1b2c",
    "chloe.legrand.2@example.org",
    "1972-04-09",
    "FR7630002087195162472168329",
]


def test_finds_needles_however_they_are_written() -> None:
    text = (
        r'{"nom": "Chlo\u00e9", "x": "nir=207112A00439167", "auth": "Bearer fk-atlas-0a1b2c", '
        '"n": "M. Le Gall", "e": "<chloe.legrand.2@example.org>", "d": "1972-04-09T00:00:00", '
        'label{iban="FR7630002087195162472168329"} 1.0'
    )
    assert sorted(Scanner(NEEDLES).hits(text)) == sorted(NEEDLES)


def test_finds_nothing_in_clean_text() -> None:
    text = '{"event": "dispatch.submitted", "opco": "ATLAS", "at": "2026-11-27T10:00:00Z"}'
    assert Scanner(NEEDLES).hits(text + " Chloe Gall 1972-04-1 fk-atlas") == []
