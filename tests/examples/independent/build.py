"""Builds the independent example dossiers and their manifest (run: python build.py).

Written from ``convergence-api.md`` §1.7, §2 and §3 alone, without reading the validator: one valid
initial contract (type 11) and, for each rule the data alone can decide, a variant breaking exactly
that rule. The JSON files are the artefacts; this script only keeps their derivation auditable
(keys of SIRET/UAI/NIR computed by the notes' algorithms, wage periods from the §3.5 grid).

Manifest ``expect`` values:
- ``valid``: exit 0 and no error at all;
- ``lenient``: the notes disagree (or only a form-level / information rule applies): exit 0, no
  error, warnings allowed;
- ``error``: exit 1, an error on one of ``paths`` (a path ending in ``*`` is a prefix), and no error
  outside ``paths`` + ``also`` (a cascade the broken value implies);
- ``no_error_on``: no error on any of ``paths`` (other findings tolerated).
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
TODAY = "2026-11-27"
SMIC_2026 = 1823.03  # smic.csv, in force since 2026-01-01
SMIC_2025 = 1801.80  # since 2024-11-01


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def siret_with_key(prefix13: str) -> str:
    for k in range(10):
        if luhn_ok(prefix13 + str(k)):
            return prefix13 + str(k)
    raise AssertionError


def uai(seven: str) -> str:
    return seven + "ABCDEFGHJKLMNPRSTUVWXYZ"[int(seven) % 23]


def nir(sexe: str, born: date, dept: str, rest6: str = "056123", key: bool = True) -> str:
    thirteen = ("1" if sexe == "M" else "2") + born.strftime("%y%m") + dept.zfill(2) + rest6
    if not key:
        return thirteen
    num = int(thirteen.replace("2A", "19").replace("2B", "18"))
    return thirteen + f"{97 - num % 97:02d}"


def wire(d: str) -> str:
    """Spec example format (§1.7): YYYY-MM-DDT00:00:00+0000."""
    return f"{d}T00:00:00+0000"


assert luhn_ok("73282932000074") and luhn_ok("98765432400019")
assert not luhn_ok("12345678912345")
assert nir("M", date(2001, 1, 1), "01", "00100")[:13] != "" and (97 - 1010101001001 % 97) == 53

ADRESSE = {
    "numero": 12,
    "repetitionVoie": "B",
    "voie": "rue de la Paix",
    "complement": "Bâtiment A",
    "codePostal": "75002",
    "commune": "Paris",
}

OF_SIRET_2 = siret_with_key("4181660960006")
UAI_1 = uai("0751234")
UAI_2 = uai("0930456")


def schedule(*periods: tuple[str, str, str, int]) -> list[dict[str, Any]]:
    return [
        {"ordre": o, "dateDebut": wire(a), "dateFin": wire(b), "taux": t, "typeSalaire": "SMIC"}
        for o, a, b, t in periods
    ]


def base() -> dict[str, Any]:
    born = date(2005, 6, 10)  # 21 at the start (2026-12-01): bracket 21-25 for the whole contract
    return {
        "versionCERFA": "10103*14",
        "CERFASignatureProbante": True,
        "employeur": {
            "denomination": "Boulangerie Martin",
            "siret": "73282932000074",
            "naf": "1071C",
            "nombreDeSalaries": 12,
            "codeIdcc": "0043",
            "typeEmployeur": 12,
            "employeurSpecifique": 0,
            "caisseComplementaire": "AGIRC-ARRCO",
            "regimeSpecifique": False,
            "attestationEligibilite": True,
            "attestationPieces": True,
            "telephone": "0102030405",
            "courriel": "contact@orange.fr",
            "adresse": dict(ADRESSE),
        },
        "apprenti": {
            "nom": "Lefèvre-Dupré",
            "prenom": "Léa",
            "sexe": "F",
            "nationalite": 1,
            "dateNaissance": wire(born.isoformat()),
            "departementNaissance": "75",
            "communeNaissance": "Paris",
            "nir": nir("F", born, "75"),
            "regimeSocial": 2,
            "handicap": False,
            "situationAvantContrat": 1,
            "diplome": 41,
            "derniereClasse": 1,
            "diplomePrepare": 54,
            "intituleDiplomePrepare": "BTS Management commercial opérationnel",
            "telephone": "0612345678",
            "courriel": "lea.lefevre@orange.fr",
            "adresse": {
                **ADRESSE,
                "numero": 4,
                "repetitionVoie": None,
                "voie": "allée des Tilleuls",
                "complement": None,
                "codePostal": "93100",
                "commune": "Montreuil",
            },
            "inscriptionSportifDeHautNiveau": False,
            "projetCreationRepriseEntreprise": False,
        },
        "maitre1": {
            "nom": "Martin",
            "prenom": "Paul",
            "dateNaissance": wire("1980-04-02"),
            "courriel": "paul.martin@orange.fr",
            "emploiOccupe": "Boulanger",
            "intituleDiplomeObtenu": "BP Boulanger",
            "niveauDiplomeObtenu": 4,
        },
        "formation": {
            "rncp": "RNCP38362",
            "codeDiplome": "32031213",
            "typeDiplome": 54,
            "intituleQualification": "BTS Management commercial opérationnel",
            "dateDebutFormation": wire("2026-12-01"),
            "dateFinFormation": wire("2028-11-30"),
            "dureeFormation": 1350,
            "nombreHeuresEnDistanciel": 0,
        },
        "contrat": {
            "modeContractuel": 1,
            "typeContratApp": 11,
            "typeDerogation": None,
            "numeroContratPrecedent": None,
            "noContrat": None,
            "noAvenant": None,
            "dateConclusion": wire("2026-11-20"),
            "dateDebutContrat": wire("2026-12-01"),
            "dateDebutFormationPratique": wire("2026-12-01"),
            "dateFinContrat": wire("2028-11-30"),
            "dateEffetAvenant": None,
            "dateRupture": None,
            "lieuSignatureContrat": "Paris",
            "dureeTravailHebdoHeures": 35,
            "dureeTravailHebdoMinutes": 0,
            "travailRisque": False,
            "avantageNature": False,
            "smc": 1800.0,  # the state form asks it from 21 at the end; below the SMIC here
            "salaireEmbauche": 966.21,  # 53 % of 1823.03 = 966.2059
            "avantageNourriture": None,
            "avantageLogement": None,
            "autreAvantageEnNature": False,
            "remunerationsAnnuelles": schedule(
                ("1.1", "2026-12-01", "2027-11-30", 53),
                ("2.1", "2027-12-01", "2028-11-30", 61),
            ),
        },
        "organismeFormation": {
            "denomination": "CFA du Commerce",
            "formationInterne": False,
            "siret": "98765432400019",
            "uaiCfa": UAI_1,
            "visaCfa": True,
            "adresse": {
                **ADRESSE,
                "numero": 30,
                "repetitionVoie": None,
                "voie": "avenue de France",
                "complement": None,
                "codePostal": "75013",
            },
            "lieuFormationIdentique": False,
        },
        "organismeFormationLieuFormationPrincipal": {
            "denomination": "CFA du Commerce - site de Saint-Denis",
            "siret": OF_SIRET_2,
            "uaiCfa": UAI_2,
            "adresse": {
                "adresse1": "5 rue du Landy",
                "adresse2": "",
                "codePostal": "93200",
                "commune": "Saint-Denis",
            },
        },
    }


def set_birth(doc: dict[str, Any], born: str, sexe: str = "F", dept: str = "75") -> None:
    b = date.fromisoformat(born)
    doc["apprenti"]["dateNaissance"] = wire(born)
    doc["apprenti"]["sexe"] = sexe
    doc["apprenti"]["departementNaissance"] = dept
    doc["apprenti"]["nir"] = nir(sexe, b, dept)


def set_schedule(
    doc: dict[str, Any], *periods: tuple[str, str, str, int], smic: float = SMIC_2026
) -> None:
    doc["contrat"]["remunerationsAnnuelles"] = schedule(*periods)
    first = periods[0][3]
    doc["contrat"]["salaireEmbauche"] = round(first * smic / 100 + 0.004999, 2)  # rounded up


RESPONSABLE = {
    "nom": "Lefèvre",
    "prenom": "Anne",
    "courriel": "anne.lefevre@orange.fr",
    "adresse": dict(ADRESSE),
}

CASES: list[dict[str, Any]] = []


def case(
    name: str,
    doc: Any,
    expect: str,
    paths: list[str] | None = None,
    also: list[str] | None = None,
    rule: str = "",
    opco: str | None = None,
    raw: str | None = None,
) -> None:
    CASES.append(
        {
            "file": f"{name}.json",
            "rule": rule,
            "expect": expect,
            "paths": paths or [],
            "also": also or [],
            "opco": opco,
        }
    )
    text = raw if raw is not None else json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    (HERE / f"{name}.json").write_text(text, encoding="utf-8")


def v(mutate: Any) -> dict[str, Any]:
    doc = base()
    mutate(doc)
    return doc


def build() -> None:  # one call per variant
    for old in HERE.glob("*.json"):
        old.unlink()
    E, A, C, F, O, L = (  # noqa: E741
        "employeur",
        "apprenti",
        "contrat",
        "formation",
        "organismeFormation",
        ("organismeFormationLieuFormationPrincipal"),
    )

    case(
        "000-valid-initial", base(), "valid", rule="valid initial contract (11)", opco="OPCOMMERCE"
    )
    case(
        "001-body-cerfa",
        {"cerfa": base()},
        "valid",
        rule="convergence request body {cerfa}",
        opco="OPCOMMERCE",
    )
    event = {
        "specversion": "1.0",
        "id": "evt-ind-1",
        "type": "fr.cfa.dossier.submitted.v1",
        "source": "urn:siret:98765432400019",
        "subject": "IND-0001",
        "time": "2026-11-27T09:00:00+01:00",
        "datacontenttype": "application/json",
        "data": {"cerfa": base()},
    }
    case("002-event", event, "valid", rule="CloudEvents structured event", opco="OPCOMMERCE")

    # the event envelope as relais's ingest reads it (DESIGN.md: CloudEvents structured JSON)
    for name, change, path in (
        ("003-event-no-id", lambda e: e.pop("id"), "id"),
        ("004-event-bad-source", lambda e: e.update(source="CFA du Commerce"), "source"),
        ("005-event-time-no-offset", lambda e: e.update(time="2026-11-27T09:00:00"), "time"),
        ("006-event-no-subject", lambda e: e.pop("subject"), "subject"),
        (
            "007-event-extra-data-key",
            lambda e: e["data"].update(commentaire="x"),
            "data.commentaire",
        ),
    ):
        bad_event = copy.deepcopy(event)
        change(bad_event)
        case(name, bad_event, "error", [path], rule=f"event envelope: {path}")
    ok_event = copy.deepcopy(event)
    ok_event["source"] = "98765432400019"
    case(
        "008-event-plain-siret-source",
        ok_event,
        "valid",
        rule="source as a plain SIRET",
        opco="OPCOMMERCE",
    )

    # §1.7 wire formats
    def all_dates(fmt: Any) -> Any:
        def m(doc: dict[str, Any]) -> None:
            def walk(x: Any) -> Any:
                if isinstance(x, dict):
                    return {k: walk(val) for k, val in x.items()}
                if isinstance(x, list):
                    return [walk(i) for i in x]
                if isinstance(x, str) and x.endswith("T00:00:00+0000"):
                    return fmt(x[:10])
                return x

            doc.update(walk(doc))

        return m

    case("010-dates-plain", v(all_dates(lambda d: d)), "valid", rule="§1.7 plain YYYY-MM-DD")
    case("011-dates-zulu", v(all_dates(lambda d: d + "T00:00:00Z")), "valid", rule="§1.7 ...Z")
    case(
        "012-dates-colon",
        v(all_dates(lambda d: d + "T00:00:00+00:00")),
        "valid",
        rule="§1.7 ...+00:00",
    )
    case(
        "013-date-french",
        v(lambda d: d[C].update(dateDebutContrat="01/12/2026")),
        "error",
        [f"{C}.dateDebutContrat"],
        also=[f"{C}.*", f"{F}.*"],
        rule="not a date",
    )
    case(
        "014-date-number",
        v(lambda d: d[A].update(dateNaissance=20050610)),
        "error",
        [f"{A}.dateNaissance"],
        also=[f"{A}.nir"],
        rule="date as a number",
    )
    case(
        "015-date-feb29-nonleap",
        v(lambda d: d[A].update(dateNaissance=wire("2005-02-29"))),
        "error",
        [f"{A}.dateNaissance"],
        also=[f"{A}.nir"],
        rule="29 February of a non-leap year",
    )

    # codes as strings vs numbers (§1.7: numbers in the spec; WEDOF sends strings)
    case(
        "020-codes-as-strings",
        v(
            lambda d: (
                d[C].update(typeContratApp="11", modeContractuel="1"),
                d[A].update(nationalite="1", diplome="41"),
                d[E].update(typeEmployeur="12"),
            )
        ),
        "lenient",
        rule="codes as strings",
    )
    case(
        "021-idcc-as-number",
        v(lambda d: d[E].update(codeIdcc=43)),
        "lenient",
        rule="IDCC as a number",
        opco="OPCOMMERCE",
    )
    case(
        "022-idcc-unpadded",
        v(lambda d: d[E].update(codeIdcc="43")),
        "lenient",
        rule="IDCC 1-4 digits, padded",
        opco="OPCOMMERCE",
    )
    case(
        "023-type-contrat-unknown",
        v(lambda d: d[C].update(typeContratApp=99)),
        "error",
        [f"{C}.typeContratApp"],
        rule="typeContratApp enum",
    )
    case(
        "024-type-employeur-unknown",
        v(lambda d: d[E].update(typeEmployeur=17)),
        "error",
        [f"{E}.typeEmployeur"],
        rule="typeEmployeur enum",
    )
    case(
        "025-nationalite-unknown",
        v(lambda d: d[A].update(nationalite=4)),
        "error",
        [f"{A}.nationalite"],
        rule="nationalite 1-3",
    )
    case(
        "026-sexe-unknown",
        v(lambda d: d[A].update(sexe="X")),
        "error",
        [f"{A}.sexe"],
        also=[f"{A}.nir"],
        rule="sexe M|F",
    )

    # wrong types / missing
    case(
        "030-type-nombre-salaries",
        v(lambda d: d[E].update(nombreDeSalaries="douze")),
        "error",
        [f"{E}.nombreDeSalaries"],
        rule="integer expected",
    )
    case(
        "031-type-salaire",
        v(lambda d: d[C].update(salaireEmbauche="beaucoup")),
        "error",
        [f"{C}.salaireEmbauche"],
        rule="number expected",
    )
    case(
        "032-type-handicap",
        v(lambda d: d[A].update(handicap="peut-être")),
        "error",
        [f"{A}.handicap"],
        rule="boolean expected",
    )
    case(
        "033-type-remunerations",
        v(lambda d: d[C].update(remunerationsAnnuelles={"1.1": 53})),
        "error",
        [f"{C}.remunerationsAnnuelles"],
        also=[f"{C}.salaireEmbauche"],
        rule="array expected",
    )
    case(
        "034-type-taux",
        v(lambda d: d[C]["remunerationsAnnuelles"][1].update(taux="soixante")),
        "error",
        [f"{C}.remunerationsAnnuelles[1].taux"],
        also=[f"{C}.remunerationsAnnuelles*"],
        rule="taux number",
    )
    case(
        "035-missing-maitre1",
        v(lambda d: d.pop("maitre1")),
        "error",
        ["maitre1"],
        rule="maitre1 required",
    )
    case(
        "036-missing-employeur-siret",
        v(lambda d: d[E].pop("siret")),
        "error",
        [f"{E}.siret"],
        rule="siret required",
    )
    case(
        "037-employeur-not-object",
        v(lambda d: d.update(employeur=["Boulangerie"])),
        "error",
        [E],
        also=[f"{E}.*"],
        rule="employeur object",
    )

    # §3.1 identifiers
    case(
        "040-siret-luhn",
        v(lambda d: d[E].update(siret="12345678912345")),
        "error",
        [f"{E}.siret"],
        rule="SIRET Luhn",
    )
    case(
        "041-siret-laposte",
        v(lambda d: d[E].update(siret="35600000049837")),
        "valid",
        rule="La Poste SIRET (sum multiple of 5)",
    )
    case(
        "042-siret-13-digits",
        v(lambda d: d[E].update(siret="7328293200007")),
        "error",
        [f"{E}.siret"],
        rule="SIRET 14 digits",
    )
    case(
        "043-siret-laposte-bad",
        v(lambda d: d[E].update(siret="35600000049838")),
        "error",
        [f"{E}.siret"],
        rule="La Poste SIRET, sum not a multiple of 5",
    )
    case(
        "044-of-siret-luhn",
        v(lambda d: d[O].update(siret="98765432400018")),
        "error",
        [f"{O}.siret"],
        rule="OF SIRET Luhn",
    )
    case(
        "045-lieu-siret-luhn",
        v(lambda d: d[L].update(siret=OF_SIRET_2[:-1] + str((int(OF_SIRET_2[-1]) + 1) % 10))),
        "error",
        [f"{L}.siret"],
        rule="lieu de formation SIRET Luhn",
    )
    wrong_letter = UAI_1[:7] + ("A" if UAI_1[7] != "A" else "B")
    case(
        "046-uai-letter",
        v(lambda d: d[O].update(uaiCfa=wrong_letter)),
        "error",
        [f"{O}.uaiCfa"],
        rule="UAI check letter",
    )
    case(
        "047-uai-lowercase",
        v(lambda d: d[O].update(uaiCfa=UAI_1.lower())),
        "lenient",
        rule="UAI lower-case letter: [A-Z] in §3.1, [a-zA-Z] in §2.7/§5.5",
    )
    case(
        "048-lieu-uai-letter",
        v(lambda d: d[L].update(uaiCfa=UAI_2[:7] + ("A" if UAI_2[7] != "A" else "B"))),
        "error",
        [f"{L}.uaiCfa"],
        rule="UAI check letter (lieu)",
    )
    good = nir("F", date(2005, 6, 10), "75")
    case(
        "050-nir-key",
        v(lambda d: d[A].update(nir=good[:13] + f"{(int(good[13:]) % 97) + 1:02d}")),
        "error",
        [f"{A}.nir"],
        rule="NIR key",
    )
    case(
        "051-nir-13-chars", v(lambda d: d[A].update(nir=good[:13])), "valid", rule="NIR without key"
    )
    case(
        "052-nir-corse-2a",
        v(lambda d: set_birth(d, "2005-06-10", "F", "2A")),
        "valid",
        rule="NIR 2A",
    )
    case(
        "053-nir-corse-2b",
        v(lambda d: set_birth(d, "2005-06-10", "M", "2B")),
        "valid",
        rule="NIR 2B",
    )

    def corse_wrong_key(d: dict[str, Any]) -> None:
        set_birth(d, "2005-06-10", "F", "2A")
        as_2b = nir("F", date(2005, 6, 10), "2B")
        d[A]["nir"] = d[A]["nir"][:13] + as_2b[13:]

    case("054-nir-corse-2a-key-of-2b", v(corse_wrong_key), "error", [f"{A}.nir"], rule="NIR 2A key")
    case(
        "055-nir-sexe",
        v(lambda d: d[A].update(sexe="M")),
        "error",
        [f"{A}.nir", f"{A}.sexe"],
        rule="NIR 1/2 vs sexe",
    )
    case(
        "056-nir-year",
        v(lambda d: d[A].update(nir=nir("F", date(2004, 6, 10), "75"))),
        "error",
        [f"{A}.nir", f"{A}.dateNaissance"],
        rule="NIR yy vs dateNaissance",
    )
    case(
        "057-nir-month",
        v(lambda d: d[A].update(nir=nir("F", date(2005, 7, 10), "75"))),
        "error",
        [f"{A}.nir", f"{A}.dateNaissance"],
        rule="NIR mm vs dateNaissance",
    )
    case(
        "058-nir-dept",
        v(lambda d: d[A].update(departementNaissance="93")),
        "error",
        [f"{A}.nir", f"{A}.departementNaissance"],
        rule="NIR dept vs departementNaissance",
    )
    case(
        "059-nir-starts-3",
        v(lambda d: d[A].update(nir=nir("F", date(2005, 6, 10), "75").replace("2", "3", 1)[:13])),
        "error",
        [f"{A}.nir", f"{A}.sexe"],
        rule="NIR starts with 1 or 2",
    )
    case(
        "060-nir-letters",
        v(lambda d: d[A].update(nir="2050675X5612345")),
        "error",
        [f"{A}.nir"],
        rule="NIR regex",
    )
    case(
        "061-naf",
        v(lambda d: d[E].update(naf="1071")),
        "error",
        [f"{E}.naf"],
        rule="NAF 4 digits + letter",
    )
    case(
        "062-naf-dot",
        v(lambda d: d[E].update(naf="10.71C")),
        "lenient",
        rule="NAF with the dot: allowed in §2.2, not by the §3.1 regex",
    )
    case(
        "063-rncp",
        v(lambda d: d[F].update(rncp="RNCP1")),
        "error",
        [f"{F}.rncp"],
        rule="RNCP 2-5 digits",
    )
    case(
        "063b-rncp-too-long",
        v(lambda d: d[F].update(rncp="RNCP383620")),
        "error",
        [f"{F}.rncp"],
        rule="RNCP 6 digits (also over 9 characters)",
    )
    case(
        "064-rncp-digits-only",
        v(lambda d: d[F].update(rncp="38362")),
        "valid",
        rule="RNCP without prefix",
    )
    case(
        "065-cfd",
        v(lambda d: d[F].update(codeDiplome="3203121")),
        "error",
        [f"{F}.codeDiplome"],
        rule="CFD 8 chars",
    )
    case(
        "066-code-postal",
        v(lambda d: d[E]["adresse"].update(codePostal="7500")),
        "error",
        [f"{E}.adresse.codePostal"],
        rule="code postal 5 digits",
    )
    case(
        "067-code-postal-flat",
        v(lambda d: d[L]["adresse"].update(codePostal="932OO")),
        "error",
        [f"{L}.adresse.codePostal"],
        rule="code postal 5 digits (flat address)",
    )
    case(
        "068-telephone",
        v(lambda d: d[E].update(telephone="01020304")),
        "error",
        [f"{E}.telephone"],
        rule="telephone 10 digits",
    )
    case(
        "069-telephone-plus33",
        v(lambda d: d[E].update(telephone="+33102030405")),
        "lenient",
        rule="telephone +33: 10-13 chars in §2.2, 10 digits in §3.1",
    )
    case(
        "070-courriel",
        v(lambda d: d[A].update(courriel="lea.lefevre")),
        "error",
        [f"{A}.courriel"],
        rule="email syntax",
    )
    case(
        "071-courriel-long",
        v(lambda d: d[E].update(courriel="a" * 75 + "@orange.fr")),
        "error",
        [f"{E}.courriel"],
        rule="email max 80",
    )
    case(
        "072-nom-digit",
        v(lambda d: d[A].update(nom="Lef3vre")),
        "error",
        [f"{A}.nom"],
        rule="name pattern",
    )
    case(
        "073-maitre-nom-digit",
        v(lambda d: d["maitre1"].update(prenom="P4ul")),
        "error",
        ["maitre1.prenom"],
        rule="name pattern (maitre)",
    )
    case(
        "074-deca-bad",
        v(lambda d: d[C].update(noContrat="075202621000123")),
        "error",
        [f"{C}.noContrat"],
        rule="DECA format (month 21: the regex month is [0-1][0-9])",
    )
    case(
        "076-deca-bad-code",
        v(lambda d: d[C].update(noContrat="075202612XX0123")),
        "error",
        [f"{C}.noContrat"],
        rule="DECA format (code neither NC nor 2 digits)",
    )
    case(
        "077-deca-month-13",
        v(lambda d: d[C].update(noContrat="075202613000123")),
        "valid",
        rule="DECA month 13 passes the notes' regex ([0-1][0-9])",
    )
    case(
        "075-idcc-letters",
        v(lambda d: d[E].update(codeIdcc="AB12")),
        "error",
        [f"{E}.codeIdcc"],
        rule="IDCC digits",
    )

    # durée hebdo
    case(
        "080-40h-exact",
        v(lambda d: d[C].update(dureeTravailHebdoHeures=40, dureeTravailHebdoMinutes=0)),
        "valid",
        rule="exactly 40 h 00",
    )
    case(
        "081-41h",
        v(lambda d: d[C].update(dureeTravailHebdoHeures=41)),
        "error",
        [f"{C}.dureeTravailHebdoHeures"],
        rule="hours <= 40",
    )
    case(
        "082-40h15",
        v(lambda d: d[C].update(dureeTravailHebdoHeures=40, dureeTravailHebdoMinutes=15)),
        "error",
        [f"{C}.dureeTravailHebdoHeures", f"{C}.dureeTravailHebdoMinutes"],
        rule="40 h 15 > 40 h",
    )
    case(
        "083-minutes-60",
        v(lambda d: d[C].update(dureeTravailHebdoMinutes=60)),
        "error",
        [f"{C}.dureeTravailHebdoMinutes"],
        rule="minutes 0-59",
    )
    case(
        "084-taux-1001",
        v(lambda d: d[C]["remunerationsAnnuelles"][1].update(taux=1001)),
        "error",
        [f"{C}.remunerationsAnnuelles[1].taux"],
        rule="taux 0-1000",
    )

    # IDCC / routing
    case(
        "090-idcc-9999",
        v(lambda d: d[E].update(codeIdcc="9999")),
        "error",
        [f"{E}.codeIdcc"],
        rule="IDCC 9999",
    )
    case(
        "091-idcc-9998",
        v(lambda d: d[E].update(codeIdcc="9998")),
        "error",
        [f"{E}.codeIdcc"],
        rule="IDCC 9998",
    )
    case(
        "092-idcc-unknown",
        v(lambda d: d[E].update(codeIdcc="0001")),
        "error",
        [f"{E}.codeIdcc"],
        rule="IDCC not in the referential",
    )
    ev2 = copy.deepcopy(event)
    ev2["data"]["cerfa"]["employeur"]["codeIdcc"] = "9999"
    ev2["data"]["opco"] = "AKTO"
    case(
        "093-event-idcc-9999-explicit-opco",
        ev2,
        "valid",
        rule="explicit OPCO wins (IDCC 9999)",
        opco="AKTO",
    )
    ev3 = copy.deepcopy(event)
    ev3["data"]["opco"] = "ATLAS"
    case(
        "094-event-explicit-opco-wins",
        ev3,
        "lenient",
        rule="explicit OPCO wins over IDCC 0043 (a warning that they differ is fine)",
        opco="ATLAS",
    )
    ev4 = copy.deepcopy(event)
    ev4["data"]["cerfa"]["employeur"]["codeIdcc"] = "0001"
    ev4["data"]["opco"] = "SANTE"
    case(
        "095-event-idcc-unknown-explicit-opco",
        ev4,
        "lenient",
        rule="explicit OPCO with unknown IDCC (a warning is fine)",
        opco="SANTE",
    )
    case(
        "096-idcc-3248",
        v(lambda d: d[E].update(codeIdcc="3248")),
        "valid",
        rule="IDCC 3248 -> OPCO2I",
        opco="OPCO2I",
    )

    # §3.2 ages
    def minor(born: str, derog: int | None, periods: list[tuple[str, str, str, int]]) -> Any:
        def m(d: dict[str, Any]) -> None:
            set_birth(d, born)
            d[A]["responsableLegal"] = copy.deepcopy(RESPONSABLE)
            d[C]["typeDerogation"] = derog
            set_schedule(d, *periods)

        return m

    under18 = [("1.1", "2026-12-01", "2027-11-30", 27), ("2.1", "2027-12-01", "2028-11-30", 39)]
    case(
        "100-age-15-derogation-11",
        v(minor("2011-06-01", 11, under18)),
        "valid",
        rule="15 with derogation 11",
    )
    case(
        "101-age-15-no-derogation",
        v(minor("2011-06-01", None, under18)),
        "error",
        [f"{C}.typeDerogation", f"{A}.dateNaissance", f"{C}.dateDebutContrat"],
        rule="under 16 needs 11",
    )
    case(
        "102-age-14",
        v(minor("2012-06-01", 11, under18)),
        "error",
        [f"{A}.dateNaissance", f"{C}.dateDebutContrat"],
        rule=">= 15 at start",
    )
    case(
        "103-derogation-11-at-17",
        v(
            minor(
                "2009-06-01",
                11,
                [
                    ("1.1", "2026-12-01", "2027-06-30", 27),
                    ("1.2", "2027-07-01", "2027-11-30", 43),
                    ("2.1", "2027-12-01", "2028-11-30", 51),
                ],
            )
        ),
        "error",
        [f"{C}.typeDerogation"],
        rule="11 refused above 16",
    )
    case(
        "104-derogation-12-at-21",
        v(lambda d: d[C].update(typeDerogation=12)),
        "error",
        [f"{C}.typeDerogation"],
        rule="12 refused below 29",
    )
    adult = [("1.1", "2026-12-01", "2027-11-30", 100), ("2.1", "2027-12-01", "2028-11-30", 100)]

    def older(born: str, **flags: Any) -> Any:
        def m(d: dict[str, Any]) -> None:
            set_birth(d, born)
            set_schedule(d, *adult)
            d[A].update(flags)

        return m

    case(
        "105-age-31",
        v(older("1995-06-10")),
        "error",
        [f"{A}.dateNaissance", f"{C}.dateDebutContrat"],
        rule="> 30 without exception",
    )
    case(
        "106-age-31-handicap", v(older("1995-06-10", handicap=True)), "valid", rule="> 30 with RQTH"
    )
    case(
        "107-age-31-sport",
        v(older("1995-06-10", inscriptionSportifDeHautNiveau=True)),
        "valid",
        rule="> 30, sportif de haut niveau",
    )
    case(
        "108-age-30",
        v(older("1996-06-10")),
        "error",
        [f"{A}.dateNaissance"],
        rule="30 at start: 29 ans révolus (C. trav. L6222-1); the form errs only > 30 (issue 15)",
    )
    case(
        "109-age-31-derogation-12",
        v(lambda d: (older("1995-06-10")(d), d[C].update(typeDerogation=12))),
        "error",
        [f"{A}.dateNaissance"],
        also=[f"{C}.typeDerogation"],
        rule="> 30 with derogation 12 but none of its legal cases declared (issue 15)",
    )
    case(
        "110-minor-no-responsable",
        v(lambda d: (minor("2011-06-01", 11, under18)(d), d[A].pop("responsableLegal"))),
        "error",
        [f"{A}.responsableLegal"],
        rule="minor needs responsableLegal",
    )
    case(
        "111-birth-future",
        v(lambda d: set_birth(d, "2027-01-15")),
        "error",
        [f"{A}.dateNaissance"],
        also=[f"{C}.*", f"{A}.*"],
        rule="birth date in the future",
    )
    case(
        "112-maitre1-17",
        v(lambda d: d["maitre1"].update(dateNaissance=wire("2009-06-01"))),
        "error",
        ["maitre1.dateNaissance"],
        rule="maitre >= 18",
    )
    case(
        "113-maitre2-17",
        v(
            lambda d: d.update(
                maitre2={**d["maitre1"], "nom": "Durand", "dateNaissance": wire("2009-06-01")}
            )
        ),
        "error",
        ["maitre2.dateNaissance"],
        rule="maitre2 >= 18",
    )
    case(
        "114-maitre2-valid",
        v(lambda d: d.update(maitre2={**d["maitre1"], "nom": "Durand"})),
        "valid",
        rule="maitre2 present",
    )

    case(
        "115-maitre1-18-on-start",
        v(lambda d: d["maitre1"].update(dateNaissance=wire("2008-12-01"))),
        "valid",
        rule="maître 18 on the start date (17 at conclusion): the form checks at the start",
    )
    case(
        "116-maitre1-18-day-after-start",
        v(lambda d: d["maitre1"].update(dateNaissance=wire("2008-12-02"))),
        "error",
        ["maitre1.dateNaissance"],
        rule="maître 17 at the start",
    )
    case(
        "117-16-on-start-no-derogation",
        v(minor("2010-12-01", None, under18)),
        "valid",
        rule="16 on the start date: no derogation needed",
    )
    case(
        "118-15-on-start-derogation-11",
        v(minor("2011-12-01", 11, under18)),
        "valid",
        rule="15 on the start date with derogation 11",
    )
    case(
        "119-29-on-start-derogation-12",
        v(lambda d: (older("1997-12-01")(d), d[C].update(typeDerogation=12))),
        "valid",
        rule="29 on the start date with derogation 12",
    )
    case(
        "119b-31-on-start",
        v(older("1995-12-01")),
        "error",
        [f"{A}.dateNaissance", f"{C}.dateDebutContrat"],
        rule="31 on the start date, no exception",
    )
    adult18 = [("1.1", "2026-12-01", "2027-11-30", 43), ("2.1", "2027-12-01", "2028-11-30", 51)]
    case(
        "119c-18-on-conclusion",
        v(lambda d: (set_birth(d, "2008-11-20"), set_schedule(d, *adult18))),
        "valid",
        rule="18 on the conclusion date: no responsable légal",
    )

    # §3.3 dates and durations
    case(
        "120-conclusion-after-start",
        v(lambda d: d[C].update(dateConclusion=wire("2026-12-02"))),
        "error",
        [f"{C}.dateConclusion", f"{C}.dateDebutContrat"],
        also=[f"{F}.dateDebutFormation", f"{C}.dateDebutFormationPratique"],
        rule="conclusion <= start (initial)",
    )
    case(
        "121-fin-before-debut",
        v(lambda d: d[C].update(dateFinContrat=wire("2026-11-30"))),
        "error",
        [f"{C}.dateFinContrat"],
        also=[
            f"{C}.remunerationsAnnuelles*",
            f"{C}.dateDebutFormationPratique",
            f"{C}.dateFinContrat",
            f"{F}.dateFinFormation",
        ],
        rule="fin > debut",
    )

    def duration(
        end: str,
        periods: list[tuple[str, str, str, int]],
        f_start: str = "2026-12-01",
        f_end: str | None = None,
    ) -> Any:
        def m(d: dict[str, Any]) -> None:
            d[C]["dateFinContrat"] = wire(end)
            d[F]["dateDebutFormation"] = wire(f_start)
            # the training ends within the contract (state form, issue 15)
            d[F]["dateFinFormation"] = wire(f_end or min(end, "2028-11-30"))
            set_schedule(d, *periods)

        return m

    case(
        "122-six-months-exact",
        v(duration("2027-06-01", [("1.1", "2026-12-01", "2027-06-01", 53)])),
        "valid",
        rule="exactly 6 months",
    )
    case(
        "123-under-six-months",
        v(duration("2027-05-30", [("1.1", "2026-12-01", "2027-05-30", 53)])),
        "error",
        [f"{C}.dateFinContrat"],
        also=[f"{F}.dateFinFormation"],  # the training within the contract is as short
        rule="< 6 months",
    )
    y5 = [
        ("1.1", "2026-12-01", "2027-11-30", 53),
        ("2.1", "2027-12-01", "2028-11-30", 61),
        ("3.1", "2028-12-01", "2029-11-30", 78),
        ("4.1", "2029-12-01", "2030-11-30", 78),
    ]
    y4_to_end = [*y5[:3], ("4.1", "2029-12-01", "2031-06-01", 78)]
    case(
        "124-54-months-exact",
        v(duration("2031-06-01", y4_to_end, "2027-03-01", "2031-03-01")),
        "lenient",
        rule="exactly 54 months, year-4 rate to the end (25 % information allowed)",
    )
    case(
        "124b-54-months-ordre-5",
        v(
            duration(
                "2031-06-01",
                [*y5, ("5.1", "2030-12-01", "2031-06-01", 78)],
                "2027-03-01",
                "2031-03-01",
            )
        ),
        "error",
        [f"{C}.remunerationsAnnuelles[4].ordre"],
        rule="ordre is 1.1 ... 4.2 (§2.5.3): no year 5",
    )
    case(
        "125-55-months",
        v(
            duration(
                "2031-07-01",
                [*y5, ("5.1", "2030-12-01", "2031-07-01", 78)],
                "2027-03-01",
                "2031-03-01",
            )
        ),
        "error",
        [f"{C}.dateFinContrat"],
        also=[f"{C}.remunerationsAnnuelles*"],
        rule="> 54 months",
    )

    def past(d: dict[str, Any]) -> None:
        set_birth(d, "2004-06-10")
        d[C].update(
            dateConclusion=wire("2025-08-25"),
            dateDebutContrat=wire("2025-09-01"),
            dateDebutFormationPratique=wire("2025-09-01"),
            dateFinContrat=wire("2026-09-30"),
        )
        d[F].update(dateDebutFormation=wire("2025-09-01"), dateFinFormation=wire("2026-09-30"))
        set_schedule(
            d,
            ("1.1", "2025-09-01", "2026-08-31", 53),
            ("2.1", "2026-09-01", "2026-09-30", 61),
            smic=SMIC_2025,
        )

    case(
        "126-fin-in-past",
        v(past),
        "error",
        [f"{C}.dateFinContrat"],
        also=[f"{C}.dateDebutContrat"],
        rule="dateFinContrat in the past",
    )
    case(
        "127-formation-4-months",
        v(
            duration(
                "2027-06-01", [("1.1", "2026-12-01", "2027-06-01", 53)], "2026-12-01", "2027-03-31"
            )
        ),
        "error",
        [f"{F}.dateFinFormation", f"{F}.dateDebutFormation"],
        rule="cycle >= 6 months",
    )
    case(
        "128-formation-4-years-14-days",
        v(lambda d: d[F].update(dateFinFormation=wire("2030-12-15"))),
        "error",
        [f"{F}.dateFinFormation"],
        rule="cycle of 48 whole months + 14 days: <= 4 years by differenceInMonths, but the "
        "training ends after the contract (FORMATION_FIN_HORS_CONTRAT, issue 15)",
    )
    case(
        "128b-formation-over-4-years",
        v(lambda d: d[F].update(dateFinFormation=wire("2031-01-02"))),
        "error",
        [f"{F}.dateFinFormation", f"{F}.dateDebutFormation"],
        rule="cycle <= 4 years",
    )
    case(
        "129-formation-reversed",
        v(lambda d: d[F].update(dateFinFormation=wire("2026-11-30"))),
        "error",
        [f"{F}.dateFinFormation", f"{F}.dateDebutFormation"],
        also=[f"{C}.dateFinContrat"],
        rule="debut <= fin formation",
    )
    case(
        "130-duree-formation-0",
        v(lambda d: d[F].update(dureeFormation=0)),
        "error",
        [f"{F}.dureeFormation"],
        rule="dureeFormation 1-9999",
    )
    case(
        "131-duree-formation-10000",
        v(lambda d: d[F].update(dureeFormation=10000)),
        "error",
        [f"{F}.dureeFormation"],
        also=[f"{F}.nombreHeuresEnDistanciel"],
        rule="dureeFormation 1-9999",
    )
    case(
        "132-fin-contrat-after-formation-3m",
        v(lambda d: d[F].update(dateFinFormation=wire("2028-06-30"))),
        "error",
        [f"{C}.dateFinContrat", f"{F}.dateFinFormation"],
        rule="fin contrat <= fin formation + 3 months",
    )
    case(
        "133-formation-starts-4m-late",
        v(lambda d: d[F].update(dateDebutFormation=wire("2027-04-02"))),
        "error",
        [f"{F}.dateDebutFormation"],
        rule="formation within 3 months of the start",
    )
    case(
        "134-formation-before-conclusion",
        v(lambda d: d[F].update(dateDebutFormation=wire("2026-10-01"))),
        "error",
        [f"{F}.dateDebutFormation"],
        rule="training before the signature: the form errs (followed, issue 15); vade-mecum allows",
    )
    case(
        "135-pratique-4m-late",
        v(lambda d: d[C].update(dateDebutFormationPratique=wire("2027-04-02"))),
        "error",
        [f"{C}.dateDebutFormationPratique"],
        also=[f"{F}.dateDebutFormation"],
        rule="pratique <= start + 3 months",
    )
    case(
        "136-pratique-before-start",
        v(lambda d: d[C].update(dateDebutFormationPratique=wire("2026-11-30"))),
        "error",
        [f"{C}.dateDebutFormationPratique"],
        rule="pratique >= start",
    )
    case(
        "137-distanciel-over-duree",
        v(lambda d: d[F].update(nombreHeuresEnDistanciel=1351)),
        "error",
        [f"{F}.nombreHeuresEnDistanciel"],
        rule="distanciel <= dureeFormation",
    )
    case(
        "138-formation-under-25pc",
        v(lambda d: d[F].update(dureeFormation=300)),
        "lenient",
        rule="25 % rule is an information message",
    )
    six = duration("2027-06-01", [("1.1", "2026-12-01", "2027-06-01", 53)])
    case(
        "139-pratique-after-fin",
        v(lambda d: (six(d), d[C].update(dateDebutFormationPratique=wire("2027-06-02")))),
        "error",
        [f"{C}.dateDebutFormationPratique"],
        also=[f"{F}.dateDebutFormation", f"{F}.dateFinFormation"],
        rule="pratique <= fin contrat (and <= start + 3 months)",
    )

    # §3.4 types, successions, avenants
    deca = "075202409000123"

    def succession(t: int, prev: str | None) -> Any:
        def m(d: dict[str, Any]) -> None:
            d[C].update(typeContratApp=t, numeroContratPrecedent=prev)
            d[A]["situationAvantContrat"] = 4

        return m

    case(
        "140-succession-22",
        v(succession(22, deca)),
        "lenient",
        rule="succession 22 (pay continuity warned: years restart at 1)",
    )
    case(
        "141-succession-21-no-previous",
        v(succession(21, None)),
        "lenient",
        rule="numeroContratPrecedent asked, required only for 31-37 by the form (issue 15)",
    )
    case(
        "142-succession-23-bad-deca",
        v(succession(23, "07520240900012")),
        "error",
        [f"{C}.numeroContratPrecedent"],
        rule="DECA 15 chars",
    )
    case(
        "143-deca-corse",
        v(succession(22, "02B202212000000")),
        "lenient",
        rule="DECA 02B example (pay continuity warned)",
    )

    def succession_year2(rates: tuple[int, int]) -> Any:
        def m(d: dict[str, Any]) -> None:
            succession(22, deca)(d)
            set_schedule(
                d,
                ("2.1", "2026-12-01", "2027-11-30", rates[0]),
                ("3.1", "2027-12-01", "2028-11-30", rates[1]),
            )

        return m

    case(
        "144-succession-from-year-2",
        v(succession_year2((61, 78))),
        "valid",
        rule="succession continuing in contract year 2 (ordre 2.1, 3.1)",
    )
    case(
        "145-succession-year-2-paid-year-1",
        v(succession_year2((53, 61))),
        "error",
        [f"{C}.remunerationsAnnuelles[0].taux", f"{C}.remunerationsAnnuelles[1].taux"],
        also=[f"{C}.remunerationsAnnuelles*"],
        rule="succession in year 2 paid at year-1 rates",
    )

    def avenant(effet: str | None, prev: str | None = deca) -> Any:
        def m(d: dict[str, Any]) -> None:
            d[C].update(
                typeContratApp=36,
                numeroContratPrecedent=prev,
                noContrat=deca,
                dateEffetAvenant=wire(effet) if effet else None,
            )

        return m

    case("150-avenant-36", v(avenant("2027-03-01")), "valid", rule="avenant 36")

    def avenant_on_running_contract(d: dict[str, Any]) -> None:
        set_birth(d, "2004-06-10")
        d[C].update(
            typeContratApp=36,
            numeroContratPrecedent=deca,
            noContrat=deca,
            dateConclusion=wire("2025-08-25"),
            dateDebutContrat=wire("2025-09-01"),
            dateDebutFormationPratique=wire("2025-09-01"),
            dateFinContrat=wire("2027-08-31"),
            dateEffetAvenant=wire("2026-11-25"),
        )
        d[F].update(dateDebutFormation=wire("2025-09-01"), dateFinFormation=wire("2027-08-31"))
        set_schedule(
            d,
            ("1.1", "2025-09-01", "2026-08-31", 53),
            ("2.1", "2026-09-01", "2027-08-31", 61),
            smic=SMIC_2025,
        )

    case(
        "150b-avenant-running-contract",
        v(avenant_on_running_contract),
        "valid",
        rule="avenant taking effect 2026-11-25 on a contract started in 2025 (SMIC of 2025)",
    )
    case(
        "151-avenant-no-effet",
        v(avenant(None)),
        "error",
        [f"{C}.dateEffetAvenant"],
        rule="dateEffetAvenant required (3x)",
    )
    case(
        "152-avenant-effet-after-fin",
        v(avenant("2028-12-15")),
        "error",
        [f"{C}.dateEffetAvenant"],
        rule="debut <= effet <= fin",
    )
    case(
        "153-avenant-effet-before-debut",
        v(avenant("2026-11-25")),
        "error",
        [f"{C}.dateEffetAvenant"],
        rule="debut <= effet <= fin",
    )
    case(
        "154-avenant-no-previous",
        v(avenant("2027-03-01", None)),
        "error",
        [f"{C}.numeroContratPrecedent"],
        rule="numeroContratPrecedent required (3x)",
    )
    case(
        "155-initial-with-effet",
        v(lambda d: d[C].update(dateEffetAvenant=wire("2027-03-01"))),
        "lenient",
        rule="dateEffetAvenant 'cleared otherwise' (form behaviour)",
    )
    case(
        "156-employeur-public",
        v(lambda d: d[E].update(typeEmployeur=22)),
        "error",
        [f"{E}.typeEmployeur"],
        rule="public employer goes to CELIA/AGECAP, not an OPCO",
    )

    # §3.5 wages
    case(
        "160-taux-below-y1",
        v(lambda d: d[C]["remunerationsAnnuelles"][0].update(taux=50)),
        "error",
        [f"{C}.remunerationsAnnuelles[0].taux"],
        also=[f"{C}.salaireEmbauche"],
        rule="grid year 1 (21-25: 53)",
    )
    case(
        "161-taux-below-y2",
        v(lambda d: d[C]["remunerationsAnnuelles"][1].update(taux=53)),
        "error",
        [f"{C}.remunerationsAnnuelles[1].taux"],
        rule="grid year 2 (21-25: 61)",
    )
    case(
        "162-salaire-below",
        v(lambda d: d[C].update(salaireEmbauche=900)),
        "error",
        [f"{C}.salaireEmbauche"],
        rule="salaireEmbauche >= taux x SMIC",
    )
    case(
        "163-periods-gap",
        v(lambda d: d[C]["remunerationsAnnuelles"][1].update(dateDebut=wire("2027-12-15"))),
        "error",
        [f"{C}.remunerationsAnnuelles*"],
        rule="contiguous periods",
    )
    case(
        "164-periods-short",
        v(lambda d: d[C]["remunerationsAnnuelles"][1].update(dateFin=wire("2028-10-31"))),
        "error",
        [f"{C}.remunerationsAnnuelles*"],
        rule="periods cover start -> end",
    )
    case(
        "165-type-salaire",
        v(lambda d: d[C]["remunerationsAnnuelles"][0].update(typeSalaire="SMX")),
        "error",
        [f"{C}.remunerationsAnnuelles[0].typeSalaire"],
        rule="SMIC|SMC",
    )

    case(
        "166-periods-listed-backwards",
        v(lambda d: d[C]["remunerationsAnnuelles"].reverse()),
        "lenient",
        rule="periods listed in reverse order: the notes set no list order (ordre says it)",
    )

    def backwards_with_low_rate(d: dict[str, Any]) -> None:
        d[C]["remunerationsAnnuelles"].reverse()
        d[C]["remunerationsAnnuelles"][1].update(taux=50)  # now the 1.1 period

    case(
        "167-periods-backwards-low-rate",
        v(backwards_with_low_rate),
        "error",
        [f"{C}.remunerationsAnnuelles[1].taux"],
        also=[f"{C}.salaireEmbauche"],
        rule="grid year 1 on a list in reverse order: the error names the 1.1 entry",
    )

    # bracket change inside year 1: 20 at the start, 21 on 2027-03-15 -> 1.2 from 2027-04-01
    def split(periods: list[tuple[str, str, str, int]]) -> Any:
        def m(d: dict[str, Any]) -> None:
            set_birth(d, "2006-03-15")
            set_schedule(d, *periods)

        return m

    case(
        "170-bracket-change-split",
        v(
            split(
                [
                    ("1.1", "2026-12-01", "2027-03-31", 43),
                    ("1.2", "2027-04-01", "2027-11-30", 53),
                    ("2.1", "2027-12-01", "2028-11-30", 61),
                ]
            )
        ),
        "valid",
        rule="bracket change in year 1, N.2 from the 1st of the next month",
    )
    case(
        "171-bracket-change-missing",
        v(
            split(
                [("1.1", "2026-12-01", "2027-11-30", 43), ("2.1", "2027-12-01", "2028-11-30", 61)]
            )
        ),
        "error",
        [f"{C}.remunerationsAnnuelles*"],
        rule="no 1.2 although 21 on 2027-03-15",
    )
    case(
        "172-bracket-change-late",
        v(
            split(
                [
                    ("1.1", "2026-12-01", "2027-04-30", 43),
                    ("1.2", "2027-05-01", "2027-11-30", 53),
                    ("2.1", "2027-12-01", "2028-11-30", 61),
                ]
            )
        ),
        "error",
        [f"{C}.remunerationsAnnuelles*"],
        rule="1.2 one month late",
    )
    # birthday on the start date: 18 on 2026-12-01 (17 at conclusion: minor, responsable légal)

    def bday(periods: list[tuple[str, str, str, int]]) -> Any:
        def m(d: dict[str, Any]) -> None:
            set_birth(d, "2008-12-01")
            d[A]["responsableLegal"] = copy.deepcopy(RESPONSABLE)
            set_schedule(d, *periods)

        return m

    case(
        "173-birthday-on-start",
        v(bday([("1.1", "2026-12-01", "2027-11-30", 43), ("2.1", "2027-12-01", "2028-11-30", 51)])),
        "valid",
        rule="birthday on the start date: 18 from day one",
    )
    case(
        "174-birthday-on-start-27pc",
        v(bday([("1.1", "2026-12-01", "2027-11-30", 27), ("2.1", "2027-12-01", "2028-11-30", 51)])),
        "error",
        [f"{C}.remunerationsAnnuelles[0].taux"],
        also=[f"{C}.salaireEmbauche"],
        rule="birthday on the start date, paid as a 17-year-old",
    )
    case(
        "175-birthday-on-start-no-responsable",
        v(
            lambda d: (
                bday(
                    [
                        ("1.1", "2026-12-01", "2027-11-30", 43),
                        ("2.1", "2027-12-01", "2028-11-30", 51),
                    ]
                )(d),
                d[A].pop("responsableLegal"),
            )
        ),
        "error",
        [f"{A}.responsableLegal"],
        rule="17 at conclusion: minor",
    )

    # 29 February: born 2008-02-29, 21 in 2029 (non-leap): 28 Feb or 1 Mar?
    def feb29(periods: list[tuple[str, str, str, int]]) -> Any:
        def m(d: dict[str, Any]) -> None:
            set_birth(d, "2008-02-29")
            d[C]["dateFinContrat"] = wire("2029-11-30")
            d[F]["dateFinFormation"] = wire("2029-11-30")
            set_schedule(d, *periods)

        return m

    y12 = [("1.1", "2026-12-01", "2027-11-30", 43), ("2.1", "2027-12-01", "2028-11-30", 51)]
    case(
        "176-feb29-split-march",
        v(
            feb29(
                [
                    *y12,
                    ("3.1", "2028-12-01", "2029-02-28", 67),
                    ("3.2", "2029-03-01", "2029-11-30", 78),
                ]
            )
        ),
        "valid",
        rule="29 Feb birthday: 3.2 from 1 March 2029 (covers both readings)",
    )
    case(
        "177-feb29-split-april",
        v(
            feb29(
                [
                    *y12,
                    ("3.1", "2028-12-01", "2029-03-31", 67),
                    ("3.2", "2029-04-01", "2029-11-30", 78),
                ]
            )
        ),
        "lenient",
        rule="29 Feb birthday: 3.2 from 1 April 2029 (birthday read as 1 March)",
    )
    case(
        "178-feb29-no-split",
        v(feb29([*y12, ("3.1", "2028-12-01", "2029-11-30", 67)])),
        "error",
        [f"{C}.remunerationsAnnuelles*"],
        rule="29 Feb birthday: 21 in year 3, no 3.2",
    )
    case(
        "179-feb29-valid-birth",
        v(lambda d: set_birth(d, "2004-02-29")),
        "valid",
        rule="born 29 Feb of a leap year (22 at the start)",
    )

    # inputs that are not a cerfa object
    case("900-not-json", None, "not_json", raw="{ this is not json\n")
    case("901-array", None, "not_json", raw="[1, 2, 3]\n")
    case("902-string", None, "not_json", raw='"cerfa"\n')
    case("903-empty", None, "not_json", raw="")
    case(
        "904-object-not-cerfa",
        {"foo": 1},
        "error",
        ["employeur", "apprenti", "contrat"],
        also=["*"],
        rule="an object that is no cerfa",
    )

    manifest = {"today": TODAY, "cases": CASES}
    (HERE / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    build()
    print(f"{len(CASES)} cases")
