"""The file a convention or facture names, at an OPCO that takes multipart (convergence-api.md 0):
an event without it, or whose file differs from its reference, fails before any call; the one it
names is what the OPCO receives (by SHA-256)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from relais.domain.opco import OpcoCode
from relais.sampledata.pdfs import default_files_dir
from tests.integration.dispatch.conftest import Rig

pytestmark = pytest.mark.integration


def other_bytes(path: Path) -> str:
    path.write_bytes(b"%PDF-1.4 not the file the reference names")
    return f"file://{path.resolve()}"


def digest(location: str) -> str:
    return hashlib.sha256(Path(location.removeprefix("file://")).read_bytes()).hexdigest()


async def test_the_file_is_sent_or_the_command_fails_before_the_call(rig: Rig) -> None:
    opco = OpcoCode.ATLAS
    dispatcher = rig.dispatcher()
    dossiers = [rig.dossier(opco, start=rig.today - timedelta(days=2)) for _ in range(3)]
    for d in dossiers:
        await rig.send(d.event, opco)
    await rig.settle(dispatcher)
    sent, without, changed = (rig.gen.convention(d) for d in dossiers)
    del without["data"]["fichier"]
    changed["data"]["fichier"]["location"] = other_bytes(default_files_dir() / "changed.pdf")
    commands = [await rig.send(event, opco) for event in (sent, without, changed)]
    await rig.settle(dispatcher)

    assert [await rig.state(c) for c in commands] == ["done", "failed", "failed"]
    reasons = [
        found.last_error
        for c in commands[1:]
        for found in await rig.ledger.commands_for(c.cfa, c.dossier_id)
        if found.event_id == c.event_id
    ]
    assert reasons[0] is not None and "fichier" in reasons[0]
    assert reasons[1] == "rejected: FILE_HASH_MISMATCH"
    [record] = rig.sim.records(opco=opco.value, route="conventions")  # one call only
    ref = sent["data"]["fichier"]
    assert record["file"]["sha256"] == ref["sha256"] == digest(ref["location"])
