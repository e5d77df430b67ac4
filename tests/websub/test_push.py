"""WebSub end to end: a real hub and publisher on loopback, the instance served by uvicorn."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from primenews.domain import Source
from primenews.ingest.websub import sign
from primenews.store import PushState, Store, Subscription
from primenews.worker.websub import WebSubOptions, callback_url
from websub.hub import LoopbackHub
from websub.instance import Clock, Instance, eventually, running_instance
from websub.pages import article_page, atom_feed

from publisher import PublisherServer

pytestmark = pytest.mark.anyio

ATOM = {"Content-Type": "application/atom+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def publish(site: PublisherServer, hub: LoopbackHub, numbers: list[int]) -> str:
    """Serve the article pages and a feed of them; returns the feed URL (the topic)."""
    base = site.url("").rstrip("/")
    for number in numbers:
        site.add(f"/news/{number}.html", article_page(base, number), headers=HTML)
    return site.add("/feed.xml", atom_feed(base, hub.url, numbers), headers=ATOM)


def article_urls(store: Store) -> set[str]:
    articles, _ = store.list_articles(limit=100)
    return {stored.article.url for stored in articles}


def subscription(store: Store, state: PushState | None = None) -> Subscription | None:
    [found] = store.list_subscriptions() or [None]
    return found if found is not None and (state is None or found.state is state) else None


async def subscribed(instance: Instance, site: PublisherServer, topic: str) -> Source:
    source, _ = instance.store.add_source(Source(url=topic), datetime.now(UTC))
    await instance.poller.poll_sources([source])
    await eventually(lambda: subscription(instance.store, PushState.ACTIVE))
    return source


async def test_a_hub_push_stores_the_new_article_and_reaches_live_streams(
    tmp_path: Path,
) -> None:
    with PublisherServer() as site, LoopbackHub(lease_seconds=7200) as hub:
        topic = publish(site, hub, [1])
        async with running_instance(tmp_path) as instance:
            source = await subscribed(instance, site, topic)
            first = article_urls(instance.store)
            assert first == {site.url("/news/1.html")}

            [request] = hub.requests
            active = subscription(instance.store)
            assert active is not None and active.lease_seconds == 7200
            assert request["hub.callback"] == callback_url(instance.base_url, active.id)
            assert request["hub.topic"] == topic and len(request["hub.secret"]) == 64
            # The hub records its verification after our answer reaches it.
            await eventually(lambda: hub.verifications)
            assert [v.echoed for v in hub.verifications] == [True]
            # While pushes are live, the source is polled only as a safety net.
            now = datetime.now(UTC)
            assert instance.manager.poll_again_at(source.id or 0, now) >= now + timedelta(hours=5)

            async with (
                httpx.AsyncClient(base_url=instance.base_url, timeout=10) as http,
                http.stream("GET", "/api/v1/events") as stream,
            ):
                assert stream.headers["content-type"].startswith("text/event-stream")
                publish(site, hub, [1, 2])
                statuses = await asyncio.to_thread(hub.notify, topic)
                assert statuses == [202]
                events = await _events_until(stream.aiter_lines(), "article.stored")
            kind, event = events[-1]
            assert event["url"] == site.url("/news/2.html")
            # The desk announced the article's story first (new, or grown by it).
            story_events = [(k, e) for k, e in events if e.get("story_id") == event["story_id"]]
            assert story_events[0][0] in {"story.new", "story.grew"}
            assert story_events[0][1]["url"] == f"/story/{event['story_id']}"
            assert article_urls(instance.store) == first | {site.url("/news/2.html")}
            pushed = subscription(instance.store)
            assert pushed is not None and pushed.pushes == 1 and pushed.last_push_at is not None

            # A push with a wrong signature changes nothing.
            publish(site, hub, [1, 2, 3])
            body = atom_feed(site.url("").rstrip("/"), hub.url, [1, 2, 3])
            forged = sign("not the secret", body)
            assert await asyncio.to_thread(
                hub.distribute, topic, body, "application/atom+xml", signature=forged
            ) == [403]
            await asyncio.sleep(0.3)
            assert site.url("/news/3.html") not in article_urls(instance.store)
            unchanged = subscription(instance.store)
            assert unchanged is not None and unchanged.pushes == 1


async def test_a_push_to_a_web_only_process_makes_the_feed_due_for_the_poller(
    tmp_path: Path,
) -> None:
    """`up --no-poll` has no desk: it records the push and the poller fetches the feed."""
    from primenews.web.app import create_app

    with PublisherServer() as site, LoopbackHub(lease_seconds=7200) as hub:
        topic = publish(site, hub, [1])
        async with running_instance(tmp_path) as instance:
            source = await subscribed(instance, site, topic)
            active = subscription(instance.store)
            assert active is not None and source.id is not None
            assert instance.store.due_sources(datetime.now(UTC)) == []
            web_only = create_app(instance.settings, instance.store)  # no WebSub manager
            publish(site, hub, [1, 2])
            body = atom_feed(site.url("").rstrip("/"), hub.url, [1, 2])
            signed = {**ATOM, "X-Hub-Signature": sign(active.secret, body)}
            transport = httpx.ASGITransport(app=web_only)
            async with httpx.AsyncClient(transport=transport, base_url="http://web") as http:
                forged = {**signed, "X-Hub-Signature": sign("not the secret", body)}
                path = f"/websub/{active.id}"
                assert (await http.post(path, content=body, headers=forged)).status_code == 403
                assert instance.store.due_sources(datetime.now(UTC)) == []
                assert (await http.post(path, content=body, headers=signed)).status_code == 202
            assert article_urls(instance.store) == {site.url("/news/1.html")}
            pushed = subscription(instance.store)
            assert pushed is not None and pushed.pushes == 1
            due = instance.store.due_sources(datetime.now(UTC))
            assert [s.id for s in due] == [source.id]
            [report] = await instance.poller.poll_due()
            assert report.new == 1
            assert site.url("/news/2.html") in article_urls(instance.store)


async def _events_until(lines: object, kind: str) -> list[tuple[str, dict[str, object]]]:
    """Every (event, data) read, up to and with the first of ``kind``."""

    async def read() -> list[tuple[str, dict[str, object]]]:
        current, seen = "", []
        async for line in lines:  # type: ignore[attr-defined]
            if line.startswith("event: "):
                current = line.removeprefix("event: ")
            elif line.startswith("data: "):
                seen.append((current, json.loads(line.removeprefix("data: "))))
                if current == kind:
                    return seen
        raise AssertionError("stream ended")

    return await asyncio.wait_for(read(), timeout=10)


async def test_a_hub_that_refuses_leaves_the_source_on_polling(tmp_path: Path) -> None:
    with PublisherServer() as site, LoopbackHub(subscribe_status=500) as hub:
        topic = publish(site, hub, [1])
        async with running_instance(tmp_path) as instance:
            source, _ = instance.store.add_source(Source(url=topic), datetime.now(UTC))
            [report] = await instance.poller.poll_sources([source])
            assert report.error is None and report.new == 1
            failed = subscription(instance.store, PushState.FAILED)
            assert failed is not None and "answered 500" in (failed.last_error or "")
            # The poll that found the hub records the adaptive schedule, not the safety one.
            polled = instance.store.get_source(source.id or 0)
            assert polled is not None and polled.next_due is not None
            adaptive = timedelta(minutes=instance.settings.poll_max_interval_minutes)
            assert polled.next_due <= datetime.now(UTC) + adaptive
            assert (
                instance.manager.poll_again_at(source.id or 0, polled.next_due) == polled.next_due
            )
            # The next poll does not ask again before the retry delay.
            await instance.poller.poll_sources([polled])
            assert len(hub.requests) == 1


async def test_no_verification_in_time_falls_back_to_polling(tmp_path: Path) -> None:
    clock = Clock()
    with PublisherServer() as site, LoopbackHub(verify=False) as hub:
        topic = publish(site, hub, [1])
        async with running_instance(tmp_path, clock=clock) as instance:
            source, _ = instance.store.add_source(Source(url=topic), datetime.now(UTC))
            await instance.poller.poll_sources([source])
            assert subscription(instance.store, PushState.PENDING) is not None
            await instance.manager.maintain()
            assert subscription(instance.store, PushState.PENDING) is not None  # still in time
            clock.offset_seconds = 6 * 60
            await instance.manager.maintain()
            failed = subscription(instance.store, PushState.FAILED)
            assert failed is not None and "did not verify" in (failed.last_error or "")
            polled = instance.store.get_source(source.id or 0)
            assert polled is not None and polled.next_due is not None
            assert polled.next_due <= clock()  # the source is due for a poll at once


async def test_leases_are_renewed_and_a_lapsed_lease_means_polling(tmp_path: Path) -> None:
    clock = Clock()
    with PublisherServer() as site, LoopbackHub(lease_seconds=600) as hub:
        topic = publish(site, hub, [1])
        async with running_instance(tmp_path, clock=clock) as instance:
            await subscribed(instance, site, topic)
            first = subscription(instance.store)
            assert first is not None and first.verified_at is not None
            await instance.manager.maintain()
            assert len(hub.requests) == 1  # not due yet

            clock.offset_seconds = 545  # renew with a tenth of the lease (60 s) left
            await instance.manager.maintain()
            assert len(hub.requests) == 2
            assert hub.requests[1]["hub.secret"] == hub.requests[0]["hub.secret"]
            renewed = await eventually(
                lambda: (s := subscription(instance.store)) and s.verified_at != first.verified_at
            )
            assert renewed

            # Renewed at 545 s: the new lease runs to 1145 s. The hub stops answering.
            hub.verify = False
            clock.offset_seconds = 545 + 545
            await instance.manager.maintain()
            assert len(hub.requests) == 3  # asked again; no verification comes
            assert subscription(instance.store, PushState.ACTIVE) is not None  # still live
            clock.offset_seconds = 545 + 601
            await instance.manager.maintain()
            lapsed = subscription(instance.store, PushState.FAILED)
            assert lapsed is not None and "lapsed" in (lapsed.last_error or "")


async def test_the_callback_refuses_what_it_did_not_ask_for(tmp_path: Path) -> None:
    with PublisherServer() as site, LoopbackHub() as hub:
        topic = publish(site, hub, [1])
        limit = {"fetch_max_bytes": 4096}
        async with running_instance(tmp_path, **limit) as instance:
            await subscribed(instance, site, topic)
            active = subscription(instance.store)
            assert active is not None
            path = f"/websub/{active.id}"
            async with httpx.AsyncClient(base_url=instance.base_url) as http:
                challenge = {"hub.mode": "subscribe", "hub.challenge": "x", "hub.topic": topic}
                assert (await http.get("/websub/999", params=challenge)).status_code == 404
                wrong_topic = {**challenge, "hub.topic": site.url("/other.xml")}
                assert (await http.get(path, params=wrong_topic)).status_code == 404
                # Verified already, with no request pending: a replayed verification is refused.
                assert (await http.get(path, params=challenge)).status_code == 404
                assert (await http.get(path, params={"hub.topic": topic})).status_code == 404

                body = b"<feed/>"
                signed = {"X-Hub-Signature": sign(active.secret, body)}
                assert (
                    await http.post("/websub/999", content=body, headers=signed)
                ).status_code == 404
                assert (await http.post(path, content=body)).status_code == 403
                big = b"<feed>" + b" " * 5000 + b"</feed>"
                too_big = {"X-Hub-Signature": sign(active.secret, big)}
                assert (await http.post(path, content=big, headers=too_big)).status_code == 413

                async def trickle() -> object:
                    for _ in range(10):  # no Content-Length: the cap holds while streaming
                        yield b" " * 1000

                chunked = await http.post(path, content=trickle(), headers=too_big)
                assert chunked.status_code == 413

                # A signed body that is not a feed is accepted, then recorded as not read.
                assert (await http.post(path, content=body, headers=signed)).status_code == 202
                denied = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": "quota"}
                assert (await http.get(path, params=denied)).status_code == 200
            refused = subscription(instance.store, PushState.FAILED)
            assert refused is not None and "quota" in (refused.last_error or "")


async def test_without_public_url_there_are_no_subscriptions(tmp_path: Path) -> None:
    from primenews import service

    with PublisherServer() as site, LoopbackHub() as hub:
        topic = publish(site, hub, [1])
        settings = (await _settings(tmp_path)).replace(public_url="")
        store = service.open_store(settings)
        try:
            store.add_source(Source(url=topic), datetime.now(UTC))
            async with (
                service.running_poller(settings, store, processes=0) as poller,
                service.running_websub(settings, poller) as manager,
            ):
                assert manager is None and poller.push is None
                [report] = await poller.poll_due()
            assert report.new == 1 and hub.requests == [] and store.list_subscriptions() == []
        finally:
            store.close()


async def _settings(tmp_path: Path) -> object:
    from websub.instance import instance_settings

    return instance_settings(tmp_path, 1)


def test_websub_options_default_to_a_long_safety_poll() -> None:
    options = WebSubOptions("https://news.example")
    assert options.safety_poll >= timedelta(hours=1)
    assert callback_url("https://news.example/", 4) == "https://news.example/websub/4"


def test_push_status_says_what_the_source_relies_on() -> None:
    from primenews.worker.websub import push_status

    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    base = Subscription(1, 1, "https://hub.example/", "https://n.example/f", "s", PushState.ACTIVE)
    live = Subscription(**{**_fields(base), "expires_at": now + timedelta(days=1), "pushes": 4})
    assert push_status(None, "", now) == "off: public_url is not set"
    assert push_status(None, "https://me.example", now) == "no hub advertised"
    assert push_status(live, "https://me.example", now) == (
        "live until 2026-11-29 12:00 UTC (4 pushes)"
    )
    pending = Subscription(**{**_fields(base), "state": PushState.PENDING})
    assert push_status(pending, "https://me.example", now).startswith("asked the hub")
    failed = Subscription(**{**_fields(base), "state": PushState.FAILED, "last_error": "boom"})
    assert push_status(failed, "https://me.example", now) == "failed, polling: boom"


def _fields(subscription: Subscription) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(subscription, f.name) for f in dataclasses.fields(subscription)}
