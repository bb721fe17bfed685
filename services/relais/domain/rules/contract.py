"""Contract type, succession, avenant and employer rules (convergence-api.md 3.4)."""

from __future__ import annotations

from collections.abc import Iterator

from relais.domain.cerfa import Cerfa
from relais.domain.findings import Finding, error, warning
from relais.domain.rules.context import RuleContext, blank

SUCCESSIONS = frozenset({21, 22, 23})
AVENANTS = frozenset(range(31, 39))
PREVIOUS_REQUIRED = frozenset(range(31, 38))
"""The state form requires the previous contract's number for 31-37 only."""
PREVIOUS_ASKED = SUCCESSIONS | {38}
"""It asks (without requiring) for 21-23 and 38."""
PUBLIC_EMPLOYERS = frozenset(range(21, 30))
EPIC = 30
MAX_AVANTAGE = 10000


def check_contract(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    c, e = cerfa.contrat, cerfa.employeur
    if c is not None:
        kind = c.typeContratApp
        if blank(c.numeroContratPrecedent):
            yield from _previous_number(kind)
        if kind in AVENANTS and c.dateEffetAvenant is None:
            yield error(
                "CONTRAT_DATE_EFFET_AVENANT_OBLIGATOIRE",
                "contrat.dateEffetAvenant",
                "Pour un avenant, la date d'effet de l'avenant est obligatoire.",
            )
        if kind is not None and kind not in AVENANTS and c.dateEffetAvenant is not None:
            yield warning(
                "CONTRAT_DATE_EFFET_AVENANT_INATTENDUE",
                "contrat.dateEffetAvenant",
                "Une date d'effet d'avenant est renseignée alors que le contrat n'est pas un "
                "avenant : elle sera ignorée par l'OPCO.",
            )
        if kind == 11 and not blank(c.numeroContratPrecedent):
            yield warning(
                "CONTRAT_NUMERO_PRECEDENT_INATTENDU",
                "contrat.numeroContratPrecedent",
                "Un numéro de contrat précédent est renseigné pour un premier contrat.",
            )
        if c.avantageNature is False and (
            c.avantageNourriture is not None
            or c.avantageLogement is not None
            or c.autreAvantageEnNature
        ):
            yield error(
                "CONTRAT_AVANTAGES_NON_DECLARES",
                "contrat.avantageNature",
                "Des avantages en nature sont chiffrés alors que le contrat déclare n'en "
                "prévoir aucun.",
            )
        for name in ("avantageNourriture", "avantageLogement"):
            value = getattr(c, name)
            if value is not None and value > MAX_AVANTAGE:
                yield error(
                    "CONTRAT_AVANTAGE_BORNES",
                    f"contrat.{name}",
                    "Le montant d'un avantage en nature ne peut dépasser 10 000 €.",
                )
    if e is not None:
        if e.typeEmployeur in PUBLIC_EMPLOYERS:
            yield error(
                "EMPLOYEUR_PUBLIC",
                "employeur.typeEmployeur",
                "Employeur public : le contrat relève de CELIA / AGECAP, pas d'un OPCO.",
            )
        elif e.typeEmployeur == EPIC:
            yield warning(
                "EMPLOYEUR_EPIC",
                "employeur.typeEmployeur",
                "EPIC : vérifiez que le financement relève bien de l'OPCO (personnel de droit "
                "privé).",
            )
        for name in ("attestationEligibilite", "attestationPieces"):
            if getattr(e, name) is False:
                yield error(
                    "EMPLOYEUR_ATTESTATION_NON_COCHEE",
                    f"employeur.{name}",
                    "L'employeur doit cocher cette attestation pour que le dossier soit recevable.",
                )


def _previous_number(kind: int | None) -> Iterator[Finding]:
    """The state form requires the previous contract's number for 31-37, asks it for 21-23, 38."""
    if kind in PREVIOUS_REQUIRED:
        yield error(
            "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE",
            "contrat.numeroContratPrecedent",
            "Pour un avenant, le numéro du contrat précédent (DECA) est obligatoire.",
        )
    elif kind in PREVIOUS_ASKED:
        yield warning(
            "CONTRAT_NUMERO_PRECEDENT_CONSEILLE",
            "contrat.numeroContratPrecedent",
            "Le numéro du contrat précédent (DECA) est demandé pour ce type de contrat : "
            "renseignez-le s'il est connu.",
        )
