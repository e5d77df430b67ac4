"""Running alerts: match new articles, then deliver what each due alert owes.

``run_due`` is what the service calls after each poll round and what
``primenews alerts run-due`` calls. Two steps, each safe to repeat:

1. *Scan*: every alert reads the articles stored after its ``scanned_through``
   (in batches), keeps the ones its rule matches and moves the mark on.
2. *Deliver*: for each alert that is due (its frequency's period has passed,
   or its last delivery failed) and each of its channels, the owed articles
   go out as one digest or one webhook call; they are marked delivered on that
   channel only once it succeeded, and every attempt is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from primenews.alerts.digest import Links, build_digest, webhook_body
from primenews.alerts.mail import MailOptions, send_mail
from primenews.alerts.match import is_due, matching_ids
from primenews.alerts.model import Alert, Candidate, Channel, Delivery
from primenews.alerts.webhooks import WebhookOptions, post_webhook
from primenews.errors import DeliveryError, StoreError
from primenews.store import Store

logger = logging.getLogger(__name__)

MAX_PER_DELIVERY = 100  # articles in one digest or webhook call; the rest go next time
MAX_SCAN_BATCHES = 20  # per alert and run: a long-idle alert catches up over a few runs
# How long a runner holds an alert: longer than its slowest delivery (SMTP timeout, or a
# webhook's retries), so a runner that died frees it again after this.
CLAIM = timedelta(minutes=15)
# Watchlists read an article's entities, which its insights bring a moment after it is
# stored (later still from a queue worker): a scan stops before an article still without
# them, for this long at most (an enrichment that never comes does not hold alerts back).
INSIGHTS_WAIT = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    links: Links
    mail: MailOptions
    webhook: WebhookOptions = field(default_factory=WebhookOptions)
    insights_wait: timedelta = INSIGHTS_WAIT  # zero where insights are off


@dataclass(slots=True)
class RunReport:
    matched: int = 0
    sent: int = 0  # deliveries that succeeded
    failed: int = 0
    articles: int = 0  # articles delivered (counted per channel)
    errors: list[str] = field(default_factory=list)


async def run_due(
    store: Store,
    client: httpx.AsyncClient,
    options: DeliveryOptions,
    now: Callable[[], datetime],
) -> RunReport:
    """Scan every alert, then deliver every due one (see the module docstring)."""
    report = RunReport()
    batches: dict[int, list[Candidate]] = {}  # alerts with the same mark share their reads
    for listed in await asyncio.to_thread(store.alerts.list_alerts):
        started = now()
        if not await asyncio.to_thread(store.alerts.claim, listed.id, started, started + CLAIM):
            continue  # another runner (the service, or `alerts run-due`) has it now
        try:
            await _run_alert(store, client, options, listed.id, now, report, batches)
        finally:
            await asyncio.to_thread(store.alerts.release, listed.id)
    return report


async def _run_alert(
    store: Store,
    client: httpx.AsyncClient,
    options: DeliveryOptions,
    alert_id: int,
    now: Callable[[], datetime],
    report: RunReport,
    batches: dict[int, list[Candidate]],
) -> None:
    alert = await asyncio.to_thread(store.alerts.get, alert_id)  # as it is now it is ours
    if alert is None:
        return
    report.matched += await asyncio.to_thread(
        scan_alert, store, alert, now(), batches, insights_wait=options.insights_wait
    )
    for channel in alert.channels:
        # A failed channel is retried on the next run, whatever its frequency.
        if alert.error(channel) or is_due(alert.frequency, alert.sent_at(channel), now()):
            await _deliver(store, client, options, alert, channel, now, report)


def scan_alert(
    store: Store,
    alert: Alert,
    now: datetime,
    batches: dict[int, list[Candidate]] | None = None,
    *,
    insights_wait: timedelta = INSIGHTS_WAIT,
) -> int:
    """Match the articles stored since the alert last looked; returns the new matches.

    The scan stops before the first article stored within ``insights_wait``
    that has no insights yet; the next run takes it up. ``batches`` caches
    candidate reads by their starting id across alerts of one run.
    """
    after, found = alert.scanned_through, 0
    cache = {} if batches is None else batches
    try:
        for _ in range(MAX_SCAN_BATCHES):
            if after not in cache:
                cache[after] = store.alerts.candidates_after(after, now - insights_wait)
            batch = cache[after]
            if not batch:
                break
            through = batch[-1].article_id
            found += store.alerts.record_matches(
                alert.id, _matching(store, alert, batch, after, through), through, now
            )
            after = through
        if alert.scan_error:
            store.alerts.record_scan_error(alert.id, None)  # matching works again
    except StoreError as err:  # e.g. saved searches on a database without search yet
        logger.warning("alert %d: cannot match: %s", alert.id, err, extra={"alert_id": alert.id})
        store.alerts.record_scan_error(alert.id, str(err))
    return found


def _matching(
    store: Store, alert: Alert, batch: list[Candidate], after: int, through: int
) -> list[int]:
    text_ids: set[int] = set()
    if alert.rule.query.strip():
        text_ids = store.alerts.text_matches(alert.rule.query, after, through)
    return matching_ids(alert.rule, batch, text_ids)


async def _deliver(
    store: Store,
    client: httpx.AsyncClient,
    options: DeliveryOptions,
    alert: Alert,
    channel: Channel,
    now: Callable[[], datetime],
    report: RunReport,
) -> None:
    owed = await asyncio.to_thread(store.alerts.owed_articles, alert.id, channel, MAX_PER_DELIVERY)
    if not owed:
        return
    started, attempts, error = now(), 1, None
    try:
        if channel is Channel.EMAIL:
            message = build_digest(
                alert, owed, options.links, sender=options.mail.sender, now=started
            )
            await asyncio.to_thread(send_mail, options.mail, message)
        else:
            assert alert.webhook_url is not None
            body = webhook_body(alert, owed, options.links, started)
            attempts = await post_webhook(
                client, alert.webhook_url, alert.webhook_secret, body, options.webhook
            )
    except DeliveryError as err:
        attempts, error = err.attempts, str(err)
        logger.warning("alert %d: %s delivery failed: %s", alert.id, channel, err,
                       extra={"alert_id": alert.id})  # fmt: skip
    finished = now()
    ids = [stored.id for stored in owed]
    if error is None:
        await asyncio.to_thread(store.alerts.mark_sent, alert.id, channel, ids, finished)
        report.sent += 1
        report.articles += len(ids)
    else:
        report.failed += 1
        report.errors.append(f"alert {alert.id} ({channel}): {error}")
    delivery = Delivery(0, alert.id, channel, "sent" if error is None else "failed",
                        attempts, len(ids), error, started, finished)  # fmt: skip
    await asyncio.to_thread(store.alerts.record_delivery, delivery)
