"""Live events: the broadcaster, and GET /api/v1/events over a real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from primenews.config import Settings
from primenews.domain import LiveEvent, StoredStory
from primenews.errors import StoreError
from primenews.store import Store
from primenews.web.app import create_app
from primenews.web.events import Broadcaster, event_filter, format_event, relay_stored_events
from primenews.worker.live import (
    STORY_GREW,
    STORY_HEADLINE,
    STORY_MERGED,
    STORY_NEW,
    KeptEvents,
    StoryAnnouncer,
    StorySnapshot,
    story_change,
)

pytestmark = pytest.mark.anyio


def event(
    kind: str, n: int, *, story: int | None = None, sections: tuple[str, ...] = ()
) -> LiveEvent:
    return LiveEvent(kind, {"n": n}, story_id=story, sections=sections, entity_ids=(n,))


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """uvicorn on 127.0.0.1:<free port> in this event loop, and a client for it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            yield http
    finally:
        app.state.events.close()
        server.should_exit = True
        await serving
        sock.close()


async def read_events(
    lines: AsyncIterator[str], count: int
) -> list[tuple[str, str, dict[str, object]]]:
    """The next ``count`` events as (id, name, data)."""
    found: list[tuple[str, str, dict[str, object]]] = []
    fields: dict[str, str] = {}

    async def read() -> None:
        async for line in lines:
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
                continue
            if "data" in fields:
                found.append((fields["id"], fields["event"], json.loads(fields["data"])))
                if len(found) == count:
                    return
            fields.clear()

    await asyncio.wait_for(read(), timeout=10)
    return found


async def wait_subscribed(broadcaster: Broadcaster, count: int) -> None:
    while broadcaster.subscriber_count < count:
        await asyncio.sleep(0.01)


async def test_events_stream_from_a_writer_thread_with_filters(
    settings: Settings, store: Store
) -> None:
    live = Broadcaster()
    app = create_app(settings, store, live_events=live)
    async with served(app) as http:
        async with (
            http.stream("GET", "/api/v1/events") as everything,
            http.stream("GET", "/api/v1/events", params={"section": "world"}) as world,
            http.stream("GET", "/api/v1/events", params={"story": 7}) as story,
            http.stream("GET", "/api/v1/events", params={"entity": 3}) as entity,
        ):
            assert everything.status_code == 200
            assert everything.headers["content-type"].startswith("text/event-stream")
            assert everything.headers["cache-control"] == "no-cache"
            await wait_subscribed(live, 4)
            published = [
                event(STORY_NEW, 1, story=5, sections=("business",)),
                event(STORY_GREW, 2, story=7, sections=("world",)),
                event("article.stored", 3, story=9, sections=("world", "politics")),
                LiveEvent(STORY_MERGED, {"n": 4, "merged_into": 7}, story_id=8),
            ]
            for item in published:  # from another thread, as the store writer does
                await asyncio.to_thread(live.publish, item)
            got = await read_events(everything.aiter_lines(), 4)
            assert [(i, kind, data["n"]) for i, kind, data in got] == [
                ("1", STORY_NEW, 1),
                ("2", STORY_GREW, 2),
                ("3", "article.stored", 3),
                ("4", STORY_MERGED, 4),
            ]
            assert [d["n"] for _, _, d in await read_events(world.aiter_lines(), 2)] == [2, 3]
            # A story's stream also hears of the stories merged into it.
            assert [d["n"] for _, _, d in await read_events(story.aiter_lines(), 2)] == [2, 4]
            assert [d["n"] for _, _, d in await read_events(entity.aiter_lines(), 1)] == [3]


async def test_last_event_id_resumes_from_the_ring_buffer(settings: Settings, store: Store) -> None:
    live = Broadcaster(ring_size=3)
    for n in range(1, 6):
        live.publish(event(STORY_NEW, n))
    app = create_app(settings, store, live_events=live)
    async with served(app) as http:
        headers = {"Last-Event-ID": "3"}
        async with http.stream("GET", "/api/v1/events", headers=headers) as resumed:
            got = await read_events(resumed.aiter_lines(), 2)
            assert [i for i, _, _ in got] == ["4", "5"]
        # Older than the ring holds: what is left of it; nonsense: nothing missed is replayed.
        async with http.stream("GET", "/api/v1/events", headers={"Last-Event-ID": "0"}) as old:
            assert [i for i, _, _ in await read_events(old.aiter_lines(), 3)] == ["3", "4", "5"]
        async with http.stream("GET", "/api/v1/events", headers={"Last-Event-ID": "x"}) as odd:
            await wait_subscribed(live, 1)
            live.publish(event(STORY_NEW, 6))
            assert [i for i, _, _ in await read_events(odd.aiter_lines(), 1)] == ["6"]


async def test_a_web_process_beside_the_poller_streams_its_events_under_the_same_ids(
    settings: Settings, store: Store
) -> None:
    """The poller's process keeps each event in the store; `up --no-poll` relays it."""
    poller_side = Broadcaster()
    kept = KeptEvents(store, poller_side)
    kept.publish(event(STORY_NEW, 1, story=5))  # before the web process starts
    web_side = Broadcaster()
    stop = asyncio.Event()
    relay = asyncio.create_task(relay_stored_events(store, web_side, stop, every=0.05))
    app = create_app(settings, store, live_events=web_side)
    try:
        async with served(app) as http, http.stream("GET", "/api/v1/events") as stream:
            await wait_subscribed(web_side, 1)
            for n in (2, 3):  # from another thread, as the store writer does
                await asyncio.to_thread(kept.publish, event(STORY_GREW, n, story=5))
            got = await read_events(stream.aiter_lines(), 2)
            ids = [int(i) for i, _, _ in got]
            assert [(kind, data["n"]) for _, kind, data in got] == [
                (STORY_GREW, 2),
                (STORY_GREW, 3),
            ]
            # The same ids as the poller's own streams, so a reader can switch processes.
            poller_ring = poller_side.subscribe(event_filter(None, None, None), last_event_id=0)
            assert [item[0] for item in poller_ring.pending][1:] == ids
            first = poller_ring.pending[0][0]
            resumed_headers = {"Last-Event-ID": str(first)}
            async with http.stream("GET", "/api/v1/events", headers=resumed_headers) as resumed:
                replayed = await read_events(resumed.aiter_lines(), 2)
                assert [int(i) for i, _, _ in replayed] == ids
    finally:
        stop.set()
        await relay


async def test_the_relay_rides_out_a_store_that_fails_for_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int | None] = []

    class Flaky:  # down at first, then one event kept, then nothing new
        def live_events_after(self, after_id: int | None, limit: int) -> list[Any]:
            calls.append(after_id)
            if len(calls) == 1:
                raise StoreError("store: connection refused")
            return [(41, event(STORY_NEW, 1))] if after_id is None else []

    live, stop = Broadcaster(), asyncio.Event()
    relay = asyncio.create_task(relay_stored_events(cast(Store, Flaky()), live, stop, every=0.01))
    while len(calls) < 4:
        await asyncio.sleep(0.01)
    stop.set()
    await relay
    assert "cannot read the kept events" in caplog.text
    assert calls[:4] == [None, None, 41, 41]  # the ring filled once, then only what is newer
    replay = live.subscribe(event_filter(None, None, None), last_event_id=40)
    assert [item[0] for item in replay.pending] == [41]


def test_each_run_of_the_poller_prunes_the_kept_events_from_its_first(store: Store) -> None:
    """A `poll --once` from cron keeps a few events a run: the log must not grow forever."""
    earlier = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    for n in range(5):  # left by earlier runs
        store.append_live_event(event(STORY_NEW, n), earlier)
    KeptEvents(store, keep=2).publish(event(STORY_NEW, 9))
    assert [e.data["n"] for _, e in store.live_events_after(0, 10)] == [4, 9]


def test_an_event_the_store_cannot_keep_is_logged_not_raised(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    streamed: list[tuple[LiveEvent, int | None]] = []

    class Local:
        def publish(self, event: LiveEvent, event_id: int | None = None) -> None:
            streamed.append((event, event_id))

    kept = KeptEvents(store, Local())
    kept.publish(event(STORY_NEW, 1))
    with store.engine.begin() as conn:  # the table gone: every insert fails from now on
        conn.exec_driver_sql("DROP TABLE live_events")
    kept.publish(event(STORY_NEW, 2))  # the desk's write goes on
    assert "a story.new event was not kept" in caplog.text
    assert [(e.data["n"], type(i)) for e, i in streamed] == [(1, int)]  # no unnumbered event


async def test_heartbeats_keep_an_idle_stream_open(settings: Settings, store: Store) -> None:
    app = create_app(settings, store, live_events=Broadcaster(heartbeat_seconds=0.1))
    async with served(app) as http, http.stream("GET", "/api/v1/events") as stream:
        lines = stream.aiter_lines()
        seen: list[str] = []
        while seen.count(": ping") < 2:
            seen.append(await asyncio.wait_for(lines.__anext__(), timeout=5))
        assert seen[0] == "retry: 5000"


async def test_a_slow_subscriber_is_dropped_and_can_resume() -> None:
    live = Broadcaster(queue_size=2)
    subscriber = live.subscribe(event_filter(None, None, None))
    for n in range(1, 6):
        live.publish(event(STORY_NEW, n))
    await asyncio.sleep(0)  # deliveries run on the loop
    await asyncio.sleep(0)
    chunks = [chunk async for chunk in live.stream(subscriber)]
    assert chunks[1:] == [
        format_event(1, event(STORY_NEW, 1)),
        format_event(2, event(STORY_NEW, 2)),
    ]
    assert live.subscriber_count == 0  # the stream ended; EventSource reconnects
    again = live.subscribe(event_filter(None, None, None), last_event_id=2)
    assert [item[0] for item in again.pending] == [3, 4, 5]


async def test_closing_the_broadcaster_ends_every_stream() -> None:
    live = Broadcaster()
    subscriber = live.subscribe(event_filter(None, None, None))
    stream = live.stream(subscriber)
    assert (await stream.__anext__()).startswith("retry:")
    live.close()
    assert [chunk async for chunk in stream] == []


async def test_bad_filters_get_the_api_error_shape(client: httpx.AsyncClient) -> None:
    for params in ({"story": "abc"}, {"entity": "0"}, {"section": "x" * 65}):
        response = await client.get("/api/v1/events", params=params)
        assert response.status_code == 422
        assert response.json()["ok"] is False


def story(**fields: object) -> StoredStory:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    values: dict[str, object] = {
        "id": 1,
        "key": "k",
        "headline": "Bridge reopens",
        "headline_article_id": 1,
        "first_article_id": 1,
        "first_seen": now,
        "last_seen": now,
        "article_count": 1,
        "outlet_count": 1,
    }
    values.update(fields)
    return StoredStory(**values)  # type: ignore[arg-type]


def test_story_changes_are_classified() -> None:
    assert story_change(None, story()) == STORY_NEW
    assert story_change(None, story(article_count=3)) == STORY_GREW  # known before a restart
    before = StorySnapshot("Bridge reopens", 1)
    assert story_change(before, story(article_count=2)) == STORY_GREW
    assert story_change(before, story(headline="Bridge reopens early")) == STORY_HEADLINE
    assert story_change(before, story()) is None
    assert story_change(before, story(merged_into=9)) == STORY_MERGED


def test_the_announcer_remembers_each_story() -> None:
    sent: list[LiveEvent] = []

    class Sink:
        def publish(self, item: LiveEvent) -> None:
            sent.append(item)

    announcer = StoryAnnouncer(Sink())
    announcer.announce([story(sections=("world",))])
    announcer.announce([story(article_count=2, outlet_count=2, sections=("world",))])
    announcer.announce([story(article_count=2, outlet_count=2, sections=("world",))])
    assert [item.kind for item in sent] == [STORY_NEW, STORY_GREW]
    assert sent[1].data["url"] == "/story/1" and sent[1].sections == ("world",)
