"""The page cache: a public page is rendered once per TTL, then served as rendered."""

from __future__ import annotations

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
