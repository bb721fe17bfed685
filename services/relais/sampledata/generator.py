"""Realistic, deterministic CFA events: ``Generator(seed, today)``.

The same seed and day always give the same events (ids included), so a test, the demo and the
benchmark can regenerate what they sent. A generated dossier is valid under the control rules of
convergence-api.md 3.x: Luhn-valid SIRETs (never La Poste's), UAIs with their check letter, a NIR
consistent with sex, birth year/month and department (2A/2B included) with its key, an apprentice
aged 16 to 29 at the start, a responsable légal for minors, contract of 12 to 36 months and training
dates inside the allowed windows, and the legal minimum wage schedule (3.5) on the SMIC in force.

Events are CloudEvents structured dicts (the file form), ready for ``structured_to_record``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from relais.domain.events import EventType
from relais.domain.json_types import Json
from relais.domain.opco import ALL_OPCO, OpcoCode
from relais.sampledata import catalogue as cat
from relais.sampledata import identifiers as ids
from relais.sampledata import invalid, wages
from relais.sampledata.cerfa_parts import CERFA_VERSION, load_idcc_by_opco
from relais.sampledata.followups import FollowUpEvents
from relais.sampledata.generated import Cfa, GeneratedDossier, InvalidDossier
from relais.sampledata.invalid import InvalidKind

NPEC_SHARE = 0.9  # the yearly cost a generated convention agrees, at most, of its NPEC

__all__ = ["Cfa", "GeneratedDossier", "Generator", "InvalidDossier", "load_idcc_by_opco"]


class Generator(FollowUpEvents):
    """Deterministic sample CFA events. ``today`` is the business day (Europe/Paris).

    The parts of a cerfa come from ``CerfaParts`` (cerfa_parts.py), the follow-up events from
    ``FollowUpEvents`` (followups.py); here: dossiers, avenants, successions, invalid dossiers.
    """

    def dossier(
        self,
        opco: OpcoCode | str | None = None,
        *,
        cfa: Cfa | None = None,
        explicit_opco: bool = False,
        age: int | None = None,
        programme: cat.Programme | None = None,
        start: date | None = None,
        _apprenti: Json | None = None,
        _employeur: Json | None = None,
        _type_contrat: int = 11,
        _previous: str | None = None,
    ) -> GeneratedDossier:
        """A valid new-contract dossier event for an employer of ``opco`` (random if None).

        ``explicit_opco`` also names the OPCO in the event (``data.opco``), bypassing IDCC routing.
        """
        opco = OpcoCode(opco) if opco is not None else self.rng.choice(ALL_OPCO)
        cfa = cfa or self.rng.choice(self.cfas)
        programme = programme or self.rng.choice(cat.PROGRAMMES)
        start = start or self.today + timedelta(days=self.rng.randint(-3, 75))
        conclusion = min(start, self.today) - timedelta(days=self.rng.randint(0, 20))
        months = programme.annees * 12
        if months >= 24 and self.rng.random() < 0.2:
            months -= 6
        end = wages.add_months(start, months) - timedelta(days=1)
        employeur = _employeur or self._employeur(opco)
        if _apprenti is None:
            _apprenti = self._new_apprenti(programme, employeur, age, start, conclusion)
        birth = date.fromisoformat(_apprenti["dateNaissance"])
        contrat = self._contrat(opco, employeur, birth, (conclusion, start, end), _type_contrat)
        if _previous is not None:
            contrat["numeroContratPrecedent"] = _previous
        cerfa: Json = {
            "versionCERFA": CERFA_VERSION,
            "CERFASignatureProbante": True,
            "employeur": employeur,
            "apprenti": _apprenti,
            "maitre1": self._maitre(start, programme),
            "formation": self._formation(programme, start, end, conclusion),
            "contrat": contrat,
            "organismeFormation": self._organisme(cfa),
        }
        if self.rng.random() < 0.2:
            cerfa["maitre2"] = self._maitre(start, programme)
        dossier_id = self._dossier_id(cfa)
        data: Json = {"cerfa": cerfa}
        if explicit_opco:
            data = {"opco": opco.value, "cerfa": cerfa}
        return GeneratedDossier(
            dossier_id=dossier_id,
            cfa=cfa,
            opco=opco,
            cerfa=cerfa,
            event=self.event(EventType.DOSSIER_SUBMITTED, cfa, dossier_id, data),
            programme=programme,
            cout_annuel=self._cout_annuel(cerfa, conclusion),
            explicit_opco=explicit_opco,
        )

    def _cout_annuel(self, cerfa: Json, conclusion: date) -> float:
        """A yearly pedagogical cost within the NPEC of the dossier's certification and IDCC (a
        convention above it is refused before any call: the CFA knows its NPEC)."""
        drawn = float(self.rng.randrange(4_500, 12_000, 50))
        formation = cerfa["formation"]
        npec = self._npec.lookup(
            (formation.get("rncp"), formation.get("codeDiplome")),
            cerfa["employeur"].get("codeIdcc"),
            conclusion,
        )
        if npec is None:
            return drawn
        return min(drawn, float(math.floor(npec.npec_cents * NPEC_SHARE / 5_000) * 50))

    def _new_apprenti(
        self,
        programme: cat.Programme,
        employeur: Json,
        age: int | None,
        start: date,
        conclusion: date,
    ) -> Json:
        """A new apprenti for a dossier (of ``age`` at the start, drawn when None)."""
        if age is None:
            age = self.rng.randint(max(16, programme.age_min), min(29, programme.age_max))
        return self._apprenti(
            age=age,
            start=start,
            conclusion=conclusion,
            programme=programme,
            msa=employeur["typeEmployeur"] == 13,
        )

    def _contrat(
        self,
        opco: OpcoCode,
        employeur: Json,
        birth: date,
        dates: tuple[date, date, date],
        type_contrat: int,
    ) -> Json:
        """The contrat of a dossier; ``dates``: conclusion, start, end."""
        conclusion, start, end = dates
        remunerations, salaire = self._remunerations(birth, start, end)
        contrat: Json = {
            "modeContractuel": self.rng.choices((1, 2), weights=(80, 20))[0],
            "typeContratApp": type_contrat,
            "dateConclusion": conclusion.isoformat(),
            "dateDebutContrat": start.isoformat(),
            "dateDebutFormationPratique": start.isoformat(),
            "dateFinContrat": end.isoformat(),
            "lieuSignatureContrat": employeur["adresse"]["commune"],
            "dureeTravailHebdoHeures": 35,
            "dureeTravailHebdoMinutes": 0,
            "travailRisque": opco in (OpcoCode.CONSTRUCTYS, OpcoCode.OPCO2I)
            and self.rng.random() < 0.5,
            "avantageNature": False,
            "salaireEmbauche": salaire,
            "remunerationsAnnuelles": remunerations,
        }
        if wages.age_on(birth, end) >= 21:  # the state form asks the SMC from 21 at the end
            # the state form asks the SMC from 21 at the contract's end; none above the SMIC here
            contrat["smc"] = wages.monthly_amount(100, wages.smic_at(self._smic, start))
        return contrat

    def dossiers(self, n: int, opcos: Sequence[OpcoCode] | None = None) -> list[GeneratedDossier]:
        """``n`` dossiers, cycling through ``opcos`` (default: all 11) so each one gets some."""
        pool = list(opcos or ALL_OPCO)
        return [self.dossier(pool[i % len(pool)]) for i in range(n)]

    def _rewrap(self, d: GeneratedDossier) -> None:
        """A new dossier event (new id) carrying ``d.cerfa``."""
        data: Json = {"cerfa": d.cerfa}
        if d.explicit_opco:
            data = {"opco": d.opco.value, "cerfa": d.cerfa}
        d.event = self.event(EventType.DOSSIER_SUBMITTED, d.cfa, d.dossier_id, data)

    def avenant(
        self,
        dossier: GeneratedDossier,
        type_avenant: int = 36,
        *,
        no_contrat: str | None = None,
        same_dossier_id: bool = True,
    ) -> GeneratedDossier:
        """An avenant (typeContratApp 31-38) to ``dossier``: a new dossier event on the same CFA
        dossier id (so it is ordered after the contract), naming the contract by its DECA number
        (``no_contrat``, as the OPCO gave it; a plausible one when unknown)."""
        if not 31 <= type_avenant <= 38:
            raise ValueError("an avenant is typeContratApp 31 to 38")
        cerfa = copy.deepcopy(dossier.cerfa)
        contrat = cerfa["contrat"]
        start, end = dossier.start, dossier.end
        effet = min(end, max(start, self.today) + timedelta(days=self.rng.randint(1, 30)))
        contrat["typeContratApp"] = type_avenant
        contrat["numeroContratPrecedent"] = no_contrat or ids.make_deca(
            self.rng, cerfa["employeur"]["adresse"]["codePostal"][:2], start
        )
        contrat["dateEffetAvenant"] = effet.isoformat()
        contrat["noAvenant"] = "1"
        if type_avenant == 36:  # e.g. a new maître d'apprentissage
            cerfa["maitre1"] = self._maitre(start, dossier.programme)
        elif type_avenant == 33:  # extension after an exam failure: one more year
            new_end = wages.add_months(end, 12)
            birth = date.fromisoformat(cerfa["apprenti"]["dateNaissance"])
            contrat["dateFinContrat"] = new_end.isoformat()
            contrat["remunerationsAnnuelles"], contrat["salaireEmbauche"] = self._remunerations(
                birth, start, new_end
            )
            cerfa["formation"]["dateFinFormation"] = (new_end - timedelta(days=15)).isoformat()
        elif type_avenant == 37:  # new place of execution
            cerfa["employeur"]["adresse"] = self._adresse(self.rng.choice(cat.COMMUNES))
        dossier_id = dossier.dossier_id if same_dossier_id else self._dossier_id(dossier.cfa)
        out = GeneratedDossier(
            dossier_id=dossier_id,
            cfa=dossier.cfa,
            opco=dossier.opco,
            cerfa=cerfa,
            event={},
            programme=dossier.programme,
            cout_annuel=dossier.cout_annuel,
            explicit_opco=dossier.explicit_opco,
            extra_personal=dossier.personal_values(),
        )
        self._rewrap(out)
        return out

    def succession(
        self,
        type_succession: Literal[21, 22, 23] = 21,
        *,
        previous: GeneratedDossier | None = None,
        opco: OpcoCode | None = None,
        no_contrat_precedent: str | None = None,
    ) -> GeneratedDossier:
        """A new contract following a previous one (21 same employer, 22 other employer after
        completion, 23 other employer after a rupture), as a new CFA dossier."""
        if type_succession not in (21, 22, 23):
            raise ValueError("a succession is typeContratApp 21, 22 or 23")
        apprenti = copy.deepcopy(previous.cerfa["apprenti"]) if previous else None
        employeur = None
        if previous is not None:
            opco = opco or previous.opco
            if type_succession == 21:
                employeur = copy.deepcopy(previous.cerfa["employeur"])
        previous_start = previous.start if previous else self.today - timedelta(days=400)
        precedent = no_contrat_precedent or ids.make_deca(self.rng, "075", previous_start)
        start = self.today + timedelta(days=self.rng.randint(0, 30))
        if apprenti is not None:
            apprenti["situationAvantContrat"] = 4
            birth = date.fromisoformat(apprenti["dateNaissance"])
            if wages.age_on(birth, start) > 29:
                raise ValueError("the apprentice would be over 29 at the start of the succession")
            minor = wages.age_on(birth, min(start, self.today)) < 18
            apprenti["apprentiMineur"] = apprenti["apprentiMineurNonEmancipe"] = minor
            if not minor:
                apprenti.pop("responsableLegal", None)
        d = self.dossier(
            opco,
            cfa=previous.cfa if previous else None,
            programme=previous.programme if previous else None,
            start=start,
            age=None if apprenti else self.rng.randint(18, 27),
            _apprenti=apprenti,
            _employeur=employeur,
            _type_contrat=type_succession,
            _previous=precedent,
        )
        if apprenti is None:  # the event's data is this very dict
            d.cerfa["apprenti"]["situationAvantContrat"] = 4
        return d

    def invalid_dossier(
        self, kind: InvalidKind | str, opco: OpcoCode | str | None = None
    ) -> InvalidDossier:
        """A dossier event that breaks exactly the rule ``kind`` (and says where it should show)."""
        expected = invalid.breakage(kind)
        age = 16 if expected.needs_minor else None
        start = self.today + timedelta(days=5) if expected.needs_minor else None
        d = self.dossier(opco, age=age, start=start)
        invalid.apply(kind, d.cerfa)
        self._rewrap(d)
        return InvalidDossier(dossier=d, breakage=expected)
