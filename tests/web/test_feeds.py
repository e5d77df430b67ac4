"""Output feeds over HTTP: each format through feedparser, JSON Feed's required fields, 304s."""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest

from primenews.domain import Source
from primenews.ingest.feeds import parse_feed
from primenews.web.feeds import FeedFormat, FeedItem, FeedMeta, write_feed

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the fixtures' clock (conftest.py)
MakeSource = Callable[..., Source]
MakeArticle = Callable[..., int]
BASE = "http://testserver"


def _epoch(struct: object) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
async def test_latest_feed_round_trips_through_feedparser(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle, fmt: str
) -> None:
    source = make_source()
    first = make_article(
        source, title="Bridge <reopens> & more", byline="Ana Ruiz", sections={"world": 0.9},
        html="<p>Cars <b>cross</b> again.</p><script>alert(1)</script>",
        description="The bridge is open.", updated=NOW - timedelta(seconds=30),
    )  # fmt: skip
    second = make_article(source, title="Second", text="Plain text only.")
    response = await client.get(f"/feeds/latest.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FeedFormat(fmt).media_type)
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title == "Prime News: latest news"
    assert parsed.feed.link == f"{BASE}/"
    entries = parsed.entries
    assert [e.title for e in entries] == ["Bridge <reopens> & more", "Second"]
    assert [e.link for e in entries] == [f"{BASE}/article/{first}", f"{BASE}/article/{second}"]
    assert [e.id for e in entries] == [f"{BASE}/article/{first}", f"{BASE}/article/{second}"]
    assert _epoch(entries[0].published_parsed) == NOW - timedelta(minutes=1)
    if fmt == "atom":  # RSS 2.0 has no per-item update time
        assert _epoch(entries[0].updated_parsed) == NOW - timedelta(seconds=30)
        assert _epoch(parsed.feed.updated_parsed) == NOW - timedelta(seconds=30)
    body = entries[0].content[0].value
    assert "<b>cross</b>" in body and "<script" not in body and "alert" not in body
    if fmt == "atom":
        assert entries[0].author == "Ana Ruiz"
        links = {link.rel: link.href for link in entries[0].links}
        assert links == {
            "alternate": f"{BASE}/article/{first}",
            "related": "https://news.example/story-1",
        }
        assert [t.term for t in entries[0].tags] == ["world"]


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
async def test_every_format_round_trips_through_our_own_reader(
    client: httpx.AsyncClient, make_article: MakeArticle, fmt: str
) -> None:
    # feedparser 6.0 does not read JSON Feed; ingest.feeds (what the poller runs) reads all three,
    # so one Prime News can follow another.
    article_id = make_article(title="Ferry & tide", html="<p>Boats <em>stay</em> in.</p>")
    feed = parse_feed((await client.get(f"/feeds/latest.{fmt}")).content)
    assert feed.title == "Prime News: latest news"
    assert feed.site_url == f"{BASE}/"
    [entry] = feed.entries
    assert (entry.title, entry.url) == ("Ferry & tide", f"{BASE}/article/{article_id}")
    assert entry.guid == f"{BASE}/article/{article_id}"
    assert entry.published == NOW - timedelta(minutes=1)
    assert "<em>stay</em>" in entry.content_html


async def test_json_feed_has_the_required_fields(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    article_id = make_article(title="Rates", text="Rates rose.")
    document = (await client.get("/feeds/latest.json")).json()
    # JSON Feed 1.1: version and title are required, items too; each item needs an id
    # and content_html or content_text; dates are RFC 3339.
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] and document["home_page_url"] == f"{BASE}/"
    assert document["feed_url"] == f"{BASE}/feeds/latest.json"
    [item] = document["items"]
    assert item["id"] == item["url"] == f"{BASE}/article/{article_id}"
    assert item["content_text"] == "Rates rose." and "content_html" not in item
    assert item["date_published"] == "2026-11-28T11:59:00Z"
    assert set(item) <= {
        "id", "url", "external_url", "title", "content_html", "content_text", "summary",
        "image", "banner_image", "date_published", "date_modified", "authors", "tags",
        "language", "attachments",
    }  # fmt: skip


async def test_section_source_and_search_feeds(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    one = make_source()
    two = make_source(url="https://two.example/feed", title="Two Times")
    make_article(one, title="Quake hits coast", sections={"world": 0.8})
    make_article(two, title="Chip maker grows", sections={"technology": 0.9})
    section = feedparser.parse((await client.get("/feeds/section/world.atom")).content)
    assert [e.title for e in section.entries] == ["Quake hits coast"]
    assert section.feed.link == f"{BASE}/world"
    source = feedparser.parse((await client.get(f"/feeds/source/{two.id}.rss")).content)
    assert source.feed.title == "Prime News: Two Times"
    assert [e.title for e in source.entries] == ["Chip maker grows"]
    found = feedparser.parse(
        (await client.get("/feeds/search.atom", params={"q": "quake"})).content
    )
    assert [e.title for e in found.entries] == ["Quake hits coast"]
    assert found.feed.link == f"{BASE}/search?q=quake"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/latest.xml", 404),
        ("/feeds/section/gossip.atom", 404),
        ("/feeds/source/999.atom", 404),
        ("/feeds/source/0.atom", 422),
        ("/feeds/search.atom", 400),
        ("/feeds/search.rss?q=%22NEAR(", 200),
    ],
)
async def test_bad_feed_addresses(client: httpx.AsyncClient, path: str, status: int) -> None:
    assert (await client.get(path)).status_code == status


async def test_conditional_get(client: httpx.AsyncClient, make_article: MakeArticle) -> None:
    make_article(title="One")
    first = await client.get("/feeds/latest.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert modified == "Sat, 28 Nov 2026 11:59:00 GMT"
    again = await client.get("/feeds/latest.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    listed = await client.get("/feeds/latest.atom", headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    since = await client.get("/feeds/latest.atom", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    # If-None-Match decides when both are sent; a date we cannot read is ignored.
    stale = {"If-None-Match": '"old"', "If-Modified-Since": modified}
    assert (await client.get("/feeds/latest.atom", headers=stale)).status_code == 200
    garbled = {"If-Modified-Since": "yesterday-ish"}
    assert (await client.get("/feeds/latest.atom", headers=garbled)).status_code == 200
    make_article(title="Two", published=NOW)
    changed = await client.get("/feeds/latest.atom", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    later = await client.get("/feeds/latest.atom", headers={"If-Modified-Since": modified})
    assert later.status_code == 200


async def test_pages_announce_their_feeds(
    client: httpx.AsyncClient, make_source: MakeSource
) -> None:
    source = make_source()
    expected = {
        "/": ["/feeds/latest"],
        "/world": ["/feeds/section/world", "/feeds/latest"],
        f"/?source={source.id}": [f"/feeds/source/{source.id}", "/feeds/latest"],
        "/search?q=a+%26+b": ["/feeds/search", "/feeds/latest"],
        "/sources": ["/feeds/latest"],
    }
    for path, bases in expected.items():
        html = (await client.get(path)).text
        for base in bases:
            for fmt in FeedFormat:
                assert f'type="{fmt.media_type}"' in html
                assert f'href="{base}.{fmt.value}' in html, (path, base, fmt)
        for base in bases:
            href = f"{base}.atom"
            linked = await client.get(href + ("?q=a+%26+b" if "search" in base else ""))
            assert linked.status_code == 200, href
    search_page = (await client.get("/search?q=a+%26+b")).text
    title = 'title="Search: a &amp; b (Atom)" href="/feeds/search.atom?q=a+%26+b">'
    assert f'<link rel="alternate" type="application/atom+xml" {title}' in search_page


def test_empty_feeds_are_valid_and_stable() -> None:
    meta = FeedMeta("http://x/f", "Nothing", "http://x/f", "http://x/")
    for fmt in FeedFormat:
        body = write_feed(meta, [], fmt)
        assert body == write_feed(meta, [], fmt)
        feed = parse_feed(body)
        assert feed.title == "Nothing" and feed.entries == ()


def test_control_characters_cannot_break_a_feed() -> None:
    meta = FeedMeta("http://x/f", "Feed\x00", "http://x/f", "http://x/")
    item = FeedItem(
        id="http://x/a/1", title="Bad\x0b title\x1f", url="http://x/a/1",
        published=NOW, updated=NOW, summary="nul\x00 here", html="<p>\x08odd</p>",
    )  # fmt: skip
    for fmt in (FeedFormat.ATOM, FeedFormat.RSS):
        parsed = feedparser.parse(write_feed(meta, [item], fmt))
        assert not parsed.bozo, (fmt, parsed.get("bozo_exception"))
        assert parsed.entries[0].title == "Bad title"
    assert json.loads(write_feed(meta, [item], FeedFormat.JSON))["items"][0]["title"] == "Bad title"
