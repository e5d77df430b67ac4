"""The JSON API over a real SQLite store, in-process through the ASGI transport."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from threading import get_ident

import httpx
import pytest
from fastapi import FastAPI

from primenews.config import Settings
from primenews.domain import FetchOutcome, Source, SourceKind
from primenews.store import PollState, Store
from primenews.web.app import create_app

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the fixtures' clock (conftest.py)
MakeSource = Callable[..., Source]
MakeArticle = Callable[..., int]

SUMMARY_FIELDS = {
    "id", "url", "title", "byline", "published", "updated", "language", "image", "site_name",
    "section", "sections", "description", "source", "first_seen", "revision", "story_id",
    "duplicate_of", "links",
}  # fmt: skip


async def test_articles_list_shape(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source()
    article_id = make_article(
        source, byline="Ana Ruiz", language="en", section="World", site_name="Example",
        description="What happened.", image="https://news.example/i.jpg",
    )  # fmt: skip
    response = await client.get("/api/v1/articles")
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    [item] = body["articles"]
    assert set(item) == SUMMARY_FIELDS
    assert item["id"] == article_id
    assert item["source"] == {"id": source.id, "title": "Example News"}
    assert item["published"] == "2026-11-28T11:59:00Z"
    assert item["first_seen"] == "2026-11-28T12:00:00Z"
    assert item["updated"] is None and item["story_id"] is None
    assert (item["byline"], item["section"], item["revision"]) == ("Ana Ruiz", "World", 1)
    assert item["links"] == {
        "self": f"http://testserver/api/v1/articles/{article_id}",
        "html": f"http://testserver/article/{article_id}",
    }
    assert (await client.get(item["links"]["self"])).status_code == 200
    assert (await client.get(item["links"]["html"])).status_code == 200


async def test_cursor_pagination_returns_each_article_once(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    # Groups of seven share a publication time, so the cursor has to break ties by id.
    ids = [make_article(published=NOW - timedelta(minutes=n // 7)) for n in range(120)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/articles", params=params)).json()
        seen.extend(item["id"] for item in body["articles"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen)) == 120
    # Newest first; within one publication time, the higher id first.
    assert seen == [aid for _, aid in sorted(((n // 7, -aid), aid) for n, aid in enumerate(ids))]


async def test_articles_newest_first_and_limit(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    newest, middle, oldest = make_article(), make_article(), make_article()
    body = (await client.get("/api/v1/articles", params={"limit": 2})).json()
    assert [item["id"] for item in body["articles"]] == [newest, middle]
    rest = (await client.get("/api/v1/articles", params={"cursor": body["next_cursor"]})).json()
    assert [item["id"] for item in rest["articles"]] == [oldest]
    assert rest["next_cursor"] is None


async def test_filter_by_source_and_since(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    one, two = make_source(), make_source(url="https://other.example/rss", title="Other")
    first = make_article(one, published=NOW - timedelta(hours=1))
    second = make_article(two, published=NOW - timedelta(hours=3))

    async def ids(**params: object) -> list[int]:
        body = (await client.get("/api/v1/articles", params=params)).json()  # type: ignore[arg-type]
        return [item["id"] for item in body["articles"]]

    assert await ids(source=two.id) == [second]
    assert await ids(since="2026-11-28T10:00:00Z") == [first]
    assert await ids(since="2026-11-28T07:30:00-02:00") == [first]  # 09:30 UTC
    assert await ids(since="2026-11-28T08:00:00") == [first, second]  # no offset: read as UTC


async def test_article_detail_has_text_and_sanitised_html(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    article_id = make_article(
        text="Plain text.",
        html='<p onclick="x()">Body <a href="/more">more</a></p><script>alert(1)</script>',
        tags=("a", "b"),
    )
    body = (await client.get(f"/api/v1/articles/{article_id}")).json()
    assert SUMMARY_FIELDS < set(body)
    assert body["text"] == "Plain text."
    link = '<a href="https://news.example/more" rel="noopener noreferrer nofollow">more</a>'
    assert body["html"] == f"<p>Body {link}</p>"
    assert body["tags"] == ["a", "b"]
    assert body["last_seen"] == "2026-11-28T12:00:00Z"


async def test_sources_list_carries_health(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source()
    make_article(source)
    make_article(source)
    assert source.id is not None
    failure = FetchOutcome(source.id, source.url, started_at=NOW, status=503, error="HTTP 503")
    store.record_fetch(
        failure, PollState(next_due=NOW + timedelta(minutes=30), poll_interval_minutes=30)
    )
    [item] = (await client.get("/api/v1/sources")).json()["sources"]
    assert item == {
        "id": source.id,
        "url": "https://news.example/feed.xml",
        "kind": "feed",
        "title": "Example News",
        "site_url": "",
        "poll_interval_minutes": 30.0,
        "last_fetched": "2026-11-28T12:00:00Z",
        "last_status": 503,
        "last_error": "HTTP 503",
        "error_count": 1,
        "next_due": "2026-11-28T12:30:00Z",
        "article_count": 2,
    }
    detail = (await client.get(f"/api/v1/sources/{source.id}")).json()
    assert detail["recent_fetches"] == [
        {
            "url": "https://news.example/feed.xml",
            "started_at": "2026-11-28T12:00:00Z",
            "status": 503,
            "elapsed_ms": 0.0,
            "error": "HTTP 503",
            "bytes_received": 0,
            "new_items": 0,
        }
    ]


async def test_post_source_creates_once_and_calls_the_hook(
    client: httpx.AsyncClient, added_sources: list[Source], api_headers: dict[str, str]
) -> None:
    wanted = {"url": "  https://news.example/sitemap.xml ", "kind": "sitemap"}
    created = await client.post("/api/v1/sources", json=wanted, headers=api_headers)
    assert created.status_code == 201
    body = created.json()
    assert (body["url"], body["kind"], body["article_count"]) == (
        "https://news.example/sitemap.xml", "sitemap", 0,
    )  # fmt: skip
    assert created.headers["location"] == f"http://testserver/api/v1/sources/{body['id']}"
    assert [(s.id, s.url, s.kind) for s in added_sources] == [
        (body["id"], "https://news.example/sitemap.xml", SourceKind.SITEMAP)
    ]
    again = await client.post(
        "/api/v1/sources", json={"url": "https://news.example/sitemap.xml"}, headers=api_headers
    )
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert len(added_sources) == 1, "the hook runs for new sources only"
    listed = (await client.get("/api/v1/sources")).json()["sources"]
    assert [s["id"] for s in listed] == [body["id"]]


async def test_post_source_defaults_to_a_feed(
    client: httpx.AsyncClient, api_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/sources", json={"url": "http://news.example/rss"}, headers=api_headers
    )
    assert response.status_code == 201 and response.json()["kind"] == "feed"


@pytest.mark.parametrize(
    "url",
    [
        "news.example/feed",
        "https://",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
        "http://[::1",
    ],
)
async def test_post_source_refuses_urls_that_are_not_http(
    client: httpx.AsyncClient, url: str, api_headers: dict[str, str]
) -> None:
    response = await client.post("/api/v1/sources", json={"url": url}, headers=api_headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "url"]


async def test_a_failing_hook_does_not_fail_the_request(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture, api_headers: dict[str, str]
) -> None:
    def hook(source: Source) -> None:
        raise RuntimeError("scheduler is down")

    app = create_app(settings, store, on_source_added=hook)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        with caplog.at_level(logging.ERROR):
            response = await c.post(
                "/api/v1/sources", json={"url": "https://a.example/feed"}, headers=api_headers
            )
    assert response.status_code == 201
    assert store.source_by_url("https://a.example/feed") is not None
    assert "on_source_added failed" in caplog.text


async def test_the_hook_runs_on_the_event_loop_thread(
    settings: Settings, store: Store, api_headers: dict[str, str]
) -> None:
    # So the app's owner can set an asyncio.Event from it without call_soon_threadsafe.
    threads: list[int] = []
    app = create_app(settings, store, on_source_added=lambda _: threads.append(get_ident()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.post("/api/v1/sources", json={"url": "https://a.example/feed"}, headers=api_headers)
    assert threads == [get_ident()]


async def test_health(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    make_article(make_source())
    assert (await client.get("/api/v1/health")).json() == {"ok": True, "articles": 1, "sources": 1}


async def test_openapi_schema_describes_the_api(app: FastAPI, client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert {"/api/v1/articles", "/api/v1/articles/{article_id}", "/api/v1/sources",
            "/api/v1/sources/{source_id}", "/api/v1/health", "/api/v1/stories",
            "/api/v1/stories/{story_id}"} <= set(schema["paths"])  # fmt: skip
    components = schema["components"]["schemas"]
    assert SUMMARY_FIELDS <= set(components["ArticleSummary"]["properties"])
    assert set(components["ErrorBody"]["properties"]) == {"ok", "status", "error", "errors"}
    listing = schema["paths"]["/api/v1/articles"]["get"]
    assert listing["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "HTTPValidationError" not in components
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200 and limit["schema"]["default"] == 50


async def test_docs_page_allows_only_its_own_scripts(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "/api/openapi.json" in response.text
    assert "cdn" not in policy and "http" not in response.text.split("<body>")[0]


async def test_docs_page_assets_are_served_from_this_host(client: httpx.AsyncClient) -> None:
    page = (await client.get("/api/docs")).text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static/api-docs/{asset}" in page
        response = await client.get(f"/static/api-docs/{asset}")
        assert response.status_code == 200 and len(response.content) > 10_000
