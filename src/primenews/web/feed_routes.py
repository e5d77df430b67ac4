"""Feed routes: every list page also as Atom, RSS 2.0 and JSON Feed, with conditional GET.

The scheme, one address per list and format (``{fmt}`` is ``atom``, ``rss`` or ``json``)::

    /feeds/latest.{fmt}                 the front page's latest articles
    /feeds/stories.{fmt}                the front page's top stories (one item a story)
    /feeds/story/{id}.{fmt}             one story's coverage, article by article
    /feeds/section/{name}.{fmt}         a section page (world, politics, …)
    /feeds/source/{id}.{fmt}            one source's articles
    /feeds/entity/{id}.{fmt}            the newest articles naming one person, organisation, place
    /feeds/search.{fmt}?q=…             a saved search, newest first (section=, source= too)

Each answer carries a strong ``ETag`` (a hash of the bytes) and
``Last-Modified`` (the newest item's update); ``If-None-Match`` or, without
it, ``If-Modified-Since`` get a 304. ``feed_links`` tells a page's template
which feeds to announce with ``<link rel="alternate">``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response

from primenews.domain import StoredArticle, StoredStory
from primenews.store import SearchNotSupportedError, SearchOrder, SearchQuery
from primenews.web.deps import SECTIONS, IdPath, RankingsDep, StoreDep
from primenews.web.feeds import (
    FeedFormat,
    FeedItem,
    FeedMeta,
    etag_of,
    feed_updated,
    http_date,
    write_feed,
)
from primenews.web.sanitize import is_web_url, sanitize_html, snippet

router = APIRouter(include_in_schema=False)

FEED_SIZE = 50
SITE = "Prime News"
# Readers may reuse a feed for five minutes: fresh enough for news, and a 304 is cheap anyway.
FEED_MAX_AGE_SECONDS = 300


@router.get("/feeds/latest.{fmt}", name="feed_latest")
def latest_feed(request: Request, store: StoreDep, fmt: str) -> Response:
    """The latest articles, as on the front page."""
    articles, _ = store.list_articles(limit=FEED_SIZE)
    meta = _meta(request, f"{SITE}: latest news", str(request.url_for("front_page")))
    return feed_response(request, meta, _items(request, articles), _format(fmt))


@router.get("/feeds/stories.{fmt}", name="feed_stories")
def stories_feed(request: Request, rankings: RankingsDep, fmt: str) -> Response:
    """The top stories, as on the front page; an item is updated when its story grows."""
    top = rankings.top(datetime.now(UTC), limit=FEED_SIZE)
    meta = _meta(request, f"{SITE}: top stories", str(request.url_for("front_page")))
    items = [story_item_from(item.story, request) for item in top]
    return feed_response(request, meta, items, _format(fmt))


@router.get("/feeds/story/{story_id}.{fmt}", name="feed_story")
def story_feed(request: Request, store: StoreDep, story_id: IdPath, fmt: str) -> Response:
    """Every article of one story, newest first: follow an event as it develops."""
    story = store.get_story(story_id)
    if story is None or story.merged_into is not None:
        raise HTTPException(404, f"There is no story {story_id}.")
    members = store.story_articles(story_id)
    ids = [m.article_id for m in reversed(members) if m.duplicate_of is None][:FEED_SIZE]
    articles = [a for a in map(store.get_article, ids) if a is not None]
    page = str(request.url_for("story_page", story_id=story_id))
    meta = _meta(request, f"{SITE}: {story.headline}", page)
    return feed_response(request, meta, _items(request, articles), _format(fmt))


@router.get("/feeds/section/{name}.{fmt}", name="feed_section")
def section_feed(request: Request, store: StoreDep, name: str, fmt: str) -> Response:
    """The latest articles of one section."""
    if name not in SECTIONS:
        raise HTTPException(404, f"There is no section {name!r}: one of {', '.join(SECTIONS)}.")
    articles, _ = store.list_articles(section=name, limit=FEED_SIZE)
    page = str(request.url_for("section_page", section=name))
    meta = _meta(request, f"{SITE}: {name.capitalize()}", page)
    return feed_response(request, meta, _items(request, articles), _format(fmt))


@router.get("/feeds/source/{source_id}.{fmt}", name="feed_source")
def source_feed(request: Request, store: StoreDep, source_id: IdPath, fmt: str) -> Response:
    """The latest articles one source brought."""
    source = store.get_source(source_id)
    if source is None:
        raise HTTPException(404, f"There is no source {source_id}.")
    articles, _ = store.list_articles(source_id=source_id, limit=FEED_SIZE)
    page = f"{request.url_for('front_page')}?source={source_id}"
    meta = _meta(request, f"{SITE}: {source.title or source.url}", page)
    return feed_response(request, meta, _items(request, articles), _format(fmt))


@router.get("/feeds/entity/{entity_id}.{fmt}", name="feed_entity")
def entity_feed(request: Request, store: StoreDep, entity_id: IdPath, fmt: str) -> Response:
    """The newest articles that name one entity: follow a person, organisation or place."""
    feed_format = _format(fmt)
    entity = store.get_entity(entity_id)
    if entity is None:
        raise HTTPException(404, f"There is no entity {entity_id}.")
    articles = store.entity_articles(entity_id, FEED_SIZE)
    page = str(request.url_for("entity_page", entity_id=entity_id))
    meta = _meta(request, f"{SITE}: {entity.name}", page)
    return feed_response(request, meta, _items(request, articles), feed_format)


@router.get("/feeds/search.{fmt}", name="feed_search")
def search_feed(
    request: Request,
    store: StoreDep,
    fmt: str,
    q: Annotated[str, Query(max_length=2000)] = "",
    section: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The newest articles matching a search: a saved search to follow in a reader."""
    feed_format = _format(fmt)
    if not q.strip():
        raise HTTPException(400, "A search feed needs words to search for: add ?q=…")
    if section is not None and section not in SECTIONS:
        raise HTTPException(404, f"There is no section {section!r}: one of {', '.join(SECTIONS)}.")
    wanted = SearchQuery(
        text=q, section=section, source_id=source, order=SearchOrder.RECENT, limit=FEED_SIZE
    )
    try:
        found = store.search(wanted)
    except SearchNotSupportedError as err:
        raise HTTPException(501, "Search is not available on this database yet.") from err
    params = {"q": q, "section": section, "source": source}
    query = urlencode({key: value for key, value in params.items() if value is not None})
    page = f"{request.url_for('search_page')}?{query}"
    meta = _meta(request, f"{SITE}: search for {q}", page)
    items = _items(request, [hit.article for hit in found.hits])
    return feed_response(request, meta, items, feed_format)


def feed_response(
    request: Request, meta: FeedMeta, items: Sequence[FeedItem], fmt: FeedFormat
) -> Response:
    """The feed with its validators, or 304 when the reader's copy is current."""
    body = write_feed(meta, items, fmt)
    etag = etag_of(body)
    last_modified = http_date(feed_updated(items))
    headers = {
        "ETag": etag,
        "Last-Modified": last_modified,
        "Cache-Control": f"public, max-age={FEED_MAX_AGE_SECONDS}",
    }
    if _not_modified(request, etag, feed_updated(items)):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=f"{fmt.media_type}; charset=utf-8", headers=headers)


def _not_modified(request: Request, etag: str, updated: datetime) -> bool:
    """RFC 9110 13.1: If-None-Match decides when present; else If-Modified-Since."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # a date we cannot read is ignored, as the RFC says
    if when.tzinfo is None:
        return False
    return updated.replace(microsecond=0) <= when


def _format(fmt: str) -> FeedFormat:
    try:
        return FeedFormat(fmt)
    except ValueError:
        raise HTTPException(404, "Feeds come as .atom, .rss or .json.") from None


def _meta(request: Request, title: str, page_url: str) -> FeedMeta:
    self_url = str(request.url)
    return FeedMeta(id=self_url, title=title, self_url=self_url, page_url=page_url)


def _items(request: Request, articles: Sequence[StoredArticle]) -> list[FeedItem]:
    return [feed_item_from(stored, request) for stored in articles]


def feed_item_from(stored: StoredArticle, request: Request) -> FeedItem:
    """An article as a feed item: our page is its id and link, the publisher's is related."""
    article = stored.article
    page = str(request.url_for("article_page", article_id=stored.id))
    published = article.published or stored.first_seen
    updated = max(published, article.updated or published)
    html = sanitize_html(article.html, base_url=article.url) if article.html else ""
    return FeedItem(
        id=page,
        title=article.title or article.url,
        url=page,
        published=published,
        updated=updated,
        summary=article.description or snippet(article.text, 60),
        html=html if html.strip() else "",
        external_url=article.url if is_web_url(article.url) else "",
        authors=(article.byline,) if article.byline else (),
        tags=stored.sections,
    )


def story_item_from(story: StoredStory, request: Request) -> FeedItem:
    """A story as a feed item: its page, headline and size; updated when it gains articles."""
    page = str(request.url_for("story_page", story_id=story.id))
    articles = f"{story.article_count} article{'s' if story.article_count != 1 else ''}"
    outlets = f"{story.outlet_count} outlet{'s' if story.outlet_count != 1 else ''}"
    return FeedItem(
        id=page,
        title=story.headline,
        url=page,
        published=story.first_seen,
        updated=max(story.first_seen, story.last_seen),
        summary=f"{articles} from {outlets}.",
        tags=story.sections,
    )


def feed_links(request: Request) -> list[dict[str, str]]:
    """The feeds a page announces in its head: its own list's, then the site's latest.

    A Jinja global, so every page built on base.html gets them without its handler's help.
    """
    path, params = request.url.path, request.query_params
    own: list[tuple[str, str, str]] = []  # (title, path without extension, query)
    if path == "/" and params.get("source", "").isdigit():
        own.append(("This source", f"/feeds/source/{params['source']}", ""))
    elif path.startswith("/source/") and path.removeprefix("/source/").isdigit():
        own.append(("This source", f"/feeds/source/{path.removeprefix('/source/')}", ""))
    elif path.strip("/") in SECTIONS:
        name = path.strip("/")
        own.append((name.capitalize(), f"/feeds/section/{name}", ""))
    elif path.startswith("/story/") and path.removeprefix("/story/").isdigit():
        own.append(("This story", f"/feeds/story/{path.removeprefix('/story/')}", ""))
    elif path.startswith("/entity/") and path.removeprefix("/entity/").isdigit():
        own.append(("This entity", f"/feeds/entity/{path.removeprefix('/entity/')}", ""))
    elif path == "/" and not params:
        own.append(("Top stories", "/feeds/stories", ""))
    elif path == "/search" and params.get("q", "").strip():
        query = urlencode({"q": params["q"]})
        own.append((f"Search: {params['q'][:80]}", "/feeds/search", "?" + query))
    own.append(("Latest news", "/feeds/latest", ""))
    return [
        {
            "title": f"{title} ({fmt.label})",
            "type": fmt.media_type,
            "href": f"{base}.{fmt.value}{query}",
        }
        for title, base, query in own
        for fmt in FeedFormat
    ]
