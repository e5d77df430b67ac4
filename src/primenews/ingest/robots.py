"""robots.txt: fetched once per origin, kept in memory for a while, read with Protego.

What we do when robots.txt is not a plain 200 (RFC 9309 section 2.3.1):

* **4xx** (404, 403, 410 ...): no rules, everything is allowed, kept for the
  full TTL. This is what the RFC says ("unavailable": the crawler MAY access
  any resource) and what every major crawler does.
* **5xx, 429 after retries, timeouts, connection errors, a too-large
  robots.txt**: allowed, with a warning in the log, and kept for a short time
  only (``error_ttl_seconds``) so the real rules are picked up soon.
  RFC 9309 asks a crawler to assume *complete disallow* when robots.txt is
  unreachable; we choose to allow because Prime News is a reader polling a
  few URLs its user subscribed to, not a crawler, and a flaky robots.txt
  should not silently stop a subscription. Politeness still holds: the
  fetcher's per-host delay and concurrency limits apply to every request.
* **refused** (the host resolves to a private address, or robots.txt redirects
  somewhere we may not go): allowed, logged at debug level only, short TTL. The
  page itself goes through the same address checks, so nothing is gained by
  refusing here, and a redirect to a refused place says nothing about the rules.

The robots.txt request itself goes through the fetcher's safe path (address
checks, size cap, timeouts); the cache only decides what to do with the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from protego import Protego

from primenews.domain import Page
from primenews.errors import BlockedURLError, FetchError, HTTPStatusError

logger = logging.getLogger(__name__)

FetchPage = Callable[[str], Awaitable[Page]]
"""``async (url) -> Page``: how the cache gets a robots.txt (the fetcher, robots checks off)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    expires: float
    rules: Any  # a Protego parser, or None for "no rules: allow everything"


def robots_url(url: str) -> str:
    """The robots.txt that governs ``url`` (same scheme, host and port)."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii')}/robots.txt"


def product_token(user_agent: str) -> str:
    """The name robots.txt groups match against: ``PrimeNews/0.1 (...)`` -> ``PrimeNews``."""
    token = user_agent.strip().split("/", 1)[0].split()
    return token[0] if token else user_agent


class RobotsCache:
    """Answers "may we fetch this URL?" from each origin's robots.txt.

    Args:
        fetch_page: gets a robots.txt URL; raises the FetchError family.
        user_agent: our User-Agent header; its product token is what robots.txt names.
        ttl_seconds: how long a fetched robots.txt (or a 4xx) is trusted.
        error_ttl_seconds: how long "unreachable, allowed" is kept before asking again.
        max_origins: entries kept; the oldest go first when over.
        clock: seconds from a monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        fetch_page: FetchPage,
        user_agent: str,
        *,
        ttl_seconds: float = 3600.0,
        error_ttl_seconds: float = 300.0,
        max_origins: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch_page = fetch_page
        self._agent = product_token(user_agent)
        self._ttl, self._error_ttl = ttl_seconds, error_ttl_seconds
        self._max_origins = max_origins
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def agent(self) -> str:
        """The product token we match robots.txt groups with."""
        return self._agent

    async def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url``; fetches robots.txt at most once per TTL."""
        rules = await self._rules_for(robots_url(url))
        return rules is None or bool(rules.can_fetch(url, self._agent))

    async def _rules_for(self, robots: str) -> Any:
        entry = self._entries.get(robots)
        if entry is not None and entry.expires > self._clock():
            return entry.rules
        lock = self._locks.setdefault(robots, asyncio.Lock())
        async with lock:  # one fetch per origin, however many callers wait
            entry = self._entries.get(robots)
            if entry is None or entry.expires <= self._clock():
                entry = await self._load(robots)
                self._store(robots, entry)
        return entry.rules

    async def _load(self, robots: str) -> _Entry:
        try:
            page = await self._fetch_page(robots)
        except HTTPStatusError as err:
            if err.status is not None and 400 <= err.status < 500 and err.status != 429:
                logger.debug("robots: %s: HTTP %s, no rules", robots, err.status)
                return _Entry(self._clock() + self._ttl, None)
            return self._unreachable(robots, err)
        except BlockedURLError as err:
            logger.debug("robots: %s: %s; no rules", robots, err)
            return _Entry(self._clock() + self._error_ttl, None)
        except FetchError as err:
            return self._unreachable(robots, err)
        text = page.content.decode("utf-8", errors="replace")
        return _Entry(self._clock() + self._ttl, Protego.parse(text))

    def _unreachable(self, robots: str, err: FetchError) -> _Entry:
        logger.warning(
            "robots: %s cannot be read (%s); allowing for %.0f s",
            robots,
            err,
            self._error_ttl,
            extra={"url": robots},
        )
        return _Entry(self._clock() + self._error_ttl, None)

    def _store(self, robots: str, entry: _Entry) -> None:
        self._entries.pop(robots, None)  # re-insert so dict order is age order
        self._entries[robots] = entry
        while len(self._entries) > self._max_origins:
            oldest = next(iter(self._entries))
            del self._entries[oldest]
            lock = self._locks.get(oldest)
            if lock is not None and not lock.locked():
                del self._locks[oldest]
