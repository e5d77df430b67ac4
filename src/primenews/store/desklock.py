"""One story desk per store: the lock a polling process holds while its desk runs.

Stories have a single writer (docs/architecture.md). Two polling processes on
one store would each keep a desk and cluster the same articles apart, quietly;
the lock turns that mistake into an error at start-up that says what to run.
PostgreSQL: a session advisory lock per schema, on a connection held open (the
server drops it with the session, so a killed poller frees it). SQLite: an
exclusive ``flock`` on a file beside the database, which the kernel drops with
the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, func, select

from primenews.errors import StoreError
from primenews.store.engine import POSTGRESQL, backend, safe_url

# the first key of the advisory lock; the second is the schema's hash
_DESK_LOCK = 741_103_201  # int4: the two-key form takes two

BUSY = (
    "another process already runs the story desk on this store ({where}): run one "
    "poller (`primenews up` or `primenews poll`) per store, and start further web "
    "processes with `primenews up --no-poll`"
)


@contextlib.contextmanager
def desk_lock(engine: Engine) -> Iterator[None]:
    """Hold the store's desk lock for the block.

    Raises:
        StoreError: another process holds it.
    """
    if backend(engine) == POSTGRESQL:
        with _advisory_lock(engine):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":  # private to this process anyway
        yield
        return
    with _file_lock(Path(f"{database}-desk.lock")):
        yield


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    key = (_DESK_LOCK, func.hashtext(func.current_schema()))
    with engine.connect() as conn:
        if not conn.execute(select(func.pg_try_advisory_lock(*key))).scalar_one():
            raise StoreError(BUSY.format(where=safe_url(str(engine.url))))
        conn.commit()  # the lock is the session's; no transaction stays open
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection has freed it already
                conn.execute(select(func.pg_advisory_unlock(*key)))
                conn.commit()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise StoreError(BUSY.format(where=path)) from err
        yield
    finally:
        os.close(descriptor)  # closing drops the lock
