"""Entities: ``GET /api/v1/entities``, ``GET /api/v1/entities/{id}`` and the page ``/entity/{id}``.

Handlers are plain ``def`` (the store is synchronous; FastAPI runs them in
its thread pool), read from the store and hand plain objects on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from primenews.errors import StoreError
from primenews.insights.model import EntityKind
from primenews.store import Store
from primenews.store.insights import StoredEntity
from primenews.web.deps import IdPath, StoreDep, TemplatesDep
from primenews.web.errors import ERROR_RESPONSES
from primenews.web.insight_schemas import (
    DayMentions,
    EntityList,
    entity_from,
    related_from,
)
from primenews.web.schemas import EntityDetail, story_summary_from, summary_from
from primenews.web.sparkline import sparkline

api_router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
page_router = APIRouter(include_in_schema=False)

RECENT_ARTICLES = 20
RECENT_STORIES = 10
RELATED = 10


@api_router.get("/entities", name="api_entities", tags=["entities"])
def list_entities(
    request: Request,
    store: StoreDep,
    kind: Annotated[EntityKind | None, Query(description="Only this kind")] = None,
    q: Annotated[
        str, Query(max_length=100, description="Names with a word starting with this")
    ] = "",
    sort: Annotated[
        Literal["mentions", "recent"], Query(description="Most mentioned or most recently named")
    ] = "mentions",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
) -> EntityList:
    """People, organisations and places, most mentioned first, a page at a time."""
    try:
        page, next_cursor = store.list_entities(
            kind=kind, prefix=q, sort=sort, limit=limit, cursor=cursor
        )
    except StoreError as err:
        raise HTTPException(400, "Invalid cursor: use the next_cursor of a page") from err
    return EntityList(
        entities=[entity_from(entity, request) for entity in page], next_cursor=next_cursor
    )


@api_router.get("/entities/{entity_id}", name="api_entity", tags=["entities"])
def get_entity(request: Request, store: StoreDep, entity_id: IdPath) -> EntityDetail:
    """One entity: its spellings, mentions per day, newest articles and related entities."""
    entity = _entity_or_404(store, entity_id)
    return EntityDetail(
        **entity_from(entity, request).model_dump(),
        aliases=store.entity_aliases(entity_id),
        mentions_by_day=[
            DayMentions(day=day, mentions=count)
            for day, count in store.entity_mentions_by_day(entity_id)
        ],
        recent_articles=[
            summary_from(stored, request)
            for stored in store.entity_articles(entity_id, RECENT_ARTICLES)
        ],
        related=[related_from(r) for r in store.related_entities(entity_id, RELATED)],
        recent_stories=[
            story_summary_from(story, request)
            for story in store.entity_stories(entity_id, RECENT_STORIES)
        ],
    )


@page_router.get("/entity/{entity_id:int}", name="entity_page")
def entity_page(
    request: Request, store: StoreDep, templates: TemplatesDep, entity_id: IdPath
) -> Response:
    """An entity's page: its newest articles, mentions over time, who else is named with it."""
    entity = _entity_or_404(store, entity_id, "There is no entity with this address.")
    context: dict[str, Any] = {
        "entity": entity,
        "aliases": [a for a in store.entity_aliases(entity_id) if a != entity.name],
        "line": sparkline(store.entity_mentions_by_day(entity_id)),
        "articles": store.entity_articles(entity_id, RECENT_ARTICLES),
        "stories": store.entity_stories(entity_id, RECENT_STORIES),
        "related": store.related_entities(entity_id, RELATED),
    }
    return templates.TemplateResponse(request, "entity.html", context)


def _entity_or_404(store: Store, entity_id: int, message: str = "") -> StoredEntity:
    entity = store.get_entity(entity_id)
    if entity is None:
        raise HTTPException(404, message or f"No entity with id {entity_id}")
    return entity
