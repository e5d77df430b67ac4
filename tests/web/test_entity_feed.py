"""The entity feed (/feeds/entity/{id}.{fmt}): round trip, 304s, announced on its page."""

from __future__ import annotations

import json
from collections.abc import Callable

import feedparser
import httpx
import pytest

from primenews.store import Store

from factories import name_person

pytestmark = pytest.mark.anyio
MakeArticle = Callable[..., int]
BASE = "http://testserver"


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
async def test_entity_feed_round_trips_and_revalidates(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle, fmt: str
) -> None:
    first = make_article(title="Ruiz & the <bridge>")
    second = make_article(title="Ruiz again")
    make_article(title="Not naming her")
    entity_id = name_person(store, first, "Ana Ruiz")
    name_person(store, second, "Ana Ruiz")
    response = await client.get(f"/feeds/entity/{entity_id}.{fmt}")
    assert response.status_code == 200
    links = [f"{BASE}/article/{first}", f"{BASE}/article/{second}"]
    if fmt == "json":  # feedparser reads no JSON Feed; the spec's fields instead
        document = json.loads(response.content)
        assert document["title"] == "Prime News: Ana Ruiz"
        assert document["home_page_url"] == f"{BASE}/entity/{entity_id}"
        assert [item["url"] for item in document["items"]] == links
    else:
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.feed.title == "Prime News: Ana Ruiz"
        assert parsed.feed.link == f"{BASE}/entity/{entity_id}"
        assert [e.title for e in parsed.entries] == ["Ruiz & the <bridge>", "Ruiz again"]
        assert [e.link for e in parsed.entries] == links
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    again = await client.get(f"/feeds/entity/{entity_id}.{fmt}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    since = await client.get(
        f"/feeds/entity/{entity_id}.{fmt}", headers={"If-Modified-Since": modified}
    )
    assert since.status_code == 304


async def test_entity_feed_is_announced_and_unknown_ones_are_404(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    entity_id = name_person(store, make_article(), "Ana Ruiz")
    page = await client.get(f"/entity/{entity_id}")
    for ext, kind in (("atom", "application/atom+xml"), ("rss", "application/rss+xml"),
                      ("json", "application/feed+json")):  # fmt: skip
        assert (
            f'<link rel="alternate" type="{kind}" title="This entity' in page.text
            and f'href="/feeds/entity/{entity_id}.{ext}"' in page.text
        )
    assert (await client.get("/feeds/entity/999999.atom")).status_code == 404
    assert (await client.get(f"/feeds/entity/{entity_id}.xml")).status_code == 404
