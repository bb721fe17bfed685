"""The OPCO client against the REAL simulator (``simulator`` fixture from tests/fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from relais.adapters.credentials import CredentialStore
from relais.adapters.opco import BreakerSettings, HttpOpcoGateway
from relais.domain.json_types import Json
from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile, load_profiles
from relais.domain.referentials import referential
from relais.sampledata import GeneratedDossier, Generator
from relais.sampledata.pdfs import sample_pdf
from relais.services.files_port import FileSource
from relais.services.opco_port import Created, DossierNaturalKey
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    SimulatorProcess,
    default_key,
)
from tests.local_files import file_reference, local_opener

CFA = DEFAULT_CFA_SIRET
# A dropped response is noticed at once; a "hang" fault (60 s in these tests) outlives the read
# timeout, which a normal answer from a loaded machine does not reach.
TIMEOUT = httpx.Timeout(connect=2.0, read=2.0, write=2.0, pool=5.0)


@dataclass
class Rig:
    sim: SimulatorProcess
    gateway: HttpOpcoGateway
    gen: Generator
    today: date
    profiles: dict[OpcoCode, OpcoProfile]
    store: CredentialStore
    files: Path

    def dossier(self, opco: OpcoCode, **kwargs: Any) -> GeneratedDossier:
        return self.gen.dossier(opco, cfa=self.gen.cfas[0], **kwargs)

    def gateway_with(self, **kwargs: Any) -> HttpOpcoGateway:
        """Another gateway on the same simulator (the caller closes it)."""
        options: dict[str, Any] = {
            "editeur": "relais",
            "logiciel": "relais-tests",
            "version": "0.1",
            "base_urls": {opco: self.sim.opco_url(opco) for opco in OpcoCode},
            "timeout": TIMEOUT,
        }
        options.update(kwargs)
        profiles = options.pop("profiles", self.profiles)
        store = options.pop("store", self.store)
        return HttpOpcoGateway(profiles, store, **options)

    async def pdf(self, title: str = "facture") -> FileSource:
        """A small PDF on disk, opened like dispatch opens the file an event names."""
        path = self.files / f"{title}.pdf"
        path.write_bytes(sample_pdf(title))
        return await local_opener(self.files, CFA).open(CFA, file_reference(path))

    def created_records(self, opco: OpcoCode, route: str) -> list[Json]:
        return [r for r in self.sim.records(opco=opco.value, route=route) if r["created"]]

    async def engaged(self, opco: OpcoCode) -> tuple[GeneratedDossier, Created]:
        """A dossier submitted today, starting today, and engaged by the OPCO (échéances open)."""
        d = self.dossier(opco, start=self.today)
        created = await self.gateway.submit_dossier(CFA, opco, d.cerfa)
        self.sim.set_etat(opco, created.ids["numeroInterne"], "ENGAGE")
        return d, created


def natural_key(d: GeneratedDossier) -> DossierNaturalKey:
    cerfa = d.cerfa
    return DossierNaturalKey(
        employeur_siret=cerfa["employeur"]["siret"],
        apprenti_nom=cerfa["apprenti"]["nom"],
        apprenti_prenom=cerfa["apprenti"]["prenom"],
        apprenti_date_naissance=date.fromisoformat(cerfa["apprenti"]["dateNaissance"][:10]),
        date_debut_contrat=date.fromisoformat(cerfa["contrat"]["dateDebutContrat"][:10]),
    )


@pytest_asyncio.fixture(loop_scope="function")
async def rig(fresh_simulator: SimulatorProcess, tmp_path: Path) -> AsyncIterator[Rig]:
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    gen = Generator(4242, today, cfa_count=1)
    gen.cfas[0] = replace(gen.cfas[0], siret=CFA)
    store = CredentialStore()
    for opco in OpcoCode:
        store.add_key(CFA, opco, default_key(opco))
    sim.add_oauth_clients(store)
    profiles = load_profiles(referential("opco-profiles.json"))
    gateway = HttpOpcoGateway(
        profiles,
        store,
        editeur="relais",
        logiciel="relais-tests",
        version="0.1",
        base_urls={opco: sim.opco_url(opco) for opco in OpcoCode},  # token URL follows
        timeout=TIMEOUT,
        breaker=BreakerSettings(failure_threshold=50, cooldown_s=30.0),
    )
    try:
        yield Rig(sim, gateway, gen, today, profiles, store, tmp_path)
    finally:
        await gateway.aclose()
        sim.clear_faults()
