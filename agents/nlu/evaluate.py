"""Scoring an intent model on labelled utterances, one query at a time as in a chat."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np


class Classifier(Protocol):
    """Anything with ``predict(text) -> (label, confidence)`` and a ``train_seconds``."""

    train_seconds: float | None

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely label of ``text`` and its probability."""
        ...


def evaluate(
    model: Classifier,
    texts: list[str],
    labels: list[str],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-query latency of ``model`` on ``texts``.

    Each text is classified on its own (no batching), so ``ms_per_query_p50`` is the median
    time a chat turn waits for its intent. The first query is a warm-up and is not timed.

    Args:
        model: The classifier under test.
        texts: The utterances.
        labels: Their true labels (a label the model never saw counts as an error).
        progress: Told ``(done, total)`` after each query.

    Returns:
        ``accuracy``, ``macro_f1`` (over every label that is true or predicted at least once),
        ``n``, ``ms_per_query_p50`` and ``train_seconds`` (from the model, None if unknown).
    """
    from sklearn.metrics import f1_score

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("nothing to evaluate")
    model.predict(texts[0])  # warm-up: lazy initialisation, caches
    predicted: list[str] = []
    elapsed: list[float] = []
    for i, text in enumerate(texts):
        start = time.perf_counter()
        label, _ = model.predict(text)
        elapsed.append(time.perf_counter() - start)
        predicted.append(label)
        if progress is not None:
            progress(i + 1, len(texts))
    correct = sum(p == t for p, t in zip(predicted, labels, strict=True))
    macro = f1_score(labels, predicted, average="macro", zero_division=0)
    return {
        "accuracy": round(correct / len(texts), 4),
        "macro_f1": round(float(macro), 4),
        "n": len(texts),
        "ms_per_query_p50": round(float(np.median(elapsed)) * 1000.0, 2),
        "train_seconds": model.train_seconds,
    }
