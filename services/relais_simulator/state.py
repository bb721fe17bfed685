"""``Simulator``: the whole mutable state of one simulator process, shared by its handlers."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace

from relais.domain.opco import OpcoCode
from relais.domain.profiles import OpcoProfile
from relais_simulator.auth import KeyRegistry, OAuthRegistry
from relais_simulator.clock import SimClock
from relais_simulator.config import SimulatorConfig
from relais_simulator.dpop import DpopVerifier
from relais_simulator.faults import FaultInjector
from relais_simulator.financing import NpecTable, load_npec_csv
from relais_simulator.instruction import Instruction
from relais_simulator.ratelimit import TokenBucket
from relais_simulator.records import RecordLog
from relais_simulator.store import OpcoStore, Rejection
from relais_simulator.validation import CerfaChecker


class Simulator:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.profiles: dict[OpcoCode, OpcoProfile] = config.profiles()
        self.clock = SimClock(config.start_date, config.day_seconds)
        self.keys = KeyRegistry(config.keys)
        self.oauth = OAuthRegistry(config.oauth_clients, ttl_s=config.token_ttl_s)
        self.dpop = DpopVerifier()
        self.faults = FaultInjector(config.seed)
        for opco, spec in config.faults.items():
            self.faults.set(opco, spec)
        self.records = RecordLog(config.max_records)
        # Requests sleeping an injected latency right now, per OPCO (not cleared by a reset: the
        # sleepers still count themselves out).
        self.delayed: Counter[OpcoCode] = Counter()
        # Bumped by ``reset``: a request still sleeping its latency then drops its answer.
        self.generation = 0
        self.npec: NpecTable = load_npec_csv(config.npec_path)
        self.checker = CerfaChecker(config.use_rules)
        self.instruction: Instruction = replace(config.instruction)
        self.rate_limit = config.rate_limit
        self.followup_rules = config.followup_rules
        self._ids = itertools.count(1)
        self.stores: dict[OpcoCode, OpcoStore] = {}
        self._buckets: dict[OpcoCode, TokenBucket] = {}
        self.iban_by_cfa: dict[tuple[OpcoCode, str], str] = {}
        self._build_stores()

    def _new_id(self) -> int:
        return next(self._ids)

    def _build_stores(self) -> None:
        self.stores = {
            code: OpcoStore(
                code,
                self._new_id,
                self.instruction,
                self.npec,
                self.clock.date_of,
                self.profiles[code].identifiers,
            )
            for code in OpcoCode
        }

    def store(self, opco: OpcoCode) -> OpcoStore:
        """The OPCO's books, brought up to the clock's now."""
        s = self.stores[opco]
        s.advance_to(self.clock.day())
        return s

    def tick_all(self) -> None:
        day = self.clock.day()
        for s in self.stores.values():
            s.advance_to(day)

    def throttle(self, opco: OpcoCode) -> float:
        """0 if the request is within the OPCO's rate limit, else the seconds to wait.

        A fault spec's ``rate_limit_per_s`` always applies; the profile's limit applies when the
        rate limit is switched on (``--no-rate-limit`` / admin settings turn it off).
        """
        spec = self.faults.spec(opco)
        if spec is not None and spec.rate_limit_per_s is not None:
            rate = spec.rate_limit_per_s
        elif self.rate_limit:
            rate = self.profiles[opco].rate_limit_per_s
        else:
            return 0.0
        if rate <= 0:
            return 0.0
        bucket = self._buckets.get(opco)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[opco] = TokenBucket(rate)
        return bucket.take()

    def check_followup(self, kind: str, body: dict[str, object]) -> None:
        """422 when follow-up rules are on and the body breaks them."""
        if not self.followup_rules:
            return
        errors = self.checker.followup(kind, body, self.clock.today())
        if errors:
            raise Rejection(422, "Corps non conforme aux règles de contrôle", errors)

    def reset(self, *, credentials: bool = True) -> None:
        """Forget every object, record, fault and clock offset; reload start credentials.
        Requests still sleeping an injected latency are dropped when they wake."""
        self.generation += 1
        self._ids = itertools.count(1)
        self.instruction = replace(self.config.instruction)
        self._build_stores()
        self.records.clear()
        self.faults.clear()
        self.faults.reseed(self.config.seed)
        for opco, spec in self.config.faults.items():
            self.faults.set(opco, spec)
        self.clock.reset()
        self.clock.set_scale(self.config.day_seconds)
        self.clock.reset()
        self._buckets.clear()
        self.iban_by_cfa.clear()
        self.rate_limit = self.config.rate_limit
        self.followup_rules = self.config.followup_rules
        self.dpop.clear()
        if credentials:
            self.keys = KeyRegistry(self.config.keys)
            self.oauth.clear()
            self.oauth.ttl_s = self.config.token_ttl_s
            for c in self.config.oauth_clients:
                self.oauth.add(c)
