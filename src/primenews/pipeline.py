"""The order of the stages, and nothing else.

    listing page ─► read_listing ─► Feed.entries ─► select_entries ─► [FeedEntry]
    article page ─► process_page: article_from_page ─► Article ─► classify_sections
                                                    ─► ProcessedArticle
    stored as new or revised ─► insights_of: enrich ─► Insights (entities, figures, …)

Every function here is pure (bytes and domain objects in, domain objects
out), so the same calls run in-process, in a process pool or in a queue
worker. Fetching and storing are the caller's business.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from primenews.domain import Article, Feed, FeedEntry, Page, ProcessedArticle, SourceKind
from primenews.errors import ParseError
from primenews.extract.article import ExtractOptions, extract_article
from primenews.extract.urls import canonical_url
from primenews.ingest.feeds import parse_feed
from primenews.ingest.sitemaps import parse_sitemap
from primenews.ingest.sniff import sniff_kind
from primenews.insights.canonical import EntityRegistry
from primenews.insights.enrich import enrich
from primenews.insights.model import Insights
from primenews.insights.sections import classify_sections, hints_from_article

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_listing(page: Page) -> Feed:
    """Parse a feed or sitemap body, whichever it is.

    Raises:
        ParseError: the body is neither (an HTML page, say), or a broken feed
            from which no entry could be read.
    """
    kind = sniff_kind(page.content, page.content_type, page.final_url)
    if kind is SourceKind.FEED:
        feed = parse_feed(page.content, page.final_url, page.content_type)
        if feed.warnings and not any(entry.url for entry in feed.entries):
            # A recovered parse that yields nothing is a broken feed, not a quiet one.
            raise ParseError(f"feed: no entries could be read ({feed.warnings[0]})")
        return feed
    if kind is SourceKind.SITEMAP:
        return parse_sitemap(page.content, page.final_url)
    raise ParseError(
        f"listing: {page.final_url} is an HTML page, not a feed or sitemap "
        "(add it with `primenews sources add` to discover its feeds)"
    )


def select_entries(entries: Iterable[FeedEntry], limit: int) -> list[FeedEntry]:
    """The newest ``limit`` entries with canonical URLs, each URL once."""
    seen: set[str] = set()
    chosen: list[FeedEntry] = []
    ordered = sorted(entries, key=_entry_time, reverse=True)
    for entry in ordered:
        if not entry.url.startswith(("http://", "https://")):
            continue
        url = canonical_url(entry.url)
        if url in seen:
            continue
        seen.add(url)
        chosen.append(dataclasses.replace(entry, url=url))
        if len(chosen) >= limit:
            break
    return chosen


def process_page(
    content: bytes,
    url: str,
    entry: FeedEntry | None = None,
    options: ExtractOptions | None = None,
    content_type: str = "",
) -> ProcessedArticle:
    """Every per-page stage: the article, then its sections (text plus the publisher's hints).

    Raises:
        ExtractError: the page holds no article.
    """
    article = article_from_page(content, url, entry, options, content_type)
    result = classify_sections(article.title, article.text, hints_from_article(article))
    chosen = {label: result.scores[label] for label in result.labels}
    return ProcessedArticle(article=article, sections=chosen)


def insights_of(article: Article, registry: EntityRegistry | None = None) -> Insights:
    """The insights stage, run once an article is stored as new or revised.

    It runs after the save rather than inside ``process_page`` so a page
    fetched again unchanged costs no NER, and so the registry (the store's
    known entities) already holds the names of the articles saved before it.
    """
    return enrich(article, registry)


def charset_of(content_type: str) -> str:
    """The charset parameter of a Content-Type header ("" when absent)."""
    match = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else ""


def _entry_time(entry: FeedEntry) -> datetime:
    return entry.published or entry.updated or _EPOCH


def article_from_page(
    content: bytes,
    url: str,
    entry: FeedEntry | None = None,
    options: ExtractOptions | None = None,
    content_type: str = "",
) -> Article:
    """Extract the article of a page, filling gaps from the feed entry that pointed at it.

    The page is the better witness for text and metadata; the feed fills only
    what the page leaves empty (a headline, an image, an author). For the
    date, the feed's comes before a date guessed from the page's text.

    Raises:
        ExtractError: the page holds no article.
    """
    article = extract_article(
        content,
        url,
        options,
        http_charset=charset_of(content_type),
        listed_published=entry.published if entry else None,
    )
    if entry is None:
        return article
    return dataclasses.replace(
        article,
        title=article.title or entry.title,
        updated=article.updated or entry.updated,
        image=article.image or entry.image,
        byline=article.byline or entry.author,
        tags=article.tags or entry.categories,
        description=article.description or entry.summary[:500],
        language=article.language or entry.language,
    )
