"""The dispatch rig: the REAL simulator, the REAL OPCO client and a REAL ledger (both engines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import httpx
import pytest_asyncio

from relais.adapters.credentials import CredentialStore
from relais.adapters.ledger import open_ledger
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.domain.events import KIND_OF_TYPE, EventType, parse_structured
from relais.domain.json_types import Json
from relais.domain.npec import NpecTable
from relais.domain.opco import OpcoCode
from relais.domain.profiles import load_profiles
from relais.domain.referentials import referential
from relais.sampledata import GeneratedDossier, Generator
from relais.sampledata.pdfs import default_files_dir
from relais.services.command_payload import CommandPayload
from relais.services.dispatch import CommandMetrics, Dispatcher, DispatchOptions
from relais.services.files_port import CfaFileOpener
from relais.services.ledger_port import CommandKind, Ledger, NewCommand
from relais.services.poll import Poller, PollOptions
from relais.services.retry import RetryPolicy
from tests.fixtures.simulator import (
    DEFAULT_CFA_SIRET,
    SimulatorProcess,
    default_key,
)
from tests.ledger_entries import accept
from tests.local_files import local_opener

# Short timeouts: a dropped response is noticed at once; a "hang" fault outlives the read timeout.
TIMEOUT = httpx.Timeout(connect=2.0, read=2.0, write=2.0, pool=5.0)


def to_command(event: Json, opco: OpcoCode) -> NewCommand:
    """The ledger command ingest makes of a structured CFA event (same payload form)."""
    parsed = parse_structured(event)
    kind = CommandKind(KIND_OF_TYPE[EventType(event["type"])].value)
    depends_on: list[str] = []
    if kind is CommandKind.FACTURE:
        ids = [line["dossierId"] for line in event["data"]["facture"]["lignes"]]
        depends_on = [d for d in dict.fromkeys(ids) if d != event["subject"]]
    return NewCommand(
        event_id=parsed.id,
        cfa=parsed.envelope.source_ref.value,
        dossier_id=parsed.dossier_id,
        opco=opco.value,
        kind=kind,
        payload=CommandPayload(type=parsed.type, time=parsed.envelope.time, data=parsed.data),
        depends_on=tuple(depends_on),
    )


@dataclass
class Rig:
    sim: SimulatorProcess
    ledger: Ledger
    gateway: HttpOpcoGateway
    gen: Generator
    today: date
    dispatchers: list[Dispatcher] = field(default_factory=list)

    @property
    def cfa(self) -> str:
        return self.gen.cfas[0].siret

    def dispatcher(
        self,
        *,
        policy: RetryPolicy | None = None,
        worker: str = "w1",
        metrics: CommandMetrics | None = None,
        npec: NpecTable | None = None,
        check_factures: bool = False,
        files: CfaFileOpener | None = None,
        **options: Any,
    ) -> Dispatcher:
        opts = DispatchOptions(retry=policy or RetryPolicy.instant(), **options)
        d = Dispatcher(
            self.ledger,
            self.gateway,
            opts,
            worker_id=worker,
            metrics=metrics,
            npec=npec,
            check_factures=check_factures,
            # the generator's PDFs, for the OPCOs taking multipart: the rig's CFA may read them
            files=files if files is not None else local_opener(default_files_dir(), self.cfa),
        )
        self.dispatchers.append(d)
        return d

    def poller(self, opcos: list[OpcoCode], **options: Any) -> Poller:
        return Poller(
            self.ledger,
            self.gateway,
            PollOptions(**options),
            pairs=[(self.cfa, o) for o in opcos],
        )

    def dossier(self, opco: OpcoCode, **kwargs: Any) -> GeneratedDossier:
        return self.gen.dossier(opco, cfa=self.gen.cfas[0], explicit_opco=True, **kwargs)

    async def send(self, event: Json, opco: OpcoCode) -> NewCommand:
        command = to_command(event, opco)
        assert await accept(self.ledger, command, [])
        return command

    async def settle(self, dispatcher: Dispatcher, rounds: int = 30) -> None:
        """Run ``dispatcher`` until nothing is due (instant retries make every retry due)."""
        for _ in range(rounds):
            if await dispatcher.run_once() == 0:
                return
        raise AssertionError("dispatch did not settle")

    async def state(self, command: NewCommand) -> str:
        [found] = [
            c
            for c in await self.ledger.commands_for(command.cfa, command.dossier_id)
            if c.event_id == command.event_id
        ]
        return found.state.value

    async def numero(self, dossier: GeneratedDossier) -> str:
        record = await self.ledger.dossier(self.cfa, dossier.dossier_id)
        assert record is not None and record.numero_interne is not None
        return record.numero_interne

    def creations(self, opco: OpcoCode, route: str) -> list[Json]:
        return [r for r in self.sim.records(opco=opco.value, route=route) if r["created"]]


@pytest_asyncio.fixture(loop_scope="function")
async def rig(fresh_simulator: SimulatorProcess, ledger_url: str) -> AsyncIterator[Rig]:
    sim = fresh_simulator
    today = date.fromisoformat(sim.clock()["today"])
    gen = Generator(20261127, today, cfa_count=1)
    # The simulator's default CFA: its keys exist from the start (no admin call per test).
    gen.cfas[0] = replace(gen.cfas[0], siret=DEFAULT_CFA_SIRET)
    store = CredentialStore()
    for opco in OpcoCode:
        store.add_key(DEFAULT_CFA_SIRET, opco, default_key(opco))
    sim.add_oauth_clients(store)
    gateway = HttpOpcoGateway(
        load_profiles(referential("opco-profiles.json")),
        store,
        editeur="relais",
        logiciel="relais-tests",
        version="0.1",
        base_urls={opco: sim.opco_url(opco) for opco in OpcoCode},
        token_urls={OpcoCode.AKTO: sim.token_url(OpcoCode.AKTO)},
        timeout=TIMEOUT,
    )
    ledger = open_ledger(ledger_url)
    try:
        yield Rig(sim=sim, ledger=ledger, gateway=gateway, gen=gen, today=today)
    finally:
        await gateway.aclose()
        await ledger.close()
        sim.clear_faults()
