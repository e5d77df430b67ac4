"""Server-rendered pages: the latest articles, sections, one article, the sources' health.

Each handler reads from the store and hands plain objects to a template;
sanitising and formatting live in ``sanitize`` and ``templating``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from markupsafe import Markup

from primenews.domain import StoredArticle
from primenews.web.auth import OptionalSessionDep
from primenews.web.deps import SECTIONS, CursorDep, StoreDep, TemplatesDep
from primenews.web.sanitize import sanitize_html, text_paragraphs

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
FRONT_SECTIONS = SECTIONS[:4]  # world, politics, business, technology get a block up front
BLOCK_SIZE = 5


@router.get("/", name="front_page")
def front_page(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    cursor: CursorDep,
    source: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The newest articles, ``PAGE_SIZE`` at a time, optionally of one source."""
    source_obj = store.get_source(source) if source is not None else None
    if source is not None and source_obj is None:
        raise HTTPException(404, f"No source with id {source}")
    articles, next_cursor = store.list_articles(source_id=source, limit=PAGE_SIZE, cursor=cursor)
    blocks = []
    if source is None and cursor is None:
        for name in FRONT_SECTIONS:
            top, _ = store.list_articles(section=name, limit=BLOCK_SIZE)
            if top:
                blocks.append({"name": name, "articles": top})
    context: dict[str, Any] = {
        "nav": "front",
        "articles": articles,
        "source": source_obj,
        "blocks": blocks,
        "older_url": _page_url("/", next_cursor, source) if next_cursor else "",
        "newest_url": _page_url("/", None, source) if cursor else "",
    }
    return templates.TemplateResponse(request, "front.html", context)


def _page_url(path: str, cursor: str | None, source: int | None) -> str:
    params = {"source": source, "cursor": cursor}
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{path}?{query}" if query else path


@router.get("/article/{article_id:int}", name="article_page")
def article_page(
    request: Request, store: StoreDep, templates: TemplatesDep, article_id: int
) -> Response:
    """One article: metadata, its clean body and a link to the original."""
    stored = store.get_article(article_id)
    if stored is None:
        raise HTTPException(404, "There is no article with this address.")
    return templates.TemplateResponse(request, "article.html", article_context(stored))


def article_context(stored: StoredArticle) -> dict[str, Any]:
    """What article.html shows: the body as sanitised HTML, or else as text paragraphs."""
    article = stored.article
    body_html = sanitize_html(article.html, base_url=article.url) if article.html else ""
    return {
        "stored": stored,
        "article": article,
        "body_html": Markup(body_html) if body_html.strip() else None,
        "paragraphs": [] if body_html.strip() else text_paragraphs(article.text),
    }


@router.get("/sources", name="sources_page")
def sources_page(
    request: Request, store: StoreDep, templates: TemplatesDep, session: OptionalSessionDep
) -> Response:
    """A health table of every source; a logged-in admin also gets add and remove forms."""
    context = {
        "nav": "sources",
        "admin": session,
        "sources": store.list_sources(),
        "counts": store.article_counts_by_source(),
    }
    return templates.TemplateResponse(request, "sources.html", context)


@router.get("/{section}", name="section_page")
def section_page(
    request: Request, store: StoreDep, templates: TemplatesDep, cursor: CursorDep, section: str
) -> Response:
    """The newest articles of one section (world, politics, business, technology, …)."""
    if section not in SECTIONS:
        raise HTTPException(404, "There is nothing at this address.")
    articles, next_cursor = store.list_articles(section=section, limit=PAGE_SIZE, cursor=cursor)
    context: dict[str, Any] = {
        "nav": section,
        "articles": articles,
        "section": section,
        "blocks": [],
        "older_url": _page_url(f"/{section}", next_cursor, None) if next_cursor else "",
        "newest_url": f"/{section}" if cursor else "",
    }
    return templates.TemplateResponse(request, "front.html", context)
