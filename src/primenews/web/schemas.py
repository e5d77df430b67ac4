"""The JSON API's bodies as pydantic models, and how domain objects become them.

The models give the OpenAPI schema its meaning; the ``*_from`` functions are
the only place that maps a domain object to an API body.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from pydantic import BaseModel, Field, field_validator

from primenews.domain import FetchOutcome, Source, SourceKind, StoredArticle, StoredStory
from primenews.insights.model import DateMention, Quote
from primenews.revisions import RevisionDiff, successive_diffs
from primenews.store import SearchHit, SearchOrder
from primenews.store.articles import Revision
from primenews.store.insights import ArticleInsights
from primenews.store.stories import StoryArticle
from primenews.web.insight_schemas import (
    DayMentions,
    EntityOut,
    InsightsOut,
    RelatedEntityOut,
    insights_from,
)
from primenews.web.sanitize import sanitize_html
from primenews.web.story_view import StoryView

MAX_URL_LENGTH = 2048
MAX_TIMELINE_HOURS = 24 * 14  # a story's timeline shows at most two weeks, hour by hour


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
    story_id: int | None = Field(None, description="The story (event) this article belongs to")
    duplicate_of: int | None = Field(
        None, description="The article whose text this one copies (a syndicated copy)"
    )
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
    recent_stories: list[StorySummary] = Field(
        default_factory=list, description="Stories naming it, most recently updated first"
    )


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
        "story_id": stored.story_id,
        "duplicate_of": stored.duplicate_of,
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


# Stories


class StoryLinks(BaseModel):
    self: str = Field(description="This story in the API")
    html: str = Field(description="This story's page on this site")


class StorySummary(BaseModel):
    """A story (one event, every outlet's coverage) in a list."""

    id: int
    headline: str = Field(description="The member title that best represents the story")
    sections: list[str] = Field(description="Sections carried by at least half of its articles")
    first_seen: datetime = Field(description="When the first report was published")
    last_seen: datetime = Field(description="When its newest article was published")
    article_count: int
    outlet_count: int
    first_article_id: int | None = Field(description="The first report")
    score: float | None = Field(
        None, description="Front-page score (order=rank only): recency × outlets × velocity"
    )
    links: StoryLinks


class StoryPage(BaseModel):
    stories: list[StorySummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


class StoryMemberOut(BaseModel):
    """One article of a story, with why it joined."""

    article_id: int
    title: str
    url: str = Field(description="Canonical URL at the publisher")
    outlet: str
    source_id: int | None
    published: datetime = Field(description="Publication time (never later than first seen)")
    first_seen: datetime
    sections: list[str]
    score: float = Field(description="Join score (1.0 for the article that started the story)")
    started: bool = Field(description="This article started the story")
    evidence: dict[str, Any] = Field(
        description="Why it joined: text similarity, shared names, numbers, links"
    )
    duplicate_of: int | None = Field(description="The original, if this is a copy")
    rewrite_of: int | None = Field(
        description="The earlier article of another outlet this one retells (credited original)"
    )
    links: ArticleLinks


class OutletCoverage(BaseModel):
    """One outlet's articles in the story, in time order."""

    outlet: str
    article_ids: list[int]


class TimelineBucket(BaseModel):
    hour: datetime = Field(description="Start of the hour (UTC)")
    articles: int
    by_outlet: dict[str, int] = Field(default_factory=dict, description="Articles per outlet")


class DuplicateOut(BaseModel):
    """A copy of another member's text: shown once, as "also carried by"."""

    article_id: int
    original_id: int
    outlet: str
    kind: str = Field(description="exact (same text) or near (MinHash estimate)")
    similarity: float


class SummarySentence(BaseModel):
    text: str = Field(description="Copied verbatim from an article")
    url: str = Field(description="The article it was copied from")


class FigureVariantOut(BaseModel):
    value: float
    text: str = Field(description="As the first outlet giving it wrote it")
    kind: str = Field(description="agrees, approximate (a hedged figure near it) or differs")
    outlets: list[str]
    article_ids: list[int]
    sentence: str


class FigureCheckOut(BaseModel):
    """One measure of the story compared across outlets ("103 freed — 4 outlets; 107 — 1")."""

    what: str = Field(description="What is counted, as most outlets put it")
    unit: str
    value: float = Field(description="The value most outlets are consistent with")
    agreeing_outlets: list[str]
    variants: list[FigureVariantOut] = Field(description="The agreeing value first")


class StoryQuoteOut(BaseModel):
    text: str
    speaker: str
    outlets: list[str] = Field(description="Outlets that carried the quote, first first")
    article_id: int


class StoryDateOut(BaseModel):
    date: str = Field(description="ISO date at its granularity: 2024-11-28, 2024-09, 2024-W48")
    granularity: str
    what: str
    outlets: list[str]
    article_id: int


class StoryEntityOut(BaseModel):
    id: int
    name: str
    kind: str
    articles: int = Field(description="Articles of the story that name it")


class StoryDetail(StorySummary):
    """A story with every member, grouped by outlet, its timeline and related stories."""

    first_report: StoryMemberOut | None
    members: list[StoryMemberOut] = Field(description="Every article, in time order")
    outlets: list[OutletCoverage] = Field(description="Coverage by outlet, first to report first")
    timeline: list[TimelineBucket] = Field(description="Articles per hour")
    duplicates: list[DuplicateOut]
    related: list[StorySummary]
    summary: list[SummarySentence] = Field(description="2–3 sentences copied from its articles")
    figures: list[FigureCheckOut] = Field(description="Key figures compared across outlets")
    quotes: list[StoryQuoteOut]
    dates: list[StoryDateOut] = Field(description="Dates its articles mention, in time order")
    entities: list[StoryEntityOut] = Field(description="Most named first")


def story_summary_from(
    story: StoredStory, request: Request, score: float | None = None
) -> StorySummary:
    return StorySummary.model_validate(_story_fields(story, request, score))


def _story_fields(story: StoredStory, request: Request, score: float | None) -> dict[str, Any]:
    return {
        "id": story.id,
        "headline": story.headline,
        "sections": list(story.sections),
        "first_seen": story.first_seen,
        "last_seen": story.last_seen,
        "article_count": story.article_count,
        "outlet_count": story.outlet_count,
        "first_article_id": story.first_article_id,
        "score": round(score, 6) if score is not None else None,
        "links": StoryLinks(
            self=str(request.url_for("api_story", story_id=story.id)),
            html=str(request.url_for("story_page", story_id=story.id)),
        ),
    }


def story_detail_from(
    story: StoredStory,
    members: list[StoryArticle],
    related: list[StoredStory],
    request: Request,
    view: StoryView,
) -> StoryDetail:
    """A story with its members; ``members`` in time order (``Store.story_articles``)."""
    out = [_member_from(member, request) for member in members]
    by_id = {member.article_id: member for member in members}
    return StoryDetail.model_validate(
        {
            **_story_fields(story, request, None),
            "first_report": next((m for m in out if m.article_id == story.first_article_id), None),
            "members": out,
            "outlets": [
                OutletCoverage(outlet=outlet, article_ids=ids)
                for outlet, ids in coverage_by_outlet(members).items()
            ],
            "timeline": [
                TimelineBucket(hour=hour, articles=sum(outlets.values()), by_outlet=outlets)
                for hour, outlets in hourly_by_outlet(members)
            ],
            "duplicates": [
                DuplicateOut(
                    article_id=member.article_id,
                    original_id=member.duplicate_of,
                    outlet=member.outlet,
                    kind=member.duplicate_kind,
                    similarity=member.similarity,
                )
                for member in members
                if member.duplicate_of is not None and member.duplicate_of in by_id
            ],
            "related": [story_summary_from(other, request) for other in related],
            **_story_insights_fields(view),
        }
    )


def _story_insights_fields(view: StoryView) -> dict[str, Any]:
    insights = view.insights
    return {
        "summary": [SummarySentence(text=s.text, url=s.url) for s in insights.summary],
        "figures": [
            FigureCheckOut(
                what=check.what,
                unit=check.unit,
                value=check.value,
                agreeing_outlets=list(check.agreeing),
                variants=[
                    FigureVariantOut(
                        value=v.value,
                        text=v.text,
                        kind=v.kind,
                        outlets=list(v.outlets),
                        article_ids=list(v.article_ids),
                        sentence=v.sentence,
                    )  # fmt: skip
                    for v in check.variants
                ],
            )
            for check in insights.figures
        ],
        "quotes": [
            StoryQuoteOut(
                text=c.item.text,
                speaker=c.item.speaker,
                outlets=list(c.outlets),
                article_id=c.article_id,
            )  # fmt: skip
            for c in insights.quotes
            if isinstance(c.item, Quote)
        ],
        "dates": [
            StoryDateOut(
                date=c.item.resolved,
                granularity=c.item.granularity,
                what=c.item.what,
                outlets=list(c.outlets),
                article_id=c.article_id,
            )  # fmt: skip
            for c in insights.timeline
            if isinstance(c.item, DateMention)
        ],
        "entities": [
            StoryEntityOut(id=e.id, name=e.name, kind=e.kind.value, articles=n)
            for e, n in view.entities
        ],
    }


def _member_from(member: StoryArticle, request: Request) -> StoryMemberOut:
    return StoryMemberOut(
        article_id=member.article_id,
        title=member.title,
        url=member.url,
        outlet=member.outlet,
        source_id=member.source_id,
        published=member.published,
        first_seen=member.first_seen,
        sections=list(member.sections),
        score=member.score,
        started=member.started,
        evidence=member.evidence,
        duplicate_of=member.duplicate_of,
        rewrite_of=member.rewrite_of,
        links=ArticleLinks(
            self=str(request.url_for("api_article", article_id=member.article_id)),
            html=str(request.url_for("article_page", article_id=member.article_id)),
        ),
    )


def coverage_by_outlet(members: list[StoryArticle]) -> dict[str, list[int]]:
    """Article ids per outlet, outlets in the order they first reported (members in time order)."""
    grouped: dict[str, list[int]] = {}
    for member in members:
        grouped.setdefault(member.outlet, []).append(member.article_id)
    return grouped


def hourly_timeline(members: list[StoryArticle]) -> list[tuple[datetime, int]]:
    """Articles per hour from the first report's hour to the newest's, empty hours included."""
    return [(hour, sum(outlets.values())) for hour, outlets in hourly_by_outlet(members)]


def hourly_by_outlet(members: list[StoryArticle]) -> list[tuple[datetime, dict[str, int]]]:
    """Articles per hour and outlet (outlets in the order they first reported), every hour
    from the first report's to the newest's (at most two weeks)."""
    if not members:
        return []
    hours: dict[datetime, Counter[str]] = {}
    for member in sorted(members, key=lambda m: (m.published, m.article_id)):
        hour = member.published.replace(minute=0, second=0, microsecond=0)
        hours.setdefault(hour, Counter())[member.outlet] += 1
    first, last = min(hours), max(hours)
    span = min(int((last - first).total_seconds() // 3600), MAX_TIMELINE_HOURS - 1)
    buckets = [first + timedelta(hours=n) for n in range(span + 1)]
    return [(hour, dict(hours.get(hour, Counter()))) for hour in buckets]


# Revisions


class Change(BaseModel):
    before: str
    after: str


class RevisionDiffOut(BaseModel):
    """What changed from the previous revision."""

    title: Change | None = Field(description="The headline, when it changed")
    added: list[str] = Field(description="Paragraphs only in this revision")
    removed: list[str] = Field(description="Paragraphs only in the previous one")
    changed: list[Change] = Field(description="Paragraphs rewritten in place")
    figures: list[Change] = Field(description="Numbers changed inside rewritten paragraphs")
    corrections: list[str] = Field(description="New paragraphs announcing a correction or update")


class RevisionOut(BaseModel):
    revision: int
    title: str
    text: str
    fetched_at: datetime
    content_hash: str
    diff: RevisionDiffOut | None = Field(description="Changes from the previous revision")


class RevisionList(BaseModel):
    article_id: int
    revisions: list[RevisionOut] = Field(description="Oldest first")


def revisions_from(article_id: int, revisions: list[Revision]) -> RevisionList:
    diffs = successive_diffs([(r.title, r.text) for r in revisions])
    return RevisionList(
        article_id=article_id,
        revisions=[
            RevisionOut(
                revision=r.revision,
                title=r.title,
                text=r.text,
                fetched_at=r.fetched_at,
                content_hash=r.content_hash,
                diff=_diff_out(diff) if diff is not None else None,
            )
            for r, diff in zip(revisions, diffs, strict=True)
        ],
    )


def _diff_out(diff: RevisionDiff) -> RevisionDiffOut:
    return RevisionDiffOut(
        title=Change(before=diff.title[0], after=diff.title[1]) if diff.title else None,
        added=list(diff.added),
        removed=list(diff.removed),
        changed=[Change(before=a, after=b) for a, b in diff.changed],
        figures=[Change(before=a, after=b) for a, b in diff.figures],
        corrections=list(diff.corrections),
    )


class SearchHitOut(BaseModel):
    """An article found by a search, with its highlighted title and snippet."""

    article: ArticleSummary
    score: float | None = Field(
        description="bm25 relevance, lower is more relevant; null when ordered by recency"
    )
    title_html: str = Field(
        description="The title as HTML: escaped text in which only <mark> elements appear"
    )
    snippet_html: str = Field(
        description="Words around the matches as HTML: escaped text, matches in <mark>, "
        "cuts marked with …; no other element ever appears"
    )


class SearchResults(BaseModel):
    query: str
    order: SearchOrder
    hits: list[SearchHitOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


def search_hit_from(hit: SearchHit, request: Request) -> SearchHitOut:
    """A search hit as an API item."""
    return SearchHitOut(
        article=summary_from(hit.article, request),
        score=hit.score,
        title_html=hit.title_html,
        snippet_html=hit.snippet_html,
    )
