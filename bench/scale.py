"""Throughput in-process vs through the queue: `primenews poll --once` with every stage on.

The same loopback publisher as bench/poll.py (FEEDS feeds of ENTRIES real
article pages, each made unique) is polled into a fresh SQLite store by:

- in-process: `primenews poll --once` with its extract pool (one process per core);
- queue, 1 worker: one `primenews worker` (prefork, concurrency 1), and once with `--pool solo`;
- queue, 2 workers: two `primenews worker` processes, concurrency 1 each.

Every stage runs: fetch, extraction, sections, boilerplate, store, insights
(spaCy), stories (on the polling process's desk). The time is the wall time
of `poll --once`, which returns when the batch is stored with its stories;
workers are started (not warmed) before it. Needs Redis on 127.0.0.1:6379.

    .venv/bin/python bench/scale.py [--feeds 8] [--entries 10]
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import poll  # noqa: E402  (bench/poll.py: the loopback publisher)

REDIS_URL = "redis://127.0.0.1:6379/0"
CLI = [sys.executable, "-m", "primenews"]


def _env(tmp: str, base: str, feeds: int, queue: bool) -> dict[str, str]:
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
    if queue:
        env.update(PRIMENEWS_QUEUE_URL=REDIS_URL, PRIMENEWS_QUEUE_NAME=f"bench-{uuid.uuid4().hex}")
    opml = Path(tmp) / "feeds.opml"
    outlines = "".join(
        f'<outline type="rss" text="Feed {i}" xmlUrl="{base}/feed/{i}.xml"/>' for i in range(feeds)
    )
    opml.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'
    )
    subprocess.run([*CLI, "sources", "import", str(opml)], env=env, check=True, capture_output=True)
    return env


@contextlib.contextmanager
def _workers(env: dict[str, str], count: int, pool: str, logs: Path) -> Iterator[list[int]]:
    processes, files = [], []
    for n in range(count):
        log = logs / f"worker{n}.log"
        files.append(log)
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    [*CLI, "-v", "worker", "--pool", pool], env=env, stdout=out, stderr=out
                )
            )
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
            p.wait(timeout=60)


def _rss_mb(pids: list[int]) -> float:
    """Resident memory of the processes and their children now (MB)."""
    total = 0
    for pid in pids:
        family = [pid]
        with contextlib.suppress(OSError):
            family += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for member in family:
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{member}/status").read_text()
                total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def _poll(env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([*CLI, "poll", "--once"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    new = int(re.search(r"(\d+) new articles", done.stdout).group(1))  # type: ignore[union-attr]
    return seconds, new


def run(name: str, base: str, feeds: int, workers: int, pool: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(tmp, base, feeds, queue=workers > 0)
        if workers == 0:
            seconds, new = _poll(env)
            rss = None
        else:
            with _workers(env, workers, pool, Path(tmp)) as pids:
                seconds, new = _poll(env)
                rss = _rss_mb(pids)
    return {
        "run": name,
        "new_articles": new,
        "seconds": round(seconds, 1),
        "articles_per_second": round(new / seconds, 2),
        "workers_rss_mb": round(rss) if rss is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=8)
    parser.add_argument("--entries", type=int, default=10)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    publisher = multiprocessing.Process(target=poll.serve, args=(ports, args.entries), daemon=True)
    publisher.start()
    base = f"http://127.0.0.1:{ports.get(timeout=60)}"
    load_before = os.getloadavg()
    results = [
        run("in-process", base, args.feeds, 0, "prefork"),
        run("queue, 1 worker (prefork, 1 process)", base, args.feeds, 1, "prefork"),
        run("queue, 1 worker (solo pool)", base, args.feeds, 1, "solo"),
        run("queue, 2 workers (prefork, 1 process each)", base, args.feeds, 2, "prefork"),
    ]
    publisher.terminate()
    print(
        f"cores: {os.cpu_count()}; load average before: {load_before[0]:.1f}, "
        f"after: {os.getloadavg()[0]:.1f}"
    )
    print("| run | new articles | seconds | articles/s | workers' RSS (MB) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['run']} | {r['new_articles']} | {r['seconds']} | {r['articles_per_second']} "
            f"| {r['workers_rss_mb'] if r['workers_rss_mb'] is not None else '–'} |"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
