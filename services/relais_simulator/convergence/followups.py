"""The routes of what follows a dossier: convention, facture (and its etats), certificat, rupture
(documents: ``documents.py``). Each checks its body, finds its dossier for the key's CFA, runs the
follow-up rules the first time, then writes to the books (a repeat is a 409 with the existing
ids)."""

from __future__ import annotations

from starlette.responses import Response

from relais.domain.json_types import Json
from relais_simulator.convergence.context import (
    Context,
    bad_request,
    etats_page,
    json_object,
    read_json,
    route_body,
    string_field,
)
from relais_simulator.model import Dossier, Facture, FactureLine
from relais_simulator.state import Simulator
from relais_simulator.states import DossierEtat
from relais_simulator.store import OpcoStore, Rejection
from relais_simulator.wire import JsonResponse, cents, error_item, euros, read_date, wire_date


async def post_convention(sim: Simulator, ctx: Context) -> Response:
    body = await route_body(ctx, "conventions")
    ident = string_field(body, "numeroInterneDossier")
    couts = body.get("couts")
    if couts is not None and not isinstance(couts, dict):
        raise bad_request("couts", "Objet attendu", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterneDossier": ident}
    d = store.dossier_for(ctx.siret, ident)
    if d.numero_interne not in store.conventions:
        sim.check_followup("convention", body)
    c = store.add_convention(d, couts or {})
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["idConvention"] = c.id_convention
    return JsonResponse(
        {"idConvention": c.id_convention, "numeroInterneDossier": d.numero_interne},
        status_code=200,  # convergence-api.md 0: 200 = success
    )


NATURES = frozenset(
    {"PEDAGOGIE", "PREMIEREQUIPEMENT", "MOBILITE", "HEBERGEMENT", "RESTAURATION", "MAJORATION_RQTH"}
)
LAST_ECHEANCE = 99


def _facture_lines(body: Json, store: OpcoStore, siret: str) -> list[FactureLine]:
    """``lignes[{montant, natureLigne, quantite, numeroEcheance, codificationEcheance,
    numeroDossier}]``, ``numeroDossier`` the dossier's numeroExterne (convergence-api.md 0)."""
    raw = body.get("lignes")
    if not isinstance(raw, list) or not raw:
        raise bad_request("lignes", "Au moins une ligne attendue")
    lines: list[FactureLine] = []
    for i, item in enumerate(raw[:200]):
        item = json_object(item, f"lignes[{i}]")
        externe = item.get("numeroDossier")
        numero = item.get("numeroEcheance")
        code = item.get("codificationEcheance")
        montant = cents(item.get("montant"))
        if not isinstance(externe, str) or not externe.strip():
            raise bad_request(f"lignes[{i}].numeroDossier", "Champ obligatoire")
        if isinstance(numero, bool) or not isinstance(numero, int) or numero < 1:
            raise bad_request(f"lignes[{i}].numeroEcheance", "Entier positif attendu", "FORMAT")
        if montant is None or montant <= 0 or montant > 10**11:
            raise bad_request(f"lignes[{i}].montant", "Montant positif attendu", "FORMAT")
        if item.get("natureLigne") not in NATURES:
            raise bad_request(f"lignes[{i}].natureLigne", "Nature de ligne inconnue", "FORMAT")
        d = store.dossier_for(siret, store.by_externe(externe.strip()))
        last = max((e.numero for e in d.echeances), default=numero)
        expected = LAST_ECHEANCE if numero == last and code == LAST_ECHEANCE else numero
        if code != expected:
            raise bad_request(
                f"lignes[{i}].codificationEcheance",
                "Numéro de l'échéance attendu, ou 99 pour la dernière",
                "FORMAT",
            )
        lines.append(FactureLine(d.numero_interne, numero, montant))
    return lines


def _as_checked(body: Json, lines: list[FactureLine]) -> Json:
    """The facture in the names relais's control rules read (``relais.domain.followups``)."""
    return {
        "referenceFactureCFA": body.get("numero"),
        "dateFacture": body.get("dateEmission"),
        "montantFacture": body.get("montantTotal"),
        "organismeFormation": {
            "siret": body.get("siretEmetteur"),
            "iban": body.get("ibanEmetteur"),
        },
        "dossiers": [
            {
                "numeroInterneDossier": line.numero_interne_dossier,
                "numeroEcheance": line.numero_echeance,
                "montant": euros(line.montant),
            }
            for line in lines
        ],
    }


async def post_facture(sim: Simulator, ctx: Context) -> Response:
    body = await route_body(ctx, "factures")
    reference = string_field(body, "numero")
    montant = cents(body.get("montantTotal"))
    if montant is None or montant <= 0 or montant > 10**11:
        raise bad_request("montantTotal", "Montant positif attendu", "FORMAT")
    if not isinstance(body.get("estCertificatRealisation"), bool):
        raise bad_request("estCertificatRealisation", "Booléen attendu", "FORMAT")
    siret = body.get("siretEmetteur")
    if siret is not None and str(siret).strip() != ctx.siret:
        raise Rejection(
            403,
            "La clé API ne correspond pas à l'organisme de formation de la facture",
            [error_item("HABILITATION", "siretEmetteur", "SIRET différent")],
        )
    raw_iban = body.get("ibanEmetteur")
    iban = raw_iban if isinstance(raw_iban, str) else None
    store = sim.store(ctx.opco)
    lines = _facture_lines(body, store, ctx.siret)
    ctx.rec.ids = {"referenceFactureCFA": reference}
    if len({line.numero_interne_dossier for line in lines}) == 1:
        ctx.rec.ids["numeroInterneDossier"] = lines[0].numero_interne_dossier
    if store.find_facture(ctx.siret, reference) is None:
        sim.check_followup("facture", _as_checked(body, lines))
    f = store.add_facture(
        ctx.siret,
        reference,
        montant,
        read_date(body.get("dateEmission")),
        iban,
        lines,
        sim.clock.day(),
    )
    if iban:
        sim.iban_by_cfa[(ctx.opco, ctx.siret)] = iban
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["numeroInterneFacture"] = f.numero_interne_facture
    return JsonResponse(
        {
            "numeroInterneFacture": f.numero_interne_facture,
            "referenceFactureCFA": f.reference,
            "etatFacture": f.etat.value,
        },
        status_code=200,  # convergence-api.md 0: 200 = success
    )


def facture_item(ctx: Context, f: Facture, dossiers: dict[str, Dossier]) -> Json:
    return {
        "numeroInterneFacture": f.numero_interne_facture,
        "referenceFactureCFA": f.reference,
        "montantFacture": euros(f.montant),
        "etatFacture": f.etat.value,
        "referenceVirement": f.reference_virement,
        "dateReglement": wire_date(f.date_reglement),
        "commentaire": f.commentaire,
        "organismeFormation": {"siret": f.cfa_siret, ctx.profile.quirks.iban_field: f.iban},
        "dossiers": [
            {
                "numeroInterneDossier": line.numero_interne_dossier,
                "numeroExterneDossier": (
                    dossiers[line.numero_interne_dossier].numero_externe
                    if line.numero_interne_dossier in dossiers
                    else None
                ),
                "numeroEcheance": line.numero_echeance,
                "montant": euros(line.montant),
            }
            for line in f.lines
        ],
    }


async def factures_etats(sim: Simulator, ctx: Context) -> Response:
    store = sim.store(ctx.opco)
    ids = store.factures_of(ctx.siret)
    items = [facture_item(ctx, store.factures[i], store.dossiers) for i in ids]
    return etats_page(ctx, items, "factures")


async def post_certificat(sim: Simulator, ctx: Context) -> Response:
    body = json_object(await read_json(ctx.request), "body")
    ident = string_field(body, "numeroInterneDossier")
    echeance = json_object(body.get("echeance"), "echeance")
    numero = echeance.get("numero")
    if isinstance(numero, bool) or not isinstance(numero, int) or numero < 1:
        raise bad_request("echeance.numero", "Entier positif attendu", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterneDossier": ident, "numeroEcheance": str(numero)}
    d = store.dossier_for(ctx.siret, ident)
    if (d.numero_interne, numero) not in store.certificats:
        sim.check_followup("certificat", body)
    c = store.add_certificat(d, numero)
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids["idCertificat"] = c.id_certificat
    return JsonResponse({"idCertificat": c.id_certificat}, status_code=201)


async def post_rupture(sim: Simulator, ctx: Context) -> Response:
    body = json_object(await read_json(ctx.request), "body")
    ident = string_field(body, "numeroInterne")
    date_rupture = read_date(body.get("dateRupture"))
    if date_rupture is None:
        raise bad_request("dateRupture", "Date attendue", "FORMAT")
    store = sim.store(ctx.opco)
    ctx.rec.ids = {"numeroInterne": ident}
    d = store.dossier_for(ctx.siret, ident)
    if d.etat is not DossierEtat.RUPTURE:
        sim.check_followup("rupture", body)
    store.rupture(d, date_rupture, sim.clock.day())
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    return JsonResponse({"numeroInterne": d.numero_interne, "etat": d.etat.value})
