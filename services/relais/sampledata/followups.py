"""The follow-up events of a generated dossier: convention, facture, certificat de réalisation,
rupture, documents (a further file of each ``typeFichier``); each consistent with its dossier
(dates, amounts, échéances)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from relais.domain.document_event import TYPES_FICHIER, TypeFichier
from relais.domain.events import EventType
from relais.domain.json_types import Json
from relais.sampledata import catalogue as cat
from relais.sampledata import wages
from relais.sampledata.cerfa_parts import CerfaParts
from relais.sampledata.generated import GeneratedDossier
from relais.sampledata.pdfs import default_files_dir, write_pdf

DOCUMENT_NAMES: dict[TypeFichier, str] = {
    "CONVENTION_FORMATION": "convention-formation",
    "CONVENTION_REDUCTION_DUREE": "reduction-duree",
    "CONVENTION_MOBILITE": "convention-mobilite",
    "FACTURE": "facture",
    "CERTIFICAT_REALISATION": "certificat-realisation",
}
"""The file name (before ``-<dossier id>.pdf``) of a generated document of each type."""


class FollowUpEvents(CerfaParts):
    """The follow-ups of a dossier, on the generator's random stream and clock."""

    @property
    def files_base(self) -> Path:
        """Where the generated files are: one subdirectory per CFA SIRET (the layout of the
        ``files.local_base`` store, so each CFA's files are in the directory it is granted)."""
        return self._files_dir or default_files_dir()

    def _pdf(self, title: str, dossier: GeneratedDossier) -> Json:
        """The ``fichier`` of a convention, facture or document: a small PDF written for it in
        its CFA's directory."""
        return write_pdf(self.files_base / dossier.cfa.siret, f"{title}.pdf", title)

    def convention(self, dossier: GeneratedDossier, *, numero_interne: str | None = None) -> Json:
        """The convention de formation (2.10) of ``dossier``."""
        c = dossier.cerfa
        years = ((dossier.end - dossier.start).days + 1) / 365
        handicap = bool(c["apprenti"].get("handicap"))
        couts: Json = {
            "coutTotalPedagogieCFA": round(dossier.cout_annuel * years, 2),
            "nombreRepasTotaux": self.rng.choice((0, 0, 120, 240)),
            "nombreHebergementTotaux": self.rng.choice((0, 0, 0, 30, 60)),
            "montantPremierEquipement": float(self.rng.choice((0, 150, 300, 500))),
            "mentionMobiliteInternationale": False,
            "accompagnementDROM": False,
        }
        if handicap:
            couts["montantRQTHAnnee1"] = float(self.rng.choice((1000, 2000, 4000)))
        convention: Json = {
            "employeur": {"siret": c["employeur"]["siret"]},
            "apprenti": {"nom": c["apprenti"]["nom"], "prenom": c["apprenti"]["prenom"]},
            "contrat": {
                "dateDebutContrat": c["contrat"]["dateDebutContrat"],
                "dateFinContrat": c["contrat"]["dateFinContrat"],
            },
            "organismeFormation": {
                "siret": c["organismeFormation"]["siret"],
                "uaiCfa": c["organismeFormation"]["uaiCfa"],
            },
            "formation": {
                k: c["formation"][k]
                for k in (
                    "dateDebutFormation",
                    "dateFinFormation",
                    "dureeFormation",
                    "rncp",
                    "intituleQualification",
                )
            },
            "couts": couts,
            "mandatEmployeur": self.rng.random() < 0.5,
            "dateSignature": min(self.today, dossier.start).isoformat(),
            "attestationConventionSigneeEntreprise": True,
            "attestationConventionSigneeCFA": True,
            "attestationConventionSignatureProbante": True,
            "attestationConventionConformeJSON": True,
        }
        data: Json = {
            "convention": convention,
            "fichier": self._pdf(f"convention-{dossier.dossier_id}", dossier),
        }
        if numero_interne is not None:
            data["numeroInterneDossier"] = numero_interne
        return self.event(EventType.CONVENTION_SUBMITTED, dossier.cfa, dossier.dossier_id, data)

    def facture(
        self,
        dossiers: Sequence[GeneratedDossier],
        *,
        numero_echeance: int = 1,
        montants: Mapping[str, float] | None = None,
        date_facture: date | None = None,
    ) -> Json:
        """An invoice of one échéance for each of ``dossiers`` (all of one CFA), sent once the
        dossiers are ENGAGE. ``montants`` (by CFA dossier id) should come from the OPCO's
        échéancier; the default is 40 % of the convention's annual cost."""
        if not dossiers:
            raise ValueError("a facture covers at least one dossier")
        cfa = dossiers[0].cfa
        if any(d.cfa != cfa for d in dossiers):
            raise ValueError("a facture is issued by one CFA")
        lignes: list[Json] = [
            {
                "dossierId": d.dossier_id,
                "numeroEcheance": numero_echeance,
                "montant": round((montants or {}).get(d.dossier_id, d.cout_annuel * 0.4), 2),
                "natureLigne": "PEDAGOGIE",
            }
            for d in dossiers
        ]
        self._seq += 1
        reference = f"FAC-{cfa.code}-{self.today.year}-{self._seq:06d}"
        facture: Json = {
            "referenceFactureCFA": reference,
            "dateFacture": (date_facture or self.today).isoformat(),
            "montantFacture": round(sum(line["montant"] for line in lignes), 2),
            "organismeFormation": {"siret": cfa.siret, "iban": cfa.iban},
            "lignes": lignes,
            "fichier": self._pdf(reference, dossiers[0]),
        }
        return self.event(
            EventType.FACTURE_SUBMITTED, cfa, dossiers[0].dossier_id, {"facture": facture}
        )

    def certificat(
        self,
        dossier: GeneratedDossier,
        *,
        numero_echeance: int = 1,
        final: bool = False,
        numero_interne_facture: str | None = None,
    ) -> Json:
        """A certificat de réalisation (2.12) for one échéance of ``dossier``."""
        c = dossier.cerfa
        debut = dossier.start
        fin = min(dossier.end, wages.add_months(debut, 6) - timedelta(days=1))
        signataire_prenom = self.rng.choice(cat.PRENOMS_F + cat.PRENOMS_M)
        signataire_nom = self.rng.choice(cat.NOMS)
        certificat: Json = {
            "typeCertificat": "Final" if final else "Intermediaire",
            "dateSignature": max(self.today, fin).isoformat(),
            "lieuSignatureContrat": dossier.cfa.commune.nom,
            "representantLegal": {
                "nom": signataire_nom,
                "prenom": signataire_prenom,
                "qualite": "Directeur du CFA",
            },
            "attestationConservationPieces": True,
            "natureAction": "Apprentissage",
            "employeur": {"siret": c["employeur"]["siret"]},
            "organismeFormation": {"siret": c["organismeFormation"]["siret"]},
            "apprenti": {
                "nom": c["apprenti"]["nom"],
                "prenom": c["apprenti"]["prenom"],
                "dateNaissance": c["apprenti"]["dateNaissance"],
            },
            "echeance": {
                "numero": numero_echeance,
                "codification": f"A{numero_echeance}",
                "duree": c["formation"]["dureeFormation"] // 4,
                "dateDebut": debut.isoformat(),
                "dateFin": fin.isoformat(),
                "echeancePartielle": False,
            },
        }
        if numero_interne_facture is not None:
            certificat["numeroInterneFacture"] = numero_interne_facture
        dossier.extra_personal += [signataire_nom, signataire_prenom]
        return self.event(
            EventType.CERTIFICAT_SUBMITTED,
            dossier.cfa,
            dossier.dossier_id,
            {"certificat": certificat},
        )

    def rupture(
        self,
        dossier: GeneratedDossier,
        *,
        date_rupture: date | None = None,
        motif: str | None = None,
    ) -> Json:
        """An early termination of ``dossier``'s contract (after its start, before its end)."""
        if date_rupture is None:
            lo = dossier.start + timedelta(days=1)
            date_rupture = min(
                dossier.end, max(lo, self.today - timedelta(days=self.rng.randint(0, 5)))
            )
        data = {
            "rupture": {
                "dateRupture": date_rupture.isoformat(),
                "motif": motif or self.rng.choice(cat.MOTIFS_RUPTURE),
            }
        }
        return self.event(EventType.RUPTURE_DECLARED, dossier.cfa, dossier.dossier_id, data)

    def document(
        self,
        dossier: GeneratedDossier,
        type_fichier: TypeFichier = "CONVENTION_REDUCTION_DUREE",
        *,
        reference_facture: str | None = None,
    ) -> Json:
        """A further file for ``dossier`` (``fr.cfa.document.submitted.v1``): a small valid PDF
        written in its CFA's files directory, named by a local ``file://`` location; with
        ``reference_facture`` it attaches to that facture of the CFA too."""
        fichier = self._pdf(f"{DOCUMENT_NAMES[type_fichier]}-{dossier.dossier_id}", dossier)
        data: Json = {"typeFichier": type_fichier, "fichier": fichier}
        if reference_facture is not None:
            data["referenceFactureCFA"] = reference_facture
        return self.event(EventType.DOCUMENT_SUBMITTED, dossier.cfa, dossier.dossier_id, data)

    def documents(
        self, dossier: GeneratedDossier, *, reference_facture: str | None = None
    ) -> list[Json]:
        """One document event of each ``typeFichier`` for ``dossier`` (the demo's documents);
        the ``FACTURE`` one attaches to ``reference_facture`` when given."""
        return [
            self.document(
                dossier,
                kind,
                reference_facture=reference_facture if kind == "FACTURE" else None,
            )
            for kind in TYPES_FICHIER
        ]
