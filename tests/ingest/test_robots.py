"""robots.txt cache: rules, caching, and what an unreadable robots.txt means.

The cache takes its robots.txt fetcher as an argument; here that seam is fed
canned answers (the end-to-end path over real HTTP is in test_fetch.py).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from primenews.domain import Page
from primenews.errors import (
    BlockedURLError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
)
from primenews.ingest.robots import RobotsCache, product_token, robots_url

AGENT = "PrimeNews/0.1 (self-hosted news reader; +https://github.com/primenews/primenews)"
RULES = b"""
User-agent: PrimeNews
Disallow: /private
Allow: /private/open

User-agent: *
Disallow: /
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Site:
    """Answers robots.txt requests with ``answer`` and counts them."""

    def __init__(self, answer: bytes | FetchError) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def fetch(self, url: str) -> Page:
        self.calls.append(url)
        await asyncio.sleep(0.01)  # let concurrent callers pile up
        if isinstance(self.answer, FetchError):
            raise self.answer
        return Page(url, url, 200, self.answer, datetime.now(UTC))


def cache_for(site: Site, clock: Clock, **kwargs: float) -> RobotsCache:
    return RobotsCache(site.fetch, AGENT, clock=clock, **kwargs)  # type: ignore[arg-type]  # float kwargs


def allowed(cache: RobotsCache, *urls: str) -> list[bool]:
    async def ask() -> list[bool]:
        return list(await asyncio.gather(*(cache.allowed(url) for url in urls)))

    return asyncio.run(ask())


def test_rules_for_our_product_token_apply() -> None:
    cache = cache_for(Site(RULES), Clock())
    assert allowed(
        cache,
        "https://news.example/feed.xml",
        "https://news.example/private/x",
        "https://news.example/private/open/y",
    ) == [True, False, True]


def test_one_fetch_per_origin_while_cached_then_again_after_the_ttl() -> None:
    site, clock = Site(RULES), Clock()
    cache = cache_for(site, clock, ttl_seconds=60)
    allowed(
        cache,
        *["https://news.example/a"] * 5,
        "https://news.example:8443/a",
        "http://news.example/a",
    )
    assert sorted(site.calls) == [
        "http://news.example/robots.txt",
        "https://news.example/robots.txt",
        "https://news.example:8443/robots.txt",
    ]
    clock.now += 59
    allowed(cache, "https://news.example/b")
    assert len(site.calls) == 3
    clock.now += 2
    allowed(cache, "https://news.example/b")
    assert len(site.calls) == 4


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_4xx_means_no_rules_for_the_full_ttl(status: int) -> None:
    site, clock = Site(HTTPStatusError("fetch: x: HTTP", status=status)), Clock()
    cache = cache_for(site, clock, ttl_seconds=3600, error_ttl_seconds=60)
    assert allowed(cache, "https://news.example/anything") == [True]
    clock.now += 600
    allowed(cache, "https://news.example/anything")
    assert len(site.calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        HTTPStatusError("fetch: x: HTTP 503", status=503),
        HTTPStatusError("fetch: x: HTTP 429", status=429),
        FetchTimeoutError("fetch: x: timed out"),
        FetchError("fetch: x: connection failed"),
        ResponseTooLargeError("fetch: x: too large"),
        BlockedURLError("fetch: x: refused"),
    ],
)
def test_unreachable_robots_allows_but_is_asked_again_soon(
    error: FetchError, caplog: pytest.LogCaptureFixture
) -> None:
    site, clock = Site(error), Clock()
    cache = cache_for(site, clock, ttl_seconds=3600, error_ttl_seconds=60)
    assert allowed(cache, "https://news.example/feed") == [True]
    # A refused robots.txt is no news (the page meets the same checks): no warning.
    assert ("cannot be read" in caplog.text) != isinstance(error, BlockedURLError)
    clock.now += 61
    site.answer = RULES
    assert allowed(cache, "https://news.example/private") == [False]
    assert len(site.calls) == 2


def test_oldest_origins_are_dropped_over_the_limit() -> None:
    site, clock = Site(b""), Clock()
    cache = cache_for(site, clock, max_origins=2)
    for host in ("a", "b", "c", "a"):
        allowed(cache, f"https://{host}.example/")
    hosts = [call.split("/")[2].split(".")[0] for call in site.calls]
    assert hosts == ["a", "b", "c", "a"]  # "a" was dropped when "c" came in


def test_garbage_robots_txt_allows_everything() -> None:
    cache = cache_for(Site(b"\x00\xff<html>oops</html>"), Clock())
    assert allowed(cache, "https://x.example/a") == [True]


@pytest.mark.parametrize(
    ("user_agent", "token"),
    [(AGENT, "PrimeNews"), ("MyReader", "MyReader"), ("  Bot/2 extra", "Bot"), ("", "")],
)
def test_product_token(user_agent: str, token: str) -> None:
    assert product_token(user_agent) == token


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/a/b?c=1#d", "https://news.example/robots.txt"),
        ("http://news.example:8080/x", "http://news.example:8080/robots.txt"),
        ("https://user:pw@news.example/x", "https://news.example/robots.txt"),
    ],
)
def test_robots_url(url: str, expected: str) -> None:
    assert robots_url(url) == expected


def test_agent_property() -> None:
    assert RobotsCache(Site(b"").fetch, "Reader/1", clock=Clock()).agent == "Reader"
