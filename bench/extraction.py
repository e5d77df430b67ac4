"""Benchmark article extraction against plain trafilatura, on three public corpora.

    .venv/bin/python bench/extraction.py [--data /work/shared/data] [--limit N]

1. article-extraction-benchmark (Scrapinghub, 181 pages): body text scored
   exactly as upstream ``evaluate.py`` does (see its SOURCE.md): ``\\w+``
   tokens with case kept, overlapping 4-token shingles, per-page tp/fp/fn
   as multiset overlaps normalised to sum to 1; precision averaged over
   pages with a non-empty prediction, recall over pages with non-empty
   gold, F1 the harmonic mean of the two averages.
2. fundus_articles (258 pages, 41 countries): body token F1 against
   ``body_text`` (bag of ``\\w+`` tokens, mean of per-page F1), exact-match
   rates for title (whitespace-normalised), date and authors.
3. trafilatura_eval_news (140 pages): share of ``with`` snippets found, of
   ``without`` snippets avoided, title and date exact-match.

"plain" is ``trafilatura.extract(html)`` with its defaults for the body and
``trafilatura.extract_metadata(html)`` for title, date and author; "ours" is
:func:`primenews.extract.extract_article`. Times are wall-clock per page in
this one process (ours includes metadata; plain body-only is timed alone).
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

from primenews.errors import ExtractError
from primenews.extract import extract_article

TOKEN = re.compile(r"\w+")


@dataclass
class Prediction:
    text: str = ""
    title: str = ""
    date: datetime | None = None
    date_only: str = ""  # YYYY-MM-DD when the extractor gives no time
    authors: tuple[str, ...] = ()


@dataclass
class Timed:
    predictions: dict[str, Prediction]
    seconds: list[float]

    def speed(self) -> str:
        total = sum(self.seconds)
        median_ms = statistics.median(self.seconds) * 1000
        p90_ms = statistics.quantiles(self.seconds, n=10)[-1] * 1000
        return f"{len(self.seconds) / total:6.1f} pages/s, median {median_ms:5.1f} ms, p90 {p90_ms:5.1f} ms"


# --- extractors --------------------------------------------------------------------------


def ours(html: bytes, url: str) -> Prediction:
    try:
        article = extract_article(html, url)
    except ExtractError:
        return Prediction()
    authors = tuple(a.strip() for a in article.byline.split(",") if a.strip())
    return Prediction(article.text, article.title, article.published, "", authors)


def plain_body(html: bytes, url: str) -> Prediction:
    return Prediction(text=trafilatura.extract(html) or "")


def plain_full(html: bytes, url: str) -> Prediction:
    meta = trafilatura.extract_metadata(html)
    authors = tuple(a.strip() for a in (meta.author or "").split(";") if a.strip())
    return Prediction(
        trafilatura.extract(html) or "", meta.title or "", None, meta.date or "", authors
    )


def run(extractor: Callable[[bytes, str], Prediction], pages: dict[str, tuple[bytes, str]]) -> Timed:
    predictions, seconds = {}, []
    for key, (html, url) in pages.items():
        start = time.perf_counter()
        predictions[key] = extractor(html, url)
        seconds.append(time.perf_counter() - start)
    return Timed(predictions, seconds)


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
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # 18 gold dates carry no offset


def same_day(prediction: Prediction, gold: datetime) -> bool:
    """Calendar day agrees in UTC or in the publisher's own offset (as the gold gives it)."""
    days = {gold.date().isoformat(), gold.astimezone(UTC).date().isoformat()}
    if prediction.date is not None:
        return prediction.date.astimezone(UTC).date().isoformat() in days or (
            prediction.date.astimezone(gold.tzinfo).date().isoformat() in days
        )
    return prediction.date_only in days


def same_minute(prediction: Prediction, gold: datetime) -> bool:
    if prediction.date is None:
        return False
    return abs((prediction.date - gold).total_seconds()) < 60


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


def load_aeb(root: Path, limit: int | None) -> tuple[dict[str, tuple[bytes, str]], dict[str, str]]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    pages = {k: (gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()), truth[k]["url"]) for k in keys}
    return pages, {k: truth[k]["articleBody"] for k in keys}


def load_jsonl_corpus(root: Path, index: str, limit: int | None) -> tuple[dict[str, tuple[bytes, str]], dict[str, Any]]:
    rows = [json.loads(line) for line in (root / index).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[:limit]
    pages = {r.get("id", r["html"]): (gzip.decompress((root / r["html"]).read_bytes()), r["url"]) for r in rows}
    return pages, {r.get("id", r["html"]): r for r in rows}


def bench_aeb(root: Path, limit: int | None) -> None:
    pages, gold = load_aeb(root, limit)
    print(f"\n## article-extraction-benchmark ({len(pages)} pages), body text, upstream metric\n")
    print("| extractor | precision | recall | F1 | accuracy | speed |")
    print("|---|---|---|---|---|---|")
    for name, extractor in (("trafilatura.extract defaults", plain_body), ("primenews extract_article", ours)):
        timed = run(extractor, pages)
        p, r, f1, acc = aeb_scores(timed.predictions, gold)
        print(f"| {name} | {p:.4f} | {r:.4f} | **{f1:.4f}** | {acc:.3f} | {timed.speed()} |")


def bench_fundus(root: Path, limit: int | None) -> None:
    pages, rows = load_jsonl_corpus(root, "index.jsonl", limit)
    expected = {k: json.loads((root / r["expected"]).read_text(encoding="utf-8")) for k, r in rows.items()}
    print(f"\n## fundus_articles ({len(pages)} pages)\n")
    print("| extractor | body token F1 | title exact | date (day) | date (minute) | authors exact | speed |")
    print("|---|---|---|---|---|---|---|")
    body_only = run(plain_body, pages)
    print(f"| trafilatura.extract defaults (body only) | {body_f1(body_only, expected):.4f} | | | | | {body_only.speed()} |")
    for name, extractor in (("trafilatura extract + extract_metadata", plain_full), ("primenews extract_article", ours)):
        timed = run(extractor, pages)
        got = timed.predictions
        dates = {k: gold_date(e["publishing_date"]) for k, e in expected.items()}
        authored = [k for k, e in expected.items() if e.get("authors")]
        print(
            f"| {name} | {body_f1(timed, expected):.4f}"
            f" | {share(squash(got[k].title) == squash(e['title']) for k, e in expected.items()):.3f}"
            f" | {share(same_day(got[k], d) for k, d in dates.items()):.3f}"
            f" | {share(same_minute(got[k], d) for k, d in dates.items()):.3f}"
            f" | {share(same_authors(got[k].authors, expected[k]['authors']) for k in authored):.3f}"
            f" | {timed.speed()} |"
        )


def body_f1(timed: Timed, expected: dict[str, Any]) -> float:
    return statistics.fmean(token_f1(timed.predictions[k].text, e["body_text"]) for k, e in expected.items())


def bench_trafilatura_eval(root: Path, limit: int | None) -> None:
    pages, rows = load_jsonl_corpus(root, "expected.jsonl", limit)
    print(f"\n## trafilatura_eval_news ({len(pages)} pages)\n")
    print("| extractor | `with` found | `without` avoided | title exact | date (day) | speed |")
    print("|---|---|---|---|---|---|")
    for name, extractor in (("trafilatura extract + extract_metadata", plain_full), ("primenews extract_article", ours)):
        timed = run(extractor, pages)
        got = timed.predictions
        found = share(s in got[k].text for k, r in rows.items() for s in r["with"])
        avoided = share(s not in got[k].text for k, r in rows.items() for s in r["without"])
        titles = share(squash(got[k].title) == squash(r["title"]) for k, r in rows.items())
        days = share(day_of(got[k]) == r["date"] for k, r in rows.items())
        print(f"| {name} | {found:.3f} | {avoided:.3f} | {titles:.3f} | {days:.3f} | {timed.speed()} |")


def day_of(prediction: Prediction) -> str:
    if prediction.date is not None:
        return prediction.date.date().isoformat()
    return prediction.date_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument("--only", choices=("aeb", "fundus", "trafilatura"), default=None)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # trafilatura logs every discarded page
    ours(b"<html><body><p>" + b"Warm up py3langid and lxml. " * 20 + b"</p></body></html>", "")
    benches = {
        "aeb": lambda: bench_aeb(args.data / "article-extraction-benchmark", args.limit),
        "fundus": lambda: bench_fundus(args.data / "fundus_articles", args.limit),
        "trafilatura": lambda: bench_trafilatura_eval(args.data / "trafilatura_eval_news", args.limit),
    }
    for name, bench in benches.items():
        if args.only in (None, name):
            bench()


if __name__ == "__main__":
    main()
