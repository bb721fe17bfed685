"""The vocabulary of the sample data: names, places, trades, training programmes.

Everything here is fictitious but shaped like the real thing: communes with their department,
postal code and INSEE code (the NIR carries the birth commune), NAF codes that belong to each
OPCO's branches, programmes with a plausible RNCP/CFD, diploma code and certification level.
E-mail domains are the reserved ``example.*`` ones and phone numbers come from the ranges ARCEP
sets aside for fiction, so no sample ever points at a real person.
"""

from __future__ import annotations

from dataclasses import dataclass

from relais.domain.opco import OpcoCode


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


PRENOMS_M: tuple[str, ...] = _names(
    """
    Lucas, Hugo, Louis, Gabriel, Arthur, Jules, Adam, Raphaël, Léo, Nathan, Théo, Maël,
    Noah, Tom, Enzo, Mathis, Ethan, Sacha, Timéo, Yanis, Kylian, Axel, Clément, Baptiste,
    Antoine, Maxime, Quentin, Loïc, Jérémy, Mehdi, Rayan, Bastien, Valentin, Killian,
    Alexis, Romain, Thibault, Noé
"""
)
PRENOMS_F: tuple[str, ...] = _names(
    """
    Emma, Jade, Louise, Alice, Chloé, Léa, Manon, Inès, Camille, Zoé, Lina, Sarah,
    Juliette, Léna, Anaïs, Clara, Maëlys, Océane, Lou, Rose, Noémie, Mathilde, Pauline,
    Élodie, Margaux, Justine, Laura, Marine, Yasmine, Héloïse, Salomé, Agathe, Capucine,
    Eva, Ambre, Romane, Nina, Célia
"""
)
NOMS: tuple[str, ...] = _names(
    """
    Martin, Bernard, Thomas, Petit, Robert, Richard, Durand, Dubois, Moreau, Laurent,
    Simon, Michel, Lefèvre, Leroy, Roux, David, Bertrand, Morel, Fournier, Girard, Bonnet,
    Dupont, Lambert, Fontaine, Rousseau, Vincent, Muller, Lefebvre, Faure, André, Mercier,
    Blanc, Guérin, Boyer, Garnier, Chevalier, François, Legrand, Gauthier, Garcia, Perrin,
    Robin, Clément, Morin, Nicolas, Henry, Roussel, Mathieu, Gautier, Masson, Marchand,
    Duval, Denis, Dumont, Marie, Lemaire, Noël, Meyer, Dufour, Meunier, Brun, Blanchard,
    Giraud, Joly, Rivière, Lucas, Brunet, Gaillard, Barbier, Arnaud, Le Gall, Le Goff,
    Santini, Colonna, Dupont-Moreau, Nguyen, Benali, Da Silva
"""
)
VOIES: tuple[str, ...] = _names(
    """
    rue de la République, avenue Jean Jaurès, boulevard Victor Hugo, rue des Lilas,
    place de la Mairie, rue Pasteur, chemin des Vignes, allée des Tilleuls,
    impasse du Moulin, rue du Général de Gaulle, rue Nationale, avenue de la Gare,
    rue des Écoles, quai des Bateliers, rue Émile Zola, route de Paris
"""
)


@dataclass(frozen=True)
class Commune:
    nom: str
    departement: str  # "75", "2A", "01"...
    code_postal: str
    insee: str  # INSEE commune code (5 chars, "2A004" in Corsica)


COMMUNES: tuple[Commune, ...] = (
    Commune("Paris", "75", "75011", "75111"),
    Commune("Paris", "75", "75015", "75115"),
    Commune("Lyon", "69", "69003", "69383"),
    Commune("Marseille", "13", "13005", "13205"),
    Commune("Toulouse", "31", "31000", "31555"),
    Commune("Nantes", "44", "44000", "44109"),
    Commune("Bordeaux", "33", "33000", "33063"),
    Commune("Lille", "59", "59000", "59350"),
    Commune("Strasbourg", "67", "67000", "67482"),
    Commune("Rennes", "35", "35000", "35238"),
    Commune("Montpellier", "34", "34000", "34172"),
    Commune("Nice", "06", "06000", "06088"),
    Commune("Ajaccio", "2A", "20000", "2A004"),
    Commune("Bastia", "2B", "20200", "2B033"),
    Commune("Dijon", "21", "21000", "21231"),
    Commune("Grenoble", "38", "38000", "38185"),
    Commune("Rouen", "76", "76000", "76540"),
    Commune("Tours", "37", "37000", "37261"),
    Commune("Clermont-Ferrand", "63", "63000", "63113"),
    Commune("Metz", "57", "57000", "57463"),
    Commune("Brest", "29", "29200", "29019"),
    Commune("Limoges", "87", "87000", "87085"),
    Commune("Amiens", "80", "80000", "80021"),
    Commune("Besançon", "25", "25000", "25056"),
    Commune("Orléans", "45", "45000", "45234"),
    Commune("Caen", "14", "14000", "14118"),
    Commune("Reims", "51", "51100", "51454"),
    Commune("Le Mans", "72", "72000", "72181"),
    Commune("Angers", "49", "49000", "49007"),
    Commune("Saint-Étienne", "42", "42000", "42218"),
    Commune("Nancy", "54", "54000", "54395"),
    Commune("Perpignan", "66", "66000", "66136"),
    Commune("Pau", "64", "64000", "64445"),
    Commune("Poitiers", "86", "86000", "86194"),
    Commune("Annecy", "74", "74000", "74010"),
    Commune("Bourg-en-Bresse", "01", "01000", "01053"),
    Commune("Laon", "02", "02000", "02408"),
    Commune("Valence", "26", "26000", "26362"),
)

# NAF codes plausible for each OPCO's branches (the IDCC, drawn from the referential, decides).
NAF_BY_OPCO: dict[OpcoCode, tuple[tuple[str, str], ...]] = {
    OpcoCode.AFDAS: (("9001Z", "Théâtre"), ("5911A", "Production"), ("9311Z", "Sport")),
    OpcoCode.AKTO: (("5610A", "Restaurant"), ("8121Z", "Propreté"), ("5510Z", "Hôtel")),
    OpcoCode.ATLAS: (("6201Z", "Logiciels"), ("7022Z", "Conseil"), ("6920Z", "Expertise")),
    OpcoCode.CONSTRUCTYS: (
        ("4321A", "Électricité"),
        ("4120A", "Bâtiment"),
        ("4399C", "Maçonnerie"),
    ),
    OpcoCode.OPCOMMERCE: (("4711D", "Supermarché"), ("4771Z", "Boutique"), ("4719B", "Bazar")),
    OpcoCode.OCAPIAT: (("0111Z", "Exploitation"), ("1013A", "Salaisons"), ("0161Z", "Agricole")),
    OpcoCode.OPCO2I: (("2511Z", "Métallerie"), ("2562B", "Mécanique"), ("2229A", "Plasturgie")),
    OpcoCode.OPCOEP: (("1071C", "Boulangerie"), ("9602A", "Coiffure"), ("4322A", "Plomberie")),
    OpcoCode.MOBILITES: (("4520A", "Garage"), ("4941A", "Transports"), ("5229B", "Logistique")),
    OpcoCode.SANTE: (("8610Z", "Clinique"), ("8710A", "EHPAD"), ("8690D", "Soins")),
    OpcoCode.UNIFORMATION: (("8899B", "Association"), ("9499Z", "Maison"), ("8810A", "Aide")),
}

ENSEIGNES: tuple[str, ...] = (
    "du Centre",
    "des Alpes",
    "de l'Ouest",
    "Duval et Fils",
    "Horizon",
    "Atlantique",
    "Plein Sud",
    "Saint-Michel",
    "des Trois Rivières",
    "Lumière",
    "Avenir",
    "du Parc",
    "Bel Air",
    "Majestic",
)

CAISSES: tuple[str, ...] = ("AG2R Agirc-Arrco", "Malakoff Humanis", "Humanis", "Klesia", "Apicil")


@dataclass(frozen=True)
class Programme:
    intitule: str
    rncp: str
    code_diplome: str  # CFD, 8 chars
    type_diplome: int  # 2.5.4 code (CERFA *14 list)
    niveau: int  # certification level 3-8
    annees: int  # usual length in years
    age_min: int  # usual age of entrants
    age_max: int
    heures_par_an: int


PROGRAMMES: tuple[Programme, ...] = (
    Programme("CAP Cuisine", "RNCP37859", "50022137", 33, 3, 2, 16, 20, 400),
    Programme("CAP Boulanger", "RNCP35316", "50022141", 33, 3, 2, 16, 21, 420),
    Programme("CAP Métiers de la coiffure", "RNCP37498", "50033617", 33, 3, 2, 16, 22, 400),
    Programme("CAP Électricien", "RNCP36347", "50025520", 33, 3, 2, 16, 20, 420),
    Programme("Bac pro Maintenance des véhicules", "RNCP35582", "40025214", 41, 4, 3, 16, 20, 600),
    Programme(
        "Bac pro Métiers du commerce et de la vente", "RNCP32208", "40031213", 41, 4, 2, 17, 21, 560
    ),
    Programme(
        "BTS Management commercial opérationnel", "RNCP38368", "32031213", 54, 5, 2, 18, 25, 675
    ),
    Programme(
        "BTS Services informatiques aux organisations",
        "RNCP35340",
        "32032612",
        54,
        5,
        2,
        18,
        25,
        675,
    ),
    Programme("BTS Comptabilité et gestion", "RNCP38329", "32031406", 54, 5, 2, 18, 25, 675),
    Programme(
        "BUT Génie électrique et informatique industrielle",
        "RNCP35453",
        "25120101",
        64,
        6,
        3,
        18,
        24,
        600,
    ),
    Programme("Licence pro Métiers de l'industrie", "RNCP29968", "25020011", 62, 6, 1, 20, 27, 450),
    Programme(
        "Master Management des organisations", "RNCP34033", "13531207", 73, 7, 2, 21, 29, 450
    ),
    Programme(
        "Diplôme d'ingénieur en génie industriel", "RNCP36521", "17025001", 75, 7, 3, 20, 27, 600
    ),
    Programme(
        "Titre professionnel Agent de propreté et d'hygiène",
        "RNCP34692",
        "46T33101",
        38,
        3,
        1,
        17,
        29,
        400,
    ),
    Programme(
        "BTS Négociation et digitalisation de la relation client",
        "RNCP38368",
        "32031212",
        54,
        5,
        2,
        18,
        26,
        675,
    ),
)

# Highest diploma obtained before a programme of each level (2.5.4 codes).
PRIOR_DIPLOMAS: dict[int, tuple[int, ...]] = {
    3: (13, 25, 26),
    4: (25, 33, 34),
    5: (41, 42, 43),
    6: (54, 55, 41, 42),
    7: (62, 63, 64),
}

EMPLOIS_MAITRE: tuple[str, ...] = (
    "Chef d'équipe",
    "Responsable d'atelier",
    "Gérant",
    "Chef de cuisine",
    "Technicien supérieur",
    "Ingénieur",
    "Responsable de magasin",
    "Comptable",
    "Chef de projet",
    "Artisan",
)
DIPLOMES_MAITRE: dict[int, str] = {
    3: "CAP",
    4: "Baccalauréat professionnel",
    5: "BTS",
    6: "Licence",
    7: "Master",
    8: "Doctorat",
}

MOTIFS_RUPTURE: tuple[str, ...] = (
    "Rupture d'un commun accord",
    "Rupture pendant les 45 premiers jours de formation pratique",
    "Démission de l'apprenti",
    "Licenciement pour faute grave",
    "Obtention du diplôme",
    "Inaptitude constatée par le médecin du travail",
)

CFA_NAMES: tuple[str, ...] = (
    "CFA des Métiers de l'Artisanat",
    "CFA Interprofessionnel du Grand Ouest",
    "CFA de l'Industrie et du Numérique",
    "CFA Commerce et Services",
    "CFA du Bâtiment et des Travaux Publics",
    "CFA Agricole et Agroalimentaire",
)

# ARCEP numbers reserved for fiction (audiovisual works): no real subscriber.
PHONE_PREFIXES: tuple[str, ...] = ("019900", "026191", "035301", "046571", "053649", "063998")
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net")
