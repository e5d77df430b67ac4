"""Wiring: build the store, fetcher, pools and poller from settings, and run them.

The CLI and tests call these; nothing here holds state between calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import uvicorn

from primenews import catalog
from primenews.alerts.digest import Links
from primenews.alerts.mail import MailOptions
from primenews.alerts.runner import INSIGHTS_WAIT, DeliveryOptions, RunReport, run_due
from primenews.alerts.webhooks import WebhookOptions
from primenews.config import Settings
from primenews.domain import Page, Source
from primenews.errors import ExtractError, QueueError
from primenews.ingest.fetch import Fetcher, FetchOptions
from primenews.ingest.netsafety import SafeTransport
from primenews.ingest.schedule import ScheduleOptions
from primenews.store import SaveStatus, Store
from primenews.store.desklock import desk_lock
from primenews.worker.boilerplate import BoilerplateFilter
from primenews.worker.desk import StoryDesk
from primenews.worker.enrichment import enrich_saved
from primenews.worker.live import KeptEvents, NumberedSink
from primenews.worker.local import ExtractPool, StoreWriter, utc_now, worker_count
from primenews.worker.poller import Poller, PollOptions, SourceReport, place_in_story
from primenews.worker.refresher import RefreshReport, refresh_articles
from primenews.worker.websub import WebSubManager, WebSubOptions, maintain_forever

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

# Longest sleep of the poll loop: how long a source made due by another process (a web
# process's new source or WebSub push) can wait. A source added in this process wakes it.
IDLE_WAIT_SECONDS = 15.0
DUE_MARGIN_SECONDS = 0.01  # wake this long after a source is due, so it is due when claimed
QUEUE_RETRY_SECONDS = 30.0  # wait after the queue could not be reached


def open_store(settings: Settings) -> Store:
    """The store, migrated to the current schema."""
    store = Store.open(settings.database_url)
    store.migrate()
    return store


def poll_options(settings: Settings) -> PollOptions:
    return PollOptions(
        max_entries_per_source=settings.max_entries_per_source,
        schedule=ScheduleOptions(
            default_minutes=settings.poll_interval_minutes,
            min_minutes=settings.poll_min_interval_minutes,
            max_minutes=settings.poll_max_interval_minutes,
        ),
    )


def extract_pool(settings: Settings, processes: int | None = None) -> ExtractPool:
    """The worker pool for extraction and (when ``insights_enabled``) insights."""
    return ExtractPool(
        worker_count(settings.extract_workers) if processes is None else processes,
        insights=settings.insights_enabled,
        registry_url=settings.database_url,
    )


def queue_app(settings: Settings) -> Celery | None:
    """The Celery app on ``queue_url``, or None when polling runs in-process."""
    if not settings.queue_url:
        return None
    from primenews.worker.queue import configure_queue  # celery loads only when used

    return configure_queue(settings, poll_options(settings))


async def poll_due(
    settings: Settings, poller: Poller, on_done: Callable[[SourceReport], None] | None = None
) -> list[SourceReport]:
    """Poll the due sources in-process, or through the queue when ``queue_url`` is set."""
    queue = queue_app(settings)
    if queue is None:
        return await poller.poll_due(on_done)
    from primenews.worker.dispatch import dispatch_due

    return await dispatch_due(poller, queue, on_done)


@contextlib.asynccontextmanager
async def running_poller(
    settings: Settings,
    store: Store,
    *,
    processes: int | None = None,
    events: NumberedSink | None = None,
) -> AsyncIterator[Poller]:
    """A poller with its fetcher and extract pool, all closed on exit.

    The desk and the poller keep their live events in the store, for every web
    process, and with ``events`` stream them from this process too.

    Raises:
        StoreError: another process runs a desk on this store (its lock is taken).
    """
    with desk_lock(store.engine):
        kept = KeptEvents(store, events)
        fetcher = Fetcher(FetchOptions.from_settings(settings))
        extractor = extract_pool(settings, processes)
        poller = Poller(
            store,
            fetcher,
            extractor,
            poll_options(settings),
            desk=StoryDesk(store, events=kept),
            boilerplate=BoilerplateFilter(store),
            events=kept,
        )
        try:
            if poller.desk is not None:  # replay recent articles before any new one arrives
                await poller.writer.run(poller.desk.start)
            yield poller
        finally:
            if poller.desk is not None and poller.desk.started:  # the next start loads it
                await poller.writer.run(poller.desk.save_state)
            await fetcher.aclose()
            extractor.close()
            poller.close()


async def poll_once(
    settings: Settings,
    store: Store,
    on_done: Callable[[SourceReport], None] | None = None,
    *,
    processes: int | None = None,
) -> list[SourceReport]:
    """Poll every due source once and return what each poll did."""
    async with running_poller(settings, store, processes=processes) as poller:
        return await poll_due(settings, poller, on_done)


async def refresh_once(
    settings: Settings, store: Store, *, processes: int | None = None
) -> RefreshReport:
    """Fetch every article of an active story again now (``primenews refresh``)."""
    async with running_poller(settings, store, processes=processes) as poller:
        return await refresh_articles(poller, everything=True)


async def poll_forever(
    poller: Poller, stop: asyncio.Event, wake: asyncio.Event, settings: Settings | None = None
) -> None:
    """Poll due sources and re-check due articles until ``stop`` is set; sleep until due.

    With ``settings.queue_url`` set the polls go to the queue's workers.
    """
    while not stop.is_set():
        wake.clear()
        try:
            reports = await (poller.poll_due() if settings is None else poll_due(settings, poller))
        except QueueError as err:  # Redis down: keep serving, try again later
            logger.error("%s (trying again in %.0f s)", err, QUEUE_RETRY_SECONDS)
            reports = None
        if reports:
            logger.info(
                "polled %d sources: %d new articles",
                len(reports),
                sum(report.new for report in reports),
            )
        refreshed = await refresh_articles(poller)
        if refreshed.revised:
            logger.info("re-checked %d articles: %d revised", refreshed.checked, refreshed.revised)
        if settings is not None:
            await alerts_after_round(settings, poller.store)
        delay = QUEUE_RETRY_SECONDS if reports is None else _seconds_to_next_due(poller.store)
        waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())}
        _, pending = await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()


def _seconds_to_next_due(store: Store) -> float:
    now = datetime.now(UTC)
    dues = [source.next_due for source in store.list_sources() if source.next_due]
    if not dues:
        return IDLE_WAIT_SECONDS
    wait = (min(dues) - now).total_seconds()
    if wait <= 0:  # due already but not claimed (another process has it): look again soon
        return 1.0
    # Wake when the first source is due, not up to a second after (a poll's latency).
    return min(IDLE_WAIT_SECONDS, wait + DUE_MARGIN_SECONDS)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run_up`` stops it and the poller together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_websub(settings: Settings, poller: Poller) -> AsyncIterator[WebSubManager | None]:
    """The WebSub manager installed on ``poller``, or None without ``public_url``."""
    if not settings.public_url:
        logger.info("websub: public_url is not set; polling only")
        yield None
        return
    policy = FetchOptions.from_settings(settings).policy  # hubs get the fetcher's address rules
    client = httpx.AsyncClient(
        transport=SafeTransport(policy),
        headers={"User-Agent": settings.user_agent},
        follow_redirects=False,
        trust_env=False,
    )
    manager = WebSubManager(poller, client, WebSubOptions(public_url=settings.public_url))
    poller.push = manager
    try:
        yield manager
    finally:
        poller.push = None
        await manager.aclose()
        await client.aclose()


async def run_up(settings: Settings, *, poll: bool = True, serve: bool = True) -> None:
    """Serve the site and poll sources until SIGINT/SIGTERM, then stop without losing a write.

    Without ``poll`` this is one of any number of web processes beside a poller
    that runs elsewhere: it takes no desk lock, starts no extract pool and asks
    no hub for pushes; the sources it adds, and the WebSub pushes it is sent,
    become due for that poller (``web.websub``).
    """
    from primenews.web.app import create_app  # the web layer sits on top; import it late
    from primenews.web.events import Broadcaster, fill_ring, relay_stored_events
    from primenews.web.worldmap import country_shapes

    store = open_store(settings)
    stop, wake = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The map's country shapes take a few seconds to build: not on the first reader's time.
    if serve:
        loop.run_in_executor(None, country_shapes)
    live = Broadcaster()
    try:
        async with contextlib.AsyncExitStack() as running:
            poller: Poller | None = None
            manager: WebSubManager | None = None
            relay: asyncio.Task[None] | None = None
            if poll:
                fill_ring(store, live)  # a stream that reconnects after a restart misses nothing
                poller = await running.enter_async_context(
                    running_poller(settings, store, events=live)
                )
                manager = await running.enter_async_context(running_websub(settings, poller))
                fetcher = poller.fetcher
            else:  # the poller's process keeps its events in the store: stream them here
                fetcher = Fetcher(FetchOptions.from_settings(settings))
                running.push_async_callback(fetcher.aclose)
                relay = asyncio.create_task(relay_stored_events(store, live, stop))
            hook = _source_hook(store, fetcher, wake)
            app = create_app(
                settings, store, on_source_added=hook, live_events=live, websub_manager=manager
            )
            server = _Server(
                uvicorn.Config(
                    app, host=settings.host, port=settings.port, log_config=None, lifespan="on"
                )
            )
            web = asyncio.create_task(server.serve()) if serve else None
            polling = (
                asyncio.create_task(poll_forever(poller, stop, wake, settings))
                if poller is not None
                else None
            )
            leases = asyncio.create_task(maintain_forever(manager, stop)) if manager else None
            tasks = [task for task in (web, polling, leases, relay) if task is not None]
            await _first_of(tasks, stop)
            logger.info("stopping: finishing the writes under way")
            live.close()  # open event streams end, or uvicorn would wait for them
            server.should_exit = True  # uvicorn lets open requests finish, then returns
            if polling is not None:
                # Entries not yet processed stay pending for the next run; a write the
                # store writer has begun still finishes (StoreWriter.close waits for it).
                polling.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    raise result
    finally:
        store.close()


def _source_hook(store: Store, fetcher: Fetcher, wake: asyncio.Event) -> Callable[[Source], None]:
    """What the web API calls for a new source: resolve it in the background, wake the poller.

    It runs on the event loop (see ``web.api.add_source``), so it only starts a task.
    """
    running: set[asyncio.Task[None]] = set()

    async def refine_and_wake(source: Source) -> None:
        await catalog.refine_source(store, fetcher, source)
        wake.set()

    def on_source_added(source: Source) -> None:
        task = asyncio.create_task(refine_and_wake(source))
        running.add(task)  # keep a reference until done, as asyncio asks
        task.add_done_callback(running.discard)

    return on_source_added


async def _first_of(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Wait until ``stop`` is set or a task ends (a crash, or the server failing to bind)."""
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    stop.set()


@dataclass(slots=True)
class IngestReport:
    pages: int = 0
    new: int = 0
    unchanged: int = 0
    revised: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


async def ingest_pages(
    store: Store,
    pages: Iterable[Page],
    extractor: ExtractPool,
    on_page: Callable[[Page], None] | None = None,
    desk: StoryDesk | None = None,
    boilerplate: BoilerplateFilter | None = None,
) -> IngestReport:
    """Extract archived pages in parallel, store them in input order, then place their stories.

    Saving in input order makes article ids, and so the stories, the same on
    every run over the same pages. Each article commits on its own.
    """
    report = IngestReport()
    writer = StoreWriter()
    limit = asyncio.Semaphore(extractor.size * 2)

    async def one(page: Page, turn: asyncio.Event | None, done: asyncio.Event) -> None:
        try:
            processed = await extractor.process(
                page.content, page.final_url, content_type=page.content_type
            )
            if turn is not None:
                await turn.wait()
            article = processed.article
            if boilerplate is not None:
                article = await writer.run(boilerplate.clean, article)
            result = await writer.run(
                store.save_article,
                article,
                sections=processed.sections,
                source_id=None,
                raw_html=page.content,
                fetched_at=page.fetched_at,
            )
            _count(report, result.status)
            if boilerplate is not None and result.status is SaveStatus.NEW:
                await writer.run(boilerplate.learn, processed.article)
            if desk is not None and result.status is not SaveStatus.UNCHANGED:
                await place_in_story(writer, desk, result.article_id)
            await enrich_saved(store, writer, extractor, processed.article, result, utc_now)
        except ExtractError as err:
            report.failed += 1
            report.errors.append(f"{page.url}: {err}")
        finally:
            done.set()
            report.pages += 1
            limit.release()
            if on_page is not None:
                on_page(page)

    tasks = []
    previous: asyncio.Event | None = None
    try:
        if desk is not None and not desk.started:
            await writer.run(desk.start)
        for page in pages:
            await limit.acquire()
            done = asyncio.Event()
            tasks.append(asyncio.create_task(one(page, previous, done)))
            previous = done
        await asyncio.gather(*tasks)
        if desk is not None:
            await writer.run(desk.merge_pass)
    finally:
        writer.close()
    return report


def _count(report: IngestReport, status: SaveStatus) -> None:
    if status is SaveStatus.NEW:
        report.new += 1
    elif status is SaveStatus.REVISED:
        report.revised += 1
    else:
        report.unchanged += 1


# Alerts (alerts/): matched and delivered after each poll round and by `primenews alerts run-due`.


def alert_options(settings: Settings) -> DeliveryOptions:
    """Where digests link to, the SMTP server, and how webhooks are retried."""
    site = settings.public_url.rstrip("/") or f"http://{settings.host}:{settings.port}"
    return DeliveryOptions(
        links=Links(site),
        mail=MailOptions(
            host=settings.smtp_host,
            port=settings.smtp_port,
            user=settings.smtp_user,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            timeout_seconds=settings.smtp_timeout_seconds,
        ),
        webhook=WebhookOptions(
            retries=settings.alert_webhook_retries,
            backoff_seconds=settings.alert_webhook_backoff_seconds,
            timeout_seconds=settings.alert_webhook_timeout_seconds,
            user_agent=settings.user_agent,
        ),
        insights_wait=INSIGHTS_WAIT if settings.insights_enabled else timedelta(0),
    )


def webhook_client(settings: Settings) -> httpx.AsyncClient:
    """An HTTP client for webhooks with the fetcher's address rules (no private addresses
    unless ``allow_private_networks`` or ``fetch_allowlist`` allow them), no redirects."""
    policy = FetchOptions.from_settings(settings).policy
    return httpx.AsyncClient(
        transport=SafeTransport(policy), follow_redirects=False, trust_env=False
    )


async def run_alerts(settings: Settings, store: Store) -> RunReport:
    """Match new articles against every alert and deliver what the due ones owe."""
    async with webhook_client(settings) as client:
        return await run_due(store, client, alert_options(settings), utc_now)


async def alerts_after_round(settings: Settings, store: Store) -> None:
    """``run_alerts`` for the poll loop: a failure is logged, the loop goes on."""
    try:
        report = await run_alerts(settings, store)
    except Exception:  # the poll loop must survive a bug here; the traceback goes to the log
        logger.exception("alerts: run failed")
        return
    if report.sent or report.failed:
        logger.info(
            "alerts: %d matched, %d deliveries sent (%d articles), %d failed",
            report.matched, report.sent, report.articles, report.failed,
        )  # fmt: skip
