from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.errors import (
    AmbiguousOpcoError,
    NotSupportedError,
    PermanentOpcoError,
    RetryableOpcoError,
)
from relais.services.retry import (
    GiveUp,
    GiveUpReason,
    Retry,
    RetryPolicy,
    is_ambiguous,
    is_retryable,
    retry_after_of,
)

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def upper_bound_policy(**kwargs: object) -> RetryPolicy:
    return RetryPolicy(rand=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


def test_named_predicates_follow_the_error_tree() -> None:
    assert is_retryable(RetryableOpcoError("503"))
    assert is_retryable(AmbiguousOpcoError("timeout"))
    assert not is_retryable(PermanentOpcoError("422"))
    assert not is_retryable(NotSupportedError("501"))
    assert not is_retryable(ValueError("bug"))
    assert is_ambiguous(AmbiguousOpcoError("timeout"))
    assert not is_ambiguous(RetryableOpcoError("503"))


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = upper_bound_policy(wait_initial=timedelta(seconds=1), wait_max=timedelta(seconds=10))
    waits = [policy.backoff(n).total_seconds() for n in range(1, 7)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_full_jitter_scales_the_window() -> None:
    draws = iter([0.0, 0.5, 0.25])
    policy = RetryPolicy(rand=lambda: next(draws), wait_initial=timedelta(seconds=4))
    assert policy.backoff(1) == timedelta(0)
    assert policy.backoff(2) == timedelta(seconds=4)
    assert policy.backoff(3) == timedelta(seconds=4)


def test_partial_jitter_keeps_a_floor() -> None:
    policy = RetryPolicy(rand=lambda: 0.0, wait_initial=timedelta(seconds=10), wait_jitter=0.2)
    assert policy.backoff(1) == timedelta(seconds=8)


def test_a_huge_failure_count_does_not_overflow() -> None:
    policy = upper_bound_policy(wait_max=timedelta(minutes=5))
    assert policy.backoff(10_000) == timedelta(minutes=5)


def test_retry_after_wins_when_larger() -> None:
    policy = upper_bound_policy(wait_initial=timedelta(seconds=1))
    exc = RetryableOpcoError("429", status=429, retry_after=30)
    decision = policy.decide(exc, failures=1, first_seen=T0, now=T0)
    assert decision == Retry(at=T0 + timedelta(seconds=30), delay=timedelta(seconds=30))


def test_backoff_wins_when_retry_after_is_smaller() -> None:
    policy = upper_bound_policy(wait_initial=timedelta(seconds=8))
    exc = RetryableOpcoError("503", status=503, retry_after=2)
    decision = policy.decide(exc, failures=2, first_seen=T0, now=T0)
    assert decision == Retry(at=T0 + timedelta(seconds=16), delay=timedelta(seconds=16))


def test_retry_after_of_ignores_missing_or_nonsense_values() -> None:
    assert retry_after_of(RetryableOpcoError("x")) is None
    assert retry_after_of(RetryableOpcoError("x", retry_after=0)) is None
    assert retry_after_of(ValueError("x")) is None
    assert retry_after_of(RetryableOpcoError("x", retry_after=1.5)) == timedelta(seconds=1.5)


def test_permanent_errors_give_up_at_once() -> None:
    decision = RetryPolicy().decide(PermanentOpcoError("400"), failures=1, first_seen=T0, now=T0)
    assert decision == GiveUp(GiveUpReason.NOT_RETRYABLE)


def test_attempt_cap() -> None:
    policy = RetryPolicy.instant(attempts=3)
    exc = RetryableOpcoError("500")
    assert isinstance(policy.decide(exc, failures=2, first_seen=T0, now=T0), Retry)
    assert policy.decide(exc, failures=3, first_seen=T0, now=T0) == GiveUp(GiveUpReason.ATTEMPTS)


def test_default_caps_are_twelve_attempts_and_a_day() -> None:
    policy = RetryPolicy()
    assert policy.attempts == 12
    assert policy.timeout == timedelta(hours=24)


def test_age_cap_refuses_a_retry_past_the_deadline() -> None:
    policy = upper_bound_policy(timeout=timedelta(hours=1), wait_initial=timedelta(minutes=1))
    exc = RetryableOpcoError("429", retry_after=600)
    late = T0 + timedelta(minutes=55)
    assert policy.decide(exc, failures=1, first_seen=T0, now=late) == GiveUp(GiveUpReason.TIMEOUT)
    early = T0 + timedelta(minutes=10)
    assert isinstance(policy.decide(exc, failures=1, first_seen=T0, now=early), Retry)


def test_instant_mode_never_waits_even_with_retry_after() -> None:
    policy = RetryPolicy.instant()
    exc = RetryableOpcoError("429", retry_after=3600)
    assert policy.decide(exc, failures=5, first_seen=T0, now=T0) == Retry(at=T0, delay=timedelta(0))


def test_custom_predicate() -> None:
    policy = RetryPolicy.instant(retry_on=is_ambiguous)
    assert isinstance(
        policy.decide(RetryableOpcoError("500"), failures=1, first_seen=T0, now=T0), GiveUp
    )
    assert isinstance(
        policy.decide(AmbiguousOpcoError("timeout"), failures=1, first_seen=T0, now=T0), Retry
    )


def test_give_up_descriptions_are_clear() -> None:
    policy = RetryPolicy(attempts=5)
    assert "5 attempts" in GiveUp(GiveUpReason.ATTEMPTS).describe(policy)
    assert "within" in GiveUp(GiveUpReason.TIMEOUT).describe(policy)


@pytest.mark.parametrize("bad", [{"attempts": 0}, {"wait_exp_base": 0.5}, {"wait_jitter": 1.5}])
def test_nonsense_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**bad)  # type: ignore[arg-type]


@given(
    failures=st.integers(min_value=1, max_value=200),
    draw=st.floats(min_value=0, max_value=1),
    jitter=st.floats(min_value=0, max_value=1),
    retry_after=st.one_of(st.none(), st.integers(min_value=1, max_value=7200)),
)
def test_every_wait_stays_within_its_window(
    failures: int, draw: float, jitter: float, retry_after: int | None
) -> None:
    policy = RetryPolicy(
        rand=lambda: draw,
        wait_jitter=jitter,
        wait_initial=timedelta(seconds=2),
        wait_max=timedelta(minutes=10),
        attempts=1000,
        timeout=timedelta(days=30),
    )
    exc = RetryableOpcoError("503", retry_after=retry_after)
    decision = policy.decide(exc, failures=failures, first_seen=T0, now=T0)
    assert isinstance(decision, Retry)
    window = min(2.0 * 2 ** (failures - 1), 600.0)
    low = max((1 - jitter) * window, float(retry_after or 0))
    high = max(window, float(retry_after or 0))
    assert low - 1e-6 <= decision.delay.total_seconds() <= high + 1e-6
    assert decision.at == T0 + decision.delay
