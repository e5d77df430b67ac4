"""SQL for a source's record: its stories, first reports, rewrites, and the figures it gave.

Every count is an aggregate query driven by the source's own articles (the
``ix_articles_source_sort`` index), never a walk over all stories. The figure
comparison needs the stories' figures, so it reads only the source's most
recent shared stories (``FIGURE_STORIES``) and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, distinct, func, select

from primenews.domain import StoredStory
from primenews.store.schema import (
    articles,
    duplicates,
    rewrites,
    stories,
    story_members,
)
from primenews.store.stories import OUTLET_COLUMNS, OUTLET_FROM, get_stories, outlet_of

__all__ = [
    "SourceRecord",
    "StoryOutlets",
    "shared_story_members",
    "source_record",
    "source_stories",
]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """What a source's articles did in stories; each count has its denominator beside it."""

    articles: int  # its stored articles
    in_stories: int  # of them, members of a story
    stories: int  # live stories it is in
    shared_stories: int  # of them, stories another outlet covers too
    first_reports: int  # of the shared stories, those it reported first
    originals: int  # its articles in stories that are not copies of another article
    rewrites: int  # of the originals, rewrites of another outlet's earlier article
    copies: int  # its articles in stories that are copies (exact or near) of another
    retold: int  # its articles that another outlet rewrote


@dataclass(frozen=True, slots=True)
class StoryOutlets:
    """One original (not copied) member of a story, with its outlet and source."""

    story_id: int
    article_id: int
    outlet: str
    source_id: int | None


def _member_rows(source_id: int) -> Any:
    """The source's articles that are story members, with their story."""
    return (
        select(story_members.c.story_id, articles.c.id)
        .select_from(articles.join(story_members, story_members.c.article_id == articles.c.id))
        .where(articles.c.source_id == source_id)
    )


def source_record(conn: Connection, source_id: int) -> SourceRecord:
    total = conn.execute(
        select(func.count()).select_from(articles).where(articles.c.source_id == source_id)
    ).scalar()
    members = _member_rows(source_id).subquery()
    row = conn.execute(
        select(
            func.count(members.c.id).label("in_stories"),
            func.count(distinct(members.c.story_id)).label("stories"),
            func.count(duplicates.c.article_id).label("copies"),
            func.count(case((duplicates.c.article_id.is_(None), rewrites.c.article_id))).label(
                "rewrites"
            ),
        ).select_from(
            members.outerjoin(duplicates, duplicates.c.article_id == members.c.id).outerjoin(
                rewrites, rewrites.c.article_id == members.c.id
            )
        )
    ).one()
    first = articles.alias("first_report")
    shared = conn.execute(
        select(
            func.count().label("shared"),
            func.count(case((first.c.source_id == source_id, 1))).label("first"),
        )
        .select_from(stories.outerjoin(first, first.c.id == stories.c.first_article_id))
        .where(
            stories.c.id.in_(select(members.c.story_id)),
            stories.c.merged_into.is_(None),
            stories.c.outlet_count > 1,
        )
    ).one()
    retold = conn.execute(
        select(func.count(distinct(rewrites.c.original_id)))
        .select_from(rewrites.join(articles, articles.c.id == rewrites.c.original_id))
        .where(articles.c.source_id == source_id)
    ).scalar()
    return SourceRecord(
        articles=int(total or 0),
        in_stories=int(row.in_stories),
        stories=int(row.stories),
        shared_stories=int(shared.shared),
        first_reports=int(shared.first),
        originals=int(row.in_stories) - int(row.copies),
        rewrites=int(row.rewrites),
        copies=int(row.copies),
        retold=int(retold or 0),
    )


def source_stories(
    conn: Connection, source_id: int, limit: int = 20, *, shared_only: bool = False
) -> list[StoredStory]:
    """The live stories the source is in, the most recently updated first."""
    ids = select(story_members.c.story_id).join(
        articles, articles.c.id == story_members.c.article_id
    )
    query = (
        select(stories.c.id)
        .where(
            stories.c.id.in_(ids.where(articles.c.source_id == source_id)),
            stories.c.merged_into.is_(None),
            stories.c.article_count > 0,
        )
        .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
        .limit(limit)
    )
    if shared_only:
        query = query.where(stories.c.outlet_count > 1)
    story_ids = [int(r.id) for r in conn.execute(query)]
    found = get_stories(conn, story_ids)
    return [found[i] for i in story_ids if i in found]


def shared_story_members(conn: Connection, story_ids: Sequence[int]) -> list[StoryOutlets]:
    """The original members of these stories (copies repeat their original's figures)."""
    if not story_ids:
        return []
    rows = conn.execute(
        select(story_members.c.story_id, articles.c.id, articles.c.source_id, *OUTLET_COLUMNS)
        .select_from(
            OUTLET_FROM.join(story_members, story_members.c.article_id == articles.c.id).outerjoin(
                duplicates, duplicates.c.article_id == articles.c.id
            )
        )
        .where(
            and_(story_members.c.story_id.in_(list(story_ids)), duplicates.c.article_id.is_(None))
        )
        .order_by(story_members.c.story_id, articles.c.sort_time, articles.c.id)
    )
    return [StoryOutlets(int(r.story_id), int(r.id), outlet_of(r), r.source_id) for r in rows]
