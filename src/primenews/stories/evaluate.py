"""Scores of a clustering against gold labels: B-cubed, pairwise F1, NMI.

Used by ``bench/clustering.py`` and by the quality-gate tests. Both inputs are
parallel sequences of labels (any hashable), one per item.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["ClusterScores", "mixed_clusters", "score_clustering"]


@dataclass(frozen=True, slots=True)
class ClusterScores:
    """B-cubed precision/recall/F1, pairwise precision/recall/F1 and NMI."""

    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    nmi: float
    items: int
    gold_clusters: int
    predicted_clusters: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _nmi(joint: Counter[tuple[Hashable, Hashable]], gold: Counter[Hashable],
         pred: Counter[Hashable], n: int) -> float:  # fmt: skip
    """Mutual information over the arithmetic mean of the entropies (scikit-learn's default)."""
    mutual = sum(c / n * math.log(c * n / (gold[g] * pred[p])) for (g, p), c in joint.items())
    h_gold = -sum(c / n * math.log(c / n) for c in gold.values())
    h_pred = -sum(c / n * math.log(c / n) for c in pred.values())
    if h_gold + h_pred == 0:
        return 1.0
    return max(0.0, 2 * mutual / (h_gold + h_pred))


def score_clustering(gold: Sequence[Hashable], predicted: Sequence[Hashable]) -> ClusterScores:
    """Score ``predicted`` against ``gold`` (same length, same item order)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    n = len(gold)
    if n == 0:
        raise ValueError("nothing to score")
    joint = Counter(zip(gold, predicted, strict=True))
    gold_sizes, pred_sizes = Counter(gold), Counter(predicted)
    b_precision = sum(c * c / pred_sizes[p] for (_, p), c in joint.items()) / n
    b_recall = sum(c * c / gold_sizes[g] for (g, _), c in joint.items()) / n
    same = sum(c * (c - 1) / 2 for c in joint.values())
    pred_pairs = sum(c * (c - 1) / 2 for c in pred_sizes.values())
    gold_pairs = sum(c * (c - 1) / 2 for c in gold_sizes.values())
    p_precision = same / pred_pairs if pred_pairs else 1.0
    p_recall = same / gold_pairs if gold_pairs else 1.0
    return ClusterScores(
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=_f1(b_precision, b_recall),
        pairwise_precision=p_precision,
        pairwise_recall=p_recall,
        pairwise_f1=_f1(p_precision, p_recall),
        nmi=_nmi(joint, gold_sizes, pred_sizes, n),
        items=n,
        gold_clusters=len(gold_sizes),
        predicted_clusters=len(pred_sizes),
    )


def mixed_clusters(
    gold: Sequence[Hashable], predicted: Sequence[Hashable], *, multi_only: bool = False
) -> list[tuple[Hashable, tuple[Hashable, ...]]]:
    """Predicted clusters that hold items of two or more gold events.

    With ``multi_only``, only gold events of two or more items count (a
    singleton wrongly joining a story is then not a "merge of two events").
    """
    gold_sizes = Counter(gold)
    events: dict[Hashable, dict[Hashable, None]] = {}
    for g, p in zip(gold, predicted, strict=True):
        if multi_only and gold_sizes[g] < 2:
            continue
        events.setdefault(p, {})[g] = None
    return [(p, tuple(gs)) for p, gs in events.items() if len(gs) > 1]
