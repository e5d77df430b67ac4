"""The plain data every stage passes along.

Nothing here does I/O or imports another module of ours: stages take these
objects in and hand new ones out, the shell (fetcher, store, web) moves them
between the network, the database and the reader.

    Source ──fetch──► Page ──parse_feed──► Feed(FeedEntry…)
                       │
                       └──extract_article──► Article
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SourceKind(StrEnum):
    """What a source URL points at; decides how its body is read."""

    FEED = "feed"  # RSS 0.9x/1.0/2.0, Atom or JSON Feed
    SITEMAP = "sitemap"  # XML sitemap, sitemap index or news sitemap
    PAGE = "page"  # a single article page


@dataclass(frozen=True, slots=True)
class Source:
    """A place we read from, with its polling state as the store last saw it."""

    url: str
    kind: SourceKind = SourceKind.FEED
    id: int | None = None
    title: str = ""
    site_url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    poll_interval_minutes: float | None = None
    next_due: datetime | None = None
    last_fetched: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    error_count: int = 0


@dataclass(frozen=True, slots=True)
class Page:
    """One HTTP response as the fetcher got it (body already decompressed)."""

    url: str  # what was asked for
    final_url: str  # after redirects
    status: int
    content: bytes
    fetched_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed or one URL of a sitemap."""

    url: str
    title: str = ""
    guid: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    summary: str = ""
    content_html: str = ""  # full text when the feed carries it
    author: str = ""
    categories: tuple[str, ...] = ()
    image: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """What a feed, sitemap or sitemap index says."""

    kind: str  # "rss", "atom", "json", "sitemap", "sitemapindex"
    title: str = ""
    site_url: str = ""
    entries: tuple[FeedEntry, ...] = ()
    sitemaps: tuple[str, ...] = ()  # children of a sitemap index
    hub_url: str = ""  # WebSub hub, when advertised
    self_url: str = ""
    ttl_minutes: int | None = None
    language: str = ""
    warnings: tuple[str, ...] = ()  # recoverable problems (feedparser's "bozo")


@dataclass(frozen=True, slots=True)
class Article:
    """An article's clean text and metadata, as extracted from one page."""

    url: str  # canonical URL: the article's identity
    title: str
    text: str
    html: str = ""  # the main content as simple HTML (sanitise before rendering)
    byline: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    language: str = ""
    image: str = ""
    site_name: str = ""
    section: str = ""  # the publisher's own section ("World")
    description: str = ""
    tags: tuple[str, ...] = ()
    fetched_url: str = ""  # the link that led to it, before canonicalisation

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class ProcessedArticle:
    """What the per-page stages make of one page: the article and what it is about."""

    article: Article
    sections: Mapping[str, float] = field(default_factory=dict)  # chosen label -> probability


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as the store holds it, with its identity and bookkeeping."""

    id: int
    article: Article
    source_id: int | None
    content_hash: str
    first_seen: datetime
    last_seen: datetime
    revision: int = 1
    source_title: str = ""
    sections: tuple[str, ...] = ()
    story_id: int | None = None
    duplicate_of: int | None = None  # the article whose text this one copies


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One thing that happened, with what subscribers filter on."""

    kind: str
    data: Mapping[str, object]
    story_id: int | None = None
    sections: tuple[str, ...] = ()
    entity_ids: tuple[int, ...] = ()  # filled once entities are stored per article


@dataclass(frozen=True, slots=True)
class StoredStory:
    """A story: one event, every outlet's coverage of it (see ``primenews.stories``)."""

    id: int
    key: str
    headline: str
    headline_article_id: int | None
    first_article_id: int | None  # the first report
    first_seen: datetime  # when the first report was published
    last_seen: datetime  # when the newest article was published
    article_count: int
    outlet_count: int
    sections: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # heaviest words of its articles, for related stories
    merged_into: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """The record of one fetch attempt, kept against its source."""

    source_id: int | None
    url: str
    started_at: datetime
    status: int | None = None
    elapsed_ms: float = 0.0
    error: str | None = None
    bytes_received: int = 0
    new_items: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None
