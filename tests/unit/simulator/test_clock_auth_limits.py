"""The simulator's clock, credentials, rate limiter and request log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from relais.domain.opco import OpcoCode
from relais_simulator.auth import (
    CfaKey,
    KeyRegistry,
    OAuthClient,
    OAuthRegistry,
    load_keys_csv,
    load_oauth_csv,
)
from relais_simulator.clock import SimClock
from relais_simulator.ratelimit import TokenBucket, retry_after_header
from relais_simulator.records import RecordLog, RequestRecord


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_clock_manual_and_scaled() -> None:
    t = FakeTime()
    clock = SimClock(date(2026, 11, 27), day_seconds=0, monotonic=t)
    t.t += 3600
    assert clock.day() == 0 and clock.today() == date(2026, 11, 27)
    clock.advance(2.5)
    assert clock.today() == date(2026, 11, 29)
    clock.set_scale(10)
    t.t += 5
    assert clock.day() == pytest.approx(3.0)
    assert clock.today() == date(2026, 11, 30)
    clock.set_scale(0)
    t.t += 100
    assert clock.day() == pytest.approx(3.0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.day() == 0


def test_keys_csv_and_lookup(tmp_path: Path) -> None:
    path = tmp_path / "keys.csv"
    path.write_text(
        "# comment\nsiret,opco,key,expiry\n73282932000074,akto,k1,2027-01-31\n",
        encoding="utf-8",
    )
    keys = KeyRegistry(load_keys_csv(path))
    found = keys.lookup(OpcoCode.AKTO, "k1")
    assert found == CfaKey("73282932000074", OpcoCode.AKTO, "k1", date(2027, 1, 31))
    assert keys.lookup(OpcoCode.ATLAS, "k1") is None
    assert "k1" not in str(found.masked())
    bad = tmp_path / "bad.csv"
    bad.write_text("siret,opco,key,expiry\n1,NOPE,k,2027-01-01\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line"):
        load_keys_csv(bad)


def test_oauth_tokens_expire_and_are_per_opco(tmp_path: Path) -> None:
    path = tmp_path / "oauth.csv"
    path.write_text("opco,client_id,client_secret\nAKTO,id,secret\n", encoding="utf-8")
    t = FakeTime()
    registry = OAuthRegistry(load_oauth_csv(path), ttl_s=60, monotonic=t)
    assert registry.issue(OpcoCode.AKTO, "id", "wrong") is None
    issued = registry.issue(OpcoCode.AKTO, "id", "secret")
    assert issued is not None
    token, ttl = issued
    assert ttl == 60
    assert registry.check(OpcoCode.AKTO, token)
    assert not registry.check(OpcoCode.ATLAS, token)
    t.t += 61
    assert not registry.check(OpcoCode.AKTO, token)
    registry.add(OAuthClient(OpcoCode.AKTO, "id2", "s2"))
    issued2 = registry.issue(OpcoCode.AKTO, "id2", "s2")
    assert issued2 is not None
    assert registry.expire_all() >= 1
    assert not registry.check(OpcoCode.AKTO, issued2[0])


def test_oauth_tokens_aged_by_the_admin_expire_at_their_lifetime(tmp_path: Path) -> None:
    path = tmp_path / "oauth.csv"
    path.write_text("opco,client_id,client_secret\nAKTO,id,secret\n", encoding="utf-8")
    registry = OAuthRegistry(load_oauth_csv(path), ttl_s=60, monotonic=FakeTime())
    issued = registry.issue(OpcoCode.AKTO, "id", "secret")
    assert issued is not None
    assert registry.age(59.5) == 1
    assert registry.check(OpcoCode.AKTO, issued[0])
    registry.age(0.5)
    assert not registry.check(OpcoCode.AKTO, issued[0])


def test_token_bucket() -> None:
    t = FakeTime()
    bucket = TokenBucket(2, monotonic=t)
    assert bucket.take() == 0 and bucket.take() == 0
    wait = bucket.take()
    assert wait == pytest.approx(0.5)
    assert retry_after_header(wait) == "1"
    t.t += 0.5
    assert bucket.take() == 0


def test_record_log_is_bounded_ordered_and_queryable() -> None:
    log = RecordLog(maxlen=5)
    for i in range(8):
        log.append(
            RequestRecord(
                at=0,
                day=0,
                method="POST",
                opco="AKTO" if i % 2 else "ATLAS",
                route="dossiers_post",
                version="v1",
                ids={"numeroInterne": f"n{i}"},
            )
        )
    # the oldest go first (in chunks of 10 % of maxlen; here 0: one at a time)
    kept = [r.seq for r in log]
    assert kept == [4, 5, 6, 7, 8] and log.dropped == 3
    assert [r.seq for r in log.query(after=5)] == [6, 7, 8]
    assert [r.seq for r in log.query(opco="AKTO")] == [4, 6, 8]
    assert [r.seq for r in log.query(numero_interne="n7")] == [8]
    assert [r.seq for r in log.query(limit=2)] == kept[:2]
    assert log.query(after=8) == []
    log.clear()
    log.append(RequestRecord(at=0, day=0, method="GET", opco="A", route="status", version="v1"))
    assert [r.seq for r in log] == [1]
