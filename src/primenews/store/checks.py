"""SQL for re-fetching articles of active stories: what is due, and what a check found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, or_, select

from primenews.store.schema import article_checks, articles, stories, story_members


@dataclass(frozen=True, slots=True)
class DueCheck:
    """An article to fetch again, with the validators of its last fetch."""

    article_id: int
    url: str
    source_id: int | None
    etag: str | None
    last_modified: str | None
    checks: int
    published: datetime | None = None  # as stored: a page that declares no date keeps it


def due_checks(
    conn: Connection,
    now: datetime,
    active_since: datetime,
    *,
    first_after: datetime,
    everything: bool = False,
    limit: int = 500,
) -> list[DueCheck]:
    """Articles of stories changed since ``active_since`` (gained, lost or revised an
    article) that are due a check.

    An article never checked is due once it was first seen before
    ``first_after``; ``everything`` ignores the schedule (``primenews refresh``).
    """
    query = (
        select(
            articles.c.id,
            articles.c.url,
            articles.c.source_id,
            article_checks.c.etag,
            article_checks.c.last_modified,
            article_checks.c.checks,
            articles.c.published,
        )
        .select_from(
            articles.join(story_members, story_members.c.article_id == articles.c.id)
            .join(stories, stories.c.id == story_members.c.story_id)
            .outerjoin(article_checks, article_checks.c.article_id == articles.c.id)
        )
        .where(stories.c.merged_into.is_(None), stories.c.updated_at >= active_since)
    )
    if not everything:
        query = query.where(
            or_(
                article_checks.c.next_check <= now,
                and_(article_checks.c.article_id.is_(None), articles.c.first_seen <= first_after),
            )
        )
    rows = conn.execute(query.order_by(articles.c.id).limit(limit))
    return [
        DueCheck(
            row.id,
            row.url,
            row.source_id,
            row.etag,
            row.last_modified,
            row.checks or 0,
            row.published,
        )
        for row in rows
    ]


# Built once: the writer records a check for every new article.
_VALIDATORS = select(article_checks.c.etag, article_checks.c.last_modified).where(
    article_checks.c.article_id == bindparam("b_id")
)
_FORGET_CHECK = delete(article_checks).where(article_checks.c.article_id == bindparam("b_id"))
_INSERT_CHECK = article_checks.insert()


def record_check(
    conn: Connection,
    article_id: int,
    *,
    now: datetime,
    next_check: datetime,
    checks: int,
    status: int | None,
    etag: str | None = None,
    last_modified: str | None = None,
    error: str | None = None,
) -> None:
    """What one re-fetch found; validators are kept from before when the answer has none."""
    previous = conn.execute(_VALIDATORS, {"b_id": article_id}).first()
    conn.execute(_FORGET_CHECK, {"b_id": article_id})
    conn.execute(
        _INSERT_CHECK,
        {
            "article_id": article_id,
            "etag": etag or (previous.etag if previous else None),
            "last_modified": last_modified or (previous.last_modified if previous else None),
            "last_checked": now,
            "next_check": next_check,
            "checks": checks,
            "last_status": status,
            "last_error": error,
        },
    )
