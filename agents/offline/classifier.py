"""The offline model's intent classifier: Concierge's own intents, trained once per content.

Trained with the ``fast`` recipe (lexical features + frozen MiniLM embeddings under a linear
SVM: seconds on a CPU) on ``agents/offline/data/utterances.csv`` and kept under
``var/nlu/concierge-fast-<hash>`` (of the utterances and the recipe), so it is trained again
only when either changes.
A bank can point ``CONCIERGE_NLU_MODEL`` at a model trained on its own logs instead
(``concierge nlu train``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from agents.nlu import IntentModel, file_sha256, is_model_dir, read_labelled_csv
from agents.nlu.profiles import PROFILES

UTTERANCES = Path(__file__).parent / "data" / "utterances.csv"
RECIPE = "fast"

Progress = Callable[[str, int, int], None]


def model_dir(var_dir: Path, data: Path = UTTERANCES) -> Path:
    """Where the model for ``data``'s current content and the current recipe lives."""
    recipe = json.dumps(PROFILES[RECIPE].to_json(), sort_keys=True)
    digest = hashlib.sha256(f"{file_sha256(data)}:{recipe}".encode()).hexdigest()
    return var_dir / "nlu" / f"concierge-{RECIPE}-{digest[:16]}"


def default_classifier(
    var_dir: Path,
    *,
    model: Path | None = None,
    data: Path = UTTERANCES,
    progress: Progress | None = None,
) -> IntentModel:
    """The classifier at ``model`` if given, else the one for ``data``, trained if missing."""
    if model is not None:
        return IntentModel.load(model)
    folder = model_dir(var_dir, data)
    if is_model_dir(folder):
        return IntentModel.load(folder)
    texts, labels = read_labelled_csv(data, min_per_label=2)
    trained = IntentModel(profile=RECIPE).fit(texts, labels, progress=progress)
    trained.save(folder, extra={"source": data.name})
    return trained
