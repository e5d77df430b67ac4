"""Server-rendered pages: top stories and latest articles, sections, a story, an article, sources.

Each handler reads from the store and hands plain objects to a template;
sanitising and formatting live in ``sanitize`` and ``templating``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from primenews.config import Settings
from primenews.domain import StoredArticle
from primenews.revisions import successive_diffs
from primenews.store import Store
from primenews.store.insights import ArticleInsights
from primenews.store.stories import StoryArticle
from primenews.web.auth import OptionalSessionDep
from primenews.web.charts import agreement_svg, outlet_colours, timeline_svg
from primenews.web.deps import (
    SECTIONS,
    CursorDep,
    IdPath,
    RankingsDep,
    StoreDep,
    TemplatesDep,
    to_surviving_story,
)
from primenews.web.pagecache import PageCache
from primenews.web.ranking import Rankings
from primenews.web.sanitize import sanitize_html, text_paragraphs
from primenews.web.schemas import hourly_by_outlet
from primenews.web.story_view import story_view
from primenews.web.worldmap import world_map_svg
from primenews.worker.websub import push_status

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
FRONT_SECTIONS = SECTIONS[:4]  # world, politics, business, technology get a block up front
BLOCK_SIZE = 5
TOP_STORIES = 12
WORLD_MAP_SPAN = timedelta(hours=24)


@router.get("/", name="front_page")
def front_page(
    request: Request,
    store: StoreDep,
    rankings: RankingsDep,
    templates: TemplatesDep,
    cursor: CursorDep,
    source: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Top stories, a block per main section, then the newest articles (copies left out)."""
    return cached_page(
        request, lambda: _front_page(request, store, rankings, templates, cursor, source)
    )


def _front_page(
    request: Request,
    store: Store,
    rankings: Rankings,
    templates: Jinja2Templates,
    cursor: str | None,
    source: int | None,
) -> Response:
    source_obj = store.get_source(source) if source is not None else None
    if source is not None and source_obj is None:
        raise HTTPException(404, f"No source with id {source}")
    articles, next_cursor = store.list_articles(
        source_id=source, limit=PAGE_SIZE, cursor=cursor, originals_only=source is None
    )
    top, blocks = [], []
    if source is None and cursor is None:
        now = datetime.now(UTC)
        top = rankings.top_or_latest(now, limit=TOP_STORIES)
        shown = {item.story.id for item in top}
        for name in FRONT_SECTIONS:
            block = _section_block(rankings, store, now, name, shown)
            if block["stories"] or block["articles"]:
                blocks.append(block)
    world = Markup("")
    if source is None and cursor is None and top:
        counts = store.stories_by_country(datetime.now(UTC) - WORLD_MAP_SPAN)
        world = world_map_svg(counts, "Stories of the last 24 hours by country")
    context: dict[str, Any] = {
        "nav": "front",
        "waiting": _why_empty(store) if source is None and not articles else None,
        "world_map": world,
        "articles": articles,
        "source": source_obj,
        "top": top,
        "blocks": blocks,
        "older_url": _page_url("/", next_cursor, source) if next_cursor else "",
        "newest_url": _page_url("/", None, source) if cursor else "",
    }
    return templates.TemplateResponse(request, "front.html", context)


def _why_empty(store: Store) -> dict[str, int]:
    """Why an empty front page is empty: how many sources, how many not polled yet, failing."""
    sources = store.list_sources()
    return {
        "sources": len(sources),
        "unpolled": sum(s.last_fetched is None for s in sources),
        "failing": sum(s.last_error is not None for s in sources),
    }


def _section_block(
    rankings: Rankings, store: Store, now: datetime, name: str, shown: set[int]
) -> dict[str, Any]:
    """A section's best stories not already in the top list; its newest articles if none."""
    stories = [
        t for t in rankings.top_or_latest(now, name, BLOCK_SIZE * 3) if t.story.id not in shown
    ]
    articles: list[StoredArticle] = []
    if not stories:
        articles, _ = store.list_articles(section=name, limit=BLOCK_SIZE, originals_only=True)
    return {"name": name, "stories": stories[:BLOCK_SIZE], "articles": articles}


def _page_url(path: str, cursor: str | None, source: int | None) -> str:
    params = {"source": source, "cursor": cursor}
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{path}?{query}" if query else path


@router.get("/article/{article_id:int}", name="article_page")
def article_page(
    request: Request, store: StoreDep, templates: TemplatesDep, article_id: IdPath
) -> Response:
    """One article: metadata, its clean body and a link to the original."""
    stored = store.get_article(article_id)
    if stored is None:
        raise HTTPException(404, "There is no article with this address.")
    context = article_context(stored, store.get_article_insights(article_id))
    if stored.revision > 1:
        revisions = store.list_revisions(article_id)
        diffs = successive_diffs([(r.title, r.text) for r in revisions])
        context["history"] = list(zip(revisions, diffs, strict=True))[1:][::-1]  # newest first
    return templates.TemplateResponse(request, "article.html", context)


def article_context(
    stored: StoredArticle, insights: ArticleInsights | None = None
) -> dict[str, Any]:
    """What article.html shows: the body as sanitised HTML, or else as text paragraphs.

    With its insights: entities, figures, quotes with their speakers' entities,
    the timeline and the summary (an enrichment error shows nothing of them).
    """
    article = stored.article
    body_html = sanitize_html(article.html, base_url=article.url) if article.html else ""
    shown = insights if insights is not None and insights.error is None else None
    return {
        "stored": stored,
        "article": article,
        "body_html": Markup(body_html) if body_html.strip() else None,
        "paragraphs": [] if body_html.strip() else text_paragraphs(article.text),
        "insights": shown,
        "speaker_ids": {q.speaker_key: shown.entity_id(q.speaker_key) for q in shown.quotes}
        if shown
        else {},
    }


@router.get("/sources", name="sources_page")
def sources_page(
    request: Request, store: StoreDep, templates: TemplatesDep, session: OptionalSessionDep
) -> Response:
    """A health table of every source (fetches, articles, push state); a logged-in admin
    also gets add and remove forms."""
    settings = cast(Settings, request.app.state.settings)
    now = datetime.now(UTC)
    subscriptions = {sub.source_id: sub for sub in store.list_subscriptions()}
    sources = store.list_sources()
    context = {
        "nav": "sources",
        "admin": session,
        "sources": sources,
        "counts": store.article_counts_by_source(),
        "dead_letters": store.list_dead_letters(limit=50),
        "push": {
            source.id: push_status(subscriptions.get(source.id or 0), settings.public_url, now)
            for source in sources
        },
    }
    return templates.TemplateResponse(request, "sources.html", context)


@router.get("/story/{story_id:int}", name="story_page")
def story_page(
    request: Request, store: StoreDep, templates: TemplatesDep, story_id: IdPath
) -> Response:
    """One story: headline, first report, coverage by outlet, timeline, related stories."""
    story = store.get_story(story_id)
    if story is None:
        raise HTTPException(404, "There is no story with this address.")
    if story.merged_into is not None:
        gone = "This story was merged into one that is gone."
        return to_surviving_story(request, store, story_id, "story_page", gone)
    members = store.story_articles(story_id)
    view = story_view(store, members)
    by_hour = hourly_by_outlet(members)
    context = {
        "view": view,
        "figure_bars": [
            agreement_svg(
                [(v.text, len(v.outlets), v.kind) for v in check.variants],
                f"{check.what}: "
                + "; ".join(
                    f"{v.text}, {len(v.outlets)} outlet{'s' if len(v.outlets) != 1 else ''}"
                    for v in check.variants
                ),
            )
            for check in view.insights.figures
        ],
        "story": story,
        "first": next((m for m in members if m.article_id == story.first_article_id), None),
        "outlets": coverage_shown_once(members),
        "by_id": {member.article_id: member for member in members},
        "timeline": timeline_svg(by_hour),
        "legend": list(outlet_colours(by_hour).items()),
        "related": store.related_stories(story),
    }
    return templates.TemplateResponse(request, "story.html", context)


def coverage_shown_once(members: list[StoryArticle]) -> list[dict[str, Any]]:
    """Coverage grouped by outlet (first to report first), each copied text shown once.

    A copy whose original is in the story is not listed on its own: the
    original lists it as "also carried by".
    """
    ids = {m.article_id for m in members}
    also: dict[int, list[StoryArticle]] = {}
    for member in members:
        if member.duplicate_of in ids:
            also.setdefault(member.duplicate_of or 0, []).append(member)
    groups: dict[str, list[dict[str, Any]]] = {}
    for member in members:
        if member.duplicate_of in ids:
            continue
        item = {"member": member, "also": also.get(member.article_id, [])}
        groups.setdefault(member.outlet, []).append(item)
    return [{"outlet": outlet, "entries": entries} for outlet, entries in groups.items()]


@router.get("/{section}", name="section_page")
def section_page(
    request: Request,
    store: StoreDep,
    rankings: RankingsDep,
    templates: TemplatesDep,
    cursor: CursorDep,
    section: str,
) -> Response:
    """A section's top stories, ranked like the front page, then its newest articles."""
    if section not in SECTIONS:
        raise HTTPException(404, "There is nothing at this address.")
    return cached_page(
        request, lambda: _section_page(request, store, rankings, templates, cursor, section)
    )


def _section_page(
    request: Request,
    store: Store,
    rankings: Rankings,
    templates: Jinja2Templates,
    cursor: str | None,
    section: str,
) -> Response:
    articles, next_cursor = store.list_articles(
        section=section, limit=PAGE_SIZE, cursor=cursor, originals_only=True
    )
    top = rankings.top_or_latest(datetime.now(UTC), section, TOP_STORIES) if cursor is None else []
    context: dict[str, Any] = {
        "nav": section,
        "articles": articles,
        "section": section,
        "top": top,
        "blocks": [],
        "older_url": _page_url(f"/{section}", next_cursor, None) if next_cursor else "",
        "newest_url": f"/{section}" if cursor else "",
    }
    return templates.TemplateResponse(request, "front.html", context)


def cached_page(request: Request, render: Callable[[], Response]) -> Response:
    """The page from the app's page cache, else rendered now and kept (see ``pagecache``)."""
    cache: PageCache = request.app.state.page_cache
    key = f"{request.url.path}?{request.url.query}"
    body = cache.get(key)
    if body is not None:
        return HTMLResponse(body)
    response = render()
    if response.status_code == 200:
        cache.put(key, bytes(response.body))
    return response
