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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
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
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) <= 4:  # ASCII digits only
        return text.zfill(4)
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
    """A postal address, structured (numero/voie/...) or flat (adresse1/adresse2): both accepted;
    codePostal, commune and a street line (voie, adresse1 or label) are required."""

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
    """The legal representative of an apprentice who is a non-emancipated minor."""

    nom: str | None = None
    prenom: str | None = None
    courriel: str | None = None
    telephone: str | None = None
    adresse: Adresse | None = None


class Employeur(Section):
    """The employer (the CERFA's "employeur" box)."""

    denomination: str | None = None
    raison_sociale: str | None = None
    siret: str | None = Field(
        default=None, description="14 digits, Luhn key (La Poste: digit sum multiple of 5)"
    )
    naf: str | None = Field(
        default=None, description="NAF/APE code: 4 digits + letter, e.g. 6202A (a dot is accepted)"
    )
    nombreDeSalaries: Code | None = None
    codeIdcc: Idcc | None = Field(
        default=None,
        description=(
            "IDCC of the collective agreement, 4 characters zero-padded (9999 none, 9998 under "
            "negotiation); routes to the OPCO"
        ),
    )
    libelleIdcc: str | None = None
    telephone: str | None = None
    courriel: str | None = None
    adresse: Adresse | None = None
    nom: str | None = None
    prenom: str | None = None
    typeEmployeur: Code | None = Field(
        default=None,
        description=(
            "11-16 private (11 métiers, 12 RCS, 13 MSA, 14 libéral, 15 association, "
            "16 other), 21-29 public, 30 EPIC"
        ),
    )
    employeurSpecifique: Code | None = Field(
        default=None,
        description=(
            "0 none, 1 temporary work agency, 2 employers' group, 3 seasonal, "
            "4 family apprenticeship"
        ),
    )
    caisseComplementaire: str | None = None
    regimeSpecifique: bool | None = None
    attestationEligibilite: bool | None = None
    attestationPieces: bool | None = None
    privePublic: bool | None = None


class Apprenti(Section):
    """The apprentice (the CERFA's "apprenti" box)."""

    nom: str | None = None
    nomUsage: str | None = None
    prenom: str | None = None
    sexe: str | None = Field(default=None, description='"M" or "F"')
    nationalite: Code | None = Field(default=None, description="1 French, 2 EU, 3 non-EU")
    dateNaissance: WireDate | None = None
    departementNaissance: Digits | None = Field(
        default=None, description="1-3 characters: 75, 075, 2A, 2B, 971..., 099 for a birth abroad"
    )
    communeNaissance: str | None = None
    nir: str | None = Field(
        default=None,
        description=(
            "13 characters (+ 2-digit key): sex, yy, mm, department (2A/2B), commune, order"
        ),
    )
    regimeSocial: Code | None = Field(default=None, description="1 MSA, 2 URSSAF")
    handicap: bool | None = None
    droitsRqthExtensionBOE: bool | None = None
    droitsRqthEquivalenceJeune: bool | None = None
    situationAvantContrat: Code | None = Field(
        default=None, description="situation of the apprentice before this contract"
    )
    diplome: Code | None = Field(
        default=None, description="highest diploma obtained (diploma codes)"
    )
    derniereClasse: Code | None = Field(
        default=None, description="1, 11, 12, 21, 22, 31, 32, 40, 41, 42"
    )
    diplomePrepare: Code | None = Field(
        default=None, description="last diploma prepared (diploma codes)"
    )
    intituleDiplomePrepare: str | None = None
    telephone: str | None = None
    courriel: str | None = None
    adresse: Adresse | None = None
    responsableLegal: ResponsableLegal | None = Field(
        default=None, description="required for a non-emancipated minor at conclusion"
    )
    inscriptionSportifDeHautNiveau: bool | None = None
    projetCreationRepriseEntreprise: bool | None = None
    apprentiMineur: bool | None = None
    apprentiMineurNonEmancipe: bool | None = None


class Maitre(Section):
    """The apprentice's tutor at the employer (``maitre1`` required, ``maitre2`` optional)."""

    nom: str | None = None
    prenom: str | None = None
    dateNaissance: WireDate | None = None
    courriel: str | None = None
    emploiOccupe: str | None = None
    intituleDiplomeObtenu: str | None = None
    niveauDiplomeObtenu: Code | None = Field(default=None, description="3 CAP/BEP ... 8 doctorat")
    nir: str | None = None


class RemunerationAnnuelle(Section):
    """One period of the wage schedule (``ordre`` = year.period, e.g. ``"2.1"``)."""

    ordre: Annotated[str, BeforeValidator(_number_to_str)] | None = Field(
        default=None, description='"year.period", "1.1" to "4.2"'
    )
    dateDebut: WireDate | None = None
    dateFin: WireDate | None = None
    taux: Amount | None = Field(
        default=None, description="% of SMIC (or SMC), at least the legal minimum"
    )
    typeSalaire: str | None = Field(default=None, description='"SMIC" or "SMC"')


class Contrat(Section):
    """The apprenticeship contract: type, dates, working time, wages."""

    modeContractuel: Code | None = Field(
        default=None,
        description="1 fixed term, 2 within a CDI, 3 temporary work, 4 seasonal with two employers",
    )
    typeContratApp: Code | None = Field(
        default=None, description="11 first contract; 21-23 successions; 31-38 avenants"
    )
    typeDerogation: Code | None = Field(
        default=None,
        description="11 under 16, 12 over 29, 21 reduced, 22 extended, 50 several, 60 other",
    )
    numeroContratPrecedent: str | None = Field(
        default=None,
        description=(
            "DECA number (15 characters) of the previous contract; required for 21-23 and 31-38"
        ),
    )
    noContrat: str | None = Field(
        default=None, description="DECA number (15 characters), e.g. 02B202212000000"
    )
    noAvenant: str | None = None
    dateConclusion: WireDate | None = None
    dateDebutContrat: WireDate | None = None
    dateDebutFormationPratique: WireDate | None = None
    dateFinContrat: WireDate | None = None
    dateEffetAvenant: WireDate | None = None
    dateRupture: WireDate | None = None
    lieuSignatureContrat: str | None = None
    dureeTravailHebdoHeures: Code | None = Field(
        default=None, description="at most 40 (40 h 00 allowed)"
    )
    dureeTravailHebdoMinutes: Code | None = Field(default=None, description="0-59")
    travailRisque: bool | None = None
    salaireEmbauche: Amount | None = Field(
        default=None, description="gross monthly salary of the first period (rate x SMIC in force)"
    )
    avantageNature: bool | None = None
    avantageNourriture: Amount | None = None
    avantageLogement: Amount | None = None
    autreAvantageEnNature: bool | None = None
    remunerationsAnnuelles: list[RemunerationAnnuelle] | None = None
    caisseRetraiteSupplementaire: str | None = None
    smc: Amount | None = None


class Formation(Section):
    """The training: certification aimed at (RNCP, CFD), dates and duration."""

    rncp: str | None = Field(
        default=None, description="RNCP code: optional 'RNCP' prefix + 2-5 digits"
    )
    codeDiplome: str | None = Field(default=None, description="CFD: 8 characters [A-Z0-9]")
    typeDiplome: Code | None = Field(
        default=None,
        description=(
            "diploma or title aimed at (CERFA 10103*14 list; the 2021 codes are accepted with "
            "a warning)"
        ),
    )
    intituleQualification: str | None = None
    dateDebutFormation: WireDate | None = None
    dateFinFormation: WireDate | None = None
    dureeFormation: Code | None = Field(default=None, description="hours, 1-9999")
    nombreHeuresEnDistanciel: Code | None = Field(
        default=None, description="distance-learning hours, at most dureeFormation"
    )
    dateObtentionDiplome: WireDate | None = None


class OrganismeFormation(Section):
    """A training organisation: the responsible CFA, or (same fields) the main training site."""

    denomination: str | None = None
    formationInterne: bool | None = None
    siret: str | None = Field(default=None, description="14 digits, Luhn key")
    uaiCfa: str | None = Field(default=None, description="7 digits + check letter")
    visaCfa: bool | None = None
    adresse: Adresse | None = None
    lieuFormationIdentique: bool | None = None


class Cerfa(Section):
    """The CERFA 10103 contract form, in the convergence standard's field names (the OPCO's
    dossier body is ``{"cerfa": <this>}``)."""

    employeur: Employeur | None = None
    apprenti: Apprenti | None = None
    maitre1: Maitre | None = None
    maitre2: Maitre | None = None
    formation: Formation | None = None
    contrat: Contrat | None = None
    organismeFormation: OrganismeFormation | None = None
    organismeFormationLieuFormationPrincipal: OrganismeFormation | None = None
    versionCERFA: str | None = Field(default=None, description='"10103*14"')
    CERFASignatureProbante: bool | None = None
    numeroExterne: str | None = None
    numeroInterne: str | None = None
    numeroDeca: str | None = None
    etat: Etat | None = Field(
        default=None,
        description=(
            "TRANSMIS, EN_COURS_INSTRUCTION, ENGAGE, ANNULE, REFUSE, RUPTURE, SOLDE (read model)"
        ),
    )
    commentaireEtat: str | None = None


class DossierBody(Section):
    """The request body of ``POST /v1|v2/dossiers``."""

    cerfa: Cerfa
