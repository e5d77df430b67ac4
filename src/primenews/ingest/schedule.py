"""When to poll a source next: a pure function of what the last poll saw.

A source that keeps publishing is polled more often, a quiet one less, both
within the configured bounds; a failing one backs off exponentially and
comes back to its normal rhythm after one success. Publishers' own hints
(RSS ``<ttl>``, ``Cache-Control: max-age``, ``Retry-After`` — seconds or an
HTTP date, on an answer or on a 429/503 refusal) are honoured as lower
bounds. A little jitter keeps many sources from polling in lock-step.
"""

from __future__ import annotations

import email.utils
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

SPEED_UP = 0.75  # after a poll that found new items
SLOW_DOWN = 1.25  # after a poll that found nothing new
JITTER = 0.1  # ±10 %


@dataclass(frozen=True, slots=True)
class ScheduleOptions:
    default_minutes: float = 30.0
    min_minutes: float = 5.0
    max_minutes: float = 360.0


@dataclass(frozen=True, slots=True)
class PollResult:
    """What the schedule needs to know about the poll that just ended."""

    ok: bool
    new_items: int = 0
    error_count: int = 0  # consecutive failures, this one included
    ttl_minutes: int | None = None
    headers: dict[str, str] | None = None  # of the answer, names lower-case
    # A refused poll's Retry-After (the fetcher raises on 429/503, so no headers reach us).
    retry_after_seconds: float | None = None


def next_poll(
    previous_minutes: float | None,
    result: PollResult,
    now: datetime,
    options: ScheduleOptions,
    rng: random.Random,
) -> tuple[datetime, float]:
    """The next due time and the source's new base interval in minutes."""
    base = previous_minutes or options.default_minutes
    if not result.ok:
        delay = min(options.max_minutes, options.min_minutes * 2 ** max(result.error_count, 1))
        delay = max(delay, _publisher_floor(result, now) or 0.0)
        return now + timedelta(minutes=_jitter(delay, rng)), base
    interval = base * (SPEED_UP if result.new_items else SLOW_DOWN)
    interval = min(options.max_minutes, max(options.min_minutes, interval))
    floor = _publisher_floor(result, now)
    delay = max(interval, floor) if floor else interval
    delay = min(delay, max(options.max_minutes, floor or 0.0))
    return now + timedelta(minutes=_jitter(delay, rng)), interval


def _jitter(minutes: float, rng: random.Random) -> float:
    return minutes * (1 + rng.uniform(-JITTER, JITTER))


def _publisher_floor(result: PollResult, now: datetime) -> float | None:
    """The publisher's own "not before" in minutes, from TTL and headers."""
    floors: list[float] = []
    if result.ttl_minutes:
        floors.append(float(result.ttl_minutes))
    headers = result.headers or {}
    max_age = re.search(r"max-age=(\d+)", headers.get("cache-control", ""))
    if max_age:
        floors.append(int(max_age.group(1)) / 60)
    retry = retry_after_seconds(headers.get("retry-after", ""), now)
    if result.retry_after_seconds is not None:
        retry = max(retry or 0.0, result.retry_after_seconds)
    if retry is not None:
        floors.append(retry / 60)
    return max(floors) if floors else None


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None or when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
