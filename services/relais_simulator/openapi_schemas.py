"""The component schemas of the convergence API's OpenAPI document, one entry per body (a catalogue
as code, read with schemas/convergence/README.md); ``openapi.py`` builds the document around them.
Objects stay open (``additionalProperties``) where the standard is vague.
"""

from __future__ import annotations

from typing import Any, get_args

from relais.domain.followups import NatureLigne
from relais.domain.json_types import Json
from relais_simulator.openapi_documents import DOCUMENT_SCHEMAS
from relais_simulator.openapi_errors import ERROR_SCHEMAS

ETATS_DOSSIER = [
    "TRANSMIS",
    "EN_COURS_INSTRUCTION",
    "ENGAGE",
    "REFUSE",
    "ANNULE",
    "RUPTURE",
    "SOLDE",
]
ETATS_FACTURE = ["TRANSMIS", "EN_COURS_INSTRUCTION", "REGLE", "REFUSE"]


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _str(**extra: Any) -> Json:
    return {"type": "string", **extra}


def _nullable(schema: Json) -> Json:
    return {**schema, "nullable": True}


DATE = _str(description="YYYY-MM-DDT00:00:00+00:00 (lenient on input: Z, +0000, plain date)")
MONEY = {"type": "number", "description": "euros"}


def _obj(properties: Json, required: list[str] | None = None, **extra: Any) -> Json:
    out: Json = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _page(items_name: str, item: Json) -> Json:
    return _obj(
        {
            "total": {"type": "integer", "minimum": 0},
            "count": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            items_name: {"type": "array", "items": item},
        },
        ["total", "count", "page", items_name],
    )


def maybe_wrapped(name: str, items_name: str) -> Json:
    """A page in the OPCO profile's ``etats.page_shape``: the page object; the same page wrapped
    in a one-element array (older AKTO notes, convergence-api.md 1.5, B); or every item in a
    top-level array, no page wrapper (convergence-api.md 0, a working ERP client, A-)."""
    return {
        "oneOf": [
            ref(name),
            {"type": "array", "items": ref(name), "minItems": 1, "maxItems": 1},
            {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{name}/properties/{items_name}/items"},
            },
        ]
    }


NATURES_LIGNE = list(get_args(NatureLigne))

SCHEMAS: Json = {
    **ERROR_SCHEMAS,
    **DOCUMENT_SCHEMAS,
    "Status": _obj({"status": _str(), "opco": _str(), "version": _str()}, ["status", "opco"]),
    "Adresse": _obj(
        {
            "numero": {"type": "integer"},
            "repetitionVoie": _str(),
            "voie": _str(),
            "complement": _str(),
            "label": _str(),
            "codePostal": _str(pattern="^[0-9]{5}$"),
            "commune": _str(),
        }
    ),
    "Employeur": _obj(
        {
            "denomination": _str(),
            "siret": _str(pattern="^[0-9]{14}$"),
            "naf": _str(),
            "nombreDeSalaries": {"type": "integer"},
            "codeIdcc": _str(),
            "typeEmployeur": {"type": "integer"},
            "employeurSpecifique": {"type": "integer"},
            "adresse": ref("Adresse"),
        },
        ["siret"],
    ),
    "Apprenti": _obj(
        {
            "nom": _str(),
            "prenom": _str(),
            "sexe": _str(enum=["M", "F"]),
            "dateNaissance": DATE,
            "nir": _str(),
            "adresse": ref("Adresse"),
        },
        ["nom", "prenom", "dateNaissance"],
    ),
    "Contrat": _obj(
        {
            "typeContratApp": {"type": "integer"},
            "typeDerogation": _nullable({"type": "integer"}),
            "noContrat": _nullable(_str()),
            "numeroContratPrecedent": _nullable(_str()),
            "dateConclusion": DATE,
            "dateDebutContrat": DATE,
            "dateFinContrat": DATE,
            "dateRupture": _nullable(DATE),
            "salaireEmbauche": {"type": "number"},
            "remunerationsAnnuelles": {"type": "array", "items": {"type": "object"}},
        },
        ["typeContratApp", "dateDebutContrat", "dateFinContrat"],
    ),
    "Formation": _obj(
        {
            "rncp": _str(),
            "codeDiplome": _str(),
            "typeDiplome": {"type": "integer"},
            "intituleQualification": _str(),
            "dateDebutFormation": DATE,
            "dateFinFormation": DATE,
            "dureeFormation": {"type": "integer"},
            "nombreHeuresEnDistanciel": {"type": "integer"},
        }
    ),
    "OrganismeFormation": _obj(
        {
            "denomination": _str(),
            "siret": _str(pattern="^[0-9]{14}$"),
            "uaiCfa": _str(),
            "adresse": ref("Adresse"),
        },
        ["siret"],
    ),
    "Cerfa": _obj(
        {
            "versionCERFA": _str(),
            "CERFASignatureProbante": {"type": "boolean"},
            "employeur": ref("Employeur"),
            "apprenti": ref("Apprenti"),
            "maitre1": {"type": "object"},
            "maitre2": {"type": "object"},
            "formation": ref("Formation"),
            "contrat": ref("Contrat"),
            "organismeFormation": ref("OrganismeFormation"),
            "organismeFormationLieuFormationPrincipal": {"type": "object"},
        },
        ["employeur", "apprenti", "contrat", "formation", "organismeFormation"],
        description="The CERFA 10103 data (convergence-api.md §2); open to more fields.",
    ),
    "CerfaRead": {
        "allOf": [
            ref("Cerfa"),
            _obj(
                {
                    "numeroInterne": _str(),
                    "numeroExterne": _str(),
                    "numeroDeca": _nullable(_str()),
                    "etat": _str(enum=ETATS_DOSSIER),
                    "commentaireEtat": _nullable(_str()),
                },
                ["numeroInterne", "numeroExterne", "etat"],
            ),
        ]
    },
    "DossierSubmit": _obj({"cerfa": ref("Cerfa")}, ["cerfa"]),
    "DossierCreated": _obj(
        {"numeroInterne": _str(), "numeroExterne": _str(), "etat": _str(enum=ETATS_DOSSIER)},
        ["numeroInterne", "numeroExterne", "etat"],
    ),
    "EtatDossierResult": _obj(
        {
            "numeroInterne": _str(),
            "numeroExterne": _str(),
            "numeroDeca": _nullable(_str()),
            "etat": _str(enum=ETATS_DOSSIER),
        },
        ["numeroInterne", "numeroExterne", "etat"],
    ),
    "DossierEtatsPage": _page("EtatDossierResult", ref("EtatDossierResult")),
    "DossierListeItem": _obj({"cerfa": ref("CerfaRead")}, ["cerfa"]),
    "Echeance": _obj(
        {
            "numero": {"type": "integer"},
            "codification": _str(),
            "montantTotal": MONEY,
            "montantRegle": MONEY,
            "montantEnCoursInstruction": MONEY,
            "dateOuverture": DATE,
            "dateDebut": DATE,
            "dateFin": DATE,
            "iban": _nullable(_str()),
            "IBAN": _nullable(_str()),
        },
        ["numero", "montantTotal", "montantRegle", "montantEnCoursInstruction", "dateOuverture"],
    ),
    "FraisAnnexe": _obj(
        {
            "natureFrais": _str(
                description="RESTAURATION, HEBERGEMENT, PREMIEREQUIPEMENT, "
                "MOBILITE; case varies by OPCO (compare case-insensitively)"
            ),
            "quantite": {"type": "integer"},
            "prixUnitaire": MONEY,
            "montantTotal": MONEY,
        },
        ["natureFrais", "montantTotal"],
    ),
    "DossierRead": _obj(
        {
            "cerfa": ref("CerfaRead"),
            "engagement": _nullable(MONEY),
            "echeances": {"type": "array", "items": ref("Echeance")},
            "engagementsFraisAnnexe": {"type": "array", "items": ref("FraisAnnexe")},
            "detailsFacturation": _obj(
                {
                    "iban": _nullable(_str()),
                    "IBAN": _nullable(_str()),
                    "plafondFraisPremierEquipement": MONEY,
                    "fraisPremierEquipementRegles": MONEY,
                    "plafondFraisMobilite": MONEY,
                    "fraisMobiliteRegles": MONEY,
                    "periodesFraisAnnexes": {"type": "array", "items": {"type": "object"}},
                }
            ),
        },
        ["cerfa", "echeances", "engagementsFraisAnnexe", "detailsFacturation"],
    ),
    "ConventionSubmit": _obj(
        {
            "numeroInterneDossier": _str(minLength=1),
            "couts": _obj(
                {
                    "coutTotalPedagogieCFA": MONEY,
                    "nombreRepasTotaux": {"type": "integer", "minimum": 0},
                    "nombreHebergementTotaux": {"type": "integer", "minimum": 0},
                    "montantPremierEquipement": MONEY,
                    "mentionMobiliteInternationale": {"type": "boolean"},
                }
            ),
            "dateSignature": DATE,
            "mandatEmployeur": {"type": "boolean"},
        },
        ["numeroInterneDossier"],
        description="Convention de formation (convergence-api.md §2.10).",
    ),
    "ConventionCreated": _obj(
        {"idConvention": _str(), "numeroInterneDossier": _str()},
        ["idConvention", "numeroInterneDossier"],
    ),
    "FactureLine": _obj(
        {
            "montant": {**MONEY, "exclusiveMinimum": True, "minimum": 0},
            "natureLigne": _str(enum=NATURES_LIGNE),
            "quantite": {"type": "integer", "minimum": 1},
            "numeroEcheance": {"type": "integer", "minimum": 1},
            "codificationEcheance": {
                "type": "integer",
                "minimum": 1,
                "maximum": 99,
                "description": "the échéance number, 99 for the dossier's last one",
            },
            "numeroDossier": _str(minLength=1, description="the dossier's numeroExterne"),
            "numeroDeca": _str(),
        },
        ["montant", "natureLigne", "numeroEcheance", "codificationEcheance", "numeroDossier"],
    ),
    "FactureSubmit": _obj(
        {
            "montantTotal": {**MONEY, "exclusiveMinimum": True, "minimum": 0},
            "numero": _str(minLength=1, description="the CFA's invoice number"),
            "dateEmission": DATE,
            "ibanEmetteur": _str(),
            "siretEmetteur": _str(),
            "estCertificatRealisation": {
                "type": "boolean",
                "description": "false on échéance 1, true later: the v1 certificat de réalisation",
            },
            "lignes": {"type": "array", "items": ref("FactureLine"), "minItems": 1},
        },
        ["montantTotal", "numero", "estCertificatRealisation", "lignes"],
        description="Facture (convergence-api.md 0, a working ERP client, A-).",
    ),
    "FactureCreated": _obj(
        {
            "numeroInterneFacture": _str(),
            "referenceFactureCFA": _str(),
            "etatFacture": _str(enum=ETATS_FACTURE),
        },
        ["numeroInterneFacture", "referenceFactureCFA", "etatFacture"],
    ),
    "FactureEtat": _obj(
        {
            "numeroInterneFacture": _str(),
            "referenceFactureCFA": _str(),
            "montantFacture": MONEY,
            "etatFacture": _str(enum=ETATS_FACTURE),
            "referenceVirement": _nullable(_str()),
            "dateReglement": _nullable(DATE),
            "commentaire": _nullable(_str()),
            "organismeFormation": _obj(
                {"siret": _str(), "iban": _nullable(_str()), "IBAN": _nullable(_str())}
            ),
            "dossiers": {
                "type": "array",
                "items": _obj(
                    {
                        "numeroInterneDossier": _str(),
                        "numeroExterneDossier": _nullable(_str()),
                        "numeroEcheance": {"type": "integer"},
                        "montant": MONEY,
                    }
                ),
            },
        },
        ["numeroInterneFacture", "referenceFactureCFA", "montantFacture", "etatFacture"],
    ),
    "FactureEtatsPage": _page("factures", ref("FactureEtat")),
    "CertificatSubmit": _obj(
        {
            "typeCertificat": _str(enum=["Intermediaire", "Final"]),
            "numeroInterneDossier": _str(minLength=1),
            "numeroInterneFacture": _str(),
            "dateSignature": DATE,
            "echeance": _obj(
                {
                    "numero": {"type": "integer", "minimum": 1},
                    "codification": _str(),
                    "duree": {"type": "number"},
                    "dateDebut": DATE,
                    "dateFin": DATE,
                    "echeancePartielle": {"type": "boolean"},
                },
                ["numero"],
            ),
        },
        ["numeroInterneDossier", "echeance"],
        description="Certificat de réalisation (convergence-api.md §2.12).",
    ),
    "CertificatCreated": _obj({"idCertificat": _str()}, ["idCertificat"]),
    "RuptureSubmit": _obj(
        {"numeroInterne": _str(minLength=1), "dateRupture": DATE, "motif": _str()},
        ["numeroInterne", "dateRupture"],
        description="Rupture by the employer (body assumed, convergence-api.md §2.14).",
    ),
    "RuptureDone": _obj(
        {"numeroInterne": _str(), "etat": _str(enum=ETATS_DOSSIER)}, ["numeroInterne", "etat"]
    ),
    "KeyInfo": _obj(
        {
            "status": _str(enum=["success", "error"]),
            "dateFinValidite": _nullable(DATE),
            "comment": _str(),
        },
        ["status"],
    ),
    "Token": _obj(
        {
            "access_token": _str(),
            "token_type": _str(enum=["Bearer"]),
            "expires_in": {"type": "integer"},
        },
        ["access_token", "token_type", "expires_in"],
    ),
}
