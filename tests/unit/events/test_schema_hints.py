"""The dossier schema says what the control rules require, and never more: a dossier the schema
refuses is one relais refuses too (mutations of generated valid dossiers, judged by both), and
what relais only warns about (spaces in a SIRET or NIR, a lower-case UAI letter, a NIR missing for
a birth abroad...) stays valid for the schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from relais.domain.codes import CODE_LABELS
from relais.domain.referentials import Referentials, default_schemas_dir, load_referentials
from relais.domain.rules.format import ENUMS
from relais.domain.rules.required import REQUIRED_FIELDS, REQUIRED_SECTIONS
from relais.domain.schema_hints import EXTRA_CODES
from relais.domain.validation import validate_cerfa
from relais.sampledata import Generator

TODAY = date(2026, 11, 27)
Cerfa = dict[str, Any]


@cache
def cerfa_validator() -> Draft202012Validator:
    path = default_schemas_dir() / "events" / "fr.cfa.dossier.submitted.v1.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    return Draft202012Validator({"$defs": doc["$defs"], "$ref": "#/$defs/Cerfa"})


@cache
def referentials() -> Referentials:
    return load_referentials()


def base_cerfa(seed: int = 3) -> Cerfa:
    cerfa: Cerfa = Generator(seed, TODAY).dossier().event["data"]["cerfa"]
    return cerfa


def schema_errors(cerfa: Cerfa) -> list[str]:
    return [f"{list(e.absolute_path)} {e.message}" for e in cerfa_validator().iter_errors(cerfa)]


def rule_errors(cerfa: Cerfa) -> list[str]:
    report = validate_cerfa(cerfa, today=TODAY, referentials=referentials())
    return [f"{f.code} {f.path}" for f in report.errors]


def test_every_coded_field_has_a_french_label_for_each_code() -> None:
    assert set(ENUMS) <= set(CODE_LABELS)
    for path, allowed in ENUMS.items():
        assert set(CODE_LABELS[path]) == set(allowed), path
    for labels in [*CODE_LABELS.values(), *EXTRA_CODES.values()]:
        assert all(isinstance(text, str) and text.strip() for text in labels.values())


def test_generated_dossiers_are_valid_for_both() -> None:
    gen = Generator(5, TODAY)
    for _ in range(15):
        cerfa = gen.dossier().event["data"]["cerfa"]
        assert rule_errors(cerfa) == []
        assert schema_errors(cerfa) == []


def _drop(path: str) -> Callable[[Cerfa], None]:
    *parents, leaf = path.split(".")

    def mutate(cerfa: Cerfa) -> None:
        node = cerfa
        for part in parents:
            node = node[part]
        node.pop(leaf, None)

    return mutate


def _set(path: str, value: object) -> Callable[[Cerfa], None]:
    *parents, leaf = path.split(".")

    def mutate(cerfa: Cerfa) -> None:
        node = cerfa
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value

    return mutate


REQUIRED_PATHS = [
    *REQUIRED_SECTIONS,
    *(f"{section}.{name}" for section, names in REQUIRED_FIELDS.items() for name in names),
    "formation.rncp",
    "employeur.adresse.codePostal",
    "apprenti.adresse.commune",
]
REQUIRED_PATHS.remove("maitre2.nom")  # the generated dossiers have no maitre2
REQUIRED_PATHS = [p for p in REQUIRED_PATHS if not p.startswith("maitre2.")]


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_a_missing_required_field_is_refused_by_both(path: str) -> None:
    cerfa = base_cerfa()
    _drop(path)(cerfa)
    assert schema_errors(cerfa), path
    assert rule_errors(cerfa), path


REFUSED_BY_BOTH: dict[str, Callable[[Cerfa], None]] = {
    "blank denomination": _set("employeur.denomination", "   "),
    "null siret": _set("employeur.siret", None),
    "13-digit siret": _set("employeur.siret", "1234567890123"),
    "uai without letter": _set("organismeFormation.uaiCfa", "12345678"),
    "nir too short": _set("apprenti.nir", "1990175"),
    "unknown typeContratApp": _set("contrat.typeContratApp", 12),
    "unknown sexe": _set("apprenti.sexe", "X"),
    "avenant without previous number": _set("contrat.typeContratApp", 36),
    "no street line": lambda c: [
        c["employeur"]["adresse"].pop(k, None) for k in ("voie", "adresse1", "label")
    ],
    "41 hours a week": _set("contrat.dureeTravailHebdoHeures", 41),
    "other site not given": _set("organismeFormation.lieuFormationIdentique", False),
    "bad postcode": _set("apprenti.adresse.codePostal", "7500"),
    "bad naf": _set("employeur.naf", "62A"),
    "bad ordre": lambda c: c["contrat"]["remunerationsAnnuelles"][0].update(ordre="5.1"),
    "no wage periods": _set("contrat.remunerationsAnnuelles", []),
    "long lieu de signature": _set("contrat.lieuSignatureContrat", "x" * 81),
}


@pytest.mark.parametrize("name", REFUSED_BY_BOTH)
def test_what_the_schema_refuses_the_rules_refuse(name: str) -> None:
    cerfa = base_cerfa()
    cerfa.pop("organismeFormationLieuFormationPrincipal", None)
    REFUSED_BY_BOTH[name](cerfa)
    assert schema_errors(cerfa), name
    assert rule_errors(cerfa), name


def _born_abroad(cerfa: Cerfa) -> None:
    cerfa["apprenti"]["departementNaissance"] = "099"
    cerfa["apprenti"].pop("nir")


ACCEPTED_BY_BOTH: dict[str, Callable[[Cerfa], None]] = {
    "siret with spaces": lambda c: c["employeur"].update(
        siret=" ".join(c["employeur"]["siret"][i : i + 3] for i in range(0, 14, 3))
    ),
    "lower-case uai letter": lambda c: c["organismeFormation"].update(
        uaiCfa=c["organismeFormation"]["uaiCfa"].lower()
    ),
    "nir with spaces": lambda c: c["apprenti"].update(nir=" ".join(c["apprenti"]["nir"])),
    "no nir for a birth abroad": _born_abroad,
    "no codeDiplome": _drop("formation.codeDiplome"),
    "unknown extra field": _set("employeur.champInconnu", 1),
    "null optional code": _set("contrat.typeDerogation", None),
    "blank optional text": _set("apprenti.nomUsage", " "),
    "wedof spelling of the practical start": lambda c: c["contrat"].update(
        dateFormationPratiqueEmployeur=c["contrat"].pop("dateDebutFormationPratique")
    ),
}


@pytest.mark.parametrize("name", ACCEPTED_BY_BOTH)
def test_warnings_only_cases_stay_valid_for_the_schema(name: str) -> None:
    cerfa = copy.deepcopy(base_cerfa())
    ACCEPTED_BY_BOTH[name](cerfa)
    assert rule_errors(cerfa) == [], name
    assert schema_errors(cerfa) == [], name
