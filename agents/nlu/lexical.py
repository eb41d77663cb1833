"""Word and character TF-IDF features whose vocabulary and weights are stored as plain JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

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
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        """The TF-IDF rows of ``texts`` (each part L2-normalised), as one CSR matrix."""
        if not self._vectorizers:
            raise RuntimeError("LexicalFeatures used before fit or load")
        parts = [v.transform(texts) for v in self._vectorizers.values()]
        return sp.csr_matrix(sp.hstack(parts, format="csr"), dtype=np.float32)

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
