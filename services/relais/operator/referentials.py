"""Referentials that say their age: at start, a warning per stale file and one gauge per file.

``relais run`` calls ``watch_referentials`` once the process is built; ``relais config check``
names the same files (``config_check``). The dates come from each file's ``# valid-until:``
header (``relais.domain.referentials``); how to update a file: ``schemas/referentials/README.md``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from relais.domain.dates import PARIS
from relais.domain.referentials import Validity, read_validity
from relais.logging import get_logger
from relais.metrics import Metrics

log = get_logger("relais.referentials")


def watch_referentials(metrics: Metrics, schemas_dir: Path, today: date) -> list[Validity]:
    """Export each file's validity end (midnight Paris after its valid-until day; 0 when it does
    not say) and log ``referential.stale`` for each file past it. Returns the stale ones."""
    stale: list[Validity] = []
    for validity in read_validity(schemas_dir):
        until = validity.valid_until
        end = None
        if until is not None:
            end = datetime.combine(until + timedelta(days=1), datetime.min.time(), PARIS)
        metrics.referential_validity(validity.file, end)
        if validity.stale(today):
            stale.append(validity)
            log.warning(
                "referential.stale",
                file=validity.file,
                valid_until=None if until is None else until.isoformat(),
                update="schemas/referentials/README.md",
            )
    return stale
