"""The routes of a dossier: its creation (the checks of an OPCO, then the books), its etats, its
reading (list and detail with échéances and frais), and the API's status and key information."""

from __future__ import annotations

from starlette.responses import Response

from relais.domain.json_types import Json
from relais_simulator.cerfa_facts import digest, natural_key
from relais_simulator.convergence.context import (
    Context,
    bad_request,
    etats_page,
    read_json,
)
from relais_simulator.model import Dossier, Echeance
from relais_simulator.spellings import spelling_warnings
from relais_simulator.state import Simulator
from relais_simulator.store import Rejection
from relais_simulator.validation import structural_errors
from relais_simulator.wire import JsonResponse, error_item, euros, wire_date


async def status(sim: Simulator, ctx: Context) -> Response:
    return JsonResponse({"status": "OK", "opco": ctx.opco.value, "version": sim.config.version})


async def cfakeyinfo(sim: Simulator, ctx: Context) -> Response:
    assert ctx.cfa is not None
    expired = ctx.cfa.expiry < sim.clock.today()
    return JsonResponse(
        {
            "status": "error" if expired else "success",
            "dateFinValidite": wire_date(ctx.cfa.expiry),
            "comment": "clé API CFA expirée" if expired else "",
        }
    )


async def post_dossier(sim: Simulator, ctx: Context) -> Response:
    body = await read_json(ctx.request)
    body_bytes = await ctx.request.body()  # cached: the bytes just parsed, kept as the record
    # no await below this line: the duplicate check and the creation are one atomic step
    if not isinstance(body, dict) or not isinstance(body.get("cerfa"), dict):
        raise bad_request("cerfa", "Objet cerfa attendu")
    cerfa: Json = body["cerfa"]
    ctx.rec.warnings = spelling_warnings(cerfa, ctx.profile.quirks)
    structural = structural_errors(cerfa)
    if structural:
        raise Rejection(400, "Dossier invalide", structural)
    of_siret = str(cerfa["organismeFormation"].get("siret", "")).strip()
    if of_siret != ctx.siret:
        raise Rejection(
            403,
            "La clé API ne correspond pas à l'organisme de formation du dossier",
            [error_item("HABILITATION", "organismeFormation.siret", "SIRET différent de la clé")],
        )
    key = natural_key(cerfa)
    if key is None:
        raise bad_request("cerfa", "Clé naturelle du dossier incomplète")
    store = sim.store(ctx.opco)
    ctx.rec.natural_key = digest(key)
    existing = store.find_duplicate_dossier(ctx.rec.natural_key)
    if existing is not None:
        raise Rejection(409, "Dossier déjà transmis", ids=store.dossier_ids(existing))
    rule_errors = sim.checker.rules(cerfa, sim.clock.today())
    if rule_errors:
        raise Rejection(422, "Dossier non conforme aux règles de contrôle", rule_errors)
    d = store.create_dossier(ctx.siret, key, cerfa, sim.clock.day(), ctx.version, body_bytes)
    ctx.rec.created = True
    ctx.rec.outcome = "created"
    ctx.rec.ids = {"numeroInterne": d.numero_interne, "numeroExterne": d.numero_externe}
    return JsonResponse(
        {
            "numeroInterne": d.numero_interne,
            "numeroExterne": d.numero_externe,
            "etat": d.etat.value,
        },
        status_code=200,  # convergence-api.md 0: 200 with numeroInterne and numeroExterne
    )


def etat_item(d: Dossier) -> Json:
    return {
        "numeroInterne": d.numero_interne,
        "numeroExterne": d.numero_externe,
        "numeroDeca": d.numero_deca,
        "etat": d.etat.value,
    }


async def dossiers_etats(sim: Simulator, ctx: Context) -> Response:
    store = sim.store(ctx.opco)
    items = [etat_item(store.dossiers[i]) for i in store.dossiers_of(ctx.siret)]
    return etats_page(ctx, items, "EtatDossierResult")


def read_cerfa(d: Dossier) -> Json:
    cerfa = dict(d.cerfa)
    if d.numero_deca is not None or d.date_rupture is not None:
        contrat = dict(cerfa.get("contrat") or {})
        if d.numero_deca is not None:
            contrat["noContrat"] = d.numero_deca
        if d.date_rupture is not None:
            contrat["dateRupture"] = wire_date(d.date_rupture)
        cerfa["contrat"] = contrat
    cerfa["numeroInterne"] = d.numero_interne
    cerfa["numeroExterne"] = d.numero_externe
    cerfa["numeroDeca"] = d.numero_deca
    cerfa["etat"] = d.etat.value
    cerfa["commentaireEtat"] = d.commentaire
    return cerfa


async def dossiers_liste(sim: Simulator, ctx: Context) -> Response:
    wanted: list[str] = []
    for raw in ctx.request.query_params.getlist("numerosInternes"):
        wanted.extend(x.strip() for x in raw.split(",") if x.strip())
    if not wanted:
        raise bad_request("numerosInternes", "Au moins un numéro interne attendu")
    store = sim.store(ctx.opco)
    out: list[Json] = []
    for ident in wanted[:500]:
        d = store.dossiers.get(ident)
        if d is not None and d.cfa_siret == ctx.siret:
            out.append({"cerfa": read_cerfa(d)})
    return JsonResponse(out)


def echeance_item(ctx: Context, e: Echeance, iban: str | None) -> Json:
    return {
        "numero": e.numero,
        "codification": e.codification,
        "montantTotal": euros(e.montant_total),
        "montantRegle": euros(e.montant_regle),
        "montantEnCoursInstruction": euros(e.montant_en_cours),
        "dateOuverture": wire_date(e.date_ouverture),
        "dateDebut": wire_date(e.date_debut),
        "dateFin": wire_date(e.date_fin),
        ctx.profile.quirks.iban_field: iban,
    }


def nature_frais(ctx: Context, nature: str) -> str:
    return nature.title() if ctx.profile.quirks.nature_frais_title_case else nature


async def dossier_detail(sim: Simulator, ctx: Context) -> Response:
    ident = ctx.request.query_params.get("numeroInterne", "").strip()
    if not ident:
        raise bad_request("numeroInterne", "Paramètre obligatoire")
    store = sim.store(ctx.opco)
    d = store.dossier_for(ctx.siret, ident)
    ctx.rec.ids = {"numeroInterne": d.numero_interne}
    iban = sim.iban_by_cfa.get((ctx.opco, d.cfa_siret))
    iban_field = ctx.profile.quirks.iban_field
    return JsonResponse(
        {
            "cerfa": read_cerfa(d),
            "engagement": None if d.engagement_cents is None else euros(d.engagement_cents),
            "echeances": [echeance_item(ctx, e, iban) for e in d.echeances],
            "engagementsFraisAnnexe": [
                {
                    "natureFrais": nature_frais(ctx, f.nature),
                    "quantite": f.quantite,
                    "prixUnitaire": euros(f.prix_unitaire_cents),
                    "montantTotal": euros(f.montant_cents),
                }
                for f in d.frais
            ],
            "detailsFacturation": {
                iban_field: iban,
                "plafondFraisPremierEquipement": 500.0,
                "fraisPremierEquipementRegles": 0.0,
                "plafondFraisMobilite": 600.0,
                "fraisMobiliteRegles": 0.0,
                "periodesFraisAnnexes": [],
            },
        }
    )
