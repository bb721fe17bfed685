"""Mandatory fields of the cerfa object (CERFA 10103*14 boxes the OPCO cannot do without)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from relais.domain.cerfa import Adresse, Cerfa
from relais.domain.dates import age_on
from relais.domain.findings import Finding, error, join, warning
from relais.domain.rules.context import RuleContext, blank
from relais.domain.rules.dates import pratique_start
from relais.domain.rules.labels import label

REQUIRED_SECTIONS = (
    "employeur",
    "apprenti",
    "maitre1",
    "formation",
    "contrat",
    "organismeFormation",
)

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "employeur": (
        "denomination",
        "siret",
        "naf",
        "nombreDeSalaries",
        "codeIdcc",
        "typeEmployeur",
        "caisseComplementaire",
        "attestationEligibilite",
        "attestationPieces",
        "adresse",
    ),
    "apprenti": (
        "nom",
        "prenom",
        "sexe",
        "nationalite",
        "dateNaissance",
        "departementNaissance",
        "communeNaissance",
        "regimeSocial",
        "situationAvantContrat",
        "diplome",
        "derniereClasse",
        "diplomePrepare",
        "adresse",
    ),
    "maitre1": (
        "nom",
        "prenom",
        "dateNaissance",
        "emploiOccupe",
        "intituleDiplomeObtenu",
        "niveauDiplomeObtenu",
        "courriel",
    ),
    "maitre2": ("nom", "prenom", "dateNaissance"),
    "formation": (
        "typeDiplome",
        "intituleQualification",
        "dateDebutFormation",
        "dateFinFormation",
        "dureeFormation",
    ),
    "contrat": (
        "modeContractuel",
        "typeContratApp",
        "dateConclusion",
        "dateDebutContrat",
        "dateFinContrat",
        "lieuSignatureContrat",
        "dureeTravailHebdoHeures",
        "travailRisque",
        "avantageNature",
        "salaireEmbauche",
        "remunerationsAnnuelles",
    ),
    "organismeFormation": ("denomination", "siret", "uaiCfa", "adresse"),
}
SMC_AGE = 21
REMUNERATION_FIELDS = ("ordre", "dateDebut", "dateFin", "taux", "typeSalaire")
ADRESSE_OWNERS = (
    "employeur",
    "apprenti",
    "organismeFormation",
    "organismeFormationLieuFormationPrincipal",
)


def missing(path: str) -> Finding:
    return error("CHAMP_OBLIGATOIRE", path, f"Champ obligatoire non renseigné : {label(path)}.")


def required_fields(model: BaseModel | None, path: str, names: Iterable[str]) -> Iterator[Finding]:
    """A CHAMP_OBLIGATOIRE finding for each of ``names`` that is absent, null or blank."""
    if model is None:
        return
    for name in names:
        value = getattr(model, name, None)
        if blank(value) or (isinstance(value, list) and not value):
            yield missing(join(path, name))


def check_adresse(adresse: Adresse | None, path: str) -> Iterator[Finding]:
    """Code postal and commune, plus a street line in either shape (voie / adresse1 / label)."""
    if adresse is None:
        return
    yield from required_fields(adresse, path, ("codePostal", "commune"))
    if all(blank(v) for v in (adresse.voie, adresse.adresse1, adresse.label)):
        yield error(
            "ADRESSE_VOIE_MANQUANTE",
            join(path, "voie"),
            f"Adresse incomplète ({label(path)}) : renseignez la voie (ou adresse1).",
        )


def check_required(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    for section in REQUIRED_SECTIONS:
        if getattr(cerfa, section) is None:
            yield missing(section)
    for section, names in REQUIRED_FIELDS.items():
        yield from required_fields(getattr(cerfa, section), section, names)
    for owner in ADRESSE_OWNERS:
        block = getattr(cerfa, owner)
        if block is not None:
            yield from check_adresse(block.adresse, join(owner, "adresse"))
    if cerfa.apprenti is not None and cerfa.apprenti.responsableLegal is not None:
        rl_path = "apprenti.responsableLegal"
        yield from required_fields(cerfa.apprenti.responsableLegal, rl_path, ("nom", "prenom"))
        yield from check_adresse(cerfa.apprenti.responsableLegal.adresse, join(rl_path, "adresse"))
    if cerfa.formation is not None:
        yield from _certification(cerfa.formation.rncp, cerfa.formation.codeDiplome)
    yield from _conditional(cerfa)
    cfa = cerfa.organismeFormation
    if (
        cfa is not None
        and cfa.lieuFormationIdentique is False
        and cerfa.organismeFormationLieuFormationPrincipal is None
    ):
        yield error(
            "LIEU_FORMATION_OBLIGATOIRE",
            "organismeFormationLieuFormationPrincipal",
            "Le lieu de formation principal diffère du CFA responsable : renseignez-le.",
        )
    if cerfa.contrat is not None and cerfa.contrat.remunerationsAnnuelles:
        for i, period in enumerate(cerfa.contrat.remunerationsAnnuelles):
            yield from required_fields(
                period, join("contrat", "remunerationsAnnuelles", i), REMUNERATION_FIELDS
            )


BORN_ABROAD = frozenset({"99", "099"})


def _certification(rncp: str | None, cfd: str | None) -> Iterator[Finding]:
    """The form asks both codes; a title with no CFD exists (the form then clears it)."""
    if blank(rncp) and blank(cfd):
        yield error(
            "FORMATION_CERTIFICATION_MANQUANTE",
            "formation.rncp",
            "Renseignez le code RNCP et le code diplôme (CFD) de la formation.",
        )
    elif blank(rncp):
        yield missing("formation.rncp")
    elif blank(cfd):
        yield warning(
            "FORMATION_CODE_DIPLOME_ABSENT",
            "formation.codeDiplome",
            "Code diplôme (CFD) non renseigné : le formulaire d'État le demande, sauf pour une "
            "certification RNCP sans code diplôme.",
        )


def _conditional(cerfa: Cerfa) -> Iterator[Finding]:
    """Fields the state form requires under a condition."""
    c, a = cerfa.contrat, cerfa.apprenti
    if c is not None and pratique_start(cerfa) is None:
        yield missing("contrat.dateDebutFormationPratique")
    if (
        c is not None
        and a is not None
        and a.dateNaissance is not None
        and c.dateFinContrat is not None
        and age_on(a.dateNaissance, c.dateFinContrat) >= SMC_AGE
        and c.smc is None
    ):
        yield error(
            "CHAMP_OBLIGATOIRE",
            "contrat.smc",
            "Champ obligatoire non renseigné : salaire minimum conventionnel (SMC), demandé "
            "quand l'apprenti a 21 ans ou plus en fin de contrat.",
        )
    if a is not None and blank(a.nir):
        if (a.departementNaissance or "").strip() in BORN_ABROAD:
            yield warning(
                "APPRENTI_NIR_ABSENT_NE_ETRANGER",
                "apprenti.nir",
                "NIR non renseigné pour un apprenti né à l'étranger : à transmettre dès son "
                "attribution.",
            )
        else:
            yield missing("apprenti.nir")
