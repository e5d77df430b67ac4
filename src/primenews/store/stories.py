"""SQL for stories, their members and duplicates: plain functions taking a connection.

The stories stage decides (``stories.tracker``); these functions record what
it decided and read it back for the web. A story row is a cache of its
members' facts (``stories.aggregate.story_facts``), refreshed in the same
transaction as every change of membership.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)

from primenews.domain import StoredStory
from primenews.store.articles import (
    ORIGINAL,
    WITH_ORIGINAL,
    chunks,
    decode_cursor,
    encode_cursor,
)
from primenews.store.engine import insert_new_row
from primenews.store.schema import (
    article_entities,
    article_sections,
    articles,
    duplicates,
    entities,
    rewrites,
    sources,
    stories,
    story_members,
    story_sections,
)
from primenews.stories.aggregate import MemberView, story_facts
from primenews.stories.cluster import Merge
from primenews.stories.dedup import DedupKind
from primenews.stories.documents import StoryDoc
from primenews.stories.rank import StoryActivity
from primenews.stories.rewrites import RewriteCandidate, RewriteMatch
from primenews.stories.tracker import Observation

# Related stories are looked for this far before and after a story's span.
_RELATED_SPAN = timedelta(days=3)

# Articles with the outlet that carried them.
OUTLET_FROM = articles.outerjoin(sources, articles.c.source_id == sources.c.id)
OUTLET_COLUMNS = (sources.c.title.label("source_title"), articles.c.site_name, articles.c.url)


def outlet_of(row: Any) -> str:
    """Who published an article: the site's own name, else its host, else its source's title.

    The publisher, not the feed: BBC's world and business feeds are one outlet,
    and an aggregator's feed carries many.
    """
    host = (urlsplit(row.url).hostname or "").removeprefix("www.")
    return str(row.site_name or host or row.source_title or "")


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """One member of a story, as the story page and API show it."""

    article_id: int
    title: str
    url: str
    outlet: str
    source_id: int | None
    published: datetime  # publication time, never later than first seen
    first_seen: datetime
    score: float
    started: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    duplicate_of: int | None = None
    duplicate_kind: str = ""
    similarity: float = 0.0
    sections: tuple[str, ...] = ()
    rewrite_of: int | None = None  # the earlier article of another outlet this one retells


# Writing

# The desk's writer runs the statements below for every article: built once, SQLAlchemy
# neither rebuilds them nor recomputes their cache keys per call.
_STORY_DOCS = select(
    articles.c.id,
    articles.c.title,
    func.coalesce(func.nullif(articles.c.text, ""), ORIGINAL.c.text, "").label("text"),
    articles.c.description,
    articles.c.language,
    articles.c.sort_time,
    *OUTLET_COLUMNS,
).select_from(
    OUTLET_FROM.outerjoin(duplicates, duplicates.c.article_id == articles.c.id).outerjoin(
        ORIGINAL, WITH_ORIGINAL
    )
)
_STORY_DOCS_OF_IDS = _STORY_DOCS.where(
    articles.c.id.in_(bindparam("b_ids", expanding=True))
).order_by(articles.c.id)
_MEMBERSHIP = (
    select(story_members.c.story_id, stories.c.key)
    .join(stories, stories.c.id == story_members.c.story_id)
    .where(story_members.c.article_id == bindparam("b_id"))
)
_LEAVE_STORY = delete(story_members).where(story_members.c.article_id == bindparam("b_id"))
_INSERT_MEMBER = story_members.insert()
_STORY_ID = select(stories.c.id).where(stories.c.key == bindparam("b_key"))
_UPDATE_STORY = update(stories).where(stories.c.id == bindparam("b_id"))
_FORGET_SECTIONS = delete(story_sections).where(story_sections.c.story_id == bindparam("b_id"))
_MEMBER_VIEWS = (
    select(articles.c.id, articles.c.title, articles.c.sort_time, *OUTLET_COLUMNS)
    .select_from(OUTLET_FROM.join(story_members, story_members.c.article_id == articles.c.id))
    .where(story_members.c.story_id == bindparam("b_id"))
)
_SECTIONS_OF = select(article_sections).where(
    article_sections.c.article_id.in_(bindparam("b_ids", expanding=True))
)


def story_docs(
    conn: Connection, *, since: datetime | None = None, article_ids: Sequence[int] = ()
) -> list[StoryDoc]:
    """Stored articles as the stories stage reads them, in first-seen order (= id order)."""
    if since is None and article_ids:  # the desk, for every article
        rows = conn.execute(_STORY_DOCS_OF_IDS, {"b_ids": list(article_ids)})
    else:
        query = _STORY_DOCS
        if since is not None:
            query = query.where(articles.c.first_seen >= since)
        if article_ids:
            query = query.where(articles.c.id.in_(article_ids))
        rows = conn.execute(query.order_by(articles.c.id))
    return [
        StoryDoc(
            id=str(row.id),
            title=row.title,
            text=row.text or row.description,
            url=row.url,
            outlet=outlet_of(row),
            published=row.sort_time,
            language=(row.language or "en")[:2].lower(),
        )
        for row in rows
    ]


def record_observation(conn: Connection, observation: Observation, now: datetime) -> dict[int, str]:
    """Record a duplicate link, a membership and merges.

    Idempotent: an article already in the story it is assigned to keeps its
    membership as recorded, so a restart may replay articles already stored.
    The caller refreshes the stories returned (``refresh_story``).

    Returns:
        The stories whose membership changed (id -> key).
    """
    article_id = int(observation.doc_id)
    dedup = observation.dedup
    if dedup.kind in (DedupKind.EXACT, DedupKind.NEAR) and dedup.original_id is not None:
        _record_copy(conn, article_id, int(dedup.original_id), dedup.kind, dedup.similarity)
    elif dedup.kind is DedupKind.REVISION:  # a copy that changed is its own text again
        conn.execute(
            delete(duplicates).where(
                duplicates.c.article_id == article_id, duplicates.c.kind == DedupKind.EXACT.value
            )
        )
    touched: dict[int, str] = {}
    current = conn.execute(_MEMBERSHIP, {"b_id": article_id}).first()
    assignment = observation.assignment
    if assignment is not None:
        story_id = _story_id(conn, assignment.story_key, now, create=True)
        assert story_id is not None
        if current is None or current.story_id != story_id:
            if current is not None:  # a new article has no membership to take back
                conn.execute(_LEAVE_STORY, {"b_id": article_id})
            conn.execute(
                _INSERT_MEMBER,
                {
                    "article_id": article_id,
                    "story_id": story_id,
                    "joined_at": now,
                    "score": round(assignment.score, 6),
                    "started": assignment.is_new,
                    "evidence": json.dumps(asdict(assignment.evidence), sort_keys=True),
                },
            )
            touched[story_id] = assignment.story_key
            if current is not None:
                touched[current.story_id] = current.key
    elif dedup.kind is DedupKind.REVISION and current is not None:
        touched[current.story_id] = current.key  # a new title may change the headline
    touched.update(record_merges(conn, observation.merges, now))
    return touched


def _record_copy(
    conn: Connection, article_id: int, original_id: int, kind: DedupKind, similarity: float
) -> None:
    """Link a copy to its original; an exact copy's text is then kept by the original only."""
    conn.execute(delete(duplicates).where(duplicates.c.article_id == article_id))
    conn.execute(
        duplicates.insert().values(
            article_id=article_id,
            original_id=original_id,
            kind=kind.value,
            similarity=round(similarity, 4),
        )
    )
    if kind is DedupKind.EXACT:
        conn.execute(update(articles).where(articles.c.id == article_id).values(text="", html=""))


def record_merges(conn: Connection, merges: Iterable[Merge], now: datetime) -> dict[int, str]:
    """Apply the merge pass's decisions; returns the stories changed (id -> key)."""
    touched: dict[int, str] = {}
    for merge in merges:
        absorbed = _story_id(conn, merge.absorbed, now, create=False)
        into = _story_id(conn, merge.into, now, create=False)
        if absorbed is None or into is None or absorbed == into:
            continue
        merge_stories(conn, absorbed, into, now)
        touched[absorbed] = merge.absorbed
        touched[into] = merge.into
    return touched


def merge_stories(conn: Connection, absorbed: int, into: int, now: datetime) -> None:
    """Move every member of ``absorbed`` into ``into``; the absorbed row points at it."""
    conn.execute(
        update(story_members).where(story_members.c.story_id == absorbed).values(story_id=into)
    )
    conn.execute(update(stories).where(stories.c.merged_into == absorbed).values(merged_into=into))
    conn.execute(
        update(stories)
        .where(stories.c.id == absorbed)
        .values(merged_into=into, article_count=0, outlet_count=0, updated_at=now)
    )
    conn.execute(delete(story_sections).where(story_sections.c.story_id == absorbed))


def refresh_story(
    conn: Connection, story_id: int, now: datetime, terms: Sequence[str] = ()
) -> None:
    """Recompute a story row and its sections from its members."""
    members = _member_views(conn, story_id)
    if not members:
        conn.execute(
            _UPDATE_STORY, {"b_id": story_id, "article_count": 0, "outlet_count": 0,
                            "updated_at": now}
        )  # fmt: skip
        return
    facts = story_facts(members)
    values: dict[str, Any] = {
        "headline": facts.headline,
        "headline_article_id": facts.headline_article_id,
        "first_article_id": facts.first_article_id,
        "first_seen": facts.first_seen,
        "last_seen": facts.last_seen,
        "article_count": facts.article_count,
        "outlet_count": facts.outlet_count,
        "updated_at": now,
    }
    if terms:
        values["terms"] = json.dumps(list(terms))
    conn.execute(_UPDATE_STORY, {"b_id": story_id, **values})
    conn.execute(_FORGET_SECTIONS, {"b_id": story_id})
    if facts.sections:
        conn.execute(
            story_sections.insert(),
            [
                {"story_id": story_id, "section": label, "score": round(share, 4)}
                for label, share in facts.sections.items()
            ],
        )


def _member_views(conn: Connection, story_id: int) -> list[MemberView]:
    rows = conn.execute(_MEMBER_VIEWS, {"b_id": story_id}).all()
    labels = _article_sections(conn, [row.id for row in rows])
    return [
        MemberView(row.id, row.title, outlet_of(row), row.sort_time, labels.get(row.id, {}))
        for row in rows
    ]


def _article_sections(conn: Connection, article_ids: Sequence[int]) -> dict[int, dict[str, float]]:
    found: dict[int, dict[str, float]] = {}
    for chunk in chunks(article_ids, 500):
        rows = conn.execute(_SECTIONS_OF, {"b_ids": list(chunk)})
        for row in rows:
            found.setdefault(row.article_id, {})[row.section] = row.score
    return found


def _story_id(conn: Connection, key: str, now: datetime, *, create: bool) -> int | None:
    found = conn.execute(_STORY_ID, {"b_key": key}).scalar()
    if found is not None or not create:
        return found
    # Another writer may make the same story meanwhile: then it is that one.
    insert_new_row(conn, stories, {"key": key, "first_seen": now, "last_seen": now,
                                   "updated_at": now})  # fmt: skip
    return int(conn.execute(_STORY_ID, {"b_key": key}).scalar_one())


def story_ids_by_keys(conn: Connection, keys: Sequence[str]) -> list[int]:
    """The ids of the live (not merged) stories with these keys."""
    if not keys:
        return []
    rows = conn.execute(
        select(stories.c.id).where(stories.c.key.in_(list(keys)), stories.c.merged_into.is_(None))
    )
    return sorted(int(row.id) for row in rows)


def rewrite_candidates(
    conn: Connection, article_id: int, limit: int = 40
) -> tuple[RewriteCandidate | None, list[RewriteCandidate]]:
    """An article and the earliest other originals of its story, as rewrite detection reads them.

    Copies (exact or near) are left out on both sides: they are credited already.
    """
    story_id = conn.execute(
        select(story_members.c.story_id).where(story_members.c.article_id == article_id)
    ).scalar()
    if story_id is None:
        return None, []
    rows = conn.execute(
        select(articles.c.id, articles.c.text, articles.c.sort_time, *OUTLET_COLUMNS)
        .select_from(
            OUTLET_FROM.join(story_members, story_members.c.article_id == articles.c.id).outerjoin(
                duplicates, duplicates.c.article_id == articles.c.id
            )
        )
        .where(story_members.c.story_id == story_id, duplicates.c.article_id.is_(None))
        .order_by(articles.c.sort_time, articles.c.id)
        .limit(limit + 1)
    ).all()
    found = [RewriteCandidate(r.id, outlet_of(r), r.sort_time, r.text) for r in rows]
    mine = next((c for c in found if c.article_id == article_id), None)
    if mine is None:  # a copy, or later than the first ``limit``: load it alone
        row = conn.execute(
            select(articles.c.id, articles.c.text, articles.c.sort_time, *OUTLET_COLUMNS)
            .select_from(
                OUTLET_FROM.outerjoin(duplicates, duplicates.c.article_id == articles.c.id)
            )
            .where(articles.c.id == article_id, duplicates.c.article_id.is_(None))
        ).first()
        if row is None:
            return None, []
        mine = RewriteCandidate(row.id, outlet_of(row), row.sort_time, row.text)
    return mine, [c for c in found if c.article_id != article_id][:limit]


def record_rewrite(conn: Connection, article_id: int, match: RewriteMatch | None) -> None:
    conn.execute(delete(rewrites).where(rewrites.c.article_id == article_id))
    if match is not None:
        conn.execute(
            rewrites.insert().values(
                article_id=article_id, original_id=match.original_id, share=match.share
            )
        )


# Reading


def list_stories(
    conn: Connection,
    *,
    section: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[StoredStory], str | None]:
    """Live stories, the most recently updated first, a page at a time."""
    query = _live_stories()
    if section is not None:
        query = query.where(_in_section(section))
    if since is not None:
        query = query.where(stories.c.last_seen >= since)
    if cursor:
        last_seen, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                stories.c.last_seen < last_seen,
                and_(stories.c.last_seen == last_seen, stories.c.id < last_id),
            )
        )
    rows = conn.execute(
        query.order_by(stories.c.last_seen.desc(), stories.c.id.desc()).limit(limit + 1)
    ).all()
    page = _stored_stories(conn, rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.last_seen, last.id)
    return page, next_cursor


def get_stories(conn: Connection, story_ids: Sequence[int]) -> dict[int, StoredStory]:
    """Stories by id (merged ones included, with ``merged_into`` set)."""
    if not story_ids:
        return {}
    rows = conn.execute(select(stories).where(stories.c.id.in_(story_ids))).all()
    return {story.id: story for story in _stored_stories(conn, rows)}


def story_articles(conn: Connection, story_id: int) -> list[StoryArticle]:
    """Every member of a story, in time order."""
    rows = conn.execute(
        select(
            articles.c.id,
            articles.c.title,
            articles.c.source_id,
            articles.c.sort_time,
            articles.c.first_seen,
            story_members.c.score,
            story_members.c.started,
            story_members.c.evidence,
            duplicates.c.original_id,
            duplicates.c.kind,
            duplicates.c.similarity,
            rewrites.c.original_id.label("rewrite_of"),
            *OUTLET_COLUMNS,
        )
        .select_from(
            OUTLET_FROM.join(story_members, story_members.c.article_id == articles.c.id)
            .outerjoin(duplicates, duplicates.c.article_id == articles.c.id)
            .outerjoin(rewrites, rewrites.c.article_id == articles.c.id)
        )
        .where(story_members.c.story_id == story_id)
        .order_by(articles.c.sort_time, articles.c.id)
    ).all()
    labels = _article_sections(conn, [row.id for row in rows])
    return [
        StoryArticle(
            article_id=row.id,
            title=row.title,
            url=row.url,
            outlet=outlet_of(row),
            source_id=row.source_id,
            published=row.sort_time,
            first_seen=row.first_seen,
            score=row.score,
            started=bool(row.started),
            evidence=json.loads(row.evidence or "{}"),
            duplicate_of=row.original_id,
            duplicate_kind=row.kind or "",
            similarity=row.similarity or 0.0,
            sections=tuple(sorted(labels.get(row.id, {}), key=lambda k: -labels[row.id][k])),
            rewrite_of=row.rewrite_of,
        )
        for row in rows
    ]


def ranking_activity(
    conn: Connection,
    since: datetime,
    now: datetime,
    window_hours: float,
    *,
    section: str | None = None,
    limit: int = 1000,
) -> dict[int, StoryActivity]:
    """What the score needs of the live stories updated since ``since`` (at most ``limit``).

    Counted in SQL rather than by loading every member: a front page ranks two
    days of stories, which can be hundreds of thousands of articles.
    """
    recent = _live_stories().where(stories.c.last_seen >= since)
    if section is not None:
        recent = recent.where(_in_section(section))
    ids = [
        row.id
        for row in conn.execute(
            recent.order_by(stories.c.last_seen.desc(), stories.c.id.desc()).limit(limit)
        )
    ]
    window_start = now - timedelta(hours=window_hours)
    members = story_members.join(articles, articles.c.id == story_members.c.article_id)
    activity: dict[int, StoryActivity] = {}
    for chunk in chunks(ids, 500):
        times = conn.execute(
            select(
                story_members.c.story_id,
                func.max(articles.c.sort_time).label("newest"),
                func.sum(case((articles.c.sort_time.between(window_start, now), 1), else_=0)).label(
                    "recent"
                ),
            )
            .select_from(members)
            .where(story_members.c.story_id.in_(chunk))
            .group_by(story_members.c.story_id)
        ).all()
        # One row per distinct publisher; the URL is read only where the site has no name.
        named = or_(articles.c.site_name.is_(None), articles.c.site_name == "")
        publishers = conn.execute(
            select(
                story_members.c.story_id,
                sources.c.title.label("source_title"),
                articles.c.site_name,
                case((named, articles.c.url), else_="").label("url"),
            )
            .distinct()
            .select_from(
                OUTLET_FROM.join(story_members, story_members.c.article_id == articles.c.id)
            )
            .where(story_members.c.story_id.in_(chunk))
        )
        outlets: dict[int, set[str]] = {}
        for row in publishers:
            outlets.setdefault(row.story_id, set()).add(outlet_of(row))
        for counted in times:
            activity[counted.story_id] = StoryActivity(
                newest=counted.newest,
                outlets=len(outlets.get(counted.story_id, ())),
                recent=int(counted.recent),
            )
    return activity


def related_stories(conn: Connection, story: StoredStory, limit: int = 5) -> list[StoredStory]:
    """Stories of the days around ``story`` sharing at least two of its heaviest terms."""
    if len(story.terms) < 2:
        return []
    mine = set(story.terms)
    window = conn.execute(
        _live_stories()
        .where(stories.c.id != story.id)
        .where(stories.c.last_seen >= story.first_seen - _RELATED_SPAN)
        .where(stories.c.first_seen <= story.last_seen + _RELATED_SPAN)
        .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
        .limit(2000)
    ).all()
    scored = []
    for row in window:
        shared = len(mine.intersection(json.loads(row.terms or "[]")))
        if shared >= 2:
            scored.append((shared, row.article_count, row.id, row))
    scored.sort(key=lambda item: (-item[0], -item[1], -item[2]))
    return _stored_stories(conn, [item[3] for item in scored[:limit]])


def resolve_story(conn: Connection, story_id: int) -> int | None:
    """The live story a (possibly merged) story id now stands for; None if unknown."""
    seen: set[int] = set()
    current: int | None = story_id
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(select(stories.c.merged_into).where(stories.c.id == current)).first()
        if row is None:
            return None
        if row.merged_into is None:
            return current
        current = row.merged_into
    return None


def stories_by_country(conn: Connection, since: datetime) -> dict[str, int]:
    """Live stories with an article since ``since`` naming a place, per country of the place."""
    stories_counted = func.count(func.distinct(story_members.c.story_id))
    rows = conn.execute(
        select(entities.c.country_code, stories_counted.label("stories"))
        .select_from(
            entities.join(article_entities, article_entities.c.entity_id == entities.c.id)
            .join(articles, articles.c.id == article_entities.c.article_id)
            .join(story_members, story_members.c.article_id == articles.c.id)
            .join(stories, stories.c.id == story_members.c.story_id)
        )
        .where(
            entities.c.kind == "place",
            entities.c.country_code.is_not(None),
            articles.c.sort_time >= since,
            stories.c.merged_into.is_(None),
        )
        .group_by(entities.c.country_code)
    )
    return {str(row.country_code).upper(): int(row.stories) for row in rows}


def entity_stories(conn: Connection, entity_id: int, limit: int = 10) -> list[StoredStory]:
    """The live stories whose articles name an entity, the most recently updated first."""
    ids = (
        select(story_members.c.story_id)
        .join(article_entities, article_entities.c.article_id == story_members.c.article_id)
        .where(article_entities.c.entity_id == entity_id)
    )
    rows = conn.execute(
        _live_stories()
        .where(stories.c.id.in_(ids))
        .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
        .limit(limit)
    ).all()
    return _stored_stories(conn, rows)


def count_stories(conn: Connection) -> int:
    counted = select(func.count()).select_from(_live_stories().subquery())
    return int(conn.execute(counted).scalar() or 0)


def _live_stories() -> Any:
    return select(stories).where(stories.c.merged_into.is_(None), stories.c.article_count > 0)


def _in_section(section: str) -> Any:
    return exists().where(
        story_sections.c.story_id == stories.c.id, story_sections.c.section == section
    )


def _stored_stories(conn: Connection, rows: Sequence[Row[Any]]) -> list[StoredStory]:
    labels: dict[int, list[str]] = {}
    for chunk in chunks([row.id for row in rows], 500):
        for label in conn.execute(
            select(story_sections)
            .where(story_sections.c.story_id.in_(chunk))
            .order_by(story_sections.c.story_id, story_sections.c.score.desc())
        ):
            labels.setdefault(label.story_id, []).append(label.section)
    return [
        StoredStory(
            id=row.id,
            key=row.key,
            headline=row.headline,
            headline_article_id=row.headline_article_id,
            first_article_id=row.first_article_id,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            article_count=row.article_count,
            outlet_count=row.outlet_count,
            sections=tuple(labels.get(row.id, ())),
            terms=tuple(json.loads(row.terms or "[]")),
            merged_into=row.merged_into,
            updated_at=row.updated_at,
        )
        for row in rows
    ]
