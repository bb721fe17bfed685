"""The conformance table: every rule has a reference and a verdict against the state form."""

from pathlib import Path

from relais import contracts
from relais.conformance_doc import markdown, usages
from relais.domain.rules.catalogue import CATALOGUE
from relais.domain.rules.conformance import CONFORMANCE, LENIENT, STRICTER, VERDICTS, rows
from relais.entrypoints.cli import main

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def test_every_catalogued_code_has_a_reference_and_a_verdict() -> None:
    assert set(CONFORMANCE) == set(CATALOGUE)
    for code, conf in CONFORMANCE.items():
        assert conf.reference.strip(), code
        assert conf.verdict in VERDICTS, code
        if conf.verdict in (STRICTER, LENIENT):
            assert conf.why.strip(), f"{code}: a difference from the form needs its reason"


def test_every_rule_code_is_found_in_the_rules_with_a_path_and_a_message() -> None:
    used = usages()
    structural = {"TYPE_INVALIDE", "DATE_INVALIDE"}  # built by validation.type_finding
    for code in set(CATALOGUE) - structural:
        _paths, messages = used[code]
        assert messages, code
    assert used["APPRENTI_AGE_MINIMUM"][0] == ["apprenti.dateNaissance"]


def test_the_table_lists_every_code_once() -> None:
    text = markdown()
    for code in CATALOGUE:
        assert text.count(f"| `{code}` |") == 1, code
    assert len(rows()) == len(CATALOGUE)


def test_the_committed_table_is_the_generated_one() -> None:
    (source,) = [s for s in contracts.SOURCES if s.name == "conformance"]
    assert contracts.check(SCHEMAS, [source]) == [], "run `relais schemas write`"


def test_relais_rules_markdown_prints_the_table(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        main(["rules", "--markdown"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out == markdown()
