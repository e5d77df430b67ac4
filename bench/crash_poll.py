"""Crash test for polling: SIGKILL `primenews poll --once` at random moments, restart, check.

bench/poll.py's loopback publisher serves FEEDS feeds of ENTRIES items, each a
real article page; they are imported as sources. `primenews poll --once` runs
as a subprocess and is killed (its whole process group) at moments drawn as in
bench/crash.py; after each kill the store is read and the next poll starts.
A source's fetch (new ETag, next due time) is recorded only after all its
entries are handled, so a source cut off half-way is still due and is polled
again by the next run. When a run finishes before its kill, the store starts
afresh. After the kills, polls run until every source has been fetched and no
entry is left half-done. Then:

- lost / duplicates / integrity_check as in bench/crash.py;
- every entry of every feed is accounted for: it led to an article or carries
  an error (no entry left half-done), and every source has been fetched.

    .venv/bin/python bench/crash_poll.py --kills 20 --feeds 4 --entries 10
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import crash  # noqa: E402  (bench/crash.py: kills and store checks)
import poll  # noqa: E402  (bench/poll.py: the loopback publisher)


def reset_store(db: Path, opml: Path, env: dict[str, str]) -> None:
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "primenews", "sources", "import", str(opml)]
    subprocess.run(command, env=env, check=True, capture_output=True)


def open_work(db: Path) -> tuple[int, int, int]:
    """Entries left half-done, sources never fetched, entries in all."""
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        half = conn.execute(
            "SELECT count(*) FROM entries WHERE article_id IS NULL AND error IS NULL"
        ).fetchone()[0]
        unfetched = conn.execute(
            "SELECT count(*) FROM sources WHERE last_fetched IS NULL"
        ).fetchone()[0]
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    return int(half), int(unfetched), int(entries)


def crash_poll(work: Path, *, kills: int, seed: int, feeds: int, entries: int) -> crash.CrashReport:
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    publisher = multiprocessing.Process(target=poll.serve, args=(ports, entries), daemon=True)
    publisher.start()
    base = f"http://127.0.0.1:{ports.get(timeout=120)}"
    db = work / "crash-poll.sqlite3"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRIMENEWS_")}
    env.update(
        PRIMENEWS_DATABASE=str(db),
        PRIMENEWS_ALLOW_PRIVATE_NETWORKS="true",
        PRIMENEWS_FETCH_PER_HOST_DELAY_MS="0",
        PRIMENEWS_EXTRACT_WORKERS="1",
    )
    opml = work / "feeds.opml"
    outlines = "".join(
        f'<outline type="rss" text="Feed {i}" xmlUrl="{base}/feed/{i}.xml"/>' for i in range(feeds)
    )
    opml.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>')
    command = [sys.executable, "-m", "primenews", "poll", "--once"]
    rng = random.Random(seed)
    report = crash.CrashReport(pages=feeds * entries)
    reset_store(db, opml, env)
    committed: dict[str, crash.Stored] = {}
    started = time.perf_counter()
    try:
        while report.kills < kills:
            kill = crash.draw_kill(rng, len(committed), report.pages)
            killed, output = crash.run_killed(command, db, env, kill)
            if not killed:
                if "Traceback" in output:
                    raise RuntimeError(output)
                reset_store(db, opml, env)
                committed = {}
                continue
            report.kills += 1
            seen = crash.snapshot(db)
            report.lost += [url for url, stored in committed.items() if seen.get(url) != stored]
            report.growth.append(len(seen) - len(committed))
            report.killed_mid_write += len(seen) > len(committed)
            committed = seen
        for _ in range(feeds + 1):  # each run finishes every source it starts
            _, output = crash.run_killed(command, db, env, None)
            if "Traceback" in output:
                raise RuntimeError(output)
            half, unfetched, _ = open_work(db)
            if not half and not unfetched:
                break
    finally:
        publisher.terminate()
    report.seconds = time.perf_counter() - started
    final = crash.snapshot(db)
    report.lost += [url for url, stored in committed.items() if final.get(url) != stored]
    report.duplicates = crash.duplicates(db)
    report.integrity = crash.integrity(db)
    report.articles = len(final)
    half, unfetched, listed = open_work(db)
    if half or unfetched or listed != feeds * entries:
        report.duplicates.append(
            f"{half} entries half-done, {unfetched} sources never fetched, {listed} entries listed"
        )
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        report.final_accounted = conn.execute(
            "SELECT count(DISTINCT article_id) FROM entries WHERE article_id IS NOT NULL"
        ).fetchone()[0]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = crash_poll(
            Path(tmp), kills=args.kills, seed=args.seed, feeds=args.feeds, entries=args.entries
        )
    print(
        f"feeds {args.feeds} x {args.entries} entries, SIGKILLs {report.kills} "
        f"(seed {args.seed}), {report.killed_mid_write} of them after new commits"
    )
    print(f"articles committed between kills: {report.growth}")
    print(f"final articles {report.articles}, linked from entries {report.final_accounted}")
    print(
        f"lost {len(report.lost)}, problems {len(report.duplicates)}, "
        f"integrity_check {report.integrity}, {report.seconds:.0f} s"
    )
    for problem in report.lost[:10] + report.duplicates[:10]:
        print("  !", problem)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
