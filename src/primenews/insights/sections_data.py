"""The labelled corpora the sections model learns from and is scored on, mapped to our labels.

- ag_news: World → world, Sports → sport, Business → business, Sci/Tech →
  technology; weak labels for politics (World), science (Sci/Tech) and
  health (World, Business, Sci/Tech) from small lexicons.
- bbc_news: business, entertainment → culture, politics, sport, tech →
  technology; world is left open on politics articles (UK politics is world
  news to ag_news) and 0 elsewhere.

Read by path from the shared data folder, never copied (see docs/sections.md
for their terms). Test parts are read for scoring only.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from primenews.insights.sections import LABELS, tokenize

DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
AG_LABELS = {1: "world", 2: "sport", 3: "business", 4: "technology"}
BBC_LABELS = {
    "business": "business",
    "entertainment": "culture",
    "politics": "politics",
    "sport": "sport",
    "tech": "technology",
}
# Weak labels: a document of the named source class with two or more distinct
# lexicon words (or one in the title) is positive; none is negative; one is left out.
LEXICONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "politics": (
        frozenset({"world", "politics"}),
        frozenset(
            "election elections elected vote voters voting ballot parliament parliamentary "
            "minister ministers president presidential prime government opposition party parties "
            "senate congress lawmakers legislature coalition referendum campaign candidate "
            "democracy democratic cabinet mp mps regime diplomat diplomatic sanctions treaty "
            "protest protesters crackdown dissident".split()
        ),
    ),
    "science": (
        frozenset({"technology"}),
        frozenset(
            "science scientists scientist researchers research study species space nasa planet "
            "astronomers telescope mars moon orbit spacecraft shuttle fossil dinosaur genes gene "
            "dna climate biology physics chemistry asteroid comet galaxy evolution ocean".split()
        ),
    ),
    "health": (
        frozenset({"world", "business", "technology"}),
        frozenset(
            "health medical medicine drug drugs patients patient disease diseases cancer hospital "
            "doctors vaccine vaccines flu virus infection heart diabetes obesity fda clinical "
            "surgery hiv aids epidemic outbreak therapy".split()
        ),
    ),
}
UNKNOWN = -1


@dataclass(frozen=True, slots=True)
class LabelledDoc:
    """A training or test document: the gold class of its corpus and our label targets."""

    title: str
    text: str
    gold: str  # the corpus class mapped to our label ("world", "culture", …)
    targets: dict[str, int] = field(default_factory=dict)  # label → 1, 0 or UNKNOWN


def clean_ag(text: str) -> str:
    """Undo AG's escapes (``#36;`` for ``$``, ``\\`` for a line break) and squeeze spaces."""
    text = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)
    return " ".join(html.unescape(text).replace("\\", " ").split())


def read_ag_news(directory: Path, part: str) -> list[LabelledDoc]:
    """ag_news ``train`` (the union of the two subsets, minus test duplicates) or ``test``."""

    def rows(name: str) -> list[tuple[str, str, str]]:
        with gzip.open(directory / name, "rt", encoding="utf-8", newline="") as fh:
            if name.startswith("train_sample"):  # "title description",label 0-3
                return [("", clean_ag(r[0]), AG_LABELS[int(r[1]) + 1]) for r in csv.reader(fh)]
            return [(clean_ag(r[1]), clean_ag(r[2]), AG_LABELS[int(r[0])]) for r in csv.reader(fh)]

    test = rows("test.csv.gz")
    if part == "test":
        return [LabelledDoc(t, d, g) for t, d, g in test]
    seen = {f"{t} {d}".strip() for t, d, _ in test}
    docs = []
    for title, text, gold in rows("train_head2000.csv.gz") + rows("train_sample5000_hf.csv.gz"):
        key = f"{title} {text}".strip()
        if key not in seen:
            seen.add(key)
            docs.append(LabelledDoc(title, text, gold, ag_targets(title, text, gold)))
    return docs


def read_bbc_news(directory: Path, part: str) -> list[LabelledDoc]:
    """bbc_news articles of the ``train`` or ``test`` ids of ``split.json`` (title split off)."""
    ids = set(json.loads((directory / "split.json").read_text(encoding="utf-8"))[part])
    docs = []
    with gzip.open(directory / "bbc_fulltext.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["id"] in ids:
                body = row["text"].split("\n", 1)[1].strip() if "\n" in row["text"] else ""
                gold = BBC_LABELS[row["category"]]
                targets = {label: int(label == gold) for label in LABELS}
                if gold == "politics":  # UK politics is world news to ag_news: leave world open
                    targets["world"] = UNKNOWN
                docs.append(LabelledDoc(row["title"], body, gold, targets))
    return docs


def ag_targets(title: str, text: str, gold: str) -> dict[str, int]:
    """AG's class for world/sport/business/technology; weak labels for the rest."""
    targets = {label: int(label == gold) for label in LABELS}
    title_words, words = set(tokenize(title)), set(tokenize(f"{title} {text}"))
    for label, (classes, lexicon) in LEXICONS.items():
        if gold not in classes:
            continue
        hits = len(words & lexicon)
        positive = hits >= 2 or bool(title_words & lexicon)
        targets[label] = 1 if positive else (0 if hits == 0 else UNKNOWN)
    return targets
