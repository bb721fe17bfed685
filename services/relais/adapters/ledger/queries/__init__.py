"""The ledger's SQL, one file of named queries per engine, loaded once (as the migrations are).

``<engine>.sql`` is a sequence of blocks, each opened by a line ``-- <name> --``; the comment lines
that follow describe it. A block may include another by name, ``{name}`` (a fragment such as the
FIFO predicate, written once per dialect and used wherever it applies); an unknown name fails at
load time. The engines run ``queries(engine)["claim"]``, never a string built at run time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

from relais.adapters.ledger.migrations import Engine, only_comments

_HEADER = re.compile(r"^-- ([a-z0-9_]+) --$", re.MULTILINE)
_INCLUDE = re.compile(r"\{([a-z0-9_]+)\}")


@functools.cache
def queries(engine: Engine) -> Mapping[str, str]:
    """Every named query of ``engine``, includes resolved (read from the package once)."""
    text = resources.files(__package__).joinpath(f"{engine}.sql").read_text(encoding="utf-8")
    return MappingProxyType(parse(text))


def parse(text: str) -> dict[str, str]:
    """The named blocks of a queries file, their ``{name}`` includes resolved."""
    parts = _HEADER.split(text)
    if parts[0].strip() and not only_comments(parts[0]):
        raise ValueError("SQL before the first named query")
    blocks: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in blocks:
            raise ValueError(f"query {name!r} is defined twice")
        blocks[name] = _strip_description(body)
    return {name: _resolve(name, blocks, ()) for name in blocks}


def _resolve(name: str, blocks: Mapping[str, str], seen: tuple[str, ...]) -> str:
    if name in seen:
        raise ValueError(f"query {name!r} includes itself: {' -> '.join((*seen, name))}")

    def include(match: re.Match[str]) -> str:
        if match[1] not in blocks:
            raise ValueError(f"query {name!r} includes an unknown query {match[1]!r}")
        return _resolve(match[1], blocks, (*seen, name))

    return _INCLUDE.sub(include, blocks[name])


def _strip_description(body: str) -> str:
    """The SQL of a block: its leading description comments and surrounding blanks removed."""
    lines = body.strip().splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()
