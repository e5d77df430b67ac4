"""Benchmark article extraction against plain trafilatura, on three public corpora.

    .venv/bin/python bench/extraction.py [--data /work/shared/data] [--limit N] [--only aeb]

1. article-extraction-benchmark (Scrapinghub, 181 pages): body text scored
   exactly as upstream ``evaluate.py`` does (see its SOURCE.md): ``\\w+``
   tokens with case kept, overlapping 4-token shingles (a shorter text is
   one shingle), per-page tp/fp/fn as multiset overlaps normalised to sum to
   1; precision averaged over pages with a non-empty prediction, recall over
   pages with non-empty gold, F1 the harmonic mean of the two averages.
2. fundus_articles (258 pages, 41 countries): body token F1 against
   ``body_text`` (bag of ``\\w+`` tokens, mean of per-page F1); exact-match
   rates for title (whitespace-normalised), publishing date at day and at
   minute precision, and authors (same set of names, case-insensitive).
3. trafilatura_eval_news (140 pages): share of ``with`` snippets found and of
   ``without`` snippets avoided; title and date exact-match.

"plain" is ``trafilatura.extract(html)`` with its defaults for the body,
plus ``trafilatura.extract_metadata(html)`` for title, date and authors;
"ours" is :func:`primenews.extract.extract_article` (text and all metadata).
Speed is single-threaded, one page after another: pages per second of wall
time, and the median / 90th percentile of CPU time per page (less disturbed
by other processes on a shared machine than wall time).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import trafilatura

from primenews.errors import ExtractError
from primenews.extract import ExtractOptions, extract_article

TOKEN = re.compile(r"\w+")
Pages = dict[str, tuple[bytes, str]]  # id -> (html bytes, url)
OURS = "primenews extract_article"
FAST = "primenews extract_article, fast=True"
PLAIN = "trafilatura extract + extract_metadata"


@dataclass
class Prediction:
    text: str = ""
    title: str = ""
    date: datetime | None = None  # ours: an instant in UTC
    day: str = ""  # plain trafilatura: YYYY-MM-DD only
    authors: tuple[str, ...] = ()


@dataclass
class Timed:
    predictions: dict[str, Prediction]
    wall: list[float]
    cpu: list[float]

    def speed(self) -> str:
        median_ms = statistics.median(self.cpu) * 1000
        p90_ms = statistics.quantiles(self.cpu, n=10)[-1] * 1000
        return f"{len(self.wall) / sum(self.wall):.1f} | {median_ms:.1f} | {p90_ms:.1f}"


SPEED_HEAD = "pages/s | CPU ms median | CPU ms p90"


# --- extractors --------------------------------------------------------------------------


def ours(html: bytes, url: str, options: ExtractOptions | None = None) -> Prediction:
    try:
        article = extract_article(html, url, options)
    except ExtractError:
        return Prediction()
    authors = tuple(a.strip() for a in article.byline.split(",") if a.strip())
    return Prediction(article.text, article.title, article.published, "", authors)


def ours_fast(html: bytes, url: str) -> Prediction:
    return ours(html, url, ExtractOptions(fast=True))


def plain_body(html: bytes, url: str) -> Prediction:
    return Prediction(text=trafilatura.extract(html) or "")


def plain_full(html: bytes, url: str) -> Prediction:
    meta = trafilatura.extract_metadata(html)
    authors = tuple(a.strip() for a in (meta.author or "").split(";") if a.strip())
    text = trafilatura.extract(html) or ""
    return Prediction(text, meta.title or "", None, meta.date or "", authors)


def run(extractor: Callable[[bytes, str], Prediction], pages: Pages) -> Timed:
    timed = Timed({}, [], [])
    for key, (html, url) in pages.items():
        wall, cpu = time.perf_counter(), time.process_time()
        timed.predictions[key] = extractor(html, url)
        timed.cpu.append(time.process_time() - cpu)
        timed.wall.append(time.perf_counter() - wall)
    return timed


# --- metrics -----------------------------------------------------------------------------


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = TOKEN.findall(text)
    if len(tokens) < 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def aeb_scores(predictions: dict[str, Prediction], gold: dict[str, str]) -> tuple[float, ...]:
    """Upstream evaluate.py: (precision, recall, F1, accuracy)."""
    precisions, recalls, exact = [], [], 0
    for key, truth in gold.items():
        predicted, expected = shingles(predictions[key].text), shingles(truth)
        tp = sum((predicted & expected).values())
        fp, fn = sum((predicted - expected).values()), sum((expected - predicted).values())
        total = tp + fp + fn or 1
        tp, fp, fn = tp / total, fp / total, fn / total
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
        exact += TOKEN.findall(predictions[key].text) == TOKEN.findall(truth)
    precision, recall = statistics.fmean(precisions), statistics.fmean(recalls)
    return precision, recall, 2 * precision * recall / (precision + recall), exact / len(gold)


def token_f1(predicted: str, expected: str) -> float:
    got, want = Counter(TOKEN.findall(predicted)), Counter(TOKEN.findall(expected))
    tp = sum((got & want).values())
    if not tp:
        return 0.0
    precision, recall = tp / sum(got.values()), tp / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def gold_date(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # 18 golds have no offset


def same_day(prediction: Prediction, gold: datetime) -> bool:
    """The calendar day agrees, read in UTC or in the gold's own UTC offset."""
    days = {gold.date(), gold.astimezone(UTC).date()}
    if prediction.date is not None:
        return prediction.date.astimezone(gold.tzinfo).date() in days or (
            prediction.date.astimezone(UTC).date() in days
        )
    return prediction.day in {d.isoformat() for d in days}


def same_minute(prediction: Prediction, gold: datetime) -> bool:
    if prediction.date is None:
        return False
    return abs((prediction.date - gold).total_seconds()) < 60


def day_of(prediction: Prediction) -> date | None:
    if prediction.date is not None:
        return prediction.date.date()
    return date.fromisoformat(prediction.day) if prediction.day else None


def within_a_day(prediction: Prediction, gold: str) -> bool:
    """Absorbs a UTC instant falling on the next or previous local day."""
    found = day_of(prediction)
    return found is not None and abs((found - date.fromisoformat(gold)).days) <= 1


def same_authors(predicted: Iterable[str], expected: Iterable[str]) -> bool:
    def norm(names: Iterable[str]) -> set[str]:
        return {" ".join(n.casefold().split()) for n in names if n.strip()}

    return norm(predicted) == norm(expected)


def squash(text: str) -> str:
    return " ".join(text.split())


def share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else float("nan")


# --- corpora -----------------------------------------------------------------------------


def load_aeb(root: Path, limit: int | None) -> tuple[Pages, dict[str, str]]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    pages = {k: (read_gz(root / "html" / f"{k}.html.gz"), truth[k]["url"]) for k in keys}
    return pages, {k: truth[k]["articleBody"] for k in keys}


def load_jsonl(root: Path, index: str, limit: int | None) -> tuple[Pages, dict[str, Any]]:
    lines = (root / index).read_text(encoding="utf-8").splitlines()
    rows = {(r := json.loads(line)).get("id", r["html"]): r for line in lines if line.strip()}
    rows = dict(list(rows.items())[:limit])
    return {k: (read_gz(root / r["html"]), r["url"]) for k, r in rows.items()}, rows


def read_gz(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


# --- reports -----------------------------------------------------------------------------


def bench_aeb(root: Path, limit: int | None) -> None:
    pages, gold = load_aeb(root, limit)
    print(f"\n### article-extraction-benchmark ({len(pages)} pages), body text\n")
    print(f"| extractor | precision | recall | F1 | accuracy | {SPEED_HEAD} |")
    print("|---|---|---|---|---|---|---|---|")
    extractors = (("trafilatura.extract defaults", plain_body), (OURS, ours), (FAST, ours_fast))
    for name, extractor in extractors:
        timed = run(extractor, pages)
        p, r, f1, acc = aeb_scores(timed.predictions, gold)
        print(f"| {name} | {p:.4f} | {r:.4f} | **{f1:.4f}** | {acc:.3f} | {timed.speed()} |")


def bench_fundus(root: Path, limit: int | None) -> None:
    pages, rows = load_jsonl(root, "index.jsonl", limit)
    gold = {k: json.loads((root / r["expected"]).read_text("utf-8")) for k, r in rows.items()}
    print(f"\n### fundus_articles ({len(pages)} pages)\n")
    print(f"| extractor | body F1 | title | date (day) | date (minute) | authors | {SPEED_HEAD} |")
    print("|---|---|---|---|---|---|---|---|---|")
    body_only = run(plain_body, pages)
    blank = " | ".join([""] * 5)
    plain_f1 = body_f1(body_only, gold)
    print(f"| trafilatura.extract defaults | {plain_f1:.4f}{blank}| {body_only.speed()} |")
    for name, extractor in ((PLAIN, plain_full), (OURS, ours), (FAST, ours_fast)):
        timed = run(extractor, pages)
        metadata = fundus_metadata(timed, gold)
        print(f"| {name} | {body_f1(timed, gold):.4f} | {metadata} | {timed.speed()} |")


def fundus_metadata(timed: Timed, gold: dict[str, Any]) -> str:
    got = timed.predictions
    dates = {k: gold_date(e["publishing_date"]) for k, e in gold.items()}
    authored = [k for k, e in gold.items() if e.get("authors")]
    scores = (
        share(squash(got[k].title) == squash(e["title"]) for k, e in gold.items()),
        share(same_day(got[k], d) for k, d in dates.items()),
        share(same_minute(got[k], d) for k, d in dates.items()),
        share(same_authors(got[k].authors, gold[k]["authors"]) for k in authored),
    )
    return " | ".join(f"{score:.3f}" for score in scores)


def body_f1(timed: Timed, gold: dict[str, Any]) -> float:
    return statistics.fmean(
        token_f1(timed.predictions[k].text, e["body_text"]) for k, e in gold.items()
    )


def bench_trafilatura_eval(root: Path, limit: int | None) -> None:
    pages, rows = load_jsonl(root, "expected.jsonl", limit)
    print(f"\n### trafilatura_eval_news ({len(pages)} pages)\n")
    columns = "`with` found | `without` avoided | title | date (day) | date (±1 day)"
    print(f"| extractor | {columns} | {SPEED_HEAD} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, extractor in ((PLAIN, plain_full), (OURS, ours)):
        timed = run(extractor, pages)
        got = timed.predictions
        scores = (
            share(s in got[k].text for k, r in rows.items() for s in r["with"]),
            share(s not in got[k].text for k, r in rows.items() for s in r["without"]),
            share(squash(got[k].title) == squash(r["title"]) for k, r in rows.items()),
            share(str(day_of(got[k])) == r["date"] for k, r in rows.items()),
            share(within_a_day(got[k], r["date"]) for k, r in rows.items()),
        )
        print(f"| {name} | {' | '.join(f'{s:.3f}' for s in scores)} | {timed.speed()} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument("--only", choices=("aeb", "fundus", "trafilatura"), default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # trafilatura logs every page it discards
    ours(
        b"<html><body><p>" + b"Load py3langid's model before timing. " * 20 + b"</p></body></html>",
        "",
    )
    benches = {
        "aeb": (bench_aeb, "article-extraction-benchmark"),
        "fundus": (bench_fundus, "fundus_articles"),
        "trafilatura": (bench_trafilatura_eval, "trafilatura_eval_news"),
    }
    for name, (bench, folder) in benches.items():
        if args.only in (None, name):
            bench(args.data / folder, args.limit)


if __name__ == "__main__":
    main()
