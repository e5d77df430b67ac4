"""WebSub subscriber shell: subscribe to hubs, keep leases, turn pushes into stored articles.

The pure rules live in ``ingest.websub``; this module does the I/O. The
poller tells it about every feed it reads (``seen_feed``) and asks it when to
poll a pushed source again (``poll_again_at``: rarely, while a lease is live).
A pushed body goes through ``Poller.receive_push``, the same listing → entries
→ fetch → extract → store → desk path as a polled one. Every store write runs
on the poller's store writer, the one thread that writes.

When the hub fails (an error answer, no verification in time, a lapsed lease)
the subscription is marked failed and its source is polled at once and then
at its adaptive interval; a new attempt waits ``retry_after_failure``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from primenews.domain import Feed, Page, Source
from primenews.ingest.websub import (
    DEFAULT_LEASE_SECONDS,
    HubLink,
    discover_hub,
    renew_at,
    subscription_form,
)
from primenews.store import PushState, Subscription
from primenews.worker.local import utc_now
from primenews.worker.poller import Poller, SourceReport

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CALLBACK_PATH = "/websub/"


def callback_url(public_url: str, subscription_id: int) -> str:
    """The URL a hub calls for this subscription (verification and content)."""
    return f"{public_url.rstrip('/')}{CALLBACK_PATH}{subscription_id}"


def push_status(subscription: Subscription | None, public_url: str, now: datetime) -> str:
    """One line on a source's WebSub state, for the sources page and ``sources list``."""
    if subscription is None:
        return "off: public_url is not set" if not public_url else "no hub advertised"
    if subscription.live(now):
        assert subscription.expires_at is not None
        until = f"{subscription.expires_at:%Y-%m-%d %H:%M} UTC"
        return f"live until {until} ({subscription.pushes} pushes)"
    if subscription.state is PushState.PENDING:
        return "asked the hub, awaiting its verification"
    return f"failed, polling: {subscription.last_error or 'lease ended'}"


@dataclass(frozen=True, slots=True)
class WebSubOptions:
    public_url: str
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    verify_timeout: timedelta = timedelta(minutes=5)
    retry_after_failure: timedelta = timedelta(hours=6)
    # While pushes arrive, still poll this often: a hub may drop notifications silently.
    safety_poll: timedelta = timedelta(hours=6)
    request_timeout_seconds: float = 20.0


class WebSubManager:
    """Subscriptions of one process; install with ``poller.push = manager``."""

    def __init__(
        self,
        poller: Poller,
        client: httpx.AsyncClient,
        options: WebSubOptions,
        *,
        clock: Clock = utc_now,
        new_secret: Callable[[], str] = lambda: secrets.token_hex(32),
    ) -> None:
        self.poller = poller
        self.store = poller.store
        self.client = client
        self.options = options
        self.clock = clock
        self.new_secret = new_secret
        self._tasks: set[asyncio.Task[SourceReport | None]] = set()

    # What the poller asks (PushHooks)

    async def seen_feed(self, source: Source, feed: Feed, page: Page) -> None:
        """Subscribe when a polled feed advertises a hub and no subscription is under way."""
        if source.id is None:
            return
        link = discover_hub(feed, page.headers, page.final_url or source.url)
        if link is None:
            return
        existing = await self.poller.writer.run(self.store.subscription_for_source, source.id)
        if self._wants_request(existing, link):
            await self.subscribe(source.id, link, existing)

    def poll_again_at(self, source_id: int, adaptive_due: datetime) -> datetime:
        """The next poll: the adaptive one, or the safety interval while pushes are live."""
        now = self.clock()
        subscription = self.store.subscription_for_source(source_id)
        if subscription is not None and subscription.live(now):
            return max(adaptive_due, now + self.options.safety_poll)
        return adaptive_due

    def _wants_request(self, existing: Subscription | None, link: HubLink) -> bool:
        if existing is None:
            return True
        if (existing.hub_url, existing.topic_url) != (link.hub, link.topic):
            return True  # the feed moved to another hub or topic
        now = self.clock()
        since_request = now - (existing.requested_at or datetime.min.replace(tzinfo=UTC))
        if existing.state is PushState.FAILED:
            return since_request >= self.options.retry_after_failure
        if existing.state is PushState.PENDING:
            return since_request >= self.options.verify_timeout
        return False  # active: maintain() renews it

    # Requests to the hub

    async def subscribe(
        self, source_id: int, link: HubLink, existing: Subscription | None = None
    ) -> Subscription:
        """Ask the hub for a subscription (or a renewal); the hub verifies it asynchronously."""
        keep_secret = existing is not None and existing.hub_url == link.hub
        secret = existing.secret if existing is not None and keep_secret else self.new_secret()
        subscription = await self.poller.writer.run(
            self.store.request_subscription, source_id, link.hub, link.topic, secret, self.clock()
        )
        form = subscription_form(
            link,
            callback_url(self.options.public_url, subscription.id),
            secret,
            self.options.lease_seconds,
        )
        try:
            status, head = await self._post(link.hub, form)
        except httpx.HTTPError as err:
            await self._fail(subscription, f"hub {link.hub} unreachable: {err!r}")
            return subscription
        if not 200 <= status < 300:
            why = head.decode("utf-8", "replace").strip()
            await self._fail(subscription, f"hub {link.hub} answered {status}: {why}")
            return subscription
        logger.info("websub: asked %s for %s", link.hub, link.topic, extra={"source_id": source_id})
        return subscription

    async def _post(self, hub: str, form: dict[str, str]) -> tuple[int, bytes]:
        """POST the form; the status and the first 200 bytes of the answer (a hub's body
        is only quoted in an error, so a huge one is never read)."""
        timeout = self.options.request_timeout_seconds
        async with self.client.stream("POST", hub, data=form, timeout=timeout) as response:
            head = b""
            async for chunk in response.aiter_raw():
                head += chunk
                if len(head) >= 200:
                    break
            return response.status_code, head[:200]

    async def maintain(self) -> None:
        """Renew leases before they expire; give up on hubs that did not verify or lapsed."""
        now = self.clock()
        for subscription in await self.poller.writer.run(self.store.list_subscriptions):
            waited = now - (subscription.requested_at or now)
            if subscription.state is PushState.PENDING:
                if waited >= self.options.verify_timeout:
                    await self._fail(subscription, "the hub did not verify the subscription")
            elif subscription.state is PushState.ACTIVE:
                await self._keep_active(subscription, now, waited)

    async def _keep_active(
        self, subscription: Subscription, now: datetime, waited: timedelta
    ) -> None:
        if not subscription.live(now):
            await self._fail(subscription, "the lease lapsed without a renewal")
            return
        assert subscription.verified_at is not None
        due = renew_at(subscription.verified_at, subscription.lease_seconds or 0)
        renewing = subscription.awaits_verification and waited < self.options.verify_timeout
        if due <= now and not renewing:
            link = HubLink(subscription.hub_url, subscription.topic_url)
            await self.subscribe(subscription.source_id, link, subscription)

    async def _fail(self, subscription: Subscription, why: str) -> None:
        logger.warning(
            "websub: %s; polling %s instead",
            why,
            subscription.topic_url,
            extra={"source_id": subscription.source_id},
        )
        await self.poller.writer.run(
            self.store.mark_subscription_failed, subscription.id, why, self.clock()
        )

    # Content from the hub

    def accept_push(self, subscription: Subscription, body: bytes, content_type: str) -> None:
        """Process a verified push in the background; the hub gets its 2xx at once."""
        task = asyncio.create_task(self.receive(subscription, body, content_type))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def receive(
        self, subscription: Subscription, body: bytes, content_type: str
    ) -> SourceReport | None:
        """Store what a push carries, like a poll of its feed would."""
        now = self.clock()
        source = await self.poller.writer.run(self.store.get_source, subscription.source_id)
        if source is None:
            return None
        await self.poller.writer.run(self.store.record_push, subscription.id, now)
        page = Page(
            url=subscription.topic_url,
            final_url=subscription.topic_url,
            status=200,
            content=body,
            fetched_at=now,
            headers={"content-type": content_type},
        )
        report = await self.poller.receive_push(source, page)
        if report.error:
            logger.warning(
                "websub: push for %s not read: %s",
                source.url,
                report.error,
                extra={"source_id": source.id},
            )
        return report

    async def aclose(self) -> None:
        """Let pushes being processed finish."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def maintain_forever(
    manager: WebSubManager, stop: asyncio.Event, every: float = 30.0
) -> None:
    """Run ``maintain`` every ``every`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            await manager.maintain()
        except Exception:  # a bug: log it and keep the loop (polling still covers every source)
            logger.exception("websub: maintenance failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
