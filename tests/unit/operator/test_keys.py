"""Key states: the earlier of the configured and the OPCO's expiry decides."""

from __future__ import annotations

from datetime import date

from relais.operator.keys import classify


def test_the_earlier_expiry_wins_and_an_error_is_not_ok() -> None:
    today = date(2026, 11, 27)
    assert classify(today, date(2026, 12, 1), date(2027, 6, 1), True, False) == ("expiring", 4)
    assert classify(today, date(2026, 11, 1), None, None, False) == ("expired", -26)
    assert classify(today, None, None, None, True) == ("error", None)
    assert classify(today, None, None, None, False) == ("unknown", None)
    assert classify(today, date(2028, 1, 1), None, None, False)[0] == "ok"
