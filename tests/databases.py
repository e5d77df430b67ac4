"""Where a test's store lives: a SQLite file in tmp_path, or a fresh PostgreSQL schema.

With ``PRIMENEWS_TEST_DATABASE_URL=postgresql://…`` (or ``pytest --database-url``)
every test that opens a store gets a schema of its own in that database,
created for the test and dropped after it; the store reaches it through
``search_path`` in the URL, so the code under test sees an empty database of
its own. Without it, each test gets a SQLite file in its tmp_path.

PostgreSQL DDL is slow (creating the tables takes about half a second on a
busy machine), so a background thread keeps a couple of migrated schemas
ready for the ``store`` fixture and drops used ones while the next test runs.
"""

from __future__ import annotations

import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.exc import DBAPIError

from primenews.store import Store
from primenews.store.engine import POSTGRESQL, database_url

TEST_DATABASE_ENV = "PRIMENEWS_TEST_DATABASE_URL"


class TestDatabases:
    """Hands out fresh databases of one backend for one test session."""

    __test__ = False  # a helper, not a test class

    def __init__(self, base_url: str | None) -> None:
        self.base: URL | None = database_url(base_url) if base_url else None
        self._admin: Engine | None = None
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-schemas")
        self._ready: deque[Future[str]] = deque()
        self._dropping: list[Future[None]] = []

    @property
    def backend(self) -> str:
        return self.base.get_backend_name() if self.base else "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.backend == POSTGRESQL

    def describe(self) -> str:
        if self.base is None:
            return "sqlite (a file per test)"
        return f"postgresql (a schema per test in {self.base.render_as_string(hide_password=True)})"

    def check(self) -> None:
        """Connect once, so a wrong URL fails the session at its start, with its reason."""
        with self.admin().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
            # Search's unaccent dictionary (0013_search_postgresql): made in public once, not
            # in the schema of the first test to migrate, whose drop would take it from all.
            try:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
            except DBAPIError:
                pass  # not installable: search runs without it, as the migration says

    def admin(self) -> Engine:
        assert self.base is not None
        if self._admin is None:
            self._admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        return self._admin

    def create(self, tmp_path: Path, name: str) -> str:
        """A fresh, empty database: its URL."""
        if self.base is None:
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return self._new_schema()

    def create_migrated(self, tmp_path: Path, name: str) -> str:
        """A fresh database already at the current schema (made ahead on PostgreSQL)."""
        if self.base is None:
            return self.create(tmp_path, name)
        while len(self._ready) < 3:  # the one taken now and two in the making
            self._ready.append(self._background.submit(self._new_migrated_schema))
        return self._ready.popleft().result()

    def drop(self, url: str) -> None:
        """Drop a database made here (in the background: nothing waits for it)."""
        if self.base is not None:
            self._dropping.append(self._background.submit(self._drop_schema, url))

    def close(self) -> None:
        for spare in self._ready:
            self.drop(spare.result())
        self._ready.clear()
        for dropped in self._dropping:
            dropped.result()
        self._background.shutdown()
        if self._admin is not None:
            self._admin.dispose()

    def _new_schema(self) -> str:
        assert self.base is not None
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # synchronous_commit=off: a test's commits need not wait for the disk (no crash to survive).
        options = f"-csearch_path={schema} -csynchronous_commit=off"
        url = self.base.update_query_dict({"options": options})
        return url.render_as_string(hide_password=False)

    def _new_migrated_schema(self) -> str:
        url = self._new_schema()
        store = Store.open(url)
        store.migrate()
        store.close()
        return url

    def _drop_schema(self, url: str) -> None:
        options = database_url(url).query["options"]
        assert isinstance(options, str)
        name = options.split()[0].removeprefix("-csearch_path=")
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
