"""In-process token buckets, one per key (a client address, a user name).

Good for one machine: the buckets live in this process's memory, so several
web processes would each allow the full rate. The number of buckets is capped
(least recently used ones go first), so many addresses cannot exhaust memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_BUCKETS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``per_minute`` events per key, in bursts of up to ``burst``.

    Args:
        per_minute: the sustained rate; the bucket refills at this rate.
        burst: the bucket's size (defaults to ``per_minute``).
        clock: seconds, monotonic; injected so tests need not sleep.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float],
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else per_minute)
        self._clock = clock
        self._max = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()  # sync handlers run in a thread pool

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket.

        Returns:
            0.0 when allowed, else the seconds to wait before the next event is.
        """
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            self._buckets[key] = bucket  # most recently used at the end
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else float("inf")
