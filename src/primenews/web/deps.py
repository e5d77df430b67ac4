"""What handlers get injected: the store, the new-source hook, validated query values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.templating import Jinja2Templates

from primenews.domain import Source
from primenews.errors import StoreError
from primenews.store import Store
from primenews.store.articles import decode_cursor
from primenews.web.ranking import Rankings

SourceHook = Callable[[Source], None]


def get_store(request: Request) -> Store:
    """The store ``create_app`` was given."""
    return cast(Store, request.app.state.store)


def get_templates(request: Request) -> Jinja2Templates:
    """The Jinja2 templates built by ``create_app``."""
    return cast(Jinja2Templates, request.app.state.templates)


def get_source_hook(request: Request) -> SourceHook | None:
    """The ``on_source_added`` callback ``create_app`` was given, if any."""
    return cast(SourceHook | None, request.app.state.on_source_added)


def get_rankings(request: Request) -> Rankings:
    """The ranked-stories cache built by ``create_app``."""
    return cast(Rankings, request.app.state.rankings)


def to_surviving_story(
    request: Request, store: Store, story_id: int, route: str, gone: str
) -> RedirectResponse:
    """A 308 to the story a merged one now lives in (``route`` names the page or API
    route); 404 with ``gone`` when that chain ends nowhere."""
    live = store.resolve_story(story_id)
    if live is None:
        raise HTTPException(404, gone)
    return RedirectResponse(str(request.url_for(route, story_id=live)), 308)


def checked_cursor(
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page"),
    ] = None,
) -> str | None:
    """The cursor, once the store has agreed it can read it (else 400)."""
    if cursor:
        try:
            decode_cursor(cursor)
        except StoreError as err:
            raise HTTPException(400, "Invalid cursor: use the next_cursor of a page") from err
    return cursor or None


def utc_since(
    since: Annotated[
        datetime | None,
        Query(description="Only articles at or after this ISO 8601 time (UTC if no offset)"),
    ] = None,
) -> datetime | None:
    """The ``since`` query value, made timezone-aware (a time without offset is UTC)."""
    if since is not None and since.tzinfo is None:
        return since.replace(tzinfo=UTC)
    return since


StoreDep = Annotated[Store, Depends(get_store)]
# A stored row's id: both databases' integers stop at 2**63 - 1, so a larger one is a 422,
# not an overflow in the driver.
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
SourceHookDep = Annotated[SourceHook | None, Depends(get_source_hook)]
CursorDep = Annotated[str | None, Depends(checked_cursor)]
SinceDep = Annotated[datetime | None, Depends(utc_since)]
RankingsDep = Annotated[Rankings, Depends(get_rankings)]


# Our sections, in front-page order; the classifier may know more labels than get a page.
SECTIONS: tuple[str, ...] = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "health",
    "sport",
    "culture",
)


def known_section(
    section: Annotated[
        str | None, Query(max_length=40, description="Only articles of this section")
    ] = None,
) -> str | None:
    """The ``section`` filter, lower-cased; an unknown one is a 422, not an empty page."""
    if section is None:
        return None
    if section.lower() not in SECTIONS:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "section"),
                    "msg": f"one of {', '.join(SECTIONS)}",
                    "type": "value_error",
                    "input": section,
                }
            ]
        )
    return section.lower()


SectionDep = Annotated[str | None, Depends(known_section)]
