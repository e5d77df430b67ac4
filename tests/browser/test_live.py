"""Live updates in a real browser: an article polled while pages are open shows on them.

A site of its own (the package's seeded site has no poller behind it): a
loopback publisher's feed is polled into a fresh store through the same
``running_poller`` that ``primenews up`` runs, with its live events going to
the served app's Broadcaster. With the front page and a story page open
(JavaScript on, static/live.js listening to /api/v1/events), the feed gains a
copy of an article of that story under a new address, and the poller takes
it in: both pages must show their "refresh" notice within a few seconds,
without a reload.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from primenews.config import Settings, load_settings
from primenews.domain import Source, SourceKind
from primenews.service import open_store, running_poller
from primenews.store import Store
from primenews.web.app import create_app
from primenews.web.events import Broadcaster

from browser.checks import opened, problems
from browser.chromium import BrowserThread
from browser.corpus import TRAFILATURA, feed_pages, rss_feed
from browser.site import serve_in_thread
from publisher import PublisherServer
from shared_data import require_shared

NOTICE_TIMEOUT_MS = 10_000  # from the poll's end to the notice on the page


@dataclass(frozen=True, slots=True)
class LiveSite:
    base_url: str
    story_path: str  # a story the published copy joins
    publish: Callable[[], int]  # add the copy to the feed and poll; returns new articles
    streams: Callable[[], int]  # event streams open now


def _poll(settings: Settings, store: Store, live: Broadcaster) -> int:
    """Poll every source once, in a thread with its own event loop (as ``up`` does)."""
    result: list[int] = []

    async def run() -> None:
        async with running_poller(settings, store, processes=0, events=live) as poller:
            reports = await poller.poll_sources(store.list_sources())
            result.append(sum(report.new for report in reports))

    thread = threading.Thread(target=lambda: asyncio.run(run()), name="live-poll")
    thread.start()
    thread.join(timeout=300)
    assert result, "the poll did not finish"
    return result[0]


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    require_shared(TRAFILATURA / "expected.jsonl")
    folder = tmp_path_factory.mktemp("live")
    config = folder / "primenews.toml"
    config.write_text("")
    settings = load_settings(
        config_file=config,
        environ={},
        overrides={
            "data_dir": str(folder),
            "allow_private_networks": True,  # the publisher is on 127.0.0.1
            "fetch_per_host_delay_ms": 0,
            "insights_enabled": False,  # not what this test is about; spaCy costs seconds
        },
    )
    store = open_store(settings)
    live = Broadcaster(heartbeat_seconds=1.0)
    pages = feed_pages()
    try:
        with PublisherServer() as publisher:
            for n, page in enumerate(pages):
                publisher.add(f"/page/{n}", page.html, headers={"Content-Type": "text/html"})
            feed_headers = {"Content-Type": "application/rss+xml"}
            publisher.add("/feed.xml", rss_feed(publisher.base_url, pages), headers=feed_headers)
            store.add_source(Source(url=publisher.url("/feed.xml"), kind=SourceKind.FEED), _now())
            assert _poll(settings, store, live) == len(pages)
            first = _first_article_with_story(store, publisher.url("/page/0"))

            def publish() -> int:
                # The same page again under a new address: a copy, which joins its story.
                publisher.add(
                    f"/page/{len(pages)}", pages[0].html, headers={"Content-Type": "text/html"}
                )
                feed = _feed_with_copy(publisher.base_url, pages)
                publisher.add("/feed.xml", feed, headers=feed_headers)
                return _poll(settings, store, live)

            app = create_app(settings, store, live_events=live)
            with serve_in_thread(app) as base_url:
                yield LiveSite(base_url, f"/story/{first}", publish, lambda: live.subscriber_count)
                live.close()  # open event streams end, so the server can stop
    finally:
        store.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _feed_with_copy(base_url: str, pages: list[Any]) -> bytes:
    """The feed with one more item: page 0's HTML at ``/page/N`` with its own guid."""
    feed = rss_feed(base_url, pages).decode()
    item = (
        f"<item><title>{pages[0].title}</title><link>{base_url}/page/{len(pages)}</link>"
        f"<guid>{base_url}/page/{len(pages)}</guid></item>"
    )
    return feed.replace("</channel>", item + "</channel>").encode()


def _first_article_with_story(store: Store, url: str) -> int:
    articles, _ = store.list_articles(limit=50)
    for stored in articles:
        if stored.story_id is not None and stored.article.url.endswith("/page/0"):
            return stored.story_id
    found = [(s.article.url, s.story_id) for s in articles]
    raise AssertionError(f"no story for {url}: {found}")


def test_front_and_story_pages_update_without_a_reload(
    browser: BrowserThread, live_site: LiveSite
) -> None:
    browser.run(_watch_pages, live_site)


def _watch_pages(browser: Any, site: LiveSite) -> None:
    with (
        opened(browser, site.base_url + "/") as (front, _r1, front_log),
        opened(browser, site.base_url + site.story_path) as (story, _r2, story_log),
    ):
        notices = [page.locator("#live-notice") for page in (front, story)]
        for notice in notices:
            assert notice.is_hidden()
        deadline = time.monotonic() + NOTICE_TIMEOUT_MS / 1000
        while site.streams() < 2:  # both pages' live.js are listening
            assert time.monotonic() < deadline, "the pages did not open their event streams"
            time.sleep(0.05)
        for page in (front, story):
            page.evaluate("window.__sameDocument = true")
        # The Playwright thread's loop is busy: the poll runs in a thread of its own.
        new = _in_thread(site.publish)
        assert new == 1
        for notice in notices:
            notice.wait_for(state="visible", timeout=NOTICE_TIMEOUT_MS)
        assert "new or updated stor" in notices[0].inner_text()
        assert "update" in notices[1].inner_text() and "this story" in notices[1].inner_text()
        for page in (front, story):  # the same documents: nothing reloaded
            assert page.evaluate("window.__sameDocument") is True
        assert problems(front, front_log) == [] and problems(story, story_log) == []


def _in_thread(work: Callable[[], int]) -> int:
    out: list[int] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    thread.start()
    thread.join(timeout=300)
    assert out, "publishing did not finish"
    return out[0]
