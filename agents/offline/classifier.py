"""The offline model's intent classifier: Concierge's own intents, trained once per content.

Trained with the ``fast`` recipe (lexical features + frozen MiniLM embeddings under a linear
SVM: seconds on a CPU) on ``agents/offline/data/utterances.csv`` and kept under
``var/nlu/concierge-fast-<hash>`` (of the utterances and the recipe), so it is trained again
only when either changes. With ``CONCIERGE_NLU_EXAMPLES`` set, the examples in that file are
learned beside the utterances (:mod:`agents.offline.examples`), and the hash covers them too.
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
from agents.offline import examples as more

UTTERANCES = Path(__file__).parent / "data" / "utterances.csv"
RECIPE = "fast"

Progress = Callable[[str, int, int], None]


def model_dir(var_dir: Path, data: Path = UTTERANCES, examples: Path | None = None) -> Path:
    """Where the model for ``data``'s (and ``examples``') content and the recipe lives."""
    recipe = json.dumps(PROFILES[RECIPE].to_json(), sort_keys=True)
    key = f"{file_sha256(data)}:{recipe}"
    if examples is not None:
        key += f":{more.fingerprint(examples)}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return var_dir / "nlu" / f"concierge-{RECIPE}-{digest[:16]}"


def default_classifier(
    var_dir: Path,
    *,
    model: Path | None = None,
    data: Path = UTTERANCES,
    examples: Path | None = None,
    progress: Progress | None = None,
) -> IntentModel:
    """The classifier at ``model`` if given, else the one for ``data``, trained if missing.

    ``examples``: a file of more labelled examples learned beside ``data``
    (:func:`agents.offline.examples.read_examples`).
    """
    if model is not None:
        return IntentModel.load(model)
    folder = model_dir(var_dir, data, examples)
    if is_model_dir(folder):
        return IntentModel.load(folder)
    texts, labels = read_labelled_csv(data, min_per_label=2)
    weights = None
    extra = {"source": data.name}
    if examples is not None:
        texts, labels, weights = more.training_set(texts, labels, more.read_examples(examples))
        extra["examples"] = examples.name
    trained = IntentModel(profile=RECIPE).fit(texts, labels, progress=progress, weights=weights)
    trained.save(folder, extra=extra)
    return trained
