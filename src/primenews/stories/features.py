"""A document's vector and signature, weighted by a streaming IDF estimate.

* **Vector**: sublinear TF × IDF over :func:`~primenews.stories.text.terms`
  of title (counted ``title_weight`` times) and text, the ``max_terms``
  heaviest kept, L2-normalised. Comparable only within one language.
* **Signature**: language-independent keys — ``n:`` names, ``#:`` numbers,
  ``l:`` links, ``u:`` words of the URL slug (sites writing in Hindi or
  Arabic often still slug their URLs in English), ``p:`` the slugged folder
  of a live blog — each kept once per document.

:class:`DocumentFrequency` is the explicit state behind IDF: how many
documents have been seen and in how many each term or key occurred.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from primenews.stories.documents import StoryDoc
from primenews.stories.text import (
    background_share,
    fold,
    names,
    numbers,
    slug_words,
    stems,
    thread_path,
    words,
)

__all__ = ["DocFeatures", "DocumentFrequency", "FeatureOptions", "doc_features"]


@dataclass(frozen=True, slots=True)
class FeatureOptions:
    """How a document is turned into a vector and a signature."""

    title_weight: int = 2  # the headline says what the event is; count it twice
    max_terms: int = 40  # keeps vectors, centroids and posting lists small
    max_text_chars: int = 6000  # the lede carries the event; the tail adds noise and time
    slug_in_text: bool = True  # an English URL slug often says more than a one-line summary
    background_docs: int = 500  # weight, in documents, of the general word-frequency prior


class DocumentFrequency:
    """Streaming document frequencies, blended with a background prior: the IDF state.

    ``idf(k) = ln((N + B + 1) / (df(k) + B·share(k) + 0.5))`` where ``share``
    is the background share of documents holding the key (see
    :func:`~primenews.stories.text.background_share`) and ``B`` the weight of
    that prior in documents. Once the index has seen many more than ``B``
    documents its own counts decide.
    """

    __slots__ = ("background_docs", "counts", "docs", "shares")

    def __init__(self, background_docs: int = 500) -> None:
        self.background_docs = background_docs
        self.docs = 0
        self.counts: dict[str, int] = {}
        self.shares: dict[str, float] = {}  # background share, fixed when a key is first seen

    def add(self, keys: dict[str, float]) -> None:
        """Count one more document holding ``keys`` (key → its background share)."""
        self.docs += 1
        counts, shares = self.counts, self.shares
        for key, share in keys.items():
            count = counts.get(key)
            if count is None:
                counts[key] = 1
                if share > 0.0:
                    shares[key] = share
            else:
                counts[key] = count + 1

    def idf(self, key: str) -> float:
        """Smoothed, prior-blended IDF; an unseen key is the rarest."""
        prior = self.background_docs * self.shares.get(key, 0.0)
        total = self.docs + self.background_docs + 1
        return math.log(total / (self.counts.get(key, 0) + prior + 0.5))

    def weights(self, counts: dict[str, int]) -> dict[str, float]:
        """Sublinear TF × :meth:`idf` of each term: the same arithmetic, one call per document."""
        background, counted, shares = self.background_docs, self.counts, self.shares
        total = self.docs + background + 1
        return {
            key: (1.0 + math.log(count))
            * math.log(total / (counted.get(key, 0) + background * shares.get(key, 0.0) + 0.5))
            for key, count in counts.items()
        }

    def to_state(self) -> dict[str, Any]:
        """JSON-safe state."""
        return {
            "background_docs": self.background_docs,
            "docs": self.docs,
            "counts": dict(self.counts),
            "shares": dict(self.shares),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DocumentFrequency:
        """Inverse of :meth:`to_state`."""
        df = cls(int(state["background_docs"]))
        df.docs = int(state["docs"])
        df.counts = {str(k): int(v) for k, v in state["counts"].items()}
        df.shares = {str(k): float(v) for k, v in state["shares"].items()}
        return df


@dataclass(frozen=True, slots=True)
class DocFeatures:
    """A document's normalised term vector and its signature keys."""

    vector: dict[str, float]
    signature: frozenset[str]

    @property
    def thread(self) -> str:
        """The ``p:`` key of the live blog the document belongs to, or ""."""
        return next((k for k in self.signature if k.startswith("p:")), "")


def _title_names(title: str) -> list[str]:
    """Names in a headline, unless it is written in Title Case (then every word is one)."""
    tokens = [w for w in title.split() if w[:1].isalpha()]
    capitals = sum(1 for w in tokens if w[:1].isupper())
    return names(title) if capitals * 2 <= len(tokens) + 1 else []


def _signature(doc: StoryDoc, text: str) -> frozenset[str]:
    found = list(doc.names) or _title_names(doc.title) + names(text)
    keys = {"n:" + fold(name) for name in found}
    keys.update("#:" + n for n in (doc.numbers or tuple(numbers(doc.title + " . " + text))))
    keys.update("l:" + link for link in doc.links)
    keys.update("u:" + word for word in slug_words(doc.url))
    thread = thread_path(doc.url)
    if thread:
        keys.add("p:" + thread)
    return frozenset(keys)


def _term_counts(
    doc: StoryDoc, text: str, options: FeatureOptions
) -> tuple[Counter[str], dict[str, str]]:
    """Term counts (title counted ``title_weight`` times) and a surface word per term."""
    title_words, text_words = words(doc.title), words(text)
    title_terms, text_terms = stems(title_words, doc.language), stems(text_words, doc.language)
    counts = Counter(title_terms * options.title_weight)
    counts.update(text_terms)
    surface = dict(zip(text_terms, text_words, strict=True))
    if options.slug_in_text and doc.language in ("", "en"):
        slug = slug_words(doc.url)
        slug_terms = stems(slug, "en")
        counts.update(slug_terms)
        surface.update(zip(slug_terms, slug, strict=True))
    surface.update(zip(title_terms, title_words, strict=True))
    return counts, surface


def _background(key: str, language: str) -> float:
    kind, _, value = key.partition(":")
    if kind in ("#", "l", "p"):
        return 0.0
    return background_share(value, "en" if kind == "u" else language)


def doc_features(
    doc: StoryDoc, df: DocumentFrequency, options: FeatureOptions, *, learn: bool = True
) -> DocFeatures:
    """Vector and signature of ``doc``; with ``learn``, ``df`` counts it first.

    Counting the document before weighting it means a term never seen before
    gets a finite IDF, and replaying the same documents in the same order
    gives the same weights (the index is rebuildable).
    """
    text = doc.text[: options.max_text_chars]
    counts, surface = _term_counts(doc, text, options)
    signature = _signature(doc, text)
    if learn:
        language = doc.language or "en"
        keys = {t: background_share(surface[t], language) for t in counts if t not in df.counts}
        keys.update((t, 0.0) for t in counts if t not in keys)
        keys.update((k, _background(k, language) if k not in df.counts else 0.0) for k in signature)
        df.add(keys)
    weights = df.weights(counts)
    if len(weights) > options.max_terms:
        kept = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: options.max_terms]
        weights = dict(kept)
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return DocFeatures({t: w / norm for t, w in weights.items()}, signature)
