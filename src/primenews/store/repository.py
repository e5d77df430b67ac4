"""The store: one object over a SQLAlchemy engine, the only door to the database.

Each method opens a short transaction and calls a plain SQL function from
``store.sources`` / ``store.articles``, so those stay testable on a bare
connection. Writes are meant to come from one writer (the poller's main
loop); readers (web handlers, run in FastAPI's thread pool) may be many.
SQLite runs in WAL mode so readers never wait for the writer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import Article, FeedEntry, FetchOutcome, Source, StoredArticle
from primenews.errors import StoreError
from primenews.store import articles as article_sql
from primenews.store import sources as source_sql
from primenews.store.articles import Revision, SaveResult
from primenews.store.migrations import apply_migrations
from primenews.store.sources import PollState
from primenews.store.users import UserStore


def content_hash(text: str) -> str:
    """A hash of the text that ignores case, Unicode forms and whitespace."""
    normal = unicodedata.normalize("NFKC", text).casefold()
    normal = re.sub(r"\s+", " ", normal).strip()
    return hashlib.sha256(normal.encode()).hexdigest()


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets its folder created and WAL switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps commits atomic
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Store:
    """Sources, fetch log, entries, articles and revisions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.users = UserStore(engine)  # accounts, sessions, API tokens (store/users.py)

    @classmethod
    def open(cls, url: str) -> Store:
        try:
            return cls(make_engine(url))
        except SQLAlchemyError as err:
            raise StoreError(f"store: cannot open {url!r}: {err}") from err

    def close(self) -> None:
        self.engine.dispose()

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the migrations applied now."""
        try:
            return apply_migrations(self.engine)
        except SQLAlchemyError as err:
            raise StoreError(f"store: migration failed: {err}") from err

    # Sources

    def add_source(self, source: Source, now: datetime) -> tuple[Source, bool]:
        with self.engine.begin() as conn:
            return source_sql.add_source(conn, source, now)

    def get_source(self, source_id: int) -> Source | None:
        with self.engine.connect() as conn:
            return source_sql.get_source(conn, source_id)

    def source_by_url(self, url: str) -> Source | None:
        with self.engine.connect() as conn:
            return source_sql.source_by_url(conn, url)

    def list_sources(self) -> list[Source]:
        with self.engine.connect() as conn:
            return source_sql.list_sources(conn)

    def due_sources(self, now: datetime) -> list[Source]:
        with self.engine.connect() as conn:
            return source_sql.due_sources(conn, now)

    def remove_source(self, source_id: int) -> bool:
        with self.engine.begin() as conn:
            return source_sql.remove_source(conn, source_id)

    def record_fetch(self, outcome: FetchOutcome, state: PollState) -> None:
        with self.engine.begin() as conn:
            source_sql.record_fetch(conn, outcome, state)

    def recent_fetches(self, source_id: int, limit: int = 20) -> list[FetchOutcome]:
        with self.engine.connect() as conn:
            return source_sql.recent_fetches(conn, source_id, limit)

    def article_counts_by_source(self) -> dict[int, int]:
        with self.engine.connect() as conn:
            return source_sql.article_counts_by_source(conn)

    # Entries and articles

    def pending_entries(self, source_id: int, candidates: Sequence[FeedEntry]) -> list[FeedEntry]:
        with self.engine.connect() as conn:
            return article_sql.pending_entries(conn, source_id, candidates)

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        with self.engine.connect() as conn:
            return article_sql.known_urls(conn, urls)

    def record_entry(
        self,
        source_id: int,
        entry: FeedEntry,
        now: datetime,
        *,
        article_id: int | None = None,
        error: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            article_sql.record_entry(
                conn, source_id, entry, now, article_id=article_id, error=error
            )

    def save_article(
        self,
        article: Article,
        *,
        source_id: int | None,
        raw_html: bytes,
        fetched_at: datetime,
        entry: FeedEntry | None = None,
        sections: Mapping[str, float] | None = None,
    ) -> SaveResult:
        """Store an article (and mark the feed entry that led to it) in one transaction."""
        with self.engine.begin() as conn:
            result = article_sql.save_article(
                conn,
                article,
                content_hash=content_hash(article.text),
                source_id=source_id,
                raw_html=raw_html,
                fetched_at=fetched_at,
                sections=sections,
            )
            if entry is not None and source_id is not None:
                article_sql.record_entry(
                    conn, source_id, entry, fetched_at, article_id=result.article_id
                )
            return result

    def get_article(self, article_id: int) -> StoredArticle | None:
        with self.engine.connect() as conn:
            return article_sql.get_article(conn, article_id)

    def list_articles(
        self,
        *,
        source_id: int | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        section: str | None = None,
    ) -> tuple[list[StoredArticle], str | None]:
        with self.engine.connect() as conn:
            return article_sql.list_articles(
                conn, source_id=source_id, since=since, limit=limit, cursor=cursor, section=section
            )

    def list_revisions(self, article_id: int) -> list[Revision]:
        with self.engine.connect() as conn:
            return article_sql.list_revisions(conn, article_id)

    def raw_html(self, article_id: int, revision: int | None = None) -> bytes | None:
        with self.engine.connect() as conn:
            return article_sql.raw_html(conn, article_id, revision)

    def count_articles(self) -> int:
        with self.engine.connect() as conn:
            return article_sql.count_articles(conn)
