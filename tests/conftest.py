"""Fixtures shared by every test package: a clean environment and the store's database.

Every test that needs a store takes ``store`` (migrated), ``migrated_database_url``
or ``database_url`` (empty), or calls ``new_database_url()`` for more; they are SQLite files by
default and PostgreSQL schemas with ``--database-url`` or
``PRIMENEWS_TEST_DATABASE_URL`` (see ``databases.py``). A test that only
makes sense on SQLite is marked ``@pytest.mark.sqlite_only("why")``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from primenews.store import Store

from databases import TEST_DATABASE_ENV, TestDatabases

_DATABASES = pytest.StashKey[TestDatabases]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=None,
        help=f"Run the store tests on this PostgreSQL database (or set {TEST_DATABASE_ENV}).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test checks something only SQLite has"
    )
    # Read here: the clean_environ fixture removes every PRIMENEWS_* variable from tests.
    url = config.getoption("--database-url") or os.environ.get(TEST_DATABASE_ENV) or None
    try:
        databases = TestDatabases(url)
        if databases.is_postgresql:
            databases.check()
    except Exception as err:  # any reason at all: the session cannot run as asked
        raise pytest.UsageError(f"test database {url!r} cannot be used: {err}") from err
    config.stash[_DATABASES] = databases


def pytest_unconfigure(config: pytest.Config) -> None:
    if _DATABASES in config.stash:
        config.stash[_DATABASES].close()


def pytest_report_header(config: pytest.Config) -> str:
    return f"store: {config.stash[_DATABASES].describe()}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("sqlite_only")
    if marker is not None and item.config.stash[_DATABASES].is_postgresql:
        reason = marker.args[0] if marker.args else "SQLite only"
        pytest.skip(f"SQLite only: {reason}")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No PRIMENEWS_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PRIMENEWS_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def databases(request: pytest.FixtureRequest) -> TestDatabases:
    return request.config.stash[_DATABASES]


@pytest.fixture
def new_database_url(databases: TestDatabases, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases for this test; each is dropped after it."""
    made: list[str] = []

    def new() -> str:
        made.append(databases.create(tmp_path, f"db{len(made)}"))
        return made[-1]

    yield new
    for url in made:
        databases.drop(url)


@pytest.fixture
def database_url(new_database_url: Callable[[], str]) -> str:
    """The URL of an empty database for this test (SQLite file or PostgreSQL schema)."""
    return new_database_url()


@pytest.fixture
def migrated_database_url(databases: TestDatabases, tmp_path: Path) -> Iterator[str]:
    """The URL of a database for this test, at the current schema."""
    url = databases.create_migrated(tmp_path, "migrated")
    yield url
    databases.drop(url)


@pytest.fixture
def store(migrated_database_url: str) -> Iterator[Store]:
    """A migrated store on the test's database."""
    opened = Store.open(migrated_database_url)
    opened.migrate()  # a no-op on PostgreSQL's schemas made ahead; creates the SQLite file
    yield opened
    opened.close()
