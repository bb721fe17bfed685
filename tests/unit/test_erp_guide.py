"""docs/erp-integration.md stays true: its code excerpts are the sample files' code verbatim (the
samples themselves run in tests/e2e/test_erp_samples.py), its links resolve, and it names every
event type and every status kind with the right terminal mark."""

from __future__ import annotations

import re
from pathlib import Path

from relais.domain.events import EventType
from relais.domain.status_kinds import StatusName

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "erp-integration.md"
EXCERPT = re.compile(r"<!-- excerpt: (?P<path>[\w/.-]+) -->\n```\w+\n(?P<code>.*?)\n```", re.S)
LINK = re.compile(r"\]\((?P<target>[^)#]+)\)")


def text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_excerpts_are_the_samples_code_verbatim() -> None:
    excerpts = list(EXCERPT.finditer(text()))
    assert len(excerpts) >= 5
    languages = {Path(m["path"]).suffix for m in excerpts}
    assert {".py", ".ts", ".java"} <= languages
    for match in excerpts:
        source = (ROOT / match["path"]).read_text(encoding="utf-8")
        assert match["code"] in source, f"excerpt of {match['path']} differs from the file"


def test_links_resolve() -> None:
    targets = [m["target"] for m in LINK.finditer(text()) if "://" not in m["target"]]
    assert targets
    for target in targets:
        assert (GUIDE.parent / target).resolve().exists(), target


def test_every_event_type_and_status_kind_is_described() -> None:
    doc = text()
    for event_type in EventType:
        assert f"`{event_type.value}`" in doc
    rows = dict(re.findall(r"^\| `(\w+)` \| ?(yes|) ?\|", doc, re.M))
    assert set(rows) == {s.value for s in StatusName}
    assert {name for name, mark in rows.items() if mark} == {
        s.value for s in StatusName if s.terminal
    }


def test_the_life_of_a_dossier_is_a_sequence_diagram() -> None:
    assert "```mermaid\nsequenceDiagram" in text()


def test_the_files_section_names_every_file_type_and_refusal_code() -> None:
    from relais.domain.document_event import TYPES_FICHIER
    from relais.domain.file_refusals import FileCode

    doc = text()
    assert "## 7. Files" in doc
    for type_fichier in TYPES_FICHIER:
        assert f"`{type_fichier}`" in doc
    described = set(re.findall(r"^\| `(FILE_\w+)` \|", doc, re.M))
    assert described == {code.value for code in FileCode} - {FileCode.UNAVAILABLE.value}
