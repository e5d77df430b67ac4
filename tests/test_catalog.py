"""The source catalogue: default feeds, URL checks, OPML in and out, discovery into sources."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from primenews import catalog
from primenews.domain import Source, SourceKind
from primenews.errors import ParseError
from primenews.ingest.fetch import Fetcher, FetchOptions
from primenews.ingest.opml import parse_opml
from primenews.store import Store

from publisher import PublisherServer

FETCH = FetchOptions(allow_private_networks=True, per_host_delay_ms=0, retries=0)


def test_default_sources_cover_the_four_sections_over_https() -> None:
    outlines = parse_opml(catalog.default_sources_opml())
    assert len(outlines) == 20
    assert {o.category for o in outlines} == {"World", "Politics", "Business", "Technology"}
    assert all(o.xml_url.startswith("https://") and o.title for o in outlines)


def test_seed_defaults_only_into_an_empty_store(store: Store) -> None:
    assert catalog.seed_default_sources(store) == 20
    assert catalog.seed_default_sources(store) == 0


@pytest.mark.parametrize("url", ["ftp://x.example/f", "javascript:alert(1)", "http://", "feed"])
def test_only_http_urls_are_sources(url: str) -> None:
    with pytest.raises(ParseError):
        catalog.check_source_url(url)


def _resolve(url: str) -> list[Source]:
    async def run() -> list[Source]:
        async with Fetcher(FETCH) as fetcher:
            return await catalog.resolve_source(fetcher, url)

    return asyncio.run(run())


def test_resolve_feed_sitemap_home_page_and_article() -> None:
    with PublisherServer() as site:
        site.add(
            "/rss",
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<link>http://x/</link></channel></rss>",
        )
        site.add(
            "/sitemap.xml",
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
            b'schemas/sitemap/0.9"><url><loc>http://x/a</loc></url></urlset>',
        )
        site.add(
            "/home",
            f'<html><head><link rel="alternate" type="application/rss+xml" '
            f'href="{site.url("/rss")}" title="News"></head></html>'.encode(),
        )
        site.add(
            "/guess", f'<html><body><a href="{site.url("/rss")}">RSS</a></body></html>'.encode()
        )
        site.add("/story", b"<html><body><article><p>Just one story.</p></article></body></html>")
        assert [(s.kind, s.title) for s in _resolve(site.url("/rss"))] == [(SourceKind.FEED, "T")]
        assert _resolve(site.url("/sitemap.xml"))[0].kind is SourceKind.SITEMAP
        assert [s.url for s in _resolve(site.url("/home"))] == [site.url("/rss")]
        assert [s.url for s in _resolve(site.url("/guess"))] == [site.url("/rss")]
        assert [s.kind for s in _resolve(site.url("/story"))] == [SourceKind.PAGE]


def test_unreachable_url_is_still_added_with_a_warning(store: Store) -> None:
    async def run() -> catalog.Added:
        async with Fetcher(FETCH) as fetcher:
            return await catalog.add_source(store, fetcher, "http://127.0.0.1:1/feed.xml")

    added = asyncio.run(run())
    assert [s.kind for s in added.sources] == [SourceKind.FEED]
    assert "poller will retry" in added.warning


def test_export_skips_single_pages(store: Store) -> None:
    now = datetime.now(UTC)
    store.add_source(Source(url="https://a.example/feed", title="A"), now)
    store.add_source(Source(url="https://a.example/story", kind=SourceKind.PAGE), now)
    exported = catalog.export_opml(store)
    assert "https://a.example/feed" in exported and "story" not in exported
