"""French labels of the coded fields of the cerfa (CERFA 10103*14 and its notice).

The allowed codes themselves are a control rule (``rules.format.ENUMS``, finding
``VALEUR_NON_AUTORISEE``); this module only names them, for the JSON Schemas that ERP developers
generate their types from (``x-enum-labels``) and for people reading a code. A unit test keeps
both lists the same set of codes.
"""

from __future__ import annotations

DIPLOMES: dict[object, str] = {
    80: "Doctorat",
    73: "Master",
    75: "Diplôme d'ingénieur",
    76: "Diplôme d'école de commerce",
    79: "Autre diplôme ou titre de niveau bac+5 ou plus",
    62: "Licence professionnelle",
    63: "Licence générale",
    64: "Bachelor universitaire de technologie (BUT)",
    69: "Autre diplôme ou titre de niveau bac+3 ou 4",
    54: "Brevet de technicien supérieur (BTS)",
    55: "Diplôme universitaire de technologie (DUT)",
    58: "Autre diplôme ou titre de niveau bac+2",
    41: "Baccalauréat professionnel",
    42: "Baccalauréat général",
    43: "Baccalauréat technologique",
    44: "Diplôme de spécialisation professionnelle",
    49: "Autre diplôme ou titre de niveau bac",
    33: "CAP",
    34: "BEP",
    35: "Certificat de spécialisation (mention complémentaire)",
    38: "Autre diplôme ou titre de niveau CAP/BEP",
    25: "Diplôme national du brevet (DNB)",
    26: "Certificat de formation générale",
    13: "Aucun diplôme ni titre professionnel",
    61: "1re année de master (ancienne nomenclature)",
    71: "Master professionnel / DESS (ancienne nomenclature)",
    72: "Master recherche / DEA (ancienne nomenclature)",
    74: "Diplôme d'ingénieur, école de commerce (ancienne nomenclature)",
}

NIVEAUX: dict[object, str] = {
    3: "CAP, BEP",
    4: "Baccalauréat",
    5: "BTS, DUT, DEUST",
    6: "Licence, BUT, maîtrise",
    7: "Master, diplôme d'ingénieur",
    8: "Doctorat",
}

CODE_LABELS: dict[str, dict[object, str]] = {
    "employeur.typeEmployeur": {
        11: "Entreprise inscrite au répertoire des métiers ou au registre des entreprises "
        "(Alsace-Moselle)",
        12: "Entreprise inscrite uniquement au registre du commerce et des sociétés",
        13: "Entreprise dont les salariés relèvent de la mutualité sociale agricole",
        14: "Profession libérale",
        15: "Association",
        16: "Autre employeur privé",
        21: "Service de l'État",
        22: "Commune",
        23: "Département",
        24: "Région",
        25: "Établissement public hospitalier",
        26: "Établissement public local d'enseignement",
        27: "Établissement public administratif de l'État",
        28: "Établissement public administratif local (y compris EPCI)",
        29: "Autre employeur public",
        30: "Établissement public industriel et commercial",
    },
    "employeur.employeurSpecifique": {
        0: "Aucun de ces cas",
        1: "Entreprise de travail temporaire",
        2: "Groupement d'employeurs",
        3: "Employeur saisonnier",
        4: "Apprentissage familial : l'employeur est un ascendant de l'apprenti",
    },
    "apprenti.sexe": {"M": "Masculin", "F": "Féminin"},
    "apprenti.nationalite": {
        1: "Française",
        2: "Union européenne",
        3: "Étranger hors Union européenne",
    },
    "apprenti.regimeSocial": {1: "MSA", 2: "URSSAF"},
    "apprenti.situationAvantContrat": {
        1: "Scolaire",
        2: "Prépa apprentissage",
        3: "Étudiant",
        4: "Contrat d'apprentissage",
        5: "Contrat de professionnalisation",
        6: "Contrat aidé",
        7: "En formation au CFA avant signature d'un contrat d'apprentissage",
        8: "En formation au CFA sans contrat, suite à la rupture d'un contrat",
        9: "Stagiaire de la formation professionnelle",
        10: "Salarié",
        11: "Personne à la recherche d'un emploi",
        12: "Inactif",
    },
    "apprenti.diplome": DIPLOMES,
    "apprenti.diplomePrepare": DIPLOMES,
    "apprenti.derniereClasse": {
        1: "Dernière année du cycle de formation suivie, diplôme obtenu",
        11: "1re année du cycle validée (année terminée)",
        12: "1re année du cycle non validée (rupture en cours d'année)",
        21: "2e année du cycle validée (année terminée)",
        22: "2e année du cycle non validée (rupture en cours d'année)",
        31: "3e année du cycle validée (année terminée)",
        32: "3e année du cycle non validée (rupture en cours d'année)",
        40: "Premier cycle de l'enseignement secondaire (collège) achevé",
        41: "Interruption en 3e",
        42: "Interruption en 4e",
    },
    "maitre1.niveauDiplomeObtenu": NIVEAUX,
    "maitre2.niveauDiplomeObtenu": NIVEAUX,
    "formation.typeDiplome": DIPLOMES,
    "contrat.modeContractuel": {
        1: "À durée limitée",
        2: "Dans le cadre d'un CDI",
        3: "Entreprise de travail temporaire",
        4: "Activités saisonnières à deux employeurs",
    },
    "contrat.typeContratApp": {
        11: "Premier contrat d'apprentissage de l'apprenti",
        21: "Nouveau contrat : contrat précédent terminé, même employeur",
        22: "Nouveau contrat : contrat précédent terminé, autre employeur",
        23: "Nouveau contrat : contrat précédent rompu, autre employeur",
        31: "Avenant : modification de la situation juridique de l'employeur",
        32: "Avenant : changement d'employeur dans le cadre d'un contrat saisonnier",
        33: "Avenant : prolongation du contrat suite à un échec à l'examen",
        34: "Avenant : prolongation du contrat suite à la reconnaissance de la qualité de "
        "travailleur handicapé",
        35: "Avenant : modification du diplôme préparé",
        36: "Avenant : autres modifications (maître d'apprentissage, durée de travail, "
        "durée réduite...)",
        37: "Avenant : modification du lieu d'exécution du contrat",
        38: "Avenant : modification du lieu de formation théorique",
    },
    "contrat.typeDerogation": {
        11: "Âge de l'apprenti inférieur à 16 ans",
        12: "Âge supérieur à 29 ans (cas spécifiques prévus par la loi)",
        21: "Réduction de la durée du contrat ou de la période d'apprentissage",
        22: "Allongement de la durée du contrat ou de la période d'apprentissage",
        50: "Cumul de dérogations",
        60: "Autre dérogation",
        99: "Aucune dérogation",
    },
    "etat": {
        "TRANSMIS": "Transmis à l'OPCO",
        "EN_COURS_INSTRUCTION": "En cours d'instruction",
        "ENGAGE": "Engagé (financement accordé)",
        "ANNULE": "Annulé",
        "REFUSE": "Refusé",
        "RUPTURE": "Rompu",
        "SOLDE": "Soldé",
    },
}
"""``{cerfa path: {code: French label}}``, in the order the form lists them."""

TYPE_FICHIER_LABELS: dict[object, str] = {
    "CONVENTION_FORMATION": "Convention de formation",
    "CONVENTION_REDUCTION_DUREE": "Convention de réduction de durée",
    "CONVENTION_MOBILITE": "Convention de mobilité",
    "FACTURE": "Facture",
    "CERTIFICAT_REALISATION": "Certificat de réalisation",
}
"""The ``typeFichier`` of a document (``document_event.TypeFichier``), as the OPCO names them,
with their French labels in the same order."""
