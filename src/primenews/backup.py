"""Backups of a SQLite store, and restoring one, with SQLite's online backup API.

A backup copies the database in one step of the backup API, which holds one
read transaction: the copy is a consistent snapshot even while the poller
writes (in WAL mode the writer is not blocked meanwhile). It is written next to
its destination, checked (``PRAGMA integrity_check``, Prime News tables) and
only then renamed into place, so a crash never leaves half a backup under the
destination's name. PostgreSQL stores are backed up with ``pg_dump`` instead.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from primenews.errors import StoreError
from primenews.store import Store

SQLITE_MAGIC = b"SQLite format 3\x00"
REQUIRED_TABLES = frozenset({"schema_migrations", "sources", "articles", "article_urls"})


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """What a store file holds, for the CLI to report."""

    path: Path
    bytes: int
    articles: int
    sources: int
    migrations: tuple[str, ...]


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite store URL; other stores raise StoreError."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise StoreError(
            f"Only SQLite stores are backed up here ({url.get_backend_name()} given): "
            "use pg_dump / pg_restore for PostgreSQL."
        )
    return Path(url.database)


def check_store_file(path: Path) -> StoreFacts:
    """Make sure ``path`` is an intact Prime News store and say what it holds.

    Raises:
        StoreError: not a file, not SQLite, damaged, or not a Prime News store.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise StoreError(f"Cannot read {str(path)!r}: {err.strerror or err}") from err
    if magic != SQLITE_MAGIC:
        raise StoreError(f"{str(path)!r} is not a SQLite database, so not a Prime News store.")
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if problems != ["ok"]:
                raise StoreError(f"{str(path)!r} is damaged: {'; '.join(problems[:5])}")
            missing = REQUIRED_TABLES - tables
            if missing:
                raise StoreError(
                    f"{str(path)!r} is a SQLite database but not a Prime News store "
                    f"(no {', '.join(sorted(missing))} table)."
                )
            applied = tuple(
                row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY name")
            )
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            sources = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{str(path)!r} cannot be read as a store: {err}") from err
    return StoreFacts(path, path.stat().st_size, articles, sources, applied)


def store_in_use(path: Path) -> bool:
    """True when another connection (a running ``primenews up``, ``poll``…) has the file open.

    In WAL mode every open connection holds a shared lock on the file, so an exclusive
    lock taken without waiting fails exactly when someone else has it open.
    """
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as conn:
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True
    return False


def _copy(source: Path, target: Path) -> None:
    """Copy a database with the backup API, in one step (one consistent read), into ``target``."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
        # A self-contained file: no -wal beside it to forget when it is copied elsewhere.
        dst.execute("PRAGMA journal_mode=DELETE")


def backup_store(database_url: str, destination: Path) -> StoreFacts:
    """Write a consistent copy of the SQLite store to ``destination`` (replacing a file there).

    Raises:
        StoreError: the store is not SQLite or not readable, or the copy failed its check.
    """
    source = sqlite_path(database_url)
    check_store_file(source)
    if destination.resolve() == source.resolve():
        raise StoreError("The backup would overwrite the store itself: give another path.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        facts = check_store_file(partial)
        os.replace(partial, destination)
    except (sqlite3.Error, OSError) as err:
        raise StoreError(f"Backup to {str(destination)!r} failed: {err}") from err
    finally:
        partial.unlink(missing_ok=True)
    return StoreFacts(destination, facts.bytes, facts.articles, facts.sources, facts.migrations)


def restore_store(backup: Path, database_url: str, *, force: bool = False) -> list[str]:
    """Replace the store's contents with a backup, then migrate it to the current schema.

    The store being replaced, if any, is first copied to ``<name>.before-restore``.

    Args:
        force: overwrite a store that is in use by another process or holds data already.

    Returns:
        The migrations applied to the restored store (empty when it was current).

    Raises:
        StoreError: the backup is not an intact Prime News store, or the target store is in
            use or not empty and ``force`` is not set.
    """
    check_store_file(backup)
    target = sqlite_path(database_url)
    if target.exists() and target.resolve() == backup.resolve():
        raise StoreError("The backup is the store itself: nothing to restore.")
    if not force and store_in_use(target):
        raise StoreError(
            f"The store {str(target)!r} is in use (is `primenews up` or `poll` running?): "
            "stop it first, or restore with --force."
        )
    if target.exists() and target.stat().st_size > 0:
        if not force and _holds_data(target):
            raise StoreError(
                f"The store {str(target)!r} already holds sources or articles: "
                "restore with --force to replace them (a copy is kept as .before-restore)."
            )
        _copy(target, target.with_name(target.name + ".before-restore"))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _copy(backup, target)
        with contextlib.closing(sqlite3.connect(target)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as err:
        raise StoreError(f"Restoring into {str(target)!r} failed: {err}") from err
    store = Store.open(database_url)
    try:
        return store.migrate()
    finally:
        store.close()


def _holds_data(path: Path) -> bool:
    try:
        facts = check_store_file(path)
    except StoreError:
        return True  # something we do not understand: only --force may replace it
    return facts.articles > 0 or facts.sources > 0
