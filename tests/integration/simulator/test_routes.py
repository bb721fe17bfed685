"""Every convergence route over raw HTTP, as the standard defines headers and bodies."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from relais.domain.opco import OpcoCode
from relais.domain.profiles import load_profiles
from relais.sampledata.generator import Generator
from relais_simulator.config import default_profiles_path
from tests.fixtures.simulator import DEFAULT_CFA_SIRET, FAR_EXPIRY, SimulatorProcess
from tests.integration.simulator.helpers import (
    advance_until,
    cerfa_for,
    engaged,
    facture_for,
    get,
    post,
    send,
    submit,
)
from tests.today import TODAY

pytestmark = pytest.mark.integration
PROFILES = load_profiles(default_profiles_path())
OTHER_CFA = "98765432400019"


@pytest.mark.parametrize("opco", [c.value for c in OpcoCode])
def test_status_and_key_info_at_every_opco(simulator: SimulatorProcess, opco: str) -> None:
    status = get(simulator, opco, "v1/status")
    assert status.status_code == 200
    assert status.json()["opco"] == opco
    info = get(simulator, opco, "v2/cfakeyinfo")
    assert info.status_code == 200
    assert info.json()["status"] == "success"
    assert info.json()["dateFinValidite"].startswith(FAR_EXPIRY)


@pytest.mark.parametrize(
    ("opco", "version"), [("AFDAS", "v1"), ("ATLAS", "v2"), ("AKTO", "v2"), ("OPCOEP", "v1")]
)
def test_dossier_submit_at_several_opco(
    fresh_simulator: SimulatorProcess, opco: str, version: str
) -> None:
    created = submit(fresh_simulator, opco, version=version)
    assert created["etat"] == "TRANSMIS"
    assert created["numeroInterne"] and created["numeroExterne"]
    (record,) = fresh_simulator.records(route="dossiers_post")
    assert record["opco"] == opco and record["version"] == version and record["created"]
    assert record["cfaSiret"] == DEFAULT_CFA_SIRET


def test_routes_an_opco_has_not_implemented_answer_501(simulator: SimulatorProcess) -> None:
    # from the shared profiles: SANTE has no dossiers, AFDAS no v2, ATLAS no certificats
    assert not PROFILES[OpcoCode.SANTE].capabilities.dossiers_v1
    r = post(simulator, "SANTE", "v1/dossiers", {"cerfa": cerfa_for("SANTE")})
    assert r.status_code == 501
    assert r.json()["message"] == "Route non implémentée par cet OPCO"
    assert post(simulator, "AFDAS", "v2/dossiers", {"cerfa": {}}).status_code == 501
    assert post(simulator, "ATLAS", "v2/certificats", {}).status_code == 501
    assert get(simulator, "UNIFORMATION", "v2/factures/etats").status_code == 501
    # unknown routes are 404, not 501
    assert get(simulator, "ATLAS", "v1/nothing-here").status_code == 404


def test_missing_software_headers_answer_400(simulator: SimulatorProcess) -> None:
    headers = simulator.headers("ATLAS")
    del headers["LOGICIEL"]
    r = httpx.get(simulator.api_url("ATLAS") + "/v1/status", headers=headers)
    assert r.status_code == 400
    assert "LOGICIEL: En-tête obligatoire" in r.json()["description"]  # ATLAS's shape


def test_unknown_and_expired_keys_answer_403(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    r = httpx.get(sim.api_url("ATLAS") + "/v1/status", headers=sim.headers("ATLAS", key="nope"))
    assert r.status_code == 403
    last_day = TODAY + timedelta(days=2)  # a key is valid through its expiry date included
    sim.add_key("11111111111111", "ATLAS", "old-key", last_day.isoformat())
    headers = sim.headers("ATLAS", key="old-key")
    assert httpx.get(sim.api_url("ATLAS") + "/v1/status", headers=headers).status_code == 200
    sim.advance(2)
    assert httpx.get(sim.api_url("ATLAS") + "/v1/status", headers=headers).status_code == 200
    sim.advance(1)
    expired = httpx.get(sim.api_url("ATLAS") + "/v1/status", headers=headers)
    assert expired.status_code == 403
    assert expired.json() == {"description": "clé API CFA expirée"}  # ATLAS's error shape
    info = httpx.get(sim.api_url("ATLAS") + "/v2/cfakeyinfo", headers=headers)
    assert info.status_code == 200 and info.json()["status"] == "error"


def test_a_cfa_cannot_submit_or_read_for_another_cfa(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    r = post(sim, "ATLAS", "v1/dossiers", {"cerfa": cerfa_for("ATLAS", siret=OTHER_CFA)})
    assert r.status_code == 403
    created = submit(sim, "ATLAS")
    other = get(sim, "ATLAS", "v1/dossiers", {"numeroInterne": created["numeroInterne"]}, OTHER_CFA)
    assert other.status_code == 403
    etats = get(sim, "ATLAS", "v1/dossiers/etats", siret=OTHER_CFA)
    assert etats.json()["total"] == 0


def test_structural_and_rule_errors(fresh_simulator: SimulatorProcess) -> None:
    """In the older notes' error shape ({message, errors[]}: OCAPIAT's profile)."""
    sim = fresh_simulator
    r = post(sim, "OCAPIAT", "v1/dossiers", {"cerfa": {"employeur": {}}})
    assert r.status_code == 400
    assert {e["champ"] for e in r.json()["errors"]} >= {"apprenti", "contrat"}
    bad = cerfa_for("OCAPIAT")
    bad["apprenti"]["nir"] = "123"
    bad["employeur"]["naf"] = "nope"
    r = post(sim, "OCAPIAT", "v1/dossiers", {"cerfa": bad})
    assert r.status_code == 422
    champs = {e["champ"] for e in r.json()["errors"]}
    assert "apprenti.nir" in champs
    assert all(set(e) == {"code", "champ", "description"} for e in r.json()["errors"])
    assert post(sim, "ATLAS", "v1/dossiers", [1, 2]).status_code == 400


def test_etats_are_paged_by_numero_page(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    size = PROFILES[OpcoCode.ATLAS].page_size
    ids = {submit(sim, "ATLAS", seed=i)["numeroInterne"] for i in range(size + 3)}
    first = get(sim, "ATLAS", "v2/dossiers/etats", {"numeroPage": 1}).json()
    second = get(sim, "ATLAS", "v2/dossiers/etats", {"numeroPage": 2}).json()
    third = get(sim, "ATLAS", "v2/dossiers/etats", {"numeroPage": 3}).json()
    assert (first["total"], first["count"], first["page"]) == (size + 3, size, 1)
    assert (second["count"], second["page"]) == (3, 2)
    assert third["count"] == 0 and third["EtatDossierResult"] == []
    seen = [e["numeroInterne"] for p in (first, second) for e in p["EtatDossierResult"]]
    assert set(seen) == ids and len(seen) == len(ids)
    assert get(sim, "ATLAS", "v2/dossiers/etats", {"numeroPage": 0}).status_code == 400


def test_akto_wraps_pages_in_a_one_element_array(fresh_simulator: SimulatorProcess) -> None:
    submit(fresh_simulator, "AKTO")
    body = get(fresh_simulator, "AKTO", "v2/dossiers/etats", {"numeroPage": 1}).json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["total"] == 1
    factures = get(fresh_simulator, "AKTO", "v2/factures/etats").json()
    assert isinstance(factures, list) and factures[0]["factures"] == []


def test_state_machine_advances_with_the_clock(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    created = submit(sim, "ATLAS")
    refused = post(sim, "ATLAS", "v1/dossiers", {"cerfa": _refusable()})
    assert refused.status_code == 200

    def etats() -> dict[str, str]:
        page = get(sim, "ATLAS", "v1/dossiers/etats").json()
        return {e["numeroInterne"]: e["etat"] for e in page["EtatDossierResult"]}

    assert set(etats().values()) == {"TRANSMIS"}
    sim.advance(1)
    assert set(etats().values()) == {"EN_COURS_INSTRUCTION"}
    sim.advance(2)
    final = etats()
    assert final[created["numeroInterne"]] == "ENGAGE"
    assert final[refused.json()["numeroInterne"]] == "REFUSE"
    detail = get(sim, "ATLAS", "v1/dossiers", {"numeroInterne": refused.json()["numeroInterne"]})
    assert detail.json()["cerfa"]["commentaireEtat"]


def _refusable() -> dict[str, object]:
    cerfa = cerfa_for("ATLAS", seed=99)
    cerfa["apprenti"]["nom"] = "REFUS"
    return cerfa


def test_detail_and_liste(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    detail = engaged(sim, "ATLAS")
    cerfa = detail["cerfa"]
    assert cerfa["numeroDeca"] and cerfa["contrat"]["noContrat"] == cerfa["numeroDeca"]
    assert detail["engagement"] > 0
    assert sum(e["montantTotal"] for e in detail["echeances"]) == pytest.approx(
        detail["engagement"]
    )
    assert detail["echeances"][0]["codification"] == "E1"
    other = submit(sim, "ATLAS", seed=2)
    numeros = f"{cerfa['numeroInterne']},{other['numeroInterne']},unknown"
    liste = get(sim, "ATLAS", "v1/dossiers/liste", {"numerosInternes": numeros}).json()
    assert [d["cerfa"]["numeroInterne"] for d in liste] == [
        cerfa["numeroInterne"],
        other["numeroInterne"],
    ]
    assert get(sim, "ATLAS", "v1/dossiers", {"numeroInterne": "000"}).status_code == 404


def test_convention_once_per_dossier(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    created = submit(sim, "OPCO2I")
    body = {
        "numeroInterneDossier": created["numeroInterne"],
        "couts": {"coutTotalPedagogieCFA": 6500, "nombreRepasTotaux": 40},
    }
    first = send(sim, "OPCO2I", "v1/conventions", body)
    assert first.status_code == 200
    again = send(sim, "OPCO2I", "v1/conventions", body)
    assert again.status_code == 409
    assert again.json()["idConvention"] == first.json()["idConvention"]
    unknown = send(sim, "OPCO2I", "v1/conventions", {"numeroInterneDossier": "000"})
    assert unknown.status_code == 404
    sim.advance(5)
    detail = get(sim, "OPCO2I", "v1/dossiers", {"numeroInterne": created["numeroInterne"]})
    frais = detail.json()["engagementsFraisAnnexe"]
    assert frais == [
        {"natureFrais": "RESTAURATION", "quantite": 40, "prixUnitaire": 3.0, "montantTotal": 120.0}
    ]


def test_facture_lifecycle_with_akto_quirks(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    detail = engaged(sim, "AKTO")
    numero = detail["cerfa"]["numeroInterne"]
    e1 = detail["echeances"][0]
    e2 = detail["echeances"][1]
    externe = detail["cerfa"]["numeroExterne"]
    iban = "FR7630006000011234567890189"
    facture = facture_for("FAC-2026-001", externe, [(1, e1["montantTotal"])], iban)
    facture["dateEmission"] = e1["dateOuverture"]  # invoiced on the day E1 opens
    advance_until(sim, e1["dateOuverture"])  # the contract (and E1) has started
    created = send(sim, "AKTO", "v1/factures", facture)
    assert created.status_code == 200, created.text
    assert created.json()["etatFacture"] == "TRANSMIS"
    dup = send(sim, "AKTO", "v1/factures", facture)
    assert dup.status_code == 409
    assert dup.json()["numeroInterneFacture"] == created.json()["numeroInterneFacture"]
    early = facture_for("FAC-2026-002", externe, [(2, e2["montantTotal"])], iban)
    refused = send(sim, "AKTO", "v1/factures", early)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "ECHEANCE_NON_OUVERTE"
    sim.advance(3)
    (page,) = get(sim, "AKTO", "v2/factures/etats").json()
    (item,) = page["factures"]
    assert item["etatFacture"] == "REGLE" and item["referenceVirement"]
    assert item["organismeFormation"]["IBAN"] == "FR7630006000011234567890189"
    after = get(sim, "AKTO", "v2/dossiers", {"numeroInterne": numero}).json()
    assert after["echeances"][0]["montantRegle"] == e1["montantTotal"]
    assert "IBAN" in after["detailsFacturation"]


def test_akto_nature_frais_is_title_case(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    created = submit(sim, "AKTO")
    body = {"numeroInterneDossier": created["numeroInterne"], "couts": {"nombreRepasTotaux": 2}}
    assert send(sim, "AKTO", "v1/conventions", body).status_code == 200
    sim.advance(5)
    detail = get(sim, "AKTO", "v2/dossiers", {"numeroInterne": created["numeroInterne"]}).json()
    assert detail["engagementsFraisAnnexe"][0]["natureFrais"] == "Restauration"


def test_certificat_and_rupture(  # documents: test_documents.py
    fresh_simulator: SimulatorProcess,
) -> None:
    sim = fresh_simulator
    detail = engaged(sim, "AFDAS")
    numero = detail["cerfa"]["numeroInterne"]
    cert = {"numeroInterneDossier": numero, "typeCertificat": "Final", "echeance": {"numero": 1}}
    first = post(sim, "AFDAS", "v2/certificats", cert)
    assert first.status_code == 201
    assert post(sim, "AFDAS", "v2/certificats", cert).status_code == 409
    # rupture: ATLAS has the route
    atlas = engaged(sim, "ATLAS", seed=3)
    start = date.fromisoformat(atlas["cerfa"]["contrat"]["dateDebutContrat"][:10])
    rupture = (start + timedelta(days=60)).isoformat()
    body = {"numeroInterne": atlas["cerfa"]["numeroInterne"], "dateRupture": rupture}
    r = post(sim, "ATLAS", "v2/dossiers/rupture/employeur", body)
    assert r.status_code == 200 and r.json()["etat"] == "RUPTURE"
    assert post(sim, "ATLAS", "v2/dossiers/rupture/employeur", body).status_code == 409
    not_engaged = submit(sim, "ATLAS", seed=4)
    body = {"numeroInterne": not_engaged["numeroInterne"], "dateRupture": rupture}
    assert post(sim, "ATLAS", "v2/dossiers/rupture/employeur", body).status_code == 422


def test_records_tell_what_happened_per_dossier(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    created = submit(sim, "ATLAS")
    numero = created["numeroInterne"]
    send(sim, "ATLAS", "v1/conventions", {"numeroInterneDossier": numero})
    send(sim, "ATLAS", "v1/conventions", {"numeroInterneDossier": numero})
    records = sim.records(numeroInterne=numero)
    assert [(r["route"], r["status"], r["outcome"]) for r in records] == [
        ("dossiers_post", 200, "created"),
        ("conventions", 200, "created"),
        ("conventions", 409, "duplicate"),
    ]
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    assert all("nir" not in str(r) and "Martin" not in str(r) for r in records)


def test_followup_rules_when_switched_on(fresh_simulator: SimulatorProcess) -> None:
    sim = fresh_simulator
    generator = Generator(7, TODAY)
    dossiers = [generator.dossier("ATLAS") for _ in range(2)]
    numeros = []
    for d in dossiers:
        d.cerfa["organismeFormation"]["siret"] = DEFAULT_CFA_SIRET
        r = post(sim, "ATLAS", "v1/dossiers", {"cerfa": d.cerfa})
        assert r.status_code == 200, r.text
        numeros.append(r.json()["numeroInterne"])
    sim.settings(followup_rules=True)
    refused = send(sim, "ATLAS", "v1/conventions", {"numeroInterneDossier": numeros[0]})
    assert refused.status_code == 422
    # ATLAS answers {"description": ...} (its profile's errors.shape), the fields named in it
    described = refused.json()["description"]
    assert "couts" in described and "dateSignature" in described
    # the wire body relais sends: the event's convention plus the OPCO's dossier id
    event = generator.convention(dossiers[1], numero_interne=numeros[1])
    body = {**event["data"]["convention"], "numeroInterneDossier": numeros[1]}
    assert send(sim, "ATLAS", "v1/conventions", body).status_code == 200
    sim.settings(followup_rules=False)
    minimal = {"numeroInterneDossier": numeros[0]}
    assert send(sim, "ATLAS", "v1/conventions", minimal).status_code == 200
