"""The catalogue of sources: adding them (with feed discovery), OPML in and out, the defaults.

Shared by the CLI and the web API so both add a source the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from urllib.parse import urlsplit

from primenews.domain import Source, SourceKind
from primenews.errors import FetchError, ParseError
from primenews.extract.urls import canonical_url
from primenews.ingest.discovery import DiscoveredFeed, discover_feeds
from primenews.ingest.feeds import parse_feed
from primenews.ingest.fetch import Fetcher
from primenews.ingest.opml import OpmlOutline, parse_opml, write_opml
from primenews.ingest.sitemaps import parse_sitemap
from primenews.ingest.sniff import sniff_kind
from primenews.store import Store

logger = logging.getLogger(__name__)

MAX_GUESSES = 3  # feed URLs guessed from a home page's links, tried in order


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of adding one URL: the sources it became, and any warning."""

    url: str
    sources: tuple[Source, ...] = ()
    created: tuple[bool, ...] = ()
    warning: str = ""


def check_source_url(url: str) -> str:
    """The URL, trimmed, when it is an http(s) URL with a host.

    Raises:
        ParseError: anything else.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ParseError(f"sources: {url!r} is not an http(s) URL")
    return url


async def resolve_source(fetcher: Fetcher, url: str) -> list[Source]:
    """Decide what a URL is: a feed, a sitemap, a home page with feeds, or one article.

    Raises:
        FetchError: the URL could not be fetched.
    """
    page = await fetcher.fetch(url)
    kind = sniff_kind(page.content, page.content_type, page.final_url)
    if kind is SourceKind.FEED:
        feed = parse_feed(page.content, page.final_url, page.content_type)
        return [Source(url=url, kind=kind, title=feed.title, site_url=feed.site_url)]
    if kind is SourceKind.SITEMAP:
        parse_sitemap(page.content, page.final_url)
        return [Source(url=url, kind=kind)]
    found = [
        feed for feed in discover_feeds(page.content, page.final_url) if not _is_comments(feed)
    ]
    announced = [feed for feed in found if not feed.guess]
    if announced:
        return [Source(url=feed.url, kind=SourceKind.FEED, title=feed.title) for feed in announced]
    for guess in [feed for feed in found if feed.guess][:MAX_GUESSES]:
        try:
            guessed = await fetcher.fetch(guess.url)
            feed = parse_feed(guessed.content, guessed.final_url, guessed.content_type)
        except (FetchError, ParseError):
            continue
        return [Source(url=guess.url, kind=SourceKind.FEED, title=feed.title)]
    return [Source(url=canonical_url(page.final_url), kind=SourceKind.PAGE)]


def _is_comments(feed: DiscoveredFeed) -> bool:
    """WordPress and friends announce a comments feed beside the articles feed: not news."""
    return "comments" in feed.title.lower() or "/comments/" in feed.url.lower()


async def add_source(
    store: Store, fetcher: Fetcher | None, url: str, kind: SourceKind | None = None
) -> Added:
    """Add a URL as one or more sources; resolve it over the network unless ``kind`` is given.

    When the URL cannot be fetched now it is still added (as a feed) so the
    poller retries it and its errors show on the sources page.

    Raises:
        ParseError: the URL is not an http(s) URL.
    """
    url = check_source_url(url)
    warning = ""
    candidates = [Source(url=url, kind=kind)] if kind is not None else []
    if not candidates and fetcher is not None:
        try:
            candidates = await resolve_source(fetcher, url)
        except (FetchError, ParseError) as err:
            warning = f"{err}; added as a feed, the poller will retry it"
    if not candidates:
        candidates = [Source(url=url, kind=SourceKind.FEED)]
    now = datetime.now(UTC)
    results = [store.add_source(source, now) for source in candidates]
    return Added(
        url=url,
        sources=tuple(source for source, _ in results),
        created=tuple(created for _, created in results),
        warning=warning,
    )


async def refine_source(store: Store, fetcher: Fetcher, source: Source) -> list[Source]:
    """Re-resolve a source added without discovery (the web API adds URLs as feeds).

    When the URL turns out to be a home page, the feeds it announces (or the page
    itself, as a single article) replace it; a feed or sitemap stays as it is.
    Returns the sources now standing for the URL.
    """
    try:
        resolved = await resolve_source(fetcher, source.url)
    except (FetchError, ParseError) as err:
        logger.info("source %s kept as added: %s", source.url, err)
        return [source]
    if [(found.url, found.kind) for found in resolved] == [(source.url, source.kind)]:
        return [source]
    now = datetime.now(UTC)
    if source.id is not None:
        store.remove_source(source.id)
    return [store.add_source(found, now)[0] for found in resolved]


def import_opml(store: Store, content: bytes) -> list[tuple[Source, bool]]:
    """Add every feed of an OPML file; returns each source and whether it is new."""
    now = datetime.now(UTC)
    added = []
    for outline in parse_opml(content):
        try:
            url = check_source_url(outline.xml_url)
        except ParseError as err:
            logger.warning("OPML outline skipped: %s", err)
            continue
        source = Source(
            url=url, kind=SourceKind.FEED, title=outline.title, site_url=outline.html_url
        )
        added.append(store.add_source(source, now))
    return added


def export_opml(store: Store) -> str:
    outlines = [
        OpmlOutline(xml_url=source.url, title=source.title or source.url, html_url=source.site_url)
        for source in store.list_sources()
        if source.kind is not SourceKind.PAGE
    ]
    return write_opml(outlines, title="Prime News sources")


def default_sources_opml() -> bytes:
    return resources.files("primenews").joinpath("data/default_sources.opml").read_bytes()


def seed_default_sources(store: Store) -> int:
    """Add the default feeds when the store has no source yet; returns how many were added."""
    if store.list_sources():
        return 0
    return sum(1 for _, created in import_opml(store, default_sources_opml()) if created)
