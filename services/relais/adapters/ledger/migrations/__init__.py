"""The ledger's SQL migrations: plain files, one folder per engine, applied in version order.

A migration is ``<engine>/NNNN_<name>.sql``. Applied versions are recorded in ``schema_migrations``
with the file's SHA-256, so an edited migration is detected instead of silently diverging: a shipped
migration is never changed, a new one is added.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Engine = Literal["postgres", "sqlite"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        # ``sql`` was read in text mode: a CRLF checkout gives the same checksum
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    """Where a database stands: the versions applied, the files still to apply, edited ones."""

    applied: tuple[int, ...]
    pending: tuple[Migration, ...]
    changed: tuple[Migration, ...]  # applied, but the shipped file differs (never edit one)

    @property
    def up_to_date(self) -> bool:
        return not self.pending and not self.changed


def status(engine: Engine, applied: dict[int, str]) -> MigrationStatus:
    """Compare the applied ``{version: checksum}`` with the shipped migrations."""
    shipped = load(engine)
    return MigrationStatus(
        applied=tuple(sorted(applied)),
        pending=tuple(m for m in shipped if m.version not in applied),
        changed=tuple(
            m for m in shipped if m.version in applied and applied[m.version] != m.checksum
        ),
    )


def load(engine: Engine) -> list[Migration]:
    """Every migration of ``engine``, in version order."""
    folder = resources.files(__package__).joinpath(engine)
    migrations = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions for {engine}: {versions}")
    return migrations


def sqlite_statements(script: str) -> list[str]:
    """A SQLite migration script split into statements (``sqlite3.complete_statement`` knows
    triggers): Python's sqlite3 runs one statement per call."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement.rstrip(";").strip() and not only_comments(statement):
                statements.append(statement)
            buffer = ""
    if buffer.strip() and not only_comments(buffer):
        raise ValueError("incomplete SQL statement at the end of a migration")
    return statements


def only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
