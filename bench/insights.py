"""Score the insights stage on the seed article and measure its speed.

    .venv/bin/python bench/insights.py [--data ../shared/data] [--limit N] [--processes 2]
    .venv/bin/python bench/insights.py --workers 2 --limit 200 --skip-stage

1. Seed article (``../shared/golden/seed-article``): the page goes through
   ``extract_article`` and ``enrich`` with a registry that already holds
   "Gerardo Werthein" (as the store does once any article spells it right).
   Scored against ``expected.json``: entity recall and precision per type
   (canonical names, accents and case folded); figures by value and counted
   noun (a gold figure with a unit matches on value and unit); quotes by the
   words they start with and their speaker; scare quotes reported as quotes;
   dates by their text and resolved value.
2. Speed: English pages of fundus_articles and trafilatura_eval_news,
   extracted first (not timed), then the whole insights stage (NER, tags,
   canonical names, places, figures, quotes, dates, summary) over all of
   them with ``enrich_many`` in batches of 16. Reported: articles per second
   of wall time in one process and in ``--processes`` worker processes (one
   per core: the 2-core target), CPU seconds per article (less disturbed by
   other work on a shared machine), and the same scaled to 800-word articles.
   Each run is repeated (``--repeat``) and the median kept.
3. ``--workers N``: the product path. The articles are saved in a fresh
   SQLite store (not timed); then each goes through
   ``worker.enrichment.enrich_saved`` as the poller runs it: the insights
   stage in ``ExtractPool(N)`` worker processes, names resolved against the
   store by each worker's own engine, insights saved by the single
   ``StoreWriter``. Wall clock from the first article to the last commit.
   The corpus then also takes the English pages of
   article-extraction-benchmark, to reach ~200 articles.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from primenews.domain import Article
from primenews.errors import ExtractError
from primenews.extract import extract_article
from primenews.insights.canonical import KnownEntity, MemoryRegistry, entity_key, normalise_name
from primenews.insights.enrich import enrich, enrich_many
from primenews.insights.model import EntityKind, Insights
from primenews.store import SaveResult, Store
from primenews.worker.enrichment import enrich_saved
from primenews.worker.local import ExtractPool, StoreWriter

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BATCH = 16
TARGET_WORDS = 800


def seed_registry() -> MemoryRegistry:
    """What the store knows once one article spelt the minister's name right."""
    name = "Gerardo Werthein"
    return MemoryRegistry(
        [KnownEntity(entity_key(EntityKind.PERSON, name), name, EntityKind.PERSON)]
    )


def score_seed(golden: Path) -> dict[str, Any]:
    """Enrich the seed page and compare with its expected.json."""
    expected = json.loads((golden / "expected.json").read_text())
    url = expected["metadata"]["canonical_url"]
    article = extract_article((golden / "page.html").read_bytes(), url=url)
    insights = enrich(article, seed_registry())
    return {
        "entities": _score_entities(insights, expected["entities"]),
        "figures": _score_figures(insights, expected["figures"]),
        "quotes": _score_quotes(insights, expected["quotes"], expected["not_quotes"]),
        "dates": _score_dates(insights, expected["dates"]),
    }


def _score_entities(insights: Insights, gold: dict[str, list[str]]) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for kind_name, names in gold.items():
        kind = EntityKind(kind_name)
        found = {normalise_name(e.name) for e in insights.of_kind(kind)}
        wanted = {normalise_name(n) for n in names}
        hits = found & wanted
        scores[kind_name] = {
            "recall": len(hits) / len(wanted),
            "precision": len(hits) / len(found) if found else 0.0,
            "missed": sorted(wanted - found),
            "extra": sorted(found - wanted),
        }
    return scores


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _figure_matches(figure: Any, gold: dict[str, Any]) -> bool:
    if abs(figure.value - float(gold["value"])) > 1e-9 * max(1.0, abs(figure.value)):
        return False
    if gold.get("unit"):
        return bool(figure.unit == gold["unit"])
    gold_words = {_stem(w) for w in gold["counts"].split()}
    return bool(figure.noun) and _stem(figure.noun) in gold_words


def _score_figures(insights: Insights, gold: list[dict[str, Any]]) -> dict[str, Any]:
    found = [g for g in gold if any(_figure_matches(f, g) for f in insights.figures)]
    qualified = [
        g
        for g in found
        if "qualifier" not in g
        or any(
            _figure_matches(f, g) and f.qualifier.value == g["qualifier"] for f in insights.figures
        )
    ]
    relevant = [f for f in insights.figures if any(_figure_matches(f, g) for g in gold)]
    return {
        "recall": len(found) / len(gold),
        "precision": len(relevant) / len(insights.figures) if insights.figures else 0.0,
        "qualifier_right": len(qualified) / len(found) if found else 0.0,
        "missed": [f"{g['value']} {g.get('unit') or g['counts']}" for g in gold if g not in found],
    }


def _score_quotes(
    insights: Insights, gold: list[dict[str, str]], not_quotes: list[str]
) -> dict[str, Any]:
    def right(g: dict[str, str]) -> bool:
        return any(
            q.text.startswith(g["starts"])
            and normalise_name(q.speaker) == normalise_name(g["speaker"])
            for q in insights.quotes
        )

    scare = [q.text for q in insights.quotes if q.text.strip(" .,") in not_quotes]
    return {
        "speaker_right": sum(map(right, gold)) / len(gold),
        "found": len(insights.quotes),
        "scare_quotes_reported": scare,
        "wrong": [g["starts"][:40] for g in gold if not right(g)],
    }


def _score_dates(insights: Insights, gold: list[dict[str, str]]) -> dict[str, Any]:
    def right(g: dict[str, str]) -> bool:
        return any(g["text"] in d.text and d.resolved == g["resolved"] for d in insights.dates)

    return {
        "resolved_right": sum(map(right, gold)) / len(gold),
        "found": len(insights.dates),
        "wrong": [g["text"] for g in gold if not right(g)],
    }


def load_corpus(data: Path, limit: int, more: bool = False) -> list[Article]:
    """English articles of fundus_articles and trafilatura_eval_news (``more``: and
    article-extraction-benchmark), extracted."""
    pages: list[tuple[Path, str]] = []
    fundus = data / "fundus_articles"
    for line in (fundus / "index.jsonl").read_text().splitlines():
        row = json.loads(line)
        if (row.get("html_lang") or "").lower().startswith("en"):
            pages.append((fundus / row["html"], row["url"]))
    trafilatura = data / "trafilatura_eval_news"
    for line in (trafilatura / "expected.jsonl").read_text().splitlines():
        row = json.loads(line)
        pages.append((trafilatura / row["html"], row["url"]))
    if more:
        aeb = data / "article-extraction-benchmark"
        truth = json.loads((aeb / "ground-truth.json").read_text())
        for key, row in sorted(truth.items()):
            pages.append((aeb / "html" / f"{key}.html.gz", row["url"]))
    articles: list[Article] = []
    for path, url in pages:
        try:
            article = extract_article(gzip.decompress(path.read_bytes()), url=url)
        except ExtractError:
            continue
        if article.language == "en" and article.word_count >= 150:
            articles.append(article)
        if len(articles) == limit:
            break
    return articles


def _run_batches(articles: Sequence[Article]) -> tuple[int, float]:
    """Enrich in batches; (articles, CPU seconds). Runs in a worker process too."""
    started = time.process_time()
    done = 0
    for i in range(0, len(articles), BATCH):
        done += len(enrich_many(articles[i : i + BATCH]))
    return done, time.process_time() - started


def _warm() -> None:
    enrich(Article(url="https://example.org/", title="Warm", text="Ana Silva met the UN in Lima."))


def measure(articles: list[Article], processes: int, repeat: int) -> dict[str, float]:
    """Median wall time and CPU time of the whole stage over ``articles``."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        if processes <= 1:
            _warm()
            started = time.perf_counter()
            _done, cpu = _run_batches(articles)
        else:
            with ProcessPoolExecutor(processes) as pool:
                list(pool.map(_warm_and_wait, range(processes)))
                shares = [articles[i::processes] for i in range(processes)]
                started = time.perf_counter()
                cpu = sum(c for _n, c in pool.map(_run_batches, shares))
        walls.append(time.perf_counter() - started)
        cpus.append(cpu)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    words = sum(a.word_count for a in articles)
    return {
        "articles_per_s": len(articles) / wall,
        "articles800_per_s": words / TARGET_WORDS / wall,
        "cpu_ms_per_article": 1000 * cpu / len(articles),
        "cpu_ms_per_800_words": 1000 * cpu * TARGET_WORDS / words,
    }


def measure_workers(articles: list[Article], workers: int, repeat: int) -> dict[str, float]:
    """Median wall and CPU time of enrich-and-save for ``articles`` in ``ExtractPool(workers)``.

    CPU covers the pool's whole life (spawning, model loading, every article,
    the writer's saves); ``startup_cpu_s`` is the same for a pool that only
    loads its models, so the difference is the steady cost per article.
    """
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.sqlite3"
            store = Store.open(url)
            store.migrate()
            now = datetime.now(UTC)
            saved = [
                store.save_article(a, source_id=None, raw_html=b"", fetched_at=now)
                for a in articles
            ]
            before = _cpu_seconds()
            pool = ExtractPool(workers, insights=True, registry_url=url)
            try:
                walls.append(asyncio.run(_enrich_all(store, pool, articles, saved, workers)))
            finally:
                pool.close()  # the workers end here, so their CPU time is counted below
                store.close()
            cpus.append(_cpu_seconds() - before)
    before = _cpu_seconds()
    idle = ExtractPool(workers, insights=True)
    try:
        asyncio.run(_enrich_all(None, idle, [], [], workers))
    finally:
        idle.close()
    startup = _cpu_seconds() - before
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    words = sum(a.word_count for a in articles)
    return {
        "articles_per_s": len(articles) / wall,
        "articles800_per_s": words / TARGET_WORDS / wall,
        "wall_s": wall,
        "cpu_s": cpu,
        "startup_cpu_s": startup,
        "steady_cpu_ms_per_800_words": 1000 * (cpu - startup) * TARGET_WORDS / words,
    }


def _cpu_seconds() -> float:
    """CPU of this process (event loop, store writer) and of its ended children (the workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def _enrich_all(
    store: Store | None,
    pool: ExtractPool,
    articles: Sequence[Article],
    saved: Sequence[SaveResult],
    workers: int,
) -> float:
    warm = Article(url="https://example.org/", title="Warm", text="Ana Silva met the UN in Lima.")
    await asyncio.gather(*(pool.enrich(warm) for _ in range(2 * workers)))  # load the models
    writer = StoreWriter()
    in_flight = asyncio.Semaphore(4 * workers)  # as the poller keeps every worker busy

    async def one(article: Article, result: SaveResult) -> bool:
        assert store is not None
        async with in_flight:
            return await enrich_saved(
                store, writer, pool, article, result, lambda: datetime.now(UTC)
            )

    started = time.perf_counter()
    if store is None:  # start-up only
        writer.close()
        return 0.0
    try:
        done = await asyncio.gather(*(one(a, r) for a, r in zip(articles, saved, strict=True)))
    finally:
        writer.close()
    wall = time.perf_counter() - started
    if not all(done):
        raise RuntimeError(f"{done.count(False)} articles were not enriched; see the log")
    return wall


def _warm_and_wait(_index: int) -> None:
    _warm()
    time.sleep(0.5)  # every worker loads its model before the clock starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--golden", type=Path, default=SHARED / "golden" / "seed-article")
    parser.add_argument("--limit", type=int, default=0, help="at most this many articles (0: all)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=0, help="also time the product path with N worker processes"
    )
    parser.add_argument(
        "--skip-stage", action="store_true", help="skip the seed scores and the bare-stage timing"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    if not args.skip_stage:
        print("## Seed article")
        print(json.dumps(score_seed(args.golden), indent=1, ensure_ascii=False))

    articles = load_corpus(args.data, args.limit or -1, more=args.workers > 0)
    words = [a.word_count for a in articles]
    print(
        f"\n## Speed: {len(articles)} English articles, mean {statistics.mean(words):.0f} words, "
        f"median {statistics.median(words):.0f}"
    )
    if args.workers:
        result = measure_workers(articles, args.workers, args.repeat)
        steady = result["steady_cpu_ms_per_800_words"]
        print(
            f"ExtractPool({args.workers}) enrich + save: {result['articles_per_s']:.1f} "
            f"articles/s, {result['articles800_per_s']:.1f} 800-word articles/s "
            f"({result['wall_s']:.1f} s wall)\n"
            f"CPU {result['cpu_s']:.1f} s in all, of which start-up (spawn, models) "
            f"{result['startup_cpu_s']:.1f} s; steady {steady:.0f} ms per 800 words, "
            f"so {args.workers} free cores do {1000 * args.workers / steady:.1f} "
            "800-word articles/s"
        )
    if args.skip_stage:
        return
    print(
        "| processes | articles/s | 800-word articles/s | CPU ms / article | CPU ms / 800 words |"
    )
    print("|---|---|---|---|---|")
    for processes in sorted({1, args.processes}):
        result = measure(articles, processes, args.repeat)
        print(
            f"| {processes} | {result['articles_per_s']:.1f} | {result['articles800_per_s']:.1f} "
            f"| {result['cpu_ms_per_article']:.0f} | {result['cpu_ms_per_800_words']:.0f} |"
        )


if __name__ == "__main__":
    main()
