"""How well the knowledge base finds the right article for real customer questions.

For each ``text,category`` row (BANKING77's format), the query is searched and scored: hit@1
when the first article lists the row's label among its ``intents``, hit@3 when one of the first
three does. Latency is per query, one at a time, as in a chat (embedding included).

Two rankings are reported: by meaning alone (the Chroma index), and blended with an intent
model's probabilities when one is given (``--model DIR``) or trained for the run from a
training CSV (``--train CSV``, the fast profile) — never from the file being scored.
Self-contained: the index is built in a temporary folder unless one is given.
"""

from __future__ import annotations

import csv
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.index import KnowledgeBase, make_client


class IntentScorer(Protocol):
    """Probabilities per label for a batch of texts."""

    labels: list[str]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """One row of probabilities per text, columns in ``labels`` order."""
        ...


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(text, category)`` rows of a CSV; a clear error when it is not one."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with 'text' and 'category'")
        rows = [(r["text"].strip(), r["category"].strip()) for r in reader if r["text"].strip()]
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def score(
    kb: KnowledgeBase,
    rows: list[tuple[str, str]],
    *,
    scorer: IntentScorer | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """hit@1, hit@3, n and the median milliseconds per query over ``rows``."""
    hit1 = hit3 = 0
    spent: list[float] = []
    for i, (text, label) in enumerate(rows, 1):
        started = time.perf_counter()
        intents, vector = None, None
        if scorer is not None:
            # a fast-recipe model hands back the MiniLM vector it computed anyway: the index
            # is searched with it instead of encoding the query a second time
            analyse = getattr(scorer, "analyse", None)
            if analyse is not None:
                probs, vectors = analyse([text])
                vector = None if vectors is None else vectors[0]
            else:
                probs = scorer.predict_proba([text])
            intents = dict(zip(scorer.labels, (float(p) for p in probs[0]), strict=True))
        hits = kb.search(text, k=3, intent_scores=intents, vector=vector)
        spent.append((time.perf_counter() - started) * 1000)
        right = [label in kb.articles[h.article_id].intents for h in hits]
        hit1 += bool(right and right[0])
        hit3 += any(right)
        if progress is not None and (i % 50 == 0 or i == len(rows)):
            progress(50 if i % 50 == 0 else i % 50)
    n = len(rows)
    return {
        "hit_at_1": round(hit1 / n, 4),
        "hit_at_3": round(hit3 / n, 4),
        "n": n,
        "ms_per_query_p50": round(statistics.median(spent), 2),
    }


def run_knowledge_eval(
    data: Path,
    *,
    scorer: IntentScorer | None = None,
    workdir: Path | None = None,
    progress: Callable[[str, int | None], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Build the index (in ``workdir`` or a temporary folder) and score ``data``."""
    rows = read_rows(data)
    phase = progress or (lambda _label, _total: lambda _n: None)
    with tempfile.TemporaryDirectory(prefix="concierge-kb-") as tmp:
        kb = KnowledgeBase(make_client(var_dir=workdir or Path(tmp)))
        build = phase("build the knowledge index", None)
        started = time.perf_counter()
        kb.ensure_index(progress=lambda done, total: build(0))
        built = round(time.perf_counter() - started, 1)
        kb.search("warm up")  # the model's first call pays for loading it
        plain = score(kb, rows, progress=phase("search by meaning", len(rows)))
        out: dict[str, Any] = {**plain, "articles": len(kb.articles), "index_seconds": built}
        out["embedding_only"] = dict(plain)
        if scorer is not None:
            blended = score(kb, rows, scorer=scorer, progress=phase("blend intents", len(rows)))
            out |= blended
            out["with_intent_model"] = blended
        return out
