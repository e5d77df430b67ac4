"""The JSON API's bodies as pydantic models, and how domain objects become them.

The models give the OpenAPI schema its meaning; the ``*_from`` functions are
the only place that maps a domain object to an API body.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from fastapi import Request
from pydantic import BaseModel, Field, field_validator

from primenews.domain import FetchOutcome, Source, SourceKind, StoredArticle
from primenews.store.insights import ArticleInsights
from primenews.web.insight_schemas import (
    DayMentions,
    EntityOut,
    InsightsOut,
    RelatedEntityOut,
    insights_from,
)
from primenews.web.sanitize import sanitize_html

MAX_URL_LENGTH = 2048


class SourceRef(BaseModel):
    id: int
    title: str


class ArticleLinks(BaseModel):
    self: str = Field(description="This article in the API")
    html: str = Field(description="This article's page on this site")


class ArticleSummary(BaseModel):
    """An article in a list: its metadata without the text."""

    id: int
    url: str = Field(description="Canonical URL at the publisher")
    title: str
    byline: str
    published: datetime | None
    updated: datetime | None
    language: str
    image: str
    site_name: str
    section: str = Field(description="The publisher's own section")
    sections: list[str] = Field(description="Our sections (world, politics, …), most likely first")
    description: str
    source: SourceRef | None = Field(description="The source that led to it, if any")
    first_seen: datetime
    revision: int = Field(description="Number of versions seen: 1 until the text changes")
    story_id: int | None = Field(None, description="Story this article belongs to (not yet)")
    links: ArticleLinks


class ArticleDetail(ArticleSummary):
    """An article with its text and its sanitised HTML."""

    text: str
    html: str = Field(description="Main content as HTML, sanitised to a small allowlist")
    tags: list[str]
    last_seen: datetime
    insights: InsightsOut | None = Field(
        None, description="Entities, figures, quotes, dates and summary; null until enriched"
    )


class ArticlePage(BaseModel):
    articles: list[ArticleSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class EntityDetail(EntityOut):
    """An entity with its spellings, its mentions over time, its articles and its company."""

    aliases: list[str] = Field(description="Every spelling seen, its own name included")
    mentions_by_day: list[DayMentions] = Field(description="Oldest day first")
    recent_articles: list[ArticleSummary] = Field(description="Newest first")
    related: list[RelatedEntityOut] = Field(description="Most often named in the same articles")


class SourceOut(BaseModel):
    """A source with its health: how its last fetches went."""

    id: int
    url: str
    kind: SourceKind
    title: str
    site_url: str
    poll_interval_minutes: float | None
    last_fetched: datetime | None
    last_status: int | None
    last_error: str | None
    error_count: int = Field(description="Failed fetches in a row")
    next_due: datetime | None
    article_count: int


class SourceList(BaseModel):
    sources: list[SourceOut]


class NewSource(BaseModel):
    """A URL to read from; its kind is a hint, checked when it is first fetched."""

    url: str = Field(max_length=MAX_URL_LENGTH, examples=["https://example.com/feed.xml"])
    kind: SourceKind | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError as err:
            raise ValueError("not a valid URL") from err
        if parts.scheme.lower() not in {"http", "https"} or not host:
            raise ValueError("must be an http(s) URL with a host")
        return value


class Health(BaseModel):
    ok: bool
    articles: int
    sources: int


def _article_fields(stored: StoredArticle, request: Request) -> dict[str, object]:
    article = stored.article
    source = None
    if stored.source_id is not None:
        source = SourceRef(id=stored.source_id, title=stored.source_title)
    links = ArticleLinks(
        self=str(request.url_for("api_article", article_id=stored.id)),
        html=str(request.url_for("article_page", article_id=stored.id)),
    )
    return {
        "id": stored.id,
        "url": article.url,
        "title": article.title,
        "byline": article.byline,
        "published": article.published,
        "updated": article.updated,
        "language": article.language,
        "image": article.image,
        "site_name": article.site_name,
        "section": article.section,
        "sections": list(stored.sections),
        "description": article.description,
        "source": source,
        "first_seen": stored.first_seen,
        "revision": stored.revision,
        "links": links,
    }


def summary_from(stored: StoredArticle, request: Request) -> ArticleSummary:
    """A stored article as an API list item, with links built from the request's base URL."""
    return ArticleSummary.model_validate(_article_fields(stored, request))


def detail_from(
    stored: StoredArticle, request: Request, insights: ArticleInsights | None = None
) -> ArticleDetail:
    """A stored article with its text and its HTML sanitised for display, and its insights."""
    article = stored.article
    fields = _article_fields(stored, request)
    if insights is not None and not article.language:
        fields["language"] = insights.language  # identified from the text when the page said none
    return ArticleDetail.model_validate(
        {
            **fields,
            "text": article.text,
            "html": sanitize_html(article.html, base_url=article.url) if article.html else "",
            "tags": list(article.tags),
            "last_seen": stored.last_seen,
            "insights": insights_from(insights, request) if insights is not None else None,
        }
    )


def source_from(source: Source, article_count: int) -> SourceOut:
    """A stored source with its health fields and article count."""
    assert source.id is not None, "only stored sources have an id"
    return SourceOut(
        id=source.id,
        url=source.url,
        kind=source.kind,
        title=source.title,
        site_url=source.site_url,
        poll_interval_minutes=source.poll_interval_minutes,
        last_fetched=source.last_fetched,
        last_status=source.last_status,
        last_error=source.last_error,
        error_count=source.error_count,
        next_due=source.next_due,
        article_count=article_count,
    )


class FetchOut(BaseModel):
    """One fetch attempt of a source."""

    url: str
    started_at: datetime
    status: int | None
    elapsed_ms: float
    error: str | None
    bytes_received: int
    new_items: int


class SourceDetail(SourceOut):
    recent_fetches: list[FetchOut] = Field(description="The latest fetch attempts, newest first")


def source_detail_from(
    source: Source, article_count: int, fetches: list[FetchOutcome]
) -> SourceDetail:
    """A source with its health and its latest fetch attempts."""
    return SourceDetail(
        **source_from(source, article_count).model_dump(),
        recent_fetches=[
            FetchOut(
                url=fetch.url,
                started_at=fetch.started_at,
                status=fetch.status,
                elapsed_ms=fetch.elapsed_ms,
                error=fetch.error,
                bytes_received=fetch.bytes_received,
                new_items=fetch.new_items,
            )
            for fetch in fetches
        ],
    )
