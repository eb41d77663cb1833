"""Pairwise precision and recall of a clustering against the true one (record linkage)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def pairwise_scores(
    predicted: Mapping[str, Hashable | None], truth: Mapping[str, Hashable]
) -> dict[str, float | int]:
    """Precision, recall and F1 over all pairs of records that share a person.

    Args:
        predicted: record key -> the person it was resolved to (``None``: unresolved, alone).
        truth: record key -> the person it really is; only these records are scored.

    Returns:
        ``precision``, ``recall``, ``f1`` and the number of ``records`` scored.
    """
    labels = {key: predicted.get(key) for key in truth}
    # An unresolved record is a cluster of its own.
    cluster = {
        key: (label if label is not None else ("alone", key)) for key, label in labels.items()
    }
    together = Counter((cluster[key], truth[key]) for key in truth)
    true_positive = sum(_pairs(n) for n in together.values())
    predicted_pairs = sum(_pairs(n) for n in Counter(cluster.values()).values())
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "records": len(truth)}
