"""Each finding code measured against the state's CERFA form: its reference and the comparison.

The state form is the public CERFA 10103 application of ``mission-apprentissage/contrat``: its
controls (``ui/app/(application)/cerfa/controls/*.control.ts``, named ``form:<file>`` below) and
its field schema (``shared/helpers/cerfa/schema/*.ts``, ``schema:<file>``). Other references: the
Code du travail (``C. trav.``), the ministry's vade-mecum, and the research notes on the standard
(``notes <section>``, convergence-api.md). Where the form and the notes disagree, relais follows
the form and keeps the other reading as a warning.

``VERDICTS``: ``same`` (the form refuses the same thing, or warns where relais warns),
``stricter`` (relais refuses what the form lets through, with the reason), ``more lenient`` (relais
only warns where the form refuses, with the reason), ``outside the form`` (the form has no such
control: envelope, routing, follow-ups, wire format; the reason says where it comes from).

The table (``relais rules --markdown``, ``schemas/conformance.md``) is rendered by
``relais.conformance_doc`` with each code's paths and French messages read from the rules' source;
a unit test checks that every catalogued code has a row here and that no row names an unknown code.
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.rules.catalogue import CATALOGUE

SAME, STRICTER, LENIENT, OUTSIDE = "same", "stricter", "more lenient", "outside the form"
VERDICTS = (SAME, STRICTER, LENIENT, OUTSIDE)

FORM_DATES = "form:ContratDates"
FORM_FORMATION = "form:dateFormation"
FORM_AGE = "form:ageApprenti"
FORM_DEROGATION = "form:typeDerogation"
FORM_NIR = "form:common/nir"
SCHEMA = "schema:"


@dataclass(frozen=True)
class Conformance:
    reference: str
    verdict: str
    why: str


def _c(reference: str, verdict: str, why: str = "") -> Conformance:
    return Conformance(reference, verdict, why)


_WIRE = "notes 1.7 (wire format); the form builds the value itself"
_STRUCT = "relais's contract with the CFA's software (DESIGN), not a CERFA box"

CONFORMANCE: dict[str, Conformance] = {
    # structure and types
    "CERFA_NON_OBJET": _c(_STRUCT, OUTSIDE, "a CFA event must carry a JSON object"),
    "CORPS_NON_OBJET": _c(_STRUCT, OUTSIDE, "a follow-up body must be a JSON object"),
    "TYPE_SUIVI_INCONNU": _c(_STRUCT, OUTSIDE, "only the four follow-ups of the standard"),
    "ENVELOPE_MISSING_ATTRIBUTE": _c(_STRUCT, OUTSIDE, "CloudEvents attributes"),
    "ENVELOPE_UNKNOWN_ATTRIBUTE": _c(_STRUCT, OUTSIDE, "CloudEvents attributes"),
    "ENVELOPE_INVALID_ATTRIBUTE": _c(_STRUCT, OUTSIDE, "CloudEvents attributes"),
    "ENVELOPE_UNKNOWN_TYPE": _c(_STRUCT, OUTSIDE, "CloudEvents type of the CFA contract"),
    "ENVELOPE_UNSUPPORTED_SPECVERSION": _c(_STRUCT, OUTSIDE, "CloudEvents 1.0 only"),
    "ENVELOPE_INVALID_SOURCE": _c(_STRUCT, OUTSIDE, "the source names the CFA (SIRET or UAI)"),
    "SCHEMA_EXTRA_FORBIDDEN": _c(_STRUCT, OUTSIDE, "the event's data model is closed"),
    "TYPE_INVALIDE": _c(_WIRE, SAME, "the form's typed inputs cannot hold another type"),
    "DATE_INVALIDE": _c(_WIRE, SAME, "the form's date pickers only give real dates"),
    "TROP_IMBRIQUE": _c(_STRUCT, OUTSIDE, "bounds hostile input (promise 5)"),
    "CONTROLE_NON_EXECUTE": _c(_STRUCT, OUTSIDE, "a relais bug never blocks a dossier"),
    "CHAMP_INCONNU": _c(
        "notes 1.7, 2.x (the standard's fields)", OUTSIDE, "never forwarded to the OPCO"
    ),
    "DATE_HEURE_NON_MINUIT": _c(
        _WIRE, OUTSIDE, "read in Europe/Paris (never the previous day), warned"
    ),
    "CHAMP_OBLIGATOIRE": _c(
        "schema:*Schema.ts required / requiredMessage (with their conditions: smc from 21 at "
        "the end, rncp, the maître's job, diploma, level and e-mail, dateDebutFormationPratique, "
        "travailRisque, avantageNature); notes 2.x",
        STRICTER,
        "also requires the apprentice's NIR when born in France (notes 2.3: DECA needs it), "
        "which the form leaves optional",
    ),
    "VALEUR_NON_AUTORISEE": _c("schema:*Schema.ts options; notes 2.x", SAME),
    "LONGUEUR_MAX": _c(
        "notes 2.x field lengths; schema:formationSchema (rncp 9); 255 for any other text",
        STRICTER,
        "the form caps few fields; every free text is bounded (DECA columns, hostile input)",
    ),
    "MONTANT_NEGATIF": _c("schema:contratSchema (min 0); notes 2.5, 2.10", SAME),
    # format rules
    "APPRENTI_NIR_FORMAT": _c("schema:apprentiSchema nir mask; notes 3.1", SAME),
    "APPRENTI_NIR_CLE": _c(
        "notes 3.1 (key = 97 - NIR13 mod 97)",
        STRICTER,
        "the form does not check the key; a wrong key is a typo DECA rejects",
    ),
    "APPRENTI_NIR_ESPACES": _c(FORM_NIR, SAME, "the form strips spaces; relais sends none"),
    "APPRENTI_NIR_SEXE": _c(FORM_NIR, SAME),
    "APPRENTI_NIR_ANNEE": _c(FORM_NIR, SAME),
    "APPRENTI_NIR_MOIS": _c(FORM_NIR, SAME),
    "APPRENTI_NIR_MOIS_INCONNU": _c(
        "notes 3.1 (INSEE fictitious months)",
        LENIENT,
        "the form compares months literally and refuses 20-42/50+; INSEE issues them",
    ),
    "APPRENTI_NIR_DEPARTEMENT": _c(FORM_NIR, SAME),
    "APPRENTI_DEPARTEMENT_NAISSANCE_FORMAT": _c("schema:apprentiSchema mask; notes 2.3", SAME),
    "APPRENTI_DEPARTEMENT_NAISSANCE_INCONNU": _c(
        "schema:apprentiSchema; notes 2.3",
        LENIENT,
        "the form lists known codes only; relais warns (old codes still seen)",
    ),
    "MAITRE1_NIR_INVALIDE": _c("notes 2.4", LENIENT, "optional field; a warning is enough"),
    "MAITRE2_NIR_INVALIDE": _c("notes 2.4", LENIENT, "optional field; a warning is enough"),
    "CONTRAT_NO_CONTRAT_FORMAT": _c("schema:contratSchema numero masks; notes 3.1", SAME),
    "CONTRAT_NUMERO_CONTRAT_PRECEDENT_FORMAT": _c(
        "schema:contratSchema numeroContratPrecedent mask; notes 3.1", SAME
    ),
    "EMPLOYEUR_NAF_FORMAT": _c("form:employeurNaf (API lookup); notes 3.1", SAME),
    "EMPLOYEUR_NAF_MINUSCULE": _c("form:employeurNaf", LENIENT, "upper-cased on the wire"),
    "EMPLOYEUR_IDCC_FORMAT": _c("form:idcc (padStart 4); notes 3.1", SAME),
    "EMPLOYEUR_EFFECTIF": _c("schema:employeurSchema (min 0)", SAME),
    "FORMATION_RNCP_FORMAT": _c("schema:formationSchema rncp mask RNCP + digits", SAME),
    "FORMATION_CODE_DIPLOME_FORMAT": _c("schema:formationSchema codeDiplome mask", SAME),
    "CODE_POSTAL_FORMAT": _c("form:*CodePostal; notes 3.1", SAME),
    "ADRESSE_VOIE_MANQUANTE": _c("schema:*Schema adresse.voie required", SAME),
    "ADRESSE_NUMERO": _c("schema:*Schema adresse.numero (min 0)", SAME),
    "ADRESSE_REPETITION_VOIE": _c("schema:*Schema repetitionVoie options", LENIENT, "rare codes"),
    "TELEPHONE_FORMAT": _c("form:telephone; notes 3.1", SAME),
    "TELEPHONE_SEPARATEURS": _c("form:telephone (mask)", LENIENT, "normalised on the wire"),
    "TELEPHONE_INTERNATIONAL": _c("form:telephone (+33 form)", SAME, "the form's own form"),
    "COURRIEL_FORMAT": _c("form:common/email", SAME),
    "COURRIEL_LONGUEUR": _c("notes 3.1 (80 characters)", STRICTER, "DECA's column length"),
    "NOM_CARACTERES": _c("shared/helpers/cerfa/domains/common/nomPattern", SAME),
    "NOM_APOSTROPHE": _c("nomPattern", LENIENT, "real names carry apostrophes; OPCO accept"),
    "DIPLOME_CODE_ANCIEN": _c("notes 2.5.4 (10103*14 list)", LENIENT, "2021 codes still sent"),
    "CERFA_VERSION": _c("notes 3.8", OUTSIDE, "the form always writes its own version"),
    "CONTRAT_DUREE_HEBDO_MAX": _c("form:dureeTravail", SAME),
    "CONTRAT_DUREE_HEBDO_MINUTES": _c("schema:contratSchema minutes 0-59", SAME),
    "CONTRAT_DUREE_HEBDO_NEGATIVE": _c("schema:contratSchema (min 0)", SAME),
    "REMUNERATION_TAUX_BORNES": _c("form:remunerations (buildRemuneration)", SAME),
    "REMUNERATION_TYPE_SALAIRE": _c("form:remunerations (SMIC/SMC)", SAME),
    "REMUNERATION_ORDRE_FORMAT": _c("form:remunerations (ordre year.period)", SAME),
    # age rules
    "APPRENTI_DATE_NAISSANCE_FUTURE": _c(FORM_AGE, SAME),
    "APPRENTI_AGE_MINIMUM": _c(FORM_AGE, SAME),
    "APPRENTI_MOINS_16_SANS_DEROGATION": _c(
        "C. trav. L6222-1; schema:contratSchema typeDerogation",
        STRICTER,
        "the form lets a 15-year-old through without derogation 11; the law requires it",
    ),
    "CONTRAT_DEROGATION_11_AGE": _c(FORM_DEROGATION, SAME),
    "CONTRAT_DEROGATION_12_AGE": _c(FORM_DEROGATION, SAME),
    "APPRENTI_AGE_MAXIMUM": _c(
        f"C. trav. L6222-1, L6222-2; {FORM_DATES} (age > 30 without the three flags)",
        STRICTER,
        "« 29 ans révolus »: 30 on the first day is too old (issue 15); the form only errs "
        "above 30. Lifted by the three flags (as on the form) and for a successor contract "
        "up to 35 (L6222-2)",
    ),
    "APPRENTI_AGE_SUCCESSION_UN_AN": _c(
        "C. trav. L6222-2 (successor contract within one year, up to 35)",
        LENIENT,
        "the form errs above 30 on a successor contract; the law allows it up to 35 when the "
        "previous contract ended less than a year before (not on the CERFA: a warning)",
    ),
    "CONTRAT_DEROGATION_12_SANS_CAS": _c(
        "C. trav. L6222-2; schema:contratSchema typeDerogation 12",
        STRICTER,
        "the form accepts derogation 12 on its own; it is only valid in a legal case",
    ),
    "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE": _c(f"{FORM_DATES} (dateSignature)", SAME),
    "APPRENTI_MINEUR_HORS_UE": _c(f"{FORM_DATES} (ASE information message)", SAME),
    "MAITRE_AGE_MINIMUM": _c("form:maitres; form:ContratDates", SAME),
    # dates and durations
    "CONTRAT_CONCLUSION_APRES_DEBUT": _c(f"{FORM_DATES} (dateSignature)", SAME),
    "CONTRAT_CONCLUSION_FUTURE": _c("notes 3.3", LENIENT, "the form fills the day; a warning"),
    "CONTRAT_FIN_AVANT_DEBUT": _c(FORM_DATES, SAME),
    "CONTRAT_DUREE_MIN": _c(
        f"{FORM_DATES} (differenceInMonths < 6)",
        SAME,
        "the form's measure; the message names the end-day reading when it would give 6",
    ),
    "CONTRAT_DUREE_MAX": _c(f"{FORM_DATES} (differenceInMonths > 54)", SAME),
    "CONTRAT_DUREE_MAX_STRICTE": _c("notes 3.3", SAME, "a warning the form does not give"),
    "CONTRAT_FIN_PASSEE": _c(f"{FORM_DATES} (dateFinContrat before today)", SAME),
    "CONTRAT_EFFET_AVENANT_HORS_CONTRAT": _c(f"{FORM_DATES} (dateEffetAvenant)", SAME),
    "CONTRAT_RUPTURE_AVANT_DEBUT": _c("notes 2.5", OUTSIDE, "rupture is not on the form"),
    "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI": _c(f"{FORM_DATES} (dateDebutFormationPratique)", SAME),
    "CONTRAT_DEBUT_PRATIQUE_AVANT_CONCLUSION": _c(
        f"{FORM_DATES} (dateDebutFormationPratique)", SAME
    ),
    "CONTRAT_DEBUT_PRATIQUE_APRES_FIN": _c(f"{FORM_DATES} (dateDebutFormationPratique)", SAME),
    "CONTRAT_DEPOT_TARDIF": _c(
        "C. trav. D6224-1 (5 jours ouvrables: Monday-Saturday, holidays off, Alsace-Moselle "
        "+ Good Friday and 26/12 by the employer's département)",
        OUTSIDE,
        "the form does not deposit",
    ),
    "FORMATION_FIN_AVANT_DEBUT": _c(FORM_FORMATION, SAME),
    "FORMATION_DUREE_CYCLE_MIN": _c(
        f"{FORM_FORMATION} (differenceInMonths < 6)",
        SAME,
        "the form's measure; the message names the end-day reading when it would give 6",
    ),
    "FORMATION_FIN_HORS_CONTRAT": _c(f"{FORM_FORMATION} (dateFinFormation)", SAME),
    "FORMATION_DUREE_CYCLE_MAX": _c(f"{FORM_FORMATION} (differenceInMonths > 48)", SAME),
    "FORMATION_DUREE_CYCLE_MAX_STRICTE": _c("notes 3.3", SAME, "a warning only"),
    "FORMATION_DUREE_BORNES": _c(f"{FORM_FORMATION} (dureeFormation <= 9999)", SAME),
    "FORMATION_DISTANCIEL_NEGATIF": _c("notes 2.6", SAME, "the form has no negative input"),
    "FORMATION_DISTANCIEL_SUPERIEUR": _c("notes 3.3", STRICTER, "an impossible count"),
    "FORMATION_DISTANCIEL_80": _c("arrêté NPEC (-20 % at distance); notes 3.6", OUTSIDE),
    "CONTRAT_FIN_APRES_FORMATION": _c(f"{FORM_DATES} (dateFinFormation + 3 months)", SAME),
    "FORMATION_DEBUT_ECART_CONTRAT": _c(FORM_FORMATION, SAME),
    "FORMATION_DEBUT_AVANT_PRATIQUE": _c(FORM_FORMATION, SAME),
    "FORMATION_DEBUT_AVANT_CONCLUSION": _c(
        f"{FORM_DATES} (dateDebutFormation before dateSignature)",
        SAME,
        "the vade-mecum admits up to 3 months (then declare the signature date): in the message",
    ),
    "FORMATION_DUREE_25_POURCENT": _c("C. trav. L6211-2 (25 %)", OUTSIDE, "an estimate"),
    # contract type, employer
    "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE": _c(
        "shared/.../isRequiredNumeroContratPrecedent (31-37)", SAME
    ),
    "CONTRAT_NUMERO_PRECEDENT_CONSEILLE": _c(
        "shared/.../shouldAskContratPrecedent (21-23, 31-38); notes 3.4",
        LENIENT,
        "the form asks without requiring for 21-23 and 38; the notes required it: a warning",
    ),
    "CONTRAT_NUMERO_PRECEDENT_INATTENDU": _c(
        "shared/.../shouldAskContratPrecedent", SAME, "not asked for 11"
    ),
    "CONTRAT_DATE_EFFET_AVENANT_OBLIGATOIRE": _c("shared/.../shouldAskDateEffetAvenant", SAME),
    "CONTRAT_DATE_EFFET_AVENANT_INATTENDUE": _c("shared/.../shouldAskDateEffetAvenant", SAME),
    "CONTRAT_AVANTAGES_NON_DECLARES": _c("form:avantagesNature (reset when « non »)", SAME),
    "CONTRAT_AVANTAGE_BORNES": _c("notes 2.5", STRICTER, "bounds an absurd amount"),
    "EMPLOYEUR_PUBLIC": _c("notes 3.4", OUTSIDE, "public employers go to CELIA, not an OPCO"),
    "EMPLOYEUR_EPIC": _c("notes 3.4", OUTSIDE, "a warning"),
    "EMPLOYEUR_ATTESTATION_NON_COCHEE": _c("schema:employeurSchema attestations", SAME),
    "FORMATION_CERTIFICATION_MANQUANTE": _c(
        "schema:formationSchema rncp / codeDiplome required", SAME
    ),
    "FORMATION_CODE_DIPLOME_ABSENT": _c(
        "schema:formationSchema codeDiplome required; form:rncp (clears it for a title "
        "without CFD)",
        LENIENT,
        "an RNCP title may have no CFD, which relais cannot look up offline",
    ),
    "APPRENTI_NIR_ABSENT_NE_ETRANGER": _c(
        "schema:apprentiSchema (nir not required); notes 2.3",
        SAME,
        "the notes required it; an apprentice born abroad may have none yet",
    ),
    "LIEU_FORMATION_OBLIGATOIRE": _c("form:etablissementFormation", SAME),
    # wages
    "REMUNERATION_DATES_INVERSEES": _c("form:remunerations (buildRemuneration)", SAME),
    "REMUNERATION_DEBUT_CONTRAT": _c("form:remunerations (buildRemuneration)", SAME),
    "REMUNERATION_ORDRE_LISTE": _c("form:remunerations", LENIENT, "checked by date anyway"),
    "REMUNERATION_PERIODES_DISCONTINUES": _c("form:remunerations (buildRemuneration)", SAME),
    "REMUNERATION_FIN_CONTRAT": _c("form:remunerations (buildRemuneration)", SAME),
    "REMUNERATION_PREMIERE_ANNEE": _c(
        "C. trav. D6222-26 to D6222-33", LENIENT, "continuity cases exist"
    ),
    "REMUNERATION_CONTINUITE_SUCCESSION": _c(
        "C. trav. D6222-26 to D6222-33 (pay of a successor contract)",
        OUTSIDE,
        "the previous contract's rate is not on the CERFA: a warning",
    ),
    "REMUNERATION_MAJORATION_15": _c(
        "C. trav. D6222-26 to D6222-33 (+15 points, 1-year contract, same level)",
        OUTSIDE,
        "the form's grid has no increase; « direct relation » is not on the CERFA: a warning",
    ),
    "REMUNERATION_TAUX_INFERIEUR_MINIMUM": _c(
        "form:remunerations (tauxMinimal); C. trav. D6222-26", SAME
    ),
    "REMUNERATION_SMC_PLUS_FAVORABLE": _c("shared/.../getSmcMessages", SAME, "a message"),
    "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR": _c("form:remunerations (salaireBrut)", SAME),
    # routing
    "EMPLOYEUR_IDCC_SANS_OPCO": _c("notes 4.2", OUTSIDE, "routing to the OPCO"),
    "EMPLOYEUR_IDCC_INCONNU": _c("form:idcc (« Le code IDCC est inconnu »)", SAME),
    "EMPLOYEUR_IDCC_HORS_REFERENTIEL": _c("notes 4.2", OUTSIDE, "explicit OPCO wins"),
    "OPCO_DIFFERENT_IDCC": _c("notes 4.2", OUTSIDE, "a warning"),
    "OPCO_INCONNU": _c("notes 4.1", OUTSIDE, "the 11 OPCO"),
    # follow-ups: not on the CERFA form
    "CONVENTION_COUT_PEDAGOGIQUE": _c("notes 2.10", OUTSIDE),
    "CONVENTION_PREMIER_EQUIPEMENT_PLAFOND": _c("arrêté du 30 juillet 2020; notes 3.6", OUTSIDE),
    "CONVENTION_SIGNATURE_FUTURE": _c("notes 2.10", OUTSIDE),
    "CONVENTION_NON_SIGNEE": _c("notes 2.10", OUTSIDE),
    "FACTURE_MONTANT": _c("notes 2.11", OUTSIDE),
    "FACTURE_DATE_FUTURE": _c("notes 2.11", OUTSIDE),
    "FACTURE_IBAN_FORMAT": _c("ISO 13616; notes 2.11", OUTSIDE),
    "FACTURE_IBAN_CLE": _c("ISO 13616 mod 97; notes 2.11", OUTSIDE),
    "FACTURE_SANS_LIGNE": _c("notes 2.11", OUTSIDE),
    "FACTURE_LIGNE_SANS_DOSSIER": _c("notes 2.11", OUTSIDE),
    "FACTURE_NUMERO_ECHEANCE": _c("notes 2.11", OUTSIDE),
    "FACTURE_LIGNE_MONTANT": _c("notes 2.11", OUTSIDE),
    "FACTURE_LIGNE_DOUBLON": _c("notes 2.11", OUTSIDE),
    "FACTURE_MONTANT_TOTAL": _c("notes 2.11", OUTSIDE),
    "CERTIFICAT_TYPE": _c("notes 2.12", OUTSIDE),
    "CERTIFICAT_TYPE_ORTHOGRAPHE": _c("notes 2.12", OUTSIDE),
    "CERTIFICAT_NUMERO_ECHEANCE": _c("notes 2.12", OUTSIDE),
    "CERTIFICAT_PERIODE_INVERSEE": _c("notes 2.12", OUTSIDE),
    "CERTIFICAT_SIGNE_AVANT_PERIODE": _c("notes 2.12", OUTSIDE),
    "CERTIFICAT_SIGNATURE_FUTURE": _c("notes 2.12", OUTSIDE),
    "RUPTURE_DATE_FUTURE": _c("notes 2.14", OUTSIDE),
    "CONVENTION_COUT_SUPERIEUR_NPEC": _c(
        "France Compétences NPEC referential; décret 2025-585 (daily prorata); notes 3.6",
        OUTSIDE,
        "the OPCO pays min(NPEC, cost): the excess is the employer's, refused before the call",
    ),
    "CONVENTION_NPEC_INCONNU": _c("notes 3.6 (valeur d'amorçage)", OUTSIDE, "cannot check"),
    "CONVENTION_PARTICIPATION_EMPLOYEUR": _c("décret 2025-585 (750 €, level 6+)", OUTSIDE),
    "FACTURE_ECHEANCIER_INCONNU": _c(
        "notes 0 (GET /v1/dossiers echeances)", OUTSIDE, "not known yet: a warning, not a block"
    ),
    "FACTURE_ECHEANCE_INCONNUE": _c("notes 0 (echeances[].numero)", OUTSIDE),
    "FACTURE_ECHEANCE_NON_OUVERTE": _c("notes 0 (echeances[].dateOuverture)", OUTSIDE),
    "FACTURE_ECHEANCE_HORS_CONTRAT": _c("notes 3.6 (rupture: prorata)", OUTSIDE),
    "FACTURE_MONTANT_SUPERIEUR_RESTANT": _c(
        "notes 0 (montantTotal, montantRegle, montantEnCoursInstruction)", OUTSIDE
    ),
    "FACTURE_DATE_HORS_CONTRAT": _c("notes 3.6", OUTSIDE),
    "FACTURE_CODIFICATION_99_PAS_DERNIERE": _c(
        "notes 0 (codificationEcheance: 99 = last)", OUTSIDE
    ),
}

_SIRET_FORMS = {
    "EMPLOYEUR": "form:employeurSiret",
    "CFA": "form:organismeFormationSiret",
    "LIEU_FORMATION": "form:etablissementFormationSiret",
}
for _block, _form in _SIRET_FORMS.items():
    CONFORMANCE[f"{_block}_SIRET_FORMAT"] = _c(f"{_form} (14 digits)", SAME)
    CONFORMANCE[f"{_block}_SIRET_CLE"] = _c(
        "notes 3.1 (Luhn; La Poste sum % 5)",
        STRICTER,
        "the form asks an API whether the SIRET exists; offline relais checks the key",
    )
    CONFORMANCE[f"{_block}_SIRET_ESPACES"] = _c(_form, SAME, "spaces removed on the wire")
    CONFORMANCE[f"{_block}_SIREN_CLE"] = _c("notes 3.1 (Luhn)", STRICTER, "offline key check")
for _block in ("CFA", "LIEU_FORMATION"):
    CONFORMANCE[f"{_block}_UAI_FORMAT"] = _c("schema:formationSchema uaiCfa mask", SAME)
    CONFORMANCE[f"{_block}_UAI_CLE"] = _c(
        "notes 3.1 (UAI check letter)", STRICTER, "offline check of the ministry's key"
    )
    CONFORMANCE[f"{_block}_UAI_MINUSCULE"] = _c("notes 2.7", LENIENT, "upper-cased on the wire")


def rows() -> list[dict[str, str]]:
    """One row per catalogued code, sorted: code, severity, path, summary and the comparison."""
    out = []
    for code, info in sorted(CATALOGUE.items()):
        conf = CONFORMANCE[code]
        out.append(
            {
                "code": code,
                "severity": info.severity,
                "section": info.section,
                "summary": info.summary,
                "reference": conf.reference,
                "verdict": conf.verdict,
                "why": conf.why,
            }
        )
    return out
