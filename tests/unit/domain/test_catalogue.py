"""Every code the rules can emit is in the catalogue, with the severity the rule uses."""

import ast
from pathlib import Path

from relais.domain.rules.catalogue import CATALOGUE, catalogue_json

DOMAIN = Path(__file__).resolve().parents[3] / "services" / "relais" / "domain"
SOURCES = [*(DOMAIN / "rules").glob("*.py"), DOMAIN / "routing.py", DOMAIN / "validation.py"]

# f-string codes and the values their placeholder takes
EXPANSIONS = {
    "f'{prefix}_SIRET_FORMAT'": ["EMPLOYEUR", "CFA", "LIEU_FORMATION"],
    "f'{prefix}_SIRET_CLE'": ["EMPLOYEUR", "CFA", "LIEU_FORMATION"],
    "f'{prefix}_SIRET_ESPACES'": ["EMPLOYEUR", "CFA", "LIEU_FORMATION"],
    "f'{prefix}_SIREN_CLE'": ["EMPLOYEUR", "CFA", "LIEU_FORMATION"],
    "f'{prefix}_UAI_FORMAT'": ["CFA", "LIEU_FORMATION"],
    "f'{prefix}_UAI_CLE'": ["CFA", "LIEU_FORMATION"],
    "f'{prefix}_UAI_MINUSCULE'": ["CFA", "LIEU_FORMATION"],
    "f'{PREFIX[section]}_NIR_INVALIDE'": ["MAITRE1", "MAITRE2"],
    "f'CONTRAT_{_snake(name)}_FORMAT'": ["NO_CONTRAT", "NUMERO_CONTRAT_PRECEDENT"],
}


def emitted() -> set[tuple[str, str]]:
    """(code or f-string source, "error"|"warning") of every error(...)/warning(...) call."""
    out: set[tuple[str, str]] = set()
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("error", "warning")
                and node.args
            ):
                arg = node.args[0]
                code = arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg)
                out.add((str(code), node.func.id))
    return out


def test_every_emitted_code_is_catalogued_with_its_severity() -> None:
    found = emitted()
    assert len(found) > 100
    templates = {code for code, _ in found if code.startswith("f'")}
    assert templates == set(EXPANSIONS)
    for code, severity in found:
        if code in EXPANSIONS:
            _, _, rest = code[2:-1].partition("}")
            names = [f"{code[2 : code.index('{')]}{value}{rest}" for value in EXPANSIONS[code]]
        else:
            names = [code]
        for name in names:
            assert name in CATALOGUE, name
            assert CATALOGUE[name].severity == severity, name


def test_each_code_has_one_severity() -> None:
    by_code: dict[str, set[str]] = {}
    for code, severity in emitted():
        by_code.setdefault(code, set()).add(severity)
    assert {code: s for code, s in by_code.items() if len(s) > 1} == {}


def test_catalogue_json_is_sorted_and_complete() -> None:
    rows = catalogue_json()
    assert [r["code"] for r in rows] == sorted(CATALOGUE)
    assert all(r["severity"] in ("error", "warning") and r["summary"] for r in rows)
