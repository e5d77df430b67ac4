"""Where a test's store lives: a SQLite file in tmp_path, or a fresh PostgreSQL schema.

With ``PRIMENEWS_TEST_DATABASE_URL=postgresql://…`` (or ``pytest --database-url``)
every test that opens a store gets a schema of its own in that database,
created for the test and dropped after it; the store reaches it through
``search_path`` in the URL, so the code under test sees an empty database of
its own. Without it, each test gets a SQLite file in its tmp_path.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine

from primenews.store.engine import POSTGRESQL, database_url

TEST_DATABASE_ENV = "PRIMENEWS_TEST_DATABASE_URL"


class TestDatabases:
    """Hands out fresh databases of one backend for one test session."""

    __test__ = False  # a helper, not a test class

    def __init__(self, base_url: str | None) -> None:
        self.base: URL | None = database_url(base_url) if base_url else None
        self._admin: Engine | None = None

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

    def admin(self) -> Engine:
        assert self.base is not None
        if self._admin is None:
            self._admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        return self._admin

    def create(self, tmp_path: Path, name: str) -> str:
        """A fresh, empty database: its URL."""
        if self.base is None:
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = self.base.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if self.base is None:
            return  # the file goes with tmp_path
        schema = database_url(url).query["options"]
        assert isinstance(schema, str)
        name = schema.removeprefix("-csearch_path=")
        with self.admin().connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
