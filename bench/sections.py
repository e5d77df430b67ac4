"""Benchmark the sections classifier against a TF-IDF LinearSVC, on ag_news and bbc_news test.

    .venv/bin/python bench/sections.py [--data /work/shared/data] [--repeat 3]

Both classifiers learn from the same documents: the ag_news train subsets
(6,904) and the bbc_news train ids (1,780); neither sees a test document.
The baseline is scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2),
sublinear_tf=True)`` + ``LinearSVC()`` over our label of each document.

Scoring a multi-label prediction against one gold label:

- accuracy and macro-F1: the highest-probability label among the corpus's
  own labels (ag_news: world, sport, business, technology; bbc_news:
  business, culture, politics, sport, technology) is the prediction. The
  baseline predicts one label among all; it is restricted the same way.
- per-label precision / recall: the predicted label *set* (labels past their
  thresholds) against the gold label, for the corpus's own labels only; a
  predicted label outside them (politics on ag_news, world on bbc_news) is
  not counted, since the corpus cannot say whether it is right.
- docs/s: ``classify_sections`` on each test set, one document after
  another in this process (one core): the first pass, with the model's
  cache of unknown words' character scores emptied before it (CPU time), and the
  median of ``--repeat`` passes (the first included) of wall time and of
  CPU time. bbc_news test documents are whole articles (about 380 words,
  2,200 characters); ag_news ones are a headline and a lead (about 38 words).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from primenews.insights.sections import classify_sections, load_model
from primenews.insights.sections_data import (
    DEFAULT_DATA,
    LabelledDoc,
    read_ag_news,
    read_bbc_news,
)

AG = ("world", "sport", "business", "technology")
BBC = ("business", "culture", "politics", "sport", "technology")


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    """Mean over ``labels`` of the single-label F1."""
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        n_pred, n_gold = predicted.count(label), gold.count(label)
        scores.append(2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0)
    return sum(scores) / len(scores)


def set_precision_recall(
    gold: Sequence[str], sets: Sequence[tuple[str, ...]], label: str
) -> tuple[float, float]:
    """Precision and recall of ``label`` in the predicted sets against single gold labels."""
    tp = sum(1 for g, s in zip(gold, sets, strict=True) if g == label and label in s)
    n_pred = sum(1 for s in sets if label in s)
    n_gold = gold.count(label)
    return (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)


def ours(
    docs: Sequence[LabelledDoc], labels: Sequence[str]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Top label among ``labels`` and the predicted label set, per document."""
    tops, sets = [], []
    for doc in docs:
        result = classify_sections(doc.title, doc.text)
        tops.append(max(labels, key=lambda lb: result.scores[lb]))
        sets.append(result.labels)
    return tops, sets


def baseline(
    train: Sequence[LabelledDoc], tests: dict[str, tuple[Sequence[LabelledDoc], Sequence[str]]]
) -> dict[str, list[str]]:
    """TF-IDF (word 1-2 grams) + LinearSVC, its top label restricted to each corpus's labels."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    matrix = vectorizer.fit_transform([f"{d.title}\n{d.text}" for d in train])
    svc = LinearSVC().fit(matrix, [d.gold for d in train])
    classes = list(svc.classes_)
    out = {}
    for name, (docs, labels) in tests.items():
        margins = svc.decision_function(
            vectorizer.transform([f"{d.title}\n{d.text}" for d in docs])
        )
        cols = [classes.index(lb) for lb in labels]
        out[name] = [labels[int(i)] for i in margins[:, cols].argmax(axis=1)]
    return out


def throughput(docs: Sequence[LabelledDoc], repeat: int) -> tuple[float, float, float]:
    """Documents per second: first pass (cold word cache, CPU time), median of wall and of CPU."""
    walls, cpus = [], []
    load_model().char_cache.clear()  # the first pass meets every word for the first time
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for doc in docs:
            classify_sections(doc.title, doc.text)
        walls.append(len(docs) / (time.perf_counter() - wall))
        cpus.append(len(docs) / max(time.process_time() - cpu, 1e-9))
    return cpus[0], statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_model()
    tests = {
        "ag_news test": (read_ag_news(args.data / "ag_news", "test"), AG),
        "bbc_news test": (read_bbc_news(args.data / "bbc_news", "test"), BBC),
    }
    train = read_ag_news(args.data / "ag_news", "train") + read_bbc_news(
        args.data / "bbc_news", "train"
    )
    base = baseline(train, tests)
    print("| corpus | docs | classifier | accuracy | macro-F1 |")
    print("| --- | ---: | --- | ---: | ---: |")
    per_label = []
    for name, (docs, labels) in tests.items():
        gold = [d.gold for d in docs]
        tops, sets = ours(docs, labels)
        for who, predicted in (("primenews sections", tops), ("TF-IDF LinearSVC", base[name])):
            acc = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)
            f1 = macro_f1(gold, predicted, labels)
            print(f"| {name} | {len(docs)} | {who} | {acc:.2%} | {f1:.4f} |")
        for label in labels:
            p, r = set_precision_recall(gold, sets, label)
            per_label.append(f"| {name} | {label} | {p:.3f} | {r:.3f} |")
    print("\n| corpus | label | precision (label sets) | recall (label sets) |")
    print("| --- | --- | ---: | ---: |")
    print("\n".join(per_label))
    print("\n| speed, one core | words / chars per doc | cold CPU | median wall | median CPU |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (docs, _) in tests.items():
        words = statistics.mean(len(f"{d.title} {d.text}".split()) for d in docs)
        chars = statistics.mean(len(d.title) + len(d.text) for d in docs)
        first, wall, cpu = throughput(docs, args.repeat)
        print(
            f"| {name} | {words:,.0f} / {chars:,.0f} | {first:,.0f} docs/s "
            f"| {wall:,.0f} docs/s | {cpu:,.0f} docs/s |"
        )


if __name__ == "__main__":
    main()
