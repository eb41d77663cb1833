"""How well the knowledge base finds the right article for real customer questions.

For each ``text,category`` row (BANKING77's format), the query is searched and scored: hit@1
when the first article lists the row's label among its ``intents``, hit@3 when one of the first
three does. Latency is per query, one at a time, as in a chat (embedding included).

The headline figures (``hit_at_1``, ``hit_at_3``, ``ms_per_query_p50``) are the chat's own
path: the knowledge base :func:`app.bootstrap.knowledge_base` builds from the settings, searched
as the chat's ``search_knowledge`` tool searches it (:func:`tools.read.knowledge_answer`), so
they are what customers get. Its question model learns from the articles' phrasings and the
question log given (``questions``), and is built (or loaded from ``workdir``) before the clock
starts, as the app builds it at start-up.
Beside them, ``embedding_only`` ranks by meaning alone, and ``with_intent_model`` blends an
intent model's probabilities instead of the question model's when one is given (``--model
DIR``) or trained for the run (``--train CSV``, the fast profile) — never from the file being
scored. Self-contained: the index is built in a temporary folder unless one is given.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.index import KnowledgeBase
from knowledge.questions import QuestionLogError, read_questions


class IntentScorer(Protocol):
    """Probabilities per label for a batch of texts."""

    labels: list[str]

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """One row of probabilities per text, columns in ``labels`` order."""
        ...


# The search a ranking mode runs for one query: the article ids found, best first.
Search = Callable[[str], list[str]]


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(text, category)`` rows of a CSV; a clear error when it is not one."""
    try:
        return read_questions(path)
    except QuestionLogError as exc:
        raise ValueError(str(exc)) from None


def chat_search(kb: KnowledgeBase) -> Search:
    """The chat's own knowledge search: what its ``search_knowledge`` tool answers from ``kb``."""
    from tools.read import knowledge_answer

    def search(text: str) -> list[str]:
        return [hit["article_id"] for hit in knowledge_answer(kb, text)["hits"]]

    return search


def blended_search(kb: KnowledgeBase, scorer: IntentScorer) -> Search:
    """The index searched with an intent model's probabilities instead of the question model's."""

    def search(text: str) -> list[str]:
        # a fast-recipe model hands back the MiniLM vector it computed anyway: the index is
        # searched with it instead of encoding the query a second time
        analyse = getattr(scorer, "analyse", None)
        vector = None
        if analyse is not None:
            probs, vectors = analyse([text])
            vector = None if vectors is None else vectors[0]
        else:
            probs = scorer.predict_proba([text])
        intents = dict(zip(scorer.labels, (float(p) for p in probs[0]), strict=True))
        return [h.article_id for h in kb.search(text, k=3, intent_scores=intents, vector=vector)]

    return search


def score(
    kb: KnowledgeBase,
    rows: list[tuple[str, str]],
    *,
    search: Search | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """hit@1, hit@3, n and the median milliseconds per query over ``rows``.

    ``search`` is the ranking measured; the chat's own (:func:`chat_search`) by default.
    """
    find = search or chat_search(kb)
    hit1 = hit3 = 0
    spent: list[float] = []
    for i, (text, label) in enumerate(rows, 1):
        started = time.perf_counter()
        found = find(text)
        spent.append((time.perf_counter() - started) * 1000)
        right = [label in kb.articles[article_id].intents for article_id in found]
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
    questions: Path | None = None,
    scorer: IntentScorer | None = None,
    workdir: Path | None = None,
    progress: Callable[[str, int | None], Callable[[int], None]] | None = None,
) -> dict[str, Any]:
    """Build the chat's knowledge base (in ``workdir`` or a temporary folder) and score ``data``.

    Args:
        data: The ``text,category`` CSV scored.
        questions: The question log the chat's question model learns from, as
            ``CONCIERGE_KNOWLEDGE_QUESTIONS`` gives it to the app; the articles alone when None.
        scorer: An intent model to blend in instead, reported as ``with_intent_model``.
        workdir: Where the index and the question model are kept between runs.
        progress: A phase reporter (:mod:`app.progress`).
    """
    from app.bootstrap import knowledge_base
    from services.settings import Settings

    rows = read_rows(data)
    if questions is not None:
        if questions.resolve() == data.resolve():
            raise ValueError("the question log must not be the file being scored")
        read_rows(questions)  # refused here: the app would fall back to the articles alone
    phase = progress or (lambda _label, _total: lambda _n: None)
    with tempfile.TemporaryDirectory(prefix="concierge-kb-") as tmp:
        settings = Settings(
            _env_file=None,
            var_dir=workdir or Path(tmp),
            knowledge_questions=questions,
        )
        kb = knowledge_base(settings)
        build = phase("build the knowledge index", None)
        started = time.perf_counter()
        kb.ensure_index(progress=lambda done, total: build(0))
        built = round(time.perf_counter() - started, 1)
        phase("build the question model", None)
        started = time.perf_counter()
        model = kb.questions
        model_seconds = round(time.perf_counter() - started, 1)
        kb.search("warm up")  # the encoder's first call pays for loading it
        chat = score(kb, rows, progress=phase("search through the chat", len(rows)))
        plain_kb = KnowledgeBase(kb.client, list(kb.articles.values()), questions=False)
        plain = score(
            plain_kb,
            rows,
            search=lambda text: [h.article_id for h in plain_kb.search(text, k=3)],
            progress=phase("search by meaning", len(rows)),
        )
        out: dict[str, Any] = {
            **chat,
            "articles": len(kb.articles),
            "index_seconds": built,
            "through_chat": dict(chat),
            "question_model": {
                "log": None if questions is None else questions.name,
                "n_train": 0 if model is None else model.n_train,
                "labels": 0 if model is None else len(model.labels),
                "seconds": model_seconds,
            },
            "embedding_only": plain,
        }
        if scorer is not None:
            out["with_intent_model"] = score(
                plain_kb,
                rows,
                search=blended_search(plain_kb, scorer),
                progress=phase("blend an intent model", len(rows)),
            )
        return out
