"""Front page under load: requests/s and latency percentiles with N stored articles, while polling.

1. A store with ARTICLES articles: real pages (../shared/data/article-extraction-benchmark
   and fundus_articles) are extracted once, then saved again and again under
   varied URLs, titles, times and sections (text made unique per copy). The
   store is kept at --store and reused when it already holds enough.
2. A loopback publisher (bench/poll.py's) serves FEEDS feeds of ENTRIES items,
   each item a real page; they are the store's sources, all due.
3. `primenews up` serves the site and polls those feeds; once the poll has
   started storing articles, wrk hits `/` with CONNECTIONS connections for
   DURATION seconds. Articles stored during the wrk run are counted, to show the
   poll really ran alongside. A second wrk run with `up --no-poll` gives the
   idle baseline (it runs first).
4. The CPU seconds the server process spent during each wrk run (utime +
   stime from /proc, all its threads), divided by the requests served, say
   what one request costs whatever else the box is doing: 1000 / that is the
   requests per second one free core would serve. The extract workers (its
   child processes) are counted apart. The start-up time of each `up` is
   printed too: the first start replays a week of articles through the story
   desk, the second loads the state the first one saved.

Needs wrk (Debian: `apt-get install wrk`).

    .venv/bin/python bench/load.py [--articles 100000] [--store /tmp/primenews-load.sqlite3]
        [--connections 16] [--duration 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from primenews.errors import ExtractError
from primenews.pipeline import article_from_page
from primenews.store import Store, content_hash
from primenews.store import articles as article_sql
from primenews.worker.desk import StoryDesk

sys.path.insert(0, str(Path(__file__).parent))
import poll  # noqa: E402  (bench/poll.py: the loopback publisher)

SECTIONS = ("world", "politics", "business", "technology")
BATCH = 2000


def build_store(path: Path, count: int) -> float:
    """Fill the store at ``path`` up to ``count`` articles; returns the seconds it took."""
    started = time.perf_counter()
    store = Store.open(f"sqlite:///{path}")
    store.migrate()
    have = store.count_articles()
    if have >= count:
        store.close()
        return 0.0
    extracted = []
    for number, page in enumerate(poll.load_pages()[:80]):
        try:
            extracted.append(article_from_page(page, f"https://bench.example/seed/{number}"))
        except ExtractError:
            continue
    now = datetime.now(UTC)
    for start in range(have, count, BATCH):
        with store.engine.begin() as conn:
            for number in range(start, min(count, start + BATCH)):
                base = extracted[number % len(extracted)]
                article = dataclasses.replace(
                    base,
                    url=f"https://bench.example/{number}/{base.url.rsplit('/', 1)[-1]}",
                    # Each copy its own fetched URL too: the store knows an article by all
                    # its URLs, so a shared seed URL made every copy a revision of one of
                    # 80 articles (the store held 80 articles, not 100,000).
                    fetched_url="",
                    title=f"{base.title} ({number})",
                    text=f"{base.text}\n\nCopy {number} of the load benchmark.",
                    published=now - timedelta(minutes=count - number),
                )
                article_sql.save_article(
                    conn,
                    article,
                    content_hash=content_hash(article.text),
                    source_id=None,
                    raw_html=b"",
                    fetched_at=now,
                    sections={SECTIONS[number % len(SECTIONS)]: 0.9},
                )
        print(f"  stored {min(count, start + BATCH)} articles", flush=True)
    store.close()
    return time.perf_counter() - started


def place_in_stories(path: Path) -> int:
    """Run the story desk over the built store once, so its saved state is in the store.

    ``build_store`` saves every article with first_seen = now, so a desk start
    without a saved state replays all of them (minutes); doing it here, on the
    kept store, lets every `up` of every run load the state instead (the
    desk's replay is idempotent: a store placed before changes nothing).
    Returns the number of articles replayed (0: the state was there).
    """
    store = Store.open(f"sqlite:///{path}")
    try:
        return StoryDesk(store).start()
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def count_articles(base: str) -> int:
    return int(httpx.get(f"{base}/api/v1/health", timeout=30).json()["articles"])


START_TIMEOUT_S = 1800  # a first start replays a week of articles: minutes on a busy box


def start_up(
    env: dict[str, str], port: int, polling: bool, log: Path
) -> tuple[subprocess.Popen[bytes], float]:
    """``primenews up`` answering on ``port``, and the seconds it took to start."""
    command = [sys.executable, "-m", "primenews", "up", "--port", str(port)]
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen(
            command + ([] if polling else ["--no-poll"]),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            count_articles(f"http://127.0.0.1:{port}")
            return process, time.perf_counter() - started
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError(f"primenews up exited {process.returncode}; see {log}") from None
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"primenews up did not answer within {START_TIMEOUT_S} s")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process ``pid`` and of its live children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    own, children = 0.0, 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        ppid, used = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        if int(entry.name) == pid:
            own += used
        elif ppid == pid:
            children += used
    return own, children


def wrk(url: str, connections: int, seconds: int) -> dict[str, float]:
    """Run wrk; requests/s and latency percentiles in ms."""
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", url],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        result[f"p{pct}_ms"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = float(errors.group(1)) if errors else 0.0
    result["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--store", type=Path, default=Path("/tmp/primenews-load.sqlite3"))
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--entries", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    print(f"building the store ({args.articles} articles)…", flush=True)
    built = build_store(args.store, args.articles)
    print("placing them in stories (once per store)…", flush=True)
    replayed = place_in_stories(args.store)
    results = {}
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    publisher = multiprocessing.Process(target=poll.serve, args=(ports, args.entries), daemon=True)
    publisher.start()
    feed_base = f"http://127.0.0.1:{ports.get(timeout=120)}"
    # Beside the store, not in /tmp: the copy is gigabytes.
    with tempfile.TemporaryDirectory(dir=args.store.parent) as tmp:
        db = Path(tmp) / "load.sqlite3"
        shutil.copyfile(args.store, db)  # the poll writes into a copy; the built store stays
        port = free_port()
        env = dict(
            os.environ,
            PRIMENEWS_DATABASE=str(db),
            PRIMENEWS_ALLOW_PRIVATE_NETWORKS="true",
            PRIMENEWS_FETCH_PER_HOST_DELAY_MS="0",
            PRIMENEWS_FETCH_PER_HOST_CONCURRENCY="8",
            PRIMENEWS_LOG_LEVEL="WARNING",
        )
        opml = Path(tmp) / "feeds.opml"
        outlines = "".join(
            f'<outline type="rss" text="Feed {i}" xmlUrl="{feed_base}/feed/{i}.xml"/>'
            for i in range(args.feeds)
        )
        opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
        cli = [sys.executable, "-m", "primenews"]
        subprocess.run([*cli, "sources", "import", str(opml)], env=env, check=True)
        url = f"http://127.0.0.1:{port}/"
        log = args.store.parent / "load-up.log"
        for polling in (False, True):
            process, start_s = start_up(env, port, polling, log)
            try:
                before = count_articles(url.rstrip("/"))
                if polling:  # wait until the poll is storing articles
                    deadline = time.monotonic() + 300
                    while count_articles(url.rstrip("/")) == before and time.monotonic() < deadline:
                        time.sleep(0.5)
                    before = count_articles(url.rstrip("/"))
                wrk(url, 2, 3)  # warm-up
                cpu_before = cpu_seconds(process.pid)
                result = wrk(url, args.connections, args.duration)
                cpu_after = cpu_seconds(process.pid)
                result["stored_during_run"] = count_articles(url.rstrip("/")) - before
                result["server_cpu_ms_per_request"] = (
                    1000 * (cpu_after[0] - cpu_before[0]) / max(result["requests"], 1)
                )
                result["workers_cpu_s"] = max(0.0, cpu_after[1] - cpu_before[1])
                result["start_s"] = start_s
                results["polling" if polling else "idle"] = result
            finally:
                process.terminate()
                process.wait(timeout=60)
    publisher.terminate()
    print(f"store built in {built:.0f} s (0 = reused); desk replayed {replayed} articles into it")
    print(f"cores: {os.cpu_count()}")
    print(f"load average at the end: {os.getloadavg()}")
    print(
        "| server | articles stored | requests/s | p50 ms | p90 ms | p99 ms | non-2xx "
        "| articles polled during the run | server CPU ms per request "
        "| extract workers' CPU s | `up` start s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, result in results.items():
        print(
            f"| {name} | {args.articles:,} | {result['rps']:.0f} | {result['p50_ms']:.1f} "
            f"| {result['p90_ms']:.1f} | {result['p99_ms']:.1f} | {result['non_2xx']:.0f} "
            f"| {result['stored_during_run']:.0f} | {result['server_cpu_ms_per_request']:.2f} "
            f"| {result['workers_cpu_s']:.0f} | {result['start_s']:.0f} |"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
