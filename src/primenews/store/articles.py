"""SQL for feed entries, articles and their revisions: plain functions taking a connection."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, and_, bindparam, delete, exists, func, or_, select, update

from primenews.domain import Article, FeedEntry, StoredArticle
from primenews.errors import StoreError
from primenews.store.engine import insert_new, insert_skipping_conflicts
from primenews.store.schema import (
    article_insights,
    article_revisions,
    article_sections,
    article_urls,
    articles,
    duplicates,
    entries,
    sources,
    story_members,
)

LANGUAGE_LENGTH = 16  # schema.articles.language is String(16)
T = TypeVar("T")

MAX_ENTRY_ATTEMPTS = 3  # a page that failed this often is not fetched again
# zlib level 1 shrinks HTML about 4x at a quarter of level 6's cost; this runs once per page.
RAW_HTML_COMPRESSION = 1


class SaveStatus(StrEnum):
    NEW = "new"
    REVISED = "revised"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class SaveResult:
    article_id: int
    status: SaveStatus
    revision: int


@dataclass(frozen=True, slots=True)
class Revision:
    revision: int
    title: str
    text: str
    content_hash: str
    fetched_at: datetime


def entry_key(entry: FeedEntry) -> str:
    return entry.guid or entry.url


def pending_entries(
    conn: Connection, source_id: int, candidates: Sequence[FeedEntry]
) -> list[FeedEntry]:
    """The entries of a feed that still need their page fetched.

    An entry is pending when it is new to this source, or was seen before but
    its page failed fewer than ``MAX_ENTRY_ATTEMPTS`` times and is not stored yet.
    """
    if not candidates:
        return []
    keys = [entry_key(entry) for entry in candidates]
    done: set[str] = set()
    for chunk in chunks(keys, 500):
        rows = conn.execute(
            select(entries.c.key).where(
                entries.c.source_id == source_id,
                entries.c.key.in_(chunk),
                or_(entries.c.article_id.is_not(None), entries.c.attempts >= MAX_ENTRY_ATTEMPTS),
            )
        )
        done.update(row.key for row in rows)
    return [entry for entry in candidates if entry_key(entry) not in done]


# The writer runs these for every page: built once, so SQLAlchemy neither rebuilds
# them nor recomputes their cache keys per call (that cost more than the SQL itself).
_ENTRY_ID = select(entries.c.id).where(
    entries.c.source_id == bindparam("b_source_id"), entries.c.key == bindparam("b_key")
)
_ENTRY_AGAIN = (
    update(entries).where(entries.c.id == bindparam("b_id")).values(attempts=entries.c.attempts + 1)
)
_ARTICLE_FOR_URLS = (
    select(article_urls.c.article_id)
    .where(article_urls.c.url.in_(bindparam("b_urls", expanding=True)))
    .limit(1)
)
_KNOWN_URLS = select(article_urls.c.url).where(
    article_urls.c.url.in_(bindparam("b_urls", expanding=True))
)
_CURRENT_TEXT = select(articles.c.title, articles.c.content_hash, articles.c.revision).where(
    articles.c.id == bindparam("b_id")
)
_UPDATE_ARTICLE = update(articles).where(articles.c.id == bindparam("b_id"))


def record_entry(
    conn: Connection,
    source_id: int,
    entry: FeedEntry,
    now: datetime,
    *,
    article_id: int | None = None,
    error: str | None = None,
) -> None:
    """Remember a feed entry and what became of its page."""
    key = entry_key(entry)
    existing = conn.execute(_ENTRY_ID, {"b_source_id": source_id, "b_key": key}).first()
    values: dict[str, Any] = {"article_id": article_id, "error": error, "url": entry.url}
    if existing is None:
        conn.execute(
            entries.insert(),
            {
                "source_id": source_id,
                "key": key,
                "title": entry.title,
                "published": entry.published,
                "seen_at": now,
                "attempts": 1,
                **values,
            },
        )
    else:
        conn.execute(_ENTRY_AGAIN, {"b_id": existing.id, **values})


def article_id_for_urls(conn: Connection, urls: Iterable[str]) -> int | None:
    """The article any of these URLs already led to, if one did."""
    wanted = [url for url in dict.fromkeys(urls) if url]
    if not wanted:
        return None
    row = conn.execute(_ARTICLE_FOR_URLS, {"b_urls": wanted}).first()
    return int(row.article_id) if row else None


def known_urls(conn: Connection, urls: Iterable[str]) -> set[str]:
    """Those of the URLs that already led to a stored article."""
    found: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(urls)), 500):
        rows = conn.execute(_KNOWN_URLS, {"b_urls": list(chunk)})
        found.update(row.url for row in rows)
    return found


def save_article(
    conn: Connection,
    article: Article,
    *,
    content_hash: str,
    source_id: int | None,
    raw_html: bytes,
    fetched_at: datetime,
    sections: Mapping[str, float] | None = None,
) -> SaveResult:
    """Store an article once per canonical URL; a changed title or text becomes a revision.

    ``sections`` (label -> probability) replaces the article's sections when given.
    """
    result = _save_text(conn, article, content_hash, source_id, raw_html, fetched_at)
    if sections is not None and result.status is not SaveStatus.UNCHANGED:
        new = result.status is SaveStatus.NEW
        replace_sections(conn, result.article_id, sections, new=new)
    return result


def replace_sections(
    conn: Connection, article_id: int, sections: Mapping[str, float], *, new: bool = False
) -> None:
    """The article's sections become ``sections`` (``new``: it has none yet, no delete)."""
    if not new:
        conn.execute(delete(article_sections).where(article_sections.c.article_id == article_id))
    if sections:
        conn.execute(
            article_sections.insert(),
            [{"article_id": article_id, "section": k, "score": v} for k, v in sections.items()],
        )


def _save_text(
    conn: Connection,
    article: Article,
    content_hash: str,
    source_id: int | None,
    raw_html: bytes,
    fetched_at: datetime,
) -> SaveResult:
    urls = (article.url, article.fetched_url)
    article_id = article_id_for_urls(conn, urls)
    inserted = None
    if article_id is None:
        inserted = _insert_article(conn, article, content_hash, source_id, fetched_at)
        # None: another writer stored this URL since the look-up (two queue workers, one
        # new URL); its row stands and this save is a second sighting of it
        article_id = inserted if inserted is not None else article_id_for_urls(conn, urls)
    if article_id is None:
        raise StoreError(f"store: {article.url} is neither stored nor insertable")
    if inserted is not None:
        status, revision = SaveStatus.NEW, 1
    else:
        current = conn.execute(_CURRENT_TEXT, {"b_id": article_id}).one()
        if current.content_hash == content_hash and current.title == article.title:
            conn.execute(_UPDATE_ARTICLE, {"b_id": article_id, "last_seen": fetched_at})
            _add_urls(conn, article_id, (article.url, article.fetched_url))
            return SaveResult(article_id, SaveStatus.UNCHANGED, current.revision)
        revision = current.revision + 1
        conn.execute(
            _UPDATE_ARTICLE,
            {
                "b_id": article_id,
                **_article_values(article),
                "content_hash": content_hash,
                "revision": revision,
                "last_seen": fetched_at,
            },
        )
        status = SaveStatus.REVISED
    _add_urls(conn, article_id, (article.url, article.fetched_url))
    conn.execute(
        article_revisions.insert(),
        {
            "article_id": article_id,
            "revision": revision,
            "title": article.title,
            "text": article.text,
            "content_hash": content_hash,
            "fetched_at": fetched_at,
            "raw_html": zlib.compress(raw_html, RAW_HTML_COMPRESSION) if raw_html else None,
        },
    )
    return SaveResult(article_id, status, revision)


def _insert_article(
    conn: Connection,
    article: Article,
    content_hash: str,
    source_id: int | None,
    fetched_at: datetime,
) -> int | None:
    """The new article's id, or None when its URL was stored meanwhile by another writer."""
    # Publishers post-date and future-date; the sort key never runs ahead of first sight.
    published = article.published
    sort_time = min(published, fetched_at) if published else fetched_at
    row = conn.execute(
        insert_skipping_conflicts(conn, articles, returning=True),
        {
            "url": article.url,
            "source_id": source_id,
            **_article_values(article),
            "content_hash": content_hash,
            "revision": 1,
            "first_seen": fetched_at,
            "last_seen": fetched_at,
            "sort_time": sort_time,
        },
    ).first()
    return int(row.id) if row is not None else None


def _article_values(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "text": article.text,
        "html": article.html,
        "byline": article.byline,
        "published": article.published,
        "updated": article.updated,
        # The page declares it, so it may be anything; the column holds a language tag.
        "language": article.language[:LANGUAGE_LENGTH],
        "image": article.image,
        "site_name": article.site_name,
        "section": article.section,
        "description": article.description,
        "tags": json.dumps(list(article.tags)),
        "fetched_url": article.fetched_url,
    }


def _add_urls(conn: Connection, article_id: int, urls: Iterable[str]) -> None:
    wanted = [url for url in dict.fromkeys(urls) if url]
    # A URL already stored (by another writer too) stays with its article: insert_new skips it.
    insert_new(conn, article_urls, [{"url": url, "article_id": article_id} for url in wanted])


# An exact copy of another article's text keeps no text of its own (stories
# store a syndicated text once): it is read from the original.
ORIGINAL = articles.alias("original")
WITH_ORIGINAL = and_(ORIGINAL.c.id == duplicates.c.original_id, duplicates.c.kind == "exact")

ARTICLE_COLUMNS = (
    articles,
    sources.c.title.label("source_title"),
    story_members.c.story_id,
    duplicates.c.original_id.label("duplicate_of"),
    ORIGINAL.c.text.label("original_text"),
    ORIGINAL.c.html.label("original_html"),
)
# Articles with their source, story and the original they copy (if any).
ARTICLE_FROM = (
    articles.outerjoin(sources, articles.c.source_id == sources.c.id)
    .outerjoin(story_members, story_members.c.article_id == articles.c.id)
    .outerjoin(duplicates, duplicates.c.article_id == articles.c.id)
    .outerjoin(ORIGINAL, WITH_ORIGINAL)
)


def get_article(conn: Connection, article_id: int) -> StoredArticle | None:
    row = conn.execute(
        select(*ARTICLE_COLUMNS).select_from(ARTICLE_FROM).where(articles.c.id == article_id)
    ).first()
    if row is None:
        return None
    return stored_article_from_row(row, sections_of(conn, [article_id]).get(article_id, ()))


def sections_of(conn: Connection, article_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Each article's sections, most probable first."""
    found: dict[int, list[str]] = {}
    if article_ids:
        rows = conn.execute(
            select(article_sections.c.article_id, article_sections.c.section)
            .where(article_sections.c.article_id.in_(article_ids))
            .order_by(article_sections.c.article_id, article_sections.c.score.desc())
        )
        for row in rows:
            found.setdefault(row.article_id, []).append(row.section)
    return {article_id: tuple(labels) for article_id, labels in found.items()}


def list_articles(
    conn: Connection,
    *,
    source_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    section: str | None = None,
    originals_only: bool = False,
) -> tuple[list[StoredArticle], str | None]:
    """The newest articles first, a page at a time; ``originals_only`` leaves copies out.

    Returns:
        The page of articles and the cursor of the next page (None at the end).
    """
    query = select(*ARTICLE_COLUMNS).select_from(ARTICLE_FROM)
    if source_id is not None:
        query = query.where(articles.c.source_id == source_id)
    if since is not None:
        query = query.where(articles.c.sort_time >= since)
    if originals_only:
        query = query.where(duplicates.c.article_id.is_(None))
    if section is not None:
        query = query.where(
            exists().where(
                article_sections.c.article_id == articles.c.id,
                article_sections.c.section == section,
            )
        )
    if cursor:
        sort_time, last_id = decode_cursor(cursor)
        query = query.where(
            or_(
                articles.c.sort_time < sort_time,
                and_(articles.c.sort_time == sort_time, articles.c.id < last_id),
            )
        )
    rows = conn.execute(
        query.order_by(articles.c.sort_time.desc(), articles.c.id.desc()).limit(limit + 1)
    ).all()
    labels = sections_of(conn, [row.id for row in rows[:limit]])
    page = [stored_article_from_row(row, labels.get(row.id, ())) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(last.sort_time, last.id)
    return page, next_cursor


def encode_cursor(sort_time: datetime, article_id: int) -> str:
    raw = f"{sort_time.isoformat()}|{article_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, article_id = raw.split("|")
        parsed = datetime.fromisoformat(when)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), int(article_id)
    except (ValueError, UnicodeDecodeError) as err:
        raise StoreError(f"store: invalid cursor {cursor!r}") from err


def stored_article_from_row(row: Row[Any], sections: tuple[str, ...] = ()) -> StoredArticle:
    article = Article(
        url=row.url,
        title=row.title,
        text=row.text or row.original_text or "",
        html=row.html or row.original_html or "",
        byline=row.byline,
        published=row.published,
        updated=row.updated,
        language=row.language,
        image=row.image,
        site_name=row.site_name,
        section=row.section,
        description=row.description,
        tags=tuple(json.loads(row.tags or "[]")),
        fetched_url=row.fetched_url,
    )
    return StoredArticle(
        id=row.id,
        article=article,
        source_id=row.source_id,
        content_hash=row.content_hash,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        revision=row.revision,
        source_title=row.source_title or "",
        sections=sections,
        story_id=row.story_id,
        duplicate_of=row.duplicate_of,
    )


def list_revisions(conn: Connection, article_id: int) -> list[Revision]:
    rows = conn.execute(
        select(article_revisions)
        .where(article_revisions.c.article_id == article_id)
        .order_by(article_revisions.c.revision)
    )
    return [
        Revision(row.revision, row.title, row.text, row.content_hash, row.fetched_at)
        for row in rows
    ]


def raw_html(conn: Connection, article_id: int, revision: int | None = None) -> bytes | None:
    """The page as fetched (latest revision unless one is named), for re-extraction."""
    query = select(article_revisions.c.raw_html).where(article_revisions.c.article_id == article_id)
    if revision is not None:
        query = query.where(article_revisions.c.revision == revision)
    row = conn.execute(query.order_by(article_revisions.c.revision.desc()).limit(1)).first()
    if row is None or row.raw_html is None:
        return None
    return zlib.decompress(row.raw_html)


def count_articles(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())


def article_ids_after(conn: Connection, after_id: int) -> list[int]:
    """Ids of the articles stored after ``after_id``, in id (= first-seen) order."""
    rows = conn.execute(
        select(articles.c.id).where(articles.c.id > after_id).order_by(articles.c.id)
    )
    return [int(row.id) for row in rows]


def last_article_id(conn: Connection) -> int:
    """The highest article id so far (0 for an empty store)."""
    return int(conn.execute(select(func.coalesce(func.max(articles.c.id), 0))).scalar_one())


def unenriched_articles(
    conn: Connection, source_id: int, since: datetime, limit: int = 200
) -> list[int]:
    """Articles of a source first seen since ``since`` with no insights row (nor a failure)."""
    has_insights = exists().where(article_insights.c.article_id == articles.c.id)
    rows = conn.execute(
        select(articles.c.id)
        .where(articles.c.source_id == source_id, articles.c.first_seen >= since, ~has_insights)
        .order_by(articles.c.id)
        .limit(limit)
    )
    return [int(row.id) for row in rows]


def failed_insights(conn: Connection, article_ids: Sequence[int]) -> list[int]:
    """Those of ``article_ids`` whose insights row records a failure, in id order."""
    if not article_ids:
        return []
    rows = conn.execute(
        select(article_insights.c.article_id)
        .where(
            article_insights.c.article_id.in_(article_ids),
            article_insights.c.error.is_not(None),
        )
        .order_by(article_insights.c.article_id)
    )
    return [int(row.article_id) for row in rows]


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    """``items`` in slices of ``size``: IN lists stay under the databases' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
