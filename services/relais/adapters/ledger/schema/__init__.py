"""The committed description of the ledger schema, one JSON file per engine.

``describe.describe(url)`` reads the schema from the database itself (PostgreSQL catalogs, SQLite's
``sqlite_master``), on a connection of its own (tooling, not the runtime adapter); a test migrates
an empty database and compares it with these files, so a migration that does not produce the
documented schema (or a schema change without its migration) fails CI. After a deliberate change,
regenerate them:

    python -m relais.adapters.ledger.schema --postgres postgresql://postgres@127.0.0.1:5432/test

(it migrates a scratch SQLite file and a scratch PostgreSQL database it creates and drops).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from relais.adapters.ledger.migrations import Engine


def snapshot_path(engine: Engine) -> Path:
    return Path(str(resources.files(__package__).joinpath(f"{engine}.json")))


def load_snapshot(engine: Engine) -> Any:
    return json.loads(snapshot_path(engine).read_text(encoding="utf-8"))


def dump_snapshot(description: Any) -> str:
    return json.dumps(description, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
