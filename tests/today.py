"""The tests' "today": the business day (Europe/Paris) on which the session started.

A test that needs "today" takes it from here, from an injected clock, or from the simulator's clock
(``tests.fixtures.simulator`` starts the simulator on this day), and writes its dates relative to
it; it never reads the wall clock itself. Unit tests of the rules use a fixed day of their own.
Read once at import: a session that runs past midnight keeps one day. ``python -m tests.timeshift``
runs the date-sensitive suites with this day shifted (libfaketime).
"""

from __future__ import annotations

from datetime import UTC, datetime

from relais.domain.dates import paris_today

TODAY = paris_today(datetime.now(UTC))
