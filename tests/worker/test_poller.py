"""The poller end to end: real HTTP on loopback, real extraction, a real store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from primenews import service
from primenews.config import Settings, load_settings
from primenews.domain import Source, SourceKind
from primenews.store import Store
from primenews.store.schema import sources
from primenews.worker.poller import SourceReport
from primenews.worker.poller import utc_now as NOW

from publisher import PublisherServer, Route
from shared_data import SEED_DIR, require_shared

SEED_PATH = "/world/venezuela-frees-103-detained-after-election"


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "database": migrated_database_url,
            "allow_private_networks": True,
            "fetch_per_host_delay_ms": 0,
            "fetch_per_host_concurrency": 8,
            "fetch_retries": 0,
        },
    )


def _rss(site: PublisherServer, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Fri, 29 Nov 2024 0{n}:30:00 GMT</pubDate></item>"
        for n, link in enumerate(links)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Prime World</title>'
        f"<link>{site.url('/')}</link><ttl>1</ttl>{items}</channel></rss>"
    ).encode()


def _seed_page(site: PublisherServer) -> bytes:
    # The seed page's canonical link names its real site; on loopback it names ours.
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    return page.replace(b"https://primenews.example", site.url("").rstrip("/").encode())


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = service.open_store(settings)
    yield opened
    opened.close()


def _poll(settings: Settings, store: Store) -> list[SourceReport]:
    return asyncio.run(service.poll_once(settings, store, processes=0))


def test_feed_to_stored_article_with_conditional_refetch(settings: Settings, store: Store) -> None:
    with PublisherServer() as site:
        site.add(SEED_PATH, _seed_page(site), headers={"Content-Type": "text/html; charset=utf-8"})
        tracked = site.url(SEED_PATH) + "?utm_source=rss&utm_medium=feed"
        feed = _rss(site, [tracked, site.url("/missing")])
        site.add("/feed.xml", feed, headers={"Content-Type": "application/rss+xml"}, etag='"v1"')
        source, _ = store.add_source(Source(url=site.url("/feed.xml")), NOW())

        [report] = _poll(settings, store)
        assert (report.error, report.new, report.failed_pages) == (None, 1, 1)

        articles, _ = store.list_articles()
        assert len(articles) == 1
        stored = articles[0]
        assert stored.article.url == site.url(SEED_PATH)  # canonical, tracking dropped
        assert stored.source_id == source.id
        expected = json.loads((SEED_DIR / "expected.json").read_text())
        for snippet in expected["text_must_contain"]:
            assert snippet in stored.article.text
        for snippet in expected["text_must_not_contain"]:
            assert snippet not in stored.article.text
        assert store.raw_html(stored.id) == _seed_page(site)
        main_four = {"world", "politics", "business", "technology"}
        assert main_four & set(stored.sections) == {"world", "politics"}

        polled = store.get_source(source.id or 0)
        assert polled is not None
        assert (polled.title, polled.etag, polled.last_status) == ("Prime World", '"v1"', 200)

        # Second poll: the feed answers 304, so nothing is parsed or fetched again.
        asyncio.run(_force_due(store, source.id or 0))
        before = len(site.requests)
        [again] = _poll(settings, store)
        assert again.status == 304 and again.new == 0
        paths = [r.path for r in site.requests[before:] if r.path != "/robots.txt"]
        assert paths == ["/feed.xml"]
        assert site.requests[-1].header("If-None-Match") == '"v1"'


async def _force_due(store: Store, source_id: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(sources).where(sources.c.id == source_id).values(next_due=None))


def test_one_bad_source_never_stops_the_others(settings: Settings, store: Store) -> None:
    with PublisherServer() as site:
        site.add(SEED_PATH, _seed_page(site), headers={"Content-Type": "text/html"})
        site.add("/good.xml", _rss(site, [site.url(SEED_PATH)]))
        site.add("/broken.xml", b"<rss><channel><item><title>unclosed")
        site.add(
            "/html.xml",
            b"<html><body><p>not a feed</p></body></html>",
            headers={"Content-Type": "text/html"},
        )
        site.add("/gone.xml", b"", status=410)
        site.add("/error.xml", b"", status=500)
        site.add(
            "/bomb.xml",
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaa'>"
            b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]><rss><channel><title>&b;</title>"
            b"</channel></rss>",
        )
        for path in (
            "/good.xml",
            "/broken.xml",
            "/html.xml",
            "/gone.xml",
            "/error.xml",
            "/bomb.xml",
        ):
            store.add_source(Source(url=site.url(path)), NOW())
        store.add_source(Source(url="http://127.0.0.1:1/refused.xml"), NOW())
        store.add_source(Source(url="file:///etc/passwd"), NOW())

        reports = {r.source.url.rsplit("/", 1)[-1]: r for r in _poll(settings, store)}

    assert reports["good.xml"].error is None and reports["good.xml"].new == 1
    for name in (
        "broken.xml",
        "html.xml",
        "gone.xml",
        "error.xml",
        "bomb.xml",
        "refused.xml",
        "passwd",
    ):
        assert reports[name].error, f"{name} should have failed"
    assert "410" in (reports["gone.xml"].error or "")
    assert "HTML page" in (reports["html.xml"].error or "")
    listed = {s.url.rsplit("/", 1)[-1]: s for s in store.list_sources()}
    assert listed["error.xml"].error_count == 1 and listed["error.xml"].last_error
    assert listed["good.xml"].last_error is None
    assert store.count_articles() == 1


def test_same_article_from_two_feeds_and_a_page_source_is_stored_once(
    settings: Settings, store: Store
) -> None:
    with PublisherServer() as site:
        site.add(SEED_PATH, _seed_page(site), headers={"Content-Type": "text/html"})
        site.redirect("/short/abc", SEED_PATH)
        site.add("/a.xml", _rss(site, [site.url(SEED_PATH) + "?utm_campaign=x"]))
        site.add("/b.xml", _rss(site, [site.url("/short/abc")]))
        for path in ("/a.xml", "/b.xml"):
            store.add_source(Source(url=site.url(path)), NOW())
        store.add_source(Source(url=site.url(SEED_PATH), kind=SourceKind.PAGE), NOW())
        reports = _poll(settings, store)
    assert all(r.error is None for r in reports)
    assert store.count_articles() == 1
    [article], _ = store.list_articles()
    assert store.list_revisions(article.id)[-1].revision == 1


def test_changed_page_becomes_a_revision(settings: Settings, store: Store) -> None:
    with PublisherServer() as site:
        page = _seed_page(site)
        changed = page.replace(b"freed 103 people", b"freed 107 people")
        site.add_sequence(SEED_PATH, [Route(page), Route(changed), Route(changed)])
        source, _ = store.add_source(Source(url=site.url(SEED_PATH), kind=SourceKind.PAGE), NOW())
        for _ in range(3):
            asyncio.run(_force_due(store, source.id or 0))
            _poll(settings, store)
    [article], _ = store.list_articles()
    revisions = store.list_revisions(article.id)
    assert [r.revision for r in revisions] == [1, 2]
    assert "freed 107 people" in revisions[-1].text and "freed 103 people" in revisions[0].text


def test_a_syndicated_copy_at_another_outlet_joins_the_story_as_a_copy(
    settings: Settings, store: Store
) -> None:
    with PublisherServer() as wire, PublisherServer() as paper:
        wire.add(SEED_PATH, _seed_page(wire), headers={"Content-Type": "text/html"})
        wire.add("/feed.xml", _rss(wire, [wire.url(SEED_PATH)]))
        copy_path = "/syndicated/venezuela-prisoners"
        copy = _seed_page(paper).replace(SEED_PATH.encode(), copy_path.encode())
        copy = copy.replace(b"Prime News", b"Daily Paper")  # another outlet's name
        paper.add(copy_path, copy, headers={"Content-Type": "text/html"})
        paper.add("/feed.xml", _rss(paper, [paper.url(copy_path)]))
        store.add_source(Source(url=wire.url("/feed.xml"), title="Wire"), NOW())
        _poll(settings, store)  # the wire first, then the paper that carries its text
        store.add_source(Source(url=paper.url("/feed.xml"), title="Paper"), NOW())
        _poll(settings, store)
    articles, _ = store.list_articles()
    assert len(articles) == 2
    copied, original = sorted(articles, key=lambda a: -a.id)
    assert copied.duplicate_of == original.id and original.duplicate_of is None
    assert copied.story_id == original.story_id is not None
    story = store.get_story(original.story_id)
    assert story is not None
    assert (story.article_count, story.outlet_count) == (2, 2)
    assert story.first_article_id == original.id
    assert {"world", "politics"} <= set(story.sections)
