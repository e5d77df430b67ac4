"""Ordered, append-only schema migrations, each applied once and recorded.

Order is important: add new migrations at the end of ``MIGRATIONS`` and
never edit one that has shipped. ``0001_initial`` creates the tables as
``schema.py`` declared them at the time; a later change to a table is a new
migration here plus the matching change in ``schema.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select

from primenews.store import schema
from primenews.store.engine import POSTGRESQL, backend
from primenews.store.search import create_postgresql_search_index, create_search_index

logger = logging.getLogger(__name__)

Migration = Callable[[Connection], None]

# PostgreSQL advisory lock key held while migrating, so that two processes
# starting together (web and worker) apply each migration once.
_MIGRATION_LOCK = 7_411_032_009

_INITIAL_TABLES = (
    schema.sources,
    schema.fetches,
    schema.articles,
    schema.entries,
    schema.article_urls,
    schema.article_revisions,
)


def _initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=list(_INITIAL_TABLES))


def _article_sections(conn: Connection) -> None:
    schema.article_sections.create(conn)


def _stories(conn: Connection) -> None:
    tables = (schema.stories, schema.story_members, schema.story_sections, schema.duplicates)
    schema.metadata.create_all(conn, tables=list(tables))


def _article_checks(conn: Connection) -> None:
    schema.article_checks.create(conn)


def _site_boilerplate(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=[schema.site_paragraphs, schema.sites])


def _rewrites(conn: Connection) -> None:
    schema.rewrites.create(conn)


def _insights(conn: Connection) -> None:
    for table in (
        schema.entities,
        schema.entity_aliases,
        schema.article_entities,
        schema.article_insights,
    ):
        table.create(conn)


def _users(conn: Connection) -> None:
    for table in (schema.users, schema.sessions, schema.api_tokens):
        table.create(conn)


def _websub(conn: Connection) -> None:
    schema.websub_subscriptions.create(conn)


def _dead_letters(conn: Connection) -> None:
    schema.dead_letters.create(conn)


def _alerts(conn: Connection) -> None:
    for table in (schema.alerts, schema.alert_matches, schema.alert_deliveries):
        table.create(conn)


def _desk_state(conn: Connection) -> None:
    schema.desk_state.create(conn)


def _live_events(conn: Connection) -> None:
    schema.live_events.create(conn)


MIGRATIONS: tuple[tuple[str, Migration], ...] = (
    ("0001_initial", _initial),
    ("0002_article_sections", _article_sections),
    ("0003_stories", _stories),
    ("0004_insights", _insights),
    ("0005_users", _users),
    ("0006_search", create_search_index),  # FTS5 index + triggers on SQLite; see store/search.py
    ("0007_article_checks", _article_checks),
    ("0008_site_boilerplate", _site_boilerplate),
    ("0009_rewrites", _rewrites),
    ("0010_websub", _websub),
    ("0011_dead_letters", _dead_letters),
    ("0012_alerts", _alerts),
    # tsvector table, GIN index and triggers on PostgreSQL; nothing on SQLite (0006 did it).
    ("0013_search_postgresql", create_postgresql_search_index),
    ("0015_desk_state", _desk_state),
    ("0016_live_events", _live_events),
)


def apply_migrations(engine: Engine) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction.

    Returns:
        The names of the migrations applied now (empty when up to date).
    """
    with engine.connect() as conn:
        locked = backend(conn) == POSTGRESQL
        if locked:
            conn.execute(select(func.pg_advisory_lock(_MIGRATION_LOCK)))
            conn.commit()
        try:
            return _apply(conn)
        finally:
            if locked:
                conn.rollback()  # a failed migration leaves its transaction to end first
                conn.execute(select(func.pg_advisory_unlock(_MIGRATION_LOCK)))
                conn.commit()


def _apply(conn: Connection) -> list[str]:
    with conn.begin():
        schema.migrations.create(conn, checkfirst=True)
    applied_now: list[str] = []
    for name, migrate in MIGRATIONS:
        with conn.begin():
            done = conn.execute(
                select(schema.migrations.c.name).where(schema.migrations.c.name == name)
            ).first()
            if done:
                continue
            logger.info("applying migration %s", name)
            migrate(conn)
            conn.execute(schema.migrations.insert().values(name=name, applied_at=datetime.now(UTC)))
            applied_now.append(name)
    return applied_now
