"""Re-fetch the articles of active stories, so edits and corrections become revisions.

When is ``ingest.recheck``'s schedule. Each check is a conditional GET with
the validators of the last answer (the first fetch's included), so an
unchanged page costs a 304.
A changed text is saved as a new revision by the store (same canonical URL)
and goes back through the story desk (its headline may change).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from primenews.domain import FeedEntry
from primenews.errors import ExtractError, FetchError
from primenews.ingest.recheck import ACTIVE_FOR, FIRST_CHECK_AFTER, next_check_after
from primenews.store import SaveStatus
from primenews.store.checks import DueCheck
from primenews.worker.poller import Poller, place_in_story

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RefreshReport:
    checked: int = 0
    not_modified: int = 0  # 304: the page said it had not changed
    unchanged: int = 0  # fetched again, same text
    revised: int = 0
    failed: int = 0


async def refresh_articles(poller: Poller, *, everything: bool = False) -> RefreshReport:
    """Check every article that is due (or, with ``everything``, every active one) once."""
    now = poller.clock()
    due = await poller.writer.run(
        poller.store.due_checks,
        now,
        now - ACTIVE_FOR,
        first_after=now - FIRST_CHECK_AFTER,
        everything=everything,
    )
    report = RefreshReport()
    await asyncio.gather(*(_check(poller, item, report) for item in due))
    if report.revised and poller.desk is not None:
        await poller.writer.run(poller.desk.merge_pass)
    return report


async def _check(poller: Poller, item: DueCheck, report: RefreshReport) -> None:
    report.checked += 1
    now = poller.clock()
    next_check = next_check_after(now, item.checks + 1)
    try:
        page = await poller.fetcher.fetch(
            item.url, etag=item.etag, last_modified=item.last_modified
        )
        if page.not_modified:
            report.not_modified += 1
        else:
            processed = await poller.extractor.process(
                page.content,
                page.final_url,
                FeedEntry(url=item.url, published=item.published),  # the date it was listed with
                page.content_type,
            )
            article = processed.article
            if poller.boilerplate is not None:
                article = await poller.writer.run(poller.boilerplate.clean, article)
            result = await poller.writer.run(
                poller.store.save_article,
                article,
                sections=processed.sections,
                source_id=item.source_id,
                raw_html=page.content,
                fetched_at=page.fetched_at,
            )
            if result.status is SaveStatus.REVISED:
                report.revised += 1
                if poller.desk is not None:
                    await place_in_story(poller.writer, poller.desk, result.article_id)
            else:
                report.unchanged += 1
        await poller.writer.run(
            poller.store.record_check,
            item.article_id,
            checks=item.checks + 1,
            status=page.status,
            etag=page.etag,
            last_modified=page.last_modified,
            now=now,
            next_check=next_check,
        )
    except Exception as err:  # FetchError, ExtractError, or a bug: recorded, the rest goes on
        if not isinstance(err, FetchError | ExtractError):
            logger.exception("re-fetch of article %d failed", item.article_id)
        report.failed += 1
        await poller.writer.run(
            poller.store.record_check,
            item.article_id,
            checks=item.checks + 1,
            status=getattr(err, "status", None),
            error=str(err),
            now=now,
            next_check=next_check,
        )
