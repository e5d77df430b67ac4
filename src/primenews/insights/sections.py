"""Sections of an article: world, politics, business, technology and more (pure, numpy only).

One-vs-rest per label, each label with its own probability threshold; a
label's log-odds are a learnt mix of four linear models:

- logistic regression on TF-IDF over the words the model knows plus hashed
  word bigrams (sublinear counts, L2-normalised);
- naive Bayes on the presence of the same features;
- logistic regression on character 2- to 5-grams, fastText-style: each
  word is a unit vector of its hashed n-grams and the document the sum of
  its words' vectors weighted by their TF-IDF, so a word's contribution is
  one score per label: shipped for known words, computed (and cached) for
  unseen spellings and word forms;
- logistic regression on the mean GloVe vector (6B, 50d: Wikipedia and
  Gigaword newswire) of the words GloVe knows. A linear layer over a mean of
  vectors is the mean of the per-word products, so the model ships one
  score per word and label (GloVe's 100,000 most frequent words, most of
  them never seen in training) instead of the vectors.

All of it is linear per word, so classifying is a few look-ups and sums;
only the text's first words are read (``max_tokens``).

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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zlib import crc32

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
CHARS_PER_TOKEN = 12  # text read per allowed token: English averages under 7 with the space
CHAR_CACHE_SIZE = 200_000  # unknown words whose character score is kept
# Below this much text the model is not asked: one word ("ok", "Hello") is a
# single L2-normalised feature at full weight, which passes thresholds by
# chance. An article needs MIN_TOKENS distinct words, MIN_CONTENT_WORDS of
# them known and not function words (IDF at least MIN_CONTENT_IDF: "the"
# is 1.2, "said" 2.2, "apple" 5.3), for its text to name a section.
MIN_TOKENS = 3
MIN_CONTENT_WORDS = 2
MIN_CONTENT_IDF = 2.0
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
    vocabulary's words, then ``n_buckets`` hashed bigrams.
    ``char_word_scores`` (each known word's character n-gram score,
    ``word_char_vector · char_weights``) has one row per vocabulary word;
    ``char_weights`` one row per n-gram bucket; ``glove_scores`` (the folded
    GloVe model) one row per word of ``glove_vocab``. All have one column
    per label, already mixed by the stacking weights.
    """

    labels: tuple[str, ...]
    vocab: Mapping[str, int]
    n_buckets: int
    idf: FloatArray
    tfidf_weights: FloatArray
    presence_weights: FloatArray
    bias: FloatArray
    thresholds: FloatArray
    char_idf: FloatArray
    char_weights: FloatArray
    char_word_scores: FloatArray
    unknown_idf: float  # the IDF of a word outside the vocabulary (seen once or never)
    max_tokens: int = 600
    title_repeat: int = 1  # the title's words count this many times
    hint_logit: float = 2.0
    info: Mapping[str, Any] | None = None
    # GloVe's words: word -> row of ``glove_scores`` (a vocabulary of its own)
    glove_vocab: Mapping[str, int] = field(default_factory=dict)
    glove_scores: FloatArray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    # unknown word -> its character n-gram score per label; filled as words are met
    char_cache: dict[str, FloatArray] = field(default_factory=dict, compare=False)


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
        bias=tensors["bias"],
        thresholds=tensors["thresholds"],
        char_idf=tensors["char_idf"],
        char_weights=tensors["char_weights"],
        char_word_scores=tensors["char_word_scores"],
        unknown_idf=float(meta["unknown_idf"]),
        max_tokens=int(meta["max_tokens"]),
        title_repeat=int(meta.get("title_repeat", 1)),
        hint_logit=float(meta["hint_logit"]),
        info=meta.get("info"),
        glove_vocab={word: i for i, word in enumerate(meta["glove_vocab"])},
        glove_scores=tensors["glove_scores"],
    )


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens with accents folded (``Nicolás`` → ``nicolas``)."""
    text = text.lower()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    return _TOKEN.findall(text)


def document_tokens(title: str, text: str, max_tokens: int, title_repeat: int = 1) -> list[str]:
    """The title's tokens ``title_repeat`` times, then the text's; at most ``max_tokens``.

    Only the text's first ``max_tokens * CHARS_PER_TOKEN`` characters are read:
    the words past the cut are dropped anyway, and a long article's tail costs
    time without changing its section.
    """
    head = text[: max_tokens * CHARS_PER_TOKEN]
    return (tokenize(title) * title_repeat + tokenize(head))[:max_tokens]


def word_ids(tokens: Iterable[str], vocab: Mapping[str, int]) -> NDArray[np.int64]:
    """Vocabulary ids of ``tokens``, -1 for an unknown word."""
    return np.fromiter(map(vocab.get, tokens, repeat(-1)), dtype=np.int64)


def bigram_buckets(ids: NDArray[np.int64], vocab_size: int, n_buckets: int) -> NDArray[np.int64]:
    """Feature ids (after the vocabulary's) of the bigrams of two known words, repeats kept."""
    first, second = ids[:-1], ids[1:]
    both = (first >= 0) & (second >= 0)
    return (first[both] * BIGRAM_PRIME + second[both]) % n_buckets + vocab_size


def word_char_vector(token: str, char_idf: FloatArray) -> tuple[NDArray[np.int64], FloatArray]:
    """A word's character n-grams as a unit vector: (CRC-32 buckets, n-gram count × IDF).

    The n-grams are the 2- to 5-grams of the word padded as ``<word>`` (cut at
    ``CHAR_MAX_WORD`` characters); CRC-32 keeps the buckets stable across runs.
    """
    padded = f"<{token[:CHAR_MAX_WORD]}>"
    grams = [padded[i : i + n] for n in CHAR_NGRAMS for i in range(len(padded) - n + 1)]
    n_buckets = char_idf.size
    ids = np.fromiter((crc32(g.encode()) % n_buckets for g in grams), np.int64, len(grams))
    unique, counts = np.unique(ids, return_counts=True)
    values = counts * char_idf[unique]
    return unique, (values / np.sqrt(values @ values)).astype(np.float32)


def document_features(
    tokens: Sequence[str], vocab: Mapping[str, int], n_buckets: int
) -> tuple[list[str], FloatArray, NDArray[np.int64], NDArray[np.int64], FloatArray]:
    """What every channel reads from one document's tokens.

    Returns:
        (distinct tokens, their counts, their vocabulary ids (-1 unknown),
        distinct feature ids — known words, then bigram buckets — and those
        features' counts).
    """
    counts = Counter(tokens)
    distinct = list(counts)
    token_counts = np.fromiter(counts.values(), np.float32, len(distinct))
    distinct_ids = word_ids(distinct, vocab)
    known = distinct_ids >= 0
    bigrams, bigram_counts = np.unique(
        bigram_buckets(word_ids(tokens, vocab), len(vocab), n_buckets), return_counts=True
    )
    features = np.concatenate([distinct_ids[known], bigrams])
    feature_counts = np.concatenate([token_counts[known], bigram_counts.astype(np.float32)])
    return distinct, token_counts, distinct_ids, features, feature_counts


def tfidf_values(counts: FloatArray, idf: FloatArray) -> FloatArray:
    """Sublinear TF-IDF of counts ≥ 1, L2-normalised: ``(1 + ln count) × idf / norm``."""
    values = (1.0 + np.log(counts)) * idf
    norm = float(np.sqrt(values @ values))
    return (values / norm if norm > 0 else values).astype(np.float32)


def char_scores(model: SectionModel, tokens: Sequence[str], ids: NDArray[np.int64]) -> FloatArray:
    """Every distinct token's character n-gram score per label (rows of ``ids`` order).

    Known words read theirs from ``model.char_word_scores``; an unknown word's
    is computed from its n-grams once and cached on the model (bounded).
    """
    scores = model.char_word_scores[np.maximum(ids, 0)]
    cache = model.char_cache
    for row in np.flatnonzero(ids < 0):
        token = tokens[int(row)]
        score = cache.get(token)
        if score is None:
            grams, values = word_char_vector(token, model.char_idf)
            score = values @ model.char_weights[grams]
            if len(cache) < CHAR_CACHE_SIZE:  # a stream of odd tokens must not grow it forever
                cache[token] = score
        scores[row] = score
    return scores


def glove_weights(
    counts: FloatArray,
    ids: NDArray[np.int64],
    idf: FloatArray,
    unknown_idf: float,
    in_glove: NDArray[np.bool_],
) -> FloatArray:
    """Weights of the GloVe words of a document: sublinear TF × IDF, summing to 1.

    ``counts`` and ``ids`` are the distinct tokens' counts and vocabulary ids
    (-1 unknown: IDF ``unknown_idf``); ``in_glove`` picks the ones GloVe knows.
    """
    token_idf = np.where(ids[in_glove] >= 0, idf[np.maximum(ids[in_glove], 0)], unknown_idf)
    weights = (1.0 + np.log(counts[in_glove])) * token_idf
    return np.asarray(weights / weights.sum(), dtype=np.float32)


def section_logits(model: SectionModel, title: str, text: str) -> FloatArray:
    """Per-label log-odds from the text alone (no hints)."""
    return _read_text(model, title, text)[0]


def _read_text(model: SectionModel, title: str, text: str) -> tuple[FloatArray, bool]:
    """(per-label log-odds, whether the text has enough words to name a section)."""
    tokens = document_tokens(title, text, model.max_tokens, model.title_repeat)
    distinct, counts, ids, features, feature_counts = document_features(
        tokens, model.vocab, model.n_buckets
    )
    known = ids >= 0
    content = int(np.count_nonzero(model.idf[ids[known]] >= MIN_CONTENT_IDF))
    enough = len(distinct) >= MIN_TOKENS and content >= MIN_CONTENT_WORDS
    logits = model.bias.copy()
    if features.size:
        values = tfidf_values(feature_counts, model.idf[features])
        logits += values @ model.tfidf_weights[features]
        logits += model.presence_weights[features].sum(axis=0)
    if distinct:
        idf = np.where(known, model.idf[np.maximum(ids, 0)], model.unknown_idf)
        logits += tfidf_values(counts, idf) @ char_scores(model, distinct, ids)
        glove_ids = word_ids(distinct, model.glove_vocab)
        in_glove = glove_ids >= 0
        if in_glove.any():
            weights = glove_weights(counts, ids, model.idf, model.unknown_idf, in_glove)
            logits += weights @ model.glove_scores[glove_ids[in_glove]]
    return np.asarray(logits, dtype=np.float32), enough


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
        At least one label when the text says enough (``MIN_TOKENS`` words,
        ``MIN_CONTENT_WORDS`` of them known content words): the labels past
        their thresholds, else the one least short of its threshold. For an
        empty or near-empty text ("", "ok", "Hello"), the hinted labels alone
        (none without hints): a word or two is no evidence of a section.
        ``scores`` holds every label's probability, rounded to 4 places.
    """
    model = model or load_model()
    logits, enough = _read_text(model, title, text)
    hinted = hinted_labels(hints) if hints else frozenset()
    for i, label in enumerate(model.labels):
        if label in hinted:
            logits[i] += model.hint_logit
    probs = 1.0 / (1.0 + np.exp(-logits))
    if enough:
        chosen = [lb for i, lb in enumerate(model.labels) if probs[i] >= model.thresholds[i]]
        chosen = chosen or [model.labels[int(np.argmax(probs - model.thresholds))]]
    else:  # too little to read: the publisher's word is all there is
        chosen = [label for label in model.labels if label in hinted]
    scores = {label: round(float(p), 4) for label, p in zip(model.labels, probs, strict=True)}
    return SectionResult(labels=tuple(chosen), scores=scores)
