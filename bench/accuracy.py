"""Planted figure conflicts across outlets: are they all found, and nothing else?

    .venv/bin/python bench/accuracy.py [--articles 30] [--outlets 5] [--seed 7] [--rewrites 100]

For each of ``--articles`` BBC News texts (../shared/data/bbc_news) that state
countable figures, ``--outlets`` outlets carry the report:

* outlet 1 carries it as written (the original);
* outlet 2 plants a **conflict**: one counted figure changed by 5–20 %;
* outlet 3 hedges the same figure, as written: "at least N" (agrees);
* outlet 4 rounds it with "nearly"/"around" to 2 significant figures
  (approximate: a difference to show, never a conflict);
* the others carry it as written.

Each variant goes through the real insights stage (``enrich``: spaCy NER,
figures, qualifiers) and the story's figures are compared with
``insights.corroborate``. Reported: planted conflicts found (the changed
value reported as "differs" for the planting outlet), conflicts reported that
were not planted (false), hedged and rounded figures wrongly called conflicts.

Rewrite detection (``stories.rewrites``), on ``--rewrites`` other BBC texts of
at least five sentences: each is retold by a later outlet, **lightly** (some
sentences dropped, neighbours swapped, common words replaced by synonyms, a
name misspelt) and **heavily** (the same, plus a quarter of each sentence's
words cut). Negatives, which must not be credited to the original: another
article of the same category (same beat, own story), and own reporting (that
article with two of the original's sentences quoted in it). Each later text
is checked against the original and an unrelated earlier article of the same
category; a detection is right when it credits the original. Reported:
precision and recall per paraphrase strength.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from primenews.domain import Article
from primenews.insights.corroborate import FigureReport, corroborate, measure_of
from primenews.insights.enrich import enrich_many
from primenews.insights.model import Figure, Qualifier
from primenews.stories.rewrites import RewriteCandidate, find_rewrite_source

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "data" / "bbc_news" / "bbc_fulltext.jsonl.gz"
PLAIN_NUMBER = re.compile(r"\d{2,}(,\d{3})*")


@dataclass(frozen=True)
class Plant:
    article: int
    value: float  # the original value
    planted: float  # what outlet 2 says
    measure: str


def plantable(figure: Figure) -> bool:
    """A plain counted figure (digits, exact, no unit) that can be rewritten in the text."""
    return (
        figure.qualifier is Qualifier.EXACT
        and not figure.unit
        and figure.value >= 10
        and figure.value == int(figure.value)
        and bool(PLAIN_NUMBER.fullmatch(figure.text))
        and bool(measure_of(figure))
    )


def rewrite(text: str, figure: Figure, replacement: str) -> str:
    return text[: figure.start] + replacement + text[figure.end :]


def round_two(value: float) -> int:
    digits = len(str(int(value))) - 2
    return int(round(value, -digits)) if digits > 0 else int(value)


# Common words an editor swaps when retelling a report (both directions where sensible).
SWAPS = {
    "said": "stated", "says": "states", "company": "firm", "firm": "company",
    "people": "individuals", "government": "administration", "rose": "climbed",
    "fell": "dropped", "announced": "revealed", "also": "additionally", "big": "large",
    "but": "however", "about": "around", "expected": "forecast", "help": "assist",
    "show": "reveal", "shows": "reveals", "new": "fresh", "told": "informed", "buy": "purchase",
    "make": "create", "very": "highly", "start": "begin", "started": "began", "plans": "intends",
}  # fmt: skip
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
NAME = re.compile(r"\b[A-Z][a-z]{4,}\b")


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.split(text.replace("\n", " ")) if s.strip()]


def paraphrase(text: str, rng: random.Random, heavy: bool) -> str:
    """Retell ``text``: drop, swap, reword, misspell a name; ``heavy`` also cuts words."""
    kept = [s for s in sentences_of(text) if rng.random() > 0.25] or sentences_of(text)
    for i in range(0, len(kept) - 1, 2):
        if rng.random() < 0.5:
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    out = []
    for sentence in kept:
        words = [SWAPS.get(w, w) for w in sentence.split()]
        if heavy and len(words) > 8:
            cut = set(rng.sample(range(1, len(words) - 1), len(words) // 4))
            words = [w for n, w in enumerate(words) if n not in cut]
        out.append(" ".join(words))
    retold = " ".join(out)
    names = NAME.findall(retold)
    if names:
        name = rng.choice(names)
        i = rng.randrange(1, len(name) - 2)
        misspelt = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        retold = retold.replace(name, misspelt, 1)
    return retold


def rewrite_bench(items: list[dict[str, str]], rng: random.Random, count: int) -> None:
    """Precision and recall of rewrite detection, light and heavy paraphrases."""
    by_category: dict[str, list[str]] = {}
    for item in items:
        body = item["text"].partition("\n\n")[2].strip()
        if len(sentences_of(body)) >= 5:
            by_category.setdefault(item["category"], []).append(body)
    bases = [(c, t) for c, texts in by_category.items() for t in texts]
    rng.shuffle(bases)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for heavy in (False, True):
        true_pos = false_pos = false_neg = wrong_original = 0
        for category, text in bases[:count]:
            others = [t for t in by_category[category] if t != text]
            unrelated, own = rng.sample(others, 2)
            original = RewriteCandidate(1, "first.test", t0, text)
            decoy = RewriteCandidate(2, "decoy.test", t0, unrelated)
            earlier = [original, decoy]
            quoted = sentences_of(text)[:2]
            own_story = " ".join([*sentences_of(own)[:3], *quoted, *sentences_of(own)[3:]])
            later = t0 + timedelta(hours=1)
            retold = RewriteCandidate(3, "later.test", later, paraphrase(text, rng, heavy))
            found = find_rewrite_source(retold, earlier)
            if found is not None and found.original_id == 1:
                true_pos += 1
            else:
                false_neg += 1
                wrong_original += found is not None
                false_pos += found is not None
            for negative in (own, own_story):
                candidate = RewriteCandidate(4, "own.test", later, negative)
                false_pos += find_rewrite_source(candidate, [original]) is not None
        detected = true_pos + false_pos
        rows.append((
            "heavy" if heavy else "light", min(count, len(bases)), true_pos, false_neg,
            false_pos, true_pos / detected if detected else float("nan"),
            true_pos / (true_pos + false_neg) if true_pos + false_neg else float("nan"),
        ))  # fmt: skip
    print()
    print("| rewrites | retold | found | missed | false detections | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, n, tp, fn, fp, precision, recall in rows:
        print(f"| {label} | {n} | {tp} | {fn} | {fp} | {precision:.3f} | {recall:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--outlets", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each false conflict")
    parser.add_argument("--rewrites", type=int, default=100, help="texts retold (0: skip)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with gzip.open(BBC, "rt", encoding="utf-8") as lines:
        items = [json.loads(line) for line in lines]
    if args.rewrites:
        rewrite_bench(items, random.Random(args.seed), args.rewrites)
    rng.shuffle(items)
    started = time.perf_counter()
    bases: list[tuple[Article, Figure]] = []
    for item in items:
        if len(bases) >= args.articles:
            break
        title, _, body = item["text"].partition("\n\n")
        article = Article(url=f"https://bbc.test/{item['id']}", title=title, text=body.strip())
        [insights] = enrich_many([article])
        measures = [measure_of(f) for f in insights.figures]
        # One figure per measure in the original, so a planted change is unambiguous.
        candidates = [f for f in insights.figures
                      if plantable(f) and measures.count(measure_of(f)) == 1]  # fmt: skip
        if candidates:
            bases.append((article, rng.choice(candidates)))
    found = missed = false = hedged_wrong = checks_total = 0
    for number, (article, figure) in enumerate(bases):
        planted = int(figure.value * (1 + rng.choice([-1, 1]) * rng.uniform(0.05, 0.2)))
        planted = planted if planted != figure.value else planted + 1
        texts = [article.text] * args.outlets
        texts[1] = rewrite(article.text, figure, f"{planted:,}")
        texts[2] = rewrite(article.text, figure, f"at least {figure.text}")
        texts[3] = rewrite(article.text, figure, f"nearly {round_two(figure.value):,}")
        variants = [
            Article(url=f"{article.url}/{n}", title=article.title, text=text)
            for n, text in enumerate(texts)
        ]
        reports = [
            FigureReport(n, f"outlet{n}", f)
            for n, insights in enumerate(enrich_many(variants))
            for f in insights.figures
        ]
        checks = corroborate(reports)
        checks_total += len(checks)
        hit = False
        for check in checks:
            for variant in check.conflicts:
                if variant.value == planted and variant.outlets == ("outlet1",):
                    hit = True  # the planted value, pinned on the outlet that planted it
                    continue
                false += 1
                if args.verbose:
                    agreeing = check.variants[0]
                    print(
                        f"  false #{number}: {check.what!r} {agreeing.text} "
                        f"{agreeing.outlets} vs {variant.text} {variant.outlets}"
                    )
                if {"outlet2", "outlet3"} & set(variant.outlets):
                    hedged_wrong += 1
        found += hit
        missed += not hit
        if not hit:
            print(f"  missed #{number}: {figure.text} {figure.counts!r} → {planted}")
            if args.verbose:
                said = [(r.figure.text, r.figure.counts, measure_of(r.figure))
                        for r in reports if r.article_id == 1]  # fmt: skip
                print(f"    outlet1 said: {said}")
    seconds = time.perf_counter() - started
    print()
    print(
        "| planted conflicts | found | missed | false conflicts | hedged/rounded called conflicts "
        "| measures compared | time |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(bases)} | {found} | {missed} | {false} | {hedged_wrong} | {checks_total} "
        f"| {seconds:.0f} s |"
    )


if __name__ == "__main__":
    main()
