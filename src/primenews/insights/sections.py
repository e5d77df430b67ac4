"""Sections of an article: world, politics, business, technology and more (pure, numpy only).

One-vs-rest per label, each label with its own probability threshold; a
label's log-odds are a learnt mix of four linear models:

- logistic regression on TF-IDF over the words the model knows plus hashed
  word bigrams (sublinear counts, L2-normalised);
- naive Bayes on the presence of the same features;
- logistic regression on the mean of static word vectors distilled from
  all-MiniLM-L6-v2. A linear layer over a mean of vectors is the mean of
  the per-word products, so the model ships one score per word and label
  instead of the vectors.
- logistic regression on TF-IDF over hashed character 2- to 5-grams of the
  words (so unseen spellings and word forms still count).

The publisher's own sections (URL path segments like ``/world/``, feed
categories, ``article:section``) are hints: each label they name gets a
fixed bonus on the log-odds before the thresholds apply.

    >>> result = classify_sections("Stocks fall as oil climbs", "Wall Street ...")
    >>> result.labels
    ('business',)

The model is trained by :mod:`primenews.insights.sections_train` and ships as
``insights/models/sections.npz`` + ``sections.json`` (no pickle).
"""

from __future__ import annotations

import json
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

from primenews.domain import Article

LABELS = ("world", "politics", "business", "technology", "sport", "science", "health", "culture")
MAIN_LABELS = LABELS[:4]
MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_NAME = "sections"
BIGRAM_PRIME = 1_000_003  # mixes two word ids into a bucket; fixed: the model depends on it
CHAR_NGRAMS = range(2, 6)  # character 2- to 5-grams of each word padded as "<word>"
CHAR_MAX_WORD = 24  # longer tokens (URLs, codes) are cut before their n-grams are taken
HINT_WORDS: Mapping[str, tuple[str, ...]] = {
    "world": (
        "world",
        "international",
        "global",
        "foreign",
        "worldnews",
        "europe",
        "asia",
        "africa",
        "americas",
        "middleeast",
        "middle-east",
        "latin-america",
    ),
    "politics": ("politics", "political", "election", "elections", "government", "policy"),
    "business": (
        "business",
        "economy",
        "economics",
        "markets",
        "market",
        "money",
        "finance",
        "financial",
        "companies",
        "industry",
        "personal-finance",
    ),
    "technology": (
        "technology",
        "tech",
        "sci-tech",
        "scitech",
        "digital",
        "internet",
        "gadgets",
        "computing",
        "innovation",
    ),
    "sport": (
        "sport",
        "sports",
        "football",
        "soccer",
        "cricket",
        "rugby",
        "tennis",
        "golf",
        "formula1",
        "f1",
        "nba",
        "nfl",
        "olympics",
        "athletics",
    ),
    "science": ("science", "sci-tech", "scitech", "space", "environment", "climate"),
    "health": ("health", "wellness", "medicine", "wellbeing"),
    "culture": (
        "culture",
        "entertainment",
        "arts",
        "books",
        "music",
        "film",
        "films",
        "movies",
        "tv",
        "television",
        "celebrity",
        "showbiz",
        "lifestyle",
    ),
}
_HINT_LOOKUP = {word: label for label, words in HINT_WORDS.items() for word in words}
_TOKEN = re.compile(r"\w+")
# the Unicode blocks of combining diacritical marks: what accent folding drops
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

FloatArray = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SectionHints:
    """What the publisher says about an article's section, before we read its text."""

    url: str = ""  # the article's URL; its path segments (not the slug) are read
    categories: tuple[str, ...] = ()  # feed categories, tags
    section: str = ""  # ``article:section`` or a breadcrumb


@dataclass(frozen=True, slots=True)
class SectionResult:
    """The labels an article gets and every label's probability (0..1)."""

    labels: tuple[str, ...]
    scores: dict[str, float]


@dataclass(frozen=True, slots=True)
class SectionModel:
    """A trained model: vocabulary, IDF, per-label weights, biases and thresholds.

    ``tfidf_weights`` (on TF-IDF values) and ``presence_weights`` (naive
    Bayes log-count ratios, on 0/1 presence) have one row per feature: the
    vocabulary's words, then ``n_buckets`` hashed bigrams; ``word_scores``
    one row per vocabulary word (the folded word vectors); all one column
    per label, already weighted by the label's stacking weights.
    """

    labels: tuple[str, ...]
    vocab: Mapping[str, int]
    n_buckets: int
    idf: FloatArray
    tfidf_weights: FloatArray
    presence_weights: FloatArray
    word_scores: FloatArray
    bias: FloatArray
    thresholds: FloatArray
    char_idf: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    char_weights: FloatArray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    max_tokens: int = 600
    title_repeat: int = 1  # the title's words count this many times
    hint_logit: float = 2.0
    info: Mapping[str, Any] | None = None
    # word -> its character n-gram buckets; a cache, filled as words are met
    char_cache: dict[str, NDArray[np.int64]] = field(default_factory=dict, compare=False)


def load_model(directory: Path | None = None) -> SectionModel:
    """Load the model shipped in the package (or one in ``directory``), once.

    Raises:
        FileNotFoundError: the model files are not there.
    """
    return _load_model_cached(str(directory or MODEL_DIR))


@lru_cache(maxsize=4)
def _load_model_cached(directory: str) -> SectionModel:
    path = Path(directory)
    meta = json.loads((path / f"{MODEL_NAME}.json").read_text(encoding="utf-8"))
    with np.load(path / f"{MODEL_NAME}.npz", allow_pickle=False) as arrays:
        tensors = {name: arrays[name].astype(np.float32) for name in arrays.files}
    words: list[str] = meta["vocab"]
    return SectionModel(
        labels=tuple(meta["labels"]),
        vocab={word: i for i, word in enumerate(words)},
        n_buckets=int(meta["n_buckets"]),
        idf=tensors["idf"],
        tfidf_weights=tensors["tfidf_weights"],
        presence_weights=tensors["presence_weights"],
        word_scores=tensors["word_scores"],
        bias=tensors["bias"],
        thresholds=tensors["thresholds"],
        char_idf=tensors.get("char_idf", np.zeros(0, dtype=np.float32)),
        char_weights=tensors.get("char_weights", np.zeros((0, 0), dtype=np.float32)),
        max_tokens=int(meta["max_tokens"]),
        title_repeat=int(meta.get("title_repeat", 1)),
        hint_logit=float(meta["hint_logit"]),
        info=meta.get("info"),
    )


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with accents folded (``Nicolás`` → ``nicolas``)."""
    text = text.lower()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return _TOKEN.findall(text)


def document_tokens(title: str, text: str, max_tokens: int, title_repeat: int = 1) -> list[str]:
    """The title's tokens ``title_repeat`` times, then the text's; at most ``max_tokens``."""
    return (tokenize(title) * title_repeat + tokenize(text))[:max_tokens]


def word_ids(tokens: Iterable[str], vocab: Mapping[str, int]) -> NDArray[np.int64]:
    """Vocabulary ids of ``tokens``, -1 for an unknown word."""
    get = vocab.get
    return np.fromiter((get(t, -1) for t in tokens), dtype=np.int64)


def feature_ids(ids: NDArray[np.int64], vocab_size: int, n_buckets: int) -> NDArray[np.int64]:
    """Known word ids followed by the bucket ids of bigrams of two known words."""
    first, second = ids[:-1], ids[1:]
    both = (first >= 0) & (second >= 0)
    buckets = (first[both] * BIGRAM_PRIME + second[both]) % n_buckets + vocab_size
    return np.concatenate([ids[ids >= 0], buckets])


def char_ngram_ids(token: str, n_buckets: int) -> NDArray[np.int64]:
    """Hashed buckets (CRC-32, stable across runs) of a word's character n-grams."""
    padded = f"<{token[:CHAR_MAX_WORD]}>"
    grams = [padded[i : i + n] for n in CHAR_NGRAMS for i in range(len(padded) - n + 1)]
    return np.fromiter(
        (zlib.crc32(g.encode()) % n_buckets for g in grams), dtype=np.int64, count=len(grams)
    )


def char_features(
    tokens: Iterable[str], n_buckets: int, cache: dict[str, NDArray[np.int64]]
) -> NDArray[np.int64]:
    """The character n-gram buckets of every token (repeats kept), via ``cache``."""
    parts = []
    for token in tokens:
        ids = cache.get(token)
        if ids is None:
            ids = char_ngram_ids(token, n_buckets)
            if len(cache) < 500_000:  # bounded: a stream of odd tokens must not grow it forever
                cache[token] = ids
        parts.append(ids)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def char_tfidf(
    tokens: Iterable[str], idf: FloatArray, cache: dict[str, NDArray[np.int64]]
) -> tuple[NDArray[np.int64], FloatArray]:
    """``tfidf_vector(char_features(tokens, …), idf)``, reading each distinct word once."""
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    parts = []
    for token in counts:
        grams = cache.get(token)
        if grams is None:
            grams = char_features((token,), idf.size, cache)
        parts.append(grams)
    ids = np.concatenate(parts)
    weights = np.repeat(np.fromiter(counts.values(), dtype=np.float64), [p.size for p in parts])
    unique, inverse = np.unique(ids, return_inverse=True)
    tf = np.bincount(inverse, weights=weights)
    values = ((1.0 + np.log(tf)) * idf[unique]).astype(np.float32)
    norm = float(np.sqrt(values @ values))
    return unique, values / norm if norm > 0 else values


def tfidf_vector(
    features: NDArray[np.int64], idf: FloatArray
) -> tuple[NDArray[np.int64], FloatArray]:
    """Sparse TF-IDF of one document: (feature ids, L2-normalised values)."""
    if features.size == 0:
        return features, np.zeros(0, dtype=np.float32)
    unique, counts = np.unique(features, return_counts=True)
    values = (1.0 + np.log(counts.astype(np.float32))) * idf[unique]
    norm = float(np.sqrt(values @ values))
    return unique, (values / norm if norm > 0 else values).astype(np.float32)


def section_logits(model: SectionModel, title: str, text: str) -> FloatArray:
    """Per-label log-odds from the text alone (no hints)."""
    tokens = document_tokens(title, text, model.max_tokens, model.title_repeat)
    ids = word_ids(tokens, model.vocab)
    features = feature_ids(ids, len(model.vocab), model.n_buckets)
    unique, values = tfidf_vector(features, model.idf)
    logits = model.bias + values @ model.tfidf_weights[unique]
    logits = logits + model.presence_weights[unique].sum(axis=0)
    known = ids[ids >= 0]
    if known.size:
        logits = logits + model.word_scores[known].mean(axis=0)
    if model.char_idf.size:
        unique, values = char_tfidf(tokens, model.char_idf, model.char_cache)
        logits = logits + values @ model.char_weights[unique]
    return np.asarray(logits, dtype=np.float32)


def hinted_labels(hints: SectionHints) -> frozenset[str]:
    """The labels the publisher's own sections name.

    URL: every path segment but the last (the slug), unless the path ends in
    ``/``. Categories and ``section``: the whole value and each of its words.
    """
    path = urlsplit(hints.url).path if hints.url else ""
    segments = path.split("/")
    if segments and not path.endswith("/"):
        segments = segments[:-1]
    names = [s.lower() for s in segments if s]
    for value in (*hints.categories, hints.section):
        lowered = value.strip().lower()
        if lowered:
            names.append(lowered.replace(" ", "-"))
            names.extend(re.findall(r"[a-z0-9]+", lowered))
    return frozenset(_HINT_LOOKUP[n] for n in names if n in _HINT_LOOKUP)


def hints_from_article(article: Article) -> SectionHints:
    """Hints from an extracted article: its URL, ``article:section`` and tags."""
    return SectionHints(
        url=article.url or article.fetched_url, categories=article.tags, section=article.section
    )


def classify_sections(
    title: str,
    text: str,
    hints: SectionHints | None = None,
    model: SectionModel | None = None,
) -> SectionResult:
    """The sections of one article: every label whose probability passes its threshold.

    Args:
        title: the headline (may be empty).
        text: the article text (may be empty; then the title and hints decide).
        hints: the publisher's own sections; each named label gets
            ``model.hint_logit`` added to its log-odds.
        model: defaults to the shipped model (:func:`load_model`).

    Returns:
        At least one label when there is any text (the one furthest past, or
        least short of, its threshold); for an empty article, the hinted
        labels that pass, else all hinted labels (none without hints).
        ``scores`` holds every label's probability, rounded to 4 places.
    """
    model = model or load_model()
    logits = section_logits(model, title, text)
    hinted = hinted_labels(hints) if hints else frozenset()
    for i, label in enumerate(model.labels):
        if label in hinted:
            logits[i] += model.hint_logit
    probs = 1.0 / (1.0 + np.exp(-logits))
    chosen = [label for i, label in enumerate(model.labels) if probs[i] >= model.thresholds[i]]
    if not chosen and (title.strip() or text.strip()):
        chosen = [model.labels[int(np.argmax(probs - model.thresholds))]]
    elif not chosen:  # nothing to read: the publisher's word is all there is
        chosen = [label for label in model.labels if label in hinted]
    scores = {label: round(float(p), 4) for label, p in zip(model.labels, probs, strict=True)}
    return SectionResult(labels=tuple(chosen), scores=scores)
