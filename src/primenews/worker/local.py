"""In-process workers: extraction and insights in a process pool, store writes on one thread.

Extraction (HTML parsing) and insights (spaCy NER) are CPU-bound, so they run
in processes to use every core; the event loop only fetches and hands bytes
over. Each process loads the spaCy pipeline once and uses it from its one
thread (spaCy is not thread-safe). Writes go through a single thread so
SQLite always has exactly one writer.

The insights stage resolves names against the store's known entities: each
worker process opens its own engine on the database URL and only reads from
it (``StoreRegistry``), so a misspelt name meets the right spelling that any
article saved before it used. Resolving in the worker rather than in the
writer keeps the writer's thread free of NER-side lookups; the writer still
maps a name that two workers met at the same time onto one entity
(``store.insights.save_insights``).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import ParamSpec, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import Article, FeedEntry, ProcessedArticle
from primenews.errors import StoreError
from primenews.extract.article import ExtractOptions
from primenews.insights.canonical import KnownEntity, NameKey
from primenews.insights.model import EntityKind, Insights
from primenews.pipeline import insights_of, process_page
from primenews.store.engine import make_engine
from primenews.store.insights import StoreRegistry, entity_candidates, find_entities

P = ParamSpec("P")
T = TypeVar("T")


def utc_now() -> datetime:
    """The clock the workers use unless a test passes its own."""
    return datetime.now(UTC)


def worker_count(configured: int) -> int:
    """Processes to start: the configured number, or one per core when it is 0."""
    return configured if configured > 0 else (os.cpu_count() or 1)


class ExtractPool:
    """Runs ``pipeline.process_page`` off the event loop.

    Args:
        processes: worker processes; 0 runs extraction on a thread in this
            process (for tests and tiny jobs, where starting processes costs more).
        options: extraction options passed to every call.
        insights: run the insights stage on new and revised articles (``enrich``).
        registry_url: the database whose known entities names are resolved
            against; None resolves within each article only.
    """

    def __init__(
        self,
        processes: int,
        options: ExtractOptions | None = None,
        *,
        insights: bool = False,
        registry_url: str | None = None,
    ) -> None:
        self.options = options
        self.insights = insights
        self.registry_url = registry_url
        self._thread_registry: StoreRegistry | None = None
        self._executor: Executor
        if processes > 0:
            # "spawn": forking a process that already runs threads and an event loop is unsafe.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=processes, mp_context=context, initializer=lower_priority
            )
        else:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        self.size = max(processes, 1)

    async def process(
        self, content: bytes, url: str, entry: FeedEntry | None = None, content_type: str = ""
    ) -> ProcessedArticle:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, process_page, content, url, entry, self.options, content_type
        )

    async def enrich(self, article: Article) -> Insights:
        """The article's insights, computed in a worker (raises whatever the stage raised)."""
        loop = asyncio.get_running_loop()
        if isinstance(self._executor, ProcessPoolExecutor):
            return await loop.run_in_executor(
                self._executor, enrich_in_worker, article, self.registry_url
            )
        if self._thread_registry is None and self.registry_url:
            self._thread_registry = StoreRegistry(make_engine(self.registry_url))
        work = partial(_insights_on_one_connection, article, self._thread_registry)
        return await loop.run_in_executor(self._executor, work)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._thread_registry is not None:
            self._thread_registry.engine.dispose()


# Extract workers run this much nicer than the web server and the store writer.
WORKER_NICENESS = 10


def lower_priority() -> None:
    """Extract worker initialiser: let readers' requests come first on a small box.

    Extraction is throughput work that may take seconds longer without harm;
    a page request waits with a reader in front of it. With both on two cores,
    the scheduler otherwise shares them evenly and every page waits behind the
    parsers (bench/load.py: p99 of ``/`` while polling). Nice 10 gives the
    server about ten times the extractors' share when both want a core, and
    the extractors every cycle the server leaves idle.
    """
    with contextlib.suppress(OSError):  # not permitted somewhere: run at normal priority
        os.nice(WORKER_NICENESS)


# One registry per database URL in each worker process, opened on first use.
_worker_registries: dict[str, StoreRegistry] = {}


def enrich_in_worker(article: Article, registry_url: str | None) -> Insights:
    """``pipeline.insights_of`` in a worker process, against its own engine on the store."""
    registry = None
    if registry_url:
        registry = _worker_registries.get(registry_url)
        if registry is None:
            registry = _worker_registries[registry_url] = StoreRegistry(make_engine(registry_url))
    return _insights_on_one_connection(article, registry)


def _insights_on_one_connection(article: Article, registry: StoreRegistry | None) -> Insights:
    """``insights_of`` with every name lookup of the article on one connection.

    An article resolves ~40 names; a connection per lookup costs a pool
    checkout, PostgreSQL's pre-ping and a rollback each (0.59 against
    0.25 CPU ms per lookup, measured on PostgreSQL).
    """
    if registry is None:
        return insights_of(article, None)
    try:
        with registry.engine.connect() as conn:
            return insights_of(article, _HeldRegistry(conn))
    except SQLAlchemyError as err:
        raise StoreError(f"store: entity lookup failed: {err}") from err


class _HeldRegistry:
    """The store's known entities read through one open connection (``EntityRegistry``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find_many(self, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
        return find_entities(self.conn, keys)

    def candidates(self, name: str, kind: EntityKind, limit: int) -> list[KnownEntity]:
        return entity_candidates(self.conn, name, kind, limit)


class StoreWriter:
    """One thread for every store call of the poller, so writes never overlap."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        # wait=True: a write already started always finishes (no half-written article).
        self._executor.shutdown(wait=True)
