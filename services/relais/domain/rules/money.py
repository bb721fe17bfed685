"""The money, checked before any call (convergence-api.md 3.6; issue 15, item 4).

``check_convention_money``: a convention's pedagogical cost (``couts.coutTotalPedagogieCFA``, the
whole contract) against the NPEC of the dossier's certification and IDCC, applicable at its
``dateConclusion``, -20 % when 80 % or more of the training is at distance, over the contract's
duration (contracts from 2025-07-01: whole contract years, then the partial year by day ÷ 365;
before: every started month, ÷ 12). The
OPCO finances up to that ceiling; above it is the employer's share, which the OPCO refuses to
carry: an error. No NPEC row at all: a warning.

``check_facture_money``: each invoiced line against the dossier's échéancier known from the
OPCO's engagement (``echeancier_from_opco`` reads ``GET /v1/dossiers`` answers): the échéance
exists and is open, the amount is not above what remains (total - paid - under instruction), the
invoice and the échéance fall within the contract. An échéancier relais has not read yet is a
warning, never a block.

Pure functions: the caller passes what relais knows (the dossier's validated cerfa, the NPEC
table, the échéanciers read from the OPCO).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from relais.domain.cerfa import Cerfa
from relais.domain.dates import (
    add_months,
    add_years,
    full_months_between,
    next_day,
    parse_wire_date,
)
from relais.domain.findings import Finding, error, join, warning
from relais.domain.followups import Convention, Facture, LigneFacture
from relais.domain.npec import NpecMatch, NpecTable

LAST_ECHEANCE = 99  # codificationEcheance of a dossier's last échéance (convergence-api.md 0)

REFORM_DATE = date(2025, 7, 1)
DISTANCE_THRESHOLD = 0.8
DISTANCE_CUT = 0.2
EMPLOYER_PARTICIPATION_CENTS = 75_000
LEVEL_6_TENS = frozenset({6, 7, 8})
MAX_ECHEANCES = 100
COST = "couts.coutTotalPedagogieCFA"


def cents(amount: float) -> int:
    return round(amount * 100)


def euros(value: int) -> str:
    return f"{value / 100:,.2f} €".replace(",", " ").replace(".", ",")


@dataclass(frozen=True)
class DossierFacts:
    """What the money checks need of a dossier (from the cerfa relais validated and sent)."""

    certifications: tuple[str, ...]
    idcc: str | None
    conclusion: date
    start: date
    end: date
    distance_share: float | None = None
    level_6: bool = False

    @classmethod
    def from_cerfa(cls, cerfa: Cerfa) -> DossierFacts | None:
        c, f, e = cerfa.contrat, cerfa.formation, cerfa.employeur
        if c is None or f is None or c.dateDebutContrat is None or c.dateFinContrat is None:
            return None
        share = None
        if f.dureeFormation and f.nombreHeuresEnDistanciel is not None:
            share = f.nombreHeuresEnDistanciel / f.dureeFormation
        return cls(
            certifications=tuple(x for x in (f.rncp, f.codeDiplome) if x),
            idcc=e.codeIdcc if e is not None else None,
            conclusion=c.dateConclusion or c.dateDebutContrat,
            start=c.dateDebutContrat,
            end=c.dateFinContrat,
            distance_share=share,
            level_6=f.typeDiplome is not None and f.typeDiplome // 10 in LEVEL_6_TENS,
        )


@dataclass(frozen=True)
class ConventionFinancing:
    npec: NpecMatch
    annual_cents: int
    """The NPEC after the distance-learning reduction."""
    ceiling_cents: int
    """What the OPCO finances at most over the contract."""
    cost_cents: int
    opco_share_cents: int
    employer_share_cents: int
    """The cost above the ceiling (the employer's, never the OPCO's)."""
    employer_participation_cents: int
    """750 € for a level-6+ certification in a contract from 2025-07-01 (décret 2025-585)."""


def convention_financing(
    cost_cents: int, facts: DossierFacts, npec: NpecMatch
) -> ConventionFinancing:
    annual = npec.npec_cents
    if facts.distance_share is not None and facts.distance_share >= DISTANCE_THRESHOLD:
        annual = round(annual * (1 - DISTANCE_CUT))
    after = next_day(facts.end)
    if facts.conclusion >= REFORM_DATE:
        years = 0
        while add_years(facts.start, years + 1) <= after:
            years += 1
        rest = (after - add_years(facts.start, years)).days  # a partial year, by day
        ceiling = annual * years + round(annual * rest / 365)
    else:
        months = full_months_between(facts.start, after)
        if after > add_months(facts.start, months):
            months += 1  # a started month is due in full
        ceiling = round(annual * months / 12)
    participation = (
        EMPLOYER_PARTICIPATION_CENTS if facts.level_6 and facts.conclusion >= REFORM_DATE else 0
    )
    return ConventionFinancing(
        npec=npec,
        annual_cents=annual,
        ceiling_cents=ceiling,
        cost_cents=cost_cents,
        opco_share_cents=min(cost_cents, ceiling),
        employer_share_cents=max(0, cost_cents - ceiling),
        employer_participation_cents=participation,
    )


def check_convention_money(
    convention: Convention, facts: DossierFacts | None, table: NpecTable
) -> tuple[list[Finding], ConventionFinancing | None]:
    cost = convention.couts.coutTotalPedagogieCFA if convention.couts is not None else None
    if cost is None or cost <= 0 or facts is None:
        return [], None  # the convention rules report a missing cost; no dossier: nothing to say
    npec = table.lookup(facts.certifications, facts.idcc, facts.conclusion)
    if npec is None:
        return [
            warning(
                "CONVENTION_NPEC_INCONNU",
                COST,
                "Aucun niveau de prise en charge (NPEC) connu pour cette certification et cette "
                "convention collective : le coût n'a pas pu être contrôlé avant l'envoi.",
            )
        ], None
    money = convention_financing(cents(cost), facts, npec)
    findings: list[Finding] = []
    if money.employer_share_cents > 0:
        reduced = (
            " (minoré de 20 % : formation à distance)"
            if money.annual_cents < npec.npec_cents
            else ""
        )
        source = (
            " ; table NPEC synthétique, à remplacer par le référentiel officiel"
            if npec.synthetic
            else ""
        )
        findings.append(
            error(
                "CONVENTION_COUT_SUPERIEUR_NPEC",
                COST,
                f"Coût pédagogique supérieur au niveau de prise en charge : l'OPCO finance au plus "
                f"{euros(money.ceiling_cents)} sur la durée du contrat (NPEC annuel "
                f"{euros(money.annual_cents)}{reduced}) ; la part au-delà "
                f"({euros(money.employer_share_cents)}) relève de l'employeur et ne peut figurer "
                f"dans la convention transmise à l'OPCO{source}.",
            )
        )
    if money.employer_participation_cents:
        findings.append(
            warning(
                "CONVENTION_PARTICIPATION_EMPLOYEUR",
                COST,
                "Certification de niveau 6 ou plus, contrat conclu depuis le 1er juillet 2025 : "
                "la participation de l'employeur (750 €) est déduite de la première échéance.",
            )
        )
    return findings, money


# --------------------------------------------------------------------------------------------
# Factures against the échéancier
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Echeance:
    numero: int
    ouverture: date | None
    total_cents: int
    regle_cents: int = 0
    en_cours_cents: int = 0

    @property
    def remaining_cents(self) -> int:
        return max(0, self.total_cents - self.regle_cents - self.en_cours_cents)


@dataclass(frozen=True)
class KnownDossier:
    """A dossier as relais knows it when a facture names it."""

    echeances: tuple[Echeance, ...] | None
    """``None``: the OPCO's engagement has not been read yet."""
    start: date | None = None
    end: date | None = None
    """The contract's end, or its rupture date."""


def echeancier_from_opco(doc: object) -> tuple[Echeance, ...] | None:
    """The ``echeances`` of an OPCO's dossier read (``GET /v1/dossiers?numeroInterne=``)."""
    items = doc.get("echeances") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        return None
    out: list[Echeance] = []
    for item in items[:MAX_ECHEANCES]:
        if not isinstance(item, dict) or not isinstance(item.get("numero"), int):
            continue
        try:
            opening = item.get("dateOuverture")
            out.append(
                Echeance(
                    numero=item["numero"],
                    ouverture=parse_wire_date(opening) if opening else None,
                    total_cents=cents(float(item.get("montantTotal") or 0)),
                    regle_cents=cents(float(item.get("montantRegle") or 0)),
                    en_cours_cents=cents(float(item.get("montantEnCoursInstruction") or 0)),
                )
            )
        except (TypeError, ValueError):
            continue
    return tuple(out)


def check_facture_money(
    facture: Facture, dossiers: Mapping[str, KnownDossier | None], *, today: date
) -> list[Finding]:
    """Each line against its dossier's échéancier; ``dossiers`` keyed like the lines name them
    (``numeroInterneDossier`` on the wire, ``dossierId`` in a CFA event)."""
    base, lines = ("dossiers", facture.dossiers) if facture.dossiers else ("lignes", facture.lignes)
    invoiced_on = facture.dateFacture or today
    findings: list[Finding] = []
    for i, line in enumerate(lines or []):
        key = line.numeroInterneDossier or line.dossierId
        if key is None or line.numeroEcheance is None or line.montant is None:
            continue  # the facture rules report these
        findings.extend(_line(line, dossiers.get(key), join(base, i), invoiced_on))
    return findings


def _line(
    line: LigneFacture, known: KnownDossier | None, path: str, invoiced_on: date
) -> Iterator[Finding]:
    if known is None or known.echeances is None:
        yield warning(
            "FACTURE_ECHEANCIER_INCONNU",
            join(path, "numeroEcheance"),
            "Échéancier du dossier pas encore connu (engagement de l'OPCO non lu) : l'échéance "
            "et le montant restant n'ont pas pu être contrôlés avant l'envoi.",
        )
        return
    if known.start is not None and invoiced_on < known.start:
        yield error(
            "FACTURE_DATE_HORS_CONTRAT",
            "dateFacture",
            "La facture est datée d'avant le début du contrat.",
        )
    found = [e for e in known.echeances if e.numero == line.numeroEcheance]
    if not found:
        yield error(
            "FACTURE_ECHEANCE_INCONNUE",
            join(path, "numeroEcheance"),
            "Cette échéance ne figure pas dans l'échéancier de l'OPCO pour ce dossier.",
        )
        return
    echeance = found[0]
    yield from _codification(line, echeance.numero, max(e.numero for e in known.echeances), path)
    if echeance.ouverture is not None and echeance.ouverture > invoiced_on:
        yield error(
            "FACTURE_ECHEANCE_NON_OUVERTE",
            join(path, "numeroEcheance"),
            f"Échéance pas encore ouverte (ouverture le {echeance.ouverture:%d/%m/%Y}).",
        )
    if known.end is not None and echeance.ouverture is not None and echeance.ouverture > known.end:
        yield error(
            "FACTURE_ECHEANCE_HORS_CONTRAT",
            join(path, "numeroEcheance"),
            "Cette échéance s'ouvre après la fin (ou la rupture) du contrat.",
        )
    if line.montant is not None and cents(line.montant) > echeance.remaining_cents:
        yield error(
            "FACTURE_MONTANT_SUPERIEUR_RESTANT",
            join(path, "montant"),
            f"Montant supérieur à ce qui reste à facturer sur cette échéance "
            f"({euros(echeance.remaining_cents)} : total moins réglé et en cours d'instruction).",
        )


def _codification(line: LigneFacture, numero: int, last: int, path: str) -> Iterator[Finding]:
    """convergence-api.md 0: ``codificationEcheance`` is the échéance number, 99 for the last
    (the CFA says 99; relais refuses 99 on an échéance the OPCO's échéancier does not end with)."""
    if line.codificationEcheance == LAST_ECHEANCE and numero != last:
        yield error(
            "FACTURE_CODIFICATION_99_PAS_DERNIERE",
            join(path, "codificationEcheance"),
            f"La codification 99 est réservée à la dernière échéance (n° {last}).",
        )
