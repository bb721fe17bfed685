"""Free text and unknown keys of the cerfa object.

Every string field of the standard has a maximum length: the notes' or the state form's where
they give one (``format.MAX_LENGTHS``), ``DEFAULT_TEXT_MAX`` otherwise (DECA's columns are no
longer). A key the standard does not know is a warning (``CHAMP_INCONNU``): relais never forwards
it (the wire body is built from the validated model, ``relais.domain.wire``). Keys that are known
wire spellings of a standard field (``WIRE_ALIASES``) are read, not warned about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from relais.domain.dates import has_time_of_day
from relais.domain.findings import Finding, error, join, warning
from relais.domain.rules.context import RuleContext
from relais.domain.rules.format import LENGTH_IN_FORMAT, MAX_LENGTHS
from relais.domain.rules.labels import cap, label

DEFAULT_TEXT_MAX = 255
MAX_UNKNOWN_REPORTED = 20
WIRE_ALIASES = frozenset(
    {
        "contrat.dateFormationPratiqueEmployeur",  # WEDOF / ERP-WIRE for dateDebutFormationPratique
        "CERFAsignatureProbante",  # ERP-WIRE spelling of CERFASignatureProbante
    }
)
FORMATTED_LEAVES = frozenset(
    {
        "siret",
        "uaiCfa",
        "nir",
        "telephone",
        "courriel",
        "codePostal",
        "naf",
        "ordre",
        "departementNaissance",
        "noContrat",
        "numeroContratPrecedent",
        "codeIdcc",
        "rncp",
        "codeDiplome",
    }
)
"""Fields whose format rule refuses any value that long already: one problem, one finding."""
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,80}$")
_INDEX = re.compile(r"\[\d+\]")


def generic(path: str) -> str:
    """``contrat.remunerationsAnnuelles[2].ordre`` -> ``contrat.remunerationsAnnuelles.ordre``."""
    return _INDEX.sub("", path)


def check_text(model: BaseModel, ctx: RuleContext) -> Iterator[Finding]:
    unknown: list[str] = []
    for path, value in _walk(model, "", unknown):
        key = generic(path)
        if key in LENGTH_IN_FORMAT or key.rsplit(".", 1)[-1] in FORMATTED_LEAVES:
            continue
        limit = MAX_LENGTHS.get(key, DEFAULT_TEXT_MAX)
        if len(value) > limit:
            yield error("LONGUEUR_MAX", path, f"{cap(label(path))} : {limit} caractères au plus.")
    for path in unknown[:MAX_UNKNOWN_REPORTED]:
        yield warning(
            "CHAMP_INCONNU",
            path,
            "Champ inconnu de la norme : il est ignoré et n'est pas transmis à l'OPCO.",
        )


def _walk(model: BaseModel, base: str, unknown: list[str]) -> Iterator[tuple[str, str]]:
    """(path, text) of every string field of the standard; unknown keys collected on the way."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = join(base, name)
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, BaseModel):
            yield from _walk(value, path, unknown)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _walk(item, join(path, i), unknown)
    for key in model.model_extra or {}:
        path = join(base, key) if _PLAIN_KEY.match(str(key)) else base  # never echo a raw key
        if generic(path) not in WIRE_ALIASES:
            unknown.append(path)


MAX_SCAN_DEPTH = 8
MAX_TIME_WARNINGS = 20


def time_of_day_findings(data: object) -> list[Finding]:
    """A warning per date written with a time that is not midnight (read in Europe/Paris).

    ``data`` is the decoded JSON as received (the models keep the day only). Bounded: at most
    ``MAX_SCAN_DEPTH`` levels and ``MAX_TIME_WARNINGS`` findings.
    """
    out: list[Finding] = []
    _scan_times(data, "", 0, out)
    return out


def _scan_times(value: object, path: str, depth: int, out: list[Finding]) -> None:
    if depth > MAX_SCAN_DEPTH or len(out) >= MAX_TIME_WARNINGS:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and _PLAIN_KEY.match(key):
                _scan_times(item, join(path, key), depth + 1, out)
    elif isinstance(value, list):
        for i, item in enumerate(value[:100]):
            _scan_times(item, join(path, i), depth + 1, out)
    elif has_time_of_day(value):
        out.append(
            warning(
                "DATE_HEURE_NON_MINUIT",
                path,
                f"{cap(label(path))} : date transmise avec une heure ; elle est lue comme le jour "
                "correspondant à Paris. Envoyez une date sans heure (AAAA-MM-JJ).",
            )
        )
