"""Planted figure conflicts across outlets: are they all found, and nothing else?

    .venv/bin/python bench/accuracy.py [--articles 30] [--outlets 5] [--seed 7]

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
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from primenews.domain import Article
from primenews.insights.corroborate import FigureReport, corroborate, measure_of
from primenews.insights.enrich import enrich_many
from primenews.insights.model import Figure, Qualifier

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--outlets", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each false conflict")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with gzip.open(BBC, "rt", encoding="utf-8") as lines:
        items = [json.loads(line) for line in lines]
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
