"""The page cache: a public page is rendered once per TTL, then served as rendered."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI

from primenews.web.pagecache import PageCache

pytestmark = pytest.mark.anyio


def test_entries_expire_and_the_least_recently_used_goes_first() -> None:
    cache = PageCache(ttl=60, max_entries=2)
    cache.put("/a", b"a")
    cache.put("/b", b"b")
    assert cache.get("/a") == b"a"
    cache.put("/c", b"c")  # /b was used least recently
    assert (cache.get("/a"), cache.get("/b"), cache.get("/c")) == (b"a", None, b"c")
    off = PageCache(ttl=0)
    off.put("/a", b"a")
    assert off.get("/a") is None


async def test_front_page_is_served_from_the_cache_within_its_ttl(
    app: FastAPI, client: httpx.AsyncClient, make_article: object
) -> None:
    first = await client.get("/")
    make_article(title="A fresh headline")  # type: ignore[operator]
    cached = await client.get("/")
    assert cached.text == first.text and "A fresh headline" not in cached.text
    assert cached.headers["content-security-policy"]  # headers still added
    app.state.page_cache = PageCache(ttl=0)
    assert "A fresh headline" in (await client.get("/")).text


def test_a_stale_page_is_served_while_one_caller_renders_it_again() -> None:
    cache = PageCache(ttl=0.01, max_stale=60)
    cache.put("/a", b"old")
    page, fresh = cache.lookup("/a")
    assert page is not None and page.body == b"old" and fresh
    time.sleep(0.02)
    page, fresh = cache.lookup("/a")
    assert page is not None and not fresh and cache.get("/a") is None
    assert cache.claim("/a") and not cache.claim("/a")  # one renderer at a time
    cache.release("/a")
    assert cache.claim("/a")
    too_old = PageCache(ttl=0.001, max_stale=0.001)
    too_old.put("/a", b"old")
    time.sleep(0.01)
    assert too_old.lookup("/a") == (None, False)


async def test_cached_pages_carry_an_etag_a_gzip_body_and_answer_304(
    client: httpx.AsyncClient, make_article: object
) -> None:
    make_article(title="A cached headline")  # type: ignore[operator]
    first = await client.get("/")
    hit = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert hit.headers["content-encoding"] == "gzip" and hit.text == first.text
    assert hit.headers["vary"] == "Accept-Encoding"
    assert hit.headers["content-security-policy"]
    plain = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == first.text
    etag = hit.headers["etag"]
    same = await client.get("/", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b""
    other = await client.get("/", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and "A cached headline" in other.text
    head = await client.head("/")
    assert head.status_code == 200 and head.content == b""


async def test_only_pages_the_routes_cached_are_served_from_it(
    client: httpx.AsyncClient, make_article: object
) -> None:
    article = make_article(title="Not a shared page")  # type: ignore[operator]
    await client.get("/")
    for _ in range(2):  # an article page is not cached: no ETag from the cache
        response = await client.get(f"/article/{article}")
        assert response.status_code == 200 and "etag" not in response.headers
    assert (await client.post("/", data={})).status_code in (403, 405)


def test_a_stale_ranking_is_answered_while_one_thread_ranks_again() -> None:
    from datetime import UTC, datetime
    from threading import Event

    from primenews.web.ranking import Rankings, TopStory

    release, calls = Event(), []

    class Slow(Rankings):
        def _rank(self, now: datetime, section: str | None) -> list[TopStory]:
            calls.append(section)
            if len(calls) > 1:
                release.wait(10)
            return [f"ranking {len(calls)}"]  # type: ignore[list-item]

    rankings = Slow(store=None, ttl=0.01)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    assert rankings.top(now) == ["ranking 1"]  # the first reader ranks
    time.sleep(0.02)
    assert rankings.top(now) == ["ranking 1"]  # stale: answered, a refresh started
    deadline = time.monotonic() + 10
    while len(calls) < 2:  # the refresh thread has begun
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert rankings.top(now) == ["ranking 1"] and len(calls) == 2  # one refresh at a time
    release.set()
    while rankings.top(now) == ["ranking 1"]:  # the refreshed ranking replaces it
        assert time.monotonic() < deadline
        time.sleep(0.005)
    uncached = Slow(store=None, ttl=0)  # type: ignore[arg-type]
    assert uncached.top(now) == [f"ranking {len(calls)}"]  # no cache: ranked now
    assert uncached.top(now) == [f"ranking {len(calls)}"]
