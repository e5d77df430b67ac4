"""Adaptive polling schedule: faster when publishing, slower when quiet, back-off on failure."""

import random
from datetime import UTC, datetime, timedelta

from primenews.ingest.schedule import PollResult, ScheduleOptions, next_poll, retry_after_seconds

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OPTIONS = ScheduleOptions(default_minutes=30, min_minutes=5, max_minutes=360)


def _minutes(due: datetime) -> float:
    return (due - NOW) / timedelta(minutes=1)


def test_new_items_shorten_and_quiet_lengthens_the_interval() -> None:
    rng = random.Random(1)
    _, busy = next_poll(30, PollResult(ok=True, new_items=4), NOW, OPTIONS, rng)
    _, quiet = next_poll(30, PollResult(ok=True), NOW, OPTIONS, rng)
    assert busy < 30 < quiet


def test_interval_stays_within_bounds() -> None:
    rng = random.Random(2)
    interval = 30.0
    for _ in range(50):
        _, interval = next_poll(interval, PollResult(ok=True, new_items=1), NOW, OPTIONS, rng)
    assert interval == OPTIONS.min_minutes
    for _ in range(50):
        _, interval = next_poll(interval, PollResult(ok=True), NOW, OPTIONS, rng)
    assert interval == OPTIONS.max_minutes


def test_failures_back_off_exponentially_and_keep_the_base() -> None:
    rng = random.Random(3)
    delays = []
    for errors in (1, 2, 3, 4):
        due, base = next_poll(30, PollResult(ok=False, error_count=errors), NOW, OPTIONS, rng)
        delays.append(_minutes(due))
        assert base == 30
    assert delays == sorted(delays)
    assert delays[-1] > 3 * delays[0]


def test_publisher_hints_are_a_floor() -> None:
    rng = random.Random(4)
    due, _ = next_poll(5, PollResult(ok=True, new_items=1, ttl_minutes=120), NOW, OPTIONS, rng)
    assert _minutes(due) >= 120 * 0.9
    headers = {"cache-control": "public, max-age=3600"}
    due, _ = next_poll(5, PollResult(ok=True, headers=headers), NOW, OPTIONS, rng)
    assert _minutes(due) >= 60 * 0.9


def test_retry_after_forms() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Sat, 28 Nov 2026 12:05:00 GMT", NOW) == 300
    assert retry_after_seconds("soon") is None


def test_a_refusals_retry_after_floors_the_back_off() -> None:
    rng = random.Random(5)
    refused = PollResult(ok=False, error_count=1, retry_after_seconds=90 * 60)
    due, base = next_poll(30, refused, NOW, OPTIONS, rng)
    assert _minutes(due) >= 90 * 0.9 and base == 30
    plain, _ = next_poll(30, PollResult(ok=False, error_count=1), NOW, OPTIONS, rng)
    assert _minutes(plain) <= 10 * 1.1


def test_retry_after_as_an_http_date_is_honoured() -> None:
    headers = {"retry-after": "Sat, 28 Nov 2026 14:00:00 GMT"}  # two hours after NOW
    due, _ = next_poll(5, PollResult(ok=True, headers=headers), NOW, OPTIONS, random.Random(6))
    assert _minutes(due) >= 120 * 0.9


def test_back_off_is_capped_jittered_and_recovers_after_one_success() -> None:
    delays = {
        _minutes(
            next_poll(30, PollResult(ok=False, error_count=3), NOW, OPTIONS, random.Random(n))[0]
        )
        for n in range(20)
    }
    assert len(delays) > 10  # jitter: sources failing together do not retry together
    assert all(40 * 0.9 <= delay <= 40 * 1.1 for delay in delays)  # 5 min x 2^3
    capped, _ = next_poll(30, PollResult(ok=False, error_count=30), NOW, OPTIONS, random.Random(7))
    assert _minutes(capped) <= OPTIONS.max_minutes * 1.1
    recovered, interval = next_poll(30, PollResult(ok=True), NOW, OPTIONS, random.Random(8))
    assert interval == 30 * 1.25 and _minutes(recovered) <= 30 * 1.25 * 1.1
