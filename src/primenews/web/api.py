"""The JSON API, version 1: stories, articles, search, sources, health.

Handlers are plain ``def``: the store is synchronous, so FastAPI runs them
in its thread pool and the event loop never waits on the database. The one
exception, ``add_source``, says why.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from primenews.domain import Source, SourceKind
from primenews.errors import StoreError
from primenews.store import SearchNotSupportedError, SearchOrder, SearchQuery
from primenews.web.auth import WRITE_RESPONSES, ApiWriterDep
from primenews.web.deps import (
    CursorDep,
    IdPath,
    RankingsDep,
    SectionDep,
    SinceDep,
    SourceHook,
    SourceHookDep,
    StoreDep,
    to_surviving_story,
)
from primenews.web.errors import ERROR_RESPONSES
from primenews.web.schemas import (
    ArticleDetail,
    ArticlePage,
    Health,
    NewSource,
    RevisionList,
    SearchResults,
    SourceDetail,
    SourceList,
    SourceOut,
    StoryDetail,
    StoryPage,
    detail_from,
    revisions_from,
    search_hit_from,
    source_detail_from,
    source_from,
    story_detail_from,
    story_summary_from,
    summary_from,
)
from primenews.web.story_view import story_view

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


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
    """One article with its text, sanitised HTML and insights."""
    stored = store.get_article(article_id)
    if stored is None:
        raise HTTPException(404, f"No article with id {article_id}")
    return detail_from(stored, request, store.get_article_insights(article_id))


@router.get("/articles/{article_id}/revisions", name="api_revisions", tags=["articles"])
def get_revisions(store: StoreDep, article_id: IdPath) -> RevisionList:
    """Every version of an article seen so far, each with what changed from the one before."""
    if store.get_article(article_id) is None:
        raise HTTPException(404, f"No article with id {article_id}")
    return revisions_from(article_id, store.list_revisions(article_id))


@router.get("/stories", name="api_stories", tags=["stories"])
def list_stories(
    request: Request,
    store: StoreDep,
    rankings: RankingsDep,
    since: SinceDep,
    cursor: CursorDep,
    section: SectionDep,
    order: Annotated[
        Literal["recent", "rank"],
        Query(
            description="recent: newest article first, paged with `cursor`; rank: the front "
            "page's order (recency × outlets × velocity) over the last 48 hours, one page"
        ),
    ] = "recent",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> StoryPage:
    """Stories (events with every outlet's coverage), a page at a time."""
    if order == "rank":
        if cursor:
            raise HTTPException(400, "order=rank returns one page: leave out cursor")
        top = rankings.top(datetime.now(UTC), section, limit)
        ranked = [t for t in top if since is None or t.story.last_seen >= since]
        return StoryPage(
            stories=[
                story_summary_from(t.story, request, t.rank.score if t.rank else None)
                for t in ranked
            ],
            next_cursor=None,
        )
    page, next_cursor = store.list_stories(section=section, since=since, limit=limit, cursor=cursor)
    return StoryPage(
        stories=[story_summary_from(story, request) for story in page], next_cursor=next_cursor
    )


@router.get("/stories/{story_id}", name="api_story", tags=["stories"], response_model=StoryDetail)
def get_story(request: Request, store: StoreDep, story_id: IdPath) -> Response | StoryDetail:
    """One story: every member with outlet and time, first report, duplicates, timeline."""
    story = store.get_story(story_id)
    if story is None:
        raise HTTPException(404, f"No story with id {story_id}")
    if story.merged_into is not None:
        gone = f"Story {story_id} was merged into one that is gone"
        return to_surviving_story(request, store, story_id, "api_story", gone)
    members = store.story_articles(story_id)
    view = story_view(store, members)
    return story_detail_from(story, members, store.related_stories(story), request, view)


@router.get(
    "/search",
    name="api_search",
    tags=["search"],
    responses={501: {"description": "This store's database has no search yet"}},
)
def search(
    request: Request,
    store: StoreDep,
    since: SinceDep,
    section: SectionDep,
    q: Annotated[str, Query(description='Words (all must match), "a phrase", -word, pre*')] = "",
    source: Annotated[int | None, Query(ge=1, description="Only this source's articles")] = None,
    until: Annotated[
        datetime | None,
        Query(description="Only articles before this ISO 8601 time (UTC if no offset)"),
    ] = None,
    order: SearchOrder = SearchOrder.RELEVANCE,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
) -> SearchResults:
    """Articles matching the words, most relevant (or newest) first, with highlighted snippets.

    Any text is a valid query: operators and punctuation are read as the words they contain.
    """
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    wanted = SearchQuery(
        text=q, section=section, source_id=source, since=since, until=until,
        order=order, limit=limit, cursor=cursor,
    )  # fmt: skip
    try:
        page = store.search(wanted)
    except SearchNotSupportedError as err:
        raise HTTPException(501, str(err)) from err
    except StoreError as err:
        raise HTTPException(
            400, "Invalid cursor: use the next_cursor of a page of this search"
        ) from err
    return SearchResults(
        query=q,
        order=order,
        hits=[search_hit_from(hit, request) for hit in page.hits],
        next_cursor=page.next_cursor,
    )


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
