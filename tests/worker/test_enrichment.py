"""Insights through the worker path: ingest pages, enrich in the pool, save by the single writer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from primenews import service
from primenews.config import Settings, load_settings
from primenews.domain import Page
from primenews.insights.model import EntityKind
from primenews.store import Store
from primenews.web.app import create_app
from primenews.worker.local import ExtractPool

from shared_data import SEED_DIR, require_shared

FETCHED = datetime(2024, 11, 29, 10, 0, tzinfo=UTC)
# Another outlet that spells the minister's name right, a day before the seed article.
EARLIER_PAGE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Argentina protests to Caracas</title>
<meta property="article:published_time" content="2024-11-28T08:00:00Z"></head><body><article>
<h1>Argentina protests to Caracas over embassy siege</h1>
<p>Argentina's foreign minister Gerardo Werthein said on Wednesday that the government in
Caracas had cut the power to the ambassador's residence, where six opposition figures have
sheltered since March.</p>
<p>Gerardo Werthein told reporters in Buenos Aires that Argentina would raise the matter with
its partners in the region and would not abandon the people under its protection.</p>
<p>Brazil, which took charge of the residence after the Argentine diplomats were expelled,
said it was following the situation closely and called for calm on all sides.</p>
</article></body></html>"""


def _settings(tmp_path: Path, database: str, **changes: object) -> Settings:
    overrides = {"data_dir": str(tmp_path), "database": database, **changes}
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str) -> Settings:
    return _settings(tmp_path, migrated_database_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = service.open_store(settings)
    yield opened
    opened.close()


def _page(url: str, content: bytes) -> Page:
    return Page(url, url, 200, content, FETCHED, {"content-type": "text/html; charset=utf-8"})


def _seed_page() -> Page:
    url = "https://primenews.example/world/venezuela-frees-103-detained-after-election"
    return _page(url, require_shared(SEED_DIR / "page.html").read_bytes())


def _earlier_page() -> Page:
    return _page("https://other.example/world/argentina-protests", EARLIER_PAGE)


def _ingest(store: Store, pool: ExtractPool, pages: list[Page]) -> service.IngestReport:
    try:
        return asyncio.run(service.ingest_pages(store, pages, pool))
    finally:
        pool.close()


def test_ingest_saves_the_seed_article_insights(settings: Settings, store: Store) -> None:
    report = _ingest(store, service.extract_pool(settings, processes=0), [_seed_page()])
    assert report.new == 1
    stored = store.get_article_insights(1)
    assert stored is not None and stored.error is None
    names = {(e.entity.kind, e.entity.name) for e in stored.entities}
    assert {
        (EntityKind.PERSON, "Edmundo González"),
        (EntityKind.PERSON, "Nicolás Maduro"),
        (EntityKind.ORGANIZATION, "Organization of American States"),
        (EntityKind.PLACE, "Caracas"),
    } <= names
    assert any(f.value == 2000 and f.noun == "people" for f in stored.figures)
    speakers = {q.speaker for q in stored.quotes}
    assert "Edmundo González" in speakers
    assert stored.summary and stored.language == "en"
    gonzalez = next(e for e in stored.entities if e.entity.name == "Edmundo González")
    quote = next(q for q in stored.quotes if q.speaker == "Edmundo González")
    assert stored.entity_id(quote.speaker_key) == gonzalez.entity.id

    # Ingesting the same page again changes nothing: no second enrichment, counts unchanged.
    again = _ingest(store, service.extract_pool(settings, processes=0), [_seed_page()])
    assert again.unchanged == 1
    assert store.get_entity(gonzalez.entity.id) == gonzalez.entity


@pytest.mark.anyio
async def test_ingested_insights_reach_the_api(settings: Settings, store: Store) -> None:
    pool = service.extract_pool(settings, processes=0)
    try:
        await service.ingest_pages(store, [_seed_page()], pool)
    finally:
        pool.close()
    app = create_app(settings, store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        insights = (await c.get("/api/v1/articles/1")).json()["insights"]
        names = [e["name"] for e in insights["entities"]]
        assert "Edmundo González" in names
        people = (await c.get("/api/v1/entities", params={"kind": "person"})).json()
        assert "Edmundo González" in [e["name"] for e in people["entities"]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_worker_processes_resolve_a_misspelling_against_the_store(
    settings: Settings, store: Store
) -> None:
    """One spawned worker process: its own engine on the store sees the right spelling."""
    pool = service.extract_pool(settings, processes=1)
    try:
        asyncio.run(service.ingest_pages(store, [_earlier_page()], pool))
        asyncio.run(service.ingest_pages(store, [_seed_page()], pool))
    finally:
        pool.close()
    people = store.list_entities(kind=EntityKind.PERSON, prefix="gerardo")[0]
    assert [(p.name, p.article_count) for p in people] == [("Gerardo Werthein", 2)]
    assert "Gerardo Werhein" in store.entity_aliases(people[0].id)
    seed = store.get_article_insights(2)
    assert seed is not None
    assert any(q.speaker == "Gerardo Werthein" for q in seed.quotes)


def test_a_failing_enrichment_keeps_the_article_and_records_why(
    tmp_path: Path, store: Store
) -> None:
    broken = tmp_path / "not-a-database.sqlite3"
    broken.write_text("this is not SQLite\n" * 100)
    pool = ExtractPool(0, insights=True, registry_url=f"sqlite:///{broken}")
    report = _ingest(store, pool, [_seed_page()])
    assert report.new == 1 and store.count_articles() == 1
    stored = store.get_article_insights(1)
    assert stored is not None and stored.entities == ()
    assert stored.error is not None and "not a database" in stored.error


def test_insights_can_be_switched_off(tmp_path: Path, database_url: str) -> None:
    settings = _settings(tmp_path, database_url, insights_enabled=False)
    store = service.open_store(settings)
    try:
        report = _ingest(store, service.extract_pool(settings, processes=0), [_seed_page()])
        assert report.new == 1
        assert store.get_article_insights(1) is None
    finally:
        store.close()


def test_an_article_in_another_language_gets_a_summary_only(
    settings: Settings, store: Store
) -> None:
    spanish = (
        "<html lang='es'><head><title>Liberan a 103 detenidos</title></head><body><article>"
        "<h1>Liberan a 103 detenidos tras las elecciones</h1>"
        + "".join(
            f"<p>El gobierno de Venezuela anunció el jueves la liberación de {n} personas "
            "detenidas durante las protestas, según la fiscalía, que no dio más detalles.</p>"
            for n in (103, 40, 12)
        )
        + "</article></body></html>"
    ).encode()
    page = _page("https://noticias.example/liberan", spanish)
    _ingest(store, service.extract_pool(settings, processes=0), [page])
    stored = store.get_article_insights(1)
    assert stored is not None and stored.error is None
    assert stored.language == "es" and stored.summary
    assert (stored.entities, stored.figures, stored.quotes) == ((), (), ())
