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
