"""The ``cerfa`` object of a contract dossier (CERFA 10103), in the standard's own field names.

Field names, nesting and wire formats follow convergence-api.md 2.1-2.8. Every field is optional
in the model: what is *required* is a control rule (``relais.domain.rules``), so that a dossier with
ten problems gets ten findings at once instead of failing on the first. Unknown fields are kept
(``extra="allow"``): an OPCO may know fields this model does not, and relais forwards them.

Codes defined as numbers in the standard (``typeEmployeur``, ``typeContratApp``, diploma codes...)
are ints; a string of digits (as WEDOF sends) is accepted and sent back as a number. Dates accept
the lenient wire forms and are sent as ``YYYY-MM-DDT00:00:00+00:00`` (``relais.domain.dates``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from relais.domain.dates import WireDate

MAX_CODE = 10**9
"""No code, count or duration of the standard comes near this; bigger numbers are input errors
(and would overflow float arithmetic in the rules)."""


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise PydanticCustomError("nombre_attendu", "nombre attendu, pas un booléen")
    return value


def _code(value: object) -> object:
    value = _not_bool(value)
    if isinstance(value, int) and abs(value) > MAX_CODE:
        raise PydanticCustomError("nombre_trop_grand", "nombre trop grand")
    return value


def _digits_to_str(value: object) -> object:
    """Accept a JSON number where the standard has a string of digits (department, IDCC)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _idcc(value: object) -> object:
    """``43`` or ``"43"`` -> ``"0043"``: the standard writes IDCC zero-padded to 4 characters."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return f"{value:04d}"
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 4:
        return value.strip().zfill(4)
    return value


def _number_to_str(value: object) -> object:
    """``ordre`` is a string (``"1.2"``); a JSON number ``1.2`` is read as that string."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


ETAT_ALIASES = {"RUTPURE": "RUPTURE", "RUPTU": "RUPTURE"}
DOSSIER_ETATS = (
    "TRANSMIS",
    "EN_COURS_INSTRUCTION",
    "ENGAGE",
    "ANNULE",
    "REFUSE",
    "RUPTURE",
    "SOLDE",
)


def normalize_etat(value: object) -> object:
    """The 2021 spec copy spells ``RUTPURE``, AKTO's client ``RUPTU``: all three mean RUPTURE."""
    if isinstance(value, str):
        upper = value.strip().upper()
        return ETAT_ALIASES.get(upper, upper)
    return value


Code = Annotated[int, BeforeValidator(_code)]
"""A numeric code of the standard (enum values are checked by the rules, not here)."""
Amount = Annotated[float, BeforeValidator(_not_bool)]
"""An amount in euros or a rate, a JSON number."""
Digits = Annotated[str, BeforeValidator(_digits_to_str)]
Idcc = Annotated[str, BeforeValidator(_idcc)]
Etat = Annotated[str, BeforeValidator(normalize_etat)]


class Section(BaseModel):
    """Base of every payload model: unknown fields kept, no NaN/infinity, no bool-as-number."""

    model_config = ConfigDict(
        extra="allow",
        allow_inf_nan=False,
        validate_default=False,
        ser_json_inf_nan="null",
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: standard field names, dates at midnight UTC, fields as given."""
        return self.model_dump(mode="json", exclude_unset=True)


class Adresse(Section):
    """2.8: structured (numero/voie/...) or flat (adresse1/adresse2) shape; both accepted."""

    numero: Code | None = None
    repetitionVoie: str | None = None
    voie: str | None = None
    complement: str | None = None
    label: str | None = None
    codePostal: Digits | None = None
    commune: str | None = None
    adresse1: str | None = None
    adresse2: str | None = None


class ResponsableLegal(Section):
    nom: str | None = None
    prenom: str | None = None
    courriel: str | None = None
    telephone: str | None = None
    adresse: Adresse | None = None


class Employeur(Section):
    """2.2."""

    denomination: str | None = None
    raison_sociale: str | None = None
    siret: str | None = None
    naf: str | None = None
    nombreDeSalaries: Code | None = None
    codeIdcc: Idcc | None = None
    libelleIdcc: str | None = None
    telephone: str | None = None
    courriel: str | None = None
    adresse: Adresse | None = None
    nom: str | None = None
    prenom: str | None = None
    typeEmployeur: Code | None = None
    employeurSpecifique: Code | None = None
    caisseComplementaire: str | None = None
    regimeSpecifique: bool | None = None
    attestationEligibilite: bool | None = None
    attestationPieces: bool | None = None
    privePublic: bool | None = None


class Apprenti(Section):
    """2.3."""

    nom: str | None = None
    nomUsage: str | None = None
    prenom: str | None = None
    sexe: str | None = None
    nationalite: Code | None = None
    dateNaissance: WireDate | None = None
    departementNaissance: Digits | None = None
    communeNaissance: str | None = None
    nir: str | None = None
    regimeSocial: Code | None = None
    handicap: bool | None = None
    droitsRqthExtensionBOE: bool | None = None
    droitsRqthEquivalenceJeune: bool | None = None
    situationAvantContrat: Code | None = None
    diplome: Code | None = None
    derniereClasse: Code | None = None
    diplomePrepare: Code | None = None
    intituleDiplomePrepare: str | None = None
    telephone: str | None = None
    courriel: str | None = None
    adresse: Adresse | None = None
    responsableLegal: ResponsableLegal | None = None
    inscriptionSportifDeHautNiveau: bool | None = None
    projetCreationRepriseEntreprise: bool | None = None
    apprentiMineur: bool | None = None
    apprentiMineurNonEmancipe: bool | None = None


class Maitre(Section):
    """2.4: ``maitre1`` (required) and ``maitre2`` (optional)."""

    nom: str | None = None
    prenom: str | None = None
    dateNaissance: WireDate | None = None
    courriel: str | None = None
    emploiOccupe: str | None = None
    intituleDiplomeObtenu: str | None = None
    niveauDiplomeObtenu: Code | None = None
    nir: str | None = None


class RemunerationAnnuelle(Section):
    """2.5.3: one period of the wage schedule (``ordre`` = year.period, e.g. ``"2.1"``)."""

    ordre: Annotated[str, BeforeValidator(_number_to_str)] | None = None
    dateDebut: WireDate | None = None
    dateFin: WireDate | None = None
    taux: Amount | None = None
    typeSalaire: str | None = None


class Contrat(Section):
    """2.5."""

    modeContractuel: Code | None = None
    typeContratApp: Code | None = None
    typeDerogation: Code | None = None
    numeroContratPrecedent: str | None = None
    noContrat: str | None = None
    noAvenant: str | None = None
    dateConclusion: WireDate | None = None
    dateDebutContrat: WireDate | None = None
    dateDebutFormationPratique: WireDate | None = None
    dateFinContrat: WireDate | None = None
    dateEffetAvenant: WireDate | None = None
    dateRupture: WireDate | None = None
    lieuSignatureContrat: str | None = None
    dureeTravailHebdoHeures: Code | None = None
    dureeTravailHebdoMinutes: Code | None = None
    travailRisque: bool | None = None
    salaireEmbauche: Amount | None = None
    avantageNature: bool | None = None
    avantageNourriture: Amount | None = None
    avantageLogement: Amount | None = None
    autreAvantageEnNature: bool | None = None
    remunerationsAnnuelles: list[RemunerationAnnuelle] | None = None
    caisseRetraiteSupplementaire: str | None = None
    smc: Amount | None = None


class Formation(Section):
    """2.6."""

    rncp: str | None = None
    codeDiplome: str | None = None
    typeDiplome: Code | None = None
    intituleQualification: str | None = None
    dateDebutFormation: WireDate | None = None
    dateFinFormation: WireDate | None = None
    dureeFormation: Code | None = None
    nombreHeuresEnDistanciel: Code | None = None
    dateObtentionDiplome: WireDate | None = None


class OrganismeFormation(Section):
    """2.7: the responsible CFA, and (same fields) the main training site."""

    denomination: str | None = None
    formationInterne: bool | None = None
    siret: str | None = None
    uaiCfa: str | None = None
    visaCfa: bool | None = None
    adresse: Adresse | None = None
    lieuFormationIdentique: bool | None = None


class Cerfa(Section):
    """2.1: the dossier body is ``{"cerfa": <this>}``."""

    employeur: Employeur | None = None
    apprenti: Apprenti | None = None
    maitre1: Maitre | None = None
    maitre2: Maitre | None = None
    formation: Formation | None = None
    contrat: Contrat | None = None
    organismeFormation: OrganismeFormation | None = None
    organismeFormationLieuFormationPrincipal: OrganismeFormation | None = None
    versionCERFA: str | None = None
    CERFASignatureProbante: bool | None = None
    numeroExterne: str | None = None
    numeroInterne: str | None = None
    numeroDeca: str | None = None
    etat: Etat | None = None
    commentaireEtat: str | None = None


class DossierBody(Section):
    """The request body of ``POST /v1|v2/dossiers``."""

    cerfa: Cerfa
