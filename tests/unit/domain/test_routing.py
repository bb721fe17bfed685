from pathlib import Path

import pytest

from relais.domain.opco import OpcoCode
from relais.domain.referentials import IDCC_FILE, referential
from relais.domain.routing import IdccTable, normalize_idcc, parse_opco, resolve_opco, route_idcc

TABLE = IdccTable.from_csv_text("idcc,opco\n43,OPCOMMERCE\n1486,ATLAS\n3248,OPCO 2i\n1979,AKTO\n")


def test_repository_referential_loads_and_routes() -> None:
    table = IdccTable.load(referential(IDCC_FILE))
    assert len(table) > 300
    assert table.lookup("0043") is OpcoCode.OPCOMMERCE
    assert table.lookup("3248") is OpcoCode.OPCO2I
    assert table.lookup(1486) is OpcoCode.ATLAS


@pytest.mark.parametrize(
    ("raw", "norm"), [("43", "0043"), (43, "0043"), ("0043", "0043"), (" 7 ", "0007")]
)
def test_normalize_idcc(raw: object, norm: str) -> None:
    assert normalize_idcc(raw) == norm


@pytest.mark.parametrize("raw", ["", "12345", "4a", None, True, -1, 1.0])
def test_normalize_idcc_refuses(raw: object) -> None:
    assert normalize_idcc(raw) is None


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("AKTO", OpcoCode.AKTO),
        ("opco ep", OpcoCode.OPCOEP),
        ("L'Opcommerce", OpcoCode.OPCOMMERCE),
        ("OPCO Mobilités", OpcoCode.MOBILITES),
        ("OPCO Santé", OpcoCode.SANTE),
        ("Opco 2i", OpcoCode.OPCO2I),
        ("UNIFORMATION COHESION SOCIALE", OpcoCode.UNIFORMATION),
    ],
)
def test_parse_opco_labels(label: str, code: OpcoCode) -> None:
    assert parse_opco(label) is code


def test_route_by_idcc() -> None:
    assert route_idcc("43", TABLE) is OpcoCode.OPCOMMERCE
    assert route_idcc("9999", TABLE) is None
    assert route_idcc("1234", TABLE) is None


def test_resolve_known_idcc_without_findings() -> None:
    assert resolve_opco("1486", TABLE) == (OpcoCode.ATLAS, [])


@pytest.mark.parametrize(
    ("idcc", "code"),
    [
        ("9999", "EMPLOYEUR_IDCC_SANS_OPCO"),
        ("9998", "EMPLOYEUR_IDCC_SANS_OPCO"),
        ("1234", "EMPLOYEUR_IDCC_INCONNU"),
    ],
)
def test_resolve_without_explicit_opco_is_an_error_on_the_idcc(idcc: str, code: str) -> None:
    opco, findings = resolve_opco(idcc, TABLE)
    assert opco is None
    assert [(f.code, f.severity, f.path) for f in findings] == [
        (code, "error", "employeur.codeIdcc")
    ]


@pytest.mark.parametrize("idcc", ["9999", "9998", "1234", None])
def test_explicit_opco_wins(idcc: str | None) -> None:
    opco, findings = resolve_opco(idcc, TABLE, "Uniformation")
    assert opco is OpcoCode.UNIFORMATION
    assert all(f.severity == "warning" for f in findings)


def test_explicit_opco_differing_from_table_is_a_warning() -> None:
    opco, findings = resolve_opco("43", TABLE, "AKTO")
    assert opco is OpcoCode.AKTO
    assert [(f.code, f.severity) for f in findings] == [("OPCO_DIFFERENT_IDCC", "warning")]


def test_unknown_explicit_opco_is_an_error() -> None:
    opco, findings = resolve_opco("43", TABLE, "OPCO DU FUTUR")
    assert opco is None
    assert [(f.code, f.path) for f in findings] == [("OPCO_INCONNU", "opco")]


def test_table_is_replaceable_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "idcc.csv"
    path.write_text("idcc,opco\n0043,AKTO\n", encoding="utf-8")
    assert IdccTable.load(path).lookup(43) is OpcoCode.AKTO


@pytest.mark.parametrize(
    "text", ["code,opco\n43,AKTO\n", "idcc,opco\n43,NOPE\n", "idcc,opco\nxx,AKTO\n"]
)
def test_broken_table_is_refused_with_its_line(text: str) -> None:
    with pytest.raises(ValueError):
        IdccTable.from_csv_text(text)
