"""Crash test: SIGKILL `primenews ingest` at random moments, restart, and check the store.

A corpus of real article pages (../shared/data/trafilatura_eval_news, then
fundus_articles) is unpacked into a folder. `primenews ingest FOLDER` runs as
a subprocess in its own process group and is killed with SIGKILL (the whole
group, extract workers too) at a moment drawn from a seeded generator: mostly
once the store has reached a random article count plus a random 0-0.6 s (so
the kill lands among writes), sometimes 0-3 s after start (imports,
migrations). After each kill the store is read, and the next run starts over
the same folder; a run that ends before its kill starts a fresh store. A last
run goes to the end. Then:

- lost: an article seen after an earlier kill (committed) is gone or changed
  (same id, URL and content hash expected);
- duplicates: two rows for one canonical URL, one page (fetched URL) or one
  content hash, or more than one revision of an unchanged page;
- the store passes ``PRAGMA integrity_check``, and holds exactly the articles
  the last, complete run accounts for.

    .venv/bin/python bench/crash.py --kills 20 --pages 40

tests/test_crash.py runs the same harness with a few kills over a few pages.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = ("trafilatura_eval_news/html/*.html.gz", "fundus_articles/html/*/*.html.gz")
REPORT = re.compile(
    r"Ingested (\d+) pages .*?: (\d+) new, (\d+) revised, (\d+) unchanged, (\d+) without"
)


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    content_hash: str


@dataclass(slots=True)
class CrashReport:
    pages: int = 0
    kills: int = 0
    killed_mid_write: int = 0  # kills after which the store had grown since the previous look
    articles: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    integrity: str = ""
    final_accounted: int = 0
    seconds: float = 0.0
    growth: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.lost
            and not self.duplicates
            and self.integrity == "ok"
            and self.articles == self.final_accounted
        )


def make_corpus(folder: Path, count: int, data: Path = DATA) -> int:
    """Unpack the first ``count`` pages of the corpora into ``folder``; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    files = [path for pattern in CORPORA for path in sorted(data.glob(pattern))][:count]
    for number, path in enumerate(files):
        (folder / f"{number:04d}-{path.name.removesuffix('.gz')}").write_bytes(
            gzip.decompress(path.read_bytes())
        )
    return len(files)


def snapshot(db: Path) -> dict[str, Stored]:
    """Every article in the store: canonical URL → id and content hash."""
    if not db.exists():
        return {}
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            rows = conn.execute("SELECT url, id, content_hash FROM articles").fetchall()
        except sqlite3.OperationalError:  # killed before the first migration committed
            return {}
    return {url: Stored(article_id, digest) for url, article_id, digest in rows}


def duplicates(db: Path) -> list[str]:
    """Rows that say one thing was stored twice."""
    checks = {
        "canonical URL": "SELECT url, count(*) FROM articles GROUP BY url HAVING count(*) > 1",
        "fetched URL": "SELECT fetched_url, count(*) FROM articles GROUP BY fetched_url "
        "HAVING count(*) > 1",
        "content hash": "SELECT content_hash, count(*) FROM articles GROUP BY content_hash "
        "HAVING count(*) > 1",
        "revision": "SELECT article_id, count(*) FROM article_revisions GROUP BY article_id "
        "HAVING count(*) > 1",
    }
    found = []
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        for what, query in checks.items():
            found += [f"{what} {key!r} stored {n} times" for key, n in conn.execute(query)]
    return found


def integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))


def ingest_command(db: Path, folder: Path) -> list[str]:
    return [
        sys.executable, "-m", "primenews", "--database", str(db),
        "--set", "extract_workers=1", "ingest", str(folder),
    ]  # fmt: skip


def count_articles(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@dataclass(frozen=True, slots=True)
class KillAt:
    """When to kill: once the store holds ``articles`` articles, ``delay`` seconds later."""

    articles: int
    delay: float


def run_ingest(
    db: Path, folder: Path, env: dict[str, str], kill: KillAt | None
) -> tuple[bool, str]:
    """Run one ingest; SIGKILL its process group at ``kill`` if it is still running."""
    return run_killed(ingest_command(db, folder), db, env, kill)


def run_killed(
    command: list[str], db: Path, env: dict[str, str], kill: KillAt | None
) -> tuple[bool, str]:
    """Run a command; SIGKILL its process group at ``kill`` if it is still running.

    Returns:
        Whether it was killed, and what it printed.
    """
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    killed = False
    if kill is not None:
        while process.poll() is None and count_articles(db) < kill.articles:
            time.sleep(0.02)
        try:
            process.wait(timeout=kill.delay)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
    output, _ = process.communicate(timeout=600)
    if killed:
        with contextlib.suppress(ProcessLookupError):  # a worker may outlive the group kill
            os.killpg(process.pid, signal.SIGKILL)
    return killed, output


def draw_kill(rng: random.Random, stored: int, pages: int) -> KillAt:
    """A random moment: mostly while articles are being written, sometimes at start-up."""
    if rng.random() < 0.25:
        return KillAt(0, rng.uniform(0.05, 3.0))  # imports, migrations, workers starting
    return KillAt(rng.randint(stored + 1, max(stored + 1, pages - 2)), rng.uniform(0.0, 0.6))


def crash_ingest(folder: Path, db: Path, *, kills: int, seed: int) -> CrashReport:
    """Kill an ingest over ``folder`` ``kills`` times at random, finish it, check the store."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRIMENEWS_")}
    rng = random.Random(seed)
    report = CrashReport(pages=sum(1 for _ in folder.iterdir()))
    committed: dict[str, Stored] = {}
    started = time.perf_counter()
    while report.kills < kills:
        killed, output = run_ingest(db, folder, env, draw_kill(rng, len(committed), report.pages))
        if not killed:  # the run finished first: start over in a fresh store
            if "Traceback" in output:
                raise RuntimeError(output)
            for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                path.unlink(missing_ok=True)
            committed = {}
            continue
        report.kills += 1
        seen = snapshot(db)
        report.lost += [url for url, stored in committed.items() if seen.get(url) != stored]
        report.growth.append(len(seen) - len(committed))
        report.killed_mid_write += len(seen) > len(committed)
        committed = seen
    killed, output = run_ingest(db, folder, env, None)
    report.seconds = time.perf_counter() - started
    final = snapshot(db)
    report.lost += [url for url, stored in committed.items() if final.get(url) != stored]
    report.duplicates = duplicates(db)
    report.integrity = integrity(db)
    report.articles = len(final)
    match = REPORT.search(output)
    if match is None:
        raise RuntimeError(f"the last ingest did not finish:\n{output}")
    _pages, new, revised, unchanged, _failed = map(int, match.groups())
    report.final_accounted = new + unchanged
    if revised:
        report.duplicates.append(f"{revised} pages stored as a new revision on restart")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--work", type=Path, help="folder for the corpus and store (default tmp)")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        folder = work / "pages"
        count = make_corpus(folder, args.pages)
        db = work / "crash.sqlite3"
        db.unlink(missing_ok=True)
        report = crash_ingest(folder, db, kills=args.kills, seed=args.seed)
    print(
        f"pages {count}, SIGKILLs {report.kills} (seed {args.seed}), "
        f"{report.killed_mid_write} of them after new commits"
    )
    print(f"articles committed between kills: {report.growth}")
    print(
        f"final articles {report.articles}, accounted for by the last run {report.final_accounted}"
    )
    print(
        f"lost {len(report.lost)}, duplicates {len(report.duplicates)}, "
        f"integrity_check {report.integrity}, {report.seconds:.0f} s"
    )
    for problem in report.lost[:10] + report.duplicates[:10]:
        print("  !", problem)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
