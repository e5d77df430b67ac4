"""The poller: fetch due sources, read their entries, fetch, extract and store new articles.

This is the I/O shell around ``pipeline``: the fetcher brings bytes, the
extract pool runs the pure stages, the store writer saves. A failure is
recorded against its source (or its entry) and never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from primenews.domain import Feed, FeedEntry, FetchOutcome, LiveEvent, Page, Source, SourceKind
from primenews.errors import ExtractError, FetchError, ParseError, PrimeNewsError
from primenews.ingest.fetch import Fetcher
from primenews.ingest.recheck import next_check_after
from primenews.ingest.schedule import PollResult, ScheduleOptions, next_poll
from primenews.pipeline import read_listing, select_entries
from primenews.store import PollState, SaveStatus, Store
from primenews.worker.boilerplate import BoilerplateFilter
from primenews.worker.desk import StoryDesk
from primenews.worker.enrichment import enrich_saved
from primenews.worker.live import ARTICLE_STORED, EventSink
from primenews.worker.local import ExtractPool, StoreWriter, utc_now

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Pages fetched but not yet stored, per extract worker: enough to hide fetch and
# store latency, few enough that a poll of thousands of entries stays small in memory.
IN_FLIGHT_PER_WORKER = 8


@dataclass(frozen=True, slots=True)
class PollOptions:
    max_entries_per_source: int = 200
    max_child_sitemaps: int = 5
    schedule: ScheduleOptions = field(default_factory=ScheduleOptions)


@dataclass(slots=True)
class SourceReport:
    """What one poll of one source did."""

    source: Source
    status: int | None = None
    error: str | None = None
    new: int = 0
    revised: int = 0
    failed_pages: int = 0
    elapsed_ms: float = 0.0
    retry_after_seconds: float | None = None  # a refusal's Retry-After
    article_ids: list[int] = field(default_factory=list)  # new and revised, for a remote desk
    queued: list[str] = field(default_factory=list)  # entries handed to the queue (task ids)


EntrySink = Callable[[Source, list[FeedEntry]], Awaitable[list[str]]]


class PushHooks(Protocol):
    """What the poller asks of WebSub (``worker.websub``): it sees each feed, and says
    until when a source's pushes stand in for polls."""

    async def seen_feed(self, source: Source, feed: Feed, page: Page) -> None: ...

    def poll_again_at(self, source_id: int, adaptive_due: datetime) -> datetime: ...


@dataclass(slots=True)
class _Listing:
    feed: Feed
    entries: list[FeedEntry]


class Poller:
    """Polls sources into the store; one instance per process."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        extractor: ExtractPool,
        options: PollOptions | None = None,
        *,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
        desk: StoryDesk | None = None,
        boilerplate: BoilerplateFilter | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.store = store
        self.events = events
        self.push: PushHooks | None = None  # set by the WebSub manager when push is on
        self.desk = desk
        self.boilerplate = boilerplate
        self.fetcher = fetcher
        self.extractor = extractor
        self.options = options or PollOptions()
        self.clock = clock
        self.rng = rng or random.Random()
        self.writer = StoreWriter()
        # Set by a queue worker: fresh entries go there (a task each) instead of being fetched here.
        self.entry_sink: EntrySink | None = None
        self._in_flight = asyncio.Semaphore(extractor.size * IN_FLIGHT_PER_WORKER)

    def close(self) -> None:
        self.writer.close()

    async def poll_due(
        self, on_done: Callable[[SourceReport], None] | None = None
    ) -> list[SourceReport]:
        """Poll every source that is due now, all at once (the fetcher keeps it polite)."""
        due = await self.writer.run(self.store.claim_due_sources, self.clock())
        return await self.poll_sources(due, on_done)

    async def poll_sources(
        self, sources: Iterable[Source], on_done: Callable[[SourceReport], None] | None = None
    ) -> list[SourceReport]:
        reports: list[SourceReport] = []
        for next_done in asyncio.as_completed([self.poll_source(s) for s in sources]):
            report = await next_done
            reports.append(report)
            if on_done is not None:
                on_done(report)
        if self.desk is not None and any(report.new or report.revised for report in reports):
            await self.writer.run(self.desk.merge_pass)
        return reports

    async def poll_source(self, source: Source) -> SourceReport:
        """Poll one source; every outcome, good or bad, ends up in the fetch log."""
        report = SourceReport(source=source)
        started_at, start = self.clock(), time.perf_counter()
        page: Page | None = None
        feed: Feed | None = None
        try:
            page = await self.fetcher.fetch(
                source.url, etag=source.etag, last_modified=source.last_modified
            )
            report.status = page.status
            if not page.not_modified:
                feed = await self._read_source(source, page, report)
            if feed is not None and self.push is not None:
                await self.push.seen_feed(source, feed, page)
        except (FetchError, ParseError) as err:
            report.error = str(err)
            report.status = getattr(err, "status", None) or report.status
            report.retry_after_seconds = getattr(err, "retry_after_seconds", None)
        except Exception as err:  # a bug: log it with its traceback, record it, go on
            logger.exception("poll of %s failed", source.url, extra={"source_id": source.id})
            report.error = f"internal error: {type(err).__name__}: {err}"
        report.elapsed_ms = (time.perf_counter() - start) * 1000
        await self._record(source, report, started_at, page, feed)
        return report

    async def _read_source(self, source: Source, page: Page, report: SourceReport) -> Feed | None:
        if source.kind is SourceKind.PAGE:
            entry = FeedEntry(url=source.url)
            await self._store_page(source, entry, page, report)
            return None
        listing = await self._read_listing(page)
        entries = select_entries(listing.entries, self.options.max_entries_per_source)
        assert source.id is not None
        pending = await self.writer.run(self.store.pending_entries, source.id, entries)
        # Another source may have brought some of these articles already: no fetch for them.
        known = await self.writer.run(self.store.known_urls, [entry.url for entry in pending])
        fresh = [entry for entry in pending if entry.url not in known]
        if self.entry_sink is not None:
            report.queued.extend(await self.entry_sink(source, fresh))
            return listing.feed
        await asyncio.gather(*(self._process_entry(source, entry, report) for entry in fresh))
        return listing.feed

    async def _read_listing(self, page: Page) -> _Listing:
        feed = read_listing(page)
        entries = list(feed.entries)
        for child_url in feed.sitemaps[: self.options.max_child_sitemaps]:
            try:
                child = read_listing(await self.fetcher.fetch(child_url))
            except (FetchError, ParseError) as err:
                logger.warning("sitemap %s skipped: %s", child_url, err)
                continue
            entries.extend(child.entries)
        return _Listing(feed, entries)

    async def poll_entry(self, source: Source, entry: FeedEntry) -> SourceReport:
        """Fetch, extract, store and enrich one entry of ``source`` (a queue task's share)."""
        report = SourceReport(source=source)
        start = time.perf_counter()
        await self._process_entry(source, entry, report)
        report.elapsed_ms = (time.perf_counter() - start) * 1000
        return report

    async def _process_entry(self, source: Source, entry: FeedEntry, report: SourceReport) -> None:
        async with self._in_flight:
            await self._fetch_entry(source, entry, report)

    async def _fetch_entry(self, source: Source, entry: FeedEntry, report: SourceReport) -> None:
        assert source.id is not None
        try:
            page = await self.fetcher.fetch(entry.url)
        except FetchError as err:
            report.failed_pages += 1
            await self.writer.run(
                self.store.record_entry, source.id, entry, self.clock(), error=str(err)
            )
            return
        await self._store_page(source, entry, page, report)

    async def _store_page(
        self, source: Source, entry: FeedEntry, page: Page, report: SourceReport
    ) -> None:
        try:
            processed = await self.extractor.process(
                page.content, page.final_url, entry, page.content_type
            )
        except ExtractError as err:
            report.failed_pages += 1
            if source.id is not None:
                await self.writer.run(
                    self.store.record_entry, source.id, entry, self.clock(), error=str(err)
                )
            return
        article = processed.article
        if self.boilerplate is not None:
            article = await self.writer.run(self.boilerplate.clean, article)
        result = await self.writer.run(
            self.store.save_article,
            article,
            sections=processed.sections,
            source_id=source.id,
            raw_html=page.content,
            fetched_at=page.fetched_at,
            entry=entry if source.id is not None else None,
        )
        if self.boilerplate is not None and result.status is SaveStatus.NEW:
            await self.writer.run(self.boilerplate.learn, processed.article)
        if result.status is SaveStatus.NEW:
            report.new += 1
        elif result.status is SaveStatus.REVISED:
            report.revised += 1
        if result.status is not SaveStatus.UNCHANGED:
            report.article_ids.append(result.article_id)
        if result.status is SaveStatus.NEW:  # keep the validators for a conditional re-fetch
            await self.writer.run(
                self.store.record_check,
                result.article_id,
                now=page.fetched_at,
                next_check=next_check_after(page.fetched_at, 0),
                checks=0,
                status=page.status,
                etag=page.etag,
                last_modified=page.last_modified,
            )
        if self.desk is not None and result.status is not SaveStatus.UNCHANGED:
            await place_in_story(self.writer, self.desk, result.article_id)
        # Announced once in its story, before insights: spaCy takes 0.1-1 s an article,
        # and live pages show the article, not its insights.
        if result.status is SaveStatus.NEW:
            await self.announce_new(result.article_id)
        await enrich_saved(
            self.store, self.writer, self.extractor, processed.article, result, self.clock
        )

    async def announce_new(self, article_id: int) -> None:
        """Tell live pages about a new article, once it is in its story."""
        if self.events is not None:
            await self.writer.run(self._announce_article, article_id)

    def _announce_article(self, article_id: int) -> None:
        """Tell live pages about a new article (in the writer's thread, after its story)."""
        stored = self.store.get_article(article_id)
        if stored is None or self.events is None:
            return
        data: dict[str, object] = {
            "article_id": stored.id,
            "url": stored.article.url,
            "title": stored.article.title,
            "source_id": stored.source_id,
            "story_id": stored.story_id,
            "sections": list(stored.sections),
        }
        self.events.publish(
            LiveEvent(ARTICLE_STORED, data, story_id=stored.story_id, sections=stored.sections)
        )

    async def receive_push(self, source: Source, page: Page) -> SourceReport:
        """Process a feed body a WebSub hub pushed, exactly like a polled one (no schedule change).

        The push is not a poll, so the source's next poll and fetch log stay as they are.
        """
        report = SourceReport(source=source, status=page.status)
        start = time.perf_counter()
        try:
            await self._read_source(source, page, report)
        except (FetchError, ParseError) as err:
            report.error = str(err)
        except Exception as err:  # a bug: log it with its traceback, report it, go on
            logger.exception("push for %s failed", source.url, extra={"source_id": source.id})
            report.error = f"internal error: {type(err).__name__}: {err}"
        if self.desk is not None and (report.new or report.revised):
            await self.writer.run(self.desk.merge_pass)
        report.elapsed_ms = (time.perf_counter() - start) * 1000
        return report

    async def _record(
        self,
        source: Source,
        report: SourceReport,
        started_at: datetime,
        page: Page | None,
        feed: Feed | None,
    ) -> None:
        ok = report.error is None
        error_count = 0 if ok else source.error_count + 1
        result = PollResult(
            ok=ok,
            new_items=report.new + len(report.queued),  # queued entries are new to this store
            error_count=error_count,
            ttl_minutes=feed.ttl_minutes if feed else None,
            headers=dict(page.headers) if page else None,
            retry_after_seconds=report.retry_after_seconds,
        )
        # From the poll's start: the time spent storing and enriching its articles does not
        # stretch the cycle (a slow poll is followed by the next one at once, not an interval on).
        next_due, interval = next_poll(
            source.poll_interval_minutes, result, started_at, self.options.schedule, self.rng
        )
        next_due = max(next_due, self.clock())
        if self.push is not None and source.id is not None and ok:
            next_due = await self.writer.run(self.push.poll_again_at, source.id, next_due)
        state = PollState(
            next_due=next_due,
            poll_interval_minutes=interval,
            etag=page.etag if page else None,
            last_modified=page.last_modified if page else None,
            title=(feed.title if feed else "") or source.title,
            site_url=(feed.site_url if feed else "") or source.site_url,
        )
        outcome = FetchOutcome(
            source_id=source.id,
            url=source.url,
            started_at=started_at,
            status=report.status,
            elapsed_ms=report.elapsed_ms,
            error=report.error,
            bytes_received=len(page.content) if page else 0,
            new_items=report.new + len(report.queued),
        )
        try:
            await self.writer.run(self.store.record_fetch, outcome, state)
        except PrimeNewsError:
            logger.exception("could not record the fetch of %s", source.url)


async def place_in_story(writer: StoreWriter, desk: StoryDesk, article_id: int) -> None:
    """Put a stored article into its story; a failure there never undoes the article."""
    try:
        await writer.run(desk.record, [article_id])
    except Exception:  # a bug in the stories stage: the article is stored, log and go on
        logger.exception("stories: article %d was not placed in a story", article_id)
