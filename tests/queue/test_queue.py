"""The queue path against the real Redis on 127.0.0.1:6379: two `primenews worker` processes.

The workers' store is the test's database (``database_url``: a SQLite file,
or a PostgreSQL schema when the suite runs with PRIMENEWS_TEST_DATABASE_URL);
the single-process result it is compared with is always on SQLite.

A loopback publisher serves the seed article and English pages of the Fundus
corpus under three feeds. ``primenews poll --once`` with the queue must store
the same articles, stories (as a partition of article URLs) and insights
(entity names per article) as the in-process poll of the same feeds, also
when a worker's task process is killed with SIGKILL in the middle of a poll.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import func, select

from primenews.config import load_settings
from primenews.service import poll_options
from primenews.store import make_engine, schema
from primenews.worker.live import ARTICLE_STORED
from primenews.worker.queue import MAX_DELIVERIES, POLL_SOURCE, configure_queue

from publisher import PublisherServer
from shared_data import SEED_DIR, SHARED_DATA, require_shared

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
FUNDUS = SHARED_DATA / "fundus_articles"
PAGES = 8  # Fundus pages besides the seed article: several outlets, each feed gets three
FEEDS = 3  # more feeds than workers, so both workers take tasks
WORKER_START_SECONDS = 30


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_answers(),
    reason=f"no Redis answering on {REDIS_HOST}:{REDIS_PORT}; the queue tests need a real one",
)


def _corpus() -> list[tuple[str, bytes]]:
    """(path, page) pairs: the seed article, then English Fundus pages in id order."""
    pages = [("/a/seed.html", require_shared(SEED_DIR / "page.html").read_bytes())]
    index = require_shared(FUNDUS / "index.jsonl").read_text(encoding="utf-8").splitlines()
    rows = sorted((json.loads(line) for line in index), key=lambda row: row["id"])
    english = [row for row in rows if (row.get("html_lang") or "").startswith("en")]
    for row in english[:PAGES]:
        content = gzip.decompress((FUNDUS / row["html"]).read_bytes())
        pages.append((f"/a/{row['id'].replace('/', '-')}.html", content))
    return pages


def _serve(site: PublisherServer, delay_seconds: float = 0.0) -> list[str]:
    """Serve the corpus under ``FEEDS`` RSS feeds; returns the feed URLs."""
    corpus = _corpus()
    base = site.url("").rstrip("/")
    for path, content in corpus:
        site.add(
            path,
            content,
            headers={"Content-Type": "text/html; charset=utf-8"},
            delay_seconds=delay_seconds,
        )
    feeds = []
    for n in range(FEEDS):
        items = "".join(
            f"<item><title>{path}</title><link>{base}{path}</link></item>"
            for path, _ in corpus[n::FEEDS]
        )
        body = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"<link>{base}/</link>{items}</channel></rss>"
        )
        feeds.append(site.add(f"/feed{n}.xml", body.encode(), headers={"Content-Type": "text/xml"}))
    return feeds


def _env(database: str, data_dir: Path, queue_name: str | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRIMENEWS_")}
    env.update(
        PRIMENEWS_DATABASE=database,
        PRIMENEWS_DATA_DIR=str(data_dir),
        PRIMENEWS_ALLOW_PRIVATE_NETWORKS="true",
        PRIMENEWS_FETCH_PER_HOST_DELAY_MS="0",
        PRIMENEWS_EXTRACT_WORKERS="1",
        PRIMENEWS_WORKER_CONCURRENCY="1",
    )
    if queue_name is not None:
        env.update(
            PRIMENEWS_QUEUE_URL=f"redis://{REDIS_HOST}:{REDIS_PORT}/0",
            PRIMENEWS_QUEUE_NAME=queue_name,  # a queue of this test's own: nothing else takes it
        )
    return env


def _primenews(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "primenews", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _add_sources(env: dict[str, str], feeds: list[str]) -> None:
    for feed in feeds:
        _primenews(env, "sources", "add", "--kind", "feed", feed)


@contextlib.contextmanager
def _workers(
    env: dict[str, str], count: int, log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` `primenews worker` processes, ready to take tasks; stopped (SIGTERM) on exit."""
    logs = [log_dir / f"worker{n}.log" for n in range(count)]
    processes = []
    for log in logs:
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "primenews", "-v", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not all(b" ready." in log.read_bytes() for log in logs):
            assert all(p.poll() is None for p in processes), _tails(logs)
            assert time.monotonic() < deadline, "workers did not start:\n" + _tails(logs)
            time.sleep(0.1)
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task under way
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs_text = _tails(logs)
    assert "Traceback" not in logs_text or "WorkerLostError" in logs_text, logs_text


def _tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)


def _snapshot(database: str) -> dict[str, Any]:
    """What must match between the paths: articles, stories as a partition, entity names."""
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            articles = {
                row.id: (row.url, row.title, row.content_hash)
                for row in conn.execute(
                    select(
                        schema.articles.c.id,
                        schema.articles.c.url,
                        schema.articles.c.title,
                        schema.articles.c.content_hash,
                    )
                )
            }
            articles = {key: (_path(url), *rest) for key, (url, *rest) in articles.items()}
            url_of = {article_id: values[0] for article_id, values in articles.items()}
            stories: dict[int, set[str]] = {}
            for row in conn.execute(select(schema.story_members)):
                stories.setdefault(row.story_id, set()).add(url_of[row.article_id])
            entities: dict[str, set[str]] = {url: set() for url in url_of.values()}
            names = select(schema.article_entities.c.article_id, schema.entities.c.name).join(
                schema.entities, schema.entities.c.id == schema.article_entities.c.entity_id
            )
            for row in conn.execute(names):
                entities[url_of[row.article_id]].add(row.name)
            enriched = {
                url_of[row.article_id]
                for row in conn.execute(select(schema.article_insights.c.article_id))
            }
            copies = {
                (url_of[row.article_id], url_of[row.original_id])
                for row in conn.execute(select(schema.duplicates))
            }
            entries = conn.execute(select(schema.entries.c.url, schema.entries.c.article_id)).all()
            stored_events = conn.execute(
                select(schema.live_events.c.data).where(schema.live_events.c.kind == ARTICLE_STORED)
            )
            announced = sorted(_path(json.loads(row.data)["url"]) for row in stored_events)
    finally:
        engine.dispose()
    return {
        "articles": sorted(articles.values()),
        "stories": sorted(sorted(urls) for urls in stories.values()),
        "entities": {url: sorted(found) for url, found in entities.items()},
        "enriched": sorted(enriched),
        "copies": sorted(copies),
        "entries": sorted((_path(url), article_id is not None) for url, article_id in entries),
        "announced": announced,  # live pages hear of each new article once, on either path
    }


def _path(url: str) -> str:
    """A URL without the publisher's address, which differs between runs (port 0)."""
    return re.sub(r"^http://127\.0\.0\.1:\d+", "", url)


@pytest.fixture(scope="module")
def single_process(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The in-process result of polling the corpus's feeds once."""
    data_dir = tmp_path_factory.mktemp("single")
    database = f"sqlite:///{data_dir / 'news.sqlite3'}"
    env = _env(database, data_dir, None)
    with PublisherServer() as site:
        _add_sources(env, _serve(site))
        _primenews(env, "poll", "--once")
    snapshot = _snapshot(database)
    assert len(snapshot["articles"]) == PAGES + 1
    assert snapshot["announced"] == sorted(path for path, *_ in snapshot["articles"])
    return snapshot


def test_two_workers_store_what_one_process_stores(
    tmp_path: Path, database_url: str, single_process: dict[str, Any]
) -> None:
    database = database_url  # a SQLite file, or a PostgreSQL schema in the PostgreSQL run
    env = _env(database, tmp_path, f"test-{uuid.uuid4().hex}")
    with PublisherServer() as site:
        _add_sources(env, _serve(site))
        with _workers(env, 2, tmp_path):
            output = _primenews(env, "poll", "--once")
            first = _snapshot(database)
            # Every task delivered once more, as after a lost acknowledgement: nothing new.
            again = [_queue(env).send_task(POLL_SOURCE, args=(n,)) for n in range(1, FEEDS + 1)]
            repeats = [result.get(timeout=60) for result in again]
    assert f"{PAGES + 1} new articles" in output, output
    assert first == single_process
    assert [(r["new"], r["revised"], r["error"]) for r in repeats] == [(0, 0, None)] * FEEDS
    assert _snapshot(database) == single_process
    assert _fetch_counts(database) == [2] * FEEDS  # the log shows both deliveries


def _queue(env: dict[str, str]) -> Celery:
    """This test process's handle on the workers' queue (to send tasks by hand)."""
    settings = load_settings(environ=env)
    return configure_queue(settings, poll_options(settings))


def _fetch_counts(database: str) -> list[int]:
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(func.count())
                .select_from(schema.fetches)
                .group_by(schema.fetches.c.source_id)
            )
            return [int(count) for (count,) in rows]
    finally:
        engine.dispose()


def _pool_children(worker: subprocess.Popen[bytes]) -> list[int]:
    """The prefork pool processes of a worker (the ones that run tasks)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _count_articles(database: str) -> int:
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            return len(conn.execute(select(schema.articles.c.id)).all())
    except Exception:  # the store may not have its tables yet
        return 0
    finally:
        engine.dispose()


@pytest.mark.slow  # ~50 s on the loaded 2-core box: slow pages keep the tasks in flight
def test_a_worker_killed_mid_poll_loses_and_duplicates_nothing(
    tmp_path: Path, database_url: str, single_process: dict[str, Any]
) -> None:
    database = database_url  # a SQLite file, or a PostgreSQL schema in the PostgreSQL run
    env = _env(database, tmp_path, f"test-{uuid.uuid4().hex}")
    with PublisherServer() as site:
        # Slow pages keep every task in the middle of its poll for a few seconds.
        _add_sources(env, _serve(site, delay_seconds=0.3))
        with _workers(env, 2, tmp_path) as workers:
            poll = subprocess.Popen(
                [sys.executable, "-m", "primenews", "poll", "--once"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 60
            while _count_articles(database) < 1:  # a task has stored part of its source
                assert poll.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            victims = _pool_children(workers[0])
            assert victims, "the worker has no pool process to kill"
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
            output, _ = poll.communicate(timeout=120)
    assert poll.returncode == 0, output.decode()
    logs = _tails([tmp_path / "worker0.log"])
    assert "WorkerLostError" in logs or "SIGKILL" in logs, logs  # the kill did hit a task
    assert _snapshot(database) == single_process


def test_a_task_delivered_too_often_leaves_a_dead_letter(tmp_path: Path, database_url: str) -> None:
    database = database_url  # a SQLite file, or a PostgreSQL schema in the PostgreSQL run
    env = _env(database, tmp_path, f"test-{uuid.uuid4().hex}")
    with PublisherServer() as site:
        _add_sources(env, _serve(site)[:1])
        app = _queue(env)
        task_id = f"test-{uuid.uuid4().hex}"
        # As if the task had already been delivered MAX_DELIVERIES times, killing its worker each.
        client = app.backend.client  # type: ignore[attr-defined]
        client.set(f"primenews:deliveries:{task_id}", MAX_DELIVERIES, ex=600)
        with _workers(env, 1, tmp_path):
            result = app.send_task(POLL_SOURCE, args=(1,), task_id=task_id)
            value = result.get(timeout=60)
            result.forget()
            # A source removed between the poll's enqueueing and its task: said, not crashed.
            removed = app.send_task(POLL_SOURCE, args=(999,)).get(timeout=60)
        listed = _primenews(env, "sources", "list")
    assert value["dead_letter"] is True
    assert removed == {"source_id": 999, "error": "source removed before its poll ran"}
    assert "dead_letters=1" in listed, listed
    assert f"attempts={MAX_DELIVERIES + 1}" in listed and "kept dying" in listed, listed
    assert _count_articles(database) == 0  # the poll itself did not run
