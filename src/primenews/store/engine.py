"""Engines for the two backends: a SQLite file in WAL mode, or PostgreSQL through psycopg 3.

Everything else in ``store/`` is written once for both; what differs lives
here (connection setup) or asks :func:`backend` (row locks for claiming work).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, Table, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import ArgumentError, DisconnectionError

from primenews.errors import StoreError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# A pooled PostgreSQL connection idle longer than this is pinged before use.
PING_AFTER_IDLE = 10.0  # seconds


def database_url(url: str) -> URL:
    """The URL parsed, with ``postgresql://`` (and ``postgres://``) meaning psycopg 3.

    Raises:
        StoreError: the URL is not one of ours.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(
            f"store: {url!r} is not a database URL: use sqlite:///path or postgresql://…"
        ) from err
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == POSTGRESQL and parsed.get_driver_name() != "psycopg":
        raise StoreError(
            f"store: PostgreSQL is reached through psycopg 3, not {parsed.get_driver_name()}: "
            "use postgresql://… or postgresql+psycopg://…"
        )
    if parsed.get_backend_name() not in (SQLITE, POSTGRESQL):
        raise StoreError(
            f"store: unsupported database {parsed.get_backend_name()!r}: "
            "use sqlite:///path or postgresql://…"
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL for messages and logs: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a URL>"


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets its folder created and WAL switched on.

    Raises:
        StoreError: an unknown kind of URL, or psycopg missing for PostgreSQL.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == POSTGRESQL:
        engine = _postgresql_engine(parsed)
    else:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "connect", _close_when_dropped)
    return engine


def backend(conn: Connection | Engine) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return conn.dialect.name


def insert_new(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows``, skipping each whose key (primary or unique) is already stored.

    ``INSERT … ON CONFLICT DO NOTHING`` on both backends: where two writers add
    the same new key at once (two queue workers meeting one new entity), the
    second waits for the first to commit and skips its row instead of failing on
    the unique index. Read the rows back afterwards for their ids.
    """
    if rows:
        conn.execute(insert_skipping_conflicts(conn, table), [dict(row) for row in rows])


def insert_new_row(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """``insert_new`` of one row: whether it was inserted (False: the key was taken)."""
    # RETURNING, not rowcount: psycopg reports -1 for a skipped row.
    statement = insert_skipping_conflicts(conn, table, returning=True)
    return conn.execute(statement, dict(values)).first() is not None


def insert_skipping_conflicts(conn: Connection, table: Table, *, returning: bool = False) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` into ``table`` (``RETURNING`` its key), built once."""
    return _insert_skipping_conflicts(backend(conn), table, returning=returning)


def dialect_insert(name: str, table: Table) -> Any:
    """``INSERT`` into ``table`` in the dialect of backend ``name``, for its ``ON CONFLICT``."""
    return (postgresql_insert if name == POSTGRESQL else sqlite_insert)(table)


@cache
def _insert_skipping_conflicts(name: str, table: Table, *, returning: bool = False) -> Any:
    # One statement per backend and table: built per call, SQLAlchemy would also recompute
    # its cache key each time (the writer runs this for every article).
    statement = dialect_insert(name, table).on_conflict_do_nothing()
    return statement.returning(*table.primary_key.columns) if returning else statement


def _close_when_dropped(dbapi_connection: Any, connection_record: Any) -> None:
    # An engine nobody disposed (a worker's registry, a CLI command's store) still
    # closes its connections when its pool is garbage-collected: psycopg would
    # otherwise warn about each connection deleted while open.
    weakref.finalize(connection_record, dbapi_connection.close)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps commits atomic
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _postgresql_engine(url: URL) -> Engine:
    try:
        engine = create_engine(url)
    except ModuleNotFoundError as err:
        raise StoreError(
            f"store: {err}: install the PostgreSQL driver with pip install 'primenews[postgres]'"
        ) from err
    event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    # A long-running poller outlives server restarts and idle timeouts, so a pooled
    # connection is pinged before use -- but only one idle for a while: pool_pre_ping
    # pinged every checkout, one extra round trip per statement batch. A connection
    # that breaks while busy fails its operation and SQLAlchemy invalidates the pool.
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_when_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, connection_record: Any) -> None:
    connection_record.info["checked_in"] = time.monotonic()


def _ping_when_idle(dbapi_connection: Any, connection_record: Any, _proxy: Any) -> None:
    checked_in = connection_record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as err:  # the pool replaces the connection and tries again
        raise DisconnectionError(f"store: pooled connection is gone: {err}") from err


def _without_nul(
    _conn: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """Drop NUL characters from text parameters: PostgreSQL text cannot hold them.

    Publishers do send them (broken encodings, binary junk in a title); SQLite
    stores them as they are, PostgreSQL would refuse the whole article.
    """
    if executemany:
        return statement, [_clean(params) for params in parameters]
    return statement, _clean(parameters)


def _clean(params: Any) -> Any:
    if isinstance(params, Mapping):
        if any(_has_nul(v) for v in params.values()):
            return {k: _drop_nul(v) for k, v in params.items()}
    elif isinstance(params, Sequence) and not isinstance(params, str | bytes):
        if any(_has_nul(v) for v in params):
            return [_drop_nul(v) for v in params]
    return params


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def _drop_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value
