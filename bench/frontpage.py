"""Server time of every page type over a big store, in-process (no network, no wrk).

The app is built with ``create_app`` over the store and called through
httpx.ASGITransport, one request at a time, so the numbers are the server's
own work: routing, queries, template, middleware. For each page type:

- cold: the page cache and the rankings cache emptied before every request
  (what the first reader after a restart pays);
- miss: the page cache emptied, the rankings kept (front and section pages:
  a re-render every 3 s, rankings recomputed every 5 s);
- warm: as a reader finds it under traffic (front and section pages: a page
  cache hit, answered by PageCacheMiddleware).

Wall milliseconds (median, p95) and CPU milliseconds of this process per
request (time.process_time, all threads; median) are printed as a Markdown
table. The store comes from bench/load.py's ``build_store`` (reused when it
holds enough articles); with no stories yet, the story desk replays the
recent articles once and records them in it.

    .venv/bin/python bench/frontpage.py --store /work/tmpshots/webperf/load.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from primenews.config import load_settings
from primenews.store import Store
from primenews.web.app import create_app
from primenews.web.pagecache import PageCache
from primenews.web.ranking import Rankings
from primenews.worker.desk import StoryDesk

sys.path.insert(0, str(Path(__file__).parent))
import load  # noqa: E402  (bench/load.py: the 100k store)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def measure(
    client: httpx.AsyncClient, url: str, runs: int, before: Callable[[], None]
) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(runs):
        before()
        cpu, wall = time.process_time(), time.perf_counter()
        response = await client.get(url)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return {
        "median": statistics.median(walls),
        "p95": percentile(walls, 95),
        "cpu": statistics.median(cpus),
        "bytes": len(response.content),
    }


def pick_urls(store: Store) -> dict[str, str]:
    """One URL per page type, of things the store really holds."""
    urls = {"front": "/", "section": "/world", "sources": "/sources"}
    latest, _ = store.list_articles(limit=1)
    if latest:
        urls["article"] = f"/article/{latest[0].id}"
        urls["search"] = "/search?q=" + latest[0].article.title.split()[0]
    stories, _ = store.list_stories(limit=1)
    if stories:
        urls["story"] = f"/story/{stories[0].id}"
    with store.engine.connect() as conn:
        entity = conn.execute(sa.text("SELECT id FROM entities ORDER BY id LIMIT 1")).scalar()
    if entity is not None:
        urls["entity"] = f"/entity/{entity}"
    return urls


async def run(app: FastAPI, store: Store, runs: int) -> list[tuple[str, str, dict[str, float]]]:
    def empty_page_cache() -> None:
        app.state.page_cache = PageCache()

    def empty_both() -> None:
        empty_page_cache()
        app.state.rankings = Rankings(store)

    rows = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, url in pick_urls(store).items():
            await client.get(url)  # imports, template compilation, SQLite page cache
            rows.append((name, "cold", await measure(client, url, max(5, runs // 4), empty_both)))
            if name in ("front", "section"):
                await client.get(url)
                rows.append((name, "miss", await measure(client, url, runs, empty_page_cache)))
            await client.get(url)
            rows.append((name, "warm", await measure(client, url, runs, lambda: None)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/primenews-load.sqlite3"))
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    load.build_store(args.store, args.articles)
    store = Store.open(f"sqlite:///{args.store}")
    store.migrate()
    if store.count_stories() == 0:
        began = time.perf_counter()
        replayed = StoryDesk(store).start()
        print(f"stories: replayed {replayed} articles in {time.perf_counter() - began:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "primenews.toml"
        config.write_text("")
        settings = load_settings(
            config_file=config,
            environ={},
            overrides={"data_dir": tmp, "database": str(args.store)},
        )
        app = create_app(settings, store)
        rows = asyncio.run(run(app, store, args.runs))
    print(
        f"{store.count_articles():,} articles, {store.count_stories():,} stories; "
        f"{args.runs} requests per row (cold: a quarter); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    print("| page | cache | median ms | p95 ms | CPU ms (median) | KB |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, state, result in rows:
        print(
            f"| {name} | {state} | {result['median']:.1f} | {result['p95']:.1f} "
            f"| {result['cpu']:.1f} | {result['bytes'] / 1024:.1f} |"
        )
    store.close()


if __name__ == "__main__":
    main()
