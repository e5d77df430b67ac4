"""Hand due sources to the queue, wait for the batch, then place the new articles in stories.

This runs in the process that polls (``primenews poll`` or ``up``) when
``queue_url`` is set. Workers fetch, extract, save and enrich (a task per
source listing, then a task per fresh entry); this process keeps the story
desk, the single writer of stories, and feeds it each task's articles as the
task ends, so the desk works while the workers do. ``primenews poll --once`` returns only when its
work is stored, stories included, and two workers never cluster alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery, states
from kombu.utils.url import maybe_sanitize_url

from primenews.domain import Source
from primenews.errors import QueueError
from primenews.worker.desk import StoryDesk
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
        on_done: called with each source's report once its listing and
            every entry it queued are done.
    """
    due = await poller.writer.run(poller.store.due_sources, poller.clock())
    if not due:
        return []
    await asyncio.to_thread(check_queue, queue)
    last_id = await poller.writer.run(poller.store.last_article_id)
    sent = await asyncio.to_thread(
        lambda: [queue.send_task(POLL_SOURCE, args=(source.id,)).id for source in due]
    )
    logger.info("queue: %d sources sent to the workers", len(due))
    placed: set[int] = set()
    reports = await _collect(
        queue, dict(zip(sent, due, strict=True)), poller, last_id, placed, on_done
    )
    await _place_batch(poller, reports, last_id, placed)
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


@dataclass(slots=True)
class _Pending:
    """A source's report while its listing task or any of its entry tasks is still out."""

    report: SourceReport
    tasks: set[str] = field(default_factory=set)


async def _collect(
    queue: Celery,
    sent: dict[str, Source],
    poller: Poller,
    last_id: int,
    placed: set[int],
    on_done: Callable[[SourceReport], None] | None,
) -> list[SourceReport]:
    """Wait for every task, placing new articles in stories as their tasks end.

    An article above ``last_id`` (the newest before the batch) is new: live
    pages hear of it once it is placed.

    A listing task's result names the entry tasks it sent; a source is done
    (``on_done``) when those are done too. A failed task reports its error.
    """
    by_source = {
        task_id: _Pending(SourceReport(source=s), {task_id}) for task_id, s in sent.items()
    }
    owner = {task_id: task_id for task_id in sent}  # task id → its source's listing task
    reports: list[SourceReport] = []
    started = nudged = time.monotonic()
    while owner:
        finished = await asyncio.to_thread(_finished, queue, list(owner))
        for task_id, value in finished.items():
            pending = by_source[owner.pop(task_id)]
            pending.tasks.discard(task_id)
            new_ids = _merge(pending.report, value, listing=task_id in sent)
            for entry_task in pending.report.queued if task_id in sent else []:
                pending.tasks.add(entry_task)
                owner[entry_task] = task_id
            if poller.desk is not None:  # the desk works while the workers do
                for article_id in sorted(new_ids):
                    await _place(poller, poller.desk, article_id, last_id)
                    placed.add(article_id)
            if not pending.tasks:
                reports.append(pending.report)
                if on_done is not None:
                    on_done(pending.report)
        if owner and not finished:
            if time.monotonic() - nudged > NUDGE_SECONDS:
                nudged = time.monotonic()
                logger.warning(
                    "queue: %d tasks of %d sources still queued or running after %.0f s; "
                    "is a `primenews worker` running on this queue?",
                    len(owner),
                    len(sent),
                    nudged - started,
                )
            await asyncio.sleep(RESULT_POLL_SECONDS)
    return reports


def _finished(queue: Celery, task_ids: list[str]) -> dict[str, Any]:
    """The results of those tasks that have ended (one MGET), forgotten once read.

    A task that raised gives a string saying so instead of its report.
    """
    backend: Any = queue.backend  # the Redis result backend
    keys = [backend.get_key_for_task(task_id) for task_id in task_ids]
    found: dict[str, Any] = {}
    for task_id, raw in zip(task_ids, backend.client.mget(keys), strict=True):
        if raw is None:
            continue
        meta = backend.decode_result(raw)
        if meta.get("status") not in states.READY_STATES:
            continue
        result = meta.get("result")
        found[task_id] = result if meta["status"] == states.SUCCESS else f"{result!r}"
    if found:
        # the batch is read once; do not keep it in Redis for a day
        backend.client.delete(*(backend.get_key_for_task(task_id) for task_id in found))
    return found


def _merge(report: SourceReport, value: Any, *, listing: bool) -> list[int]:
    """Add one task's result to its source's report; returns the article ids it stored."""
    if not isinstance(value, dict):  # the task raised: its dead letter says more
        error = f"queue task failed: {value}"
        if listing:
            report.error = error
        else:
            report.failed_pages += 1
        return []
    ids = [int(i) for i in value.get("article_ids", [])]
    report.new += int(value.get("new", 0))
    report.revised += int(value.get("revised", 0))
    report.failed_pages += int(value.get("failed_pages", 0))
    report.article_ids.extend(ids)
    if listing:
        report.status = value.get("status")
        report.error = value.get("error")
        report.elapsed_ms = float(value.get("elapsed_ms", 0.0))
        report.queued = [str(t) for t in value.get("entry_tasks", [])]
    return ids


async def _place(poller: Poller, desk: StoryDesk, article_id: int, last_id: int) -> None:
    await place_in_story(poller.writer, desk, article_id)
    if article_id > last_id:  # stored by this batch, not revised
        await poller.announce_new(article_id)


async def _place_batch(
    poller: Poller, reports: list[SourceReport], last_id: int, placed: set[int]
) -> None:
    """Place the batch's articles not placed yet in stories, in id order, then merge stories.

    New articles are read from the store (every id above the mark taken before
    the batch), not only from the reports: a task whose worker died and was
    delivered again reports only what its last attempt stored.
    """
    if poller.desk is None:
        return
    ids = set(await poller.writer.run(poller.store.article_ids_after, last_id))
    ids.update(article_id for report in reports for article_id in report.article_ids)
    for article_id in sorted(ids - placed):
        await _place(poller, poller.desk, article_id, last_id)
    if ids:
        await poller.writer.run(poller.desk.merge_pass)
