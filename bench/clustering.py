"""Story clustering and dedup: quality on two labelled sets, throughput on a 100k stream.

1. googlenews_stream (News-T, titles only, stream order; position i = minute i):
   dev = first 30 % (tuning), test = last 70 % (reported); a story cut by the
   boundary is scored separately in each part. Our StoryIndex beside a
   single-pass TF-IDF baseline (cosine to centroid, threshold tuned on dev).
2. multi_outlet_feed_snapshots, English feeds, entries deduplicated across the
   5 polls, hand labels in tests/data/stories/multi_outlet_labels.json.
3. Throughput: dedup + clustering over a synthetic stream (BBC full texts
   rewritten, wire copies, googlenews titles), all inside the window, in a
   fresh process per size; articles/s and peak RSS.

    .venv/bin/python bench/clustering.py [--part quality|fixture|throughput|all] [--tune]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from primenews.stories import ClusterOptions, StoryDoc, rebuild_index
from primenews.stories.dedup import DuplicateIndex
from primenews.stories.evaluate import ClusterScores, mixed_clusters, score_clustering

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "tests" / "data" / "stories" / "multi_outlet_labels.json"
ENGLISH_FEEDS = ("aljazeera", "bbc_world", "nyt", "nyt_home", "indiatoday", "mehr")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
# googlenews has no times: one stream position is one minute, and the window is
# counted in positions (tuned on dev, see --tune; a story spans a median of 675 positions).
GOOGLENEWS_OPTIONS = ClusterOptions.for_titles(window=timedelta(minutes=300))
MERGE_EVERY = 50


def load_googlenews(limit: int | None = None) -> tuple[list[StoryDoc], list[int]]:
    """News-T in stream order as docs (title only) and their gold story numbers."""
    path = DATA / "googlenews_stream" / "News-T.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines][:limit]
    docs = [
        StoryDoc(id=r["Id"], title=r["textCleaned"], text="", url=f"googlenews:{r['Id']}",
                 outlet="", published=T0 + timedelta(minutes=i))
        for i, r in enumerate(rows)
    ]  # fmt: skip
    return docs, [int(r["clusterNo"]) for r in rows]


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def load_fixture() -> tuple[list[StoryDoc], list[str]]:
    """English feed entries of the 5 polls, once per link, in time order, with labels."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # The extractor's language identifier, told which languages these outlets
    # publish in (English, and Hindi items in India Today's feed): on a title
    # and one sentence, an unrestricted guess often says Nigerian Pidgin.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(["en", "hi"])

    from primenews.ingest.feeds import parse_feed

    folder = DATA / "multi_outlet_feed_snapshots"
    labels: dict[str, str] = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
    entries: dict[str, StoryDoc] = {}
    for snapshot in sorted(p for p in folder.iterdir() if p.is_dir()):
        polled = datetime.strptime(snapshot.name, "%Y-%m-%dT%H%MZ").replace(tzinfo=UTC)
        for outlet in ENGLISH_FEEDS:
            feed = parse_feed(gzip.decompress((snapshot / f"{outlet}.xml.gz").read_bytes()))
            for e in feed.entries:
                if e.url in entries:
                    continue
                text = _plain(e.summary)
                language = identifier.classify(f"{e.title} {text}")[0]
                entries[e.url] = StoryDoc(id=e.url, title=e.title, text=text, url=e.url,
                                          outlet=outlet, published=e.published or polled,
                                          language=language)  # fmt: skip
    docs = sorted(entries.values(), key=lambda d: (d.published, d.id))
    return docs, [labels[d.id] for d in docs]


def cluster_labels(docs: list[StoryDoc], options: ClusterOptions) -> list[str]:
    """Final story of each doc: assignments with merges followed to the surviving story."""
    _, assignments, merges = rebuild_index(docs, options, merge_every=MERGE_EVERY)
    into = {m.absorbed: m.into for m in merges}

    def final(key: str) -> str:
        while key in into:
            key = into[key]
        return key

    return [final(a.story_key) for a in assignments]


def baseline_labels(docs: list[StoryDoc], threshold: float) -> list[int]:
    """Single-pass TF-IDF: join the most similar centroid if cosine ≥ threshold."""
    df: Counter[str] = Counter()
    centroids: list[dict[str, float]] = []
    postings: dict[str, list[int]] = {}
    out: list[int] = []
    for n, doc in enumerate(docs, start=1):
        tf = Counter(f"{doc.title} {doc.text}".lower().split())
        df.update(tf.keys())
        vec = {t: c * math.log((n + 1) / (df[t] + 0.5)) for t, c in tf.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        vec = {t: w / norm for t, w in vec.items()}
        best, best_cos = -1, 0.0
        for c in sorted({c for t in vec for c in postings.get(t, ())}):
            cen = centroids[c]
            cnorm = math.sqrt(sum(w * w for w in cen.values()))
            cos = sum(w * cen.get(t, 0.0) for t, w in vec.items()) / cnorm
            if cos > best_cos:
                best, best_cos = c, cos
        if best < 0 or best_cos < threshold:
            best = len(centroids)
            centroids.append({})
        for t, w in vec.items():
            if t not in centroids[best]:
                postings.setdefault(t, []).append(best)
            centroids[best][t] = centroids[best].get(t, 0.0) + w
        out.append(best)
    return out


def _row(name: str, s: ClusterScores, per_second: float, peak_mb: float) -> str:
    return (f"| {name} | {s.bcubed_precision:.3f} | {s.bcubed_recall:.3f} | **{s.bcubed_f1:.3f}** "
            f"| {s.pairwise_f1:.3f} | **{s.nmi:.3f}** | {s.predicted_clusters} / {s.gold_clusters} "
            f"| {per_second:,.0f} | {peak_mb:.0f} |")  # fmt: skip


HEADER = ("| method | B³ P | B³ R | B³ F1 | pairwise F1 | NMI | clusters (pred / gold) "
          "| articles/s | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def googlenews_part(tune: bool) -> None:
    docs, gold = load_googlenews()
    cut = int(len(docs) * 0.3)

    def split(pred: list[object]) -> tuple[ClusterScores, ClusterScores]:
        return score_clustering(gold[:cut], pred[:cut]), score_clustering(gold[cut:], pred[cut:])

    thresholds = [0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3]
    dev_f1 = {t: score_clustering(gold[:cut], baseline_labels(docs[:cut], t)).bcubed_f1
              for t in thresholds}  # fmt: skip
    best_t = max(thresholds, key=lambda t: dev_f1[t])
    print(f"baseline threshold on dev: {best_t} (dev B³ F1 by threshold: "
          + ", ".join(f"{t}: {f:.3f}" for t, f in dev_f1.items()) + ")")  # fmt: skip
    if tune:
        tune_index(docs[:cut], gold[:cut])
    runs = []
    start = time.perf_counter()
    base = baseline_labels(docs, best_t)
    runs.append((f"baseline TF-IDF single pass (θ={best_t})", base, time.perf_counter() - start))
    start = time.perf_counter()
    ours = cluster_labels(docs, GOOGLENEWS_OPTIONS)
    runs.append(
        ("StoryIndex (titles profile, window 300 positions)", ours, time.perf_counter() - start)
    )
    for part, index in (("dev (first 30 %)", 0), ("test (last 70 %)", 1)):
        print(f"\ngooglenews_stream {part}\n\n{HEADER}")
        for name, pred, seconds in runs:
            print(_row(name, split(list(pred))[index], len(docs) / seconds, _peak_mb()))
    print("\n(articles/s over the whole stream of", len(docs), "items; RSS is the process peak)")


def tune_index(docs: list[StoryDoc], gold: list[int]) -> None:
    """The dev grid the defaults were chosen from (B³ F1 / NMI on dev)."""
    print("\ndev grid: join_threshold × merge_threshold × window (positions)")
    for window in (150, 300, 600):
        for join in (0.15, 0.2, 0.25):
            cells = []
            for merge in (0.06, 0.08, 0.1, 0.12):
                options = replace(GOOGLENEWS_OPTIONS, join_threshold=join, merge_threshold=merge,
                                  window=timedelta(minutes=window))  # fmt: skip
                s = score_clustering(gold, cluster_labels(docs, options))
                cells.append(f"m={merge}: {s.bcubed_f1:.3f}/{s.nmi:.3f}")
            print(f"  window={window} join={join}: " + "  ".join(cells))


def fixture_part() -> None:
    docs, gold = load_fixture()
    multi = sum(1 for c in Counter(gold).values() if c > 1)
    print(f"\nmulti-outlet fixture: {len(docs)} entries, {len(set(gold))} labelled events, "
          f"{multi} with 2+ entries\n\n{HEADER}")  # fmt: skip
    start = time.perf_counter()
    ours = cluster_labels(docs, ClusterOptions())
    seconds = time.perf_counter() - start
    dev = [score_clustering(gold, baseline_labels(docs, t)).bcubed_f1 for t in (0.1, 0.2, 0.3)]
    best_t = (0.1, 0.2, 0.3)[dev.index(max(dev))]
    start = time.perf_counter()
    base = baseline_labels(docs, best_t)
    base_rate = len(docs) / (time.perf_counter() - start)
    print(_row(f"baseline TF-IDF (θ={best_t}, best on this set)", score_clustering(gold, base),
               base_rate, _peak_mb()))  # fmt: skip
    print(_row("StoryIndex (defaults)", score_clustering(gold, ours), len(docs) / seconds,
               _peak_mb()))  # fmt: skip
    mixed = mixed_clusters(gold, ours, multi_only=True)
    anyp = mixed_clusters(gold, ours)
    print(f"\nstories mixing two labelled multi-entry events: {len(mixed)} {mixed}")
    print(f"stories mixing any two labels (singletons included): {len(anyp)}")
    for _, events in anyp:
        print("   ", " + ".join(str(e) for e in events))


def synthetic_stream(size: int, seed: int = 7) -> list[StoryDoc]:
    """``size`` articles, one a second: rewritten BBC texts, wire copies, short titles.

    Each BBC article seeds an event covered by many outlets: a rewrite drops
    and reorders sentences and swaps words; every tenth is a verbatim wire
    copy, every tenth a near copy (one sentence changed). A third of the
    stream is googlenews titles (short, many events).
    """
    rng = random.Random(seed)
    with gzip.open(DATA / "bbc_news" / "bbc_fulltext.jsonl.gz", "rt", encoding="utf-8") as f:
        bases = [json.loads(line) for line in f]
    titles, _ = load_googlenews()
    docs: list[StoryDoc] = []
    for i in range(size):
        when = T0 + timedelta(seconds=i)
        if i % 3 == 2:
            t = titles[rng.randrange(len(titles))]
            docs.append(replace(t, id=f"s{i}", url=f"https://short.example/{i}", published=when))
            continue
        base = bases[(i // 40 + rng.randrange(3)) % len(bases)]
        docs.append(_variant(base, i, when, rng))
    return docs


def _variant(base: dict[str, str], i: int, when: datetime, rng: random.Random) -> StoryDoc:
    lines = [ln for ln in str(base.get("text", "")).split("\n") if ln.strip()]
    title, body = (lines[0], lines[1:]) if lines else ("", [])
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", " ".join(body)) if s]
    kind = i % 10
    if kind == 0:  # verbatim wire copy
        chosen = sentences
    elif kind == 1 and sentences:  # near copy: one sentence changed
        chosen = list(sentences)
        chosen[rng.randrange(len(chosen))] = "An editor added this sentence today."
    else:  # a rewrite
        chosen = [s for s in sentences if rng.random() > 0.3]
        rng.shuffle(chosen)
        title = " ".join(w for w in title.split() if rng.random() > 0.2)
    return StoryDoc(id=f"s{i}", title=title, text=" ".join(chosen), outlet=f"outlet{i % 50}",
                    url=f"https://outlet{i % 50}.example/{i}", published=when)  # fmt: skip


def throughput_once(size: int) -> dict[str, float]:
    """Dedup + clustering of ``size`` synthetic articles in this process."""
    docs = synthetic_stream(size)
    rss_before = _peak_mb()
    dedup, index_docs = DuplicateIndex(), []
    from primenews.stories import StoryIndex

    start, cpu_start = time.perf_counter(), time.process_time()
    index = StoryIndex()
    duplicates = 0
    for n, doc in enumerate(docs, start=1):
        verdict = dedup.add(doc)
        duplicates += verdict.is_duplicate
        index.assign(doc)  # a copy still joins its story: "also carried by"
        if n % MERGE_EVERY == 0:
            index.merge_converged()
        index_docs.append(doc.id)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {"size": size, "seconds": seconds, "per_second": size / seconds,
            "cpu_seconds": cpu, "per_cpu_second": size / cpu,
            "duplicates": duplicates, "stories": len(index),
            "rss_before_mb": rss_before, "peak_rss_mb": _peak_mb()}  # fmt: skip


def throughput_part(sizes: list[int]) -> None:
    print(
        "\nthroughput: dedup + clustering, all articles inside the window, one process per size\n"
    )
    print("| articles | wall s | articles/s (wall) | CPU s | articles/s (CPU) | duplicates found "
          "| live stories | RSS after loading MB | peak RSS MB |\n"
          "|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
        r = json.loads(out.strip().splitlines()[-1])
        print(f"| {r['size']:,} | {r['seconds']:.1f} | {r['per_second']:,.0f} "
              f"| {r['cpu_seconds']:.1f} | {r['per_cpu_second']:,.0f} | {r['duplicates']:,} "
              f"| {r['stories']:,} | {r['rss_before_mb']:.0f} "
              f"| {r['peak_rss_mb']:.0f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--part", choices=["quality", "fixture", "throughput", "all"], default="all"
    )
    parser.add_argument("--tune", action="store_true", help="print the dev grid too")
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(throughput_once(args.one)))
        return
    if args.part in ("quality", "all"):
        googlenews_part(args.tune)
    if args.part in ("fixture", "all"):
        fixture_part()
    if args.part in ("throughput", "all"):
        throughput_part([int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    main()
