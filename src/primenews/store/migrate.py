"""Copy a whole installation from one database to another (``primenews migrate-store``).

The usual move is SQLite → PostgreSQL, but any pair of our backends works.
Tables are copied in foreign-key order, in batches read as a stream, with ids
kept as they are; a table that points at itself (``stories.merged_into``) is
copied without those links first and has them set once all its rows exist.
Then PostgreSQL's id sequences are moved past the copied ids and every
table's row count is checked on both sides.

The source is only read. Stop the service while copying: rows written during
the copy are not carried over, and the count check reports them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    String,
    Table,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from primenews.errors import StoreError
from primenews.store import schema
from primenews.store.engine import POSTGRESQL, SQLITE, backend, database_url, make_engine
from primenews.store.migrations import MIGRATIONS, apply_migrations

logger = logging.getLogger(__name__)

# (table name, rows copied so far, rows in the table)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class CopyOptions:
    batch_rows: int = 2000
    force: bool = False  # empty a target that already holds rows, then copy


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    rows: int
    shortened: int = 0  # text values cut to their column's length (SQLite does not enforce it)


def open_source(url: str) -> Engine:
    """An engine on the installation to copy; a SQLite file must exist (it is never created).

    Raises:
        StoreError: no such file, or not a database URL of ours.
    """
    parsed = database_url(url)
    if parsed.get_backend_name() == SQLITE:
        path = Path(parsed.database or "")
        if not path.is_file():
            raise StoreError(
                f"store: there is no SQLite file at {str(path.resolve())!r}; "
                "give the installation's file (sqlite:////absolute/path has four slashes)"
            )
    return make_engine(url)


def data_tables() -> list[Table]:
    """The tables to copy, parents before children (``schema_migrations`` is the target's own)."""
    return [table for table in schema.metadata.sorted_tables if table is not schema.migrations]


def copy_store(
    source: Engine,
    target: Engine,
    options: CopyOptions | None = None,
    progress: Progress | None = None,
) -> list[TableCopy]:
    """Copy every table of ``source`` into ``target``; ``target`` is migrated first.

    Raises:
        StoreError: the source is not an up-to-date store, the target holds rows
            (without ``force``), a row is refused, or the counts differ after the copy.
    """
    options = options or CopyOptions()
    try:
        check_source(source)
        apply_migrations(target)
        _prepare_target(target, options.force)
        copied = [_copy_table(source, target, table, options, progress) for table in data_tables()]
        if backend(target) == POSTGRESQL:
            reset_sequences(target)
        verify_counts(source, target)
    except SQLAlchemyError as err:
        raise StoreError(
            f"store: copy failed: {err}; fix the cause and run again with --force"
        ) from err
    return copied


def check_source(source: Engine) -> None:
    """Refuse a source that is not a Prime News store at our schema version."""
    with source.connect() as conn:
        if not source.dialect.has_table(conn, schema.migrations.name):
            raise StoreError(
                "store: the source has no schema_migrations table: not a Prime News store"
            )
        applied = set(conn.execute(select(schema.migrations.c.name)).scalars())
    known = [name for name, _ in MIGRATIONS]
    if newer := sorted(applied - set(known)):
        raise StoreError(
            f"store: the source has migrations this version does not know ({', '.join(newer)}): "
            "copy it with the Prime News that made it"
        )
    if missing := [name for name in known if name not in applied]:
        raise StoreError(
            f"store: the source lacks migrations {', '.join(missing)}: "
            "run primenews --database <source> migrate first"
        )


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {table.name: _count(conn, table) for table in data_tables()}


def verify_counts(source: Engine, target: Engine) -> None:
    """Raise unless every table holds as many rows in ``target`` as in ``source``."""
    before, after = count_rows(source), count_rows(target)
    wrong = [
        f"{name}: {before[name]} → {after[name]}" for name in before if before[name] != after[name]
    ]
    if wrong:
        raise StoreError(
            f"store: row counts differ after the copy ({'; '.join(wrong)}); was the source "
            "written to meanwhile? Stop the service and run again with --force"
        )


def reset_sequences(engine: Engine) -> None:
    """Move each PostgreSQL id sequence past the largest id, so new rows get fresh ids."""
    with engine.begin() as conn:
        for table in data_tables():
            for column in _serial_columns(table):
                sequence = conn.execute(
                    select(func.pg_get_serial_sequence(table.name, column.name))
                ).scalar()
                if sequence is None:
                    continue
                top = conn.execute(select(func.max(column))).scalar()
                # setval(seq, 1, false): the next id is 1 again for an empty table.
                conn.execute(select(func.setval(sequence, top or 1, top is not None)))


def _serial_columns(table: Table) -> Iterable[Column[Any]]:
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and keys[0].autoincrement in (True, "auto") and not keys[0].foreign_keys:
        yield keys[0]


def _prepare_target(target: Engine, force: bool) -> None:
    counts = count_rows(target)
    filled = {name: count for name, count in counts.items() if count}
    if not filled:
        return
    if not force:
        listed = ", ".join(f"{name} ({count})" for name, count in filled.items())
        raise StoreError(
            f"store: the target already holds rows: {listed}; "
            "use --force to empty it first, or choose an empty database"
        )
    logger.warning("emptying the target's tables before the copy: %s", ", ".join(filled))
    with target.begin() as conn:
        for table in reversed(data_tables()):
            conn.execute(delete(table))


def _copy_table(
    source: Engine,
    target: Engine,
    table: Table,
    options: CopyOptions,
    progress: Progress | None,
) -> TableCopy:
    self_links = [
        c for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)
    ]
    limits = {
        c.name: c.type.length for c in table.columns if isinstance(c.type, String) and c.type.length
    }
    copied = shortened = 0
    with source.connect() as reader:
        total = _count(reader, table)
        if progress:
            progress(table.name, 0, total)
        rows = reader.execution_options(yield_per=options.batch_rows).execute(
            select(table).order_by(*table.primary_key.columns)
        )
        for batch in rows.partitions():
            values = [row._asdict() for row in batch]
            shortened += _shorten(values, limits)
            for row in values:
                for column in self_links:
                    row[column.name] = None  # set below, once the rows they point at exist
            with target.begin() as writer:
                writer.execute(table.insert(), values)
            copied += len(values)
            if progress:
                progress(table.name, copied, total)
    if self_links:
        _copy_self_links(source, target, table, self_links, options.batch_rows)
    if shortened:
        logger.warning("%s: %d text values cut to their column's length", table.name, shortened)
    return TableCopy(table.name, copied, shortened)


def _copy_self_links(
    source: Engine, target: Engine, table: Table, links: Sequence[Column[Any]], batch_rows: int
) -> None:
    keys = list(table.primary_key.columns)
    wanted = select(*keys, *links).where(or_(*(link.is_not(None) for link in links)))
    with source.connect() as reader:
        rows = reader.execution_options(yield_per=batch_rows).execute(wanted)
        for batch in rows.partitions():
            with target.begin() as writer:
                for row in batch:
                    match = [key == getattr(row, key.name) for key in keys]
                    writer.execute(
                        update(table)
                        .where(*match)
                        .values({link.name: getattr(row, link.name) for link in links})
                    )


def _shorten(rows: list[dict[str, Any]], limits: dict[str, int]) -> int:
    cut = 0
    for row in rows:
        for name, length in limits.items():
            value = row.get(name)
            if isinstance(value, str) and len(value) > length:
                row[name] = value[:length]
                cut += 1
    return cut


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
