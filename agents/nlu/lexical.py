"""Word and character TF-IDF features whose vocabulary and weights are stored as plain JSON."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

FEW = 8  # up to this many texts at once, transform in plain Python (see _transform_few)
# Word unigrams and bigrams, and character 2- to 5-grams inside word boundaries: the char
# n-grams catch typos and inflections ("transfered", "top-up"), the words catch phrasing.
SETTINGS: dict[str, dict[str, Any]] = {
    "word": {"analyzer": "word", "ngram_range": (1, 2), "min_df": 1},
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2},
}


def _vectorizer(name: str, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    settings = SETTINGS[name]
    return TfidfVectorizer(
        analyzer=settings["analyzer"],
        ngram_range=settings["ngram_range"],
        min_df=1 if vocabulary is not None else settings["min_df"],
        sublinear_tf=True,
        lowercase=True,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


class LexicalFeatures:
    """Sparse TF-IDF features of word and character n-grams, side by side."""

    def __init__(self, vectorizers: dict[str, TfidfVectorizer] | None = None) -> None:
        self._vectorizers = vectorizers or {}
        self._fast: tuple[list[tuple[Any, dict[str, int], int]], np.ndarray, int] | None = None

    @property
    def size(self) -> int:
        """The number of features (columns) of :meth:`transform`."""
        return sum(len(v.vocabulary_) for v in self._vectorizers.values())

    def fit(self, texts: list[str]) -> LexicalFeatures:
        """Learn the vocabularies and inverse document frequencies from ``texts``."""
        self._vectorizers = {}
        for name, settings in SETTINGS.items():
            vectorizer = _vectorizer(name)
            if settings["min_df"] > 1 and len(texts) < 50:
                vectorizer.set_params(min_df=1)  # tiny data: keep every n-gram
            self._vectorizers[name] = vectorizer.fit(texts)
        self._fast = None
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """The TF-IDF rows of ``texts`` (each part L2-normalised), as one CSR matrix."""
        if not self._vectorizers:
            raise RuntimeError("LexicalFeatures used before fit or load")
        if len(texts) <= FEW:
            return self._transform_few(texts)
        parts = [v.transform(texts) for v in self._vectorizers.values()]
        return sp.csr_matrix(sp.hstack(parts, format="csr"), dtype=np.float32)

    def _transform_few(self, texts: list[str]) -> sp.csr_matrix:
        """:meth:`transform` for a chat's few texts, in plain Python.

        scikit-learn's transform validates and converts for large batches, which for one
        short message costs several times the arithmetic itself. Same arithmetic: sublinear
        term frequency (1 + log count) times IDF, each part L2-normalised.
        """
        if self._fast is None:
            offset, fast = 0, []
            for vectorizer in self._vectorizers.values():
                fast.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, offset))
                offset += len(vectorizer.vocabulary_)
            weights = np.concatenate([v.idf_ for v in self._vectorizers.values()])
            self._fast = (fast, weights, offset)
        parts, idf, width = self._fast
        indptr, indices, data = [0], [], []
        for text in texts:
            for analyze, vocabulary, offset in parts:
                counts = Counter(
                    column for term in analyze(text) if (column := vocabulary.get(term)) is not None
                )
                if not counts:
                    continue
                columns = np.fromiter(sorted(counts), dtype=np.int64, count=len(counts)) + offset
                tf = 1.0 + np.log([counts[c - offset] for c in columns])
                weights = tf * idf[columns]
                indices.extend(columns.tolist())
                data.extend((weights / np.sqrt(weights @ weights)).tolist())
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(texts), width),
        )

    def save(self, path: Path) -> None:
        """Write the vocabularies (terms in column order) and IDF weights as JSON."""
        state = {}
        for name, vectorizer in self._vectorizers.items():
            terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
            state[name] = {"terms": terms, "idf": [float(x) for x in vectorizer.idf_]}
        path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexicalFeatures:
        """Rebuild the features from :meth:`save`'s JSON (no code is run)."""
        state = json.loads(path.read_text(encoding="utf-8"))
        if set(state) != set(SETTINGS):
            raise ValueError(f"{path}: expected parts {sorted(SETTINGS)}, got {sorted(state)}")
        vectorizers = {}
        for name in SETTINGS:
            terms, idf = state[name]["terms"], state[name]["idf"]
            if len(terms) != len(idf):
                raise ValueError(f"{path}: {name} has {len(terms)} terms but {len(idf)} weights")
            vectorizer = _vectorizer(name, {term: i for i, term in enumerate(terms)})
            vectorizer.idf_ = np.asarray(idf, dtype=np.float64)
            vectorizers[name] = vectorizer
        return cls(vectorizers)
