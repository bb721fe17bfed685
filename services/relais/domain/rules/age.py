"""Age rules (convergence-api.md 3.2). Ages are completed years (date-fns semantics).

Upper limit: the law says 29 years at the start (derogation 12 for its exceptions); the state form
only refuses above 30 when none of handicap / sportif de haut niveau / projet de création-reprise
applies. Lenient wins: above 30 is an error, exactly 30 a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from relais.domain.cerfa import Cerfa, Maitre
from relais.domain.dates import age_on, birthday
from relais.domain.findings import Finding, error, warning
from relais.domain.rules.context import RuleContext

MIN_AGE = 15
DEROGATION_AGE = 16
LEGAL_MAX_AGE = 29
FORM_MAX_AGE = 30
MAJORITY = 18
DEROGATIONS_UNDER_16 = frozenset({11, 50})
DEROGATIONS_OVER_29 = frozenset({12, 50})


def check_age(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    a, c = cerfa.apprenti, cerfa.contrat
    dob = a.dateNaissance if a is not None else None
    if a is not None and dob is not None and dob > ctx.today:
        yield error(
            "APPRENTI_DATE_NAISSANCE_FUTURE",
            "apprenti.dateNaissance",
            "La date de naissance de l'apprenti est dans le futur.",
        )
        return
    start = c.dateDebutContrat if c is not None else None
    conclusion = (c.dateConclusion if c is not None else None) or start
    derogation = c.typeDerogation if c is not None else None
    if a is not None and dob is not None and start is not None:
        age = age_on(dob, start)
        if age < MIN_AGE:
            yield error(
                "APPRENTI_AGE_MINIMUM",
                "apprenti.dateNaissance",
                "L'apprenti doit avoir au moins 15 ans au début d'exécution du contrat.",
            )
        elif age < DEROGATION_AGE and derogation not in DEROGATIONS_UNDER_16:
            yield error(
                "APPRENTI_MOINS_16_SANS_DEROGATION",
                "contrat.typeDerogation",
                "L'apprenti a moins de 16 ans au début du contrat : la dérogation 11 "
                "(âge inférieur à 16 ans) est requise.",
            )
        if derogation == 11 and start > birthday(dob, DEROGATION_AGE):
            yield error(
                "CONTRAT_DEROGATION_11_AGE",
                "contrat.typeDerogation",
                "Dérogation 11 impossible : l'apprenti a plus de 16 ans au début du contrat.",
            )
        if derogation == 12 and start < birthday(dob, LEGAL_MAX_AGE):
            yield error(
                "CONTRAT_DEROGATION_12_AGE",
                "contrat.typeDerogation",
                "Dérogation 12 impossible : l'apprenti a moins de 29 ans au début du contrat.",
            )
        exempt = bool(
            a.handicap or a.inscriptionSportifDeHautNiveau or a.projetCreationRepriseEntreprise
        )
        if not exempt and derogation not in DEROGATIONS_OVER_29:
            if age > FORM_MAX_AGE:
                yield error(
                    "APPRENTI_AGE_MAXIMUM",
                    "apprenti.dateNaissance",
                    "L'apprenti dépasse l'âge limite au début du contrat, sans reconnaissance de "
                    "handicap, statut de sportif de haut niveau, projet de création ou de reprise "
                    "d'entreprise, ni dérogation 12.",
                )
            elif age > LEGAL_MAX_AGE:
                yield warning(
                    "APPRENTI_AGE_LIMITE_LEGALE",
                    "apprenti.dateNaissance",
                    "L'apprenti a plus de 29 ans révolus au début du contrat : vérifiez qu'une "
                    "exception légale s'applique (dérogation 12).",
                )
        if a.nationalite == 3 and age < MAJORITY:
            yield warning(
                "APPRENTI_MINEUR_HORS_UE",
                "apprenti.nationalite",
                "Apprenti mineur hors Union européenne : vérifiez l'autorisation de travail "
                "(et la prise en charge ASE le cas échéant).",
            )
    if a is not None and dob is not None and conclusion is not None:
        minor = age_on(dob, conclusion) < MAJORITY
        emancipated = a.apprentiMineurNonEmancipe is False
        if minor and not emancipated and a.responsableLegal is None:
            yield error(
                "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE",
                "apprenti.responsableLegal",
                "L'apprenti est mineur non émancipé à la conclusion du contrat : le représentant "
                "légal doit être renseigné.",
            )
    # The state form checks the maître's age at the start of execution (maitres.control.ts).
    reference = start or conclusion or ctx.today
    for section in ("maitre1", "maitre2"):
        maitre = getattr(cerfa, section)
        if (
            isinstance(maitre, Maitre)
            and maitre.dateNaissance is not None
            and age_on(maitre.dateNaissance, reference) < MAJORITY
        ):
            yield error(
                "MAITRE_AGE_MINIMUM",
                f"{section}.dateNaissance",
                "Le maître d'apprentissage doit avoir au moins 18 ans au début d'exécution du "
                "contrat.",
            )
