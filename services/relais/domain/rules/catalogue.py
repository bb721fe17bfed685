"""Every finding code relais can report, its severity and where the rule comes from.

Codes are a stable contract with the CFA's software (one code, one meaning, one severity); a test
checks that the rules emit no code missing from here. ``relais validate --rules`` prints it.
Sections refer to the research notes on the standard (convergence-api.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.findings import ERROR, WARNING, Severity


@dataclass(frozen=True)
class RuleInfo:
    severity: Severity
    section: str
    summary: str


def _e(section: str, summary: str) -> RuleInfo:
    return RuleInfo(ERROR, section, summary)


def _w(section: str, summary: str) -> RuleInfo:
    return RuleInfo(WARNING, section, summary)


_BLOCKS_SIRET = {"EMPLOYEUR": "employer", "CFA": "responsible CFA", "LIEU_FORMATION": "main site"}
_BLOCKS_UAI = {"CFA": "responsible CFA", "LIEU_FORMATION": "main site"}

CATALOGUE: dict[str, RuleInfo] = {
    # structure and types
    "CERFA_NON_OBJET": _e("2.1", "the cerfa is not a JSON object"),
    "CORPS_NON_OBJET": _e("2.10-2.14", "the follow-up body is not a JSON object"),
    "TYPE_SUIVI_INCONNU": _e("2.10-2.14", "unknown follow-up kind"),
    # an event's envelope and data keys (relais validate; the codes of ingest's statuses)
    "ENVELOPE_MISSING_ATTRIBUTE": _e("DESIGN", "required CloudEvents attribute missing"),
    "ENVELOPE_UNKNOWN_ATTRIBUTE": _e("DESIGN", "CloudEvents attribute relais does not know"),
    "ENVELOPE_INVALID_ATTRIBUTE": _e("DESIGN", "CloudEvents attribute invalid"),
    "ENVELOPE_UNKNOWN_TYPE": _e("DESIGN", "unknown CFA event type"),
    "ENVELOPE_UNSUPPORTED_SPECVERSION": _e("DESIGN", "CloudEvents specversion other than 1.0"),
    "ENVELOPE_INVALID_SOURCE": _e("DESIGN", "source is neither a CFA SIRET nor a UAI"),
    "SCHEMA_EXTRA_FORBIDDEN": _e("DESIGN", "unexpected key in an event's data"),
    "TYPE_INVALIDE": _e("1.7", "wrong JSON type (string, integer, number, boolean, object, list)"),
    "DATE_INVALIDE": _e("1.7", "not a date (YYYY-MM-DD, optional time and offset, 1900-2199)"),
    "TROP_IMBRIQUE": _e("-", "document too large or too deeply nested"),
    "CONTROLE_NON_EXECUTE": _w("-", "a rule failed on this input (a relais bug); others ran"),
    "CHAMP_INCONNU": _w("1.7", "key unknown to the standard: ignored, never forwarded"),
    "DATE_HEURE_NON_MINUIT": _w("1.7", "date with a time other than midnight (read in Paris)"),
    "CHAMP_OBLIGATOIRE": _e("2.x", "mandatory field absent, null or blank"),
    "VALEUR_NON_AUTORISEE": _e("2.x", "code outside the standard's enumeration"),
    "LONGUEUR_MAX": _e("2.x", "text longer than the standard allows"),
    "MONTANT_NEGATIF": _e("2.5, 2.10", "negative amount or count"),
    # format rules
    "APPRENTI_NIR_FORMAT": _e("3.1", "NIR: 13 characters (+2 key), 2A/2B for Corsica"),
    "APPRENTI_NIR_CLE": _e("3.1", "NIR key is not 97 - (NIR13 mod 97)"),
    "APPRENTI_NIR_ESPACES": _w("3.1", "NIR written with spaces"),
    "APPRENTI_NIR_SEXE": _e("3.1", "NIR first digit not 1/2 or not matching sexe"),
    "APPRENTI_NIR_ANNEE": _e("3.1", "NIR birth year differs from dateNaissance"),
    "APPRENTI_NIR_MOIS": _e("3.1", "NIR birth month differs from dateNaissance"),
    "APPRENTI_NIR_MOIS_INCONNU": _w("3.1", "NIR with a fictitious month (20-42, 50+): unchecked"),
    "APPRENTI_NIR_DEPARTEMENT": _e("3.1", "NIR department differs from departementNaissance"),
    "APPRENTI_DEPARTEMENT_NAISSANCE_FORMAT": _e("2.3", "departementNaissance: 1-3 digits, 2A/2B"),
    "APPRENTI_DEPARTEMENT_NAISSANCE_INCONNU": _w("2.3", "departementNaissance not a known code"),
    "MAITRE1_NIR_INVALIDE": _w("2.4", "maître's NIR invalid (format or key)"),
    "MAITRE2_NIR_INVALIDE": _w("2.4", "second maître's NIR invalid (format or key)"),
    "CONTRAT_NO_CONTRAT_FORMAT": _e("3.1", "noContrat is not a 15-character DECA number"),
    "CONTRAT_NUMERO_CONTRAT_PRECEDENT_FORMAT": _e(
        "3.1", "numeroContratPrecedent is not a 15-character DECA number"
    ),
    "EMPLOYEUR_NAF_FORMAT": _e("3.1", "NAF: 4 digits and a letter (dot allowed)"),
    "EMPLOYEUR_NAF_MINUSCULE": _w("3.1", "NAF letter in lower case"),
    "EMPLOYEUR_IDCC_FORMAT": _e("3.1", "IDCC: 1 to 4 digits"),
    "EMPLOYEUR_EFFECTIF": _e("2.2", "negative workforce"),
    "FORMATION_RNCP_FORMAT": _e("3.1", "RNCP: (RNCP)? + 2-5 digits"),
    "FORMATION_CODE_DIPLOME_FORMAT": _e("3.1", "CFD: 8 characters [A-Z0-9]"),
    "CODE_POSTAL_FORMAT": _e("3.1", "postcode: 5 digits"),
    "ADRESSE_VOIE_MANQUANTE": _e("2.8", "no street line in either address shape"),
    "ADRESSE_NUMERO": _e("2.8", "negative street number"),
    "ADRESSE_REPETITION_VOIE": _w("2.8", "repetitionVoie not B/T/Q/C"),
    "TELEPHONE_FORMAT": _e("3.1", "telephone: 10 digits"),
    "TELEPHONE_SEPARATEURS": _w("3.1", "telephone with spaces, dots or dashes"),
    "TELEPHONE_INTERNATIONAL": _w("2.2, 3.1", "telephone in +33 form (field allows 13 chars)"),
    "COURRIEL_FORMAT": _e("3.1", "e-mail syntax"),
    "COURRIEL_LONGUEUR": _e("3.1", "e-mail longer than 80"),
    "NOM_CARACTERES": _e("3.1", "name with characters outside the state form's pattern"),
    "NOM_APOSTROPHE": _w("3.1", "name with an apostrophe (real, but outside the pattern)"),
    "DIPLOME_CODE_ANCIEN": _w("2.5.4", "2021-only diploma code; send the 10103*14 list"),
    "CERFA_VERSION": _w("3.8", "versionCERFA is not 10103*14"),
    "CONTRAT_DUREE_HEBDO_MAX": _e("3.1", "weekly hours above 40 h 00"),
    "CONTRAT_DUREE_HEBDO_MINUTES": _e("3.1", "weekly minutes outside 0-59"),
    "CONTRAT_DUREE_HEBDO_NEGATIVE": _e("3.1", "negative weekly hours"),
    "REMUNERATION_TAUX_BORNES": _e("3.1", "rate outside 0-1000 %"),
    "REMUNERATION_TYPE_SALAIRE": _e("2.5.3", "typeSalaire not SMIC/SMC"),
    "REMUNERATION_ORDRE_FORMAT": _e("2.5.3", "ordre not 1.1 .. 4.2"),
    # age rules
    "APPRENTI_DATE_NAISSANCE_FUTURE": _e("3.2", "apprentice's birth date in the future"),
    "APPRENTI_AGE_MINIMUM": _e("3.2", "apprentice under 15 at the start"),
    "APPRENTI_MOINS_16_SANS_DEROGATION": _e("3.2", "under 16 at the start without derogation 11"),
    "CONTRAT_DEROGATION_11_AGE": _e("3.2", "derogation 11 while older than 16 at the start"),
    "CONTRAT_DEROGATION_12_AGE": _e("3.2", "derogation 12 while younger than 29 at the start"),
    "APPRENTI_AGE_MAXIMUM": _e("3.2", "30 or more at the start outside the legal cases"),
    "APPRENTI_AGE_SUCCESSION_UN_AN": _w("3.2", "over 29 on a successor contract (up to 35)"),
    "CONTRAT_DEROGATION_12_SANS_CAS": _e("3.2", "derogation 12 without any of its legal cases"),
    "APPRENTI_RESPONSABLE_LEGAL_OBLIGATOIRE": _e("3.2", "non-emancipated minor without guardian"),
    "APPRENTI_MINEUR_HORS_UE": _w("3.2", "non-EU minor: work authorisation to check"),
    "MAITRE_AGE_MINIMUM": _e("3.2", "maître d'apprentissage under 18"),
    # dates and durations
    "CONTRAT_CONCLUSION_APRES_DEBUT": _e("3.3", "signed after the start (not for avenants)"),
    "CONTRAT_CONCLUSION_FUTURE": _w("3.3", "conclusion date after today"),
    "CONTRAT_FIN_AVANT_DEBUT": _e("3.3", "contract end not after its start"),
    "CONTRAT_DUREE_MIN": _e("3.3", "contract shorter than 6 whole months (state form)"),
    "CONTRAT_DUREE_MAX": _e("3.3", "contract longer than 54 whole months"),
    "CONTRAT_DUREE_MAX_STRICTE": _w("3.3", "over 54 months when counting the end day"),
    "CONTRAT_FIN_PASSEE": _e("3.3", "contract end already past"),
    "CONTRAT_EFFET_AVENANT_HORS_CONTRAT": _e("3.3", "avenant effect date outside the contract"),
    "CONTRAT_RUPTURE_AVANT_DEBUT": _e("2.5", "dateRupture before the start"),
    "CONTRAT_DEBUT_PRATIQUE_HORS_DELAI": _e(
        "3.3", "practical training not within start + 3 months"
    ),
    "CONTRAT_DEBUT_PRATIQUE_AVANT_CONCLUSION": _e("3.3", "practical training before signature"),
    "CONTRAT_DEBUT_PRATIQUE_APRES_FIN": _e("3.3", "practical training after the contract end"),
    "CONTRAT_DEPOT_TARDIF": _w("3.3", "sent more than 5 jours ouvrables after the start"),
    "FORMATION_FIN_AVANT_DEBUT": _e("3.3", "training end before its start"),
    "FORMATION_DUREE_CYCLE_MIN": _e("3.3", "training cycle shorter than 6 whole months"),
    "FORMATION_FIN_HORS_CONTRAT": _e(
        "3.3", "training ends before the start or signature, or after the end"
    ),
    "FORMATION_DUREE_CYCLE_MAX": _e("3.3", "training cycle longer than 4 years"),
    "FORMATION_DUREE_CYCLE_MAX_STRICTE": _w("3.3", "cycle over 4 years counting the end day"),
    "FORMATION_DUREE_BORNES": _e("3.3", "dureeFormation outside 1-9999 h"),
    "FORMATION_DISTANCIEL_NEGATIF": _e("2.6", "negative distance hours"),
    "FORMATION_DISTANCIEL_SUPERIEUR": _e("3.3", "distance hours above dureeFormation"),
    "FORMATION_DISTANCIEL_80": _w("3.6", "80 % or more at distance: NPEC -20 %"),
    "CONTRAT_FIN_APRES_FORMATION": _e("3.3", "contract ends more than 3 months after training"),
    "FORMATION_DEBUT_ECART_CONTRAT": _e("3.3", "training start not within 3 months of the start"),
    "FORMATION_DEBUT_AVANT_PRATIQUE": _e("3.3", "training 3+ months before practical training"),
    "FORMATION_DEBUT_AVANT_CONCLUSION": _e("3.3", "training before signature (state form)"),
    "FORMATION_DUREE_25_POURCENT": _w("3.3", "theoretical training below ~25 % of the contract"),
    # contract type, employer
    "CONTRAT_NUMERO_PRECEDENT_OBLIGATOIRE": _e(
        "3.4", "avenant 31-37 without numeroContratPrecedent"
    ),
    "CONTRAT_NUMERO_PRECEDENT_CONSEILLE": _w("3.4", "21-23/38 without numeroContratPrecedent"),
    "CONTRAT_NUMERO_PRECEDENT_INATTENDU": _w("3.4", "numeroContratPrecedent on a type 11"),
    "CONTRAT_DATE_EFFET_AVENANT_OBLIGATOIRE": _e("3.4", "avenant without dateEffetAvenant"),
    "CONTRAT_DATE_EFFET_AVENANT_INATTENDUE": _w("3.4", "dateEffetAvenant on a non-avenant"),
    "CONTRAT_AVANTAGES_NON_DECLARES": _e("3.4", "advantages in kind while avantageNature false"),
    "CONTRAT_AVANTAGE_BORNES": _e("2.5", "advantage in kind above 10 000 €"),
    "EMPLOYEUR_PUBLIC": _e("3.4", "public employer (21-29): CELIA/AGECAP, not an OPCO"),
    "EMPLOYEUR_EPIC": _w("3.4", "EPIC (30): check OPCO financing"),
    "EMPLOYEUR_ATTESTATION_NON_COCHEE": _e("2.2", "employer attestation set to false"),
    "FORMATION_CERTIFICATION_MANQUANTE": _e("2.6", "neither rncp nor codeDiplome"),
    "FORMATION_CODE_DIPLOME_ABSENT": _w("2.6", "rncp without codeDiplome (titles without CFD)"),
    "APPRENTI_NIR_ABSENT_NE_ETRANGER": _w("2.3", "no NIR yet for an apprentice born abroad"),
    "LIEU_FORMATION_OBLIGATOIRE": _e("2.7", "lieuFormationIdentique false without the site"),
    # wages
    "REMUNERATION_DATES_INVERSEES": _e("2.5.3", "period ends before it starts"),
    "REMUNERATION_DEBUT_CONTRAT": _e("3.5", "first period does not start with the contract"),
    "REMUNERATION_ORDRE_LISTE": _w("3.5", "periods not listed in date order (checked by date)"),
    "REMUNERATION_PERIODES_DISCONTINUES": _e("3.5", "gap or overlap between periods"),
    "REMUNERATION_FIN_CONTRAT": _e("3.5", "last period does not end with the contract"),
    "REMUNERATION_PREMIERE_ANNEE": _w("3.5", "first contract (not reduced) not starting at 1.1"),
    "REMUNERATION_CONTINUITE_SUCCESSION": _w("3.5", "successor contract restarting at year 1"),
    "REMUNERATION_MAJORATION_15": _w("3.5", "below minimum + 15 points (1-year, same level)"),
    "REMUNERATION_TAUX_INFERIEUR_MINIMUM": _e("3.5", "rate below the legal minimum"),
    "REMUNERATION_SMC_PLUS_FAVORABLE": _w("3.5", "from 21, SMC above SMIC should be the base"),
    "CONTRAT_SALAIRE_EMBAUCHE_INFERIEUR": _e("3.5", "salaireEmbauche below rate x SMIC"),
    # routing
    "EMPLOYEUR_IDCC_SANS_OPCO": _e("4.2", "IDCC 9999/9998 without an explicit OPCO"),
    "EMPLOYEUR_IDCC_INCONNU": _e("4.2", "IDCC not in the referential, no explicit OPCO"),
    "EMPLOYEUR_IDCC_HORS_REFERENTIEL": _w("4.2", "IDCC not in the referential; explicit OPCO used"),
    "OPCO_DIFFERENT_IDCC": _w("4.2", "explicit OPCO differs from the IDCC's"),
    "OPCO_INCONNU": _e("4.1", "explicit OPCO is none of the 11"),
    # follow-ups
    "CONVENTION_COUT_PEDAGOGIQUE": _e("2.10", "pedagogical cost not positive"),
    "CONVENTION_PREMIER_EQUIPEMENT_PLAFOND": _e("3.6", "first equipment above 500 €"),
    "CONVENTION_SIGNATURE_FUTURE": _w("2.10", "convention signed after today"),
    "CONVENTION_NON_SIGNEE": _e("2.10", "convention not signed by employer or CFA"),
    "FACTURE_MONTANT": _e("2.11", "invoice amount not positive"),
    "FACTURE_DATE_FUTURE": _w("2.11", "invoice dated after today"),
    "FACTURE_IBAN_FORMAT": _e("2.11", "IBAN format"),
    "FACTURE_IBAN_CLE": _e("2.11", "IBAN mod-97 check"),
    "FACTURE_SANS_LIGNE": _e("2.11", "invoice without lines"),
    "FACTURE_LIGNE_SANS_DOSSIER": _e("2.11", "line without its dossier"),
    "FACTURE_NUMERO_ECHEANCE": _e("2.11", "échéance number below 1"),
    "FACTURE_LIGNE_MONTANT": _e("2.11", "line amount not positive"),
    "FACTURE_LIGNE_DOUBLON": _e("2.11", "same dossier and échéance twice"),
    "FACTURE_MONTANT_TOTAL": _e("2.11", "total differs from the sum of the lines"),
    "CERTIFICAT_TYPE": _e("2.12", "typeCertificat not Intermediaire/Final"),
    "CERTIFICAT_TYPE_ORTHOGRAPHE": _w("2.12", "typeCertificat with accent or other case"),
    "CERTIFICAT_NUMERO_ECHEANCE": _e("2.12", "échéance number below 1"),
    "CERTIFICAT_PERIODE_INVERSEE": _e("2.12", "certified period ends before it starts"),
    "CERTIFICAT_SIGNE_AVANT_PERIODE": _w("2.12", "signed before the certified period"),
    "CERTIFICAT_SIGNATURE_FUTURE": _w("2.12", "signed after today"),
    "RUPTURE_DATE_FUTURE": _w("2.14", "rupture date after today"),
    # money (before any call)
    "CONVENTION_COUT_SUPERIEUR_NPEC": _e("3.6", "pedagogical cost above the NPEC ceiling"),
    "CONVENTION_NPEC_INCONNU": _w("3.6", "no NPEC for the certification and IDCC"),
    "CONVENTION_PARTICIPATION_EMPLOYEUR": _w("3.6", "level 6+: 750 € employer participation"),
    "FACTURE_ECHEANCIER_INCONNU": _w("3.6", "the dossier's échéancier is not known yet"),
    "FACTURE_ECHEANCE_INCONNUE": _e("3.6", "échéance not in the OPCO's échéancier"),
    "FACTURE_ECHEANCE_NON_OUVERTE": _e("3.6", "échéance not open at the invoice date"),
    "FACTURE_ECHEANCE_HORS_CONTRAT": _e("3.6", "échéance opening after the contract's end"),
    "FACTURE_MONTANT_SUPERIEUR_RESTANT": _e("3.6", "amount above what remains on the échéance"),
    "FACTURE_DATE_HORS_CONTRAT": _e("3.6", "invoice dated before the contract's start"),
    "FACTURE_CODIFICATION_99_PAS_DERNIERE": _e(
        "0", "codification 99 on an échéance other than the last"
    ),
}

for _block, _who in _BLOCKS_SIRET.items():
    CATALOGUE[f"{_block}_SIRET_FORMAT"] = _e("3.1", f"SIRET of the {_who}: 14 digits")
    CATALOGUE[f"{_block}_SIRET_CLE"] = _e("3.1", f"SIRET of the {_who}: Luhn (La Poste: sum % 5)")
    CATALOGUE[f"{_block}_SIRET_ESPACES"] = _w("3.1", f"SIRET of the {_who} written with spaces")
    CATALOGUE[f"{_block}_SIREN_CLE"] = _e("3.1", f"SIREN of the {_who}: Luhn")
for _block, _who in _BLOCKS_UAI.items():
    CATALOGUE[f"{_block}_UAI_FORMAT"] = _e("3.1", f"UAI of the {_who}: 7 digits + letter")
    CATALOGUE[f"{_block}_UAI_CLE"] = _e("3.1", f"UAI of the {_who}: check letter")
    CATALOGUE[f"{_block}_UAI_MINUSCULE"] = _w("2.7, 3.1", f"UAI of the {_who}: lower-case letter")


def catalogue_json() -> list[dict[str, str]]:
    return [
        {"code": code, "severity": info.severity, "section": info.section, "summary": info.summary}
        for code, info in sorted(CATALOGUE.items())
    ]
