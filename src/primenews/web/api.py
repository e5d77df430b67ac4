"""The JSON API, version 1: articles, sources, health.

Handlers are plain ``def``: the store is synchronous, so FastAPI runs them
in its thread pool and the event loop never waits on the database. The one
exception, ``add_source``, says why.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from primenews.domain import Source, SourceKind
from primenews.web.auth import WRITE_RESPONSES, ApiWriterDep
from primenews.web.deps import (
    CursorDep,
    SectionDep,
    SinceDep,
    SourceHook,
    SourceHookDep,
    StoreDep,
)
from primenews.web.errors import ERROR_RESPONSES
from primenews.web.schemas import (
    ArticleDetail,
    ArticlePage,
    Health,
    NewSource,
    SourceDetail,
    SourceList,
    SourceOut,
    detail_from,
    source_detail_from,
    source_from,
    summary_from,
)

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

IdPath = Annotated[int, Path(ge=1)]


@router.get("/articles", name="api_articles", tags=["articles"])
def list_articles(
    request: Request,
    store: StoreDep,
    since: SinceDep,
    cursor: CursorDep,
    section: SectionDep,
    source: Annotated[int | None, Query(ge=1, description="Only this source's articles")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ArticlePage:
    """The newest articles first, a page at a time."""
    page, next_cursor = store.list_articles(
        source_id=source, since=since, limit=limit, cursor=cursor, section=section
    )
    return ArticlePage(
        articles=[summary_from(stored, request) for stored in page], next_cursor=next_cursor
    )


@router.get("/articles/{article_id}", name="api_article", tags=["articles"])
def get_article(request: Request, store: StoreDep, article_id: IdPath) -> ArticleDetail:
    """One article with its text and sanitised HTML."""
    stored = store.get_article(article_id)
    if stored is None:
        raise HTTPException(404, f"No article with id {article_id}")
    return detail_from(stored, request)


@router.get("/sources", name="api_sources", tags=["sources"])
def list_sources(store: StoreDep) -> SourceList:
    """Every active source with its fetch health and article count."""
    counts = store.article_counts_by_source()
    return SourceList(
        sources=[
            source_from(source, counts.get(source.id or 0, 0)) for source in store.list_sources()
        ]
    )


@router.get("/sources/{source_id}", name="api_source", tags=["sources"])
def get_source(store: StoreDep, source_id: IdPath) -> SourceDetail:
    """One source with its health and its latest fetch attempts."""
    source = store.get_source(source_id)
    if source is None:
        raise HTTPException(404, f"No source with id {source_id}")
    count = store.article_counts_by_source().get(source_id, 0)
    return source_detail_from(source, count, store.recent_fetches(source_id))


@router.post(
    "/sources",
    name="api_add_source",
    tags=["sources"],
    status_code=201,
    responses={
        200: {"model": SourceOut, "description": "The URL was already a source"},
        **WRITE_RESPONSES,
    },
)
async def add_source(
    body: NewSource,
    request: Request,
    response: Response,
    store: StoreDep,
    hook: SourceHookDep,
    _writer: ApiWriterDep,
) -> SourceOut:
    """Add a source (201), or return the existing one with the same URL (200).

    Needs an API token (``Authorization: Bearer …``).
    """
    # async, with the store in the thread pool, so the hook runs on the event loop's thread
    # and may touch asyncio objects (wake the poller) directly.
    wanted = Source(url=body.url, kind=body.kind or SourceKind.FEED)
    source, created = await run_in_threadpool(store.add_source, wanted, datetime.now(UTC))
    assert source.id is not None
    response.headers["Location"] = str(request.url_for("api_source", source_id=source.id))
    if not created:
        response.status_code = 200
        counts = await run_in_threadpool(store.article_counts_by_source)
        return source_from(source, counts.get(source.id, 0))
    if hook is not None:
        notify_source_added(hook, source)
    return source_from(source, 0)


def notify_source_added(hook: SourceHook, source: Source) -> None:
    """Call the new-source hook; its failure is logged, never answered as an error."""
    # The source is stored already; a failing hook must not turn that into an error answer.
    try:
        hook(source)
    except Exception:
        logger.exception("on_source_added failed for %s", source.url, extra={"url": source.url})


@router.get("/health", name="api_health", tags=["health"])
def health(store: StoreDep) -> Health:
    """Whether the store answers, with article and source counts."""
    return Health(ok=True, articles=store.count_articles(), sources=len(store.list_sources()))
