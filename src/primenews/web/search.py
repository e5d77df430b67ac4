"""The ``/search`` page: a form that works without JavaScript, and highlighted results.

Form values arrive as typed by a reader, so nothing here answers 422: a date
that cannot be read or an unknown section becomes a note on the page and the
search runs without it. Titles and snippets come from the store as escaped
HTML holding only ``<mark>``, so the template may render them as markup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from markupsafe import Markup

from primenews.errors import StoreError
from primenews.store import SearchNotSupportedError, SearchOrder, SearchQuery
from primenews.web.deps import SECTIONS, StoreDep, TemplatesDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
FormText = Annotated[str, Query(max_length=20_000)]


@router.get("/search", name="search_page")
def search_page(
    request: Request,
    store: StoreDep,
    templates: TemplatesDep,
    q: FormText = "",
    section: FormText = "",
    source: FormText = "",
    since: FormText = "",
    until: FormText = "",
    order: FormText = "",
    cursor: FormText = "",
) -> Response:
    """Search articles; the form's values come back filled in."""
    notes: list[str] = []
    form = {"q": q, "section": section, "source": source, "since": since, "until": until,
            "order": order}  # fmt: skip
    wanted = SearchQuery(
        text=q,
        section=_section(section, notes),
        source_id=_source_id(source, notes),
        since=_day(since, notes, "From"),
        until=_day(until, notes, "To", next_day=True),
        order=SearchOrder.RECENT if order == SearchOrder.RECENT else SearchOrder.RELEVANCE,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    hits, next_cursor = [], None
    if q.strip():
        try:
            page = store.search(wanted)
        except SearchNotSupportedError as err:
            raise HTTPException(501, "Search is not available on this database yet.") from err
        except StoreError:
            notes.append("That page of results has expired; here is the first page.")
            page = store.search(SearchQuery(**{**_fields(wanted), "cursor": None}))
        hits = [
            {"hit": hit, "title": Markup(hit.title_html), "snippet": Markup(hit.snippet_html)}
            for hit in page.hits
        ]
        next_cursor = page.next_cursor
    context: dict[str, Any] = {
        "nav": "search",
        "form": form,
        "searched": bool(q.strip()),
        "hits": hits,
        "notes": notes,
        "sections": SECTIONS,
        "sources": store.list_sources(),
        "more_url": _more_url(form, next_cursor) if next_cursor else "",
        "feed_query": urlencode({"q": q}) if q.strip() else "",
    }
    return templates.TemplateResponse(request, "search.html", context)


def _fields(query: SearchQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in SearchQuery.__slots__}


def _section(value: str, notes: list[str]) -> str | None:
    if value in SECTIONS:
        return value
    if value:
        notes.append(f"There is no section {value!r}; searching all of them.")
    return None


def _source_id(value: str, notes: list[str]) -> int | None:
    if not value:
        return None
    if value.isdigit() and int(value) > 0:
        return int(value)
    notes.append(f"There is no source {value!r}; searching all of them.")
    return None


def _day(value: str, notes: list[str], label: str, *, next_day: bool = False) -> datetime | None:
    """A YYYY-MM-DD form value as the start of that day in UTC (of the next day for "To")."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        notes.append(f"{label} date {value!r} is not a date like 2026-11-28; it was left out.")
        return None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if next_day else start


def _more_url(form: dict[str, str], cursor: str) -> str:
    params = {key: value for key, value in form.items() if value}
    return "/search?" + urlencode({**params, "cursor": cursor})
