"""Re-fetching the articles of active stories: 304s cost nothing, edits become revisions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from primenews import service
from primenews.config import Settings, load_settings
from primenews.domain import Source
from primenews.store import Store
from primenews.web.app import create_app
from primenews.worker.poller import utc_now as NOW

from publisher import PublisherServer, Route
from shared_data import SEED_DIR, require_shared

SEED_PATH = "/world/venezuela-frees-103-detained-after-election"
CORRECTION = b"<p>Correction: An earlier version of this article said 103 people were freed.</p>"


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "database": migrated_database_url,
            "allow_private_networks": True,
            "fetch_per_host_delay_ms": 0,
            "fetch_retries": 0,
        },
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = service.open_store(settings)
    yield opened
    opened.close()


def _feed(site: PublisherServer) -> bytes:
    link = site.url(SEED_PATH)
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Prime World</title>'
        f"<link>{site.url('/')}</link><item><title>Venezuela</title><link>{link}</link>"
        "</item></channel></rss>"
    ).encode()


def test_refresh_sends_a_conditional_get_then_stores_an_edit_as_a_revision(
    settings: Settings, store: Store
) -> None:
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    with PublisherServer() as site:
        page = page.replace(b"https://primenews.example", site.url("").rstrip("/").encode())
        edited = page.replace(b"has freed 103 people", b"has freed 107 people").replace(
            b"of stealing.</p>", b"of stealing.</p>" + CORRECTION, 1
        )
        html = {"Content-Type": "text/html; charset=utf-8"}
        site.add_sequence(
            SEED_PATH,
            [Route(page, etag='"v1"', headers=html), Route(page, etag='"v1"', headers=html),
             Route(edited, etag='"v2"', headers=html)],
        )  # fmt: skip
        site.add("/feed.xml", _feed(site))
        store.add_source(Source(url=site.url("/feed.xml")), NOW())
        asyncio.run(service.poll_once(settings, store, processes=0))
        [article], _ = store.list_articles()
        assert article.story_id is not None

        unchanged = asyncio.run(service.refresh_once(settings, store, processes=0))
        assert (unchanged.checked, unchanged.not_modified, unchanged.revised) == (1, 1, 0)
        assert site.requests_to(SEED_PATH)[-1].header("If-None-Match") == '"v1"'

        site.add_sequence(SEED_PATH, [Route(edited, etag='"v2"', headers=html)])
        revised = asyncio.run(service.refresh_once(settings, store, processes=0))
        assert (revised.checked, revised.revised, revised.failed) == (1, 1, 0)

    stored = store.get_article(article.id)
    assert stored is not None and stored.revision == 2 and stored.story_id == article.story_id
    assert "has freed 107 people" in stored.article.text

    async def read() -> tuple[dict[str, object], str]:
        app = create_app(settings, store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            body = (await client.get(f"/api/v1/articles/{article.id}/revisions")).json()
            html = (await client.get(f"/article/{article.id}")).text
        return body, html

    body, page_html = asyncio.run(read())
    first, second = body["revisions"]  # type: ignore[misc]
    assert first["diff"] is None
    diff = second["diff"]
    assert ["103", "107"] in [[c["before"], c["after"]] for c in diff["figures"]]
    assert diff["corrections"] == [
        "Correction: An earlier version of this article said 103 people were freed."
    ]
    assert "Updated" in page_html and "What changed" in page_html
    assert "103 → 107" in page_html


def test_a_revision_keeps_the_feeds_date_of_a_page_that_declares_none(
    settings: Settings, store: Store
) -> None:
    path = "/2026/11/20/budget"  # htmldate would guess 20 November from the URL
    body = "<p>" + "The minister said the budget would be presented on Tuesday. " * 12 + "</p>"
    page = f"<html><head><title>Budget</title></head><body><article>{body}</article></body></html>"
    edited = page.replace("on Tuesday", "on Wednesday")
    html = {"Content-Type": "text/html; charset=utf-8"}
    with PublisherServer() as site:
        site.add_sequence(path, [Route(page.encode(), headers=html)])
        site.add(
            "/feed.xml",
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                f"<link>{site.url('/')}</link><item><title>Budget</title>"
                f"<link>{site.url(path)}</link>"
                "<pubDate>Sat, 21 Nov 2026 14:30:00 GMT</pubDate></item></channel></rss>"
            ).encode(),
        )
        store.add_source(Source(url=site.url("/feed.xml")), NOW())
        asyncio.run(service.poll_once(settings, store, processes=0))
        [article], _ = store.list_articles()
        listed = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
        assert article.article.published == listed  # the feed's time, not the URL's day

        site.add_sequence(path, [Route(edited.encode(), headers=html)])
        revised = asyncio.run(service.refresh_once(settings, store, processes=0))
        assert revised.revised == 1
    stored = store.get_article(article.id)
    assert stored is not None and stored.revision == 2
    assert stored.article.published == listed
