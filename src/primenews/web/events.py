"""Server-sent events: ``GET /api/v1/events`` and the broadcaster that feeds it.

The store writer's thread publishes ``LiveEvent``s (``worker.live``); each
subscriber is an open event stream with its own bounded buffer on the event
loop. A subscriber whose buffer fills (a slow reader) is dropped: its stream
ends and the browser's EventSource reconnects with ``Last-Event-ID``, which
replays what it missed from a short ring buffer. Comments (``: ping``) go out
every ``heartbeat_seconds`` so proxies keep the connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError

from primenews.domain import LiveEvent
from primenews.errors import StoreError
from primenews.store import Store
from primenews.web.errors import ERROR_RESPONSES

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)

Match = Callable[[LiveEvent], bool]

RELAY_SECONDS = 1.0  # how often a web process beside the poller reads new events
RELAY_BATCH = 500  # events read at a time


@dataclass(slots=True, eq=False)  # identity: each stream is its own subscriber
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    match: Match
    limit: int
    pending: deque[tuple[int, LiveEvent]] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False

    def offer(self, item: tuple[int, LiveEvent]) -> None:
        """On the subscriber's loop: queue an event, or drop a subscriber that fell behind."""
        if self.dropped or not self.match(item[1]):
            return
        if len(self.pending) >= self.limit:
            self.dropped = True
        else:
            self.pending.append(item)
        self.ready.set()

    def close(self) -> None:
        self.dropped = True
        self.ready.set()


class Broadcaster:
    """Fan-out of live events to SSE streams; ``publish`` may be called from any thread."""

    def __init__(
        self, *, ring_size: int = 500, queue_size: int = 200, heartbeat_seconds: float = 15.0
    ) -> None:
        self.queue_size = queue_size
        self.ring_size = ring_size
        self.heartbeat_seconds = heartbeat_seconds
        self._lock = threading.Lock()
        self._ring: deque[tuple[int, LiveEvent]] = deque(maxlen=ring_size)
        self._last_id = 0
        self._subscribers: set[_Subscriber] = set()

    def publish(self, event: LiveEvent, event_id: int | None = None) -> None:
        """Send ``event`` to every matching stream, numbered ``event_id`` (the store's) or next."""
        with self._lock:
            self._last_id = event_id if event_id is not None else self._last_id + 1
            item = (self._last_id, event)
            self._ring.append(item)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.offer, item)
            except RuntimeError:  # its loop is closed: the stream is gone
                self._forget(subscriber)

    def subscribe(self, match: Match, last_event_id: int | None = None) -> _Subscriber:
        """A new stream (call on its event loop), with the missed events it can still get."""
        subscriber = _Subscriber(asyncio.get_running_loop(), match, self.queue_size)
        with self._lock:
            if last_event_id is not None:  # the replay does not count against the queue
                missed = [i for i in self._ring if i[0] > last_event_id and match(i[1])]
                subscriber.pending.extend(missed)
                subscriber.limit += len(missed)
                subscriber.ready.set()
            self._subscribers.add(subscriber)
        return subscriber

    def _forget(self, subscriber: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(subscriber)

    def close(self) -> None:
        """End every stream (before a server shuts down, which waits for open responses)."""
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
        for subscriber in subscribers:
            try:
                subscriber.loop.call_soon_threadsafe(subscriber.close)
            except RuntimeError:
                pass

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    async def stream(self, subscriber: _Subscriber) -> AsyncIterator[str]:
        """The text of one event stream, until the subscriber is dropped or closed."""
        try:
            yield f"retry: 5000\n: connected, last event {self._last_id}\n\n"
            while True:
                try:
                    await asyncio.wait_for(subscriber.ready.wait(), self.heartbeat_seconds)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                subscriber.ready.clear()
                while subscriber.pending:
                    yield format_event(*subscriber.pending.popleft())
                if subscriber.dropped:
                    return
        finally:
            self._forget(subscriber)


def fill_ring(store: Store, broadcaster: Broadcaster) -> int:
    """Put the newest kept events in the ring, so a stream that resumes here gets them.

    Returns the last one's id (0 when none is kept). Any thread may call it.
    """
    kept = store.live_events_after(None, broadcaster.ring_size)
    for event_id, event in kept:
        broadcaster.publish(event, event_id)
    return kept[-1][0] if kept else 0


async def relay_stored_events(
    store: Store, broadcaster: Broadcaster, stop: asyncio.Event, every: float = RELAY_SECONDS
) -> None:
    """Stream the events the poller's process keeps in the store, until ``stop`` is set.

    For a web process beside the poller (``primenews up --no-poll``): the ring
    starts with the newest kept events (``fill_ring``), so a stream that
    reconnects here with ``Last-Event-ID`` from another process gets what it
    missed. A store error is logged and tried again on the next turn.
    """
    last: int | None = None  # None: the ring is not filled yet
    while not stop.is_set():
        more = False
        try:
            if last is None:
                last = await asyncio.to_thread(fill_ring, store, broadcaster)
            else:
                kept = await asyncio.to_thread(store.live_events_after, last, RELAY_BATCH)
                for event_id, event in kept:
                    broadcaster.publish(event, event_id)
                    last = event_id
                more = len(kept) == RELAY_BATCH  # more may be waiting: read on at once
        except (SQLAlchemyError, StoreError) as err:
            logger.warning("live: cannot read the kept events (%s); trying again", err)
        if not more:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


def format_event(event_id: int, event: LiveEvent) -> str:
    """One ``text/event-stream`` message: id, event name and JSON data."""
    data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {event.kind}\ndata: {data}\n\n"


def event_filter(section: str | None, story: int | None, entity: int | None) -> Match:
    """What a stream asked for: all conditions given must hold."""

    def match(event: LiveEvent) -> bool:
        if section is not None and section not in event.sections:
            return False
        if story is not None and story not in (event.story_id, event.data.get("merged_into")):
            return False
        return entity is None or entity in event.entity_ids

    return match


def _last_id(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


@router.get(
    "/events",
    name="api_events",
    tags=["live"],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream"}},
)
async def events(
    request: Request,
    section: Annotated[str | None, Query(max_length=64, description="Only this section")] = None,
    story: Annotated[int | None, Query(ge=1, description="Only this story")] = None,
    entity: Annotated[int | None, Query(ge=1, description="Only events naming this entity")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events as stories appear or change and articles are stored.

    Event names: ``story.new``, ``story.grew``, ``story.headline``, ``story.merged``,
    ``article.stored``; each ``data`` is a JSON object. Reconnect with ``Last-Event-ID``
    to get what was missed (from the last few hundred events).
    """
    broadcaster = cast(Broadcaster, request.app.state.events)
    subscriber = broadcaster.subscribe(
        event_filter(section, story, entity), _last_id(last_event_id)
    )
    return StreamingResponse(
        broadcaster.stream(subscriber),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
