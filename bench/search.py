"""Benchmark full-text search: query latency at 100,000 articles.

    .venv/bin/python bench/search.py [--articles 100000] [--db PATH] [--rounds 5]
    .venv/bin/python bench/search.py --url postgresql://postgres@127.0.0.1:5432/bench_search

The store is a real SQLite file made by saving articles through the store's
own ``save_article`` (so the FTS5 triggers index them, as in production), in
transactions of 2,000. Texts are real news: each article takes a headline
and lead from ag_news (test + the two train subsets, 14,600 items) and 3 to
12 paragraphs of one bbc_news article (2,225), shuffled by a seeded
generator, under its own URL; 40 sources, sections from the BBC category,
publication times spread over a year. The file is kept at ``--db`` and
reused when it already holds ``--articles`` articles (building takes minutes).
With ``--url`` the store is that database instead (PostgreSQL: the tsvector
triggers index the articles), built the same way and reused the same way.

Each query of ``QUERIES`` (common and rare words, phrases, prefixes,
exclusions, hostile input; with and without filters; both orders; the second
page) runs once to warm the page cache, then ``--rounds`` times; every run is
timed around ``Store.search`` (what ``GET /api/v1/search`` calls: SQL,
snippets, article rows). A second pass times the same queries through the
ASGI app in-process (parsing, validation, JSON), ``--rounds`` rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import os
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Connection, insert, select

from primenews.config import load_settings
from primenews.domain import Article, Source
from primenews.store import SearchOrder, SearchQuery, Store, content_hash
from primenews.store import articles as article_sql
from primenews.store.schema import article_sections, articles
from primenews.web.app import create_app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_DB = Path("/tmp/primenews-bench/search-100k.sqlite3")
NOW = datetime(2026, 11, 28, tzinfo=UTC)
BATCH = 2000
SECTION_OF = {
    "business": "business", "entertainment": "culture", "politics": "politics",
    "sport": "sport", "tech": "technology",
}  # fmt: skip

WEEK_AGO = NOW - timedelta(days=7)
QUARTER_AGO = NOW - timedelta(days=90)
QUERIES: list[tuple[str, SearchQuery]] = [
    ("common word", SearchQuery("government")),
    ("common word, recent", SearchQuery("government", order=SearchOrder.RECENT)),
    ("very common word", SearchQuery("said")),
    ("very common word, recent", SearchQuery("said", order=SearchOrder.RECENT)),
    ("two words", SearchQuery("oil prices")),
    ("three words", SearchQuery("mobile phone market")),
    ("phrase", SearchQuery('"prime minister"')),
    ("prefix", SearchQuery("elect*")),
    ("exclusion", SearchQuery("football -chelsea")),
    ("rare word", SearchQuery("ansari")),
    ("no match", SearchQuery("zzyzx")),
    ("section filter", SearchQuery("profit", section="business")),
    ("source filter", SearchQuery("market", source_id=7)),
    ("last week", SearchQuery("minister", since=WEEK_AGO)),
    ("last week, recent", SearchQuery("said", since=WEEK_AGO, order=SearchOrder.RECENT)),
    ("all filters", SearchQuery("film", section="culture", source_id=3, since=QUARTER_AGO)),
    ("hostile", SearchQuery('NEAR("a b c, title:x -* ((')),
    ("10 kB", SearchQuery("the market " * 1000)),
]  # fmt: skip


def read_corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(ag_news headline, lead) pairs and (bbc category, text) pairs."""
    leads: list[tuple[str, str]] = []
    with gzip.open(DATA / "ag_news" / "test.csv.gz", "rt", encoding="utf-8") as handle:
        leads.extend((row[1], row[2]) for row in csv.reader(handle))
    for name in ("train_head2000.csv.gz", "train_sample5000_hf.csv.gz"):
        with gzip.open(DATA / "ag_news" / name, "rt", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                text = row[0] if name.endswith("_hf.csv.gz") else row[2]
                title = row[0].split(" ", 8)[:8] if name.endswith("_hf.csv.gz") else [row[1]]
                leads.append((" ".join(title), text))
    with gzip.open(DATA / "bbc_news" / "bbc_fulltext.jsonl.gz", "rt", encoding="utf-8") as handle:
        bodies = [(row["category"], row["text"]) for row in map(json.loads, handle)]
    return leads, bodies


def build_store(url: str, count: int) -> Store:
    """The benchmark store at ``url``, built unless it already holds ``count`` articles."""
    store = Store.open(url)
    store.migrate()
    if store.count_articles() == count:
        return store
    if store.count_articles():
        raise SystemExit(f"{url} holds another number of articles: delete it first")
    leads, bodies = read_corpus()
    rng = random.Random(20261128)
    outlets = [Source(url=f"https://o{n}.example/feed", title=f"Outlet {n}") for n in range(40)]
    source_ids = [store.add_source(outlet, NOW)[0].id for outlet in outlets]
    started = time.perf_counter()
    rows: list[tuple[Article, int | None, str]] = []
    for start in range(0, count, BATCH):
        with store.engine.begin() as conn:
            for n in range(start, min(start + BATCH, count)):
                title, lead = leads[n % len(leads)]
                category, body = bodies[rng.randrange(len(bodies))]
                paragraphs = [p for p in body.split("\n\n")[1:] if p.strip()]
                rng.shuffle(paragraphs)
                text = "\n\n".join([lead, *paragraphs[: rng.randint(3, 12)]])
                when = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
                article = Article(
                    url=f"https://news.example/{n}", title=title, text=text, published=when
                )
                source_id = source_ids[n % len(source_ids)]
                if store.backend == "postgresql":
                    rows.append((article, source_id, SECTION_OF[category]))
                    continue
                article_sql.save_article(
                    conn, article, content_hash=content_hash(text),
                    source_id=source_id, raw_html=b"", fetched_at=NOW,
                    sections={SECTION_OF[category]: 0.9},
                )  # fmt: skip
            insert_rows(conn, rows)
            rows.clear()
        print(f"  {min(start + BATCH, count):,} articles, {time.perf_counter() - started:.0f} s")
    if store.backend == "postgresql":  # what autovacuum does to a live store: visibility map,
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # so index-only scans skip the heap
        return store
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO article_search(article_search) VALUES ('optimize')")
        conn.exec_driver_sql("ANALYZE")
    return store


def insert_rows(conn: Connection, rows: list[tuple[Article, int | None, str]]) -> None:
    """PostgreSQL: the columns ``save_article`` writes for a new article, a batch per statement.

    One article at a time, save_article's round trips made building 100,000 take an
    hour on the busy dev box; the search triggers index these rows all the same.
    """
    if not rows:
        return
    values = [
        {"url": a.url, "source_id": source_id, "title": a.title, "text": a.text,
         "published": a.published, "content_hash": content_hash(a.text), "revision": 1,
         "first_seen": NOW, "last_seen": NOW, "sort_time": a.published or NOW}
        for a, source_id, _ in rows
    ]  # fmt: skip
    conn.execute(insert(articles), values)
    urls = [a.url for a, _, _ in rows]
    chosen = select(articles.c.url, articles.c.id).where(articles.c.url.in_(urls))
    found = {row.url: row.id for row in conn.execute(chosen)}
    sections = [{"article_id": found[a.url], "section": s, "score": 0.9} for a, _, s in rows]
    conn.execute(insert(article_sections), sections)


def store_size_mb(store: Store, db: Path) -> float:
    if store.backend == "sqlite":
        return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6
    with store.engine.connect() as conn:
        return (
            int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())
            / 1e6
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def time_store(store: Store, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    for name, query in QUERIES:
        store.search(query)  # warm
        second = store.search(query).next_cursor
        runs = timings.setdefault(name, [])
        for _ in range(rounds):
            start = time.perf_counter()
            page = store.search(query)
            runs.append((time.perf_counter() - start) * 1000)
        if second:
            page_two = timings.setdefault("second page (" + query.order.value + ")", [])
            for _ in range(rounds):
                start = time.perf_counter()
                store.search(replace(query, cursor=second))
                page_two.append((time.perf_counter() - start) * 1000)
        timings[name + f" [{len(page.hits)} hits]"] = timings.pop(name)
    return timings


async def time_api(store: Store, tmp: Path, rounds: int) -> list[float]:
    config = tmp / "primenews.toml"
    config.write_text("")
    settings = load_settings(config_file=config, environ={}, overrides={"data_dir": str(tmp)})
    app = create_app(settings, store)
    runs: list[float] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://b"
    ) as client:
        await client.get("/api/v1/search", params={"q": "warm"})
        for _, query in QUERIES * rounds:
            params = {"q": query.text, "order": query.order.value}
            if query.section:
                params["section"] = query.section
            if query.source_id:
                params["source"] = str(query.source_id)
            if query.since:
                params["since"] = query.since.isoformat()
            start = time.perf_counter()
            response = await client.get("/api/v1/search", params=params)
            runs.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--url", help="a database URL instead of --db (PostgreSQL)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.url is None:
        args.db.parent.mkdir(parents=True, exist_ok=True)
    store = build_store(args.url or f"sqlite:///{args.db}", args.articles)
    where = store.backend if args.url else args.db
    print(f"store: {store.count_articles():,} articles, {store_size_mb(store, args.db):,.0f} MB"
          f" ({where})")  # fmt: skip
    # The machine is shared: the load says how much of the two cores this run had.
    print("load average before: " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    timings = time_store(store, args.rounds)
    print(f"\n{'query':44} {'p50 ms':>8} {'max ms':>8}")
    for name, runs in timings.items():
        print(f"{name:44} {statistics.median(runs):8.1f} {max(runs):8.1f}")
    every = [ms for runs in timings.values() for ms in runs]
    print(f"\nStore.search, {len(every)} runs: p50 {percentile(every, 0.5):.1f} ms, "
          f"p95 {percentile(every, 0.95):.1f} ms, p99 {percentile(every, 0.99):.1f} ms, "
          f"max {max(every):.1f} ms")  # fmt: skip
    tmp = args.db.parent
    tmp.mkdir(parents=True, exist_ok=True)
    api = asyncio.run(time_api(store, tmp, args.rounds))
    print(f"GET /api/v1/search in-process, {len(api)} runs: p50 {percentile(api, 0.5):.1f} ms, "
          f"p95 {percentile(api, 0.95):.1f} ms, max {max(api):.1f} ms")  # fmt: skip
    print("load average after: " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    store.close()


if __name__ == "__main__":
    main()
