"""A document's vector and signature, weighted by a streaming IDF estimate.

* **Vector**: sublinear TF × IDF over :func:`~primenews.stories.text.terms`
  of title (counted ``title_weight`` times) and text, the ``max_terms``
  heaviest kept, L2-normalised. Comparable only within one language.
* **Signature**: language-independent keys — ``n:`` names, ``#:`` numbers,
  ``l:`` links — each kept once per document.

:class:`DocumentFrequency` is the explicit state behind IDF: how many
documents have been seen and in how many each term or key occurred.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from primenews.stories.documents import StoryDoc
from primenews.stories.text import fold, names, numbers, terms

__all__ = ["DocFeatures", "DocumentFrequency", "FeatureOptions", "doc_features"]


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """How a document is turned into a vector and a signature."""

    title_weight: int = 2  # the headline says what the event is; count it twice
    max_terms: int = 40  # keeps vectors, centroids and posting lists small
    max_text_chars: int = 6000  # the lede carries the event; the tail adds noise and time


class DocumentFrequency:
    """Streaming document frequencies: the state behind every IDF weight."""

    __slots__ = ("counts", "docs")

    def __init__(self) -> None:
        self.docs = 0
        self.counts: dict[str, int] = {}

    def add(self, keys: set[str]) -> None:
        """Count one more document holding ``keys``."""
        self.docs += 1
        counts = self.counts
        for key in keys:
            counts[key] = counts.get(key, 0) + 1

    def idf(self, key: str) -> float:
        """Smoothed IDF, ``ln((N + 1) / (df + 0.5))``; an unseen key is the rarest."""
        return math.log((self.docs + 1) / (self.counts.get(key, 0) + 0.5))

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state."""
        return {"docs": self.docs, "counts": dict(self.counts)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DocumentFrequency:
        """Inverse of :meth:`to_state`."""
        df = cls()
        df.docs = int(state["docs"])
        df.counts = {str(k): int(v) for k, v in state["counts"].items()}
        return df


@dataclass(frozen=True, slots=True)
class DocFeatures:
    """A document's normalised term vector and its signature keys."""

    vector: dict[str, float]
    signature: frozenset[str]


def _signature(doc: StoryDoc, text: str) -> frozenset[str]:
    found = list(doc.names) or names(doc.title) + names(text)
    keys = {"n:" + fold(name) for name in found}
    keys.update("#:" + n for n in (doc.numbers or tuple(numbers(doc.title + " . " + text))))
    keys.update("l:" + link for link in doc.links)
    return frozenset(keys)


def doc_features(
    doc: StoryDoc, df: DocumentFrequency, options: FeatureOptions, *, learn: bool = True
) -> DocFeatures:
    """Vector and signature of ``doc``; with ``learn``, ``df`` counts it first.

    Counting the document before weighting it means a term never seen before
    gets a finite IDF, and replaying the same documents in the same order
    gives the same weights (the index is rebuildable).
    """
    text = doc.text[: options.max_text_chars]
    counts = Counter(terms(doc.title, doc.language) * options.title_weight)
    counts.update(terms(text, doc.language))
    signature = _signature(doc, text)
    if learn:
        df.add(set(counts) | signature)
    weights = {t: (1.0 + math.log(c)) * df.idf(t) for t, c in counts.items()}
    if len(weights) > options.max_terms:
        kept = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: options.max_terms]
        weights = dict(kept)
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return DocFeatures({t: w / norm for t, w in weights.items()}, signature)
