"""Web fixtures: the app over the test's real store (tests/conftest.py), an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import argon2
import httpx
import pytest
from fastapi import FastAPI

from primenews.auth import PasswordHasher
from primenews.auth.accounts import create_api_token, create_user
from primenews.config import Settings, load_settings
from primenews.domain import Source, SourceKind
from primenews.store import Store
from primenews.web.app import create_app

from factories import MakeArticle, article_maker

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

MakeSource = Callable[..., Source]

# Two outlets' reports of one event: a story of two different texts on the same figures.
VENEZUELA = (
    "Venezuelan authorities freed 103 people detained in the protests that followed the "
    "disputed presidential election, the attorney general's office said, while rights groups "
    "said at least 1,800 others remained in custody and urged Caracas to release them all."
)
VENEZUELA_2 = (
    "Rights groups in Caracas welcomed the release of 103 detainees held since the disputed "
    "presidential election in Venezuela but said at least 1,800 people remain in custody, "
    "and the attorney general's office gave no date for further releases."
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str) -> Settings:
    """Settings naming the test's store (the ``store`` fixture opens the same database)."""
    config = tmp_path / "primenews.toml"
    config.write_text("")
    overrides = {"data_dir": str(tmp_path), "database": migrated_database_url}
    return load_settings(config_file=config, environ={}, overrides=overrides)


@pytest.fixture
def added_sources() -> list[Source]:
    """What the app's on_source_added hook was called with."""
    return []


@pytest.fixture
def app(settings: Settings, store: Store, added_sources: list[Source]) -> FastAPI:
    return create_app(settings, store, on_source_added=added_sources.append)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def make_source(store: Store) -> MakeSource:
    def make(
        url: str = "https://news.example/feed.xml",
        title: str = "Example News",
        kind: SourceKind = SourceKind.FEED,
    ) -> Source:
        source, _ = store.add_source(Source(url=url, title=title, kind=kind), NOW)
        return source

    return make


@pytest.fixture
def make_article(store: Store) -> MakeArticle:
    """Save an article through the store; returns its id. Later calls are older articles."""
    return article_maker(store)


@pytest.fixture(scope="session")
def quick_hasher() -> PasswordHasher:
    """argon2id with tiny costs: test accounts need not spend 64 MiB a hash."""
    return PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def api_headers(store: Store, quick_hasher: PasswordHasher) -> dict[str, str]:
    """An Authorization header with a valid API token of a fresh admin account."""
    user = create_user(store, quick_hasher, "api-admin", "correct horse battery", NOW)
    _, token = create_api_token(store, user, "tests", NOW)
    return {"Authorization": f"Bearer {token}"}
