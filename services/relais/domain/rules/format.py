"""Format rules (convergence-api.md 3.1): identifiers and their keys, codes, lengths, enums.

Where the sources disagree the lenient reading passes and the strict one is a warning: a SIRET
written with spaces (CELIA accepts it), a telephone in the ``+33`` form (the field allows 13
characters, CELIA's regex 10 digits), a lowercase UAI letter (2.7 vs 3.1), an apostrophe in a name
(real names have one; the state form's pattern has none), a 2021-only diploma code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from relais.domain.cerfa import DOSSIER_ETATS, Adresse, Apprenti, Cerfa, Maitre, OrganismeFormation
from relais.domain.findings import Finding, error, join, warning
from relais.domain.routing import normalize_idcc
from relais.domain.rules.context import RuleContext, blank
from relais.domain.rules.identifiers import (
    Check,
    check_deca,
    check_nir,
    check_siren,
    check_siret,
    check_uai,
)
from relais.domain.rules.labels import cap, label

CURRENT_CERFA_VERSION = "10103*14"
ADDRESS_OWNERS = (
    "employeur",
    "apprenti",
    "organismeFormation",
    "organismeFormationLieuFormationPrincipal",
)

PREFIX = {
    "employeur": "EMPLOYEUR",
    "apprenti": "APPRENTI",
    "apprenti.responsableLegal": "RESPONSABLE_LEGAL",
    "maitre1": "MAITRE1",
    "maitre2": "MAITRE2",
    "organismeFormation": "CFA",
    "organismeFormationLieuFormationPrincipal": "LIEU_FORMATION",
    "formation": "FORMATION",
    "contrat": "CONTRAT",
}

DIPLOMES_2021_ONLY = frozenset({61, 71, 72, 74})
DIPLOMES_14 = frozenset(
    {80, 73, 75, 76, 79, 62, 63, 64, 69, 54, 55, 58, 41, 42, 43, 44, 49, 33, 34, 35, 38, 25, 26, 13}
)
DIPLOMES = DIPLOMES_14 | DIPLOMES_2021_ONLY

ENUMS: dict[str, frozenset[object]] = {
    "employeur.typeEmployeur": frozenset({11, 12, 13, 14, 15, 16, *range(21, 31)}),
    "employeur.employeurSpecifique": frozenset(range(5)),
    "apprenti.sexe": frozenset({"M", "F"}),
    "apprenti.nationalite": frozenset({1, 2, 3}),
    "apprenti.regimeSocial": frozenset({1, 2}),
    "apprenti.situationAvantContrat": frozenset(range(1, 13)),
    "apprenti.diplome": DIPLOMES,
    "apprenti.diplomePrepare": DIPLOMES,
    "apprenti.derniereClasse": frozenset({1, 11, 12, 21, 22, 31, 32, 40, 41, 42}),
    "maitre1.niveauDiplomeObtenu": frozenset(range(3, 9)),
    "maitre2.niveauDiplomeObtenu": frozenset(range(3, 9)),
    "formation.typeDiplome": DIPLOMES,
    "contrat.modeContractuel": frozenset({1, 2, 3, 4}),
    "contrat.typeContratApp": frozenset({11, 21, 22, 23, *range(31, 39)}),
    "contrat.typeDerogation": frozenset({11, 12, 21, 22, 50, 60, 99}),
    "etat": frozenset(DOSSIER_ETATS),
}

MAX_LENGTHS: dict[str, int] = {
    "employeur.denomination": 80,
    "employeur.naf": 6,
    "employeur.libelleIdcc": 500,
    "employeur.courriel": 80,
    "employeur.caisseComplementaire": 80,
    "employeur.nom": 200,
    "employeur.prenom": 50,
    "apprenti.nom": 80,
    "apprenti.nomUsage": 80,
    "apprenti.prenom": 80,
    "apprenti.communeNaissance": 80,
    "apprenti.intituleDiplomePrepare": 255,
    "apprenti.courriel": 80,
    "maitre1.nom": 80,
    "maitre1.prenom": 80,
    "maitre2.nom": 80,
    "maitre2.prenom": 80,
    "formation.rncp": 9,
    "formation.codeDiplome": 8,
    "formation.intituleQualification": 255,
    "organismeFormation.denomination": 80,
    "organismeFormationLieuFormationPrincipal.denomination": 80,
    "maitre1.courriel": 80,
    "maitre2.courriel": 80,
    "apprenti.responsableLegal.courriel": 80,
    "apprenti.responsableLegal.nom": 80,
    "apprenti.responsableLegal.prenom": 80,
    "contrat.lieuSignatureContrat": 80,
    "maitre1.emploiOccupe": 255,
    "maitre2.emploiOccupe": 255,
}
"""Lengths from the notes (2.x) and the state form; every other text field gets
``rules.text.DEFAULT_TEXT_MAX`` (checked by ``rules.text.check_text``)."""

_NAF_RE = re.compile(r"^[0-9]{2}\.?[0-9]{2}[A-Z]$")
_RNCP_RE = re.compile(r"^(RNCP)?[0-9]{2,5}$")
_CFD_RE = re.compile(r"^[A-Z0-9]{8}$")
_CODE_POSTAL_RE = re.compile(r"^[0-9]{5}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_NAME_CHARS = r" a-zA-Z´ˆ`àâäãáåÀÁÂÃÄÅçÇéèêëÉÈÊËîïìíÌÍÎÏñÑôöðòóõÒÓÔÕÖùúûüÙÚÛÜýÿÝ\-"
_NAME_RE = re.compile(f"^[{_NAME_CHARS}]*$")
_NAME_LENIENT_RE = re.compile(f"^[{_NAME_CHARS}'’]*$")
_DEPT_LENIENT_RE = re.compile(r"^([0-9]{1,3}|0?2[AB])$")
_DEPT_STRICT_RE = re.compile(r"^([0-9][0-9]|2[AB]|9[012345]|97[1234678]|98[46789])$")


def check_format(cerfa: Cerfa, ctx: RuleContext) -> Iterator[Finding]:
    yield from _enums(cerfa)
    for section in ("employeur", "organismeFormation", "organismeFormationLieuFormationPrincipal"):
        block = getattr(cerfa, section)
        if block is not None:
            yield from siret(block.siret, section)
    for section in ("organismeFormation", "organismeFormationLieuFormationPrincipal"):
        block = getattr(cerfa, section)
        if isinstance(block, OrganismeFormation):
            yield from uai(block.uaiCfa, section)
    for section in ADDRESS_OWNERS:
        block = getattr(cerfa, section)
        if block is not None:
            yield from adresse(block.adresse, join(section, "adresse"))
    if cerfa.employeur is not None:
        yield from _employeur(cerfa)
    if cerfa.apprenti is not None:
        yield from _apprenti(cerfa.apprenti)
    for section in ("maitre1", "maitre2"):
        maitre = getattr(cerfa, section)
        if isinstance(maitre, Maitre):
            yield from _maitre(maitre, section)
    if cerfa.formation is not None:
        yield from _formation(cerfa)
    if cerfa.contrat is not None:
        yield from _contrat(cerfa)
    if cerfa.versionCERFA is not None and cerfa.versionCERFA != CURRENT_CERFA_VERSION:
        yield warning(
            "CERFA_VERSION",
            "versionCERFA",
            f"Version du CERFA inattendue : la version en vigueur est {CURRENT_CERFA_VERSION}.",
        )


def siret(value: str | None, section: str) -> Iterator[Finding]:
    """SIRET format and key (+ SIREN key); a SIRET written with spaces is a warning."""
    if blank(value):
        return
    assert value is not None
    path = join(section, "siret")
    prefix = PREFIX.get(section, section.upper())
    compact = value.replace(" ", "")
    if compact != value:
        yield warning(
            f"{prefix}_SIRET_ESPACES",
            path,
            f"Le {label(path)} contient des espaces : 14 chiffres sans espace sont attendus.",
        )
    result = check_siret(compact)
    if result is Check.FORMAT:
        yield error(f"{prefix}_SIRET_FORMAT", path, f"Le {label(path)} doit compter 14 chiffres.")
    elif result is Check.KEY:
        yield error(
            f"{prefix}_SIRET_CLE",
            path,
            f"Le {label(path)} est invalide : la clé de contrôle ne correspond pas "
            "(erreur de saisie probable).",
        )
    elif check_siren(compact[:9]) is Check.KEY:
        yield error(
            f"{prefix}_SIREN_CLE",
            path,
            f"Le SIREN (9 premiers chiffres du {label(path)}) a une clé de contrôle invalide.",
        )


def uai(value: str | None, section: str) -> Iterator[Finding]:
    if blank(value):
        return
    assert value is not None
    path = join(section, "uaiCfa")
    prefix = PREFIX.get(section, section.upper())
    upper = value.strip().upper()
    result = check_uai(upper)
    if result is Check.FORMAT:
        yield error(
            f"{prefix}_UAI_FORMAT",
            path,
            "Le numéro UAI doit compter 7 chiffres suivis d'une lettre.",
        )
    elif result is Check.KEY:
        yield error(
            f"{prefix}_UAI_CLE",
            path,
            "Le numéro UAI est invalide : la lettre de contrôle ne correspond pas aux 7 chiffres.",
        )
    elif upper != value:
        yield warning(
            f"{prefix}_UAI_MINUSCULE", path, "La lettre du numéro UAI est attendue en majuscule."
        )


def adresse(value: Adresse | None, path: str) -> Iterator[Finding]:
    if value is None:
        return
    if not blank(value.codePostal) and not _CODE_POSTAL_RE.match(str(value.codePostal).strip()):
        yield error(
            "CODE_POSTAL_FORMAT",
            join(path, "codePostal"),
            f"Le {label(join(path, 'codePostal'))} doit compter 5 chiffres.",
        )
    if value.numero is not None and value.numero < 0:
        yield error("ADRESSE_NUMERO", join(path, "numero"), "Le numéro de voie doit être positif.")
    if not blank(value.repetitionVoie) and value.repetitionVoie not in ("B", "T", "Q", "C"):
        yield warning(
            "ADRESSE_REPETITION_VOIE",
            join(path, "repetitionVoie"),
            "Indice de répétition attendu : B (bis), T (ter), Q (quater) ou C (quinquies).",
        )
    if value.label is not None and len(value.label) > 50:
        yield error(
            "LONGUEUR_MAX", join(path, "label"), "Le libellé d'adresse dépasse 50 caractères."
        )


def telephone(value: str | None, path: str) -> Iterator[Finding]:
    if blank(value):
        return
    assert value is not None
    compact = re.sub(r"[ .\-]", "", value)
    if re.fullmatch(r"[0-9]{10}", compact):
        if compact != value:
            yield warning(
                "TELEPHONE_SEPARATEURS",
                path,
                "Téléphone : 10 chiffres sans espace ni séparateur sont attendus.",
            )
        return
    if re.fullmatch(r"(\+|00)[0-9]{9,12}", compact) and len(value) <= 13:
        yield warning(
            "TELEPHONE_INTERNATIONAL",
            path,
            "Téléphone au format international : certains OPCO n'acceptent que 10 chiffres.",
        )
        return
    yield error("TELEPHONE_FORMAT", path, "Le numéro de téléphone doit compter 10 chiffres.")


def courriel(value: str | None, path: str) -> Iterator[Finding]:
    if blank(value):
        return
    assert value is not None
    if len(value) > 80:
        yield error("COURRIEL_LONGUEUR", path, "L'adresse électronique dépasse 80 caractères.")
    elif not _EMAIL_RE.match(value.strip()):
        yield error("COURRIEL_FORMAT", path, "L'adresse électronique n'est pas valide.")


def nom(value: str | None, path: str) -> Iterator[Finding]:
    """Letters (French accents), spaces, hyphens; an apostrophe is only a warning."""
    if blank(value):
        return
    assert value is not None
    if _NAME_RE.match(value):
        return
    if _NAME_LENIENT_RE.match(value):
        yield warning(
            "NOM_APOSTROPHE",
            path,
            f"{cap(label(path))} : l'apostrophe n'est pas acceptée par tous les OPCO.",
        )
        return
    yield error(
        "NOM_CARACTERES",
        path,
        f"{cap(label(path))} : seuls les lettres (accents compris), espaces et tirets "
        "sont acceptés.",
    )


def _enums(cerfa: Cerfa) -> Iterator[Finding]:
    for path, allowed in ENUMS.items():
        value = _get(cerfa, path)
        if value is None:
            continue
        if value not in allowed:
            yield error(
                "VALEUR_NON_AUTORISEE",
                path,
                f"{cap(label(path))} : code non prévu par la norme.",
            )
        elif path.endswith(("diplome", "diplomePrepare", "typeDiplome")) and value in (
            DIPLOMES_2021_ONLY
        ):
            yield warning(
                "DIPLOME_CODE_ANCIEN",
                path,
                f"{cap(label(path))} : code de l'ancienne nomenclature (2021) ; "
                "utilisez la liste du CERFA 10103*14.",
            )


LENGTH_IN_FORMAT = frozenset(
    {
        "employeur.naf",
        "employeur.courriel",
        "apprenti.courriel",
        "formation.rncp",
        "formation.codeDiplome",
    }
)
"""Fields whose format rule already refuses a value too long: one problem, one finding."""


def _employeur(cerfa: Cerfa) -> Iterator[Finding]:
    e = cerfa.employeur
    assert e is not None
    if not blank(e.naf):
        assert e.naf is not None
        if not _NAF_RE.match(e.naf.strip()):
            if _NAF_RE.match(e.naf.strip().upper()):
                yield warning(
                    "EMPLOYEUR_NAF_MINUSCULE",
                    "employeur.naf",
                    "La lettre du code NAF est attendue en majuscule.",
                )
            else:
                yield error(
                    "EMPLOYEUR_NAF_FORMAT",
                    "employeur.naf",
                    "Le code NAF doit compter 4 chiffres et une lettre (ex. 1071C).",
                )
    if not blank(e.codeIdcc) and normalize_idcc(e.codeIdcc) is None:
        yield error(
            "EMPLOYEUR_IDCC_FORMAT",
            "employeur.codeIdcc",
            "Le code IDCC doit compter 1 à 4 chiffres (ex. 0043).",
        )
    if e.nombreDeSalaries is not None and e.nombreDeSalaries < 0:
        yield error(
            "EMPLOYEUR_EFFECTIF", "employeur.nombreDeSalaries", "L'effectif ne peut être négatif."
        )
    yield from telephone(e.telephone, "employeur.telephone")
    yield from courriel(e.courriel, "employeur.courriel")
    yield from nom(e.nom, "employeur.nom")
    yield from nom(e.prenom, "employeur.prenom")


def _apprenti(a: Apprenti) -> Iterator[Finding]:
    yield from nom(a.nom, "apprenti.nom")
    yield from nom(a.nomUsage, "apprenti.nomUsage")
    yield from nom(a.prenom, "apprenti.prenom")
    yield from telephone(a.telephone, "apprenti.telephone")
    yield from courriel(a.courriel, "apprenti.courriel")
    if not blank(a.departementNaissance):
        dept = str(a.departementNaissance).strip()
        if not _DEPT_LENIENT_RE.match(dept):
            yield error(
                "APPRENTI_DEPARTEMENT_NAISSANCE_FORMAT",
                "apprenti.departementNaissance",
                "Département de naissance : 1 à 3 chiffres, 2A ou 2B (099 pour une naissance "
                "à l'étranger).",
            )
        elif not _DEPT_STRICT_RE.match(_dept2(dept)) and _dept2(dept) != "99":
            yield warning(
                "APPRENTI_DEPARTEMENT_NAISSANCE_INCONNU",
                "apprenti.departementNaissance",
                "Département de naissance inhabituel : vérifiez le code.",
            )
    if not blank(a.nir):
        assert a.nir is not None
        yield from nir(a, a.nir)
    rl = a.responsableLegal
    if rl is not None:
        base = "apprenti.responsableLegal"
        yield from nom(rl.nom, f"{base}.nom")
        yield from nom(rl.prenom, f"{base}.prenom")
        yield from courriel(rl.courriel, f"{base}.courriel")
        yield from telephone(rl.telephone, f"{base}.telephone")
        yield from adresse(rl.adresse, f"{base}.adresse")


def nir(a: Apprenti, value: str) -> Iterator[Finding]:
    """Format, key, and consistency with sexe, birth year/month and department of birth."""
    path = "apprenti.nir"
    compact = value.replace(" ", "").upper()
    result = check_nir(compact)
    if result is Check.FORMAT:
        yield error(
            "APPRENTI_NIR_FORMAT",
            path,
            "Le NIR doit compter 13 caractères (15 avec la clé) : des chiffres, 2A ou 2B pour "
            "la Corse.",
        )
        return
    if result is Check.KEY:
        yield error(
            "APPRENTI_NIR_CLE",
            path,
            "Le NIR est invalide : la clé (2 derniers chiffres) ne correspond pas au numéro.",
        )
    if compact != value:
        yield warning("APPRENTI_NIR_ESPACES", path, "Le NIR est attendu sans espace.")
    if compact[0] not in "12":
        yield error(
            "APPRENTI_NIR_SEXE",
            path,
            "Le NIR d'un apprenti doit commencer par 1 (homme) ou 2 (femme).",
        )
    elif a.sexe in ("M", "F") and compact[0] != ("1" if a.sexe == "M" else "2"):
        yield error(
            "APPRENTI_NIR_SEXE",
            path,
            "Le premier chiffre du NIR ne correspond pas au sexe déclaré.",
        )
    if a.dateNaissance is not None:
        if compact[1:3] != f"{a.dateNaissance.year % 100:02d}":
            yield error(
                "APPRENTI_NIR_ANNEE",
                path,
                "L'année de naissance inscrite dans le NIR ne correspond pas à la date de "
                "naissance.",
            )
        month = int(compact[3:5])
        if 1 <= month <= 12 and month != a.dateNaissance.month:
            yield error(
                "APPRENTI_NIR_MOIS",
                path,
                "Le mois de naissance inscrit dans le NIR ne correspond pas à la date de "
                "naissance.",
            )
        elif not 1 <= month <= 12:
            yield warning(
                "APPRENTI_NIR_MOIS_INCONNU",
                path,
                "Le NIR porte un mois de naissance fictif (20 à 42 ou 50 et plus) : "
                "la concordance avec la date de naissance n'est pas vérifiable.",
            )
    declared = str(a.departementNaissance or "").strip().upper()
    if declared and not _same_department(compact[5:7], declared):
        yield error(
            "APPRENTI_NIR_DEPARTEMENT",
            path,
            "Le département de naissance inscrit dans le NIR ne correspond pas au "
            "département de naissance déclaré.",
        )


def _dept2(declared: str) -> str:
    """``"075"`` -> ``"75"``, ``"1"`` -> ``"01"``, ``"971"`` and ``"2A"`` unchanged."""
    if len(declared) == 3 and declared.startswith("0"):
        declared = declared[1:]
    return "0" + declared if len(declared) == 1 else declared


def _same_department(nir_dept: str, declared: str) -> bool:
    """NIR positions 6-7 vs departementNaissance: ``75``/``075``, ``97``/``971``, ``99``/``099``,
    Corsica ``2A``/``2B`` (``20`` before 1976 matches both)."""
    declared = _dept2(declared)
    if declared in ("2A", "2B"):
        return nir_dept in (declared, "20")
    if len(declared) == 3:  # overseas 97x / 98x: the NIR keeps the first two digits here
        return nir_dept == declared[:2]
    return nir_dept == declared


def _maitre(m: Maitre, section: str) -> Iterator[Finding]:
    yield from nom(m.nom, f"{section}.nom")
    yield from nom(m.prenom, f"{section}.prenom")
    yield from courriel(m.courriel, f"{section}.courriel")
    if not blank(m.nir):
        assert m.nir is not None
        if check_nir(m.nir.replace(" ", "").upper()) is not Check.OK:
            yield warning(
                f"{PREFIX[section]}_NIR_INVALIDE",
                f"{section}.nir",
                "Le NIR du maître d'apprentissage est invalide (format ou clé).",
            )


def _formation(cerfa: Cerfa) -> Iterator[Finding]:
    f = cerfa.formation
    assert f is not None
    if not blank(f.rncp):
        assert f.rncp is not None
        if not _RNCP_RE.match(f.rncp.strip()):
            yield error(
                "FORMATION_RNCP_FORMAT",
                "formation.rncp",
                "Le code RNCP doit compter 2 à 5 chiffres, précédés ou non de « RNCP ».",
            )
    if not blank(f.codeDiplome):
        assert f.codeDiplome is not None
        if not _CFD_RE.match(f.codeDiplome.strip()):
            yield error(
                "FORMATION_CODE_DIPLOME_FORMAT",
                "formation.codeDiplome",
                "Le code diplôme (CFD) doit compter 8 caractères (chiffres ou majuscules).",
            )


def _contrat(cerfa: Cerfa) -> Iterator[Finding]:
    c = cerfa.contrat
    assert c is not None
    for name in ("noContrat", "numeroContratPrecedent"):
        value = getattr(c, name)
        if not blank(value) and check_deca(str(value).strip()) is not Check.OK:
            yield error(
                f"CONTRAT_{_snake(name)}_FORMAT",
                join("contrat", name),
                f"{cap(label(join('contrat', name)))} : numéro DECA de 15 caractères "
                "attendu (département, année, mois, code, numéro d'ordre ; ex. 02B202212000000).",
            )
    hours, minutes = c.dureeTravailHebdoHeures, c.dureeTravailHebdoMinutes
    if minutes is not None and not 0 <= minutes <= 59:
        yield error(
            "CONTRAT_DUREE_HEBDO_MINUTES",
            "contrat.dureeTravailHebdoMinutes",
            "Les minutes de la durée hebdomadaire doivent être comprises entre 0 et 59.",
        )
    if hours is not None:
        if hours < 0:
            yield error(
                "CONTRAT_DUREE_HEBDO_NEGATIVE",
                "contrat.dureeTravailHebdoHeures",
                "La durée hebdomadaire de travail ne peut être négative.",
            )
        elif hours > 40 or (hours == 40 and minutes is not None and 0 < minutes <= 59):
            yield error(
                "CONTRAT_DUREE_HEBDO_MAX",
                "contrat.dureeTravailHebdoHeures",
                "La durée hebdomadaire de travail ne peut dépasser 40 heures.",
            )
    for name in ("salaireEmbauche", "avantageNourriture", "avantageLogement", "smc"):
        value = getattr(c, name)
        if value is not None and value < 0:
            yield error(
                "MONTANT_NEGATIF", join("contrat", name), "Ce montant ne peut être négatif."
            )
    for i, period in enumerate(c.remunerationsAnnuelles or ()):
        base = join("contrat", "remunerationsAnnuelles", i)
        if period.taux is not None and not 0 <= period.taux <= 1000:
            yield error(
                "REMUNERATION_TAUX_BORNES",
                join(base, "taux"),
                "Le taux de rémunération doit être compris entre 0 et 1000 %.",
            )
        if not blank(period.typeSalaire) and period.typeSalaire not in ("SMIC", "SMC"):
            yield error(
                "REMUNERATION_TYPE_SALAIRE",
                join(base, "typeSalaire"),
                "La base de rémunération doit être SMIC ou SMC.",
            )
        if not blank(period.ordre) and not re.fullmatch(r"[1-4]\.[12]", str(period.ordre).strip()):
            yield error(
                "REMUNERATION_ORDRE_FORMAT",
                join(base, "ordre"),
                "L'ordre d'une période s'écrit année.période, de 1.1 à 4.2.",
            )


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper()


def _get(obj: object, path: str) -> object:
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part, None)
    return obj
