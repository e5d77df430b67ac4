"""Rewrites: an article that retells another outlet's earlier article sentence by sentence.

A near-duplicate (``dedup``) is the same text; a rewrite is the same report
in other words — sentences reordered, trimmed, reworded a little, names
misspelt. It is found sentence by sentence: a sentence of the later article
*matches* one of the earlier article when they share at least half of their
content words (Jaccard). When at least ``MIN_SHARE`` of the later article's
sentences match one article of another outlet published before it, the later
one is a rewrite of it, and the earlier outlet is credited.

Pure and bounded: at most ``MAX_SENTENCES`` sentences of each text are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

__all__ = ["RewriteCandidate", "RewriteMatch", "find_rewrite_source", "sentence_overlap"]

MIN_SHARE = 0.4  # of the later article's sentences matched in the earlier one
SENTENCE_JACCARD = 0.5  # content words shared by two sentences that say the same
MIN_WORDS = 6  # shorter sentences ("He declined to comment.") match too easily
MIN_SENTENCES = 3  # a text this short cannot be told from a summary of the same facts
MAX_SENTENCES = 60

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    "the a an and or but of to in on at for by with from as is are was were be been has have "
    "had it its this that these those he she they we i you his her their our said says say "
    "will would could should may might not no after before over about into than then there "
    "which who whom whose what when where while also more most some such".split()
)


@dataclass(frozen=True, slots=True)
class RewriteCandidate:
    """An article of the story: who published it, when, and its text."""

    article_id: int
    outlet: str
    published: datetime
    text: str


@dataclass(frozen=True, slots=True)
class RewriteMatch:
    original_id: int
    outlet: str
    share: float  # of the rewrite's sentences found in the original


def find_rewrite_source(
    article: RewriteCandidate, earlier: Sequence[RewriteCandidate]
) -> RewriteMatch | None:
    """The earlier article of another outlet that ``article`` retells, if any.

    The best match wins; among equal matches the earliest, so the original
    reporter is credited rather than an intermediate rewrite.
    """
    mine = _sentences(article.text)
    if len(mine) < MIN_SENTENCES:
        return None
    best: tuple[float, datetime, int, RewriteCandidate] | None = None
    for other in earlier:
        if other.outlet == article.outlet or other.published > article.published:
            continue
        share = sentence_overlap(mine, _sentences(other.text))
        if share < MIN_SHARE:
            continue
        key = (-share, other.published, other.article_id, other)
        if best is None or key[:3] < best[:3]:
            best = key
    if best is None:
        return None
    return RewriteMatch(best[3].article_id, best[3].outlet, round(-best[0], 4))


def sentence_overlap(later: Sequence[frozenset[str]], earlier: Sequence[frozenset[str]]) -> float:
    """Share of ``later``'s sentences that match a sentence of ``earlier``."""
    if not later or not earlier:
        return 0.0
    matched = 0
    for sentence in later:
        for other in earlier:
            union = len(sentence | other)
            if union and len(sentence & other) / union >= SENTENCE_JACCARD:
                matched += 1
                break
    return matched / len(later)


def _sentences(text: str) -> list[frozenset[str]]:
    """Content-word sets of the text's sentences (accents and case folded)."""
    found = []
    for sentence in _SENTENCE_END.split(text):
        folded = unicodedata.normalize("NFKD", sentence)
        folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
        words = frozenset(w for w in _WORD.findall(folded) if w not in _STOP)
        if len(words) >= MIN_WORDS:
            found.append(words)
        if len(found) >= MAX_SENTENCES:
            break
    return found
