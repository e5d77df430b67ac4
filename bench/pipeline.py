"""End-to-end throughput with every stage on, against plain trafilatura + spaCy on the same pages.

A loopback publisher serves FEEDS RSS feeds of ENTRIES items; every item links
to a real article page (bench/poll.py's corpus: the 181
article-extraction-benchmark pages and 258 fundus pages, each made unique by
its URL, canonical link and a marker paragraph). Each path takes the feeds
from fetch to stored (articles with their sections, boilerplate cleaned,
insights with spaCy, stories on the polling process's desk):

- in-process, SQLite: the poller of `primenews poll --once` with its extract
  pool (EXTRACT_WORKERS processes, one per core by default);
- in-process, PostgreSQL: the same on PostgreSQL (tells the store's share);
- queue, 1 and 2 workers: `primenews worker` processes (concurrency 1 each)
  on Redis, the store on PostgreSQL, the polling process keeping the desk;
- reference: plain `httpx.get` + `trafilatura.extract` + the same spaCy model
  with the same pipes (``insights.entities.load_pipeline``) over the same
  article URLs, in 1 and 2 processes, nothing stored.

Fixed start-up costs are kept out of the timed part: every path first polls
two small warm-up feeds (so each process has loaded spaCy, the section model
and its store connections), then the timed batch. Measured per path: new
articles, wall seconds, articles/s, CPU seconds per article (user + system of
the polling process, its extract processes and the workers, read from
/proc before and after the timed batch; the publisher is not counted) and
the peak resident memory (VmHWM) of each process. Cores and load average are
printed with the table: on a shared machine compare CPU per article, not rates.

    .venv/bin/python bench/pipeline.py [--feeds 10] [--entries 30] [--runs all]

Needs Redis (``--redis``, default db 15) and PostgreSQL (``--pg``: a database
the bench drops and creates for each run) on 127.0.0.1 for the queue rows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import poll  # noqa: E402  (bench/poll.py: the corpus)

CLI = [sys.executable, "-m", "primenews"]
WARM_FEEDS, WARM_ENTRIES = 2, 3  # served under /warm/: other pages than the timed batch's
TICKS = os.sysconf("SC_CLK_TCK")
RUNS = ("inprocess-sqlite", "inprocess-pg", "queue-1", "queue-2", "reference-1", "reference-2")


# ---- the publisher ---------------------------------------------------------------------------


def serve(port_queue: multiprocessing.Queue, entries: int) -> None:  # type: ignore[type-arg]
    """Feeds under /feed/N.xml (ENTRIES items) and /warm/N.xml (WARM_ENTRIES), pages under /a/."""
    pages = poll.load_pages()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            base = f"http://{self.headers['Host']}"
            if path.startswith(("/feed/", "/warm/")):
                warm = path.startswith("/warm/")
                feed = int(path[6:].split(".")[0]) + (100_000 if warm else 0)
                body = poll.rss(base, feed, WARM_ENTRIES if warm else entries)
                poll.answer(self, body, "application/rss+xml")
            elif path.startswith("/a/"):
                feed, item = (int(part) for part in path[3:].removesuffix(".html").split("/"))
                # warm-up feeds read pages from the end of the corpus, the batch from the start
                index = (feed * entries + item) if feed < 100_000 else -1 - (feed % 100 * 10 + item)
                page = poll.article_page(pages[index % len(pages)], base, path, feed, item)
                poll.answer(self, page, "text/html; charset=utf-8")
            else:
                poll.answer(self, None, "")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def feed_urls(base: str, feeds: int, *, warm: bool = False) -> list[str]:
    return [f"{base}/{'warm' if warm else 'feed'}/{n}.xml" for n in range(feeds)]


def article_urls(base: str, feeds: int, entries: int) -> list[str]:
    return [f"{base}/a/{feed}/{n}.html" for feed in range(feeds) for n in range(entries)]


# ---- CPU and memory of process trees, from /proc -----------------------------------------------


def _children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree(pids: list[int]) -> list[int]:
    """The processes and all their live descendants."""
    children, found, todo = _children_of(), [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """Each process's user + system CPU plus what it reaped, for the processes and their trees."""
    found = {}
    for pid in tree(pids):
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            found[pid] = sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS
    return found


def peak_rss_mb(pids: list[int]) -> list[float]:
    """Each process's peak resident memory so far (VmHWM), in MB."""
    peaks = []
    for pid in tree(pids):
        with contextlib.suppress(OSError, AttributeError):
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
    return peaks


# ---- our pipeline: the driver runs in its own process with the bench's environment ------------


def drive(base: str, feeds: int, worker_pids: list[int]) -> dict[str, Any]:
    """Warm up on the warm-up feeds, then poll the timed batch; runs in a child process."""
    from primenews.config import load_settings
    from primenews.domain import Source
    from primenews.service import open_store, poll_due, running_poller

    settings = load_settings()
    store = open_store(settings)

    def add(urls: list[str]) -> None:
        for url in urls:
            store.add_source(Source(url=url), datetime.now(UTC))

    async def run() -> dict[str, Any]:
        async with running_poller(settings, store) as poller:
            add(feed_urls(base, WARM_FEEDS, warm=True))
            warm = await poll_due(settings, poller)
            add(feed_urls(base, feeds))
            pids = [os.getpid(), *worker_pids]
            size_before = _database_bytes(settings.database_url)
            before, started = cpu_by_process(pids), time.perf_counter()
            profile = _profiler()
            reports = await poll_due(settings, poller)
            if profile is not None:
                profile.disable()
                profile.dump_stats(os.environ["BENCH_PROFILE"])
            seconds, after = time.perf_counter() - started, cpu_by_process(pids)
            # the polling process, then the others: where the CPU went
            split = {pid: cpu - before.get(pid, 0.0) for pid, cpu in after.items()}
            return {
                "warm_new": sum(r.new for r in warm),
                "new": sum(r.new for r in reports),
                "errors": [r.error for r in reports if r.error],
                "failed_pages": sum(r.failed_pages for r in reports),
                "seconds": seconds,
                "cpu": sum(split.values()),
                "store_kb_per_article": (_database_bytes(settings.database_url) - size_before)
                / 1024
                / max(sum(r.new for r in reports), 1),
                "cpu_split": [split.pop(os.getpid()), *sorted(split.values(), reverse=True)],
                "rss_mb": peak_rss_mb(pids),
            }

    result = asyncio.run(run())
    result["stored"] = _stored_counts(settings.database_url)
    return result


def _profiler() -> Any:
    """With BENCH_PROFILE=file: cProfile of the polling process, its store calls run inline."""
    if not os.environ.get("BENCH_PROFILE"):
        return None
    import cProfile

    from primenews.worker.local import StoreWriter

    async def inline(self: StoreWriter, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    StoreWriter.run = inline  # type: ignore[method-assign]  # one thread, so cProfile sees it all
    profile = cProfile.Profile(time.process_time)  # CPU, not wall: the box is shared
    profile.enable()
    return profile


def _database_bytes(database_url: str) -> int:
    """The size of the store on disk (PostgreSQL's database, or the SQLite file and its WAL)."""
    from sqlalchemy import text

    from primenews.store import make_engine

    engine = make_engine(database_url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                query = text("SELECT pg_database_size(current_database())")
                return int(conn.execute(query).scalar_one())
        base = Path(str(engine.url.database))
        return sum(p.stat().st_size for p in base.parent.glob(base.name + "*"))
    finally:
        engine.dispose()


def _stored_counts(database_url: str) -> dict[str, int]:
    """What the timed batch left in the store: the evidence that every stage ran."""
    from sqlalchemy import func, select

    from primenews.store import make_engine, schema

    engine = make_engine(database_url)
    with engine.connect() as conn:

        def count(table: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        counts = {
            "articles": count(schema.articles),
            "with_story": count(schema.story_members),
            "with_sections": int(
                conn.execute(
                    select(func.count(func.distinct(schema.article_sections.c.article_id)))
                ).scalar_one()
            ),
            "with_insights": count(schema.article_insights),
        }

    engine.dispose()
    return counts


def _env(tmp: str, database: str | None, queue: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIMENEWS_")}
    env.update(
        PRIMENEWS_DATA_DIR=tmp,
        PRIMENEWS_ALLOW_PRIVATE_NETWORKS="true",
        PRIMENEWS_FETCH_PER_HOST_DELAY_MS="0",
        PRIMENEWS_FETCH_PER_HOST_CONCURRENCY="32",
        PRIMENEWS_FETCH_CONCURRENCY="64",
        PRIMENEWS_WORKER_CONCURRENCY="1",
        PRIMENEWS_INSIGHTS_ENABLED="true",
    )
    if database:
        env["PRIMENEWS_DATABASE"] = database
    if queue:
        env.update(PRIMENEWS_QUEUE_URL=queue, PRIMENEWS_QUEUE_NAME=f"bench-{uuid.uuid4().hex}")
    return env


def _fresh_postgres(url: str) -> None:
    """Drop and create the bench's database (it must be one of its own)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def _workers(env: dict[str, str], count: int, logs: Path) -> Iterator[list[int]]:
    processes, files = [], []
    for n in range(count):
        log = logs / f"worker{n}.log"
        files.append(log)
        with log.open("wb") as out:
            command = [*CLI, "-v", "worker"]
            if env.get("BENCH_PROFILE"):  # the first worker under cProfile, tasks in its process
                profile = f"{env['BENCH_PROFILE']}.worker{n}"
                command = [sys.executable, "-m", "cProfile", "-o", profile, *command[1:]]
                command += ["--pool", "solo"]
            processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=out))
    try:
        while not all(b" ready." in f.read_bytes() for f in files):
            if any(p.poll() is not None for p in processes):
                raise SystemExit("a worker died:\n" + "\n".join(f.read_text() for f in files))
            time.sleep(0.1)
        yield [p.pid for p in processes]
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def run_ours(
    name: str, base: str, feeds: int, workers: int, pg: str | None, redis: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        if pg:
            _fresh_postgres(pg)
        env = _env(tmp, pg, redis if workers else None)
        with contextlib.ExitStack() as stack:
            pids = stack.enter_context(_workers(env, workers, Path(tmp))) if workers else []
            args = [sys.executable, __file__, "--drive", base, str(feeds), *map(str, pids)]
            done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{name} failed:\n{done.stdout}\n{done.stderr[-5000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["run"] = name
    result["processes"] = len(result["rss_mb"])
    return result


# ---- the reference: httpx + trafilatura + spaCy, nothing else ----------------------------------


def _reference_worker(
    urls: multiprocessing.Queue,  # type: ignore[type-arg]
    ready: Any,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    import httpx
    import trafilatura

    from primenews.insights.entities import load_pipeline

    nlp = load_pipeline()  # our model, with the pipes our insights stage runs
    client = httpx.Client(timeout=60)
    nlp("Warm up on one sentence about Paris.")
    trafilatura.extract("<html><body><p>warm</p></body></html>")
    ready.wait()
    cpu_before = time.process_time()
    done = 0
    while (url := urls.get()) is not None:
        html = client.get(url).text
        text = trafilatura.extract(html, url=url)
        if text:
            nlp(text[:100_000])
            done += 1
    results.put((done, time.process_time() - cpu_before, peak_rss_mb([os.getpid()])[0]))


def run_reference(base: str, feeds: int, entries: int, processes: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    urls, results = context.Queue(), context.Queue()
    ready = context.Barrier(processes + 1)
    workers = [
        context.Process(target=_reference_worker, args=(urls, ready, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for url in article_urls(base, feeds, entries):
        urls.put(url)
    for _ in workers:
        urls.put(None)
    ready.wait()  # every process has loaded spaCy
    started = time.perf_counter()
    done = [results.get() for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return {
        "run": f"reference, {processes} process{'es' if processes > 1 else ''}",
        "new": sum(d[0] for d in done),
        "seconds": seconds,
        "cpu": sum(d[1] for d in done),
        "rss_mb": [d[2] for d in done],
        "processes": processes,
    }


# ---- the table --------------------------------------------------------------------------------


def _row(r: dict[str, Any]) -> str:
    new, seconds = r["new"], r["seconds"]
    rss = r["rss_mb"]
    memory = f"{max(rss):.0f} ({len(rss)} processes, {sum(rss):.0f} in all)" if rss else "–"
    stored = r.get("stored")
    evidence = (
        f"{stored['with_story']}/{stored['with_sections']}/{stored['with_insights']}"
        f" of {stored['articles']}"
        if stored
        else "–"
    )
    return (
        f"| {r['run']} | {new} | {seconds:.1f} | {new / seconds:.2f} | "
        f"{r['cpu'] * 1000 / max(new, 1):.0f} | {memory} | {evidence} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--runs", default="all", help=f"comma-separated, of: {', '.join(RUNS)}")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test_pipeline")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--json", help="also write the results to this file")
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        base, feeds, *workers = sys.argv[2:]
        print(json.dumps(drive(base, int(feeds), [int(w) for w in workers])))
        return
    args = parser.parse_args()
    runs = RUNS if args.runs == "all" else tuple(args.runs.split(","))
    if unknown := [name for name in runs if name not in RUNS]:
        parser.error(f"unknown run {', '.join(unknown)}: choose from {', '.join(RUNS)} or all")
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    publisher = multiprocessing.Process(target=serve, args=(ports, args.entries), daemon=True)
    publisher.start()
    base = f"http://127.0.0.1:{ports.get(timeout=60)}"
    plans = {
        "inprocess-sqlite": lambda: run_ours("in-process, SQLite", base, args.feeds, 0, None, None),
        "inprocess-pg": lambda: run_ours(
            "in-process, PostgreSQL", base, args.feeds, 0, args.pg, None
        ),
        "queue-1": lambda: run_ours(
            "queue, 1 worker, PostgreSQL", base, args.feeds, 1, args.pg, args.redis
        ),
        "queue-2": lambda: run_ours(
            "queue, 2 workers, PostgreSQL", base, args.feeds, 2, args.pg, args.redis
        ),
        "reference-1": lambda: run_reference(base, args.feeds, args.entries, 1),
        "reference-2": lambda: run_reference(base, args.feeds, args.entries, 2),
    }
    results = []
    for name in runs:
        load = os.getloadavg()[0]
        result = plans[name]()
        result["load"] = (load, os.getloadavg()[0])
        results.append(result)
        split = [round(c * 1000 / max(result["new"], 1)) for c in result.get("cpu_split", [])]
        print(_row(result), f"load {load:.1f} → {os.getloadavg()[0]:.1f}", file=sys.stderr)
        print(
            f"  CPU ms per article by process (the polling one first): {split}; store grew "
            f"{result.get('store_kb_per_article', 0):.0f} KB per article",
            file=sys.stderr,
        )
    publisher.terminate()
    print(f"cores: {os.cpu_count()}; {args.feeds} feeds × {args.entries} entries")
    print(
        "| run | new articles | seconds | articles/s | CPU ms per article "
        "| peak RSS per process, MB | in a story/with sections/with insights (warm-up included) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
    for r in results:
        print(_row(r))
    print(
        "load average (1 min) before → after each run: "
        + "; ".join(f"{r['run']} {r['load'][0]:.1f} → {r['load'][1]:.1f}" for r in results)
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
