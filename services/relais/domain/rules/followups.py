"""Rules on the follow-up bodies: convention (2.10), facture (2.11), certificat (2.12), rupture.

Financial rules of 3.6 that the body alone can decide: frais annexes bounds (premier équipement
at most 500 €), amounts not negative, an invoice's lines adding up to its total, the IBAN key.
The pedagogical cost against the NPEC needs the NPEC referential, which relais does not hold.
"""

from __future__ import annotations

from collections.abc import Iterator

from relais.domain.findings import Finding, error, join, warning
from relais.domain.followups import Certificat, Convention, Facture, Rupture
from relais.domain.rules.context import RuleContext, blank
from relais.domain.rules.format import siret, uai
from relais.domain.rules.identifiers import Check, check_iban
from relais.domain.rules.required import required_fields

PREMIER_EQUIPEMENT_MAX = 500.0
TOLERANCE_EUR = 0.01
CERTIFICAT_TYPES = ("Intermediaire", "Final")


def check_convention(body: Convention, ctx: RuleContext) -> Iterator[Finding]:
    yield from required_fields(body, "", ("couts", "dateSignature"))
    if body.employeur is not None:
        yield from siret(body.employeur.siret, "employeur")
    if body.organismeFormation is not None:
        yield from siret(body.organismeFormation.siret, "organismeFormation")
        yield from uai(body.organismeFormation.uaiCfa, "organismeFormation")
    couts = body.couts
    if couts is not None:
        yield from required_fields(couts, "couts", ("coutTotalPedagogieCFA",))
        if couts.coutTotalPedagogieCFA is not None and couts.coutTotalPedagogieCFA <= 0:
            yield error(
                "CONVENTION_COUT_PEDAGOGIQUE",
                "couts.coutTotalPedagogieCFA",
                "Le coût pédagogique de la convention doit être positif.",
            )
        for name in (
            "montantRQTHAnnee1",
            "montantRQTHAnnee2",
            "montantRQTHAnnee3",
            "montantRQTHAnnee4",
            "nombreRepasTotaux",
            "nombreHebergementTotaux",
            "montantPremierEquipement",
        ):
            value = getattr(couts, name)
            if value is not None and value < 0:
                yield error(
                    "MONTANT_NEGATIF", join("couts", name), "Cette valeur ne peut être négative."
                )
        if (
            couts.montantPremierEquipement is not None
            and couts.montantPremierEquipement > PREMIER_EQUIPEMENT_MAX
        ):
            yield error(
                "CONVENTION_PREMIER_EQUIPEMENT_PLAFOND",
                "couts.montantPremierEquipement",
                "Les frais de premier équipement sont plafonnés à 500 €.",
            )
    if body.dateSignature is not None and body.dateSignature > ctx.today:
        yield warning(
            "CONVENTION_SIGNATURE_FUTURE",
            "dateSignature",
            "La date de signature de la convention est postérieure à aujourd'hui.",
        )
    c = body.contrat
    c_start = c.dateDebutContrat if c is not None else None
    c_end = c.dateFinContrat if c is not None else None
    if c_start is not None and c_end is not None and c_end <= c_start:
        yield error(
            "CONTRAT_FIN_AVANT_DEBUT",
            "contrat.dateFinContrat",
            "La date de fin du contrat doit être postérieure à sa date de début.",
        )
    f = body.formation
    f_start = f.dateDebutFormation if f is not None else None
    f_end = f.dateFinFormation if f is not None else None
    if f_start is not None and f_end is not None and f_end < f_start:
        yield error(
            "FORMATION_FIN_AVANT_DEBUT",
            "formation.dateFinFormation",
            "La date de fin de formation doit être postérieure à sa date de début.",
        )
    for name in ("attestationConventionSigneeEntreprise", "attestationConventionSigneeCFA"):
        if getattr(body, name) is False:
            yield error(
                "CONVENTION_NON_SIGNEE",
                name,
                "La convention doit être signée par l'employeur et par le CFA avant son dépôt.",
            )


def check_facture(body: Facture, ctx: RuleContext) -> Iterator[Finding]:
    yield from required_fields(
        body, "", ("referenceFactureCFA", "dateFacture", "montantFacture", "organismeFormation")
    )
    if body.referenceFactureCFA is not None and len(body.referenceFactureCFA) > 50:
        yield error(
            "LONGUEUR_MAX",
            "referenceFactureCFA",
            "La référence de facture : 50 caractères au plus.",
        )
    if body.montantFacture is not None and body.montantFacture <= 0:
        yield error(
            "FACTURE_MONTANT", "montantFacture", "Le montant de la facture doit être positif."
        )
    if body.dateFacture is not None and body.dateFacture > ctx.today:
        yield warning("FACTURE_DATE_FUTURE", "dateFacture", "La facture est datée d'un jour futur.")
    org = body.organismeFormation
    if org is not None:
        yield from required_fields(org, "organismeFormation", ("siret",))
        yield from siret(org.siret, "organismeFormation")
        yield from uai(org.uaiCfa, "organismeFormation")
        iban_field = "iban" if org.iban is not None else "IBAN"
        iban = org.iban_value
        if blank(iban):
            yield error(
                "CHAMP_OBLIGATOIRE",
                "organismeFormation.iban",
                "Champ obligatoire non renseigné : IBAN du CFA.",
            )
        else:
            assert iban is not None
            result = check_iban(iban)
            if result is Check.FORMAT:
                yield error(
                    "FACTURE_IBAN_FORMAT",
                    f"organismeFormation.{iban_field}",
                    "L'IBAN n'a pas un format valide (2 lettres, 2 chiffres de contrôle, "
                    "puis 11 à 30 caractères).",
                )
            elif result is Check.KEY:
                yield error(
                    "FACTURE_IBAN_CLE",
                    f"organismeFormation.{iban_field}",
                    "L'IBAN est invalide : ses chiffres de contrôle ne correspondent pas.",
                )
    field = "dossiers" if body.dossiers is not None else "lignes"
    lines = body.dossiers if body.dossiers is not None else body.lignes
    if not lines:
        yield error(
            "FACTURE_SANS_LIGNE",
            field,
            "La facture doit porter au moins une ligne (dossier, échéance, montant).",
        )
        return
    seen: set[tuple[str, int]] = set()
    total = 0.0
    for i, line in enumerate(lines):
        path = join(field, i)
        yield from required_fields(line, path, ("numeroEcheance", "montant"))
        dossier = line.numeroInterneDossier or line.dossierId or line.numeroExterneDossier
        if blank(dossier):
            yield error(
                "FACTURE_LIGNE_SANS_DOSSIER",
                join(path, "numeroInterneDossier" if field == "dossiers" else "dossierId"),
                "Chaque ligne de facture doit désigner son dossier.",
            )
        if line.numeroEcheance is not None and line.numeroEcheance < 1:
            yield error(
                "FACTURE_NUMERO_ECHEANCE",
                join(path, "numeroEcheance"),
                "Le numéro d'échéance commence à 1.",
            )
        if line.montant is not None:
            total += line.montant
            if line.montant <= 0:
                yield error(
                    "FACTURE_LIGNE_MONTANT",
                    join(path, "montant"),
                    "Le montant d'une ligne de facture doit être positif.",
                )
        if dossier and line.numeroEcheance is not None:
            key = (str(dossier), line.numeroEcheance)
            if key in seen:
                yield error(
                    "FACTURE_LIGNE_DOUBLON",
                    path,
                    "La même échéance du même dossier est facturée deux fois.",
                )
            seen.add(key)
    if (
        body.montantFacture is not None
        and all(line.montant is not None for line in lines)
        and abs(total - body.montantFacture) > TOLERANCE_EUR + 1e-9 * abs(body.montantFacture)
    ):
        yield error(
            "FACTURE_MONTANT_TOTAL",
            "montantFacture",
            "Le montant de la facture n'est pas égal à la somme de ses lignes.",
        )


def check_certificat(body: Certificat, ctx: RuleContext) -> Iterator[Finding]:
    yield from required_fields(body, "", ("typeCertificat", "dateSignature", "echeance"))
    if not blank(body.typeCertificat) and body.typeCertificat not in CERTIFICAT_TYPES:
        folded = (body.typeCertificat or "").strip().lower().replace("é", "e")
        if folded in ("intermediaire", "final"):
            yield warning(
                "CERTIFICAT_TYPE_ORTHOGRAPHE",
                "typeCertificat",
                "Type de certificat attendu exactement « Intermediaire » ou « Final ».",
            )
        else:
            yield error(
                "CERTIFICAT_TYPE",
                "typeCertificat",
                "Le type de certificat doit être « Intermediaire » ou « Final ».",
            )
    if body.employeur is not None:
        yield from siret(body.employeur.siret, "employeur")
    if body.organismeFormation is not None:
        yield from siret(body.organismeFormation.siret, "organismeFormation")
        yield from uai(body.organismeFormation.uaiCfa, "organismeFormation")
    e = body.echeance
    if e is not None:
        yield from required_fields(e, "echeance", ("numero",))
        if e.numero is not None and e.numero < 1:
            yield error(
                "CERTIFICAT_NUMERO_ECHEANCE",
                "echeance.numero",
                "Le numéro d'échéance commence à 1.",
            )
        if e.duree is not None and e.duree < 0:
            yield error("MONTANT_NEGATIF", "echeance.duree", "La durée ne peut être négative.")
        if e.dateDebut is not None and e.dateFin is not None and e.dateFin < e.dateDebut:
            yield error(
                "CERTIFICAT_PERIODE_INVERSEE",
                "echeance.dateFin",
                "La fin de la période certifiée précède son début.",
            )
        if (
            body.dateSignature is not None
            and e.dateDebut is not None
            and body.dateSignature < e.dateDebut
        ):
            yield warning(
                "CERTIFICAT_SIGNE_AVANT_PERIODE",
                "dateSignature",
                "Le certificat est signé avant le début de la période qu'il certifie.",
            )
    if body.dateSignature is not None and body.dateSignature > ctx.today:
        yield warning(
            "CERTIFICAT_SIGNATURE_FUTURE",
            "dateSignature",
            "La date de signature du certificat est postérieure à aujourd'hui.",
        )


def check_rupture(body: Rupture, ctx: RuleContext) -> Iterator[Finding]:
    yield from required_fields(body, "", ("dateRupture", "motif"))
    if body.motif is not None and len(body.motif) > 255:
        yield error("LONGUEUR_MAX", "motif", "Le motif de rupture : 255 caractères au plus.")
    if body.dateRupture is not None and body.dateRupture > ctx.today:
        yield warning(
            "RUPTURE_DATE_FUTURE",
            "dateRupture",
            "La date de rupture est postérieure à aujourd'hui (rupture déclarée par avance).",
        )
