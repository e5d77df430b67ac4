"""The seeded site: a store filled by the real commands, served by uvicorn on 127.0.0.1.

``primenews ingest`` loads the WARC (extraction and the stories desk as in
production), then ``primenews poll --once`` fetches a feed and its pages from a
loopback publisher, and the app is served from the same store in a thread on a
port the OS picks. An admin account is made as ``primenews users add`` makes
it. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from primenews.auth import PasswordHasher
from primenews.auth.accounts import create_user
from primenews.config import load_settings
from primenews.domain import Source, SourceKind
from primenews.store import Store
from primenews.web.app import create_app

from browser.corpus import feed_pages, rss_feed, seed_url, write_archive
from publisher import PublisherServer

COMMAND_TIMEOUT_S = 300
SEARCH_WORD = "Venezuela"  # in the seed article's title and text
ADMIN_NAME = "editor"


@dataclass(frozen=True, slots=True)
class Site:
    """The running server and the paths of one page of each type in its store."""

    base_url: str
    pages: dict[str, str]  # page type -> path
    admin: tuple[str, str]  # name and password of an admin account

    def url(self, path: str) -> str:
        return self.base_url + path


@contextmanager
def seeded_site(folder: Path) -> Iterator[Site]:
    """Fill a store under ``folder`` from the real corpus and serve it; yields the Site."""
    warc = folder / "corpus.warc.gz"
    write_archive(warc)
    run_primenews(folder, "ingest", str(warc))
    config = folder / "primenews.toml"
    config.write_text("")
    settings = load_settings(config_file=config, environ={}, overrides={"data_dir": str(folder)})
    store = Store.open(settings.database_url)
    try:
        # What `primenews users add` and `sources add --kind feed` do, without two start-ups.
        admin = (ADMIN_NAME, secrets.token_urlsafe(18))
        create_user(store, PasswordHasher(), *admin, datetime.now(UTC))
        with PublisherServer() as publisher:
            pages = feed_pages()
            for n, page in enumerate(pages):
                publisher.add(f"/page/{n}", page.html, headers={"Content-Type": "text/html"})
            feed = rss_feed(publisher.base_url, pages)
            publisher.add("/feed.xml", feed, headers={"Content-Type": "application/rss+xml"})
            # The second feed is not there: the sources page shows a failing source too.
            for url in (publisher.url("/feed.xml"), publisher.url("/feed-gone.xml")):
                store.add_source(Source(url=url, kind=SourceKind.FEED), datetime.now(UTC))
            # Insights off here: the ingest has made them, and a second pool loading
            # spaCy costs ten seconds; these articles show the page without insights.
            run_primenews(folder, "--set", "insights_enabled=false", "poll", "--once")
        paths = page_paths(store)
        with serve_in_thread(create_app(settings, store)) as base_url:
            yield Site(base_url=base_url, pages=paths, admin=admin)
    finally:
        store.close()


def run_primenews(folder: Path, *args: str) -> str:
    """Run the ``primenews`` CLI on the store in ``folder``; fail the test with its stderr."""
    command = [
        sys.executable,
        "-m",
        "primenews",
        "--data-dir",
        str(folder),
        "--allow-private-networks",  # the publisher is on 127.0.0.1
        "--set",
        "fetch_per_host_delay_ms=0",
        *args,
    ]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PRIMENEWS_")}
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        env=environ,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"primenews {' '.join(args)} exited {done.returncode}:\n{done.stderr[-4000:]}")
    return done.stdout


def page_paths(store: Store) -> dict[str, str]:
    """One path per page type, picked from what the corpus put in the store."""
    stories, _ = store.list_stories(limit=200)
    assert stories, "the corpus made no story"
    biggest = max(stories, key=lambda story: (story.article_count, -story.id))
    articles, _ = store.list_articles(limit=200)
    seed = next(stored for stored in articles if stored.article.url == seed_url())
    german = next(stored for stored in articles if stored.article.language == "de")
    feed = next(source for source in store.list_sources() if source.url.endswith("/feed.xml"))
    entities, _ = store.list_entities(sort="mentions", limit=1)
    assert entities, "the corpus named no entity: are insights on?"
    return {
        "front": "/",
        "section": "/world",
        "story": f"/story/{biggest.id}",
        "article": f"/article/{seed.id}",
        "article-de": f"/article/{german.id}",
        "source": f"/?source={feed.id}",
        "source-page": f"/source/{feed.id}",
        "sources": "/sources",
        "entity": f"/entity/{entities[0].id}",
        "search": "/search",
        "search-results": f"/search?q={SEARCH_WORD}",
        "login": "/login",
        "not-found": "/story/999999999",
    }


@contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1, on a port the OS picks; yields its base URL."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-browser", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
