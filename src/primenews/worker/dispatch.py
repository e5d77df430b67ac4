"""Hand due sources to the queue, wait for the batch, then place the new articles in stories.

This runs in the process that polls (``primenews poll`` or ``up``) when
``queue_url`` is set. Workers fetch, extract, save and enrich; this process
keeps the story desk, the single writer of stories, and feeds it the batch's
articles in id (= first-seen) order once every task of the batch is done.
So ``primenews poll --once`` returns only when its work is stored, stories
included, and two workers never cluster alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from celery import Celery, group
from celery.result import AsyncResult, GroupResult
from kombu.utils.url import maybe_sanitize_url

from primenews.domain import Source
from primenews.errors import QueueError
from primenews.worker.poller import Poller, SourceReport, place_in_story
from primenews.worker.queue import POLL_SOURCE

logger = logging.getLogger(__name__)

RESULT_POLL_SECONDS = 0.2  # how often the batch's results are looked at in Redis
NUDGE_SECONDS = 30.0  # say what is awaited when a batch takes this long


async def dispatch_due(
    poller: Poller, queue: Celery, on_done: Callable[[SourceReport], None] | None = None
) -> list[SourceReport]:
    """Poll every due source through the queue; returns when all of them are done.

    Args:
        poller: the in-process poller whose store, clock, writer thread and
            story desk this process keeps (it fetches nothing here).
        queue: the configured Celery app (``worker.queue.configure_queue``).
        on_done: called with each source's report as its task finishes.
    """
    due = await poller.writer.run(poller.store.due_sources, poller.clock())
    if not due:
        return []
    await asyncio.to_thread(check_queue, queue)
    last_id = await poller.writer.run(poller.store.last_article_id)
    batch = group(queue.signature(POLL_SOURCE, args=(source.id,)) for source in due)
    result = await asyncio.to_thread(batch.apply_async)
    assert isinstance(result, GroupResult)  # what a group's apply_async returns
    logger.info("queue: %d sources sent to the workers", len(due), extra={"job_id": result.id})
    reports = await _collect(list(result.results or []), due, on_done)
    await _place_batch(poller, reports, last_id)
    return reports


def check_queue(queue: Celery) -> None:
    """Raise ``QueueError`` unless the broker and the result store both answer."""
    url = maybe_sanitize_url(queue.conf.broker_url)
    try:
        with queue.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
        queue.backend.client.ping()  # type: ignore[attr-defined]  # the Redis result backend's
    except Exception as err:  # kombu and redis-py each raise their own connection errors
        raise QueueError(
            f"queue: cannot reach {url}: {str(err).rstrip('.')}. Start Redis there, "
            "or unset PRIMENEWS_QUEUE_URL to poll in-process."
        ) from err


async def _collect(
    results: Sequence[AsyncResult[Any]],
    sources: Sequence[Source],
    on_done: Callable[[SourceReport], None] | None,
) -> list[SourceReport]:
    """Wait for every task, reporting each as it ends (a failed task reports its error)."""
    by_id = {source.id: source for source in sources}
    pending = dict(zip(results, sources, strict=True))
    reports: list[SourceReport] = []
    started = nudged = time.monotonic()
    while pending:
        finished = await asyncio.to_thread(lambda: [r for r in pending if r.ready()])
        for result in finished:
            source = pending.pop(result)
            report = _report(by_id, source, result)
            reports.append(report)
            if on_done is not None:
                on_done(report)
        if pending and not finished:
            if time.monotonic() - nudged > NUDGE_SECONDS:
                nudged = time.monotonic()
                logger.warning(
                    "queue: %d of %d sources still queued or running after %.0f s; "
                    "is a `primenews worker` running on this queue?",
                    len(pending),
                    len(sources),
                    nudged - started,
                )
            await asyncio.sleep(RESULT_POLL_SECONDS)
    return reports


def _report(
    by_id: dict[int | None, Source], source: Source, result: AsyncResult[Any]
) -> SourceReport:
    value: Any = result.get(propagate=False)
    result.forget()  # the batch is read once; do not keep it in Redis for a day
    if not isinstance(value, dict):  # the task raised: its dead letter says more
        return SourceReport(source=source, error=f"queue task failed: {value!r}")
    return SourceReport(
        source=by_id.get(value.get("source_id"), source),
        status=value.get("status"),
        error=value.get("error"),
        new=int(value.get("new", 0)),
        revised=int(value.get("revised", 0)),
        failed_pages=int(value.get("failed_pages", 0)),
        elapsed_ms=float(value.get("elapsed_ms", 0.0)),
        article_ids=[int(i) for i in value.get("article_ids", [])],
    )


async def _place_batch(poller: Poller, reports: list[SourceReport], last_id: int) -> None:
    """Place the batch's new and revised articles in stories, in id order, on this desk.

    New articles are read from the store (every id above the mark taken before
    the batch), not only from the reports: a task whose worker died and was
    delivered again reports only what its last attempt stored.
    """
    if poller.desk is None:
        return
    ids = set(await poller.writer.run(poller.store.article_ids_after, last_id))
    ids.update(article_id for report in reports for article_id in report.article_ids)
    for article_id in sorted(ids):
        await place_in_story(poller.writer, poller.desk, article_id)
    if ids:
        await poller.writer.run(poller.desk.merge_pass)
