"""The per-entry queue task's message and the dispatcher's bookkeeping (no Redis needed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from primenews.domain import FeedEntry, Source
from primenews.worker.dispatch import _merge
from primenews.worker.poller import SourceReport
from primenews.worker.queue import entry_from_json, entry_json


def test_an_entry_survives_the_task_message() -> None:
    entry = FeedEntry(
        url="https://example.org/a/1",
        title="Héllo “world”",
        guid="g-1",
        published=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
        summary="<p>sum</p>",
        author="A. Writer",
        categories=("World", "Europe"),
        language="en",
    )
    message = json.loads(json.dumps(entry_json(entry)))  # what Celery's JSON serializer carries
    assert entry_from_json(message) == entry


def test_a_sparse_or_odd_message_gives_an_entry_not_a_crash() -> None:
    entry = entry_from_json({"url": "https://example.org/b", "title": None, "categories": None})
    assert entry == FeedEntry(url="https://example.org/b")


def test_a_source_report_adds_up_its_listing_and_entry_tasks() -> None:
    report = SourceReport(source=Source(url="https://example.org/feed", id=1))
    listing = {"status": 200, "error": None, "elapsed_ms": 12.0, "entry_tasks": ["t1", "t2"]}
    assert _merge(report, listing, listing=True) == []
    assert _merge(report, {"new": 1, "article_ids": [7]}, listing=False) == [7]
    assert _merge(report, "WorkerLostError('killed')", listing=False) == []
    assert (report.status, report.new, report.failed_pages) == (200, 1, 1)
    assert (report.article_ids, report.queued) == ([7], ["t1", "t2"])
