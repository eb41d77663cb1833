"""Intent recognition (NLU): classify an utterance into one of the intents it was trained on.

Public API:

* :class:`IntentModel` - ``fit(texts, labels, progress=...)``, ``save(dir)``, ``load(dir)``,
  ``predict(text) -> (label, confidence)``, ``predict_proba(texts)``, ``labels``;
* :func:`evaluate` - accuracy, macro-F1 and per-query latency on labelled utterances;
* :func:`read_labelled_csv` - a checked ``text,category`` CSV;
* :data:`PROFILES` - the training recipes (``fast``: lexical + frozen embeddings in seconds,
  ``full``: lexical + fine-tuned all-mpnet-base-v2, ``compact``: lexical + fine-tuned
  all-MiniLM-L6-v2);
* :class:`NluDataError` - unusable data or model directory.

Heavy libraries (torch, transformers) load only when a model needs the encoder.
"""

from __future__ import annotations

from agents.nlu.data import NluDataError, file_sha256, read_labelled_csv
from agents.nlu.evaluate import evaluate
from agents.nlu.model import IntentModel, is_model_dir
from agents.nlu.profiles import DEFAULT_PROFILE, PROFILES, Profile
from knowledge.encoding.encoder import FineTuneSettings

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "FineTuneSettings",
    "IntentModel",
    "NluDataError",
    "Profile",
    "evaluate",
    "file_sha256",
    "is_model_dir",
    "read_labelled_csv",
]
