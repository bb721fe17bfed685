"""The named query files: each engine's SQL loaded once, includes resolved, rules written once."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from relais.adapters.ledger.migrations import Engine
from relais.adapters.ledger.queries import parse, queries

ENGINES: list[Engine] = ["postgres", "sqlite"]


def source(engine: Engine) -> str:
    package = resources.files("relais.adapters.ledger.queries")
    return package.joinpath(f"{engine}.sql").read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ENGINES)
def test_every_query_loads_with_its_includes_resolved(engine: Engine) -> None:
    loaded = queries(engine)
    assert queries(engine) is loaded  # read once
    for name, sql in loaded.items():
        assert sql and not re.search(r"\{[a-z0-9_]+\}", sql), name
        assert not sql.lstrip().startswith("--"), name  # the description is not the query


@pytest.mark.parametrize("engine", ENGINES)
def test_the_fifo_predicate_is_written_once_and_used_by_claim(engine: Engine) -> None:
    text = source(engine)
    assert text.count("o.id < c.id") == 1  # the no_older_open fragment only
    assert queries(engine)["claim"].count("o.id < c.id") == 2  # due and expired candidates


@pytest.mark.parametrize("engine", ENGINES)
def test_the_touches_dossier_rule_is_written_once(engine: Engine) -> None:
    # "a dossier just created": the half of the rule that needs the command row
    assert len(re.findall(r"kind = 'dossier' AND \S*state = 'done'", source(engine))) == 1


def test_includes_and_names_are_checked() -> None:
    assert parse("-- a --\nSELECT 1\n-- b --\n-- about b\nSELECT {a} + 1\n") == {
        "a": "SELECT 1",
        "b": "SELECT SELECT 1 + 1",
    }
    with pytest.raises(ValueError, match="unknown query 'c'"):
        parse("-- a --\nSELECT {c}\n")
    with pytest.raises(ValueError, match="defined twice"):
        parse("-- a --\nSELECT 1\n-- a --\nSELECT 2\n")
    with pytest.raises(ValueError, match="includes itself"):
        parse("-- a --\nSELECT {b}\n-- b --\nSELECT {a}\n")
    with pytest.raises(ValueError, match="before the first"):
        parse("SELECT 1\n-- a --\nSELECT 2\n")
