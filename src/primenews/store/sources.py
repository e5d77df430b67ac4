"""SQL for sources and their fetch attempts: plain functions taking a connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Row, delete, func, or_, select, update

from primenews.domain import FetchOutcome, Source, SourceKind
from primenews.errors import StoreError
from primenews.store.engine import POSTGRESQL, backend, insert_new_row
from primenews.store.schema import articles, fetches, sources

# How long a claimed source stays out of other pollers' reach. A poll ends by
# recording its fetch (which sets the real next_due); a poller that dies
# mid-poll leaves the source to be claimed again when the lease runs out.
CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class PollState:
    """What a fetch attempt changes in a source's polling state."""

    next_due: datetime
    poll_interval_minutes: float
    etag: str | None = None
    last_modified: str | None = None
    title: str = ""
    site_url: str = ""
    kind: SourceKind | None = None


def source_from_row(row: Row[Any]) -> Source:
    return Source(
        id=row.id,
        url=row.url,
        kind=SourceKind(row.kind),
        title=row.title,
        site_url=row.site_url,
        etag=row.etag,
        last_modified=row.last_modified,
        poll_interval_minutes=row.poll_interval_minutes,
        next_due=row.next_due,
        last_fetched=row.last_fetched,
        last_status=row.last_status,
        last_error=row.last_error,
        error_count=row.error_count,
    )


def add_source(conn: Connection, source: Source, now: datetime) -> tuple[Source, bool]:
    """Insert a source unless its URL is known; returns it and whether it is new."""
    existing = source_by_url(conn, source.url)
    if existing is not None:
        return existing, False
    # Another writer may add the same URL meanwhile: then that one is the source.
    new = insert_new_row(
        conn,
        sources,
        {
            "url": source.url,
            "kind": source.kind.value,
            "title": source.title,
            "site_url": source.site_url,
            "created_at": now,
            "active": True,
            "next_due": now,
            "error_count": 0,
        },
    )
    stored = source_by_url(conn, source.url)
    assert stored is not None
    return stored, new


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT produced."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("store: the database returned no id for a new row")
    return int(key[0])


def get_source(conn: Connection, source_id: int) -> Source | None:
    row = conn.execute(select(sources).where(sources.c.id == source_id)).first()
    return source_from_row(row) if row else None


def source_by_url(conn: Connection, url: str) -> Source | None:
    row = conn.execute(select(sources).where(sources.c.url == url)).first()
    return source_from_row(row) if row else None


def list_sources(conn: Connection) -> list[Source]:
    rows = conn.execute(select(sources).where(sources.c.active).order_by(sources.c.id))
    return [source_from_row(row) for row in rows]


def due_sources(conn: Connection, now: datetime) -> list[Source]:
    """Active sources whose next poll is due, the most overdue first."""
    return [source_from_row(row) for row in conn.execute(_due(now))]


def claim_due_sources(conn: Connection, now: datetime, lease: timedelta) -> list[Source]:
    """The due sources, taken for this poller so that no other poller takes them too.

    On PostgreSQL the due rows are locked with ``FOR UPDATE SKIP LOCKED`` (a
    row another poller is claiming is skipped, not waited for) and their
    ``next_due`` moved ``lease`` ahead in the same transaction. SQLite has a
    single writer, so there the claim is the plain ``due_sources``.
    """
    if backend(conn) != POSTGRESQL:
        return due_sources(conn, now)
    rows = conn.execute(_due(now).with_for_update(skip_locked=True)).all()
    if rows:
        conn.execute(
            update(sources)
            .where(sources.c.id.in_([row.id for row in rows]))
            .values(next_due=now + lease)
        )
    return [source_from_row(row) for row in rows]


def poll_soon(conn: Connection, source_id: int, now: datetime) -> bool:
    """Make an active source due at ``now`` (sooner only); False if it is gone or due already.

    For a process that learns of new content but does not poll (a web process
    given a WebSub push): the poller takes the source on its next round.
    """
    result = conn.execute(
        update(sources)
        .where(
            sources.c.id == source_id,
            sources.c.active,
            or_(sources.c.next_due.is_(None), sources.c.next_due > now),
        )
        .values(next_due=now)
    )
    return result.rowcount > 0


def _due(now: datetime) -> Any:
    # NULLS FIRST spelled out: PostgreSQL sorts NULL last by default, SQLite first.
    return (
        select(sources)
        .where(sources.c.active, or_(sources.c.next_due.is_(None), sources.c.next_due <= now))
        .order_by(sources.c.next_due.asc().nulls_first(), sources.c.id)
    )


def remove_source(conn: Connection, source_id: int) -> bool:
    """Stop polling a source; its articles stay."""
    result = conn.execute(delete(sources).where(sources.c.id == source_id))
    return result.rowcount > 0


def record_fetch(conn: Connection, outcome: FetchOutcome, state: PollState) -> None:
    """Log one fetch attempt and move the source's polling state on."""
    conn.execute(
        fetches.insert().values(
            source_id=outcome.source_id,
            url=outcome.url,
            started_at=outcome.started_at,
            status=outcome.status,
            elapsed_ms=outcome.elapsed_ms,
            bytes_received=outcome.bytes_received,
            new_items=outcome.new_items,
            error=outcome.error,
        )
    )
    if outcome.source_id is None:
        return
    values: dict[str, Any] = {
        "next_due": state.next_due,
        "poll_interval_minutes": state.poll_interval_minutes,
        "last_fetched": outcome.started_at,
        "last_status": outcome.status,
        "last_error": outcome.error,
    }
    if outcome.ok:
        values["error_count"] = 0
        if outcome.status != 304:  # a 304 keeps the validators we sent
            values["etag"] = state.etag
            values["last_modified"] = state.last_modified
        if outcome.new_items:
            values["last_new_item_at"] = outcome.started_at
        if state.title:
            values["title"] = state.title
        if state.site_url:
            values["site_url"] = state.site_url
        if state.kind is not None:
            values["kind"] = state.kind.value
    else:
        values["error_count"] = sources.c.error_count + 1
    conn.execute(update(sources).where(sources.c.id == outcome.source_id).values(**values))


def recent_fetches(conn: Connection, source_id: int, limit: int = 20) -> list[FetchOutcome]:
    rows = conn.execute(
        select(fetches)
        .where(fetches.c.source_id == source_id)
        .order_by(fetches.c.started_at.desc(), fetches.c.id.desc())
        .limit(limit)
    )
    return [
        FetchOutcome(
            source_id=row.source_id,
            url=row.url,
            started_at=row.started_at,
            status=row.status,
            elapsed_ms=row.elapsed_ms,
            error=row.error,
            bytes_received=row.bytes_received,
            new_items=row.new_items,
        )
        for row in rows
    ]


def article_counts_by_source(conn: Connection) -> dict[int, int]:
    rows = conn.execute(
        select(articles.c.source_id, func.count())
        .where(articles.c.source_id.is_not(None))
        .group_by(articles.c.source_id)
    )
    return {int(source_id): int(count) for source_id, count in rows}
