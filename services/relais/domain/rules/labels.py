"""French names of the fields, for messages a CFA user reads ("SIRET de l'employeur")."""

from __future__ import annotations

import re

_SECTIONS = {
    "employeur": "de l'employeur",
    "apprenti": "de l'apprenti",
    "apprenti.responsableLegal": "du représentant légal",
    "maitre1": "du maître d'apprentissage",
    "maitre2": "du second maître d'apprentissage",
    "formation": "de la formation",
    "contrat": "du contrat",
    "organismeFormation": "du CFA responsable",
    "organismeFormationLieuFormationPrincipal": "du lieu de formation principal",
    "contrat.remunerationsAnnuelles": "de la période de rémunération",
    "couts": "des coûts",
    "echeance": "de l'échéance",
    "representantLegal": "du signataire",
    "dossiers": "de la ligne de facture",
    "lignes": "de la ligne de facture",
}

_FIELDS = {
    "denomination": "dénomination",
    "siret": "SIRET",
    "naf": "code NAF",
    "nombreDeSalaries": "effectif salarié",
    "codeIdcc": "code IDCC",
    "libelleIdcc": "libellé IDCC",
    "telephone": "téléphone",
    "courriel": "courriel",
    "adresse": "adresse",
    "typeEmployeur": "type d'employeur",
    "employeurSpecifique": "employeur spécifique",
    "caisseComplementaire": "caisse de retraite complémentaire",
    "attestationEligibilite": "attestation d'éligibilité du maître d'apprentissage",
    "attestationPieces": "attestation de détention des pièces justificatives",
    "nom": "nom",
    "nomUsage": "nom d'usage",
    "prenom": "prénom",
    "sexe": "sexe",
    "nationalite": "nationalité",
    "dateNaissance": "date de naissance",
    "departementNaissance": "département de naissance",
    "communeNaissance": "commune de naissance",
    "nir": "NIR (numéro de sécurité sociale)",
    "regimeSocial": "régime social",
    "situationAvantContrat": "situation avant le contrat",
    "diplome": "diplôme le plus élevé obtenu",
    "derniereClasse": "dernière classe suivie",
    "diplomePrepare": "dernier diplôme préparé",
    "intituleDiplomePrepare": "intitulé du dernier diplôme préparé",
    "responsableLegal": "représentant légal",
    "niveauDiplomeObtenu": "niveau de diplôme",
    "modeContractuel": "mode contractuel",
    "typeContratApp": "type de contrat",
    "typeDerogation": "type de dérogation",
    "numeroContratPrecedent": "numéro du contrat précédent",
    "noContrat": "numéro de contrat (DECA)",
    "dateConclusion": "date de conclusion",
    "dateDebutContrat": "date de début d'exécution du contrat",
    "dateDebutFormationPratique": "date de début de la formation pratique chez l'employeur",
    "dateFinContrat": "date de fin du contrat",
    "dateEffetAvenant": "date d'effet de l'avenant",
    "lieuSignatureContrat": "lieu de signature",
    "dureeTravailHebdoHeures": "durée de travail hebdomadaire (heures)",
    "dureeTravailHebdoMinutes": "durée de travail hebdomadaire (minutes)",
    "salaireEmbauche": "salaire brut mensuel à l'embauche",
    "remunerationsAnnuelles": "rémunérations annuelles",
    "ordre": "ordre (année.période)",
    "dateDebut": "date de début",
    "dateFin": "date de fin",
    "taux": "taux",
    "typeSalaire": "base de salaire (SMIC/SMC)",
    "rncp": "code RNCP",
    "codeDiplome": "code diplôme",
    "typeDiplome": "diplôme ou titre visé",
    "intituleQualification": "intitulé de la qualification",
    "dateDebutFormation": "date de début de la formation",
    "dateFinFormation": "date de fin de la formation",
    "dureeFormation": "durée de la formation (heures)",
    "nombreHeuresEnDistanciel": "heures de formation à distance",
    "uaiCfa": "numéro UAI",
    "codePostal": "code postal",
    "commune": "commune",
    "voie": "voie",
    "employeur": "employeur",
    "apprenti": "apprenti",
    "maitre1": "maître d'apprentissage",
    "formation": "formation",
    "contrat": "contrat",
    "organismeFormation": "CFA responsable",
    "referenceFactureCFA": "référence de la facture",
    "dateFacture": "date de la facture",
    "montantFacture": "montant de la facture",
    "numeroEcheance": "numéro d'échéance",
    "montant": "montant",
    "iban": "IBAN",
    "dateRupture": "date de rupture",
    "motif": "motif",
    "typeCertificat": "type de certificat",
    "dateSignature": "date de signature",
    "echeance": "échéance",
    "numero": "numéro",
    "coutTotalPedagogieCFA": "coût pédagogique",
    "montantPremierEquipement": "montant du premier équipement",
}

_INDEX = re.compile(r"\[\d+\]")


def label(path: str) -> str:
    """``employeur.siret`` -> ``SIRET de l'employeur``; unknown paths give the field name."""
    bare = _INDEX.sub("", path)
    if "." not in bare:
        return _FIELDS.get(bare, bare)
    parent, _, name = bare.rpartition(".")
    base = _FIELDS.get(name, name)
    if name == "adresse" or parent.endswith("adresse"):
        owner = parent.rpartition(".")[0] if parent.endswith("adresse") else parent
        suffix = _SECTIONS.get(owner, "")
        if parent.endswith("adresse"):
            return f"{base} (adresse {suffix})".replace(" )", ")") if suffix else base
        return f"{base} {suffix}".strip()
    suffix = _SECTIONS.get(parent) or _SECTIONS.get(parent.rpartition(".")[2], "")
    if suffix and suffix.split()[-1].split("'")[-1] in base:
        return base
    return f"{base} {suffix}".strip()


def cap(text: str) -> str:
    """First letter upper-cased, the rest untouched (``str.capitalize`` would lower "SIRET")."""
    return text[:1].upper() + text[1:]
