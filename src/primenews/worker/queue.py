"""The queue: Celery on Redis runs each due source's poll in `primenews worker` processes.

Two tasks do what the in-process poller does, with the same ``Poller`` code,
minus the story desk: ``primenews.poll_source(source_id)`` fetches a source's
listing and sends one ``primenews.poll_entry(source_id, entry)`` task per
fresh entry, which fetches, extracts, cleans, saves and enriches that article.
A task per article, not per source, keeps every worker busy to the end of a
batch whatever the sizes of the sources. The process that enqueued the batch
(``worker/dispatch.py``) waits for both kinds and places the new articles
into stories as they come, so clustering keeps one writer.

Delivery guarantees, and why they hold:

- Acknowledged after the task returns (``acks_late``), and requeued when the
  process running it dies (``reject_on_worker_lost``): a killed worker loses
  nothing, and the next delivery repeats the poll.
- A repeated poll stores nothing twice: an article's identity is its
  canonical URL, an entry already stored is no longer pending, and insights
  the dead attempt did not save are computed for the source's articles
  without any (``_enrich_missing``). The fetch log does show both attempts.
- Store errors are retried with exponential backoff; a task that still fails,
  or that was delivered ``MAX_DELIVERIES`` times (its worker kept dying on
  it), leaves a dead letter in the store, shown on the sources page and in
  ``primenews sources list``.

Each worker process opens its own store, fetcher and event loop on its first
task (after the prefork pool forked it), and keeps them for its life.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from sqlalchemy.exc import DBAPIError

from primenews.config import Settings
from primenews.domain import FeedEntry, Source
from primenews.errors import StoreError
from primenews.ingest.fetch import Fetcher, FetchOptions
from primenews.store import SaveResult, SaveStatus, Store
from primenews.store.dead_letters import DeadLetter
from primenews.worker.boilerplate import BoilerplateFilter
from primenews.worker.enrichment import enrich_saved
from primenews.worker.local import ExtractPool
from primenews.worker.poller import Poller, PollOptions, SourceReport

logger = logging.getLogger(__name__)

POLL_SOURCE = "primenews.poll_source"
POLL_ENTRY = "primenews.poll_entry"
MAX_RETRIES = 5  # store errors: retried after ~2, 4, 8, 16, 32 s (jittered), then a dead letter
MAX_DELIVERIES = 10  # more deliveries than retries can explain: its worker keeps dying on it
DELIVERIES_TTL_SECONDS = 24 * 3600  # a count outlives any redelivery; done tasks delete theirs
REPAIR_WINDOW = timedelta(days=2)  # how far back a poll looks for articles left without insights

# The app exists at import (Celery finds tasks on it by name); it is configured
# only by ``configure_queue``, from the settings the CLI built.
app = Celery("primenews", set_as_current=False)


def configure_queue(settings: Settings, poll_options: PollOptions) -> Celery:
    """Point the app at ``settings.queue_url`` and remember what workers need to run tasks."""
    global _settings, _poll_options
    _settings, _poll_options = settings, poll_options
    app.conf.update(
        broker_url=settings.queue_url,
        result_backend=settings.queue_url,
        task_default_queue=settings.queue_name,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task reserved per process: a task waits in Redis, not behind a busy or dying worker.
        worker_prefetch_multiplier=1,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        redis_socket_connect_timeout=5,
        worker_hijack_root_logger=False,  # cli.py configures logging
        worker_redirect_stdouts=False,
    )
    return app


_settings: Settings | None = None
_poll_options: PollOptions | None = None


@dataclass(slots=True)
class _WorkerContext:
    settings: Settings
    store: Store
    loop: asyncio.AbstractEventLoop
    poller: Poller


_context: _WorkerContext | None = None


def _worker_context() -> _WorkerContext:
    """This process's store, fetcher, extractor and event loop, made on first use."""
    global _context
    if _context is None:
        if _settings is None or _poll_options is None:
            raise RuntimeError("queue: configure_queue(settings) was not called in this process")
        store = Store.open(_settings.database_url)
        # Extraction and insights run on a thread of this process: the worker's
        # concurrency (prefork processes) is what uses the cores.
        extractor = ExtractPool(
            0, insights=_settings.insights_enabled, registry_url=_settings.database_url
        )
        poller = Poller(
            store, Fetcher(FetchOptions.from_settings(_settings)), extractor, _poll_options
        )
        _context = _WorkerContext(_settings, store, asyncio.new_event_loop(), poller)
    return _context


class _PollTask(Task[[int], dict[str, Any]]):
    """Retries on store errors, with backoff; what still fails becomes a dead letter."""

    autoretry_for = (StoreError, DBAPIError)
    max_retries = MAX_RETRIES
    retry_backoff = 2
    retry_backoff_max = 120
    retry_jitter = True
    acks_late = True
    reject_on_worker_lost = True

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        attempts = int(self.request.retries or 0) + 1
        _record_dead_letter(self.name, task_id, _source_id(args), f"{exc!r}", attempts)


def _dead_letter(task: _PollTask, source_id: int, deliveries: int) -> dict[str, Any]:
    """Record a task delivered too often as a dead letter; its report."""
    error = f"delivered {deliveries} times: the worker running it kept dying (out of memory?)"
    _record_dead_letter(task.name, str(task.request.id), source_id, error, deliveries)
    return {"source_id": source_id, "error": error, "dead_letter": True}


@app.task(bind=True, base=_PollTask, name=POLL_SOURCE)
def poll_source(self: _PollTask, source_id: int) -> dict[str, Any]:
    """Poll one source's listing in this worker and queue its fresh entries; returns its report.

    The report's ``entry_tasks`` are the ids of the ``poll_entry`` tasks sent.
    """
    deliveries = _count_delivery(self)
    if deliveries > MAX_DELIVERIES:
        return _dead_letter(self, source_id, deliveries)
    context = _worker_context()
    source = context.store.get_source(source_id)
    if source is None:
        return {"source_id": source_id, "error": "source removed before its poll ran"}
    # Before this poll's entries are sent: what lacks insights now was left by a dead attempt
    # of an earlier batch, not by an entry task still running on another worker.
    context.loop.run_until_complete(_enrich_missing(context, source_id, [], whole_source=True))

    async def send_entries(source: Source, entries: list[FeedEntry]) -> list[str]:
        return [
            self.app.send_task(POLL_ENTRY, args=(source_id, entry_json(entry))).id
            for entry in entries
        ]

    context.poller.boilerplate = BoilerplateFilter(context.store)  # a page source saves here
    context.poller.entry_sink = send_entries
    try:
        report = context.loop.run_until_complete(context.poller.poll_source(source))
    finally:
        context.poller.entry_sink = None
    context.loop.run_until_complete(
        _enrich_missing(context, source_id, report.article_ids, whole_source=False)
    )
    _forget_deliveries(self)
    return report_json(report)


@app.task(bind=True, base=_PollTask, name=POLL_ENTRY)
def poll_entry(self: _PollTask, source_id: int, entry: dict[str, Any]) -> dict[str, Any]:
    """Fetch, extract, store and enrich one entry of a source; returns its report as JSON."""
    deliveries = _count_delivery(self)
    if deliveries > MAX_DELIVERIES:
        return _dead_letter(self, source_id, deliveries)
    context = _worker_context()
    source = context.store.get_source(source_id)
    if source is None:
        return {"source_id": source_id, "error": "source removed before its entry ran"}
    # A fresh filter per task: another worker may have learnt this site's boilerplate.
    context.poller.boilerplate = BoilerplateFilter(context.store)
    report = context.loop.run_until_complete(
        context.poller.poll_entry(source, entry_from_json(entry))
    )
    # A redelivery follows a dead attempt, which may have saved the article without insights.
    context.loop.run_until_complete(
        _enrich_missing(context, source_id, report.article_ids, whole_source=deliveries > 1)
    )
    _forget_deliveries(self)
    return report_json(report)


def entry_json(entry: FeedEntry) -> dict[str, Any]:
    """A feed entry as the JSON a task message carries."""
    return {
        "url": entry.url,
        "title": entry.title,
        "guid": entry.guid,
        "published": entry.published.isoformat() if entry.published else None,
        "updated": entry.updated.isoformat() if entry.updated else None,
        "summary": entry.summary,
        "content_html": entry.content_html,
        "author": entry.author,
        "categories": list(entry.categories),
        "image": entry.image,
        "language": entry.language,
    }


def entry_from_json(data: dict[str, Any]) -> FeedEntry:
    """The entry back from :func:`entry_json`."""

    def when(value: Any) -> datetime | None:
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return FeedEntry(
        url=str(data["url"]),
        title=str(data.get("title") or ""),
        guid=str(data.get("guid") or ""),
        published=when(data.get("published")),
        updated=when(data.get("updated")),
        summary=str(data.get("summary") or ""),
        content_html=str(data.get("content_html") or ""),
        author=str(data.get("author") or ""),
        categories=tuple(str(c) for c in data.get("categories") or ()),
        image=str(data.get("image") or ""),
        language=str(data.get("language") or ""),
    )


def report_json(report: SourceReport) -> dict[str, Any]:
    assert report.source.id is not None
    return {
        "source_id": report.source.id,
        "status": report.status,
        "error": report.error,
        "new": report.new,
        "revised": report.revised,
        "failed_pages": report.failed_pages,
        "elapsed_ms": report.elapsed_ms,
        "article_ids": report.article_ids,
        "entry_tasks": report.queued,
    }


async def _enrich_missing(
    context: _WorkerContext, source_id: int, saved: list[int], *, whole_source: bool
) -> int:
    """With ``whole_source``, insights for the source's recent articles that have none (an
    earlier attempt died); and once more for the articles this task saved whose insights
    failed to save.

    The second case is a race the in-process poller cannot have: two workers
    saving the same new entity name at once, one of them refused by the
    store's unique key; a second try finds the other's entity. Re-extracts
    from the stored page, so the insights read the same text the poller
    would have handed over. Returns how many were enriched.
    """
    poller, store = context.poller, context.store
    if not poller.extractor.insights:
        return 0
    since = poller.clock() - REPAIR_WINDOW
    todo = (
        await poller.writer.run(store.unenriched_articles, source_id, since) if whole_source else []
    )
    failed = await poller.writer.run(store.failed_insights, saved) if saved else []
    todo += [article_id for article_id in failed if article_id not in todo]
    repaired = 0
    for article_id in todo:
        stored = await poller.writer.run(store.get_article, article_id)
        raw = await poller.writer.run(store.raw_html, article_id)
        if stored is None or raw is None:
            continue
        article = stored.article
        url = article.fetched_url or article.url
        # the stored date stands in for the feed's: the page may declare none
        listed = FeedEntry(url=url, published=article.published)
        processed = await poller.extractor.process(raw, url, listed)
        result = SaveResult(article_id=article_id, status=SaveStatus.NEW, revision=stored.revision)
        await enrich_saved(
            store, poller.writer, poller.extractor, processed.article, result, poller.clock
        )
        repaired += 1
    if repaired:
        logger.info("queue: insights made for %d articles a dead attempt left without", repaired)
    return repaired


def _count_delivery(task: _PollTask) -> int:
    """How many times this task id was delivered (retries included), counted in Redis."""
    key = _deliveries_key(task)
    try:
        client = task.app.backend.client  # type: ignore[attr-defined]  # the Redis backend's
        count = int(client.incr(key))
        client.expire(key, DELIVERIES_TTL_SECONDS)
    except Exception:  # the count is a safety net; never fail the poll over it
        logger.exception("queue: could not count the deliveries of %s", task.request.id)
        return 1
    return count


def _forget_deliveries(task: _PollTask) -> None:
    """Drop a finished task's delivery count, so Redis holds counts of running tasks only."""
    try:
        task.app.backend.client.delete(_deliveries_key(task))  # type: ignore[attr-defined]
    except Exception:  # at worst the key expires on its own
        logger.exception("queue: could not drop the delivery count of %s", task.request.id)


def _deliveries_key(task: _PollTask) -> str:
    return f"primenews:deliveries:{task.request.id}"


def _source_id(args: Any) -> int | None:
    return int(args[0]) if args and isinstance(args[0], int) else None


def _record_dead_letter(
    task: str, task_id: str, source_id: int | None, error: str, attempts: int
) -> None:
    letter = DeadLetter(
        task_id=task_id,
        task=task,
        source_id=source_id,
        error=error,
        attempts=attempts,
        failed_at=datetime.now(UTC),
    )
    logger.error(
        "queue: task %s gave up after %d attempts: %s",
        task_id,
        attempts,
        error,
        extra={"job_id": task_id, "source_id": source_id},
    )
    try:
        _worker_context().store.record_dead_letter(letter)
    except Exception:  # the store itself may be what failed: the log line above keeps it
        logger.exception("queue: could not record the dead letter of %s", task_id)


def run_worker(settings: Settings, poll_options: PollOptions, *, pool: str = "prefork") -> int:
    """Run a Celery worker on ``settings.queue_name`` until it is stopped; returns its exit code."""
    configure_queue(settings, poll_options)
    concurrency = settings.worker_concurrency or (os.cpu_count() or 1)
    worker = app.Worker(
        hostname=f"primenews-{os.getpid()}@{socket.gethostname()}",
        queues=[settings.queue_name],
        concurrency=1 if pool == "solo" else concurrency,
        pool=pool,
        loglevel=settings.log_level,
        without_mingle=True,  # workers share nothing to sync at start
        without_gossip=True,
    )
    worker.start()
    return int(worker.exitcode or 0)
