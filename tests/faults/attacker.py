"""The attacker of the fault suite: a CFA of its own, bound to its own input topic, that publishes
hostile records while the legitimate CFAs' traffic flows, and the checks that it harmed no one.

What it publishes (``Attack``), each record kept with its Kafka position once produced:

- ``huge_subject``: its own event with a ce_subject of hundreds of KB (long mode: over 1 MB);
- ``huge_key``: its own event with a Kafka key of hundreds of KB; ``huge_key_garbage``: a key
  over 1 MB and a value that is not JSON (the DLQ cannot carry either);
- ``collide_before`` / ``collide_after``: its own (invalid) event under the ``ce_id`` of a
  legitimate CFA's event published after it (a follow-up not produced yet) / before it;
- ``forged``: a record claiming a legitimate CFA's ``ce_source`` (with that CFA's event id and
  dossier id) on the attacker's topic: before the real event, the attacker's invalid content;
  after it, a copy of it; ``forged_signed``: the same for the CFA that signs its events, with a
  made-up signature;
- ``foreign_numero``: a convention for the attacker's own dossier naming the OPCO's
  ``numeroInterneDossier`` of a legitimate CFA's dossier.

The checks (pure functions over what was read back, unit-tested in ``test_attacker.py``):

- ``check_accounted``: every attacker record has an answer: a refusal on the operators' topic
  named by its position, a DLQ record of its position, or a ``rejected``/``dead_lettered`` status
  for the attacker's own CFA; and the answer of its kind (a forged record only on the operators'
  topic; a foreign numero refused for it);
- ``check_statuses``: no status on the CFAs' status topic about an attacker record is addressed
  to a legitimate CFA or names a legitimate CFA's dossier id or OPCO number; a legitimate event
  id appears in the attacker's statuses only where the attacker itself reused it under its own
  source (its own event, answered to it);
- ``check_opco``: the simulator received no request with the attacker's key on a legitimate
  CFA's dossier, and no request for the foreign-numero follow-up.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from relais.domain.events import structured_to_record
from relais.sampledata import Generator, InvalidKind
from relais.sampledata.generator import GeneratedDossier

ATTACKER_SEED = 71  # its generator (one CFA: the attacker's)
ROUTES = ("operators", "dlq", "own")
FORGED = ("forged", "forged_signed")
# the answer each kind must get (None: any)
EXPECTED_ROUTE: dict[str, str | None] = {
    "huge_subject": None,
    "huge_key": None,
    "huge_key_garbage": None,
    "collide_before": "own",
    "collide_after": "own",
    "forged": "operators",
    "forged_signed": "operators",
    "foreign_numero": "own",
}
NUMERO_CODES = ("DOSSIER_NUMERO_MISMATCH", "DOSSIER_NUMERO_UNVERIFIABLE")


class Record(Protocol):
    """A record read back from a topic (``harness.Consumed``)."""

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def header_map(self) -> dict[str, str]: ...


@dataclass
class AttackRecord:
    kind: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    ce_id: str | None  # the id it claims (None: not a usable id)
    topic: str = ""
    partition: int = -1
    offset: int = -1

    @property
    def position(self) -> str:
        """How relais names a record whose source is not established (``Trigger.for_record``)."""
        return f"kafka:{self.topic}:{self.partition}:{self.offset}"


@dataclass
class Attack:
    """What the attacker published, and the legitimate ids it aimed at."""

    siret: str
    records: list[AttackRecord] = field(default_factory=list)

    def add(
        self,
        kind: str,
        key: bytes,
        value: bytes,
        headers: Mapping[str, str | bytes],
        ce_id: str | None,
    ) -> AttackRecord:
        encoded = [(k, v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
        record = AttackRecord(kind, key, value, encoded, ce_id)
        self.records.append(record)
        return record

    def own_claims(self) -> set[str]:
        """Ids the attacker sent under its own source (answered to it: not a leak)."""
        return {r.ce_id for r in self.records if r.ce_id and r.kind not in FORGED}

    def kinds(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.records))


def _headers(event: Mapping[str, Any]) -> tuple[bytes, bytes, dict[str, str]]:
    rec = structured_to_record(event)
    return rec.key or b"", rec.value, {k: v.decode() for k, v in rec.headers}


class Builder:
    """The attacker's records, from its own generator (its CFA only)."""

    def __init__(self, attack: Attack, gen: Generator) -> None:
        self.attack, self.gen, self._n = attack, gen, 0

    def _invalid(self) -> dict[str, Any]:
        """One of its own events that the rules refuse (so it never reaches an OPCO)."""
        event = self.gen.invalid_dossier(InvalidKind.NIR_KEY).event
        self._n += 1
        event["id"] = f"atk-{self._n}-{event['id']}"
        return event

    def oversized(self, subject_bytes: int, key_bytes: int, garbage_key_bytes: int) -> None:
        key, value, headers = _headers(self._invalid())
        headers["ce_subject"] = "S" * subject_bytes
        self.attack.add("huge_subject", key, value, headers, headers["ce_id"])
        key, value, headers = _headers(self._invalid())
        self.attack.add("huge_key", b"K" * key_bytes, value, headers, headers["ce_id"])
        _, _, headers = _headers(self._invalid())
        garbage = b"\xff\xfe not json " + b"G" * 1024
        self.attack.add("huge_key_garbage", b"G" * garbage_key_bytes, garbage, headers, None)

    def collide(self, kind: str, victim_ids: Iterable[str]) -> None:
        """Its own invalid event under each of these legitimate event ids."""
        for victim_id in victim_ids:
            event = self._invalid()
            event["id"] = victim_id
            key, value, headers = _headers(event)
            self.attack.add(kind, key, value, headers, victim_id)

    def forge(
        self,
        victim_events: Iterable[Mapping[str, Any]],
        signers: Iterable[str],
        *,
        tamper: bool = False,
    ) -> None:
        """Records claiming legitimate CFAs' events (their source, id, dossier) on the attacker's
        topic: the events as they are, or (``tamper``) the attacker's invalid content under their
        source, id and dossier (taken for theirs, it would be refused in their name and their real
        event later seen as a duplicate); a signing CFA's with a made-up signature."""
        signing = set(signers)
        for victim in victim_events:
            event = dict(victim)
            if tamper:
                event = {**self._invalid(), **{k: victim[k] for k in ("source", "id", "subject")}}
            key, value, headers = _headers(event)
            kind = "forged"
            if headers["ce_source"].rsplit(":", 1)[-1] in signing:
                headers["ce_signature"] = "0" * 64
                kind = "forged_signed"
            self.attack.add(kind, key, value, headers, headers["ce_id"])

    def foreign_numero(self, own: GeneratedDossier, numero: str) -> None:
        """A convention for its own dossier naming another CFA's OPCO number."""
        event = self.gen.convention(own, numero_interne=numero)
        self._n += 1
        event["id"] = f"atk-{self._n}-{event['id']}"
        key, value, headers = _headers(event)
        self.attack.add("foreign_numero", key, value, headers, headers["ce_id"])


def body_of(record: Record) -> dict[str, Any]:
    try:
        body = json.loads(record.value or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def check_accounted(
    attack: Attack,
    statuses: Iterable[Record],
    rejected: Iterable[Record],
    dlq: Iterable[Record],
) -> tuple[list[str], dict[str, Any]]:
    """Every attacker record has an answer, the one of its kind. Returns problems and counts."""
    operators = {body_of(r).get("eventId") for r in rejected}
    dead = {
        "kafka:{dlq_topic}:{dlq_partition}:{dlq_offset}".format_map(defaultdict(str, r.header_map))
        for r in dlq
    }
    own: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in statuses:
        body = body_of(r)
        if body.get("cfa") == attack.siret and body.get("status") in ("rejected", "dead_lettered"):
            own[str(body.get("eventId"))].append(body)
    problems: list[str] = []
    by_route: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in attack.records:
        # a forged record's id is the victim's: only its position can name an answer to it
        claimed = rec.ce_id if rec.ce_id and rec.kind not in FORGED else ""
        mine = own.get(claimed, []) + own.get(rec.position, [])
        found = {
            "operators": rec.position in operators,
            "dlq": rec.position in dead,
            "own": bool(mine),
        }
        routes = [route for route in ROUTES if found[route]]
        by_route.update(routes)
        by_kind[rec.kind].update(routes)
        label = f"{rec.kind} at {rec.position}"
        if not routes:
            problems.append(f"{label}: no refusal, dead letter or status")
            continue
        want = EXPECTED_ROUTE.get(rec.kind)
        if want is not None and not found[want]:
            problems.append(f"{label}: answered by {routes}, want {want}")
        if rec.kind in FORGED and found["own"]:
            problems.append(f"{label}: a forged record earned a status on the CFAs' topic")
        if rec.kind == "foreign_numero":
            codes = {e.get("code") for body in mine for e in body.get("errors") or ()}
            if not codes & set(NUMERO_CODES):
                problems.append(f"{label}: refused for {sorted(map(str, codes))}, not its number")
    counts = {
        "attack_records": len(attack.records),
        "attack_kinds": attack.kinds(),
        "attack_answered_by": dict(by_route),
        "attack_answered_by_kind": {kind: dict(c) for kind, c in by_kind.items()},
    }
    return problems, counts


_TOKEN = re.compile(r"[\w-]+")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def check_statuses(
    attack: Attack,
    statuses: Iterable[Record],
    cfa_of: Mapping[str, str],
    victim_dossiers: Iterable[str],
    victim_numeros: Iterable[str],
) -> tuple[list[str], dict[str, int]]:
    """No status on the CFAs' topic reveals a legitimate CFA's ids to the attacker or answers the
    attacker to a legitimate CFA. ``cfa_of``: legitimate event id -> its CFA (the workload's);
    ``victim_dossiers``: the legitimate CFAs' dossier ids; ``victim_numeros``: the OPCO numbers
    of their dossiers."""
    own_claims = attack.own_claims()
    needles = {*victim_dossiers, *victim_numeros}
    problems: list[str] = []
    seen = {"attacker_statuses": 0, "largest_attacker_status_bytes": 0}
    for r in statuses:
        body = body_of(r)
        cfa, event_id = body.get("cfa"), body.get("eventId")
        if cfa == attack.siret:
            seen["attacker_statuses"] += 1
            size = len(r.value or b"") + len(r.key or b"")
            size += sum(len(v) for v in r.header_map.values())
            seen["largest_attacker_status_bytes"] = max(seen["largest_attacker_status_bytes"], size)
            if event_id in cfa_of and event_id not in own_claims:
                problems.append(f"attacker status names the event {event_id} of {cfa_of[event_id]}")
            text = [
                *_strings(body),
                *r.header_map.values(),
                (r.key or b"").decode(errors="replace"),
            ]
            # whole ids, as tokens (an OPCO number is 12 digits: not a part of a longer number)
            named = sorted({token for line in text for token in _TOKEN.findall(line)} & needles)
            if named:
                problems.append(f"attacker status {event_id} names {named[:3]}")
        elif cfa is None:
            problems.append(f"status without a CFA on the CFAs' topic: {event_id}")
        elif event_id is not None and cfa_of.get(event_id) != cfa:
            problems.append(f"status for {cfa} names an event it did not publish: {event_id}")
    return problems, seen


def check_opco(
    attack: Attack,
    requests: Iterable[Mapping[str, Any]],
    victim_numeros: Iterable[str],
    foreign_route: str = "conventions",
) -> tuple[list[str], dict[str, int]]:
    """The simulator's request record: no request with the attacker's key on a legitimate CFA's
    dossier; none on the route of the foreign-numero follow-up (the attacker sent nothing else
    there)."""
    victims = set(victim_numeros)
    problems: list[str] = []
    mine = 0
    for r in requests:
        if r.get("cfaSiret") != attack.siret:
            continue
        mine += 1
        ids = r.get("ids") or {}
        numero = ids.get("numeroInterne") or ids.get("numeroInterneDossier")
        if numero is not None and str(numero) in victims:
            problems.append(f"request {r.get('seq')} {r.get('route')}: attacker key on {numero}")
        elif r.get("route") == foreign_route:
            problems.append(f"request {r.get('seq')} {foreign_route}: the foreign follow-up")
    return problems, {"attacker_opco_requests": mine}


def victim_numeros(dossiers: Sequence[Mapping[str, Any]], attacker: str) -> list[str]:
    """The OPCO numbers of the simulator's dossiers that are not the attacker's."""
    return [str(d["numeroInterne"]) for d in dossiers if d.get("cfaSiret") != attacker]
