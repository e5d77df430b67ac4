"""Alert matching cost: CPU time to match new articles against many saved searches.

    .venv/bin/python bench/alerts.py [--articles 2225] [--alerts 100]

Stores ``--articles`` BBC News texts (../shared/data/bbc_news) in a fresh
SQLite store (FTS5 index kept by triggers, as in production), makes
``--alerts`` saved searches from words of those texts (one or two words, some
with a section filter, some with an excluded word), then runs the scan step
of ``alerts.runner`` once over all new articles. Reported: CPU time
(``time.process_time``, this process only; the store is in-process) for the
scan, per alert and per 1,000 articles × alert, plus matches found, and the
time to build one e-mail digest of 100 articles.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from primenews.alerts.digest import Links, build_digest
from primenews.alerts.model import AlertRule, Candidate, Channel, Frequency
from primenews.alerts.runner import scan_alert
from primenews.domain import Article, Source
from primenews.store import Store
from primenews.store.alerts import AlertFields

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "data" / "bbc_news" / "bbc_fulltext.jsonl.gz"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2225)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = [json.loads(line) for line in gzip.open(BBC, "rt")][: args.articles]
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.sqlite3")
        store.migrate()
        owner = store.users.add_user("bench", "x", NOW)
        source, _ = store.add_source(Source(url="https://bbc.example/feed", title="BBC"), NOW)
        words = sorted({w.lower() for r in rows[:200] for w in r["text"].split()
                        if w.isalpha() and len(w) > 5})  # fmt: skip
        alerts = []
        for n in range(args.alerts):
            query = " ".join(rng.sample(words, rng.choice((1, 1, 2))))
            if n % 5 == 0:
                query += " -" + rng.choice(words)
            section = rng.choice((None, None, "business", "politics", "technology"))
            fields = AlertFields(f"a{n}", AlertRule(query, section=section), Frequency.DAILY,
                                 email="bench@example.org")  # fmt: skip
            alerts.append(store.alerts.create(owner.id, fields, NOW))
        for n, row in enumerate(rows):
            article = Article(url=f"https://bbc.example/{row['id']}", title=row["title"],
                              text=row["text"], published=NOW - timedelta(minutes=n))  # fmt: skip
            store.save_article(article, source_id=source.id, raw_html=b"", fetched_at=NOW,
                               sections={row["category"]: 0.9})  # fmt: skip
        start = time.process_time()
        batches: dict[int, list[Candidate]] = {}  # shared across alerts, as run_due does
        matched = sum(scan_alert(store, alert, NOW, batches) for alert in alerts)
        cpu = time.process_time() - start
        busiest = max(alerts, key=lambda a: store.alerts.count_owed(a.id, Channel.EMAIL))
        owed = store.alerts.owed_articles(busiest.id, Channel.EMAIL, 100)
        start = time.process_time()
        for _ in range(20):
            build_digest(busiest, owed, Links("https://news.example"), sender="a@b.example",
                         now=NOW)  # fmt: skip
        digest_ms = (time.process_time() - start) / 20 * 1000
    pairs = len(rows) * len(alerts) / 1000
    print(f"| articles | alerts | matches | scan CPU s | per alert ms | per 1,000 article×alert ms "
          f"| digest of {len(owed)} articles ms |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {len(rows)} | {len(alerts)} | {matched} | {cpu:.2f} | {cpu / len(alerts) * 1000:.1f} "
          f"| {cpu / pairs * 1000:.2f} | {digest_ms:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
