"""Age rules (convergence-api.md 3.2). Ages are completed years (date-fns semantics).

Upper limit (C. trav. L6222-1): "29 ans révolus" at the start, so 30 on the first day is too old.
It is lifted only in the legal cases of L6222-2 the CERFA carries: a recognised disability
(``handicap``), a high-level athlete (``inscriptionSportifDeHautNiveau``), a business creation or
takeover project (``projetCreationRepriseEntreprise``), and a successor contract (``typeContratApp``
21-23) up to 35 years old, within one year of the previous contract (not on the CERFA: a warning).
Derogation 12 alone lifts nothing. The state form only refuses above 30 (its reading: accepted at
30), so relais is stricter there, by the law.
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
SUCCESSION_MAX_AGE = 35
SUCCESSIONS = frozenset({21, 22, 23})
MAJORITY = 18
DEROGATIONS_UNDER_16 = frozenset({11, 50})


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
        yield from _upper_limit(cerfa, age)
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


def _upper_limit(cerfa: Cerfa, age: int) -> Iterator[Finding]:
    a, c = cerfa.apprenti, cerfa.contrat
    assert a is not None and c is not None
    exempt = bool(
        a.handicap or a.inscriptionSportifDeHautNiveau or a.projetCreationRepriseEntreprise
    )
    successor = c.typeContratApp in SUCCESSIONS and age <= SUCCESSION_MAX_AGE
    if age <= LEGAL_MAX_AGE or exempt:
        return
    if successor:
        yield warning(
            "APPRENTI_AGE_SUCCESSION_UN_AN",
            "contrat.typeContratApp",
            "Apprenti de plus de 29 ans révolus admis pour un contrat succédant à un autre "
            "(jusqu'à 35 ans) : le précédent contrat doit avoir pris fin moins d'un an avant.",
        )
        return
    yield error(
        "APPRENTI_AGE_MAXIMUM",
        "apprenti.dateNaissance",
        "L'apprenti a plus de 29 ans révolus au début du contrat, sans reconnaissance de "
        "handicap, statut de sportif de haut niveau, projet de création ou de reprise "
        "d'entreprise, ni contrat succédant à un autre (jusqu'à 35 ans).",
    )
    if c.typeDerogation == 12:
        yield error(
            "CONTRAT_DEROGATION_12_SANS_CAS",
            "contrat.typeDerogation",
            "La dérogation 12 (plus de 29 ans) ne vaut que dans les cas prévus par la loi : "
            "handicap, sportif de haut niveau, création ou reprise d'entreprise, contrat "
            "succédant à un autre (jusqu'à 35 ans). Aucun n'est déclaré.",
        )
