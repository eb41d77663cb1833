"""The question model: which article a customer's question is about, learned from questions.

Search by meaning alone finds the right article first for about seven questions in ten: a
question is often closer to a neighbouring article's words than to the answering one's. The
question model learns how customers ask about each article instead, from

* the articles' own phrasings: each article's title with its opening paragraph and each of its
  "ways customers ask", labelled with the article's topic (its first ``intents`` label, or its
  id when it lists none), so a fresh install has a model with no data beyond the articles; and
* when the bank has them, its question logs: a ``text,category`` CSV
  (``CONCIERGE_KNOWLEDGE_QUESTIONS``) whose categories are the articles' ``intents`` labels or
  article ids. A category that no article lists stays a label of its own, so a question about
  something the articles do not cover lends its weight to no article.

It is one linear SVM over word and character TF-IDF beside the question's MiniLM vector (the
very vector the index is searched with, so a query is encoded once), its scores turned into
probabilities by a softmax. The knowledge index adds ``BLEND_WEIGHT`` times an article's best
probability among its labels to the article's similarity (:func:`knowledge.index.rank_articles`).

A built model is plain data (JSON and ``.npz`` read without pickle) kept under
``var/knowledge/questions-<digest>``, the digest taken over the recipe, the encoder and every
training text with its label, so a start-up loads it and builds again only when the articles,
the logs or the recipe change.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "concierge-questions/1"
METADATA, LEXICAL, WEIGHTS = "metadata.json", "lexical.json", "weights.npz"
# How much the model's best probability for an article counts beside the article's cosine
# similarity. Chosen with the recipe on a stratified 15% held-out part of BANKING77's train.csv
# (seed 0; never its test set), searching by exact cosine: by meaning alone hit@1 0.702, hit@3
# 0.903; articles' phrasings only 0.762 / 0.928; with the other 85% as the question log
# 0.930 / 0.980.
BLEND_WEIGHT = 4.0

Encode = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Recipe:
    """How the question model is trained (recorded in its metadata and its digest).

    Attributes:
        svm_c: Regularisation of the linear SVM.
        embedding_weight: How much the MiniLM vector counts beside the TF-IDF parts.
        temperature: Scores are multiplied by this before the softmax.
    """

    svm_c: float = 0.5
    embedding_weight: float = 2.0
    temperature: float = 4.0


RECIPE = Recipe()
# Word unigrams and bigrams catch phrasing; character 2- to 5-grams inside word boundaries
# catch typos and inflections ("transfered", "top-up").
# A character n-gram seen once in a large training set is noise: kept only from 50 texts up.
LEXICAL_PARTS: dict[str, tuple[str, tuple[int, int], int]] = {
    "word": ("word", (1, 2), 1),
    "char": ("char_wb", (2, 5), 2),
}
FEW_TEXTS = 50


class QuestionLogError(ValueError):
    """A question log that cannot be used: missing, not ``text,category``, or empty."""


def read_questions(path: Path) -> list[tuple[str, str]]:
    """``(text, category)`` rows of a question-log CSV, blank texts skipped.

    Raises:
        QuestionLogError: The file is missing, has no ``text`` and ``category`` columns, or
            has no rows.
    """
    if not path.is_file():
        raise QuestionLogError(f"no such file: {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
            raise QuestionLogError(f"{path}: expected a header with 'text' and 'category'")
        rows = [
            (r["text"].strip(), r["category"].strip())
            for r in reader
            if (r["text"] or "").strip() and (r["category"] or "").strip()
        ]
    if not rows:
        raise QuestionLogError(f"{path}: no rows")
    return rows


def _vectorizer(part: str, vocabulary: dict[str, int] | None = None, texts: int = 0) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer, ngrams, min_df = LEXICAL_PARTS[part]
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=ngrams,
        min_df=min_df if vocabulary is None and texts >= FEW_TEXTS else 1,
        sublinear_tf=True,
        lowercase=True,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


class QuestionModel:
    """Probabilities over topics for a question, from its words and its MiniLM vector."""

    def __init__(self, recipe: Recipe = RECIPE) -> None:
        self.recipe = recipe
        self.labels: list[str] = []
        self.n_train = 0
        self._parts: list[tuple[Callable[[str], list[str]], dict[str, int], np.ndarray]] = []
        self._weights = np.zeros((0, 0), dtype=np.float32)  # features x labels
        self._bias = np.zeros(0, dtype=np.float32)

    # --- features ---------------------------------------------------------------------------

    @property
    def _lexical_size(self) -> int:
        return sum(len(vocabulary) for _, vocabulary, _ in self._parts)

    def _lexical(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Columns and values of the TF-IDF part of one text (each part L2-normalised)."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for analyse, vocabulary, idf in self._parts:
            counts = Counter(c for t in analyse(text) if (c := vocabulary.get(t)) is not None)
            if counts:
                found = np.fromiter(counts, dtype=np.int64, count=len(counts))
                weights = (1.0 + np.log([counts[c] for c in found])) * idf[found]
                columns.append(found + offset)
                values.append(weights / np.sqrt(weights @ weights))
            offset += len(vocabulary)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(columns), np.concatenate(values).astype(np.float32)

    # --- training ---------------------------------------------------------------------------

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray
    ) -> QuestionModel:
        """Learn from ``texts`` with their ``labels`` and unit MiniLM ``vectors``."""
        import scipy.sparse as sp
        from sklearn.svm import LinearSVC

        if len(set(labels)) < 2:
            raise ValueError("the question model needs at least two labels")
        texts = list(texts)
        vectorizers = {
            part: _vectorizer(part, texts=len(texts)).fit(texts) for part in LEXICAL_PARTS
        }
        self._parts = [
            (v.build_analyzer(), dict(v.vocabulary_), v.idf_.astype(np.float32))
            for v in vectorizers.values()
        ]
        features = sp.hstack(
            [v.transform(texts) for v in vectorizers.values()]
            + [sp.csr_matrix(self.recipe.embedding_weight * np.asarray(vectors))],
            format="csr",
        )
        self.labels = sorted(set(labels))
        index = {label: i for i, label in enumerate(self.labels)}
        targets = np.array([index[label] for label in labels])
        svm = LinearSVC(C=self.recipe.svm_c).fit(features, targets)
        coef, bias = svm.coef_, svm.intercept_
        if len(self.labels) == 2:  # one decision function: label 1's score, label 0's its negative
            coef, bias = np.vstack([-coef, coef]), np.r_[-bias, bias]
        self._weights = np.ascontiguousarray(coef.T, dtype=np.float32)
        self._bias = bias.astype(np.float32)
        self.n_train = len(texts)
        return self

    # --- scoring ----------------------------------------------------------------------------

    def probabilities(self, text: str, vector: np.ndarray) -> dict[str, float]:
        """Each label's probability for ``text``, whose unit MiniLM vector is ``vector``."""
        columns, values = self._lexical(text)
        lexical = self._lexical_size
        scores = values @ self._weights[columns] if len(columns) else 0.0
        embedded = self.recipe.embedding_weight * np.asarray(vector, dtype=np.float32)
        scores = scores + embedded @ self._weights[lexical:] + self._bias
        shifted = self.recipe.temperature * (scores - scores.max())
        exp = np.exp(shifted.astype(np.float64))
        return dict(zip(self.labels, (exp / exp.sum()).tolist(), strict=True))

    # --- persistence ------------------------------------------------------------------------

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the model into ``folder`` (through a temporary sibling moved into place)."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            staging.chmod(0o755)
            lexical = {
                part: {"terms": sorted(vocabulary, key=vocabulary.__getitem__), "idf": idf.tolist()}
                for part, (_, vocabulary, idf) in zip(LEXICAL_PARTS, self._parts, strict=True)
            }
            (staging / LEXICAL).write_text(json.dumps(lexical, ensure_ascii=False), "utf-8")
            np.savez_compressed(staging / WEIGHTS, weights=self._weights, bias=self._bias)
            metadata = {
                "format": FORMAT,
                "labels": self.labels,
                "recipe": asdict(self.recipe),
                "n_train": self.n_train,
                **(extra or {}),
            }
            (staging / METADATA).write_text(json.dumps(metadata, indent=2), "utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder

    @classmethod
    def load(cls, folder: Path) -> QuestionModel:
        """Read a model written by :meth:`save`.

        Raises:
            ValueError: ``folder`` holds no such model, or a damaged one.
        """
        try:
            metadata = json.loads((folder / METADATA).read_text("utf-8"))
            if metadata.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} model")
            model = cls(Recipe(**metadata["recipe"]))
            model.labels = [str(label) for label in metadata["labels"]]
            model.n_train = int(metadata["n_train"])
            lexical = json.loads((folder / LEXICAL).read_text("utf-8"))
            for part in LEXICAL_PARTS:
                terms = lexical[part]["terms"]
                vectorizer = _vectorizer(part, {t: i for i, t in enumerate(terms)})
                idf = np.asarray(lexical[part]["idf"], dtype=np.float32)
                model._parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary, idf))
            with np.load(folder / WEIGHTS, allow_pickle=False) as stored:
                model._weights, model._bias = stored["weights"], stored["bias"]
        except (OSError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{folder}: not a usable question model ({exc})") from None
        if model._weights.shape[1] != len(model.labels):
            raise ValueError(f"{folder}: weights do not match the {len(model.labels)} labels")
        return model


def topic(intents: Sequence[str], article_id: str) -> str:
    """The label an article's own phrasings are trained under: its first intent, else its id."""
    return intents[0] if intents else article_id


def digest(rows: Sequence[tuple[str, str]], encoder: str, recipe: Recipe = RECIPE) -> str:
    """What a model is built from: the recipe, the encoder and every ``(text, label)`` row."""
    hashed = hashlib.sha256(json.dumps([asdict(recipe), encoder, FORMAT]).encode())
    for text, label in rows:
        for part in (text, label):
            data = part.encode()
            hashed.update(len(data).to_bytes(8, "big") + data)
    return hashed.hexdigest()


def question_model(
    rows: Sequence[tuple[str, str]],
    encode: Encode,
    *,
    folder: Path | None = None,
    recipe: Recipe = RECIPE,
) -> QuestionModel | None:
    """The model for ``rows``: loaded from ``folder`` when built there before, else built.

    Args:
        rows: ``(text, label)`` training rows (the articles' phrasings, then any logs).
        encode: Unit MiniLM vectors for texts (the index hands over those it already holds).
        folder: Where the model is kept; built in memory only when None.
        recipe: How to train it.

    Returns:
        The model, or None when the rows hold fewer than two labels (nothing to choose between).
    """
    if len({label for _, label in rows}) < 2:
        return None
    if folder is not None and (folder / METADATA).is_file():
        try:
            return QuestionModel.load(folder)
        except ValueError:
            pass  # damaged: built again below, and replaced
    texts = [text for text, _ in rows]
    model = QuestionModel(recipe).fit(texts, [label for _, label in rows], encode(texts))
    if folder is not None:
        model.save(folder)
    return model
