"""A source's record: ``GET /api/v1/sources/{id}/stats`` and the page ``/source/{id}``.

What its articles did in stories — how often it reported first, how often it
rewrote another outlet, how often its figures agree with the other outlets'
consensus — and its fetch health. Every rate is given with its denominator,
and none is given without data. The counts are aggregate queries over the
source's own articles; the figure comparison reads its latest
``FIGURE_STORIES`` shared stories and is kept ``FIGURE_TTL`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from primenews.config import Settings
from primenews.domain import FetchOutcome, Source
from primenews.errors import StoreError
from primenews.insights.corroborate import Agreement, FigureReport, agreement_of, corroborate
from primenews.store import Store
from primenews.store.source_stats import SourceRecord
from primenews.web.deps import IdPath, StoreDep, TemplatesDep
from primenews.web.errors import ERROR_RESPONSES
from primenews.web.schemas import (
    ArticleSummary,
    FetchOut,
    SourceOut,
    StorySummary,
    source_from,
    story_summary_from,
    summary_from,
)
from primenews.worker.websub import push_status

api_router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
page_router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
RECENT_STORIES = 10
RECENT_FETCHES = 20
FIGURE_STORIES = 50  # latest shared stories whose figures are compared
FIGURE_TTL = 300.0  # seconds a source's figure comparison is kept


@dataclass(frozen=True, slots=True)
class FigureRecord:
    agreement: Agreement
    stories_read: int  # shared stories whose figures were read (at most FIGURE_STORIES)


@dataclass(frozen=True, slots=True)
class Overview:
    source: Source
    record: SourceRecord
    figures: FigureRecord
    fetches: list[FetchOutcome]

    @property
    def failed_fetches(self) -> int:
        return sum(not f.ok for f in self.fetches)


class _FigureCache:
    """source id -> its figure record, each kept ``FIGURE_TTL`` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[int, tuple[float, FigureRecord]] = {}

    def get(self, store: Store, source_id: int) -> FigureRecord:
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(source_id)
        if found is not None and now - found[0] <= FIGURE_TTL:
            return found[1]
        record = figure_record(store, source_id)
        with self._lock:
            if len(self._kept) > 1000:  # bounded: drop all rather than grow
                self._kept.clear()
            self._kept[source_id] = (now, record)
        return record


def figure_record(store: Store, source_id: int) -> FigureRecord:
    """How the source's figures compare with the consensus of its latest shared stories."""
    shared = store.source_stories(source_id, FIGURE_STORIES, shared_only=True)
    members = store.shared_story_members([story.id for story in shared])
    insights = store.insights_of_articles([m.article_id for m in members])
    by_story = defaultdict(list)
    for member in members:
        by_story[member.story_id].append(member)
    total = Agreement()
    for group in by_story.values():
        reports = [
            FigureReport(m.article_id, m.outlet, figure)
            for m in group
            if m.article_id in insights
            for figure in insights[m.article_id].figures
        ]
        mine = [m.article_id for m in group if m.source_id == source_id]
        total = total.add(agreement_of(corroborate(reports), mine))
    return FigureRecord(total, len(shared))


def overview(request: Request, store: Store, source_id: int) -> Overview:
    # Ids beyond a 64-bit integer are no source, not a database error.
    source = store.get_source(source_id) if source_id < 2**63 else None
    if source is None:
        raise HTTPException(404, f"No source with id {source_id}")
    cache = getattr(request.app.state, "source_figures", None)
    if cache is None:
        cache = request.app.state.source_figures = _FigureCache()
    return Overview(
        source=source,
        record=store.source_record(source_id),
        figures=cast(_FigureCache, cache).get(store, source_id),
        fetches=store.recent_fetches(source_id, RECENT_FETCHES),
    )


# API


class Rate(BaseModel):
    """A count out of a total; ``rate`` is null when there is nothing to count."""

    count: int
    total: int
    rate: float | None = Field(description="count / total, null when total is 0")


def rate(count: int, total: int) -> Rate:
    return Rate(count=count, total=total, rate=round(count / total, 4) if total else None)


class FigureAgreementOut(BaseModel):
    stories_read: int = Field(description=f"Its latest shared stories read (at most "
                                          f"{FIGURE_STORIES})")  # fmt: skip
    stories_with_figures: int = Field(description="Of them, those where it gave a compared figure")
    agrees: Rate = Field(description="Its compared figures that agree with the consensus")
    approximate: Rate = Field(description="Hedged figures near the consensus")
    differs: Rate = Field(description="Figures that conflict with the consensus")


class FetchHealth(BaseModel):
    recent_fetches: list[FetchOut] = Field(description="The latest fetch attempts, newest first")
    recent_failures: Rate = Field(description="Failed attempts among the latest fetches")


class SourceStats(BaseModel):
    """A source's record in stories, with honest denominators, and its fetch health."""

    source: SourceOut
    stories: int = Field(description="Live stories it has an article in")
    first_reports: Rate = Field(description="Stories shared with other outlets it reported first")
    rewrites: Rate = Field(description="Its original articles in stories that retell another "
                                       "outlet's earlier article")  # fmt: skip
    copies: Rate = Field(description="Its articles in stories that copy another (syndication)")
    retold: int = Field(description="Its articles another outlet rewrote")
    figures: FigureAgreementOut
    health: FetchHealth
    feed_url: str = Field(description="Atom feed of its articles")
    recent_stories: list[StorySummary]


@api_router.get("/sources/{source_id}/stats", name="api_source_stats", tags=["sources"])
def source_stats(request: Request, store: StoreDep, source_id: IdPath) -> SourceStats:
    """How a source's reporting compares: first reports, rewrites, figure agreement, health."""
    view = overview(request, store, source_id)
    record, agreement = view.record, view.figures.agreement
    return SourceStats(
        source=source_from(view.source, record.articles),
        stories=record.stories,
        first_reports=rate(record.first_reports, record.shared_stories),
        rewrites=rate(record.rewrites, record.originals),
        copies=rate(record.copies, record.in_stories),
        retold=record.retold,
        figures=FigureAgreementOut(
            stories_read=view.figures.stories_read,
            stories_with_figures=agreement.stories,
            agrees=rate(agreement.agrees, agreement.figures),
            approximate=rate(agreement.approximate, agreement.figures),
            differs=rate(agreement.differs, agreement.figures),
        ),
        health=FetchHealth(
            recent_fetches=[FetchOut.model_validate(f, from_attributes=True) for f in view.fetches],
            recent_failures=rate(view.failed_fetches, len(view.fetches)),
        ),
        feed_url=str(request.url_for("feed_source", source_id=source_id, fmt="atom")),
        recent_stories=[
            story_summary_from(story, request)
            for story in store.source_stories(source_id, RECENT_STORIES)
        ],
    )


class SourceArticles(BaseModel):
    articles: list[ArticleSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


@api_router.get("/sources/{source_id}/articles", name="api_source_articles", tags=["sources"])
def source_articles(
    request: Request,
    store: StoreDep,
    source_id: IdPath,
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SourceArticles:
    """The source's articles, newest first, a page at a time."""
    if store.get_source(source_id) is None:
        raise HTTPException(404, f"No source with id {source_id}")
    page, next_cursor = _articles_page(store, source_id, limit, cursor)
    return SourceArticles(
        articles=[summary_from(stored, request) for stored in page], next_cursor=next_cursor
    )


def _articles_page(store: Store, source_id: int, limit: int, cursor: str | None) -> Any:
    try:
        return store.list_articles(source_id=source_id, limit=limit, cursor=cursor)
    except StoreError as err:
        raise HTTPException(400, "Invalid cursor: use the next_cursor of a page") from err


# Page


@page_router.get("/source/{source_id:int}", name="source_page")
def source_page(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    source_id: int,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A source's page: its record in stories, its figures, its fetch health, its articles."""
    view = overview(request, store, source_id)
    settings = cast(Settings, request.app.state.settings)
    subscription = next((s for s in store.list_subscriptions() if s.source_id == source_id), None)
    articles, next_cursor = _articles_page(store, source_id, PAGE_SIZE, cursor)
    context: dict[str, Any] = {
        "nav": "sources",
        "view": view,
        "source": view.source,
        "record": view.record,
        "agreement": view.figures.agreement,
        "stories_read": view.figures.stories_read,
        "figure_stories": FIGURE_STORIES,
        "push": push_status(subscription, settings.public_url, datetime.now(UTC)),
        "stories": store.source_stories(source_id, RECENT_STORIES),
        "articles": articles,
        "older_url": f"/source/{source_id}?{urlencode({'cursor': next_cursor})}"
        if next_cursor
        else "",
        "newest_url": f"/source/{source_id}" if cursor else "",
        "feed_url": request.url_for("feed_source", source_id=source_id, fmt="atom"),
    }
    return templates.TemplateResponse(request, "source.html", context)
